package oci

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/alicorn-dev/alicorn/internal/tempfile"
)

// Options tune Flatten.
type Options struct {
	// Want chooses the regular files whose contents are kept (from the
	// path and the header alone); the others can be listed and stat'ed
	// but not read. Nil keeps none.
	Want func(name string, info fs.FileInfo) bool
	// MaxFile bounds one kept file (default 256 MiB) and MaxTotal all of
	// them in memory (default 1 GiB): a layer that claims more is an error.
	MaxFile, MaxTotal int64
	// SpillDir, when set, is a directory where kept files of more than
	// 1 MiB are written (to one temporary file, removed by FS.Close)
	// instead of memory, up to MaxSpill bytes (default 16 GiB): for
	// images whose wanted files are large, such as a Java application's
	// jars.
	SpillDir string
	MaxSpill int64
	// MaxEntries bounds the entries of all layers together (default
	// 4,000,000), against layers made only of tiny entries.
	MaxEntries int
}

// Layer identifies one layer of an image.
type Layer struct {
	// Digest is the layer's (compressed) digest as the manifest lists it;
	// DiffID the digest of its uncompressed tar.
	Digest, DiffID string
}

// FS is a flattened image. It implements fs.FS, fs.StatFS, fs.ReadDirFS
// and fs.ReadFileFS; symbolic links are followed inside the image root.
type FS struct {
	// Layers lists the image's layers, bottom first.
	Layers  []Layer
	entries map[string]*entry
	spill   *os.File // large kept files, with Options.SpillDir
}

type entry struct {
	name     string // clean, slash-separated, relative to the root ("." for it)
	typ      byte   // tar.TypeReg, TypeDir, TypeSymlink; hard links become TypeReg
	mode     fs.FileMode
	size     int64
	mtime    time.Time
	link     string // symlink target as written
	layer    int    // index in Layers; -1 for directories made up for missing parents
	data     []byte
	spilled  bool // the contents are in FS.spill at offset spillAt
	spillAt  int64
	kept     bool     // data (or the spill file) holds the contents
	children []string // base names, sorted (directories)
}

// Flatten reads every layer of img, top first, into an FS.
func Flatten(ctx context.Context, img v1.Image, opts Options) (*FS, error) {
	if opts.MaxFile <= 0 {
		opts.MaxFile = 256 << 20
	}
	if opts.MaxTotal <= 0 {
		opts.MaxTotal = 1 << 30
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = 4_000_000
	}
	if opts.MaxSpill <= 0 {
		opts.MaxSpill = 16 << 30
	}
	// The configuration names the layers' digests (diff IDs), which each
	// layer is checked against as it is read: a blob swapped for another
	// is an error, not another image. (Open checks the configuration
	// against the manifest.)
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading the image's layers: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image's configuration: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(layers) {
		return nil, fmt.Errorf("the image has %d layers and its configuration names %d", len(layers), len(cfg.RootFS.DiffIDs))
	}
	f := &FS{entries: map[string]*entry{}}
	for _, l := range layers {
		var info Layer
		// An uncompressed layer is named by its diff ID (asking for its
		// digest would compress it).
		if mt, err := l.MediaType(); err == nil && (mt == types.DockerUncompressedLayer || mt == types.OCIUncompressedLayer) {
			info.Digest = cfg.RootFS.DiffIDs[len(f.Layers)].String()
		} else if d, err := l.Digest(); err == nil {
			info.Digest = d.String()
		}
		f.Layers = append(f.Layers, info)
	}
	for i := range f.Layers {
		f.Layers[i].DiffID = cfg.RootFS.DiffIDs[i].String()
	}
	fl := &flattener{fs: f, opts: opts, hidden: map[string]bool{}, opaque: map[string]bool{}}
	for i := len(layers) - 1; i >= 0; i-- {
		if err := fl.layer(ctx, i, layers[i], cfg.RootFS.DiffIDs[i]); err != nil {
			f.Close()
			return nil, fmt.Errorf("layer %d (%s): %w", i, f.Layers[i].Digest, err)
		}
	}
	f.finish()
	return f, nil
}

