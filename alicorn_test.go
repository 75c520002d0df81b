package alicorn

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/repo"
)

// testBuilder returns a builder whose RPM cache survives test runs.
func testBuilder(t testing.TB) *rpmtest.Builder { return rpmtest.Cached(t) }

// fixture builds a root with one package and a repository with one
// advisory for it.
func fixture(t *testing.T) (root, repoDir string) { return rpmtest.Fixture(t) }

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

// TestQueryValidate: a misspelt type or severity is an error, not a report
// of nothing.
func TestQueryValidate(t *testing.T) {
	root, repoDir := fixture(t)
	ctx := context.Background()
	sys, err := Open(ctx, fixtureOptions(t, root, repoDir, t.TempDir()))
	require.NoError(t, err)
	defer sys.Close()
	for _, f := range []match.Filter{{Types: []string{"Security"}}, {Severities: []string{"important"}}} {
		_, err := sys.Report(ctx, Query{Filter: f})
		assert.ErrorContains(t, err, "query: unknown")
	}
	rep, err := sys.Report(ctx, Query{Filter: match.Filter{Types: []string{"security"}, Severities: []string{"Important"}}})
	require.NoError(t, err)
	assert.Len(t, rep.Security(Important), 1)
	assert.Empty(t, rep.Security(Critical))
	_, err = ParseSeverity("High")
	assert.Error(t, err)
}
