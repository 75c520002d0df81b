// Package flock takes a process's exclusive lock on a file without
// waiting. The lock goes with the process, so a killed one leaves
// nothing to clean.
package flock

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrBusy is wrapped by Try's error when another process holds the lock.
var ErrBusy = errors.New("locked by another process")

// Try takes an exclusive flock on path (created if missing) and returns
// the function that releases it.
func Try(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", path, ErrBusy)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
