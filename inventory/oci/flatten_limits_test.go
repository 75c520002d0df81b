package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"io/fs"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/hostile"
)

func TestDeepPath(t *testing.T) {
	const parts = 200_000
	img := imageOf(t, layerOf(t, ent{Name: hostile.DeepName(parts), Body: "deep"}))
	f, err := Flatten(context.Background(), img, Options{Want: all})
	require.NoError(t, err)
	assert.Equal(t, parts+1, f.entries.len(), "the file, its implied parents and the root")
	b, err := f.ReadFile(hostile.DeepName(parts))
	require.NoError(t, err)
	assert.Equal(t, "deep", string(b))

	// Implied parents count against MaxEntries.
	_, err = Flatten(context.Background(), img, Options{Want: all, MaxEntries: parts / 2})
	assert.ErrorContains(t, err, "more than 100000 entries")
}

// zeroLayer is an uncompressed layer of one regular file of size bytes of
// zeros, made as it is read; read counts the bytes handed out and cancel
// is called once more than after of them were.
type zeroLayer struct {
	size, after int64
	read        atomic.Int64
	cancel      context.CancelFunc
}

func (z *zeroLayer) Uncompressed() (io.ReadCloser, error) {
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Name: "huge", Typeflag: tar.TypeReg, Mode: 0o644, Size: z.size}); err != nil {
		return nil, err
	}
	return io.NopCloser(io.MultiReader(&hdr, &zeros{z: z, left: z.size})), nil
}

func (z *zeroLayer) Compressed() (io.ReadCloser, error) { return z.Uncompressed() }
func (z *zeroLayer) Digest() (v1.Hash, error)           { return z.DiffID() }
func (z *zeroLayer) DiffID() (v1.Hash, error) {
	return v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 2*sha256.Size)}, nil
}
func (z *zeroLayer) Size() (int64, error)                { return z.size + 512, nil }
func (z *zeroLayer) MediaType() (types.MediaType, error) { return types.OCIUncompressedLayer, nil }

type zeros struct {
	z    *zeroLayer
	left int64
}

func (r *zeros) Read(b []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > r.left {
		b = b[:r.left]
	}
	clear(b)
	r.left -= int64(len(b))
	if r.z.read.Add(int64(len(b))) > r.z.after {
		r.z.cancel()
	}
	return len(b), nil
}

func TestCancelInsideAnEntry(t *testing.T) {
	for _, c := range []struct {
		name string
		opts func(t *testing.T) Options
	}{
		{"skipped", func(*testing.T) Options { return Options{} }},
		{"spilled", func(t *testing.T) Options {
			return Options{Want: all, SpillDir: t.TempDir(), MaxFile: 1 << 40, MaxSpill: 1 << 40}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// A generous deadline only so that a regression fails instead of
			// reading 4 GiB; the assertion is on the bytes read.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			z := &zeroLayer{size: 4 << 30, after: 1 << 20, cancel: cancel}
			_, err := Flatten(ctx, imageOf(t, z), c.opts(t))
			require.ErrorIs(t, err, context.Canceled)
			assert.LessOrEqual(t, z.read.Load(), int64(2<<20), "stops within a bounded number of bytes of the cancellation")
		})
	}
}

func TestHardLinks(t *testing.T) {
	const rpmdb = "usr/lib/sysimage/rpm/rpmdb.sqlite"
	onlyDB := func(name string, _ fs.FileInfo) bool { return name == rpmdb }
	for _, c := range []struct {
		name   string
		layers [][]ent
		want   string // rpmdb's contents
	}{
		{"to a file not kept, same layer", [][]ent{{
			{Name: "var/other/db", Body: "packages"}, {Name: rpmdb, Hard: "var/other/db"},
		}}, "packages"},
		{"to a file hidden by an upper layer, same layer", [][]ent{{
			{Name: "var/other/db", Body: "packages"}, {Name: rpmdb, Hard: "var/other/db"},
		}, {
			{Name: "var/other/.wh.db"},
		}}, "packages"},
		{"to a link to a file not kept", [][]ent{{
			{Name: "var/other/db", Body: "packages"}, {Name: "var/other/db2", Hard: "var/other/db"},
			{Name: rpmdb, Hard: "var/other/db2"},
		}}, "packages"},
		{"across layers", [][]ent{{
			{Name: "var/other/db", Body: "packages"},
		}, {
			{Name: rpmdb, Hard: "var/other/db"},
		}}, "packages"},
		{"across layers, target replaced later", [][]ent{{
			{Name: "var/other/db", Body: "old"},
		}, {
			{Name: rpmdb, Hard: "var/other/db"}, {Name: "var/other/db", Body: "newer"},
		}, {
			{Name: "var/other/.wh.db"},
		}}, "old"},
		{"across layers, the nearest lower layer", [][]ent{{
			{Name: "var/other/db", Body: "bottom"},
		}, {
			{Name: "var/other/db", Body: "middle"},
		}, {}, {
			{Name: rpmdb, Hard: "var/other/db"},
		}}, "middle"},
		{"across layers, through links", [][]ent{{
			{Name: "var/other/db", Body: "packages"}, {Name: "var/x", Hard: "var/other/db"},
		}, {
			{Name: "var/y", Hard: "var/x"},
		}, {
			{Name: rpmdb, Hard: "var/y"},
		}}, "packages"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var layers []v1.Layer
			writer := -1
			for i, l := range c.layers {
				layers = append(layers, layerOf(t, l...))
				for _, e := range l {
					if e.Name == rpmdb {
						writer = i
					}
				}
			}
			f, err := Flatten(context.Background(), imageOf(t, layers...), Options{Want: onlyDB})
			require.NoError(t, err)
			b, err := f.ReadFile(rpmdb)
			require.NoError(t, err)
			assert.Equal(t, c.want, string(b))
			info, err := f.Stat(rpmdb)
			require.NoError(t, err)
			assert.Equal(t, int64(len(c.want)), info.Size())
			assert.Equal(t, f.Layers[writer].Digest, f.LayerOf(rpmdb), "the layer that wrote the link")
		})
	}

	for _, c := range []struct {
		name   string
		layers [][]ent
	}{
		{"to nothing", [][]ent{{{Name: "a", Body: "x"}}, {{Name: rpmdb, Hard: "b"}}}},
		{"to a file removed in between", [][]ent{{{Name: "a", Body: "x"}}, {{Name: ".wh.a"}}, {{Name: rpmdb, Hard: "a"}}}},
		{"to a directory", [][]ent{{{Name: "a/"}}, {{Name: rpmdb, Hard: "a"}}}},
	} {
		var layers []v1.Layer
		for _, l := range c.layers {
			layers = append(layers, layerOf(t, l...))
		}
		_, err := Flatten(context.Background(), imageOf(t, layers...), Options{Want: onlyDB})
		assert.ErrorContains(t, err, "hard link", c.name)
	}
}

