package rollout

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/alicorn-dev/alicorn/internal/flock"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/front"
)

// Rollout applies updates to modules and undoes them.
type Rollout struct {
	Runtime update.Runtime
	// Front is the module's front; nil for a module without one (its
	// containers are replaced with no traffic to switch).
	Front update.Front
	// State is where journals, locks and deployed digests are kept.
	State State
	// Log receives every step (nil: none).
	Log func(Event)
	// Client probes health checks (nil: a client with a 5s timeout).
	Client *http.Client
	// StopTimeout is how long a removed container has to stop before
	// SIGKILL (default 10s).
	StopTimeout time.Duration
}

// Event is one step of a rollout, for logs and progress lines.
type Event struct {
	Time      time.Time `json:"time"`
	Module    string    `json:"module"`
	Step      string    `json:"step"`
	Container string    `json:"container,omitempty"`
	ID        string    `json:"id,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// ErrManual is returned by Apply for a module whose policy is manual.
var ErrManual = errors.New("update policy manual: updates are reported, not applied")

// ErrInterrupted is the reason of a rollback whose update was
// interrupted (its context done: SIGTERM, a deadline) rather than
// failed; the image is not remembered as failed.
var ErrInterrupted = errors.New("interrupted")

// ErrBusy is wrapped when another updater holds the module's lock.
var ErrBusy = flock.ErrBusy

// RolledBackError is Apply's error when the update failed on this host
// and the old image was brought back.
type RolledBackError struct {
	Module string
	// Reason is why the update failed.
	Reason error
	// Err is the rollback's own failure, nil when it completed.
	Err error
}

func (e *RolledBackError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("module %s: rolling back failed: %v (the update failed: %v)", e.Module, e.Err, e.Reason)
	}
	return fmt.Sprintf("module %s: rolled back: %v", e.Module, e.Reason)
}

// Unwrap returns the reason and the rollback's failure.
func (e *RolledBackError) Unwrap() []error { return []error{e.Reason, e.Err} }

// run is one rollout of one module: the journal its steps go to, and
// what it knows of the front.
type run struct {
	*Rollout
	m  module.Module
	j  *Journal
	to update.Image // the image the update goes to
}

func (r *Rollout) log(m string, step, container, id, detail string) {
	if r.Log != nil {
		r.Log(Event{Time: time.Now().UTC(), Module: m, Step: step, Container: container, ID: short(id), Detail: detail})
	}
}

func short(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Apply rolls m's containers to img (pulled into the runtime before)
// with m's policy, watches them, and commits; on failure it rolls back
// and returns a *RolledBackError. An unfinished update of m is recovered
// first.
func (r *Rollout) Apply(ctx context.Context, m module.Module, img update.Image) (err error) {
	defer named(m.Name, &err)
	if m.Update.Policy == "manual" {
		return fmt.Errorf("module %s: %w", m.Name, ErrManual)
	}
	unlock, err := r.State.Lock(m.Name)
	if err != nil {
		return fmt.Errorf("module %s: %w", m.Name, err)
	}
	defer unlock()
	if err := r.recover(ctx, m); err != nil {
		return fmt.Errorf("module %s: recovering the last update: %w", m.Name, err)
	}
	from, err := r.current(ctx, m)
	if err != nil {
		return err
	}
	if from.Digest == img.Digest {
		ok, err := r.converged(ctx, m, img)
		if err != nil {
			return err
		}
		if ok {
			r.log(m.Name, "current", "", "", img.Digest)
			return nil
		}
	}
	j, err := r.State.OpenJournal(m.Name)
	if err != nil {
		return err
	}
	defer j.Close()
	ru := &run{Rollout: r, m: m, j: j, to: img}
	if err := j.Write(Record{Op: "begin", From: &from, To: &img, Policy: m.Update.Policy}); err != nil {
		return err
	}
	r.log(m.Name, "begin", "", "", fmt.Sprintf("%s → %s (%s)", orNone(from.Digest), img.Digest, m.Update.Policy))
	kept, err := ru.forward(ctx, img)
	if err == nil {
		err = ru.watch(ctx, kept)
	}
	if err != nil {
		if ctx.Err() != nil {
			// Interrupted (SIGTERM, a timeout): undone, but the image
			// did not fail.
			err = fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))
		}
		return ru.rollback(ctx, from, err)
	}
	return ru.commit(ctx, from, img)
}

// named makes *err say which module it is about.
func named(module string, err *error) {
	if *err != nil && !strings.HasPrefix((*err).Error(), "module "+module+":") {
		*err = fmt.Errorf("module %s: %w", module, *err)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// current is the module's committed image: the state's, else the one its
// containers run (most of them), else none (a first deployment).
func (r *Rollout) current(ctx context.Context, m module.Module) (update.Image, error) {
	d, ok, err := r.State.Deployed(m.Name)
	if err != nil {
		return update.Image{}, err
	}
	if ok {
		return d.Current, nil
	}
	ins, err := r.Runtime.Instances(ctx, m)
	if err != nil {
		return update.Image{}, err
	}
	count := map[update.Image]int{}
	var best update.Image
	for _, in := range ins {
		count[in.Image]++
		if count[in.Image] > count[best] {
			best = in.Image
		}
	}
	return best, nil
}

// Recover finishes or undoes m's unfinished update, or, with none,
// brings its containers back to the committed digest (after a reboot, a
// container removed by hand).
func (r *Rollout) Recover(ctx context.Context, m module.Module) (err error) {
	defer named(m.Name, &err)
	unlock, err := r.State.Lock(m.Name)
	if err != nil {
		return err
	}
	defer unlock()
	return r.State.Recover(ctx, m.Name, r.resumer(m))
}

// recover handles an unfinished journal, under the lock.
func (r *Rollout) recover(ctx context.Context, m module.Module) error {
	return r.State.Resume(ctx, m.Name, r.resumer(m))
}

// resumer is how State.Resume and State.Recover drive m's containers.
func (r *Rollout) resumer(m module.Module) Resumer {
	return Resumer{
		Converge: func(ctx context.Context, j *Journal, img update.Image) error {
			_, err := (&run{Rollout: r, m: m, j: j}).convergeAll(ctx, img)
			return err
		},
		Commit: func(ctx context.Context, j *Journal, from, to update.Image) error {
			return (&run{Rollout: r, m: m, j: j}).commit(ctx, from, to)
		},
		End:       func(j *Journal, outcome string) error { return (&run{Rollout: r, m: m, j: j}).end(outcome) },
		Log:       func(step, detail string) { r.log(m.Name, step, "", "", detail) },
		Converged: func(ctx context.Context, img update.Image) (bool, error) { return r.converged(ctx, m, img) },
	}
}

func (ru *run) end(outcome string) error {
	if err := ru.j.Write(Record{Op: "end", Detail: outcome}); err != nil {
		return err
	}
	ru.log(ru.m.Name, outcome, "", "", "")
	return ru.j.Finish()
}

func (ru *run) rollback(ctx context.Context, from update.Image, reason error) error {
	// The rollback runs even when ctx was cancelled (an interrupted
	// update is undone), with a bound of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	ru.log(ru.m.Name, "rollback", "", "", reason.Error())
	e := &RolledBackError{Module: ru.m.Name, Reason: reason}
	blameless := errors.Is(reason, ErrInterrupted)
	if err := ru.j.Write(Record{Op: "rollback", Detail: reason.Error(), Blameless: blameless}); err != nil {
		e.Err = err
		return e
	}
	if _, err := ru.convergeAll(ctx, from); err != nil {
		e.Err = err
		return e
	}
	if err := ru.end("rolled back"); err != nil {
		e.Err = err
	}
	if e.Err == nil && ru.Runtime != nil && ru.to.ID != "" && ru.to.ID != from.ID {
		// The image that failed goes; it is pulled again if asked for.
		if err := ru.Runtime.RemoveImage(ctx, ru.to.ID); err != nil {
			ru.log(ru.m.Name, "warning", "", "", "keeping the image rolled back from: "+err.Error())
		}
	}
	if blameless {
		return e
	}
	if err := ru.State.AddFailure(ru.m.Name, Failure{Digest: ru.to.Digest, Reason: reason.Error(), Time: time.Now().UTC()}); err != nil && e.Err == nil {
		e.Err = err
	}
	return e
}

func (ru *run) commit(ctx context.Context, from, to update.Image) error {
	if err := ru.j.Write(Record{Op: "commit"}); err != nil {
		return err
	}
	if err := ru.State.Commit(ru.m.Name, from, to); err != nil {
		return err
	}
	if from.ID != "" && from.ID != to.ID {
		if err := ru.j.Write(Record{Op: "image", ID: from.ID}); err != nil {
			return err
		}
		if err := ru.Runtime.RemoveImage(ctx, from.ID); err != nil {
			ru.log(ru.m.Name, "warning", "", "", "keeping the old image: "+err.Error())
		}
	}
	return ru.end("committed")
}

// forward runs the module's strategy towards img and returns the
// instances kept.
func (ru *run) forward(ctx context.Context, img update.Image) ([]update.Instance, error) {
	switch ru.m.Update.Policy {
	case "blue-green":
		return ru.blueGreen(ctx, img)
	case "recreate":
		reps := ru.m.Deployment()
		for i := len(reps) - 1; i >= 0; i-- {
			if err := ru.retireAll(ctx, reps[i], img.Digest); err != nil {
				return nil, err
			}
		}
	}
	return ru.roll(ctx, img, true)
}

// convergeAll brings every container to img (none when img is zero),
// one at a time in the order they require each other, and removes the
// instances of containers the module no longer has.
func (ru *run) convergeAll(ctx context.Context, img update.Image) ([]update.Instance, error) {
	return ru.roll(ctx, img, false)
}

// roll is convergeAll; watching, it also checks the containers already
// replaced after each step, as the watch window does, so that a bad
// image stops the rollout early.
func (ru *run) roll(ctx context.Context, img update.Image, watching bool) ([]update.Instance, error) {
	var kept []update.Instance
	names := map[string]bool{}
	for _, c := range ru.m.Deployment() {
		names[c.Name] = true
		if img.Digest == "" {
			if err := ru.retireAll(ctx, c, ""); err != nil {
				return nil, err
			}
			continue
		}
		in, err := ru.converge(ctx, c, img)
		if err != nil {
			return nil, err
		}
		kept = append(kept, in)
		if watching {
			if err := ru.watchFor(ctx, kept, ru.m.Update.PauseOr()); err != nil {
				return nil, err
			}
		}
	}
	if err := ru.tidy(ctx, names, kept); err != nil {
		return nil, err
	}
	return kept, nil
}

// converge brings one container to img: an instance on img that runs is
// kept, else a new one is started and checked; it is added to the
// front, every other instance is drained and removed, and the kept one
// takes the container's name.
func (ru *run) converge(ctx context.Context, c module.Replica, img update.Image) (update.Instance, error) {
	keep, err := ru.prepare(ctx, c, img)
	if err != nil {
		return update.Instance{}, err
	}
	if err := ru.admit(ctx, c, keep); err != nil {
		ru.retire(context.WithoutCancel(ctx), c, keep)
		return update.Instance{}, err
	}
	return ru.settle(ctx, c, keep)
}

// settle removes c's other instances and names the kept one.
func (ru *run) settle(ctx context.Context, c module.Replica, keep update.Instance) (update.Instance, error) {
	ins, err := ru.instances(ctx, c.Name)
	if err != nil {
		return update.Instance{}, err
	}
	for _, in := range ins {
		if in.ID != keep.ID {
			if err := ru.retire(ctx, c, in); err != nil {
				return update.Instance{}, err
			}
		}
	}
	if keep.Name != c.Name {
		if err := ru.j.Write(Record{Op: "rename", Container: c.Name, ID: keep.ID, Name: c.Name}); err != nil {
			return update.Instance{}, err
		}
		ru.log(ru.m.Name, "rename", c.Name, keep.ID, keep.Name+" → "+c.Name)
		if err := ru.Runtime.Rename(ctx, keep.ID, c.Name); err != nil {
			return update.Instance{}, err
		}
		keep.Name = c.Name
	}
	return keep, nil
}

// prepare finds or starts c's instance on img and waits until it is
// ready.
func (ru *run) prepare(ctx context.Context, c module.Replica, img update.Image) (update.Instance, error) {
	ins, err := ru.instances(ctx, c.Name)
	if err != nil {
		return update.Instance{}, err
	}
	inFront, err := ru.backends(ctx)
	if err != nil {
		return update.Instance{}, err
	}
	var keep *update.Instance
	for i, in := range ins {
		if !in.Running || in.Image.Digest != img.Digest {
			continue
		}
		if keep == nil || inFront[in.ID] && !inFront[keep.ID] || in.Name == c.Name && !inFront[keep.ID] {
			keep = &ins[i]
		}
	}
	if keep != nil && (inFront[keep.ID] || c.Serve == 0 || ru.Front == nil) {
		return *keep, nil
	}
	if keep != nil {
		// Running on img but not in the front: checked again below.
		if err := ru.ready(ctx, c, *keep); err == nil {
			return *keep, nil
		}
	}
	for _, in := range ins {
		if len(c.Ports) > 0 || in.Name == candidate(c, img) || !in.Running {
			// A container publishing fixed ports cannot run twice; a
			// leftover candidate or an ended container is in the way.
			if err := ru.retire(ctx, c, in); err != nil {
				return update.Instance{}, err
			}
		}
	}
	name := candidate(c, img)
	if err := ru.j.Write(Record{Op: "start", Container: c.Name, Name: name}); err != nil {
		return update.Instance{}, err
	}
	ru.log(ru.m.Name, "start", c.Name, "", name+" from "+short(img.Digest))
	in, err := ru.Runtime.Start(ctx, ru.m, c, name, img)
	if err != nil {
		return update.Instance{}, err
	}
	if err := ru.ready(ctx, c, in); err != nil {
		logs := ru.logs(context.WithoutCancel(ctx), in.ID)
		ru.retire(context.WithoutCancel(ctx), c, in)
		return update.Instance{}, fmt.Errorf("container %s (%s): %w%s", c.Name, short(img.Digest), err, logs)
	}
	ru.log(ru.m.Name, "ready", c.Name, in.ID, "")
	return ru.Runtime.Inspect(ctx, ru.m, in.ID)
}

// Logger is a Runtime that can tell what a container wrote last
// (update/podman's can): a failed container's error then shows it.
type Logger interface {
	Logs(ctx context.Context, id string, lines int) string
}

// logs returns ": its last lines" of an instance's output, or "".
func (ru *run) logs(ctx context.Context, id string) string {
	l, ok := ru.Runtime.(Logger)
	if !ok {
		return ""
	}
	out := l.Logs(ctx, id, 5)
	if out == "" {
		return ""
	}
	return "; its last lines:\n" + out
}

// candidate is the name a new instance of c on img starts with.
func candidate(c module.Replica, img update.Image) string {
	return c.Name + "--" + short(img.Digest)
}

func (ru *run) instances(ctx context.Context, container string) ([]update.Instance, error) {
	all, err := ru.Runtime.Instances(ctx, ru.m)
	if err != nil {
		return nil, err
	}
	var out []update.Instance
	for _, in := range all {
		if in.Container == container {
			out = append(out, in)
		}
	}
	return out, nil
}

func (ru *run) backends(ctx context.Context) (map[string]bool, error) {
	out := map[string]bool{}
	if ru.Front == nil {
		return out, nil
	}
	bs, err := ru.Front.Backends(ctx)
	if err != nil {
		return nil, fmt.Errorf("front: %w", err)
	}
	for _, b := range bs {
		out[b.Name] = true
	}
	return out, nil
}

// admit adds a served instance to the front.
func (ru *run) admit(ctx context.Context, c module.Replica, in update.Instance) error {
	if c.Serve == 0 || ru.Front == nil {
		return nil
	}
	inFront, err := ru.backends(ctx)
	if err != nil || inFront[in.ID] {
		return err
	}
	if in.Addr == "" {
		return fmt.Errorf("container %s: no address for port %d", c.Name, c.Serve)
	}
	if err := ru.j.Write(Record{Op: "add", Container: c.Name, ID: in.ID}); err != nil {
		return err
	}
	ru.log(ru.m.Name, "add", c.Name, in.ID, in.Addr)
	h := frontHealth(ru.m.Health)
	h.Timeout = ru.m.Update.ReadyTimeoutOr(ru.m.Health)
	if err := ru.Front.Add(ctx, front.Backend{Name: in.ID, Addr: in.Addr}, h); err != nil {
		return fmt.Errorf("front: %w", err)
	}
	return nil
}

// retire drains an instance from the front (when it is there) and
// removes it.
func (ru *run) retire(ctx context.Context, c module.Replica, in update.Instance) error {
	if ru.Front != nil && c.Serve > 0 {
		inFront, err := ru.backends(ctx)
		if err != nil {
			return err
		}
		if inFront[in.ID] {
			if err := ru.drain(ctx, c.Name, in.ID); err != nil {
				return err
			}
		}
	}
	if err := ru.j.Write(Record{Op: "remove", Container: c.Name, ID: in.ID, Name: in.Name}); err != nil {
		return err
	}
	ru.log(ru.m.Name, "remove", c.Name, in.ID, in.Name)
	return ru.Runtime.Remove(ctx, in.ID, ru.stopTimeout())
}

func (ru *run) drain(ctx context.Context, container, id string) error {
	if err := ru.j.Write(Record{Op: "drain", Container: container, ID: id}); err != nil {
		return err
	}
	ru.log(ru.m.Name, "drain", container, id, "")
	if err := ru.Front.Drain(ctx, id, ru.m.Update.DrainOr()); err != nil {
		if ctx.Err() != nil {
			return err
		}
		// Requests still in flight after the drain timeout end with
		// the container: the update goes on.
		ru.log(ru.m.Name, "warning", container, id, err.Error())
	}
	return nil
}

// retireAll removes c's instances that do not run digest (all, for "").
func (ru *run) retireAll(ctx context.Context, c module.Replica, digest string) error {
	ins, err := ru.instances(ctx, c.Name)
	if err != nil {
		return err
	}
	for _, in := range ins {
		if digest == "" || in.Image.Digest != digest || !in.Running {
			if err := ru.retire(ctx, c, in); err != nil {
				return err
			}
		}
	}
	return nil
}

// tidy removes the instances of containers the module no longer has and
// the front's backends that are no kept instance.
func (ru *run) tidy(ctx context.Context, names map[string]bool, kept []update.Instance) error {
	all, err := ru.Runtime.Instances(ctx, ru.m)
	if err != nil {
		return err
	}
	for _, in := range all {
		if !names[in.Container] {
			if err := ru.retire(ctx, module.Replica{Container: module.Container{Name: in.Container, Serve: 1}}, in); err != nil {
				return err
			}
		}
	}
	if ru.Front == nil {
		return nil
	}
	keep := map[string]bool{}
	for _, in := range kept {
		keep[in.ID] = true
	}
	inFront, err := ru.backends(ctx)
	if err != nil {
		return err
	}
	for id := range inFront {
		if !keep[id] {
			if err := ru.drain(ctx, "", id); err != nil {
				return err
			}
		}
	}
	return nil
}

// converged reports whether m runs exactly one instance of each
// container, on img, under its name, in the front when served, and
// nothing else.
func (r *Rollout) converged(ctx context.Context, m module.Module, img update.Image) (bool, error) {
	ru := &run{Rollout: r, m: m}
	all, err := r.Runtime.Instances(ctx, m)
	if err != nil {
		return false, err
	}
	inFront, err := ru.backends(ctx)
	if err != nil {
		return false, err
	}
	reps := m.Deployment()
	if len(all) != len(reps) {
		return false, nil
	}
	byName := map[string]update.Instance{}
	for _, in := range all {
		byName[in.Name] = in
	}
	served := 0
	for _, c := range reps {
		in, ok := byName[c.Name]
		if !ok || in.Container != c.Name || !in.Running || in.Image.Digest != img.Digest {
			return false, nil
		}
		if c.Serve > 0 && r.Front != nil {
			if !inFront[in.ID] {
				return false, nil
			}
			served++
		}
	}
	return len(inFront) == served, nil
}

func (ru *run) stopTimeout() time.Duration {
	if ru.StopTimeout > 0 {
		return ru.StopTimeout
	}
	return 10 * time.Second
}

func frontHealth(h module.Health) front.Health {
	return front.Health{Path: h.Path, Expect: h.Expect, Interval: h.Interval.Duration, Timeout: h.Timeout.Duration}
}

// ready waits until in runs and, when served, passes the health check,
// at most the module's ready-timeout; an instance that ends fails at
// once.
func (ru *run) ready(ctx context.Context, c module.Replica, in update.Instance) error {
	timeout := ru.m.Update.ReadyTimeoutOr(ru.m.Health)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	settle := min(time.Second, timeout/2)
	var last error
	for {
		now, err := ru.Runtime.Inspect(ctx, ru.m, in.ID)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return err
		}
		if !now.Running {
			return fmt.Errorf("exited with code %d", now.Exit)
		}
		if c.Serve == 0 {
			if time.Since(start) >= settle {
				return nil
			}
		} else if last = ru.probe(ctx, now.Addr); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
			continue
		}
		break
	}
	if last == nil {
		last = ctx.Err()
	}
	return fmt.Errorf("not ready within %v: %w", timeout, last)
}

// probe runs the module's health check once against addr.
func (ru *run) probe(ctx context.Context, addr string) error {
	if addr == "" {
		return errors.New("no address")
	}
	c := ru.Client
	if c == nil {
		c = &http.Client{Timeout: 5 * time.Second}
	}
	return front.Probe(ctx, c, addr, frontHealth(ru.m.Health))
}

// watch checks the kept instances for the module's watch window.
func (ru *run) watch(ctx context.Context, kept []update.Instance) error {
	w := ru.m.Update.WatchOr()
	ru.log(ru.m.Name, "watch", "", "", w.String())
	return ru.watchFor(ctx, kept, w)
}

// watchFor checks the kept instances every health interval (at most 1s)
// for w.
func (ru *run) watchFor(ctx context.Context, kept []update.Instance, w time.Duration) error {
	interval := ru.m.Health.Interval.Duration
	if interval <= 0 || interval > time.Second {
		interval = time.Second
	}
	deadline := time.Now().Add(w)
	for {
		if err := ru.checkAll(ctx, kept); err != nil {
			return err
		}
		if !time.Now().Before(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(interval, time.Until(deadline))):
		}
	}
}

// checkAll is one round of the watch.
func (ru *run) checkAll(ctx context.Context, kept []update.Instance) error {
	reps := map[string]module.Replica{}
	for _, c := range ru.m.Deployment() {
		reps[c.Name] = c
	}
	for _, in := range kept {
		if err := ru.check(ctx, reps[in.Container], in); err != nil {
			return fmt.Errorf("watch: %w", err)
		}
	}
	return nil
}

// check is one round of the watch for one instance.
func (ru *run) check(ctx context.Context, c module.Replica, in update.Instance) error {
	now, err := ru.Runtime.Inspect(ctx, ru.m, in.ID)
	if err != nil {
		return fmt.Errorf("container %s: %w", c.Name, err)
	}
	if !now.Running {
		return fmt.Errorf("container %s exited with code %d%s", c.Name, now.Exit, ru.logs(ctx, in.ID))
	}
	if c.Serve == 0 {
		return nil
	}
	if ru.Front != nil {
		s, err := ru.Front.Stats(ctx, in.ID)
		if err != nil {
			return fmt.Errorf("container %s: front: %w", c.Name, err)
		}
		if rate := ru.m.Update.MaxErrorRateOr(); s.Requests > 0 && float64(s.Errors) > rate*float64(s.Requests) {
			return fmt.Errorf("container %s: %d of %d requests failed (more than %g)", c.Name, s.Errors, s.Requests, rate)
		}
	}
	if err := ru.probe(ctx, now.Addr); err != nil {
		return fmt.Errorf("container %s: health check: %w", c.Name, err)
	}
	return nil
}

// blueGreen starts and checks a whole new set, adds it to the front,
// then retires the old set.
func (ru *run) blueGreen(ctx context.Context, img update.Image) ([]update.Instance, error) {
	reps := ru.m.Deployment()
	fresh := make([]update.Instance, len(reps))
	for i, c := range reps {
		in, err := ru.prepare(ctx, c, img)
		if err != nil {
			return nil, err
		}
		fresh[i] = in
	}
	for i, c := range reps {
		if err := ru.admit(ctx, c, fresh[i]); err != nil {
			return nil, err
		}
	}
	for i, c := range reps {
		in, err := ru.settle(ctx, c, fresh[i])
		if err != nil {
			return nil, err
		}
		fresh[i] = in
	}
	return fresh, nil
}
