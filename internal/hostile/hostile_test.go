package hostile_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/hostile"
	"github.com/alicorn-dev/alicorn/inventory/oci"
)

func all(string, fs.FileInfo) bool { return true }

// flatten opens ref and flattens it, keeping every file.
func flatten(t *testing.T, ref string) *oci.FS {
	t.Helper()
	img, err := oci.Open(context.Background(), ref)
	require.NoError(t, err)
	t.Cleanup(func() { img.Close() })
	f, err := oci.Flatten(context.Background(), img, oci.Options{Want: all, SpillDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func TestImages(t *testing.T) {
	dir := t.TempDir()
	host := filepath.Join(dir, "db")
	require.NoError(t, os.WriteFile(host, []byte("packages"), 0o644))
	layers := [][]hostile.Entry{{
		{Name: "etc/"},
		{Name: "etc/os-release", Data: []byte("ID=fedora\n")},
		{Name: "var/other/db", File: host},
		{Name: hostile.DeepName(100), Data: []byte("deep")},
	}, append([]hostile.Entry{
		{Name: "usr/lib/sysimage/rpm/rpmdb.sqlite", Hard: "var/other/db"},
		{Name: "usr/lib/os-release", Link: "../../etc/os-release"},
		{Name: "usr/share/app/big.jar", Zeros: 3 << 20},
	}, hostile.ZeroJars("opt/z", 3, 1<<20)...)}
	lay, err := hostile.WriteLayout(filepath.Join(dir, "layout"), layers...)
	require.NoError(t, err)
	arch, err := hostile.WriteArchive(filepath.Join(dir, "image.tar"), layers...)
	require.NoError(t, err)
	left, err := filepath.Glob(filepath.Join(dir, ".layout-*"))
	require.NoError(t, err)
	assert.Empty(t, left, "the archive's layout is removed")
	for _, ref := range []string{lay, arch} {
		f := flatten(t, ref)
		jars, err := fs.Glob(f, "opt/z/*.jar")
		require.NoError(t, err)
		assert.Equal(t, []string{"opt/z/zero-0.jar", "opt/z/zero-1.jar", "opt/z/zero-2.jar"}, jars)
		for name, want := range map[string]string{
			"usr/lib/sysimage/rpm/rpmdb.sqlite": "packages",
			"usr/lib/os-release":                "ID=fedora\n",
			hostile.DeepName(100):               "deep",
			"usr/share/app/big.jar":             strings.Repeat("\x00", 3<<20),
			"opt/z/zero-0.jar":                  strings.Repeat("\x00", 1<<20),
		} {
			b, err := f.ReadFile(name)
			require.NoError(t, err, "%s %.40s", ref, name)
			assert.True(t, string(b) == want, "%s %.40s", ref, name)
		}
	}
	// A directory as a layer.
	tree := filepath.Join(dir, "tree")
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "etc/hostname"), []byte("box\n"), 0o644))
	require.NoError(t, os.Symlink("hostname", filepath.Join(tree, "etc/name")))
	entries, err := hostile.FromDir(tree)
	require.NoError(t, err)
	assert.Equal(t, []hostile.Entry{{Name: "etc/"}, {Name: "etc/hostname", File: filepath.Join(tree, "etc/hostname")},
		{Name: "etc/name", Link: "hostname"}}, entries)
	ref, err := hostile.WriteLayout(filepath.Join(dir, "tree-layout"), entries)
	require.NoError(t, err)
	b, err := flatten(t, ref).ReadFile("etc/name")
	require.NoError(t, err)
	assert.Equal(t, "box\n", string(b))

	info, err := os.Stat(filepath.Join(dir, "image.tar"))
	require.NoError(t, err)
	assert.Less(t, info.Size(), int64(1<<20), "zeros compress")
	assert.Len(t, hostile.DeepName(2000), 2*2000-1)
	assert.Equal(t, "f", hostile.DeepName(1))
}

