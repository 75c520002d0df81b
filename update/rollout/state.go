package rollout

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

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

// saveDeployed writes d atomically (a temporary file renamed over).
func (s *State) saveDeployed(d Deployed) error {
	p := filepath.Join(s.Dir, d.Module+".json")
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
