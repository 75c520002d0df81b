package tempfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Lock is the name of the lock file Sweep creates in the directories it
// sweeps.
const Lock = ".alicorn.lock"

// ErrBusy is returned by Sweep when another process is sweeping the
// directory: it is left to that one.
var ErrBusy = errors.New("another process is sweeping the directory")

// Pattern returns the os.CreateTemp or os.MkdirTemp pattern for a
// temporary file or directory of this process: prefix, the process ID,
// "n" and this process's PID namespace (where it can be read), "-", then
// the random part.
func Pattern(prefix string) string {
	p := prefix + strconv.Itoa(os.Getpid())
	if ns := pidNamespace(); ns != "" {
		p += "n" + ns
	}
	return p + "-*"
}

// Owner returns the process ID in a name made by Pattern(prefix), or 0
// when name is not one.
func Owner(name, prefix string) int {
	pid, _ := owner(name, prefix)
	return pid
}

// owner returns the process ID and PID namespace ("" if the name has
// none) in a name made by Pattern(prefix); pid is 0 when name is not one.
func owner(name, prefix string) (pid int, ns string) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, ""
	}
	tag, random, ok := strings.Cut(rest, "-")
	if !ok || random == "" {
		return 0, ""
	}
	digits, ns, hasNS := strings.Cut(tag, "n")
	if hasNS && (ns == "" || strings.Trim(ns, "0123456789abcdefghijklmnopqrstuvwxyz") != "") {
		return 0, ""
	}
	if digits == "" || digits[0] == '0' {
		return 0, ""
	}
	pid, err := strconv.Atoi(digits)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != digits {
		return 0, ""
	}
	return pid, ns
}

// foreignAge is how old a file of a process of another PID namespace
// must be to be swept: such a process cannot be looked up from here
// (its ID means another process, or none, in this namespace), and a day
// is far longer than any run.
const foreignAge = 24 * time.Hour

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
	ours := pidNamespace()
	for _, e := range entries {
		for _, prefix := range prefixes {
			pid, ns := owner(e.Name(), prefix)
			if pid == 0 {
				continue
			}
			if ns != "" && ns != ours {
				info, err := e.Info()
				if err != nil || time.Since(info.ModTime()) < foreignAge {
					break
				}
			} else if alive(pid) {
				break
			}
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err) // os errors name the path
			}
			break
		}
	}
	return errors.Join(errs...)
}
