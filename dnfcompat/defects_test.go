package dnfcompat

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/report"
)

// needRPM skips a test that builds roots with rpm when rpm is missing.
func needRPM(t *testing.T) {
	t.Helper()
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux)", m)
	}
}

// TestImageOSV: --image with --osv checks the image's own gems, wheels and
// jars; their rows follow dnf's and count for --fail-on.
func TestImageOSV(t *testing.T) {
	needRPM(t)
	b := testBuilder(t)
	dir := t.TempDir()
	image := "oci:" + osvImage(t, b, dir)
	feed := writeFeed(t, dir)
	repoDir := filepath.Join(dir, "repo")
	require.NoError(t, b.Repo(repoDir, nil, []byte(imageUpdateinfo), "gz"))
	args := func(more ...string) []string {
		return append([]string{"--image=" + image, "--osv=" + feed, "--setopt=reposdir=/nonexistent",
			"--releasever=40", "--repofrompath=t,file://" + repoDir, "--setopt=cachedir=" + filepath.Join(dir, "cache"),
			"-q"}, more...)
	}
	code, stdout, stderr := runCLI(args("updateinfo", "list")...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, ""+
		"ADV-A               Important/Sec. alpha-2.0-1.x86_64\n"+
		"GHSA-jfh8-c2jp-5v3q Critical/Sec.  image "+image+"\n"+
		"GHSA-rack-0001      Low/Sec.       image "+image+"\n"+
		"PYSEC-2020-43       Important/Sec. image "+image+"\n", stdout)

	code, stdout, stderr = runCLI(args("updateinfo", "summary")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "Image "+image+", packages not installed by RPM: 3 Security notice(s)\n"+
		"        1 Critical Security notice(s)\n")

	code, stdout, stderr = runCLI(args("updateinfo", "list", "--json")...)
	require.Equal(t, 0, code, stderr)
	var doc report.Document
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	require.Len(t, doc.Other, 3, "the image's own packages")
	assert.Equal(t, "GHSA-jfh8-c2jp-5v3q", doc.Other[0].ID)
	assert.Empty(t, doc.Modules)

	code, _, stderr = runCLI(args("updateinfo", "list", "--fail-on=Critical")...)
	assert.Equal(t, ExitFound, code)
	assert.Equal(t, "dnf-security: --fail-on=Critical: 1 Critical security advisory(ies) apply\n", stderr)
}

// TestImageWithoutRPMDB: an image with no rpm database (a jar on a JRE
// image) is scanned for its other packages, with a warning.
func TestImageWithoutRPMDB(t *testing.T) {
	needRPM(t)
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	log4j := zipBytes(t, "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
		"groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "opt/app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "opt/app/log4j-core-2.14.1.jar"), log4j, 0o644))
	image := "oci:" + layoutOf(t, root, filepath.Join(dir, "layout"))
	feed := writeFeed(t, dir)
	code, stdout, stderr := runCLI("--image="+image, "--osv="+feed, "--setopt=reposdir=/nonexistent",
		"--setopt=cachedir="+filepath.Join(dir, "cache"), "-q", "updateinfo", "list", "--fail-on=Critical")
	assert.Equal(t, ExitFound, code, stderr)
	assert.Equal(t, "GHSA-jfh8-c2jp-5v3q Critical/Sec. image "+image+"\n", stdout)
	assert.Contains(t, stderr, "warning: image "+image+": no rpm database found")
}

// TestNamedPathsMustExist: every feed and directory named is read, or the
// run fails.
func TestNamedPathsMustExist(t *testing.T) {
	needRPM(t)
	root, repoDir := fixture(t)
	base := baseArgs(t, root, repoDir)
	assertFails(t, "OSV feed: stat /nonexistent/feed", append(base, "--osv=/nonexistent/feed", "updateinfo")...)
	assertFails(t, "modules directory: stat /nonexistent/mods",
		append(base, "--modules-dir=/nonexistent/mods", "updateinfo")...)
}

// TestNoRepository: installed packages and no enabled repository is an
// error, not an empty report.
func TestNoRepository(t *testing.T) {
	needRPM(t)
	root, _ := fixture(t)
	for _, extra := range [][]string{nil, {"--fail-on=Low"}, {"--disablerepo=*", "list"}} {
		args := append([]string{"--installroot=" + root, "--setopt=reposdir=/nonexistent", "--releasever=40",
			"--setopt=cachedir=" + t.TempDir(), "-q", "updateinfo"}, extra...)
		assertFails(t, "no repository is enabled", args...)
	}
}

// TestNoRPMDBMessage: the error names the directories looked in, not a Go
// slice.
func TestNoRPMDBMessage(t *testing.T) {
	root := t.TempDir()
	code, _, stderr := runCLI("--installroot="+root, "--setopt=reposdir=/nonexistent", "-q", "updateinfo")
	assert.Equal(t, ExitError, code)
	assert.Contains(t, stderr, "no rpm database found (looked in usr/lib/sysimage/rpm, var/lib/rpm, ")
	assert.NotContains(t, stderr, "[")
}

