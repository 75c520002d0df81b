package alicorn

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/repo"
)

const goodUpdateinfo = `<?xml version="1.0"?>
<updates><update type="security"><id>ADV-1</id><title>t</title><severity>Important</severity>
<pkglist><collection><package name="alpha" version="2.0" release="1" arch="x86_64"><filename>a.rpm</filename></package></collection></pkglist>
</update></updates>
`

// testBuilder returns a builder whose RPM cache survives test runs.
func testBuilder(t testing.TB) *rpmtest.Builder { return rpmtest.Cached(t) }

// fixture builds a root with one package and a repository with one
// advisory for it.
func fixture(t *testing.T) (root, repoDir string) {
	t.Helper()
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux)", m)
	}
	b := testBuilder(t)
	dir := t.TempDir()
	root, repoDir = filepath.Join(dir, "root"), filepath.Join(dir, "repo")
	require.NoError(t, b.Root(root, []rpmtest.Pkg{{Name: "alpha", Version: "1.0", Release: "1", Arch: "x86_64"}}))
	require.NoError(t, b.Repo(repoDir, nil, []byte(goodUpdateinfo), "gz"))
	return root, repoDir
}

// fixtureOptions read root with the repository at repoDir only.
func fixtureOptions(t *testing.T, root, repoDir, cache string) Options {
	rc, err := repo.FromPath("t," + repoDir)
	require.NoError(t, err)
	return Options{Root: root, Releasever: "40", CacheDir: cache, Arch: "x86_64",
		Repos: Repos{Dirs: []string{}, FromPath: []repo.Config{rc}}}
}

// findings reports on opts and returns "ADVISORY NEVRA" per host finding.
func findings(t *testing.T, opts Options) []string {
	t.Helper()
	ctx := context.Background()
	sys, err := Open(ctx, opts)
	require.NoError(t, err)
	defer sys.Close()
	rep, err := sys.Report(ctx, Query{})
	require.NoError(t, err)
	var out []string
	for _, f := range rep.Host.Findings {
		out = append(out, f.Advisory.ID+" "+rpm.NEVRA(&rep.Host.Installed[f.Installed]))
	}
	return out
}
