package inventory

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// OpenZip opens the input's file as a zip archive (jars, wheels, eggs),
// charging its directory to the memory budget (see NewZipReader). close
// releases the file and the charge.
func (in *Input) OpenZip() (zr *zip.Reader, close func(), err error) {
	ra, size, closeFile, err := in.OpenReaderAt()
	if err != nil {
		return nil, nil, err
	}
	zr, release, err := NewZipReader(ra, size, in.Limits.Memory)
	if err != nil {
		closeFile()
		return nil, nil, err
	}
	return zr, func() { release(); closeFile() }, nil
}

// zipEntryCost is what zip.NewReader holds for one entry of the central
// directory besides the record's own bytes (a zip.File, 176 bytes, and
// the pointer to it, rounded up).
const zipEntryCost = 192

// NewZipReader opens a zip archive read through r, after charging mem
// with what its directory takes in memory once read: zip.NewReader holds
// an entry for every record of the central directory at once, and a
// hostile archive of a few hundred MB lists millions. release gives the
// charge back.
//
// The count and size of the directory are read from the archive's end
// records first. archive/zip reads them too, but does not say what they
// hold before it allocates, which is why they are read here by hand.
func NewZipReader(r io.ReaderAt, size int64, mem *Budget) (zr *zip.Reader, release func(), err error) {
	entries, dirSize, err := zipDirectory(r, size)
	if err != nil {
		return nil, nil, err
	}
	cost := entries*zipEntryCost + dirSize
	if err := mem.Take(cost); err != nil {
		return nil, nil, fmt.Errorf("a zip directory of %d entries: %w", entries, err)
	}
	zr, err = zip.NewReader(r, size)
	if err != nil {
		mem.Give(cost)
		return nil, nil, err
	}
	return zr, func() { mem.Give(cost) }, nil
}

// zipDirectory bounds the number of entries and the bytes of a zip
// archive's central directory from its end records (APPNOTE 4.3.14-16).
// archive/zip reads records from the directory's offset to the end of
// the file and only checks that their count equals the recorded one
// modulo 65,536, so the bound is the recorded count plus as many 65,536s
// as fit, at 46 bytes a record, in the bytes from that offset on: exact
// for an honest archive. Where the end records cannot be read the
// archive is not a zip file, which zip.NewReader reports; the bound is
// then what the archive's size allows.
func zipDirectory(r io.ReaderAt, size int64) (entries, dirSize int64, err error) {
	const (
		endLen     = 22 // end of central directory record
		locatorLen = 20 // zip64 end of central directory locator
		end64Len   = 56 // zip64 end of central directory record
		maxComment = 1<<16 - 1
		recordLen  = 46 // a directory record without its name
	)
	// archive/zip starts reading records at the recorded offset, or at
	// the end record less the recorded size (an archive with data before
	// it): the earlier of the two bounds the region.
	bound := func(count, offset, recorded uint64, endAt int64) (int64, int64, error) {
		start := int64(0)
		if offset < uint64(size) && recorded < uint64(size) {
			start = min(int64(offset), endAt-int64(recorded))
		}
		region := size - max(start, 0)
		most := region / recordLen
		if count > uint64(most) {
			return most, region, nil
		}
		n := int64(count)
		return n + (most-n)/(1<<16)*(1<<16), region, nil
	}
	whole := func() (int64, int64, error) { return bound(uint64(size), 0, 0, 0) }
	n := min(size, endLen+maxComment)
	if n < endLen {
		return whole()
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return 0, 0, err
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || len(buf)-i < endLen {
		return whole()
	}
	end := buf[i:]
	endAt := size - n + int64(i)
	count := uint64(binary.LittleEndian.Uint16(end[10:]))
	recorded := uint64(binary.LittleEndian.Uint32(end[12:]))
	offset := uint64(binary.LittleEndian.Uint32(end[16:]))
	if count != 0xffff && offset != 0xffffffff && recorded != 0xffffffff {
		return bound(count, offset, recorded, endAt)
	}
	// Zip64: the locator precedes the end record and points to the
	// zip64 end record.
	at := endAt - locatorLen
	if at < 0 {
		return whole()
	}
	loc := make([]byte, locatorLen)
	if _, err := r.ReadAt(loc, at); err != nil || !bytes.HasPrefix(loc, []byte("PK\x06\x07")) {
		return whole()
	}
	off := binary.LittleEndian.Uint64(loc[8:])
	if size < end64Len || off > uint64(size-end64Len) {
		return whole()
	}
	rec := make([]byte, end64Len)
	if _, err := r.ReadAt(rec, int64(off)); err != nil || !bytes.HasPrefix(rec, []byte("PK\x06\x06")) {
		return whole()
	}
	return bound(binary.LittleEndian.Uint64(rec[32:]), binary.LittleEndian.Uint64(rec[48:]),
		binary.LittleEndian.Uint64(rec[40:]), int64(off))
}
