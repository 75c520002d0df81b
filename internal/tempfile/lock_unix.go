//go:build unix

package tempfile

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/alicorn-dev/alicorn/internal/flock"

	"golang.org/x/sys/unix"
)

// lock takes an exclusive flock on the file at path, created if need
// be, without waiting: ErrBusy when another process holds it.
func lock(path string) (unlock func(), err error) {
	unlock, err = flock.Try(path)
	if errors.Is(err, flock.ErrBusy) {
		return nil, fmt.Errorf("%s: %w", path, ErrBusy)
	}
	return unlock, err
}

// alive tells whether a process with this ID is running (or may be: one
// that cannot be signalled is taken for running).
func alive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// pidNamespace identifies this process's PID namespace: the inode number
// of /proc/self/ns/pid in base 36, or "" where it cannot be read.
func pidNamespace() string {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err != nil {
		return ""
	}
	return strconv.FormatUint(st.Ino, 36)
}
