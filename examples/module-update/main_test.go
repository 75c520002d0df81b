package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/rollouttest"
	"github.com/alicorn-dev/alicorn/internal/webimage"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/updater"
)

// site is rollouttest's, with module-update run in the test process.
type site struct{ *rollouttest.Site }

func newSite(t *testing.T, ctx context.Context, policy string) *site {
	return &site{rollouttest.NewSite(t, ctx, policy, "builtin")}
}

// cli runs module-update with the site's options.
func (s *site) cli(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	all := append(s.Flags(), args...)
	code := run(ctx, all, strings.NewReader(""), &stdout, &stderr)
	t.Logf("module-update %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	return code, stdout.String(), stderr.String()
}

// deploy publishes the first image and deploys it: its digest.
func (s *site) deploy(t *testing.T, ctx context.Context) string {
	t.Helper()
	d1 := rollouttest.Publish(t, ctx, s.Registry, s.Name, "stable", s.Images.Release(t, ctx, "1", ""), "")
	code, _, _ := s.cli(t, ctx, "apply", "-y")
	require.Equal(t, 0, code)
	s.on(t, ctx, d1)
	return d1
}

func (s *site) status(t *testing.T, ctx context.Context) *updater.Status { return s.Status(t, ctx) }

func (s *site) on(t *testing.T, ctx context.Context, digest string) { s.On(t, ctx, digest) }

var fix = update.Fix{Advisory: "ALICORN-2026-1", Type: "security", Severity: "Important",
	CVEs: []string{"CVE-2026-0001"}, Bugs: []string{"1001"}, Packages: []string{"busybox-httpd-1-1 → busybox-httpd-1-2"}}

// TestApply is a sysadmin's session: the first deployment, status, an
// update chosen with dnf's filters and applied under load with no failed
// request, a rollback, and the reporter's podman discovery after it.
func TestApply(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, ctx, "rolling")
	d1 := s.deploy(t, ctx)
	code, out, _ := s.cli(t, ctx, "status")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "(current)")

	d2 := rollouttest.Publish(t, ctx, s.Registry, s.Name, "stable", s.Images.Release(t, ctx, "2", ""), d1, fix)
	code, out, _ = s.cli(t, ctx, "status")
	assert.Equal(t, 100, code)
	assert.Contains(t, out, s.Name+": ALICORN-2026-1 Important (CVE-2026-0001, BZ#1001)")

	// Filters that take nothing, and --assumeno, change nothing.
	for _, args := range [][]string{{"--cve", "CVE-2026-9999"}, {"--bz=7"}, {"--sec-severity", "Critical"}, {"--advisory", "OTHER-1"}} {
		code, out, _ = s.cli(t, ctx, append([]string{"apply", "-y"}, args...)...)
		assert.Equal(t, 0, code, args)
		assert.Contains(t, out, "Nothing to do.", args)
	}
	code, out, _ = s.cli(t, ctx, "apply", "--security", "--assumeno")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "Operation aborted.")
	// The dry run's plan as data.
	_, out, _ = s.cli(t, ctx, "apply", "--security", "--assumeno", "--json")
	var plan struct {
		Plan struct {
			Module, Policy, From, To string
			Fixes                    []update.Fix
		}
	}
	require.NoError(t, json.NewDecoder(strings.NewReader(out)).Decode(&plan))
	assert.Equal(t, s.Name, plan.Plan.Module)
	assert.Equal(t, d1, plan.Plan.From)
	assert.Equal(t, d2, plan.Plan.To)
	assert.Equal(t, []update.Fix{fix}, plan.Plan.Fixes)
	s.on(t, ctx, d1)

	l := rollouttest.StartLoad(t, s.URL)
	code, out, _ = s.cli(t, ctx, "apply", s.Name, "--cve=CVE-2026-0001", "-y")
	l.End(t)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Complete!")
	s.on(t, ctx, d2)

	l = rollouttest.StartLoad(t, s.URL)
	code, _, _ = s.cli(t, ctx, "rollback", s.Name, "-y")
	l.End(t)
	require.Equal(t, 0, code)
	s.on(t, ctx, d1)
	// The image rolled back from by hand is not applied again unasked.
	code, out, _ = s.cli(t, ctx, "apply", "-y")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "was rolled back on this host (rolled back by hand)")
	code, _, _ = s.cli(t, ctx, "status")
	assert.Equal(t, 0, code, "no update wanted")

	// The reporter's podman discovery sees the module's containers.
	mods, err := module.FromPodman(ctx)
	require.NoError(t, err)
	found := false
	for _, m := range mods {
		if m.Name == s.Name {
			found = true
			assert.Len(t, m.Containers, 4)
		}
	}
	assert.True(t, found, "module.FromPodman finds %s", s.Name)

	code, _, _ = s.cli(t, ctx, "recover")
	assert.Equal(t, 0, code)
	s.on(t, ctx, d1)

	// Under the manual policy, updates are reported, not applied.
	file := filepath.Join(s.Mods, s.Name+".toml")
	text, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(text), `policy = "rolling"`, `policy = "manual"`, 1)), 0o644))
	code, out, _ = s.cli(t, ctx, "apply", "-y", "--to", d2)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "not applied: update policy manual")
	s.on(t, ctx, d1)
}

// TestHAProxy is a rolling update under load through HAProxy, the front
// a host may already run: no failed request.
func TestHAProxy(t *testing.T) {
	ctx := context.Background()
	s := &site{rollouttest.NewSite(t, ctx, "rolling", "haproxy")}
	d1 := s.deploy(t, ctx)
	d2 := rollouttest.Publish(t, ctx, s.Registry, s.Name, "stable", s.Images.Release(t, ctx, "2", ""), d1, fix)
	l := rollouttest.StartLoad(t, s.URL)
	code, _, _ := s.cli(t, ctx, "apply", "-y")
	l.End(t)
	require.Equal(t, 0, code)
	s.on(t, ctx, d2)
	bad := rollouttest.Publish(t, ctx, s.Registry, s.Name, "stable", s.Images.Release(t, ctx, "2", webimage.ServesErrors), d2, fix)
	l = rollouttest.StartLoad(t, s.URL)
	code, _, stderr := s.cli(t, ctx, "apply", "-y")
	l.End(t)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "rolled back")
	s.on(t, ctx, d2)
	assert.NotEqual(t, bad, d2)
}
