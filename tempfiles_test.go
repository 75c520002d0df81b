package alicorn_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn"
	"github.com/alicorn-dev/alicorn/repo"
)

// TestStaleTempFilesSwept: what runs killed before their cleanups left
// in the temporary directory (image roots, spill and spool files, podman
// archives) and in the cache directory (host snapshots being written) is
// removed by the next run when the process that made it is gone (an
// exited child's PID); the files of a live process (this one) stay.
func TestStaleTempFilesSwept(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	image, feed := exampleImage(dir)
	cache := filepath.Join(dir, "cache")
	require.NoError(t, os.MkdirAll(cache, 0o755))

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	require.NoError(t, cmd.Run())
	dead, live := strconv.Itoa(cmd.ProcessState.Pid()), strconv.Itoa(os.Getpid())
	var stale, kept []string
	for _, p := range []string{"alicorn-image-", "alicorn-spill-", "alicorn-spool-", "alicorn-podman-"} {
		stale = append(stale, filepath.Join(tmp, p+dead+"-1"))
		kept = append(kept, filepath.Join(tmp, p+live+"-2"))
	}
	stale = append(stale, filepath.Join(cache, ".host-"+dead+"-3"))
	kept = append(kept, filepath.Join(cache, ".host-"+live+"-4"), filepath.Join(tmp, "unrelated-"+dead+"-5"))
	for _, n := range append(append([]string{}, stale...), kept...) {
		require.NoError(t, os.WriteFile(n, []byte("partial"), 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(tmp, "alicorn-image-"+dead+"-6", "var", "lib", "rpm"), 0o755))
	stale = append(stale, filepath.Join(tmp, "alicorn-image-"+dead+"-6"))

	ctx := context.Background()
	updates, err := repo.FromPath("updates,internal/testdata/example/repo")
	require.NoError(t, err)
	// The host reads the host cache; the image, the temporary directory.
	for _, o := range []alicorn.Options{{Root: abs("internal/testdata/example/root")}, {Image: "oci:" + image, OSV: []string{feed}}} {
		o.Releasever, o.CacheDir = "40", cache
		o.Repos = alicorn.Repos{Dirs: []string{}, FromPath: []repo.Config{updates}}
		sys, err := alicorn.Open(ctx, o)
		require.NoError(t, err)
		rep, err := sys.Report(ctx, alicorn.Query{})
		require.NoError(t, err)
		assert.NotEmpty(t, rep.Host.Findings)
		require.NoError(t, sys.Close())
	}
	for _, n := range stale {
		assert.NoFileExists(t, n)
		assert.NoDirExists(t, n)
	}
	for _, n := range kept {
		assert.FileExists(t, n)
	}
}
