package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/alicorn-dev/alicorn/internal/flock"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/publish"
	"github.com/alicorn-dev/alicorn/update/rebuild"
)

// Service checks, rebuilds, tests and publishes modules: the build
// service. Every decision and step goes to Log with its reason.
type Service struct {
	// Work holds the builds (one directory each, removed after) and the
	// modules' lock files.
	Work string
	// Check tunes the decision.
	Check update.CheckOptions
	// Rebuild composes a module's image from its recipe (nil means
	// rebuild.FromRecipe).
	Rebuild func(ctx context.Context, work string, b module.Build) (v1.Image, *rebuild.Result, error)
	// Layers builds a recipe's Containerfile on the composed image.
	Layers    rebuild.Builder
	Gate      update.Gate
	Publisher update.Publisher
	// PublisherFor, when set, gives each module its publisher instead (a
	// recipe names its own signing key).
	PublisherFor func(m module.Module) (update.Publisher, error)
	// Log receives every event (nil: none).
	Log func(Event)
}

// Event is one step of the service, as logged.
type Event struct {
	Time   time.Time `json:"time"`
	Module string    `json:"module"`
	// Step is check, build, test or publish; Outcome what came of it
	// (current, rebuild, built, passed, failed, published, busy).
	Step    string `json:"step"`
	Outcome string `json:"outcome"`
	// Reasons and Fixes are the plan's, on check events.
	Reasons []update.Reason `json:"reasons,omitempty"`
	Fixes   []update.Fix    `json:"fixes,omitempty"`
	// Digest is the image the step produced or found.
	Digest string `json:"digest,omitempty"`
	Error  string `json:"error,omitempty"`
}

// ErrBusy is returned by Run when another run holds the module's lock.
var ErrBusy = flock.ErrBusy

// Outcome is what Run did for a module.
type Outcome struct {
	Plan *update.Plan
	// Published is the digest reference pushed ("" when nothing was).
	Published string
}

// Run checks a module and, when it needs it (or force), rebuilds, tests
// and publishes it. Nothing is published unless the test passed; the
// moving tag is the publisher's last step. Two runs never build one
// module at once (ErrBusy).
func (s *Service) Run(ctx context.Context, m module.Module, force bool) (*Outcome, error) {
	if err := os.MkdirAll(s.Work, 0o755); err != nil {
		return nil, err
	}
	unlock, err := flock.Try(filepath.Join(s.Work, m.Name+".lock"))
	if err != nil {
		s.log(Event{Module: m.Name, Step: "check", Outcome: "busy", Error: err.Error()})
		return nil, fmt.Errorf("module %s: %w", m.Name, err)
	}
	defer unlock()
	o := s.Check
	o.Force = o.Force || force
	plan, err := update.Check(ctx, m, o)
	if err != nil {
		s.log(Event{Module: m.Name, Step: "check", Outcome: "failed", Error: err.Error()})
		return nil, err
	}
	out := &Outcome{Plan: plan}
	if !plan.Rebuild() {
		s.log(Event{Module: m.Name, Step: "check", Outcome: "current", Reasons: plan.Reasons, Digest: plan.Digest})
		return out, nil
	}
	s.log(Event{Module: m.Name, Step: "check", Outcome: "rebuild", Reasons: plan.Reasons, Fixes: plan.Fixes, Digest: plan.Digest})

	// What would only fail after the build fails now: the test content
	// and the publisher (its signing key).
	if m.Test.Content != "" {
		if st, err := os.Stat(m.Test.Content); err != nil || !st.IsDir() {
			err = fmt.Errorf("module %s (%s): test content %s: not a directory", m.Name, m.Source, m.Test.Content)
			s.log(Event{Module: m.Name, Step: "check", Outcome: "failed", Error: err.Error()})
			return out, err
		}
	}
	pub := s.Publisher
	if s.PublisherFor != nil {
		if pub, err = s.PublisherFor(m); err != nil {
			s.log(Event{Module: m.Name, Step: "check", Outcome: "failed", Error: err.Error()})
			return out, fmt.Errorf("module %s: publish: %w", m.Name, err)
		}
	}
	if pub == nil {
		return out, fmt.Errorf("module %s: no publisher", m.Name)
	}

	work, err := os.MkdirTemp(s.Work, m.Name+"-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	build := s.Rebuild
	if build == nil {
		build = rebuild.FromRecipe
	}
	img, res, err := build(ctx, filepath.Join(work, "image"), m.Build)
	if err != nil {
		s.log(Event{Module: m.Name, Step: "build", Outcome: "failed", Error: err.Error()})
		return nil, fmt.Errorf("module %s: build: %w", m.Name, err)
	}
	if m.Build.Containerfile != "" {
		created := time.Time{}
		if res != nil {
			created = res.Created
		}
		if img, err = s.Layers.Layers(ctx, img, m.Build.Containerfile, created, work); err != nil {
			s.log(Event{Module: m.Name, Step: "build", Outcome: "failed", Error: err.Error()})
			return nil, fmt.Errorf("module %s: build: %w", m.Name, err)
		}
	}
	// The same layers and recipe as the published image (a forced
	// rebuild of unchanged inputs): nothing to publish.
	if same, err := plan.Unchanged(img); err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Name, err)
	} else if same {
		s.log(Event{Module: m.Name, Step: "publish", Outcome: "unchanged", Digest: plan.Digest})
		return out, nil
	}
	img, err = publish.Annotate(img, record(plan, res))
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Name, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Name, err)
	}
	s.log(Event{Module: m.Name, Step: "build", Outcome: "built", Digest: digest.String()})

	if s.Gate != nil {
		if err := s.Gate.Test(ctx, img, m); err != nil {
			s.log(Event{Module: m.Name, Step: "test", Outcome: "failed", Digest: digest.String(), Error: err.Error()})
			return out, fmt.Errorf("module %s: test: %w", m.Name, err)
		}
		s.log(Event{Module: m.Name, Step: "test", Outcome: "passed", Digest: digest.String()})
	}
	ref, _, err := pub.Publish(ctx, img, m.Build.Repository(), m.Build.Tag)
	if err != nil {
		s.log(Event{Module: m.Name, Step: "publish", Outcome: "failed", Digest: digest.String(), Error: err.Error()})
		return out, fmt.Errorf("module %s: publish: %w", m.Name, err)
	}
	out.Published = ref
	s.log(Event{Module: m.Name, Step: "publish", Outcome: "published", Digest: ref})
	return out, nil
}

// Watch runs every module at once every interval until ctx is done,
// finishing the step under way. A module's failure is logged and does
// not stop the others or the next round.
func (s *Service) Watch(ctx context.Context, mods []module.Module, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, m := range mods {
			if ctx.Err() != nil {
				return nil
			}
			_, _ = s.Run(ctx, m, false) // logged
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Service) log(e Event) {
	if s.Log != nil {
		e.Time = time.Now().UTC()
		s.Log(e)
	}
}

// record is what the published image records of its build.
func record(p *update.Plan, res *rebuild.Result) publish.Record {
	r := publish.Record{Recipe: p.Recipe, Previous: p.Digest, Advisories: p.Fixes}
	for _, f := range p.Fixes {
		r.Fixes = append(r.Fixes, f.Advisory)
	}
	if res != nil {
		r.Created = res.Created
		for _, pkg := range res.Packages {
			r.Packages = append(r.Packages, pkg.NEVRA)
		}
	}
	return r
}
