package updater

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/front"
	"github.com/alicorn-dev/alicorn/update/front/haproxy"
	"github.com/alicorn-dev/alicorn/update/kube"
	"github.com/alicorn-dev/alicorn/update/rollout"
)

// Updater updates modules on this host.
type Updater struct {
	// State is the directory of journals, locks, deployed digests and
	// the built-in fronts' sockets.
	State string
	// Runtime runs the containers (update/podman's).
	Runtime update.Runtime
	// Remote are options for the registry (authentication, transport);
	// the context is added.
	Remote []remote.Option
	// Verify checks an image by digest ("HOST/REPO@sha256:…") under the
	// host's signature policy before it is pulled; nil checks nothing.
	Verify func(ctx context.Context, ref string) error
	// Log receives the rollouts' steps.
	Log func(rollout.Event)
	// Rollout tunes the rollouts (StopTimeout, Client); its Runtime,
	// Front, State and Log are set by the Updater.
	Rollout rollout.Rollout
	// Kube, when set, runs the modules as Deployments in a Kubernetes
	// cluster instead of containers through Runtime and a front: the
	// cluster pulls the image by digest (Verify still checks it first),
	// its Deployment controller replaces the pods, update/kube watches
	// and undoes. Its State and Log are set by the Updater.
	Kube *kube.Rollout
}

// state is where the modules' journals, locks and committed digests
// are: State, or for a cluster's modules a directory of State named by
// the cluster and namespace (kube.Rollout.Scope), so that they are never
// mistaken for this host's containers or another namespace's.
func (u *Updater) state() rollout.State {
	if u.Kube != nil {
		return rollout.State{Dir: filepath.Join(u.State, "kube", u.Kube.Scope())}
	}
	return rollout.State{Dir: u.State}
}

// kube is Kube with the Updater's state and log.
func (u *Updater) kube() *kube.Rollout {
	k := *u.Kube
	k.State = u.state()
	k.Log = u.Log
	return &k
}

// Deployed returns m's committed image and the one before it; ok is
// false before its first update.
func (u *Updater) Deployed(m module.Module) (d rollout.Deployed, ok bool, err error) {
	st := u.state()
	return st.Deployed(m.Name)
}

// deployer rolls a module out and back: update/rollout on this host,
// update/kube on a cluster.
type deployer interface {
	Apply(ctx context.Context, m module.Module, img update.Image) error
	Recover(ctx context.Context, m module.Module) error
}

// Status is what an update of a module would do.
type Status struct {
	Module string `json:"module"`
	// Image is the module's image reference (its moving tag).
	Image string `json:"image"`
	// Running are the module's containers now; Expected is how many the
	// module file asks for.
	Running  []update.Instance `json:"running"`
	Expected int               `json:"expected"`
	// Deployed is the committed digest and the one before it (nil
	// before the first update).
	Deployed *rollout.Deployed `json:"deployed,omitempty"`
	// Newest is the digest published under the tag ("" when the image
	// is not in a registry).
	Newest string `json:"newest,omitempty"`
	// Fixes are the advisories the newest image fixes against the one
	// running, newest first, from the images' labels.
	Fixes []update.Fix `json:"fixes,omitempty"`
	// Unfinished is true when an update was interrupted (recover
	// finishes or undoes it).
	Unfinished bool `json:"unfinished,omitempty"`
	// Updating is true while another updater is updating the module;
	// UpdatingBy names it when it is on another host (a cluster's
	// module: the holder of its lease).
	Updating   bool   `json:"updating,omitempty"`
	UpdatingBy string `json:"updating_by,omitempty"`
	// Policy is the module's update policy.
	Policy string `json:"policy"`
	// Failed is set when this host rolled back from Newest before:
	// apply does not take it again unless asked for by digest.
	Failed *rollout.Failure `json:"failed,omitempty"`
	// Error says why the registry could not tell the newest image (the
	// rest is this host's state).
	Error string `json:"error,omitempty"`
}

// Current is the digest the module runs: the committed one, else the
// one most of its containers run.
func (s *Status) Current() string {
	if s.Deployed != nil {
		return s.Deployed.Current.Digest
	}
	return s.Runs()
}

