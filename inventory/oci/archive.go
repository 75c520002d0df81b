package oci

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// tarIndex locates the regular files of an uncompressed tar archive, so
// that blobs are read in place: an archive is never unpacked.
type tarIndex struct {
	f     *os.File
	files map[string]section
}

type section struct{ off, size int64 }

// indexTar reads the headers of the archive at path.
func indexTar(path string) (*tarIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	x := &tarIndex{f: f, files: map[string]section{}}
	tr := tar.NewReader(f) // given a Seeker, it skips contents unread
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return x, nil
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		name, err := cleanName(hdr.Name)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			f.Close()
			return nil, err
		}
		x.files[name] = section{off, hdr.Size}
	}
}

func (x *tarIndex) open(name string) (*io.SectionReader, error) {
	s, ok := x.files[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, os.ErrNotExist)
	}
	return io.NewSectionReader(x.f, s.off, s.size), nil
}

// layoutFiles opens the files of an OCI image layout: a tar of one read
// in place (tarIndex), or a directory (layoutDir).
type layoutFiles interface {
	open(name string) (*io.SectionReader, error)
}

// readFile reads a (small) file of a layout or archive.
func readFile(src layoutFiles, name string, limit int64) ([]byte, error) {
	r, err := src.open(name)
	if err != nil {
		return nil, err
	}
	if r.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d expected", name, r.Size(), limit)
	}
	return io.ReadAll(r)
}

// readBlob reads a blob of a layout and checks it against its digest,
// whatever its algorithm; what names it in errors.
func readBlob(src layoutFiles, what string, h v1.Hash, limit int64) ([]byte, error) {
	b, err := readFile(src, "blobs/"+h.Algorithm+"/"+h.Hex, limit)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, h, err)
	}
	if err := checkDigest(what, h, b); err != nil {
		return nil, err
	}
	return b, nil
}

// layoutDir is an OCI image layout's directory; files are opened inside
// it only (os.Root) and kept open until close.
type layoutDir struct {
	root  *os.Root
	mu    sync.Mutex
	files map[string]*os.File // one per blob however often it is read
}

func openLayoutDir(dir string) (*layoutDir, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &layoutDir{root: root, files: map[string]*os.File{}}, nil
}

// open returns a reader of the file name. A file is opened once and read
// through section readers (ReadAt is safe to share), so that reading a
// blob again, or with a second reader that hashes it, takes no new file
// descriptor.
func (d *layoutDir) open(name string) (*io.SectionReader, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.files[name]
	if !ok {
		var err error
		if f, err = d.root.Open(name); err != nil {
			return nil, err
		}
		d.files[name] = f
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		if err == nil {
			err = fmt.Errorf("%s: not a regular file", name)
		}
		return nil, err
	}
	return io.NewSectionReader(f, 0, info.Size()), nil
}

func (d *layoutDir) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, f := range d.files {
		f.Close()
	}
	d.files = map[string]*os.File{}
	d.root.Close()
}

