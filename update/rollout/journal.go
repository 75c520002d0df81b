package rollout

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alicorn-dev/alicorn/update"
)

// Record is one line of a module's journal.
type Record struct {
	Time time.Time `json:"time"`
	// Op is begin, a step (start, add, drain, remove, rename, image),
	// rollback, commit or end.
	Op        string        `json:"op"`
	Container string        `json:"container,omitempty"`
	ID        string        `json:"id,omitempty"`
	Name      string        `json:"name,omitempty"`
	From      *update.Image `json:"from,omitempty"`
	To        *update.Image `json:"to,omitempty"`
	Policy    string        `json:"policy,omitempty"`
	// Detail is a rollback's reason, an end's outcome.
	Detail string `json:"detail,omitempty"`
}

// Journal appends a module's records to its file, each synced before
// the step it announces happens. The runtimes' rollouts (this package's,
// update/kube's) write it; ReadJournal reads an unfinished one back.
type Journal struct {
	path string
	f    *os.File
}

func (s *State) journalPath(module string) string {
	return filepath.Join(s.Dir, module+".journal")
}

// OpenJournal starts a new journal for module, replacing a finished one;
// its first record is begin.
func (s *State) OpenJournal(module string) (*Journal, error) {
	p := s.journalPath(module)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Journal{path: p, f: f}, nil
}

// ReopenJournal appends to an unfinished journal.
func (s *State) ReopenJournal(module string) (*Journal, error) {
	p := s.journalPath(module)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Journal{path: p, f: f}, nil
}

// Write appends r (its Time set when zero) and syncs it.
func (j *Journal) Write(r Record) error {
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return nil
}

// Finish ends the journal: it is kept as MODULE.last for the curious.
func (j *Journal) Finish() error {
	if err := j.f.Close(); err != nil {
		return err
	}
	return os.Rename(j.path, strings.TrimSuffix(j.path, ".journal")+".last")
}

// Close closes the file, leaving the journal unfinished unless Finish
// ran.
func (j *Journal) Close() { j.f.Close() }

// Unfinished is what an unfinished journal says: the update it began and
// whether it was committed or being rolled back.
type Unfinished struct {
	From, To    update.Image
	Policy      string
	Committed   bool
	RollingBack bool
	Reason      string
	Records     []Record
}

// ReadJournal reads module's journal; nil when there is none (every
// update finished). A torn last line (a crash while writing it) is
// ignored: its step had not begun.
func (s *State) ReadJournal(module string) (*Unfinished, error) {
	p := s.journalPath(module)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	u := &Unfinished{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	line := 0
	for sc.Scan() {
		line++
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			// Only the last line may be torn.
			if !sc.Scan() {
				break
			}
			return nil, fmt.Errorf("journal %s:%d: %w", p, line, err)
		}
		u.Records = append(u.Records, r)
		switch r.Op {
		case "begin":
			if r.From != nil {
				u.From = *r.From
			}
			if r.To != nil {
				u.To = *r.To
			}
			u.Policy = r.Policy
		case "commit":
			u.Committed = true
		case "rollback":
			u.RollingBack = true
			u.Reason = r.Detail
		case "end":
			return nil, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("journal %s: %w", p, err)
	}
	if len(u.Records) == 0 || u.Records[0].Op != "begin" {
		// Killed before the begin record was whole: nothing was done.
		return nil, nil
	}
	return u, nil
}