// TestModuleOSVModes: OSV findings mean what RPM findings mean under
// --installed and --updates.
func TestModuleOSVModes(t *testing.T) {
	needRPM(t)
	b := testBuilder(t)
	dir := t.TempDir()
	image := "oci:" + osvImage(t, b, dir)
	feed := writeFeed(t, dir)
	withModule := moduleHost(t, b, dir, nil, false, "name = \"web\"\nimage = \""+image+"\"\n")
	args := func(cmd ...string) []string { return withModule(append([]string{"--osv=" + feed}, cmd...)...) }

	code, stdout, stderr := runCLI(args("updateinfo", "list", "--installed")...)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stdout, "no installed package is past a fix")
	code, stdout, stderr = runCLI(args("updateinfo", "summary", "--installed")...)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stdout)
	code, _, stderr = runCLI(args("updateinfo", "list", "--installed", "--fail-on=Low")...)
	assert.Equal(t, 0, code, stderr)

	// An old advisory whose fix Flask-Cors 3.0.0 is past: installed, and
	// marked so by --all.
	require.NoError(t, os.WriteFile(filepath.Join(feed, "PYSEC-old.json"), []byte(`{"id": "PYSEC-old",
	  "modified": "2019-01-01T00:00:00Z", "database_specific": {"severity": "HIGH"},
	  "affected": [{"package": {"ecosystem": "PyPI", "name": "flask-cors"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]}`), 0o644))
	code, stdout, stderr = runCLI(args("updateinfo", "list", "--installed", "--module-packages")...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "PYSEC-old Important/Sec. module web "+image+"\n"+
		"    pkg:pypi/flask-cors@3.0.0 fix installed (2.0.0) at "+flaskMeta+"\n", stdout)
	code, stdout, stderr = runCLI(args("updateinfo", "list", "--all")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "i PYSEC-old           Important/Sec. module web "+image+"\n")
	assert.Contains(t, stdout, "  PYSEC-2020-43       Important/Sec. module web "+image+"\n")
	code, _, stderr = runCLI(args("updateinfo", "list", "--installed", "--fail-on=Low")...)
	assert.Equal(t, ExitFound, code, stderr)

	// --updates: only advisories with a fixed version (rack's lists
	// versions and names no fix).
	code, stdout, stderr = runCLI(args("updateinfo", "list", "--updates")...)
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stdout, "GHSA-rack-0001")
	assert.Contains(t, stdout, "GHSA-jfh8-c2jp-5v3q")
}

// TestProgressLines: without -q a cold fetch writes dnf's line per
// repository to stderr (stdout stays the report); a warm run writes none.
func TestProgressLines(t *testing.T) {
	needRPM(t)
	root, repoDir := fixture(t)
	args := []string{"--installroot=" + root, "--setopt=reposdir=/nonexistent", "--releasever=40",
		"--repofrompath=t,file://" + repoDir, "--setopt=cachedir=" + t.TempDir(), "updateinfo", "list"}
	code, stdout, stderr := runCLI(args...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "ADV-1 Important/Sec. alpha-2.0-1.x86_64\n", stdout)
	assert.Regexp(t, `^Added t repo from file://.*\nt {40,} +[0-9.]+ [kMG]?B/s \| +[0-9.]+ +[kMG]?B +00:00    \n$`, stderr)
	code, stdout, stderr = runCLI(args...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "ADV-1 Important/Sec. alpha-2.0-1.x86_64\n", stdout)
	assert.Regexp(t, `^Added t repo from file://[^\n]*\n$`, stderr, "nothing downloaded")
}

// TestImageErrorsNameTheImage: a file inside an image is named by the
// image, never by the temporary directory it was extracted to.
func TestImageErrorsNameTheImage(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, files map[string]string) string {
		root := filepath.Join(dir, name)
		for p, body := range files {
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(root, p), []byte(body), 0o644))
		}
		return "oci:" + layoutOf(t, root, filepath.Join(dir, name+"-layout"))
	}
	bare := mk("bare", map[string]string{"etc/hostname": "x\n"})
	damaged := mk("damaged", map[string]string{"usr/lib/sysimage/rpm/rpmdb.sqlite": "SQLite format 3\x00garbage"})
	for _, tc := range []struct{ image, want string }{
		{bare, "image " + bare + ": no rpm database found"},
		{damaged, "image " + damaged + ":/usr/lib/sysimage/rpm/rpmdb.sqlite"},
	} {
		code, stdout, stderr := runCLI("--image="+tc.image, "--setopt=reposdir=/nonexistent",
			"--setopt=cachedir="+filepath.Join(dir, "cache"), "-q", "updateinfo", "list")
		assert.Equal(t, ExitError, code)
		assert.Empty(t, stdout)
		assert.Contains(t, stderr, tc.want)
		assert.NotContains(t, stderr, "alicorn-image-")
	}
}

// TestFeedsAreRead: a feed that cannot be read is an error even when no
// package would be checked against it.
func TestFeedsAreRead(t *testing.T) {
	needRPM(t)
	root, repoDir := fixture(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("not json"), 0o644))
	assertFails(t, "bad.json", append(baseArgs(t, root, repoDir), "--osv="+bad, "updateinfo", "list")...)
}