type flattener struct {
	fs      *FS
	opts    Options
	total   int64 // bytes kept in memory
	spilled int64 // bytes written to the spill file
	entries int
	// What upper layers hide from lower ones: whited-out paths, and
	// directories made opaque.
	hidden, opaque map[string]bool
}

// verifyConfig checks the configuration blob against its digest.
func verifyConfig(img v1.Image) error {
	// The manifest's own record, not ConfigName, which some images compute
	// from the very blob being checked.
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("reading the image's manifest: %w", err)
	}
	name := m.Config.Digest
	raw, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("reading the image's configuration: %w", err)
	}
	return checkDigest("configuration", name, raw)
}

// ErrUnsafePath is wrapped by errors for layer entries that would land
// outside the image root.
var ErrUnsafePath = errors.New("path escapes the image root")

// cleanName makes a tar entry name relative to the root, refusing names
// that climb out of it.
func cleanName(name string) (string, error) {
	if strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("%q: %w", name, ErrUnsafePath)
	}
	n := strings.TrimLeft(name, "/")
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("%q: %w", name, ErrUnsafePath)
		}
	}
	n = path.Clean("/" + n)[1:]
	if n == "" {
		n = "."
	}
	return n, nil
}

// covered reports whether an upper layer hides name: it, or one of its
// parents, was whited out, made opaque, or is not a directory there.
func (fl *flattener) covered(name string) bool {
	if fl.hidden[name] {
		return true
	}
	for dir := path.Dir(name); ; dir = path.Dir(dir) {
		if dir == "." {
			return fl.opaque["."]
		}
		if fl.hidden[dir] || fl.opaque[dir] {
			return true
		}
		if e := fl.fs.entries[dir]; e != nil && e.typ != tar.TypeDir {
			return true
		}
	}
}

func (fl *flattener) layer(ctx context.Context, idx int, l v1.Layer, want v1.Hash) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	sum, err := hasher("diff ID", want)
	if err != nil {
		return err
	}
	tr := tar.NewReader(io.TeeReader(rc, sum))
	// This layer's own entries, whiteouts and opaque directories; merged
	// under the upper layers' when the layer ends (within a layer the last
	// entry for a name wins, as when extracting).
	mine := map[string]*entry{}
	var whiteouts, opaques []string
	for n := 0; ; n++ {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the layer: %w", err)
		}
		if fl.entries++; fl.entries > fl.opts.MaxEntries {
			return fmt.Errorf("more than %d entries in the image", fl.opts.MaxEntries)
		}
		name, err := cleanName(hdr.Name)
		if err != nil {
			return err
		}
		dir, base := path.Split(name)
		dir = path.Clean(dir)
		if base == ".wh..wh..opq" {
			opaques = append(opaques, dir)
			continue
		}
		if strings.HasPrefix(base, ".wh.") {
			whiteouts = append(whiteouts, path.Join(dir, strings.TrimPrefix(base, ".wh.")))
			continue
		}
		if fl.covered(name) || fl.fs.entries[name] != nil {
			continue
		}
		e := &entry{name: name, mode: hdr.FileInfo().Mode(), size: hdr.Size, mtime: hdr.ModTime, layer: idx}
		switch hdr.Typeflag {
		case tar.TypeDir:
			e.typ, e.size = tar.TypeDir, 0
		case tar.TypeSymlink:
			e.typ, e.link, e.size = tar.TypeSymlink, hdr.Linkname, 0
		case tar.TypeLink:
			target, err := cleanName(hdr.Linkname)
			if err != nil {
				return fmt.Errorf("hard link %s: %w", name, err)
			}
			t := mine[target]
			if t == nil || t.typ != tar.TypeReg {
				return fmt.Errorf("hard link %s: %s is not a regular file earlier in the layer", name, hdr.Linkname)
			}
			*e = *t
			e.name = name
		case tar.TypeReg: // the reader reports old-style regular files (TypeRegA) as TypeReg
			e.typ = tar.TypeReg
			if err := fl.read(tr, e); err != nil {
				return err
			}
		default:
			// Devices, fifos: listed, never read.
			e.typ = hdr.Typeflag
			e.size = 0
		}
		mine[name] = e
	}
	// The rest of the stream (the archive's end, padding) counts too.
	if _, err := io.Copy(io.Discard, io.TeeReader(rc, sum)); err != nil {
		return fmt.Errorf("reading the layer: %w", err)
	}
	if err := compareSum("diff ID", want, sum); err != nil {
		return err
	}
	for name, e := range mine {
		fl.fs.entries[name] = e
	}
	for _, w := range whiteouts {
		fl.hidden[w] = true
	}
	for _, o := range opaques {
		fl.opaque[o] = true
	}
	return nil
}

