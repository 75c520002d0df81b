package repo

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/internal/tempfile"
)

// cachedAdvisories fetches the repository and reads its advisories in
// full (details too, so that the whole index is read).
func cachedAdvisories(f *Fetcher, c Config) ([]*advisory.Advisory, error) {
	md, err := f.Fetch(context.Background(), c)
	if err != nil {
		return nil, err
	}
	return md.Advisories(context.Background(), AdvisoryOptions{})
}

// TestDamagedCache damages the cached index and the cached updateinfo:
// a normal run drops what is damaged, rebuilds it and returns what an
// undamaged cache gives; a cache-only run rebuilds what it can from the
// cache and otherwise fails with an error naming the damaged file.
func TestDamagedCache(t *testing.T) {
	flip := func(at func(n int) int) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			b[at(len(b))] ^= 0xff
			require.NoError(t, os.WriteFile(path, b, 0o644))
		}
	}
	truncate := func(t *testing.T, path string) {
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.NoError(t, os.Truncate(path, st.Size()/2))
	}
	tests := []struct {
		name string
		// index and updateinfo damage the cached files (nil: left whole).
		index, updateinfo func(t *testing.T, path string)
		// cacheOnlyFails is set when -C cannot rebuild from the cache.
		cacheOnlyFails bool
	}{
		{name: "index header", index: flip(func(int) int { return 3 })},
		{name: "index details", index: flip(func(int) int { return 80 })},
		{name: "index core", index: flip(func(n int) int { return n - 20 })},
		{name: "index sums", index: flip(func(n int) int { return n - 1 })},
		{name: "index truncated", index: truncate},
		{name: "updateinfo flipped", index: truncate, updateinfo: flip(func(n int) int { return n / 2 }), cacheOnlyFails: true},
		{name: "updateinfo truncated", index: truncate, updateinfo: truncate, cacheOnlyFails: true},
	}
	srv, _ := server(t)
	c := Config{ID: "updates", BaseURLs: []string{srv.URL + "/repo/"}, Enabled: true}
	want, err := cachedAdvisories(&Fetcher{Client: srv.Client(), CacheDir: t.TempDir()}, c)
	require.NoError(t, err)
	require.NotEmpty(t, want)
	for _, tt := range tests {
		for _, cacheOnly := range []bool{false, true} {
			name := tt.name
			if cacheOnly {
				name += " -C"
			}
			t.Run(name, func(t *testing.T) {
				cache := t.TempDir()
				_, err := cachedAdvisories(&Fetcher{Client: srv.Client(), CacheDir: cache}, c)
				require.NoError(t, err)
				dir := (&Fetcher{CacheDir: cache}).cacheDir(c)
				idx, err := filepath.Glob(filepath.Join(dir, "*-updateinfo.idx"))
				require.NoError(t, err)
				ui, err := filepath.Glob(filepath.Join(dir, "*-updateinfo.xml*"))
				require.NoError(t, err)
				require.Len(t, idx, 1)
				require.Len(t, ui, 1)
				good, err := os.ReadFile(idx[0])
				require.NoError(t, err)
				if tt.index != nil {
					tt.index(t, idx[0])
				}
				if tt.updateinfo != nil {
					tt.updateinfo(t, ui[0])
				}
				got, err := cachedAdvisories(&Fetcher{Client: srv.Client(), CacheDir: cache, CacheOnly: cacheOnly}, c)
				if cacheOnly && tt.cacheOnlyFails {
					require.ErrorIs(t, err, ErrChecksum)
					assert.Contains(t, err.Error(), ui[0])
					assert.Contains(t, err.Error(), "run without -C")
					return
				}
				require.NoError(t, err)
				assert.Equal(t, want, got)
				rebuilt, err := os.ReadFile(idx[0])
				require.NoError(t, err)
				assert.Equal(t, good, rebuilt, "the index is rebuilt")
				again, err := cachedAdvisories(&Fetcher{Client: srv.Client(), CacheDir: cache, CacheOnly: cacheOnly}, c)
				require.NoError(t, err)
				assert.Equal(t, want, again)
			})
		}
	}
}

// TestSweepStaleTempFiles: the temporary files of a run that is gone
// (an exited child's PID) are removed when the next run uses the cache
// directory, those of a live run (this one) are kept, in normal and
// cache-only runs.
func TestSweepStaleTempFiles(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	require.NoError(t, cmd.Run())
	dead, live := strconv.Itoa(cmd.ProcessState.Pid()), strconv.Itoa(os.Getpid())
	srv, _ := server(t)
	c := Config{ID: "updates", BaseURLs: []string{srv.URL + "/repo/"}, Enabled: true}
	for _, cacheOnly := range []bool{false, true} {
		cache := t.TempDir()
		_, err := cachedAdvisories(&Fetcher{Client: srv.Client(), CacheDir: cache}, c)
		require.NoError(t, err)
		dir := (&Fetcher{CacheDir: cache}).cacheDir(c)
		var stale, kept []string
		for _, prefix := range []string{".index-", ".index-core-", ".download-", ".tmp-"} {
			stale = append(stale, filepath.Join(dir, prefix+dead+"-123"))
			kept = append(kept, filepath.Join(dir, prefix+live+"-456"))
		}
		for _, n := range append(append([]string{}, stale...), kept...) {
			require.NoError(t, os.WriteFile(n, []byte("partial"), 0o644))
		}
		got, err := cachedAdvisories(&Fetcher{Client: srv.Client(), CacheDir: cache, CacheOnly: cacheOnly}, c)
		require.NoError(t, err)
		assert.Len(t, got, 1)
		for _, n := range stale {
			assert.NoFileExists(t, n)
		}
		for _, n := range kept {
			assert.FileExists(t, n)
		}
	}
}

// TestTempFilesNamed: every temporary file a run creates in a cache
// directory names this process, so that a later run can tell when it
// is stale.
func TestTempFilesNamed(t *testing.T) {
	srv, _ := server(t)
	cache := t.TempDir()
	dir := (&Fetcher{CacheDir: cache}).cacheDir(Config{ID: "updates", BaseURLs: []string{srv.URL + "/repo/"}})
	require.NoError(t, os.MkdirAll(dir, 0o755))
	f, err := createDownload(dir)
	require.NoError(t, err)
	f.Close()
	assert.Equal(t, os.Getpid(), tempfile.Owner(filepath.Base(f.Name()), tempDownload))
	f, err = createDownload("")
	require.NoError(t, err)
	f.Close()
	os.Remove(f.Name())
	assert.Equal(t, os.Getpid(), tempfile.Owner(filepath.Base(f.Name()), tempDownloadNoCache))
}