// inflated walks a jar as a scanner would, opening every entry named like
// a jar as one, and counts the bytes of the innermost (non-zip) entries
// and the pom.properties found.
func inflated(t *testing.T, b []byte) (n int64, poms int) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		switch {
		case path.Base(f.Name) == "pom.properties":
			poms++
		case strings.HasPrefix(f.Name, "zero-"):
			m, err := io.Copy(io.Discard, rc)
			require.NoError(t, err)
			n += m
		default:
			inner, err := io.ReadAll(rc)
			require.NoError(t, err)
			m, p := inflated(t, inner)
			n, poms = n+m, poms+p
		}
		rc.Close()
	}
	return n, poms
}

func TestBomb(t *testing.T) {
	for _, b := range []hostile.Bomb{{Depth: 0, Fanout: 3, Size: 1 << 20}, {Depth: 2, Fanout: 2, Size: 4 << 20}} {
		var buf bytes.Buffer
		require.NoError(t, b.Write(&buf))
		n, poms := inflated(t, buf.Bytes())
		assert.Equal(t, b.Inflated(), n, "%+v", b)
		assert.Less(t, int64(buf.Len())*100, n, "%+v: %d bytes", b, buf.Len())
		want := 1
		for range b.Depth {
			want = 1 + b.Fanout*want
		}
		assert.Equal(t, want, poms, "%+v", b)
	}
}

func TestServer(t *testing.T) {
	files := fstest.MapFS{"repodata/repomd.xml": {Data: []byte(strings.Repeat("r", 1000))},
		"other": {Data: []byte("served")}}
	client := &http.Client{Timeout: 300 * time.Millisecond}
	get := func(t *testing.T, url string) (*http.Response, error) {
		t.Helper()
		resp, err := client.Get(url)
		if err == nil {
			t.Cleanup(func() { resp.Body.Close() })
		}
		return resp, err
	}
	for _, s := range []hostile.Stall{hostile.NoAnswer, hostile.BeforeHeaders, hostile.MidBody, hostile.Endless,
		hostile.EndlessAnnounced} {
		t.Run(s.String(), func(t *testing.T) {
			srv, err := hostile.NewServer(s, http.FileServerFS(files), "repomd")
			require.NoError(t, err)
			defer srv.Close()
			assert.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"))
			if s != hostile.NoAnswer {
				resp, err := get(t, srv.URL+"/other")
				require.NoError(t, err)
				b, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				assert.Equal(t, "served", string(b), "other paths are served")
			}
			resp, err := get(t, srv.URL+"/repodata/repomd.xml")
			switch s {
			case hostile.NoAnswer, hostile.BeforeHeaders:
				require.Error(t, err)
				assert.True(t, errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Timeout"), err)
			case hostile.MidBody:
				require.NoError(t, err)
				assert.Equal(t, int64(1000), resp.ContentLength)
				b, err := io.ReadAll(resp.Body)
				require.Error(t, err, "stalls")
				assert.Equal(t, strings.Repeat("r", 500), string(b))
			case hostile.Endless, hostile.EndlessAnnounced:
				require.NoError(t, err)
				if s == hostile.EndlessAnnounced {
					assert.Equal(t, int64(1<<40), resp.ContentLength)
				} else {
					assert.Equal(t, int64(-1), resp.ContentLength)
				}
				n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 8<<20))
				require.NoError(t, err)
				assert.Equal(t, int64(8<<20), n)
			}
			assert.Equal(t, 1, srv.Hits())
			srv.Close()
			srv.Close() // twice is fine
		})
	}
}

func TestDamages(t *testing.T) {
	orig := bytes.Repeat([]byte("0123456789"), 100)
	for _, d := range hostile.Damages() {
		p := filepath.Join(t.TempDir(), "f")
		require.NoError(t, os.WriteFile(p, orig, 0o644))
		require.NoError(t, d.Apply(p), d.Name)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.NotEqual(t, orig, b, d.Name)
	}
	p := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(p, []byte("abc"), 0o644))
	require.NoError(t, hostile.Flip(p, -1))
	require.NoError(t, hostile.Flip(p, 100))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(b), "flipped twice, the last byte")
	require.NoError(t, hostile.Zero(p))
	b, err = os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "\x00\x00\x00", string(b))
	assert.Error(t, hostile.Flip(filepath.Join(t.TempDir(), "missing"), 0))
}