// read keeps a wanted file's contents.
func (fl *flattener) read(tr *tar.Reader, e *entry) error {
	if fl.opts.Want == nil || !fl.opts.Want(e.name, (&file{e: e}).info()) {
		return nil
	}
	if fl.opts.SpillDir != "" && e.size > spillOver && e.size <= fl.opts.MaxFile {
		return fl.spill(tr, e)
	}
	if e.size < 0 || e.size > fl.opts.MaxFile || fl.total+e.size > fl.opts.MaxTotal {
		return fmt.Errorf("%s: %d bytes is more than this reader keeps (file limit %d, total %d)",
			e.name, e.size, fl.opts.MaxFile, fl.opts.MaxTotal)
	}
	data := make([]byte, e.size)
	if _, err := io.ReadFull(tr, data); err != nil {
		return fmt.Errorf("%s: %w", e.name, err)
	}
	fl.total += e.size
	e.data, e.kept = data, true
	return nil
}

// spillOver is the size above which kept files go to the spill file.
const spillOver = 1 << 20

// spill keeps a wanted file's contents in the spill file.
func (fl *flattener) spill(tr *tar.Reader, e *entry) error {
	if fl.spilled+e.size > fl.opts.MaxSpill {
		return fmt.Errorf("%s: %d bytes is more than this reader keeps (spill limit %d)", e.name, e.size, fl.opts.MaxSpill)
	}
	if fl.fs.spill == nil {
		f, err := os.CreateTemp(fl.opts.SpillDir, tempfile.Pattern("alicorn-spill-"))
		if err != nil {
			return err
		}
		fl.fs.spill = f
	}
	n, err := io.Copy(fl.fs.spill, io.LimitReader(tr, e.size))
	if err == nil && n < e.size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("%s: %w", e.name, err)
	}
	e.spilled, e.spillAt, e.kept = true, fl.spilled, true
	fl.spilled += e.size
	return nil
}

// finish adds the directories the layers left implicit and lists every
// directory's children.
func (f *FS) finish() {
	if f.entries["."] == nil {
		f.entries["."] = &entry{name: ".", typ: tar.TypeDir, mode: fs.ModeDir | 0o755, layer: -1}
	}
	work := make([]string, 0, len(f.entries))
	for n := range f.entries {
		if n != "." {
			work = append(work, n)
		}
	}
	for len(work) > 0 {
		n := work[len(work)-1]
		work = work[:len(work)-1]
		dir := path.Dir(n)
		d := f.entries[dir]
		if d == nil {
			d = &entry{name: dir, typ: tar.TypeDir, mode: fs.ModeDir | 0o755, layer: -1}
			f.entries[dir] = d
			if dir != "." {
				work = append(work, dir)
			}
		}
		if d.typ == tar.TypeDir {
			d.children = append(d.children, path.Base(n))
		}
	}
	for _, e := range f.entries {
		slices.Sort(e.children)
	}
}
