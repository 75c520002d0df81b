package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alicorn-dev/alicorn/internal/rollouttest"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn"
	"github.com/alicorn-dev/alicorn/dnfcompat"
	"github.com/alicorn-dev/alicorn/internal/podman"
	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/internal/webimage"
	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/repo"
)

// advisory fixes busybox-httpd in release 2 of the same version, and
// advisory2 in release 3.
const (
	advisory = `<?xml version="1.0"?>
<updates><update type="security"><id>ALICORN-2026-1</id><title>httpd: a fix</title><severity>Important</severity>
<pkglist><collection><package name="busybox-httpd" version="%[1]s" release="2" arch="x86_64"><filename>b.rpm</filename></package></collection></pkglist>
</update></updates>
`
	advisory2 = `<?xml version="1.0"?>
<updates><update type="security"><id>ALICORN-2026-1</id><title>httpd: a fix</title><severity>Important</severity>
<pkglist><collection><package name="busybox-httpd" version="%[1]s" release="2" arch="x86_64"><filename>b.rpm</filename></package></collection></pkglist>
</update><update type="security"><id>ALICORN-2026-2</id><title>httpd: another fix</title><severity>Critical</severity>
<pkglist><collection><package name="busybox-httpd" version="%[1]s" release="3" arch="x86_64"><filename>c.rpm</filename></package></collection></pkglist>
</update></updates>
`
)

// demo is the web module's setup: its RPMs in a repository, a registry,
// the module file, and the command line over them.
type demo struct {
	dir, repoDir, addr, conf, version, image string
}

func newDemo(t testing.TB) *demo {
	for _, tool := range []string{"rpmbuild", "createrepo_c", "dnf", "podman"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (apt-get install rpm createrepo-c dnf podman runc busybox-static)", tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for podman")
	}
	if _, _, err := webimage.Busybox(); err != nil {
		t.Skip(err)
	}
	rollouttest.Exclusive(t) // podman's tests, one at a time
	d := &demo{addr: registrytest.Start(t), dir: t.TempDir()}
	ctx := context.Background()
	rpms, err := webimage.RPMs(ctx, filepath.Join(d.dir, "build"))
	require.NoError(t, err)
	_, d.version, err = webimage.Busybox()
	require.NoError(t, err)
	d.repoDir = filepath.Join(d.dir, "repo")
	require.NoError(t, os.MkdirAll(d.repoDir, 0o755))
	d.addRPMs(t, rpms...)
	d.conf = filepath.Join(d.dir, "containers.conf")
	require.NoError(t, os.WriteFile(d.conf, []byte(podman.ContainersConf), 0o644))
	www := filepath.Join(d.dir, "mods", "www")
	require.NoError(t, os.MkdirAll(www, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(www, "index.html"), webimage.Page(), 0o644))
	d.image = d.module(t, "web")
	return d
}

// module writes the module file of a web module named name, published
// to the demo's registry under alicorn/NAME:1, and returns its image.
func (d *demo) module(t testing.TB, name string) string {
	cfg := webimage.Config()
	ep := `"` + strings.Join(cfg.Entrypoint, `", "`) + `"`
	image := "docker://" + d.addr + "/alicorn/" + name + ":1"
	require.NoError(t, os.WriteFile(filepath.Join(d.dir, "mods", name+".toml"), []byte(fmt.Sprintf(`name = %q
image = %q

[health]
path = "/"
expect = %q
timeout = "20s"

[build]
packages = ["web-filesystem", "busybox-httpd", "web-content"]
repos = ["file://%s"]
publish = "docker://%s/alicorn/%s"
tag = "1"
entrypoint = [%s]
ports = ["80/tcp"]
stop-signal = "SIGTERM"

[test]
content = "www"
mount = %q
`, name, image, webimage.Expect, d.repoDir, d.addr, name, ep, webimage.DocRoot)), 0o644))
	return image
}

