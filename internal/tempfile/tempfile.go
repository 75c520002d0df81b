package tempfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Lock is the name of the lock file Sweep creates in the directories it
// sweeps.
const Lock = ".alicorn.lock"

// ErrBusy is returned by Sweep when another process is sweeping the
// directory: it is left to that one.
var ErrBusy = errors.New("another process is sweeping the directory")

// Pattern returns the os.CreateTemp or os.MkdirTemp pattern for a
// temporary file or directory of this process: prefix, the process ID
// and "-", then the random part.
func Pattern(prefix string) string {
	return prefix + strconv.Itoa(os.Getpid()) + "-*"
}

// Owner returns the process ID in a name made by Pattern(prefix), or 0
// when name is not one.
func Owner(name, prefix string) int {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0
	}
	digits, random, ok := strings.Cut(rest, "-")
	if !ok || random == "" || digits == "" || digits[0] == '0' {
		return 0
	}
	pid, err := strconv.Atoi(digits)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != digits {
		return 0
	}
	return pid
}

// Sweep removes the entries of dir, files or directories, named by
// Pattern for one of prefixes by processes that are no longer running.
// It reads dir once (no walk) under an exclusive lock on dir's Lock
// file; when another sweep holds it, Sweep returns ErrBusy at once. A
// missing dir has nothing to sweep. The errors of entries it could not
// remove are joined, each naming its file.
func Sweep(dir string, prefixes ...string) error {
	unlock, err := lock(filepath.Join(dir, Lock))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		for _, prefix := range prefixes {
			pid := Owner(e.Name(), prefix)
			if pid == 0 || alive(pid) {
				continue
			}
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err) // os errors name the path
			}
			break
		}
	}
	return errors.Join(errs...)
}
