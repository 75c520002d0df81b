//go:build unix

package index

import (
	"io"
	"os"
	"syscall"
)

// mapSection maps length bytes of the file at off read-only, populated
// at once (far cheaper than reading into fresh memory, which costs a
// page fault per 4 KiB); release unmaps it. Readers that are not files
// are read instead.
func mapSection(r io.ReaderAt, off, length int64) ([]byte, func(), error) {
	f, ok := r.(*os.File)
	if !ok || length == 0 {
		return readSection(r, off, length)
	}
	page := int64(os.Getpagesize())
	start := off &^ (page - 1)
	m, err := syscall.Mmap(int(f.Fd()), start, int(off-start+length), syscall.PROT_READ,
		syscall.MAP_PRIVATE|syscall.MAP_POPULATE)
	if err != nil {
		return readSection(r, off, length)
	}
	return m[off-start:], func() { syscall.Munmap(m) }, nil
}