// fromLayout reads an image from an OCI layout's directory, in place.
func fromLayout(dir, tag string) (v1.Image, func(), error) {
	d, err := openLayoutDir(dir)
	if err != nil {
		return nil, nil, err
	}
	img, err := layoutImage(d, tag)
	if err != nil {
		d.close()
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	return img, d.close, nil
}

// fromOCIArchive reads an image from an oci-archive in place.
func fromOCIArchive(file, tag string) (v1.Image, func(), error) {
	x, err := indexTar(file)
	if err != nil {
		return nil, nil, err
	}
	closeIt := func() { x.f.Close() }
	img, err := layoutImage(x, tag)
	if err != nil {
		closeIt()
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return img, closeIt, nil
}

const metaLimit = 16 << 20 // index, manifests and configurations

// layoutImage reads the image tagged tag (or the only one) of a layout,
// descending into nested indexes for this machine's platform; every
// index, manifest and configuration is checked against its digest as it
// is read, and every layer as it is streamed.
func layoutImage(src layoutFiles, tag string) (v1.Image, error) {
	raw, err := readFile(src, "index.json", metaLimit)
	if err != nil {
		return nil, err
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	for depth := 0; ; depth++ {
		var found []v1.Descriptor
		for _, d := range idx.Manifests {
			if tag == "" || depth > 0 || d.Annotations[refName] == tag {
				found = append(found, d)
			}
		}
		d, err := choose(found, tag, depth)
		if err != nil {
			return nil, err
		}
		what := "index"
		if !d.MediaType.IsIndex() {
			what = "manifest"
		}
		raw, err := readBlob(src, what, d.Digest, metaLimit)
		if err != nil {
			return nil, err
		}
		if !d.MediaType.IsIndex() {
			var m v1.Manifest
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, fmt.Errorf("manifest %s: %w", d.Digest, err)
			}
			return partial.CompressedToImage(&archiveImage{src: src, raw: raw, m: &m})
		}
		if depth > 4 {
			return nil, errors.New("indexes nested too deep")
		}
		idx = v1.IndexManifest{}
		if err := json.Unmarshal(raw, &idx); err != nil {
			return nil, fmt.Errorf("index %s: %w", d.Digest, err)
		}
	}
}

// choose picks the one descriptor meant, preferring this machine's
// platform among several.
func choose(found []v1.Descriptor, tag string, depth int) (v1.Descriptor, error) {
	if len(found) > 1 {
		for _, d := range found {
			if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == goarch() {
				return d, nil
			}
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0 && tag != "" && depth == 0:
		return v1.Descriptor{}, fmt.Errorf("no image tagged %q", tag)
	case len(found) == 0:
		return v1.Descriptor{}, errors.New("no image in the layout")
	}
	return v1.Descriptor{}, fmt.Errorf("%d images in the layout: name one with :TAG", len(found))
}

// archiveImage is an image whose blobs are read in place from a layout
// or an archive of one.
type archiveImage struct {
	src layoutFiles
	raw []byte
	m   *v1.Manifest
}

func (i *archiveImage) RawManifest() ([]byte, error) { return i.raw, nil }

func (i *archiveImage) MediaType() (types.MediaType, error) {
	if i.m.MediaType != "" {
		return i.m.MediaType, nil
	}
	return types.OCIManifestSchema1, nil
}

func (i *archiveImage) RawConfigFile() ([]byte, error) {
	return readBlob(i.src, "configuration", i.m.Config.Digest, metaLimit)
}

func (i *archiveImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range i.m.Layers {
		if l.Digest == h {
			return &archiveLayer{src: i.src, d: l}, nil
		}
	}
	if i.m.Config.Digest == h {
		return &archiveLayer{src: i.src, d: i.m.Config}, nil
	}
	return nil, fmt.Errorf("blob %s is not in the manifest", h)
}

// archiveLayer is a layer blob read in place. Its bytes are checked
// against its digest as they are read to the end, and its uncompressed
// contents against the image's diff IDs as Flatten reads them.
type archiveLayer struct {
	src layoutFiles
	d   v1.Descriptor
}

func (l *archiveLayer) Digest() (v1.Hash, error)            { return l.d.Digest, nil }
func (l *archiveLayer) Size() (int64, error)                { return l.d.Size, nil }
func (l *archiveLayer) MediaType() (types.MediaType, error) { return l.d.MediaType, nil }

func (l *archiveLayer) Compressed() (io.ReadCloser, error) {
	r, err := l.src.open("blobs/" + l.d.Digest.Algorithm + "/" + l.d.Digest.Hex)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", l.d.Digest, err)
	}
	if r.Size() != l.d.Size {
		return nil, fmt.Errorf("layer %s: %w: %d bytes, the manifest says %d", l.d.Digest, ErrDigest, r.Size(), l.d.Size)
	}
	shadow, err := l.src.open("blobs/" + l.d.Digest.Algorithm + "/" + l.d.Digest.Hex)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", l.d.Digest, err)
	}
	return checkBlob("layer", l.d.Digest, r, shadow)
}
