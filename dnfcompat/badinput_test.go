package dnfcompat

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

const goodUpdateinfo = rpmtest.OneAdvisory

// fixture builds a root with one package and a repository with one
// advisory for it.
func fixture(t *testing.T) (root, repoDir string) { return rpmtest.Fixture(t) }

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

func baseArgs(t *testing.T, root, repoDir string) []string {
	return []string{"--installroot=" + root, "--setopt=reposdir=/nonexistent", "--releasever=40",
		"--repofrompath=t,file://" + repoDir, "--setopt=cachedir=" + t.TempDir(), "-q"}
}

// assertFails checks the contract for bad input: exit 1, nothing on
// stdout, one line on stderr that mentions want.
func assertFails(t *testing.T, want string, args ...string) {
	t.Helper()
	code, stdout, stderr := runCLI(args...)
	assert.Equal(t, ExitError, code, "stderr: %s", stderr)
	assert.Empty(t, stdout)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
	assert.Contains(t, stderr, want)
}

func TestGoodFixture(t *testing.T) {
	root, repoDir := fixture(t)
	code, stdout, stderr := runCLI(append(baseArgs(t, root, repoDir), "updateinfo", "list")...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "ADV-1 Important/Sec. alpha-2.0-1.x86_64\n", stdout)
}

func TestBadOptions(t *testing.T) {
	assertFails(t, "unrecognized arguments: --bogus", "--bogus", "updateinfo")
	assertFails(t, "invalid choice: 'Important,Low'", "--sec-severity", "Important,Low", "updateinfo")
	assertFails(t, "ambiguous option: --with", "--with", "updateinfo")
	assertFails(t, "not allowed with argument", "updateinfo", "--all", "--installed")
	assertFails(t, "no such command: frobnicate", "frobnicate")
	assertFails(t, "expected one argument", "updateinfo", "--installroot")
	assertFails(t, "invalid choice", "--fail-on=Severe", "updateinfo")
}

func TestGarbageRPMDB(t *testing.T) {
	root, repoDir := fixture(t)
	db := filepath.Join(root, rpmtest.DBPath, "rpmdb.sqlite")
	require.NoError(t, os.WriteFile(db, bytes.Repeat([]byte("not a database "), 100), 0o644))
	assertFails(t, db, append(baseArgs(t, root, repoDir), "updateinfo")...)
}

func TestNoRPMDB(t *testing.T) {
	_, repoDir := fixture(t)
	empty := t.TempDir()
	assertFails(t, "no rpm database found", append(baseArgs(t, empty, repoDir), "updateinfo")...)
}

// replaceUpdateinfo puts data in place of the repository's updateinfo
// file, keeping repomd.xml's checksum (so it no longer matches) unless
// the test rewrites it.
func updateinfoFile(t *testing.T, repoDir string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(repoDir, "repodata", "*updateinfo*"))
	require.NoError(t, err)
	require.Len(t, m, 1)
	return m[0]
}

func TestChecksumMismatch(t *testing.T) {
	root, repoDir := fixture(t)
	f := updateinfoFile(t, repoDir)
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	z.Write([]byte(strings.ReplaceAll(goodUpdateinfo, "Important", "Low      ")))
	z.Close()
	require.NoError(t, os.WriteFile(f, buf.Bytes(), 0o644))
	assertFails(t, "checksum mismatch", append(baseArgs(t, root, repoDir), "updateinfo", "list")...)
}

func TestTruncatedUpdateinfo(t *testing.T) {
	root, repoDir := fixture(t)
	f := updateinfoFile(t, repoDir)
	data, err := os.ReadFile(f)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f, data[:len(data)/2], 0o644))
	assertFails(t, "updateinfo", append(baseArgs(t, root, repoDir), "updateinfo", "list")...)
}

func TestMalformedUpdateinfo(t *testing.T) {
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v", m)
	}
	b := testBuilder(t)
	dir := t.TempDir()
	root, repoDir := filepath.Join(dir, "root"), filepath.Join(dir, "repo")
	require.NoError(t, b.Root(root, []rpmtest.Pkg{{Name: "alpha", Version: "1.0", Release: "1", Arch: "x86_64"}}))
	bad := strings.Replace(goodUpdateinfo, "</update>", "</updat>", 1)
	require.NoError(t, b.Repo(repoDir, nil, []byte(bad), "xz"))
	assertFails(t, "line 4", append(baseArgs(t, root, repoDir), "updateinfo", "list")...)
}

func TestMissingRepository(t *testing.T) {
	root, _ := fixture(t)
	assertFails(t, "cannot download repomd.xml",
		append(baseArgs(t, root, "/nonexistent/repo"), "updateinfo", "list")...)
}

func TestTwoMissingRepositories(t *testing.T) {
	root, _ := fixture(t)
	args := append(baseArgs(t, root, "/nonexistent/one"), "--repofrompath=two,/nonexistent/two", "updateinfo")
	assertFails(t, "repository two", args...)
}

func TestUnknownRepo(t *testing.T) {
	root, repoDir := fixture(t)
	assertFails(t, "unknown repo: 'nope'", append(baseArgs(t, root, repoDir), "--repo=nope", "updateinfo")...)
}

// dnf -C with an empty cache prints nothing and exits 0; we say why.
func TestCacheOnly(t *testing.T) {
	root, repoDir := fixture(t)
	args := baseArgs(t, root, repoDir)
	cached := append(append([]string{}, args...), "-C", "updateinfo", "list")
	assertFails(t, "not in the cache", cached...)
	code, _, stderr := runCLI(append(append([]string{}, args...), "updateinfo", "list")...)
	require.Equal(t, 0, code, stderr)
	code, stdout, stderr := runCLI(cached...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "ADV-1 Important/Sec. alpha-2.0-1.x86_64\n", stdout)
}

func TestFailOn(t *testing.T) {
	root, repoDir := fixture(t)
	code, _, _ := runCLI(append(baseArgs(t, root, repoDir), "--fail-on=Important", "updateinfo")...)
	assert.Equal(t, ExitFound, code)
	code, _, _ = runCLI(append(baseArgs(t, root, repoDir), "--fail-on=Critical", "updateinfo")...)
	assert.Equal(t, ExitOK, code)
}

func TestJSON(t *testing.T) {
	root, repoDir := fixture(t)
	code, stdout, stderr := runCLI(append(baseArgs(t, root, repoDir), "updateinfo", "--json")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, `"schema": "https://alicorn.dev/schema/dnf-security/v1"`)
	assert.Contains(t, stdout, `"installed": "alpha-1.0-1.x86_64"`)
	assert.Contains(t, stdout, `"fixed": "alpha-2.0-1.x86_64"`)
}

func TestHelpAndVersion(t *testing.T) {
	code, stdout, _ := runCLI("--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "usage: dnf-security [options] updateinfo")
	code, stdout, _ = runCLI("updateinfo", "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "--fail-on=SEVERITY")
	code, stdout, _ = runCLI("--version")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "dnf-security")
}
