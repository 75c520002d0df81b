package faults

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/hostile"
)

// TestStallingMirror: the repository's only mirror misbehaves. The run
// gives up after dnf's timeout (1 s here) or at the announced size, exits
// 1 with one error naming the URL, prints nothing, and leaves nothing in
// the cache (no temporary file, no part of the file it was downloading)
// or the temporary directory. A run from a good mirror then uses the
// cache the failure left.
func TestStallingMirror(t *testing.T) {
	f := newFixture(t, 50)
	for _, tc := range []struct {
		stall hostile.Stall
		file  string // the file it misbehaves on
	}{
		{hostile.NoAnswer, "repomd.xml"},
		{hostile.BeforeHeaders, "repomd.xml"},
		{hostile.MidBody, "repomd.xml"},
		{hostile.BeforeHeaders, "updateinfo"},
		{hostile.MidBody, "updateinfo"},
		{hostile.Endless, "repomd.xml"},
		{hostile.Endless, "updateinfo"},
		{hostile.EndlessAnnounced, "updateinfo"},
	} {
		t.Run(tc.stall.String()+" on "+tc.file, func(t *testing.T) {
			srv, err := hostile.NewServer(tc.stall, http.FileServer(http.Dir(f.repoDir)), tc.file)
			require.NoError(t, err)
			defer srv.Close()
			cache, tmp := t.TempDir(), t.TempDir()
			r := run(t, tmp, f.args(srv.URL, cache, "--setopt=timeout=1", "updateinfo", "list")...)
			t.Logf("exit %d in %v: %s", r.code, r.wall.Round(1e6), r.stderr)
			assert.Equal(t, 1, r.code)
			assert.Empty(t, r.stdout)
			assert.Contains(t, r.stderr, srv.URL+"/repodata/")
			assert.Contains(t, r.stderr, tc.file)
			assert.Positive(t, srv.Hits(), "the server was asked")
			assertClean(t, "after the failed run", cache, tmp)
			partial, err := filepath.Glob(filepath.Join(cache, "*", "*updateinfo*"))
			require.NoError(t, err)
			assert.Empty(t, partial, "nothing unverified is cached")

			// The cache the failure left serves a run from a good mirror.
			r = run(t, tmp, f.args("", cache, "updateinfo", "list")...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.NotEmpty(t, r.stdout)
			assertClean(t, "after the good run", cache, tmp)
			if tc.file == "updateinfo" {
				m, err := filepath.Glob(filepath.Join(cache, "updates-*", "*updateinfo*"))
				require.NoError(t, err)
				assert.NotEmpty(t, m)
			}
		})
	}
}
