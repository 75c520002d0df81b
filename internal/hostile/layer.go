package hostile

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Entry is one tar entry of a generated layer. Name is slash-separated;
// a name ending in "/" is a directory. Link makes a symbolic link, Hard
// a hard link to an earlier entry (of this layer or, as container
// runtimes read them, of a lower one). Otherwise the entry is a regular
// file holding Data, else Zeros zero bytes, else the contents of the
// file at File on this machine (read when the layer is).
type Entry struct {
	Name       string
	Data       []byte
	Zeros      int64
	File       string
	Link, Hard string
}

// modTime is the time of every generated entry, in Unix seconds: layers
// are reproducible.
const modTime = 1700000000

// DeepName returns a path of parts parts: parts-1 directories "d/d/…"
// and the file "f".
func DeepName(parts int) string {
	return strings.Repeat("d/", max(parts-1, 0)) + "f"
}

// ZeroJars returns k entries dir/zero-I.jar of size zero bytes each:
// files a jar scanner wants, that gzip shrinks about a thousandfold in a
// layer, and that are not zips.
func ZeroJars(dir string, k int, size int64) []Entry {
	out := make([]Entry, k)
	for i := range out {
		out[i] = Entry{Name: fmt.Sprintf("%s/zero-%d.jar", strings.TrimSuffix(dir, "/"), i), Zeros: size}
	}
	return out
}

// WriteTar writes the entries as an uncompressed tar stream.
func WriteTar(w io.Writer, entries ...Entry) error {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		if err := writeEntry(tw, e); err != nil {
			return fmt.Errorf("%.100s: %w", e.Name, err)
		}
	}
	return tw.Close()
}

func writeEntry(tw *tar.Writer, e Entry) error {
	h := &tar.Header{Name: e.Name, Mode: 0o644, ModTime: time.Unix(modTime, 0), Format: tar.FormatPAX}
	var body io.Reader
	switch {
	case e.Link != "":
		h.Typeflag, h.Linkname = tar.TypeSymlink, e.Link
	case e.Hard != "":
		h.Typeflag, h.Linkname = tar.TypeLink, e.Hard
	case strings.HasSuffix(e.Name, "/"):
		h.Typeflag, h.Mode = tar.TypeDir, 0o755
	case e.Data != nil:
		h.Typeflag, h.Size = tar.TypeReg, int64(len(e.Data))
		body = bytes.NewReader(e.Data)
	case e.File != "":
		f, err := os.Open(e.File)
		if err != nil {
			return err
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return err
		}
		h.Typeflag, h.Size = tar.TypeReg, info.Size()
		body = io.LimitReader(f, info.Size())
	default:
		h.Typeflag, h.Size = tar.TypeReg, e.Zeros
		body = io.LimitReader(Zeros{}, e.Zeros)
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if body == nil {
		return nil
	}
	_, err := io.Copy(tw, body)
	return err
}

// Zeros is an endless reader of zero bytes.
type Zeros struct{}

func (Zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// Layer returns a layer of the entries, generated anew (and gzipped by
// go-containerregistry) each time it is read: nothing of its size is
// held in memory.
func Layer(entries ...Entry) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(WriteTar(pw, entries...)) }()
		return pr, nil
	})
}

// Image returns an image of one layer for each list of entries, bottom
// first.
func Image(layers ...[]Entry) (v1.Image, error) {
	img := empty.Image
	for _, entries := range layers {
		l, err := Layer(entries...)
		if err != nil {
			return nil, err
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// WriteLayout writes an OCI image layout at dir (created) holding the
// image of layers (see Image) and returns its reference, "oci:" + dir.
func WriteLayout(dir string, layers ...[]Entry) (string, error) {
	img, err := Image(layers...)
	if err != nil {
		return "", err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return "", err
	}
	if err := p.AppendImage(img); err != nil {
		return "", err
	}
	return "oci:" + dir, nil
}

// WriteArchive writes an oci-archive (a tar of an OCI image layout) at
// file holding the image of layers and returns its reference,
// "oci-archive:" + file. The layout is written beside file first, then
// removed.
func WriteArchive(file string, layers ...[]Entry) (ref string, err error) {
	dir, err := os.MkdirTemp(filepath.Dir(file), ".layout-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if _, err := WriteLayout(dir, layers...); err != nil {
		return "", err
	}
	f, err := os.Create(file)
	if err != nil {
		return "", err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	entries, err := FromDir(dir)
	if err != nil {
		return "", err
	}
	if err := WriteTar(f, entries...); err != nil {
		return "", err
	}
	return "oci-archive:" + file, nil
}

// FromDir returns entries for the directories, regular files (read from
// disk when the layer is) and symbolic links under dir, by their paths
// relative to it, parents first: dir as an image's root.
func FromDir(dir string) ([]Entry, error) {
	var out []Entry
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		switch {
		case info.IsDir():
			out = append(out, Entry{Name: name + "/"})
		case info.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, Entry{Name: name, Link: target})
		case info.Mode().IsRegular():
			out = append(out, Entry{Name: name, File: p})
		}
		return nil
	})
	return out, err
}