// twoFaced is an uncompressed layer whose bytes are first, then, from the
// second reading on, later (a source that changes between readings).
type twoFaced struct {
	first, later []byte
	reads        int
}

func (l *twoFaced) Uncompressed() (io.ReadCloser, error) {
	l.reads++
	if l.reads == 1 {
		return io.NopCloser(bytes.NewReader(l.first)), nil
	}
	return io.NopCloser(bytes.NewReader(l.later)), nil
}

func (l *twoFaced) Compressed() (io.ReadCloser, error) { return l.Uncompressed() }
func (l *twoFaced) Digest() (v1.Hash, error)           { return l.DiffID() }
func (l *twoFaced) DiffID() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(l.first))
	return h, err
}
func (l *twoFaced) Size() (int64, error)                { return int64(len(l.first)), nil }
func (l *twoFaced) MediaType() (types.MediaType, error) { return types.OCIUncompressedLayer, nil }

func TestHardLinkRereadChecked(t *testing.T) {
	onlyDB := func(name string, _ fs.FileInfo) bool { return name == "db" }
	l := &twoFaced{
		first: tarOf(t, ent{Name: "other", Body: "packages"}, ent{Name: "db", Hard: "other"}),
		later: tarOf(t, ent{Name: "other", Body: "PACKAGES"}, ent{Name: "db", Hard: "other"}),
	}
	_, err := Flatten(context.Background(), imageOf(t, l), Options{Want: onlyDB})
	assert.ErrorIs(t, err, ErrDigest, "the second reading is checked as the first")
	assert.Equal(t, 2, l.reads, "read again for the link")

	l = &twoFaced{first: l.first, later: l.first}
	f, err := Flatten(context.Background(), imageOf(t, l), Options{Want: onlyDB})
	require.NoError(t, err)
	b, err := f.ReadFile("db")
	require.NoError(t, err)
	assert.Equal(t, "packages", string(b))
	_, err = f.ReadFile("other")
	require.NoError(t, err, "the same file under both names")

	l = &twoFaced{first: l.first, later: l.first}
	_, err = Flatten(context.Background(), imageOf(t, l), Options{Want: all})
	require.NoError(t, err)
	assert.Equal(t, 1, l.reads, "read once when the target was kept")
}

func TestLookupLinksToTheRoot(t *testing.T) {
	img := imageOf(t, layerOf(t,
		ent{Name: "etc/os-release", Body: "ID=fedora\n"},
		ent{Name: "root", Link: "/"}, ent{Name: "here", Link: "."}, ent{Name: "etc/up", Link: "../.."},
		ent{Name: "etc/abs", Link: "/etc"},
	))
	f, err := Flatten(context.Background(), img, Options{Want: all})
	require.NoError(t, err)
	for _, name := range []string{"etc/os-release", "root/etc/os-release", "here/etc/os-release",
		"etc/up/etc/os-release", "root/here/etc/abs/up/root/etc/os-release"} {
		b, err := f.ReadFile(name)
		require.NoError(t, err, name)
		assert.Equal(t, "ID=fedora\n", string(b), name)
	}
	for _, name := range []string{"root", "here", "etc/up"} {
		info, err := f.Stat(name)
		require.NoError(t, err, name)
		assert.True(t, info.IsDir(), name)
	}
	_, err = f.Stat("root/nothing")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
