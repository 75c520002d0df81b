package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/registrytest"
)

// cancelOn is stdout for run: it cancels the run once a line holds word.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	word   string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.Contains(p, []byte(c.word)) {
		c.cancel()
	}
	return c.buf.Write(p)
}

// TestFaults: bad recipes, repositories and registries that are down,
// and a stop in the middle of a build each give a clear error; the tag
// never moves to an untested image, and the next run recovers without
// cleaning anything by hand.
func TestFaults(t *testing.T) {
	d := newDemo(t)
	code, out := d.cli(t, "build")
	require.Equal(t, 0, code, out)
	_, published, _ := strings.Cut(lastField(out), "@") // the digest
	file := filepath.Join(d.dir, "mods", "web.toml")
	good, err := os.ReadFile(file)
	require.NoError(t, err)
	edit := func(old, new string) {
		require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(good), old, new, 1)), 0o644))
	}
	tagStays := func() {
		t.Helper()
		require.NoError(t, os.WriteFile(file, good, 0o644))
		code, out := d.cli(t, "check")
		assert.Equal(t, 0, code, out)
		assert.Equal(t, published, lastField(out), "the tag still names the tested image")
	}

	t.Run("a package no repository has", func(t *testing.T) {
		edit(`"web-content"]`, `"web-content", "nosuch"]`)
		code, out := d.cli(t, "build")
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "web build failed")
		assert.Contains(t, out, "nosuch")
		tagStays()
	})
	t.Run("a repository that is down", func(t *testing.T) {
		down := "http://" + registrytest.FreeAddr(t) + "/repo"
		edit("file://"+d.repoDir, down)
		code, out := d.cli(t, "build")
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "web check failed")
		assert.Contains(t, out, strings.TrimPrefix(down, "http://"))
		tagStays()
	})
	t.Run("a registry that is down", func(t *testing.T) {
		down := registrytest.FreeAddr(t)
		require.NoError(t, os.WriteFile(file, []byte(strings.ReplaceAll(string(good), d.addr, down)), 0o644))
		code, out := d.cli(t, "build")
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "web check failed")
		assert.Contains(t, out, down)
		tagStays()
	})
	t.Run("a registry that refuses the moving tag", func(t *testing.T) {
		target, err := url.Parse("http://" + d.addr)
		require.NoError(t, err)
		rp := httputil.NewSingleHostReverseProxy(target)
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/manifests/1") {
				http.Error(w, `{"errors":[{"code":"DENIED","message":"no"}]}`, http.StatusForbidden)
				return
			}
			rp.ServeHTTP(w, r)
		}))
		defer proxy.Close()
		via := strings.TrimPrefix(proxy.URL, "http://")
		require.NoError(t, os.WriteFile(file, []byte(strings.ReplaceAll(string(good), d.addr, via)), 0o644))
		code, out := d.cli(t, "build", "--force")
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "web test passed")
		assert.Contains(t, out, "web publish failed")
		assert.Contains(t, out, via)
		tagStays()
	})
	// changed is the module file with a recipe that gives another image
	// (a label), so that a build is tested and published.
	changed := strings.Replace(string(good), "[build]\n", "[build]\nlabels = {\"io.example.change\" = \"1\"}\n", 1)
	t.Run("test content that is missing", func(t *testing.T) {
		require.NoError(t, os.WriteFile(file, []byte(strings.Replace(changed, `content = "www"`, `content = "nowww"`, 1)), 0o644))
		code, out := d.cli(t, "build")
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "web check failed: module web ("+file+"): test content "+filepath.Join(d.dir, "mods", "nowww")+": not a directory")
		assert.NotContains(t, out, "build built", "refused before building")
		tagStays()
	})
	t.Run("a test that hangs", func(t *testing.T) {
		require.NoError(t, os.WriteFile(file, []byte(strings.NewReplacer(`timeout = "20s"`, `timeout = "2s"`,
			`expect = "It works"`, `expect = "never served"`).Replace(changed)), 0o644))
		code, out := d.cli(t, "build", "--force")
		assert.Equal(t, 1, code)
		assert.Contains(t, out, "web test failed")
		assert.Contains(t, out, "within 2s")
		tagStays()
	})
	t.Run("stopped during the test", func(t *testing.T) {
		require.NoError(t, os.WriteFile(file, []byte(changed), 0o644))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stdout := &cancelOn{word: " build built ", cancel: cancel}
		var stderr bytes.Buffer
		code := run(ctx, []string{"--modules-dir", filepath.Join(d.dir, "mods"), "--work", filepath.Join(d.dir, "work"),
			"--cache-dir", filepath.Join(d.dir, "cache"), "--insecure-registry", "--containers-conf", d.conf, "build", "--force"},
			stdout, &stderr)
		t.Logf("exit %d\n%s%s", code, stdout.buf.String(), stderr.String())
		assert.Equal(t, 1, code)
		assert.NotContains(t, stdout.buf.String(), "publish published")
		ps, err := exec.Command("podman", "ps", "--all", "--filter", "label=io.alicorn.gate", "--format", "{{.Names}}").Output()
		require.NoError(t, err)
		assert.Empty(t, strings.TrimSpace(string(ps)), "no test container left")
		left, err := filepath.Glob(filepath.Join(d.dir, "work", "web-build-*"))
		require.NoError(t, err)
		assert.Empty(t, left, "no build directory left")
		tagStays()
		// A forced build of the same inputs is the published image again:
		// nothing to test or publish.
		code, out := d.cli(t, "build", "--force")
		assert.Equal(t, 0, code, out)
		assert.Contains(t, out, "web publish unchanged")
	})
}

// lastField returns the last word of the last line.
func lastField(out string) string {
	f := strings.Fields(out)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// TestModulesDir: a modules directory that is missing, or holds no
// module with a recipe, is an error (a wrong path in a unit must not do
// nothing forever, silently).
func TestModulesDir(t *testing.T) {
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"--modules-dir", filepath.Join(t.TempDir(), "missing"), "check"}, &out, &errs)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs.String(), "missing: not a directory")
	errs.Reset()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plain.toml"), []byte("name = \"plain\"\nimage = \"oci:/x\"\n"), 0o644))
	code = run(context.Background(), []string{"--modules-dir", dir, "check"}, &out, &errs)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs.String(), "no module with a [build] recipe in "+dir)
	errs.Reset()
	assert.Equal(t, 2, run(context.Background(), nil, &out, &errs))
	assert.Contains(t, errs.String(), "usage: module-build [options] check [MODULE...]")
}