// addRPMs puts package files into the repository and refreshes its
// metadata.
func (d *demo) addRPMs(t testing.TB, files ...string) {
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(d.repoDir, filepath.Base(f)), b, 0o644))
	}
	out, err := exec.Command("createrepo_c", "--update", d.repoDir).CombinedOutput()
	require.NoError(t, err, string(out))
}

// cli runs module-build over the demo and returns its exit status and
// standard output.
func (d *demo) cli(t testing.TB, args ...string) (int, string) {
	var out, errs bytes.Buffer
	code := run(context.Background(), append([]string{"--modules-dir", filepath.Join(d.dir, "mods"), "--work", filepath.Join(d.dir, "work"),
		"--cache-dir", filepath.Join(d.dir, "cache"), "--insecure-registry", "--containers-conf", d.conf}, args...), &out, &errs)
	if tt, ok := t.(*testing.T); ok {
		tt.Logf("module-build %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errs.String())
	}
	return code, out.String()
}

// TestDemo is the demo, end to end with real rpmbuild,
// createrepo_c, dnf, podman and docker-registry: the web module built from
// a repository, tested (the content comes out), published; nothing to do
// the second time; a security fix and its advisory reach the repository;
// the next build rebuilds, tests and moves the tag; the new image needs
// nothing.
func TestDemo(t *testing.T) {
	d := newDemo(t)
	ctx := context.Background()
	dir, repoDir, version, image := d.dir, d.repoDir, d.version, d.image
	addRPMs := func(files ...string) { d.addRPMs(t, files...) }
	cli := func(args ...string) (int, string) { return d.cli(t, args...) }
	steps := func(out string) (s []string) {
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.HasPrefix(l, " ") {
				continue // a test's report
			}
			f := strings.Fields(l)
			if len(f) >= 4 {
				s = append(s, f[2]+":"+f[3])
			}
		}
		return s
	}

	code, out := cli("check")
	assert.Equal(t, 100, code)
	assert.Contains(t, out, "web check rebuild (first)")
	code, out = cli("build")
	require.Equal(t, 0, code, out)
	assert.Equal(t, []string{"check:rebuild", "build:built", "test:passed", "publish:published"}, steps(out))
	code, out = cli("build")
	require.Equal(t, 0, code)
	assert.Equal(t, []string{"check:current"}, steps(out), "nothing to do: no build, no push")

	// The fix and its advisory reach the repository; the reporter sees
	// the published image needs it.
	fixed, err := webimage.HTTPD(ctx, filepath.Join(dir, "build"), "2", false)
	require.NoError(t, err)
	addRPMs(fixed)
	b := rpmtest.Cached(t)
	require.NoError(t, b.AddMetadata(repoDir, "updateinfo", "updateinfo.xml", []byte(fmt.Sprintf(advisory, version)), "gz"))
	report := func() []string {
		rc, err := repo.FromPath("recipe," + "file://" + repoDir)
		require.NoError(t, err)
		sys, err := alicorn.Open(ctx, alicorn.Options{Image: image, Arch: "x86_64", CacheDir: filepath.Join(dir, "report-cache"),
			Repos: alicorn.Repos{Dirs: []string{}, FromPath: []repo.Config{rc}}})
		require.NoError(t, err)
		defer sys.Close()
		rep, err := sys.Report(ctx, alicorn.Query{Filter: match.Filter{Types: []string{"security"}}})
		require.NoError(t, err)
		var ids []string
		for _, f := range rep.Host.Findings {
			ids = append(ids, f.Advisory.ID)
		}
		return ids
	}
	assert.Equal(t, []string{"ALICORN-2026-1"}, report())
	// dnf-security on a host running the module lists the module.
	host, _ := rpmtest.Fixture(t)
	dnfSecurity := func() string {
		var stdout, stderr bytes.Buffer
		code := dnfcompat.Run(ctx, []string{"-q", "--installroot=" + host, "--releasever=40", "--setopt=reposdir=/nonexistent",
			"--setopt=cachedir=" + filepath.Join(dir, "dnf-security-cache"), "--repofrompath=demo,file://" + repoDir,
			"--modules-dir=" + filepath.Join(dir, "mods"), "updateinfo", "list"}, dnfcompat.Env{Stdout: &stdout, Stderr: &stderr})
		require.Equal(t, 0, code, stderr.String())
		return stdout.String()
	}
	assert.Equal(t, "ALICORN-2026-1 Important/Sec. module web "+image+"\n", dnfSecurity())
	code, out = cli("check")
	assert.Equal(t, 100, code)
	assert.Contains(t, out, "web check rebuild (advisories) ALICORN-2026-1 Important: busybox-httpd-"+version+"-1.x86_64 → busybox-httpd-"+version+"-2.x86_64;")

	// The service, as systemd runs it (watch), now with a signing key:
	// it notices the fix in its first round, rebuilds, tests, signs and
	// moves the tag; it is stopped once it has published.
	keyFile := filepath.Join(dir, "mods", "web.key")
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	modFile := filepath.Join(dir, "mods", "web.toml")
	mb, err := os.ReadFile(modFile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(modFile, []byte(strings.Replace(string(mb), "[build]\n", "[build]\nsign-key = \"web.key\"\n", 1)), 0o644))
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	watchOut := &cancelOn{word: " publish published ", cancel: stop}
	var watchErr bytes.Buffer
	code = run(wctx, []string{"--modules-dir", filepath.Join(dir, "mods"), "--work", filepath.Join(dir, "work"),
		"--cache-dir", filepath.Join(dir, "cache"), "--insecure-registry", "--containers-conf", d.conf, "watch", "--interval=1s"},
		watchOut, &watchErr)
	t.Logf("module-build watch: exit %d\n%s%s", code, watchOut.buf.String(), watchErr.String())
	require.Equal(t, 0, code, "watch ends cleanly when stopped")
	assert.Equal(t, []string{"check:rebuild", "build:built", "test:passed", "publish:published"}, steps(watchOut.buf.String()))
	repoRef, err := name.NewRepository(d.addr + "/alicorn/web")
	require.NoError(t, err)
	tags, err := remote.List(repoRef)
	require.NoError(t, err)
	_, digest, _ := strings.Cut(lastField(watchOut.buf.String()), "@sha256:")
	assert.Contains(t, tags, "sha256-"+digest+".sig", "the published image is signed")
	assert.Empty(t, report(), "the new image needs nothing")
	assert.Empty(t, dnfSecurity(), "dnf-security lists nothing for the module")
	code, out = cli("check")
	assert.Equal(t, 0, code)
	published := strings.Fields(out)[len(strings.Fields(out))-1]

	// A "fix" whose server no longer serves the pages: the test fails,
	// nothing is published, the tag stays, nothing of the test is left.
	broken, err := webimage.HTTPD(ctx, filepath.Join(dir, "build"), "3", true)
	require.NoError(t, err)
	addRPMs(broken)
	require.NoError(t, b.AddMetadata(repoDir, "updateinfo", "updateinfo.xml", []byte(fmt.Sprintf(advisory2, version)), "gz"))
	code, out = cli("build")
	assert.Equal(t, 1, code)
	assert.Equal(t, []string{"check:rebuild", "build:built", "test:failed"}, steps(out))
	assert.Contains(t, out, "health: ")
	code, out = cli("check")
	assert.Equal(t, 100, code)
	assert.Contains(t, out, published, "the tag still names the tested image")
	ps, err := exec.Command("podman", "ps", "--all", "--filter", "label=io.alicorn.gate", "--format", "{{.Names}}").Output()
	require.NoError(t, err)
	assert.Empty(t, strings.TrimSpace(string(ps)), "no test container left")
}
