package rollout

import (
	"bufio"
	"context"
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
	// Blameless marks a rollback whose reason says nothing against the
	// image (an interruption, a change the cluster refused): it is not
	// remembered as failed when recover finishes the rollback.
	Blameless bool `json:"blameless,omitempty"`
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
	// Blameless is the rollback record's: the image is not to blame.
	Blameless bool
	Records   []Record
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
			u.Blameless = r.Blameless
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

// Resumer is how a runtime's rollout of one module finishes or undoes
// an update its journal left unfinished (State.Resume drives it).
type Resumer struct {
	// Converge brings the module to img, journalling its steps in j.
	Converge func(ctx context.Context, j *Journal, img update.Image) error
	// Commit commits to (updated from from) and ends j.
	Commit func(ctx context.Context, j *Journal, from, to update.Image) error
	// End ends j with outcome.
	End func(j *Journal, outcome string) error
	// Log reports a step.
	Log func(step, detail string)
	// Converged reports whether the module runs img and nothing else.
	Converged func(ctx context.Context, img update.Image) (bool, error)
}

// Recover is Resume, then, with no update left unfinished, brings the
// module back to its committed image when it runs anything else (after
// a reboot, a container removed or a Deployment changed by hand), as
// an update of its own. Call it under the module's lock.
func (s *State) Recover(ctx context.Context, module string, how Resumer) error {
	if err := s.Resume(ctx, module, how); err != nil {
		return err
	}
	d, ok, err := s.Deployed(module)
	if err != nil || !ok {
		return err
	}
	if c, err := how.Converged(ctx, d.Current); err != nil || c {
		return err
	}
	j, err := s.OpenJournal(module)
	if err != nil {
		return err
	}
	defer j.Close()
	if err := j.Write(Record{Op: "begin", From: &d.Current, To: &d.Current, Policy: "recover"}); err != nil {
		return err
	}
	how.Log("restore", d.Current.Digest)
	if err := how.Converge(ctx, j, d.Current); err != nil {
		return fmt.Errorf("restoring %s: %w", d.Current.Digest, err)
	}
	if err := j.Write(Record{Op: "commit"}); err != nil {
		return err
	}
	return how.End(j, "restored")
}

// Resume finishes or undoes module's unfinished update, when its journal
// has one: an update that reached its commit is finished, any other is
// undone; one that was being rolled back for a failure (a rollback
// record not Blameless) has its image remembered as failed. Call it under the
// module's lock.
func (s *State) Resume(ctx context.Context, module string, how Resumer) error {
	u, err := s.ReadJournal(module)
	if err != nil || u == nil {
		return err
	}
	j, err := s.ReopenJournal(module)
	if err != nil {
		return err
	}
	defer j.Close()
	if u.Committed {
		how.Log("recover", "finishing the committed update to "+u.To.Digest)
		if err := how.Converge(ctx, j, u.To); err != nil {
			return err
		}
		return how.Commit(ctx, j, u.From, u.To)
	}
	reason := u.Reason
	if !u.RollingBack {
		reason = "the updater stopped before the update was committed"
		if err := j.Write(Record{Op: "rollback", Detail: reason}); err != nil {
			return err
		}
	}
	how.Log("recover", "rolling back to "+orNone(u.From.Digest)+": "+reason)
	if err := how.Converge(ctx, j, u.From); err != nil {
		return err
	}
	if err := how.End(j, "rolled back"); err != nil {
		return err
	}
	if u.RollingBack && !u.Blameless {
		// A rollback for a failure, interrupted: the image had failed
		// here.
		return s.AddFailure(module, Failure{Digest: u.To.Digest, Reason: reason, Time: time.Now().UTC()})
	}
	return nil
}
