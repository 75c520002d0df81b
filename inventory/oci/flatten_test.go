package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/alicorn-dev/alicorn/inventory"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ent is one tar entry of a test layer: a file with Body, a directory
// (name ending in /), a symlink (Link) or a hard link (Hard).
type ent struct {
	Name, Body, Link, Hard string
}

func tarOf(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.Name, Mode: 0o644, ModTime: time.Unix(1700000000, 0)}
		switch {
		case e.Link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.Link
		case e.Hard != "":
			h.Typeflag, h.Linkname = tar.TypeLink, e.Hard
		case len(e.Name) > 0 && e.Name[len(e.Name)-1] == '/':
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.Body))
		}
		require.NoError(t, tw.WriteHeader(h))
		_, err := io.WriteString(tw, e.Body)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func layerOf(t testing.TB, ents ...ent) v1.Layer {
	t.Helper()
	b := tarOf(t, ents...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	require.NoError(t, err)
	return l
}

func imageOf(t testing.TB, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	require.NoError(t, err)
	return img
}

func all(string, fs.FileInfo) bool { return true }

func sample(t testing.TB) v1.Image {
	return imageOf(t,
		layerOf(t,
			ent{Name: "etc/"},
			ent{Name: "etc/os-release", Body: "ID=fedora\n"},
			ent{Name: "usr/lib/os-release", Link: "../../etc/os-release"},
			ent{Name: "var/lib/rpm/Packages", Body: "old db"},
			ent{Name: "var/lib/rpm/Index", Body: "idx"},
			ent{Name: "bin/sh", Body: "#!"},
			ent{Name: "bin/bash", Hard: "bin/sh"},
			ent{Name: "opt/keep/a", Body: "a"},
		),
		layerOf(t,
			ent{Name: "etc/os-release", Body: "ID=fedora\nVERSION_ID=40\n"},
			ent{Name: "var/lib/rpm/.wh.Packages"},
			ent{Name: "var/lib/rpm/rpmdb.sqlite", Body: "new db"},
			ent{Name: "opt/.wh..wh..opq"},
			ent{Name: "opt/fresh", Body: "f"},
		),
		layerOf(t,
			ent{Name: "./etc/hosts", Body: "127.0.0.1 localhost\n"},
			ent{Name: "/abs/link", Link: "/etc/hosts"},
			ent{Name: "climb", Link: "../../../../../etc/hosts"},
			ent{Name: "loop1", Link: "loop2"},
			ent{Name: "loop2", Link: "loop1"},
		),
	)
}

func TestFlatten(t *testing.T) {
	img := sample(t)
	f, err := Flatten(context.Background(), img, Options{Want: all})
	require.NoError(t, err)
	require.Len(t, f.Layers, 3)

	read := func(name string) string {
		b, err := fs.ReadFile(f, name)
		require.NoError(t, err, name)
		return string(b)
	}
	assert.Equal(t, "ID=fedora\nVERSION_ID=40\n", read("etc/os-release"), "the upper layer wins")
	assert.Equal(t, "ID=fedora\nVERSION_ID=40\n", read("usr/lib/os-release"), "links resolve in the merged tree")
	assert.Equal(t, "127.0.0.1 localhost\n", read("abs/link"), "absolute targets start at the image root")
	assert.Equal(t, "127.0.0.1 localhost\n", read("climb"), ".. stops at the image root")
	assert.Equal(t, "#!", read("bin/bash"), "hard links share contents")

	_, err = f.Stat("var/lib/rpm/Packages")
	assert.ErrorIs(t, err, fs.ErrNotExist, "whited out")
	assert.Equal(t, "idx", read("var/lib/rpm/Index"))
	names := func(dir string) []string {
		es, err := fs.ReadDir(f, dir)
		require.NoError(t, err)
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	assert.Equal(t, []string{"fresh"}, names("opt"), "opaque directory")
	assert.Equal(t, []string{"Index", "rpmdb.sqlite"}, names("var/lib/rpm"))

	_, err = f.Open("loop1")
	assert.ErrorIs(t, err, syscall.ELOOP)

	assert.Equal(t, f.Layers[1].Digest, f.LayerOf("etc/os-release"))
	assert.Equal(t, f.Layers[2].Digest, f.LayerOf("etc/hosts"))
	assert.Equal(t, f.Layers[0].Digest, f.LayerOf("bin/bash"))
	info, err := f.Lstat("usr/lib/os-release")
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSymlink, info.Mode().Type())
	target, err := f.ReadLink("usr/lib/os-release")
	require.NoError(t, err)
	assert.Equal(t, "../../etc/os-release", target)
}

func TestFlattenIsAnFS(t *testing.T) {
	img := imageOf(t,
		layerOf(t, ent{Name: "etc/os-release", Body: "ID=fedora\n"}, ent{Name: "usr/bin/x", Body: "x"},
			ent{Name: "usr/lib/os-release", Link: "../../etc/os-release"}),
		layerOf(t, ent{Name: "usr/bin/.wh.x"}, ent{Name: "usr/bin/y", Body: "yy"}),
	)
	f, err := Flatten(context.Background(), img, Options{Want: all})
	require.NoError(t, err)
	require.NoError(t, fstest.TestFS(f, "etc/os-release", "usr/bin/y", "usr/lib/os-release"))
}

func TestWant(t *testing.T) {
	want := func(name string, _ fs.FileInfo) bool { return name == "etc/os-release" }
	f, err := Flatten(context.Background(), sample(t), Options{Want: want})
	require.NoError(t, err)
	_, err = fs.ReadFile(f, "etc/os-release")
	require.NoError(t, err)
	_, err = fs.ReadFile(f, "etc/hosts")
	assert.ErrorIs(t, err, ErrNotKept)
	info, err := f.Stat("etc/hosts")
	require.NoError(t, err, "files not kept are still listed")
	assert.Equal(t, int64(20), info.Size())
}

func TestHostileLayers(t *testing.T) {
	for _, c := range []struct {
		name string
		ents []ent
		want error
	}{
		{"dot-dot", []ent{{Name: "../evil", Body: "x"}}, ErrUnsafePath},
		{"inner dot-dot", []ent{{Name: "a/../../evil", Body: "x"}}, ErrUnsafePath},
		{"hard link out", []ent{{Name: "a", Hard: "../../etc/shadow"}}, ErrUnsafePath},
	} {
		_, err := Flatten(context.Background(), imageOf(t, layerOf(t, c.ents...)), Options{Want: all})
		require.Error(t, err, c.name)
		assert.ErrorIs(t, err, c.want, c.name)
		assert.Contains(t, err.Error(), "layer 0 (sha256:", c.name)
	}
	// A file larger than the reader keeps: its reads fail, naming it and
	// the limit; the rest of the image is read.
	fsys, err := Flatten(context.Background(), imageOf(t, layerOf(t, ent{Name: "big", Body: "0123456789"},
		ent{Name: "small", Body: "ok"})), Options{Want: all, MaxFile: 5})
	require.NoError(t, err)
	_, err = fsys.ReadFile("big")
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.ErrorContains(t, err, "read big: 10 B: too large to keep (memory limits: 5 B a file")
	b, err := fsys.ReadFile("small")
	require.NoError(t, err)
	assert.Equal(t, "ok", string(b))
	// Too many entries.
	_, err = Flatten(context.Background(), imageOf(t, layerOf(t, ent{Name: "a"}, ent{Name: "b"}, ent{Name: "c"})),
		Options{MaxEntries: 2})
	assert.ErrorContains(t, err, "more than 2 entries")
	// A truncated layer.
	b = tarOf(t, ent{Name: "a", Body: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b[:540])), nil })
	require.NoError(t, err)
	_, err = Flatten(context.Background(), imageOf(t, l), Options{Want: all})
	assert.Error(t, err)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func FuzzFlatten(f *testing.F) {
	f.Add(tarOf(f, ent{Name: "etc/"}, ent{Name: "etc/a", Body: "x"}, ent{Name: "l", Link: "etc/a"},
		ent{Name: "h", Hard: "etc/a"}, ent{Name: "etc/.wh.b"}, ent{Name: ".wh..wh..opq"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			return
		}
		img, err := mutate.AppendLayers(empty.Image, l)
		if err != nil {
			return
		}
		// Budgets small enough to be hit by some inputs.
		mem, disk := inventory.NewBudget("memory", 64<<10), inventory.NewBudget("disk", 64<<10)
		fsys, err := Flatten(context.Background(), img, Options{Want: all, MaxTotal: 1 << 20, MaxFile: 1 << 20,
			Memory: mem, Disk: disk})
		if err != nil {
			if mem.Used() != 0 || disk.Used() != 0 {
				t.Fatalf("a failed Flatten kept %d bytes of memory, %d of disk budget", mem.Used(), disk.Used())
			}
			return
		}
		// Whatever was accepted can be walked and read without a panic.
		fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				fs.ReadFile(fsys, p)
			}
			return nil
		})
		fsys.Close()
		if mem.Used() != 0 || disk.Used() != 0 {
			t.Fatalf("Close kept %d bytes of memory, %d of disk budget", mem.Used(), disk.Used())
		}
	})
}

