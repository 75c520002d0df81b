package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/alicorn-dev/alicorn/internal/rollouttest"
	"github.com/alicorn-dev/alicorn/internal/webimage"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/updater"
)

// site is a host with the web module: a registry its images are
// published to, a module file, a state directory and a front.
type site struct {
	dir, mods, state, registry, name, url string
	pm                                    podman.Podman
	images                                *rollouttest.Images
	stopRegistry                          func()
}

func newSite(t *testing.T, ctx context.Context, policy string) *site {
	return newSiteFront(t, ctx, policy, "builtin")
}

// newSiteFront is newSite with the front of kind (builtin or haproxy).
func newSiteFront(t *testing.T, ctx context.Context, policy, kind string) *site {
	rollouttest.Needs(t)
	s := &site{dir: t.TempDir()}
	s.registry, s.stopRegistry = registrytest.Stoppable(t)
	s.mods = filepath.Join(s.dir, "modules.d")
	s.state = filepath.Join(s.dir, "state")
	require.NoError(t, os.MkdirAll(s.mods, 0o755))
	require.NoError(t, os.MkdirAll(s.state, 0o755))
	s.pm = rollouttest.Podman(t, s.dir)
	s.name = fmt.Sprintf("mu%d", time.Now().UnixNano()%1e8)
	rollouttest.Clean(t, s.pm, s.name)
	var listen, socket string
	if kind == "haproxy" {
		listen, socket = rollouttest.HAProxy(t, s.dir, s.name)
	} else {
		listen = rollouttest.Front(t, filepath.Join(s.state, "front-"+s.name+".sock"))
	}
	s.url = "http://" + listen + "/index.html"
	file := rollouttest.ModuleFile(s.name, "docker://"+s.registry+"/"+s.name+":stable", listen, socket, policy)
	if kind == "haproxy" {
		file = strings.Replace(file, "[front]\n", "[front]\nkind = \"haproxy\"\n", 1)
	}
	require.NoError(t, os.WriteFile(filepath.Join(s.mods, s.name+".toml"), []byte(file), 0o644))
	s.images = rollouttest.NewImages(t, ctx, s.dir)
	return s
}

// cli runs module-update with the site's options.
func (s *site) cli(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	all := append([]string{"--modules-dir", s.mods, "--state", s.state, "--tls-verify=false",
		"--containers-conf", s.pm.ContainersConf}, args...)
	code := run(ctx, all, strings.NewReader(""), &stdout, &stderr)
	t.Logf("module-update %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	return code, stdout.String(), stderr.String()
}

func (s *site) status(t *testing.T, ctx context.Context) *updater.Status {
	t.Helper()
	_, out, _ := s.cli(t, ctx, "status", "--json")
	var st []*updater.Status
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Len(t, st, 1)
	return st[0]
}

// on asserts that the module's four containers run digest under their
// names.
func (s *site) on(t *testing.T, ctx context.Context, digest string) {
	t.Helper()
	st := s.status(t, ctx)
	var names []string
	for _, in := range st.Running {
		names = append(names, in.Name)
		assert.Equal(t, digest, in.Image.Digest, in.Name)
		assert.True(t, in.Running, in.Name)
	}
	assert.ElementsMatch(t, rollouttest.Names(s.name), names)
	assert.False(t, st.Unfinished)
	require.NotNil(t, st.Deployed)
	assert.Equal(t, digest, st.Deployed.Current.Digest)
}

var fix = update.Fix{Advisory: "ALICORN-2026-1", Type: "security", Severity: "Important",
	CVEs: []string{"CVE-2026-0001"}, Bugs: []string{"1001"}, Packages: []string{"busybox-httpd-1-1 → busybox-httpd-1-2"}}

// TestApply is a sysadmin's session: the first deployment, status, an
// update chosen with dnf's filters and applied under load with no failed
// request, a rollback, and the reporter's podman discovery after it.
func TestApply(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, ctx, "rolling")
	d1 := rollouttest.Publish(t, ctx, s.registry, s.name, "stable", s.images.Release(t, ctx, "1", ""), "")

	code, _, _ := s.cli(t, ctx, "apply", "-y")
	require.Equal(t, 0, code)
	s.on(t, ctx, d1)
	code, out, _ := s.cli(t, ctx, "status")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "(current)")

	d2 := rollouttest.Publish(t, ctx, s.registry, s.name, "stable", s.images.Release(t, ctx, "2", ""), d1, fix)
	code, out, _ = s.cli(t, ctx, "status")
	assert.Equal(t, 100, code)
	assert.Contains(t, out, s.name+": ALICORN-2026-1 Important (CVE-2026-0001, BZ#1001)")

	// Filters that take nothing, and --assumeno, change nothing.
	for _, args := range [][]string{{"--cve", "CVE-2026-9999"}, {"--bz=7"}, {"--sec-severity", "Critical"}, {"--advisory", "OTHER-1"}} {
		code, out, _ = s.cli(t, ctx, append([]string{"apply", "-y"}, args...)...)
		assert.Equal(t, 0, code, args)
		assert.Contains(t, out, "Nothing to do.", args)
	}
	code, out, _ = s.cli(t, ctx, "apply", "--security", "--assumeno")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "Operation aborted.")
	s.on(t, ctx, d1)

	l := rollouttest.StartLoad(s.url, webimage.Page())
	code, out, _ = s.cli(t, ctx, "apply", s.name, "--cve=CVE-2026-0001", "-y")
	l.End(t)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Complete!")
	s.on(t, ctx, d2)

	l = rollouttest.StartLoad(s.url, webimage.Page())
	code, _, _ = s.cli(t, ctx, "rollback", s.name, "-y")
	l.End(t)
	require.Equal(t, 0, code)
	s.on(t, ctx, d1)

	// The reporter's podman discovery sees the module's containers.
	mods, err := module.FromPodman(ctx)
	require.NoError(t, err)
	found := false
	for _, m := range mods {
		if m.Name == s.name {
			found = true
			assert.Len(t, m.Containers, 4)
		}
	}
	assert.True(t, found, "module.FromPodman finds %s", s.name)

	code, _, _ = s.cli(t, ctx, "recover")
	assert.Equal(t, 0, code)
	s.on(t, ctx, d1)
}

// TestHAProxy is a rolling update under load through HAProxy, the front
// a host may already run: no failed request.
func TestHAProxy(t *testing.T) {
	ctx := context.Background()
	s := newSiteFront(t, ctx, "rolling", "haproxy")
	d1 := rollouttest.Publish(t, ctx, s.registry, s.name, "stable", s.images.Release(t, ctx, "1", ""), "")
	code, _, _ := s.cli(t, ctx, "apply", "-y")
	require.Equal(t, 0, code)
	s.on(t, ctx, d1)
	d2 := rollouttest.Publish(t, ctx, s.registry, s.name, "stable", s.images.Release(t, ctx, "2", ""), d1, fix)
	l := rollouttest.StartLoad(s.url, webimage.Page())
	code, _, _ = s.cli(t, ctx, "apply", "-y")
	l.End(t)
	require.Equal(t, 0, code)
	s.on(t, ctx, d2)
	bad := rollouttest.Publish(t, ctx, s.registry, s.name, "stable", s.images.Release(t, ctx, "2", webimage.ServesErrors), d2, fix)
	l = rollouttest.StartLoad(s.url, webimage.Page())
	code, _, stderr := s.cli(t, ctx, "apply", "-y")
	l.End(t)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "rolled back")
	s.on(t, ctx, d2)
	assert.NotEqual(t, bad, d2)
}