// Runs is the digest most of the module's running containers run ("" when
// none runs): during an interrupted update, not the committed one.
func (s *Status) Runs() string {
	count := map[string]int{}
	best := ""
	for _, in := range s.Running {
		if !in.Running {
			continue
		}
		count[in.Image.Digest]++
		if count[in.Image.Digest] > count[best] {
			best = in.Image.Digest
		}
	}
	return best
}

// Pending reports whether a newer image is published.
func (s *Status) Pending() bool { return s.Newest != "" && s.Newest != s.Current() }

func (u *Updater) rollout(m module.Module) (deployer, error) {
	if u.Kube != nil {
		if u.Kube.Server == "" {
			return nil, errors.New("kube.Rollout without Server: its state could not be told from another cluster's")
		}
		return u.kube(), nil
	}
	r := u.Rollout
	r.Runtime = u.Runtime
	r.State = rollout.State{Dir: u.State}
	r.Log = u.Log
	f, err := u.Front(m)
	if err != nil {
		return nil, err
	}
	r.Front = f
	return &r, nil
}

// Front returns the module's front: the built-in front's client (its
// socket in the state directory unless the file names one), HAProxy's
// runtime API, or nil for a module without [front].
func (u *Updater) Front(m module.Module) (update.Front, error) {
	f := m.Front
	if f.Listen == "" {
		return nil, nil
	}
	switch f.Kind {
	case "", "builtin":
		return front.Client{Socket: f.SocketIn(u.State, m.Name)}, nil
	case "haproxy":
		b := f.Backend
		if b == "" {
			b = m.Name
		}
		return haproxy.Front{Socket: f.Socket, Backend: b}, nil
	}
	return nil, fmt.Errorf("module %s: front kind %q", m.Name, f.Kind)
}

// repository returns the registry repository of a docker:// image
// reference, and its tag.
func repository(image string) (name.Tag, bool) {
	ref, ok := strings.CutPrefix(image, "docker://")
	if !ok {
		return name.Tag{}, false
	}
	t, err := name.NewTag(ref)
	if err != nil {
		return name.Tag{}, false
	}
	return t, true
}

// Status reads m's state: its containers, the committed digests, the
// newest published image and the advisories it fixes.
func (u *Updater) Status(ctx context.Context, m module.Module) (*Status, error) {
	s := &Status{Module: m.Name, Image: m.Image, Policy: m.Update.Policy, Expected: len(m.Deployment())}
	var ins []update.Instance
	var err error
	if u.Kube != nil {
		s.Expected = kube.Expected(m)
		ins, err = u.Kube.Instances(ctx, m)
	} else {
		ins, err = u.Runtime.Instances(ctx, m)
	}
	if err != nil {
		return nil, err
	}
	s.Running = ins
	st := u.state()
	if d, ok, err := st.Deployed(m.Name); err != nil {
		return nil, err
	} else if ok {
		s.Deployed = &d
	}
	if j, err := st.ReadJournal(m.Name); err != nil {
		return nil, err
	} else if j != nil {
		// An update under way holds the lock; one interrupted does not.
		s.Updating = st.Busy(m.Name)
		s.Unfinished = !s.Updating
	}
	if u.Kube != nil {
		if s.UpdatingBy, err = u.kube().Holding(ctx, m); err != nil {
			return nil, err
		}
		s.Updating = s.Updating || s.UpdatingBy != ""
	}
	tag, ok := repository(m.Image)
	if !ok {
		return s, nil
	}
	if s.Newest, err = u.newest(ctx, tag); err != nil {
		s.Error = err.Error()
		return s, nil
	}
	// A damaged list of failures is taken for none (the next rollback
	// writes it anew).
	s.Failed, _ = st.Failed(m.Name, s.Newest)
	s.Fixes, s.Error = u.fixes(ctx, tag, s.Current(), s.Newest)
	return s, nil
}

// Newest returns the digest published under m's tag, from the registry
// alone.
func (u *Updater) Newest(ctx context.Context, m module.Module) (string, error) {
	tag, ok := repository(m.Image)
	if !ok {
		return "", fmt.Errorf("module %s: %w", m.Name, ErrNotPublished)
	}
	d, err := u.newest(ctx, tag)
	if err != nil {
		return "", fmt.Errorf("module %s: %w", m.Name, err)
	}
	return d, nil
}

