package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/dnfcompat"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/internal/webimage"
	"github.com/alicorn-dev/alicorn/module"
)

// TestWebModule builds the module from RPMs, runs it under podman on a
// loopback port, fetches its page, and reports it as needing the demo
// advisory for its httpd.
func TestWebModule(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: podman runs the module's container as root here")
	}
	for _, tool := range []string{"podman", "runc", "rpmbuild", "rpm", "createrepo_c"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (apt-get install podman runc rpm createrepo-c busybox-static)", tool)
		}
	}
	if _, _, err := webimage.Busybox(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	m, err := Build(ctx, dir)
	require.NoError(t, err)

	// Every file of the image but rpm's own database is owned by a package.
	root := filepath.Join(dir, "check")
	require.NoError(t, os.MkdirAll(root, 0o755))
	out, err := exec.Command("tar", "-xf", filepath.Join(dir, "image/layer.tar.gz"), "-C", root).CombinedOutput()
	require.NoError(t, err, string(out))
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel := "/" + strings.TrimPrefix(p, root+"/")
		if strings.HasPrefix(rel, "/usr/lib/sysimage") {
			return nil
		}
		q := exec.Command("rpm", "--root", root, "--dbpath", "/usr/lib/sysimage/rpm", "-qf", rel)
		if out, err := q.CombinedOutput(); err != nil {
			t.Errorf("%s is owned by no package: %s", rel, out)
		}
		return nil
	})
	require.NoError(t, err)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	t.Cleanup(func() { Remove(context.Background(), m, "web-1", "web-2") })
	url, err := Start(ctx, m, port)
	require.NoError(t, err)
	body, err := get(ctx, url)
	require.NoError(t, err)
	assert.Contains(t, body, "It works")
	// The image loaded has its name: loading leaves no untagged image.
	require.Len(t, m.Loaded, 1)
	tags, err := podman(ctx, dir, "image", "inspect", "--format", "{{.RepoTags}}", m.Loaded[0])
	require.NoError(t, err)
	assert.Contains(t, tags, Image)

	// The content may come from a volume instead.
	content := filepath.Join(dir, "www")
	require.NoError(t, os.MkdirAll(content, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(content, "index.html"), []byte("from a volume\n"), 0o644))
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port2 := l2.Addr().(*net.TCPAddr).Port
	l2.Close()
	_, err = StartContainer(ctx, m, "web-2", port2, content, "from a volume")
	require.NoError(t, err)

	// Both containers carry the module's label: podman discovery finds
	// one module, web, with its two containers.
	mods, err := module.FromPodman(ctx)
	require.NoError(t, err)
	var web *module.Module
	for i := range mods {
		if mods[i].Name == "web" {
			web = &mods[i]
		}
	}
	require.NotNil(t, web, "%+v", mods)
	assert.True(t, strings.HasPrefix(web.Image, "containers-storage:"), web.Image)
	var names []string
	for _, c := range web.Containers {
		names = append(names, c.Name)
	}
	assert.ElementsMatch(t, []string{"web-1", "web-2"}, names)

	// A demo advisory for the module's httpd.
	b, err := rpmtest.NewBuilder(filepath.Join(dir, "rpmtest"))
	require.NoError(t, err)
	host, repo := filepath.Join(dir, "host"), filepath.Join(dir, "repo")
	require.NoError(t, b.Root(host, nil))
	const ui = `<?xml version="1.0"?><updates>
<update type="security"><id>FEDORA-2026-web1</id><title>busybox-httpd security update</title><severity>Important</severity>
<references><reference href="https://bodhi.fedoraproject.org/updates/FEDORA-2026-web1" id="FEDORA-2026-web1" type="self"/>
<reference href="https://www.cve.org/CVERecord?id=CVE-2026-0001" id="CVE-2026-0001" type="cve"/></references>
<pkglist><collection><package name="busybox-httpd" version="9.9.9" release="1" arch="x86_64"><filename>b.rpm</filename></package></collection></pkglist>
</update></updates>`
	require.NoError(t, b.Repo(repo, nil, []byte(ui), "gz"))
	var stdout, stderr bytes.Buffer
	code := dnfcompat.Run(ctx, []string{"--installroot=" + host, "--releasever=40", "--setopt=reposdir=/nonexistent",
		"--repofrompath=demo,file://" + repo, "--setopt=cachedir=" + filepath.Join(dir, "cache"), "-q",
		"--modules-dir=" + filepath.Dir(m.ModuleFile), "updateinfo", "list", "--module-packages", "--with-links"},
		dnfcompat.Env{Stdout: &stdout, Stderr: &stderr})
	require.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stdout.String(), "FEDORA-2026-web1 Important/Sec. module web oci-archive:"+m.Archive+
		" https://bodhi.fedoraproject.org/updates/FEDORA-2026-web1\n")
	assert.Contains(t, stdout.String(), "    busybox-httpd-9.9.9-1.x86_64 (installed busybox-httpd-")

	// The same, with the module discovered from podman.
	stdout.Reset()
	code = dnfcompat.Run(ctx, []string{"--installroot=" + host, "--releasever=40", "--setopt=reposdir=/nonexistent",
		"--repofrompath=demo,file://" + repo, "--setopt=cachedir=" + filepath.Join(dir, "cache"), "-q",
		"--podman-modules", "updateinfo", "list"}, dnfcompat.Env{Stdout: &stdout, Stderr: &stderr})
	require.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stdout.String(), "FEDORA-2026-web1 Important/Sec. module web containers-storage:")

	// A stop is prompt and clean: the container ends on SIGTERM (exit
	// 143), well before podman's 10 s timeout would send SIGKILL (137).
	for _, name := range []string{"web-1", "web-2"} {
		start := time.Now()
		_, err := podman(ctx, dir, "stop", "-t", "10", name)
		require.NoError(t, err)
		took := time.Since(start)
		code, err := podman(ctx, dir, "inspect", "--format", "{{.State.ExitCode}}", name)
		require.NoError(t, err)
		assert.Equal(t, "143", code, "%s: exit status after podman stop", name)
		assert.Less(t, took, 5*time.Second, "%s: podman stop -t 10", name)
	}

	// Removing the module leaves none of its images behind.
	loaded := slices.Clone(m.Loaded)
	require.NoError(t, Remove(ctx, m, "web-1", "web-2"))
	for _, id := range loaded {
		_, err := podman(ctx, dir, "image", "exists", id)
		assert.Error(t, err, "image %s is left", id)
	}
	dangling, err := podman(ctx, dir, "images", "--quiet", "--no-trunc", "--filter", "dangling=true")
	require.NoError(t, err)
	for _, id := range loaded {
		assert.NotContains(t, dangling, id)
	}
}
