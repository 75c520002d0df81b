package dnfcompat

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/hostile"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

const imageUpdateinfo = `<?xml version="1.0"?>
<updates>
<update type="security"><id>ADV-A</id><title>a</title><severity>Important</severity>
<references><reference href="https://www.cve.org/CVERecord?id=CVE-2024-1" id="CVE-2024-1" type="cve"/></references>
<pkglist><collection><package name="alpha" version="2.0" release="1" arch="x86_64"><filename>a.rpm</filename></package></collection></pkglist></update>
<update type="security"><id>ADV-B</id><title>b</title><severity>Low</severity>
<pkglist><collection><package name="beta" version="2.0" release="1" arch="noarch"><filename>b.rpm</filename></package></collection></pkglist></update>
<update type="bugfix"><id>ADV-G</id><title>g</title>
<pkglist><collection><package name="gamma" version="2.0" release="1" arch="x86_64"><filename>g.rpm</filename></package></collection></pkglist></update>
</updates>
`

// tarLayer packs the files under dir whose paths keep accepts.
func tarLayer(t *testing.T, dir string, keep func(string) bool) []byte {
	t.Helper()
	all, err := hostile.FromDir(dir)
	require.NoError(t, err)
	var entries []hostile.Entry
	for _, e := range all {
		if keep(strings.TrimSuffix(e.Name, "/")) {
			entries = append(entries, e)
		}
	}
	var buf bytes.Buffer
	require.NoError(t, hostile.WriteTar(&buf, entries...))
	return buf.Bytes()
}

// testImage builds, under dir, a two-layer OCI layout the way an image
// build does: packages installed by rpm into a root, then, in a second
// layer, alpha upgraded and beta erased. It returns the layout and the
// final root.
func testImage(t *testing.T, b *rpmtest.Builder, dir string) (lay, root string) {
	t.Helper()
	root = filepath.Join(dir, "root")
	require.NoError(t, b.Root(root, []rpmtest.Pkg{
		{Name: "alpha", Version: "1.0", Release: "1", Arch: "x86_64"},
		{Name: "beta", Version: "1.0", Release: "1", Arch: "noarch"},
		{Name: "gamma", Version: "1.0", Release: "1", Arch: "x86_64"},
	}))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "usr/lib"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "usr/lib/os-release"),
		[]byte("NAME=Fedora\nID=fedora\nVERSION_ID=40\nPLATFORM_ID=\"platform:f40\"\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	require.NoError(t, os.Symlink("../usr/lib/os-release", filepath.Join(root, "etc/os-release")))
	lower := tarLayer(t, root, func(string) bool { return true })

	// The second layer: alpha upgraded, beta erased, by rpm.
	alpha11, err := b.Build(rpmtest.Pkg{Name: "alpha", Version: "1.1", Release: "1", Arch: "x86_64"})
	require.NoError(t, err)
	require.NoError(t, b.RPM(root, "-U", "--justdb", "--nodeps", "--nosignature", "--ignorearch", "--ignoreos", alpha11))
	require.NoError(t, b.RPM(root, "-e", "--justdb", "--nodeps", "beta"))
	upper := tarLayer(t, root, func(p string) bool { return strings.HasPrefix(p, "usr/lib/sysimage") })

	img := empty.Image
	for _, data := range [][]byte{lower, upper} {
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		require.NoError(t, err)
		img, err = mutate.AppendLayers(img, l)
		require.NoError(t, err)
	}
	lay = filepath.Join(dir, "layout")
	p, err := layout.Write(lay, empty.Index)
	require.NoError(t, err)
	require.NoError(t, p.AppendImage(img))

	return lay, root
}

// TestImageEqualsInstallroot: dnf-security --image must print what dnf
// prints for --installroot=<the image's final root>.
func TestImageEqualsInstallroot(t *testing.T) {
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux)", m)
	}
	b := testBuilder(t)
	dir := t.TempDir()
	lay, root := testImage(t, b, dir)
	repoDir := filepath.Join(dir, "repo")
	require.NoError(t, b.Repo(repoDir, nil, []byte(imageUpdateinfo), "gz"))
	common := []string{"--setopt=reposdir=/nonexistent", "--releasever=40", "--repofrompath=t,file://" + repoDir,
		"--disableplugin=*", "-q"}
	for _, cmd := range [][]string{
		{"updateinfo", "list"}, {"updateinfo", "list", "--all"}, {"updateinfo", "summary"},
		{"updateinfo", "info", "--security"}, {"updateinfo", "list", "--with-cve"},
	} {
		dnf := runDNF(t, b, "UTC", append(append(append([]string{}, common...), "--installroot="+root,
			"--setopt=cachedir="+filepath.Join(dir, "dnfcache")), cmd...))
		code, stdout, stderr := runCLI(append(append(append([]string{}, common...), "--image=oci:"+lay,
			"--setopt=cachedir="+filepath.Join(dir, "ourcache")), cmd...)...)
		require.Equal(t, 0, code, stderr)
		assert.Equal(t, dnf.stdout, stdout, "%v", cmd)
	}
	// What the image holds, to be sure the layers mattered.
	_, stdout, _ := runCLI(append(append(append([]string{}, common...), "--image=oci:"+lay,
		"--setopt=cachedir="+filepath.Join(dir, "ourcache")), "updateinfo", "list", "--all")...)
	assert.Contains(t, stdout, "alpha-2.0-1.x86_64")
	assert.NotContains(t, stdout, "beta", "erased in the upper layer")
	t.Logf("list --all on the image:\n%s", stdout)
}

