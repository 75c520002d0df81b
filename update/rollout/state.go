package rollout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/alicorn-dev/alicorn/internal/flock"
	"github.com/alicorn-dev/alicorn/internal/tempfile"

	"github.com/alicorn-dev/alicorn/update"
)

// State is the directory where the updater keeps, per module, its
// journal (MODULE.journal while an update runs, MODULE.last after), its
// lock and what is deployed (MODULE.json).
type State struct {
	Dir string
}

// Deployed is a module's committed image and the one before it, which
// rollback returns to.
type Deployed struct {
	Module   string        `json:"module"`
	Current  update.Image  `json:"current"`
	Previous *update.Image `json:"previous,omitempty"`
	// Committed is when Current was committed.
	Committed time.Time `json:"committed"`
}

// Deployed returns what is deployed of module; ok is false when no
// update was ever committed.
func (s *State) Deployed(module string) (d Deployed, ok bool, err error) {
	p := filepath.Join(s.Dir, module+".json")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Deployed{}, false, nil
	}
	if err != nil {
		return Deployed{}, false, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return Deployed{}, false, fmt.Errorf("%s: %w", p, err)
	}
	return d, true, nil
}

// Lock takes module's lock (MODULE.lock), held by one updater at a time
// whatever the runtime; an error wraps ErrBusy when another holds it.
// The directory is made when missing.
func (s *State) Lock(module string) (unlock func(), err error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return flock.Try(filepath.Join(s.Dir, module+".lock"))
}

// Busy reports whether an updater holds module's lock now.
func (s *State) Busy(module string) bool {
	p := filepath.Join(s.Dir, module+".lock")
	if _, err := os.Stat(p); err != nil {
		return false // never locked: not made by a read
	}
	unlock, err := flock.Try(p)
	if err != nil {
		return errors.Is(err, ErrBusy)
	}
	unlock()
	return false
}

// Commit records that module now runs to, committed from from: from
// becomes the image a rollback returns to (kept when to is already the
// current one, a restore).
func (s *State) Commit(module string, from, to update.Image) error {
	d := Deployed{Module: module, Current: to, Committed: time.Now().UTC()}
	if from.Digest != "" && from.Digest != to.Digest {
		d.Previous = &from
	} else if old, ok, _ := s.Deployed(module); ok && old.Current.Digest == to.Digest {
		d.Previous = old.Previous
	}
	return s.saveDeployed(d)
}

// saveDeployed writes d atomically.
func (s *State) saveDeployed(d Deployed) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(s.Dir, d.Module+".json"), b)
}

// tempPrefix names the updater's temporary files in its state
// directory (tempfile.Sweep clears those of crashed processes).
const tempPrefix = ".alicorn-state."

// writeAtomic replaces p with b and a newline, durably.
func writeAtomic(p string, b []byte) error {
	_ = tempfile.Sweep(filepath.Dir(p), tempPrefix)
	return tempfile.WriteFile(p, append(b, '\n'), tempPrefix)
}

// Failure is an image an update rolled back from on this host: apply
// does not take it again unless asked to.
type Failure struct {
	Digest string    `json:"digest"`
	Reason string    `json:"reason"`
	Time   time.Time `json:"time"`
}

// Failures lists the images module rolled back from, oldest first.
func (s *State) Failures(module string) ([]Failure, error) {
	p := filepath.Join(s.Dir, module+".failed")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var fs []Failure
	if err := json.Unmarshal(b, &fs); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return fs, nil
}

// Failed returns the failure of digest, if module rolled back from it.
func (s *State) Failed(module, digest string) (*Failure, error) {
	fs, err := s.Failures(module)
	if err != nil {
		return nil, err
	}
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Digest == digest {
			return &fs[i], nil
		}
	}
	return nil, nil
}

// AddFailure records a rollback from digest (the last 20 are kept).
func (s *State) AddFailure(module string, f Failure) error {
	fs, err := s.Failures(module)
	if err != nil {
		fs = nil // a damaged list is replaced
	}
	fs = append(fs, f)
	if len(fs) > 20 {
		fs = fs[len(fs)-20:]
	}
	b, err := json.MarshalIndent(fs, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(s.Dir, module+".failed"), b)
}