func (u *Updater) newest(ctx context.Context, tag name.Tag) (string, error) {
	ro := append([]remote.Option{remote.WithContext(ctx)}, u.Remote...)
	desc, err := remote.Get(tag, ro...)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", tag, err)
	}
	return desc.Digest.String(), nil
}

// FixesTo returns the advisories the image digest of m's repository
// fixes against the one m runs (to apply another image than the
// newest).
func (u *Updater) FixesTo(ctx context.Context, m module.Module, current, digest string) ([]update.Fix, error) {
	tag, ok := repository(m.Image)
	if !ok {
		return nil, fmt.Errorf("module %s: %w", m.Name, ErrNotPublished)
	}
	fixes, msg := u.fixes(ctx, tag, current, digest)
	if msg != "" {
		return nil, fmt.Errorf("module %s: %s", m.Name, msg)
	}
	return fixes, nil
}

// fixes walks from digest back to current through the images' previous
// labels and gathers their fixes; an error reading digest itself is
// returned as a message (an older image deleted from the registry ends
// the walk).
func (u *Updater) fixes(ctx context.Context, tag name.Tag, current, digest string) ([]update.Fix, string) {
	ro := append([]remote.Option{remote.WithContext(ctx)}, u.Remote...)
	var out []update.Fix
	for hops := 0; digest != "" && digest != current && hops < 50; hops++ {
		img, err := remote.Image(tag.Digest(digest), ro...)
		var cf *v1.ConfigFile
		if err == nil {
			cf, err = img.ConfigFile()
		}
		if err != nil {
			if hops == 0 {
				return nil, fmt.Sprintf("reading %s@%s: %v", tag.Repository, digest, err)
			}
			break
		}
		out = append(out, fixesOf(cf.Config.Labels)...)
		digest = cf.Config.Labels[update.LabelPrevious]
	}
	return out, ""
}

// fixesOf reads an image's fixes from its labels: in full
// (LabelAdvisories), else their IDs (LabelFixes).
func fixesOf(labels map[string]string) []update.Fix {
	var fixes []update.Fix
	if j := labels[update.LabelAdvisories]; j != "" && json.Unmarshal([]byte(j), &fixes) == nil {
		return fixes
	}
	for _, id := range strings.Split(labels[update.LabelFixes], ",") {
		if id != "" {
			fixes = append(fixes, update.Fix{Advisory: id})
		}
	}
	return fixes
}

// Filter chooses updates as dnf's options do: --security, --advisory,
// --cve, --bz, --sec-severity. Filters of different kinds combine with
// OR, as dnf's do; an empty Filter takes every update.
type Filter struct {
	Security   bool
	Advisories []string
	CVEs       []string
	Bugs       []string
	Severities []string
}

// Empty reports whether f takes every update.
func (f Filter) Empty() bool {
	return !f.Security && len(f.Advisories)+len(f.CVEs)+len(f.Bugs)+len(f.Severities) == 0
}

// Select returns the fixes of s that f takes; with an empty filter,
// all of them.
func (f Filter) Select(fixes []update.Fix) []update.Fix {
	if f.Empty() {
		return fixes
	}
	var out []update.Fix
	for _, x := range fixes {
		if f.takes(x) {
			out = append(out, x)
		}
	}
	return out
}

func (f Filter) takes(x update.Fix) bool {
	fold := func(list []string, v string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, v) })
	}
	anyOf := func(list, vs []string) bool {
		return slices.ContainsFunc(vs, func(v string) bool { return fold(list, v) })
	}
	security := x.Type == "security" || x.Type == "" && x.Severity != ""
	switch {
	case f.Security && security:
		return true
	case fold(f.Advisories, x.Advisory), anyOf(f.CVEs, x.CVEs), anyOf(f.Bugs, x.Bugs):
		return true
	case len(f.Severities) > 0 && security && fold(f.Severities, x.Severity):
		return true
	}
	return false
}

// Wanted reports whether the update of s is taken under f: a pending
// update this host did not roll back from, with at least one fix f
// takes (any such update when f is empty).
func (f Filter) Wanted(s *Status) bool {
	if !s.Pending() || s.Failed != nil {
		return false
	}
	return f.Empty() || len(f.Select(s.Fixes)) > 0
}

// ErrNotPublished is returned by Apply for a module whose image is not
// in a registry.
var ErrNotPublished = errors.New("the module's image is not a docker:// reference")

