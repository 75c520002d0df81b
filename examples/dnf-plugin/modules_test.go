package dnfplugin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/rollouttest"
	"github.com/alicorn-dev/alicorn/update"
)

// TestModulesForReal runs real dnf with the plugin and the real
// module-update: `dnf alicorn upgrade --security -y` upgrades the
// install root's RPMs of security advisories, then rolls the web module
// under podman to its fixed image, under load with no failed request;
// an advisory filter the module's fixes do not match leaves it alone.
func TestModulesForReal(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t)
	s := rollouttest.NewSite(t, ctx, "rolling", "builtin")
	bin := filepath.Join(t.TempDir(), "module-update")
	build := exec.Command("go", "build", "-o", bin, "../module-update")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	// The site's options (a loopback registry, this machine's
	// containers.conf) ride in a wrapper; the plugin adds the rest.
	wrapper := filepath.Join(t.TempDir(), "module-update")
	require.NoError(t, os.WriteFile(wrapper, []byte(fmt.Sprintf("#!/bin/sh\nexec %s --tls-verify=false --containers-conf %s \"$@\"\n",
		bin, s.Podman.ContainersConf)), 0o755))
	fx.config(t, "module_update = "+wrapper, "modules_dir = "+s.Mods, "state_dir = "+s.State)

	d1 := rollouttest.Publish(t, ctx, s.Registry, s.Name, "stable", s.Images.Release(t, ctx, "1", ""), "")
	r := run(t, fx.env, bin, append(s.Flags(), "apply", "-y")...)
	require.Equal(t, 0, r.code, r.stderr)
	s.On(t, ctx, d1)
	fix := update.Fix{Advisory: "ALICORN-2026-1", Type: "security", Severity: "Important", CVEs: []string{"CVE-2026-1001"}}
	d2 := rollouttest.Publish(t, ctx, s.Registry, s.Name, "stable", s.Images.Release(t, ctx, "2", ""), d1, fix)

	// A filter the module's fixes do not match: beta only, on the host.
	root := fx.root(t)
	r = fx.dnf(t, root, "upgrade", "--advisory=ALICORN-2026-2", "-y")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Equal(t, upgraded("beta"), fx.versions(t, root))
	assert.Contains(t, r.stdout, "Nothing to do.")
	s.On(t, ctx, d1)

	l := rollouttest.StartLoad(t, s.URL)
	r = fx.dnf(t, root, "upgrade", "--security", "-y")
	l.End(t)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	t.Log(r.stdout, r.stderr)
	assert.Equal(t, upgraded("alpha", "beta"), fx.versions(t, root))
	assert.Contains(t, r.stdout, s.Name+": updated to "+d2)
	s.On(t, ctx, d2)
	assert.True(t, strings.Contains(r.stdout, "Complete!"))
}
