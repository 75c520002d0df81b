package rollouttest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/podman"
	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/alicorn-dev/alicorn/module"
	upodman "github.com/alicorn-dev/alicorn/update/podman"
	"github.com/alicorn-dev/alicorn/update/updater"
)

// Site is a host with the web module: a registry its images are
// published to, its module file in Mods, the updater's state directory,
// and its front (the built-in one in the test process, or HAProxy).
type Site struct {
	Dir, Mods, State, Registry, Name string
	// URL is the module's page through the front.
	URL          string
	Podman       podman.Podman
	Images       *Images
	StopRegistry func()
}

// NewSite sets up a site whose module rolls with policy behind a front
// of kind (builtin or haproxy).
func NewSite(t testing.TB, ctx context.Context, policy, kind string) *Site {
	Needs(t)
	s := &Site{Dir: t.TempDir()}
	s.Registry, s.StopRegistry = registrytest.Stoppable(t)
	s.Mods = filepath.Join(s.Dir, "modules.d")
	s.State = filepath.Join(s.Dir, "state")
	require.NoError(t, os.MkdirAll(s.Mods, 0o755))
	require.NoError(t, os.MkdirAll(s.State, 0o755))
	s.Podman = Podman(t, s.Dir)
	s.Name = fmt.Sprintf("mu%d", time.Now().UnixNano()%1e8)
	Clean(t, s.Podman, s.Name)
	var listen, socket string
	if kind == "haproxy" {
		listen, socket = HAProxy(t, s.Dir, s.Name)
	} else {
		listen = Front(t, filepath.Join(s.State, "front-"+s.Name+".sock"))
	}
	s.URL = "http://" + listen + "/index.html"
	file := ModuleFile(s.Name, "docker://"+s.Registry+"/"+s.Name+":stable", listen, socket, policy)
	if kind == "haproxy" {
		file = strings.Replace(file, "[front]\n", "[front]\nkind = \"haproxy\"\n", 1)
	}
	require.NoError(t, os.WriteFile(filepath.Join(s.Mods, s.Name+".toml"), []byte(file), 0o644))
	s.Images = NewImages(t, ctx, s.Dir)
	return s
}

// Flags are module-update's options for the site.
func (s *Site) Flags() []string {
	return []string{"--modules-dir", s.Mods, "--state", s.State, "--tls-verify=false", "--containers-conf", s.Podman.ContainersConf}
}

// Status is the module's status, as module-update status --json prints
// it.
func (s *Site) Status(t testing.TB, ctx context.Context) *updater.Status {
	t.Helper()
	mods, err := module.LoadDir(s.Mods)
	require.NoError(t, err)
	require.Len(t, mods, 1)
	u := &updater.Updater{State: s.State, Runtime: &upodman.Runtime{ContainersConf: s.Podman.ContainersConf}}
	st, err := u.Status(ctx, mods[0])
	require.NoError(t, err)
	return st
}

// On asserts that the module's four containers run digest under their
// names, committed.
func (s *Site) On(t testing.TB, ctx context.Context, digest string) {
	t.Helper()
	st := s.Status(t, ctx)
	var names []string
	for _, in := range st.Running {
		names = append(names, in.Name)
		assert.Equal(t, digest, in.Image.Digest, in.Name)
		assert.True(t, in.Running, in.Name)
	}
	assert.ElementsMatch(t, Names(s.Name), names)
	assert.False(t, st.Unfinished)
	if assert.NotNil(t, st.Deployed) {
		assert.Equal(t, digest, st.Deployed.Current.Digest)
	}
}
