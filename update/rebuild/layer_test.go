package rebuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// makeRoot writes a small tree at dir whose files were all touched at
// mtime: a file, a hard link to it, a symlink, nested directories.
func makeRoot(t *testing.T, dir string, mtime time.Time) {
	t.Helper()
	for _, d := range []string{"b/c", "a"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a/f"), []byte("data"), 0o640))
	require.NoError(t, os.Link(filepath.Join(dir, "a/f"), filepath.Join(dir, "b/c/hard")))
	require.NoError(t, os.Symlink("../a/f", filepath.Join(dir, "b/link")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("x"), 0o644))
	for _, p := range []string{"a/f", "a.txt", "b/c", "b", "a"} {
		require.NoError(t, os.Chtimes(filepath.Join(dir, p), mtime, mtime))
	}
}

// TestTarRoot packs the same tree made at two times into the same bytes,
// parents first, times clamped, owners numeric, hard links as links.
func TestTarRoot(t *testing.T) {
	clamp := time.Unix(1700000000, 0)
	var blobs [][]byte
	for i, mtime := range []time.Time{time.Now(), time.Now().Add(time.Hour)} {
		dir := filepath.Join(t.TempDir(), "root")
		makeRoot(t, dir, mtime)
		out := filepath.Join(t.TempDir(), "layer.tar.gz")
		require.NoError(t, tarRoot(dir, out, clamp, func(rel string) bool { return rel == "a.txt" }))
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		blobs = append(blobs, b)
		if i > 0 {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		assert.True(t, zr.ModTime.IsZero())
		assert.Empty(t, zr.Name)
		tr := tar.NewReader(zr)
		var names []string
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			names = append(names, h.Name)
			assert.Equal(t, clamp.Unix(), h.ModTime.Unix(), h.Name)
			assert.Empty(t, h.Uname+h.Gname)
			assert.Equal(t, os.Getuid(), h.Uid)
			switch h.Name {
			case "a/f":
				assert.Equal(t, byte(tar.TypeReg), h.Typeflag)
				assert.Equal(t, int64(0o640), h.Mode)
			case "b/c/hard":
				assert.Equal(t, byte(tar.TypeLink), h.Typeflag)
				assert.Equal(t, "a/f", h.Linkname)
			case "b/link":
				assert.Equal(t, byte(tar.TypeSymlink), h.Typeflag)
				assert.Equal(t, "../a/f", h.Linkname)
			}
		}
		assert.Equal(t, []string{"a/", "a/f", "b/", "b/c/", "b/c/hard", "b/link"}, names)
	}
	assert.Equal(t, blobs[0], blobs[1])
}

// TestTarRootKeepsOlder keeps mtimes older than the clamp.
func TestTarRootKeepsOlder(t *testing.T) {
	old := time.Unix(1600000000, 0)
	dir := filepath.Join(t.TempDir(), "root")
	makeRoot(t, dir, old)
	out := filepath.Join(t.TempDir(), "layer.tar.gz")
	require.NoError(t, tarRoot(dir, out, time.Unix(1700000000, 0), nil))
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if h.Typeflag != tar.TypeSymlink { // the link was made now
			assert.Equal(t, old.Unix(), h.ModTime.Unix(), h.Name)
		}
	}
}
