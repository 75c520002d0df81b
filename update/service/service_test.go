package service

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/flock"
	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
)

// gateFunc and pushTag are the simplest gate and publisher: the real ones
// are tested in their packages.
type gateFunc func() error

func (g gateFunc) Test(context.Context, v1.Image, module.Module) error { return g() }

type pushTag struct{ pushes int }

func (p *pushTag) Publish(_ context.Context, img v1.Image, repo, tag string) (string, string, error) {
	ref, err := name.ParseReference(repo + ":" + tag)
	if err != nil {
		return "", "", err
	}
	p.pushes++
	if err := remote.Write(ref, img); err != nil {
		return "", "", err
	}
	d, err := img.Digest()
	return ref.Context().Digest(d.String()).String(), "", err
}

func TestServiceRun(t *testing.T) {
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c dnf util-linux)", m)
	}
	addr := registrytest.Start(t)
	b := rpmtest.Cached(t)
	dir := t.TempDir()
	repoDir := filepath.Join(dir, "repo")
	require.NoError(t, b.Repo(repoDir, []rpmtest.Pkg{{Name: "alpha", Version: "1.0", Release: "1", Arch: "x86_64"}}, nil, "gz"))
	m := module.Module{Name: "web", Image: "docker://" + addr + "/alicorn/web:1", Build: module.Build{
		Packages: []string{"alpha"}, Repos: []string{"file://" + repoDir}, Publish: "docker://" + addr + "/alicorn/web", Tag: "1",
	}}
	var events []Event
	failing := false
	pub := &pushTag{}
	s := &Service{
		Work:  filepath.Join(dir, "work"),
		Check: update.CheckOptions{CacheDir: filepath.Join(dir, "cache"), Arch: "x86_64"},
		Gate: gateFunc(func() error {
			if failing {
				return errors.New("content: /index.html differs")
			}
			return nil
		}),
		Publisher: pub,
		Log:       func(e Event) { events = append(events, e) },
	}
	ctx := context.Background()

	// A failing test publishes nothing.
	failing = true
	_, err := s.Run(ctx, m, false)
	require.ErrorContains(t, err, "module web: test: content: /index.html differs")
	assert.Zero(t, pub.pushes)
	steps := func() (out []string) {
		for _, e := range events {
			out = append(out, e.Step+":"+e.Outcome)
		}
		events = nil
		return out
	}
	assert.Equal(t, []string{"check:rebuild", "build:built", "test:failed"}, steps())

	failing = false
	out, err := s.Run(ctx, m, false)
	require.NoError(t, err)
	assert.Equal(t, []update.Reason{update.ReasonFirst}, out.Plan.Reasons)
	assert.Contains(t, out.Published, addr+"/alicorn/web@sha256:")
	assert.Equal(t, []string{"check:rebuild", "build:built", "test:passed", "publish:published"}, steps())

	// The published image records its build, and running again does
	// nothing: once published, once built.
	ref, err := name.ParseReference(addr + "/alicorn/web:1")
	require.NoError(t, err)
	img, err := remote.Image(ref)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, out.Plan.Recipe, cf.Config.Labels[update.LabelRecipe])
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, cf.Config.Labels[update.LabelPackages])
	out, err = s.Run(ctx, m, false)
	require.NoError(t, err)
	assert.Empty(t, out.Published)
	assert.Equal(t, []string{"check:current"}, steps())
	assert.Equal(t, 1, pub.pushes)

	// Two runs never build one module at once.
	unlock, err := flock.Try(filepath.Join(s.Work, "web.lock"))
	require.NoError(t, err)
	_, err = s.Run(ctx, m, true)
	assert.ErrorIs(t, err, ErrBusy)
	unlock()
	assert.Equal(t, []string{"check:busy"}, steps())
}