func TestImageErrors(t *testing.T) {
	assertFails(t, "--image and --installroot cannot be combined", "--image=oci:/x", "--installroot=/", "updateinfo")
	assertFails(t, "no transport", "--image=nothing", "--setopt=reposdir=/nonexistent", "updateinfo")
	assertFails(t, "/nonexistent", "--image=oci:/nonexistent", "--setopt=reposdir=/nonexistent", "updateinfo")
}

// moduleHost makes, under dir, a host root with hostPkgs, a repository with
// imageUpdateinfo and a module file web.toml holding toml: in the host's
// etc/alicorn/modules.d when inHost, else in dir/mods, named by
// --modules-dir. It returns the reporter's arguments for them, followed
// by args.
func moduleHost(t *testing.T, b *rpmtest.Builder, dir string, hostPkgs []rpmtest.Pkg, inHost bool,
	toml string) func(args ...string) []string {
	t.Helper()
	host := filepath.Join(dir, "host")
	require.NoError(t, b.Root(host, hostPkgs))
	repoDir := filepath.Join(dir, "repo")
	require.NoError(t, b.Repo(repoDir, nil, []byte(imageUpdateinfo), "gz"))
	common := []string{"--installroot=" + host, "--setopt=reposdir=/nonexistent", "--releasever=40",
		"--repofrompath=t,file://" + repoDir, "--setopt=cachedir=" + filepath.Join(dir, "cache"), "-q"}
	mods := filepath.Join(host, "etc/alicorn/modules.d")
	if !inHost {
		mods = filepath.Join(dir, "mods")
		common = append(common, "--modules-dir="+mods)
	}
	require.NoError(t, os.MkdirAll(mods, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(mods, "web.toml"), []byte(toml), 0o644))
	return func(args ...string) []string { return append(append([]string{}, common...), args...) }
}

// TestModules reports a host and a module whose image needs updates: the
// host's rows stay dnf's, the module's follow.
func TestModules(t *testing.T) {
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux)", m)
	}
	b := testBuilder(t)
	dir := t.TempDir()
	lay, _ := testImage(t, b, dir)
	image := "oci:" + lay
	// The module file in the host's own modules.d: no --modules-dir.
	args := moduleHost(t, b, dir, []rpmtest.Pkg{{Name: "gamma", Version: "1.0", Release: "1", Arch: "x86_64"}}, true,
		"name = \"web\"\nimage = \""+image+"\"\n\n[[containers]]\nname = \"web-1\"\nports = [\"127.0.0.1:8080:80\"]\n")
	mods := filepath.Join(dir, "host/etc/alicorn/modules.d")
	code, stdout, stderr := runCLI(args("updateinfo", "list", "--all")...)
	require.Equal(t, 0, code, stderr)
	// Host and module rows line up, the installed mark's column included.
	assert.Equal(t, "  ADV-G bugfix         gamma-2.0-1.x86_64\n"+
		"  ADV-A Important/Sec. module web "+image+"\n"+
		"  ADV-G bugfix         module web "+image+"\n", stdout)

	code, stdout, stderr = runCLI(args("updateinfo", "list", "--module-packages", "--security")...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "ADV-A Important/Sec. module web "+image+"\n"+
		"    alpha-2.0-1.x86_64 (installed alpha-1.1-1.x86_64)\n", stdout)

	code, stdout, stderr = runCLI(args("updateinfo", "summary")...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "Updates Information Summary: available\n    1 Bugfix notice(s)\n"+
		"Modules needing updates: 1\n    web ("+image+"): 1 Security notice(s), 1 Bugfix notice(s)\n"+
		"        1 Important Security notice(s)\n", stdout)

	code, stdout, stderr = runCLI(args("updateinfo", "list", "--json")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, `"modules": [`)
	assert.Contains(t, stdout, `"installed": "alpha-1.1-1.x86_64"`)

	code, _, _ = runCLI(args("updateinfo", "--fail-on=Important")...)
	assert.Equal(t, ExitFound, code, "a module's security advisory fails the gate too")

	// A module whose image cannot be read is an error naming it.
	require.NoError(t, os.WriteFile(filepath.Join(mods, "db.toml"), []byte("name = \"db\"\nimage = \"oci:/nonexistent\"\n"), 0o644))
	assertFails(t, "module db", args("updateinfo", "list")...)
}

func TestModuleInfo(t *testing.T) {
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux)", m)
	}
	b := testBuilder(t)
	dir := t.TempDir()
	lay, _ := testImage(t, b, dir)
	args := moduleHost(t, b, dir, nil, false, "name = \"web\"\nimage = \"oci:"+lay+"\"\n")
	code, stdout, stderr := runCLI(args("--with-links", "updateinfo", "info", "--security")...)
	require.Equal(t, 0, code, stderr)
	sep := strings.Repeat("=", 79)
	// dnf's info of no host findings is one empty line; the module's
	// block follows it, one blank line as between any two blocks.
	assert.Equal(t, "\n"+sep+"\n  a\n"+sep+"\n"+
		"  Update ID: ADV-A\n"+
		"       Type: security\n"+
		"    Updated: 1970-01-01 00:00:00\n"+
		"       CVEs: CVE-2024-1\n"+
		"           : https://www.cve.org/CVERecord?id=CVE-2024-1\n"+
		"   Severity: Important\n"+
		"     Module: web oci:"+lay+"\n"+
		"   Packages: alpha-2.0-1.x86_64 (installed alpha-1.1-1.x86_64)\n", stdout)
}
