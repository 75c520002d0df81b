package rpmtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Cached returns a builder whose RPM cache survives test runs: in
// $ALICORN_TEST_CACHE, else the user cache directory's alicorn-test.
func Cached(t testing.TB) *Builder {
	t.Helper()
	dir := os.Getenv("ALICORN_TEST_CACHE")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(base, "alicorn-test")
	}
	b, err := NewBuilder(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// OneAdvisory is an updateinfo.xml with one Important security advisory,
// ADV-1, fixed in alpha-2.0-1.x86_64.
const OneAdvisory = `<?xml version="1.0"?>
<updates><update type="security"><id>ADV-1</id><title>t</title><severity>Important</severity>
<pkglist><collection><package name="alpha" version="2.0" release="1" arch="x86_64"><filename>a.rpm</filename></package></collection></pkglist>
</update></updates>
`

// Fixture builds, in a test's temporary directory, a root with
// alpha-1.0-1.x86_64 installed and a repository holding OneAdvisory
// (gzip). It skips the test when rpm or createrepo_c is missing.
func Fixture(t *testing.T) (root, repoDir string) {
	t.Helper()
	if m := Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux)", m)
	}
	b := Cached(t)
	dir := t.TempDir()
	root, repoDir = filepath.Join(dir, "root"), filepath.Join(dir, "repo")
	if err := b.Root(root, []Pkg{{Name: "alpha", Version: "1.0", Release: "1", Arch: "x86_64"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Repo(repoDir, nil, []byte(OneAdvisory), "gz"); err != nil {
		t.Fatal(err)
	}
	return root, repoDir
}