func TestSpill(t *testing.T) {
	big := strings.Repeat("j", 3<<20)
	img := imageOf(t, layerOf(t, ent{Name: "opt/app.jar", Body: big}, ent{Name: "opt/small.jar", Body: "tiny"},
		ent{Name: "opt/link.jar", Link: "app.jar"}))
	dir := t.TempDir()
	f, err := Flatten(context.Background(), img, Options{Want: all, MaxTotal: 1 << 20})
	require.NoError(t, err)
	_, err = f.ReadFile("opt/app.jar")
	require.ErrorIs(t, err, ErrTooLarge, "past MaxTotal without a spill directory")

	f, err = Flatten(context.Background(), img, Options{Want: all, MaxTotal: 1 << 20, SpillDir: dir})
	require.NoError(t, err)
	spilled, _ := filepath.Glob(filepath.Join(dir, "alicorn-spill-*"))
	require.Len(t, spilled, 1)
	b, err := f.ReadFile("opt/link.jar")
	require.NoError(t, err)
	assert.Equal(t, big, string(b))
	fl, err := f.Open("opt/app.jar")
	require.NoError(t, err)
	part := make([]byte, 4)
	_, err = fl.(io.ReaderAt).ReadAt(part, 3<<20-4)
	require.NoError(t, err)
	assert.Equal(t, "jjjj", string(part))
	b, err = f.ReadFile("opt/small.jar")
	require.NoError(t, err)
	assert.Equal(t, "tiny", string(b))
	require.NoError(t, f.Close())
	spilled, _ = filepath.Glob(filepath.Join(dir, "alicorn-spill-*"))
	assert.Empty(t, spilled, "Close removes the spill file")

	// Past the spill budget a file is not kept, and says so when read;
	// the small one is read all the same.
	f, err = Flatten(context.Background(), img, Options{Want: all, SpillDir: dir, MaxSpill: 1 << 20})
	require.NoError(t, err)
	_, err = f.ReadFile("opt/app.jar")
	require.ErrorIs(t, err, ErrTooLarge)
	assert.ErrorContains(t, err, "spill limit")
	b, err = f.ReadFile("opt/small.jar")
	require.NoError(t, err)
	assert.Equal(t, "tiny", string(b))
	require.NoError(t, f.Close())
	spilled, _ = filepath.Glob(filepath.Join(dir, "alicorn-spill-*"))
	assert.Empty(t, spilled, "nothing left behind")

	// On disk, a file larger than MaxFile (a memory limit) is kept.
	f, err = Flatten(context.Background(), img, Options{Want: all, SpillDir: dir, MaxFile: 1 << 20})
	require.NoError(t, err)
	b, err = f.ReadFile("opt/app.jar")
	require.NoError(t, err)
	assert.Len(t, b, len(big))
	require.NoError(t, f.Close())
}
