package faults

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/hostile"
)

// TestDamagedCache damages each file of the cache a run left, each way
// hostile.Damages lists. A normal run then prints exactly the report of
// the undamaged cache. A run with -C prints it too, or fails with one
// clear line naming the damaged file (exit 1, nothing on stdout), never a
// crash; the normal run after it prints the report. No run leaves a
// temporary file.
func TestDamagedCache(t *testing.T) {
	f := newFixture(t, 200)
	pristine := filepath.Join(t.TempDir(), "cache")
	tmp := t.TempDir()
	ref := run(t, tmp, f.args("", pristine, "updateinfo", "info")...)
	require.Equal(t, 0, ref.code, ref.stderr)
	require.Contains(t, ref.stdout, "Update ID: FEDORA-2024-")
	var files []string
	require.NoError(t, filepath.WalkDir(pristine, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			rel, _ := filepath.Rel(pristine, p)
			files = append(files, rel)
		}
		return err
	}))
	t.Logf("the cache's files: %v", files)
	for _, want := range []string{"host-", "repomd.xml", "updateinfo.xml.gz", "updateinfo.idx"} {
		assert.True(t, strings.Contains(strings.Join(files, " "), want), "a %s in the cache", want)
	}
	// copyCache returns a fresh copy of the undamaged cache with the file
	// rel damaged.
	copyCache := func(t *testing.T, rel string, d hostile.Damage) string {
		t.Helper()
		cache := filepath.Join(t.TempDir(), "cache")
		require.NoError(t, os.CopyFS(cache, os.DirFS(pristine)))
		require.NoError(t, d.Apply(filepath.Join(cache, rel)))
		return cache
	}
	hashes := regexp.MustCompile(`[0-9a-f]{16,}(-[0-9a-f]{16,})*`)
	for _, rel := range files {
		for _, d := range hostile.Damages() {
			t.Run(hashes.ReplaceAllString(filepath.Base(rel), "*")+" "+d.Name, func(t *testing.T) {
				cache := copyCache(t, rel, d)
				r := run(t, tmp, f.args("", cache, "updateinfo", "info")...)
				assert.Equal(t, 0, r.code, r.stderr)
				assert.Equal(t, ref.stdout, r.stdout, "the report of the undamaged cache")
				assertClean(t, "after the run", cache, tmp)

				cache = copyCache(t, rel, d)
				r = run(t, tmp, f.args("", cache, "-C", "updateinfo", "info")...)
				if r.code == 0 {
					assert.Equal(t, ref.stdout, r.stdout, "-C: the report of the undamaged cache")
				} else {
					t.Logf("-C: exit %d: %s", r.code, r.stderr)
					assert.Equal(t, 1, r.code)
					assert.Empty(t, r.stdout)
					assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "-C: one line: %q", r.stderr)
					// The file by its path in the cache, and what to do.
					assert.Contains(t, r.stderr, filepath.Join(cache, rel), "-C: the error names the file")
					assert.Contains(t, r.stderr, "run without -C", "-C: the error says what to do")
				}
				assertClean(t, "after the run with -C", cache, tmp)
				r = run(t, tmp, f.args("", cache, "updateinfo", "info")...)
				assert.Equal(t, 0, r.code, r.stderr)
				assert.Equal(t, ref.stdout, r.stdout, "after -C: the report of the undamaged cache")
				assertClean(t, "after the run after -C", cache, tmp)
			})
		}
	}
}