// Apply updates m to digest (the newest published one when ""): it
// verifies and pulls the image by digest, then rolls it out with m's
// policy. A failure rolls back by itself (*rollout.RolledBackError).
func (u *Updater) Apply(ctx context.Context, m module.Module, digest string) error {
	if _, ok := repository(m.Image); !ok {
		return fmt.Errorf("module %s: %w", m.Name, ErrNotPublished)
	}
	if digest == "" {
		s, err := u.Status(ctx, m)
		if err != nil {
			return err
		}
		if s.Error != "" {
			return fmt.Errorf("module %s: %s", m.Name, s.Error)
		}
		digest = s.Newest
	}
	if m.Update.Policy == "manual" {
		return fmt.Errorf("module %s: %w", m.Name, rollout.ErrManual)
	}
	r, err := u.preflight(ctx, m)
	if err != nil {
		return err
	}
	img, err := u.pull(ctx, m, digest)
	if err != nil {
		return err
	}
	return r.Apply(ctx, m, img)
}

func (u *Updater) pull(ctx context.Context, m module.Module, digest string) (update.Image, error) {
	ref, err := Ref(m, digest)
	if err != nil {
		return update.Image{}, err
	}
	if u.Verify != nil {
		if err := u.Verify(ctx, ref); err != nil {
			return update.Image{}, fmt.Errorf("module %s: %s: %w", m.Name, ref, err)
		}
	}
	if u.Kube != nil {
		return kube.Image(ref), nil // the cluster's nodes pull it
	}
	img, err := u.Runtime.Pull(ctx, "docker://"+ref)
	if err != nil {
		return update.Image{}, fmt.Errorf("module %s: %w", m.Name, err)
	}
	return img, nil
}

// Ref returns the reference of m's image by digest (HOST/REPO@DIGEST),
// what a runtime pulls and a Kubernetes Deployment names.
func Ref(m module.Module, digest string) (string, error) {
	tag, ok := repository(m.Image)
	if !ok {
		return "", fmt.Errorf("module %s: %w", m.Name, ErrNotPublished)
	}
	d := tag.Digest(digest)
	if _, err := name.NewDigest(d.Name()); err != nil {
		return "", fmt.Errorf("module %s: digest %q: %w", m.Name, digest, err)
	}
	return d.Name(), nil
}

// ErrNoPrevious is returned by Rollback when no earlier image was
// committed.
var ErrNoPrevious = errors.New("no earlier image to return to")

// Rollback returns m to the image committed before the current one.
func (u *Updater) Rollback(ctx context.Context, m module.Module) error {
	st := u.state()
	d, ok, err := st.Deployed(m.Name)
	if err != nil {
		return err
	}
	if !ok || d.Previous == nil {
		return fmt.Errorf("module %s: %w", m.Name, ErrNoPrevious)
	}
	r, err := u.preflight(ctx, m)
	if err != nil {
		return err
	}
	img := *d.Previous
	if _, ok := repository(m.Image); ok {
		// The old image was removed at commit: it comes back by digest.
		if img, err = u.pull(ctx, m, d.Previous.Digest); err != nil {
			return err
		}
	}
	if err := r.Apply(ctx, m, img); err != nil {
		return err
	}
	// The image left is not taken again by apply unless asked for.
	return st.AddFailure(m.Name, rollout.Failure{Digest: d.Current.Digest, Reason: "rolled back by hand", Time: time.Now().UTC()})
}

// preflight returns m's rollout once its front answers: nothing is
// pulled or started for a module whose front is down.
func (u *Updater) preflight(ctx context.Context, m module.Module) (deployer, error) {
	r, err := u.rollout(m)
	if err != nil {
		return nil, err
	}
	if r, ok := r.(*rollout.Rollout); ok && r.Front != nil {
		if _, err := r.Front.Backends(ctx); err != nil {
			return nil, fmt.Errorf("module %s: its front (%s) does not answer: %w", m.Name, m.Front.Listen, err)
		}
	}
	return r, nil
}

// Recover finishes or undoes m's interrupted update, or restores its
// containers to the committed digest.
func (u *Updater) Recover(ctx context.Context, m module.Module) error {
	r, err := u.rollout(m)
	if err != nil {
		return err
	}
	return r.Recover(ctx, m)
}
