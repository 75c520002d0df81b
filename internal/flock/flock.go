// Package flock takes a process's exclusive lock on a file. The lock
// goes with the process, so a killed one leaves nothing to clean.
package flock

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrBusy is wrapped by Try's error when another process holds the lock.
var ErrBusy = errors.New("locked by another process")

// Try takes an exclusive flock on path (created if missing) without
// waiting, and returns the function that releases it.
func Try(path string) (unlock func(), err error) {
	return take(path, unix.LOCK_EX|unix.LOCK_NB)
}

// Wait takes the lock as Try does, waiting for another holder to let go.
func Wait(path string) (unlock func(), err error) {
	return take(path, unix.LOCK_EX)
}

func take(path string, how int) (func(), error) {
	// Read-only: any user who can read the file can lock it.
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", path, ErrBusy)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}
