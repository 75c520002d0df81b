package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/alicorn-dev/alicorn/internal/ctxio"
	"github.com/alicorn-dev/alicorn/internal/tempfile"
	"github.com/alicorn-dev/alicorn/inventory"
)

// Options tune Flatten.
type Options struct {
	// Want chooses the regular files whose contents are kept (from the
	// path and the header alone); the others can be listed and stat'ed
	// but not read. Nil keeps none.
	Want func(name string, info fs.FileInfo) bool
	// MaxFile bounds one file kept in memory (default 256 MiB) and
	// MaxTotal all of them (default 1 GiB). A wanted file past a limit is
	// not kept and not an error of the image: reading it fails with
	// ErrTooLarge, naming it, and the other files are read.
	MaxFile, MaxTotal int64
	// SpillDir, when set, is a directory where kept files of more than
	// 1 MiB are written (to one temporary file, removed by FS.Close)
	// instead of memory, whatever their size, up to MaxSpill bytes in all
	// (default 16 GiB): for images whose wanted files are large, such as
	// a Java application's fat jars.
	SpillDir string
	MaxSpill int64
	// MaxEntries bounds the entries of all layers together, with the
	// parent directories they imply without listing them (default
	// 4,000,000), against layers made only of tiny entries or of paths
	// of very many parts.
	MaxEntries int
	// Memory and Disk, when set, are budgets shared with the rest of a
	// run (other images, extractors): Flatten charges Memory with its
	// list of entries (about EntryCost bytes each, plus the name) and the
	// contents it keeps in memory, Disk with the spill file, and FS.Close
	// gives them back. An image whose entries pass Memory is an error; a
	// file whose contents would pass a budget is not kept (ErrTooLarge).
	Memory, Disk *inventory.Budget
	// WantHead, when set, is asked before a wanted file is spilled, with
	// its first inventory.HeadLen bytes: a file its readers cannot read
	// anyway (a "jar" of zeros) is then not kept, and costs no disk.
	// Reading it fails with ErrUnreadable.
	WantHead func(name string, info fs.FileInfo, head []byte) bool
}

// maxLink is the longest symbolic link target Flatten accepts: Linux's
// PATH_MAX.
const maxLink = 4096

// LayerCost is about what an image holds in memory for each of its
// layers (descriptors, digests), charged to Options.Memory: an image may
// list a hundred thousand layers.
const LayerCost = 2048

// EntryCost is about what Flatten holds in memory for one entry of an
// image besides its name (charged to Options.Memory).
const EntryCost = 320

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
	entries *names[*entry]
	spill   *os.File // large kept files, with Options.SpillDir
	// What Flatten took from Options.Memory and Disk, given back by Close.
	memory, disk        *inventory.Budget
	memTaken, diskTaken int64
}

type entry struct {
	name    string // clean, slash-separated, relative to the root ("." for it)
	typ     byte   // tar.TypeReg, TypeDir, TypeSymlink; hard links become TypeReg
	mode    fs.FileMode
	size    int64
	mtime   time.Time
	link    string // symlink target as written
	layer   int    // index in Layers; -1 for directories made up for missing parents
	data    []byte
	spilled bool // the contents are in FS.spill at offset spillAt
	spillAt int64
	kept    bool // data (or the spill file) holds the contents
	// tooLarge, for a wanted file whose contents were not kept because a
	// limit would have been passed, says so: reading it is that error,
	// and the rest of the image is read all the same.
	tooLarge error
	children []string // base names, sorted (directories)

	// While flattening: the entry's index in its layer's tar stream (-1
	// for placeholders), whether an upper layer hides it, and for a hard
	// link the file whose contents it shares (see root). A placeholder
	// stands for a hard link's target in a lower layer, not read yet; want
	// says that a link to it wants the contents.
	ord      int
	shadowed bool
	src      *entry
	want     bool
}

// root returns the entry holding the contents e shares, following hard
// links (and shortening the chain for the next call).
func (e *entry) root() *entry {
	r := e
	for r.src != nil {
		r = r.src
	}
	for e.src != nil && e.src != r {
		e, e.src = e.src, r
	}
	return r
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
	seed := maphash.MakeSeed()
	f := &FS{entries: newNames[*entry](seed), memory: opts.Memory, disk: opts.Disk}
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
	fl := &flattener{fs: f, opts: opts, seed: seed, hidden: newNames[struct{}](seed), opaque: newNames[struct{}](seed),
		below: map[string]*entry{}}
	// What the layers' descriptions take (the manifest's and ours).
	if err := fl.charge(int64(len(layers))*LayerCost, true); err != nil {
		f.Close()
		return nil, err
	}
	for i := len(layers) - 1; i >= 0; i-- {
		if err := fl.layer(ctx, i, layers[i], cfg.RootFS.DiffIDs[i]); err != nil {
			f.Close()
			return nil, fmt.Errorf("layer %d (%s): %w", i, f.Layers[i].Digest, err)
		}
	}
	if len(fl.below) > 0 {
		f.Close()
		missing := slices.Sorted(maps.Keys(fl.below))
		return nil, fmt.Errorf("hard link to %s: no regular file of that name under the link's layer", missing[0])
	}
	if err := fl.finish(ctx); err != nil {
		f.Close()
		return nil, err
	}
	if err := fl.charge(0, true); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// charge takes n bytes of entry list from the memory budget, in steps of
// 256 KiB (or all that is pending when flush).
func (fl *flattener) charge(n int64, flush bool) error {
	fl.pending += n
	if fl.pending < 256<<10 && !flush {
		return nil
	}
	if err := fl.opts.Memory.Take(fl.pending); err != nil {
		return fmt.Errorf("the image's list of %d layers and %d entries: %w", len(fl.fs.Layers), fl.entries, err)
	}
	fl.fs.memTaken += fl.pending
	fl.pending = 0
	return nil
}

type flattener struct {
	fs      *FS
	opts    Options
	seed    maphash.Seed
	total   int64 // bytes kept in memory
	spilled int64 // bytes written to the spill file
	entries int
	pending int64 // entry list bytes not charged to Options.Memory yet
	// What upper layers hide from lower ones: whited-out paths, and
	// directories made opaque.
	hidden, opaque *names[struct{}]
	// Hard links of the layers read so far to files of lower layers:
	// placeholders by target name.
	below map[string]*entry
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
	if fl.hidden.has(name) || fl.opaque.has(".") {
		return true
	}
	for dir, h := range ancestors(fl.seed, name) {
		if _, ok := fl.hidden.getHashed(dir, h); ok {
			return true
		}
		if _, ok := fl.opaque.getHashed(dir, h); ok {
			return true
		}
		if e, ok := fl.fs.entries.getHashed(dir, h); ok && e.typ != tar.TypeDir {
			return true
		}
	}
	return false
}

// Hard links. A link's target is the file of that name when the link is
// extracted: earlier in the same layer, or else in the layers below. The
// layers are streamed top first, once, and only wanted contents are kept,
// so a wanted link can name a file whose contents were not kept:
//   - a target in a lower layer has not been read yet: a placeholder
//     stands for it (flattener.below) until the layer that holds it is
//     read, which keeps its contents as it streams by;
//   - a target earlier in the same layer has streamed by: keeping every
//     file's contents in case a later name links to it would hold whole
//     layers in memory, and recording where each file lies does not help
//     a compressed stream, which cannot seek. So the layer is read a
//     second time (again), keeping just those targets. This costs one more
//     decompression of that layer, only for images with such a link (rare:
//     rpm databases hard-linked by some image builders), and the second
//     reading is checked against the diff ID as the first was.

// layerStream is a layer's tar, read once, checked against its diff ID
// by end. A single entry of many gigabytes, read or skipped (tar skips an
// entry by reading it), stops soon after ctx is done.
type layerStream struct {
	*tar.Reader
	rc   io.ReadCloser
	in   io.Reader
	sum  hash.Hash
	want v1.Hash
}

func openLayer(ctx context.Context, l v1.Layer, want v1.Hash) (*layerStream, error) {
	sum, err := hasher("diff ID", want)
	if err != nil {
		return nil, err
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	in := io.TeeReader(ctxio.NewReader(ctx, rc), sum)
	return &layerStream{Reader: tar.NewReader(in), rc: rc, in: in, sum: sum, want: want}, nil
}

// end reads the rest of the stream (the archive's end, padding, which
// count too) and checks the whole against the diff ID.
func (s *layerStream) end() error {
	if _, err := io.Copy(io.Discard, s.in); err != nil {
		return fmt.Errorf("reading the layer: %w", err)
	}
	return compareSum("diff ID", s.want, s.sum)
}

func (fl *flattener) layer(ctx context.Context, idx int, l v1.Layer, want v1.Hash) error {
	tr, err := openLayer(ctx, l, want)
	if err != nil {
		return err
	}
	defer tr.rc.Close()
	// This layer's own entries (also those upper layers hide, as targets
	// of hard links), whiteouts and opaque directories; merged under the
	// upper layers' when the layer ends (within a layer the last entry for
	// a name wins, as when extracting).
	mine := newNames[*entry](fl.seed)
	above := fl.below            // upper layers' links to files here or lower
	fresh := map[string]*entry{} // this layer's links to files lower
	need := map[int]*entry{}     // files whose contents links want and the first reading did not keep
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
		if err := fl.charge(EntryCost+int64(len(name)), false); err != nil {
			return err
		}
		b := base(name)
		dir := "."
		if len(b) < len(name) {
			dir = name[:len(name)-len(b)-1]
		}
		if b == ".wh..wh..opq" {
			opaques = append(opaques, dir)
			continue
		}
		if strings.HasPrefix(b, ".wh.") {
			whiteouts = append(whiteouts, path.Join(dir, strings.TrimPrefix(b, ".wh.")))
			continue
		}
		e := &entry{name: name, mode: hdr.FileInfo().Mode(), size: hdr.Size, mtime: hdr.ModTime, layer: idx, ord: n}
		e.shadowed = fl.covered(name) || fl.fs.entries.has(name)
		p := above[name]
		wanted := func() bool {
			return p != nil && p.want || !e.shadowed && fl.opts.Want != nil && fl.opts.Want(name, info{e})
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			e.typ, e.size = tar.TypeDir, 0
		case tar.TypeSymlink:
			// No kernel stores a longer target (PATH_MAX): an image that
			// has one was not made by extracting files.
			if len(hdr.Linkname) > maxLink {
				return fmt.Errorf("symbolic link %s: a target of %d bytes, longer than %d", name, len(hdr.Linkname), maxLink)
			}
			if err := fl.charge(int64(len(hdr.Linkname)), false); err != nil {
				return err
			}
			e.typ, e.link, e.size = tar.TypeSymlink, hdr.Linkname, 0
		case tar.TypeLink:
			target, err := cleanName(hdr.Linkname)
			if err != nil {
				return fmt.Errorf("hard link %s: %w", name, err)
			}
			if err := fl.charge(int64(len(target)), false); err != nil {
				return err
			}
			e.typ, e.size = tar.TypeReg, 0
			if t, ok := mine.get(target); ok {
				if t.typ != tar.TypeReg {
					return fmt.Errorf("hard link %s: %s is not a regular file", name, hdr.Linkname)
				}
				e.size, e.mode, e.mtime = t.size, t.mode, t.mtime
				e.src = t.root()
			} else {
				q := fresh[target]
				if q == nil {
					q = &entry{name: target, typ: tar.TypeReg, layer: -1, ord: -1}
					fresh[target] = q
				}
				e.src = q
			}
			if wanted() {
				wantContents(e.src, need)
			}
		case tar.TypeReg: // the reader reports old-style regular files (TypeRegA) as TypeReg
			e.typ = tar.TypeReg
			if wanted() {
				// Wanted by a link of an upper layer, it is read for the
				// link's name, which its own may not tell (WantHead).
				if err := fl.read(tr.Reader, e, p == nil || !p.want); err != nil {
					return err
				}
			}
		default:
			// Devices, fifos: listed, never read.
			e.typ = hdr.Typeflag
			e.size = 0
		}
		mine.put(name, e)
	}
	if err := tr.end(); err != nil {
		return err
	}

	// Upper layers' links to names of this layer resolve here, unless
	// this layer removed the name from under them.
	var wh, op *names[struct{}]
	if len(above) > 0 {
		wh, op = newNames[struct{}](fl.seed), newNames[struct{}](fl.seed)
		for _, w := range whiteouts {
			wh.put(w, struct{}{})
		}
		for _, o := range opaques {
			op.put(o, struct{}{})
		}
	}
	removes := func(name string) bool {
		if wh.has(name) || op.has(".") {
			return true
		}
		for dir, h := range ancestors(fl.seed, name) {
			_, w := wh.getHashed(dir, h)
			_, o := op.getHashed(dir, h)
			e, ok := mine.getHashed(dir, h)
			if w || o || ok && e.typ != tar.TypeDir {
				return true
			}
		}
		return false
	}
	below := map[string]*entry{}
	for _, name := range slices.Sorted(maps.Keys(above)) {
		p := above[name]
		if t, ok := mine.get(name); ok {
			if t.typ != tar.TypeReg {
				return fmt.Errorf("hard link to %s: not a regular file", name)
			}
			p.src = t.root()
			if p.want {
				wantContents(p.src, need)
			}
			continue
		}
		if removes(name) {
			return fmt.Errorf("hard link to %s: removed by this layer, under the link's", name)
		}
		below[name] = p
	}
	for name, q := range fresh {
		if p := below[name]; p != nil {
			q.src = p
			p.want = p.want || q.want
			continue
		}
		below[name] = q
	}
	fl.below = below
	if len(need) > 0 {
		if err := fl.again(ctx, l, want, need); err != nil {
			return err
		}
	}

	n := 0
	for name, e := range mine.all() {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !e.shadowed {
			fl.fs.entries.put(name, e)
		}
	}
	for _, w := range whiteouts {
		fl.hidden.put(w, struct{}{})
	}
	for _, o := range opaques {
		fl.opaque.put(o, struct{}{})
	}
	return nil
}

// wantContents records that a link wants the contents of r (a root): a
// placeholder keeps them when its layer is read, a file of the layer being
// read not kept yet is read again.
func wantContents(r *entry, need map[int]*entry) {
	r = r.root()
	switch {
	case r.ord < 0:
		r.want = true
	case !r.kept && r.size > 0:
		need[r.ord] = r
	}
}

// again reads the layer a second time to keep the contents of need (by
// index in the tar stream), which hard links want; see the comment on
// hard links above.
func (fl *flattener) again(ctx context.Context, l v1.Layer, want v1.Hash, need map[int]*entry) error {
	tr, err := openLayer(ctx, l, want)
	if err != nil {
		return fmt.Errorf("reading the layer again for hard links: %w", err)
	}
	defer tr.rc.Close()
	for n := 0; len(need) > 0; n++ {
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
			return fmt.Errorf("reading the layer again for hard links: %w", err)
		}
		e := need[n]
		if e == nil {
			continue
		}
		delete(need, n)
		if hdr.Typeflag != tar.TypeReg || hdr.Size != e.size {
			return fmt.Errorf("reading the layer again for hard links: entry %d changed", n)
		}
		if err := fl.read(tr.Reader, e, false); err != nil {
			return err
		}
	}
	if len(need) > 0 {
		return fmt.Errorf("reading the layer again for hard links: the layer is shorter")
	}
	if err := tr.end(); err != nil {
		return fmt.Errorf("again for hard links: %w", err)
	}
	return nil
}

// read keeps a file's contents: in memory when it is small (or there is
// no spill directory) and the memory budget allows, else in the spill
// file.
//
// A file too large to keep is not an error of the image: its reads fail
// with ErrTooLarge, naming it, and every other file is read.
//
// checkHead asks Options.WantHead before spilling; not for files read
// because a hard link wants them, which it would be asked about under
// the wrong name.
func (fl *flattener) read(tr *tar.Reader, e *entry, checkHead bool) error {
	spill := fl.opts.SpillDir != ""
	if !spill || e.size <= spillOver {
		var why error
		switch {
		case e.size < 0 || e.size > fl.opts.MaxFile || fl.total+e.size > fl.opts.MaxTotal:
			why = fmt.Errorf("%s: %w (memory limits: %s a file, %s in all, %s used)", inventory.Size(e.size),
				ErrTooLarge, inventory.Size(fl.opts.MaxFile), inventory.Size(fl.opts.MaxTotal), inventory.Size(fl.total))
		default:
			why = fl.opts.Memory.Take(e.size)
			if why == nil {
				fl.fs.memTaken += e.size
				data := make([]byte, e.size)
				if _, err := io.ReadFull(tr, data); err != nil {
					return fmt.Errorf("%s: %w", e.name, err)
				}
				fl.total += e.size
				e.data, e.kept = data, true
				return nil
			}
			why = fmt.Errorf("%s: %w: %w", inventory.Size(e.size), ErrTooLarge, why)
		}
		if !spill || e.size < 0 {
			e.tooLarge = why
			return nil
		}
		// Past the memory limits, on disk.
	}
	head := make([]byte, min(e.size, inventory.HeadLen))
	if _, err := io.ReadFull(tr, head); err != nil {
		return fmt.Errorf("%s: %w", e.name, err)
	}
	if checkHead && fl.opts.WantHead != nil && !fl.opts.WantHead(e.name, info{e}, head) {
		e.tooLarge = ErrUnreadable
		return nil
	}
	// On disk, a file of any size fits within the spill limits.
	if fl.spilled+e.size > fl.opts.MaxSpill {
		e.tooLarge = fmt.Errorf("%s: %w (spill limit %s, %s used)", inventory.Size(e.size), ErrTooLarge,
			inventory.Size(fl.opts.MaxSpill), inventory.Size(fl.spilled))
		return nil
	}
	if err := fl.opts.Disk.Take(e.size); err != nil {
		e.tooLarge = fmt.Errorf("%s: %w: %w", inventory.Size(e.size), ErrTooLarge, err)
		return nil
	}
	fl.fs.diskTaken += e.size
	return fl.spill(io.MultiReader(bytes.NewReader(head), tr), e)
}

// TempSpill and TempPodman are the name prefixes of the spill files and
// of the directories podman saves images to (the process ID follows them,
// see internal/tempfile).
const (
	TempSpill  = "alicorn-spill-"
	TempPodman = "alicorn-podman-"
)

// spillOver is the size above which kept files go to the spill file
// (when there is one): metadata files (METADATA, gemspecs, os-release)
// stay in memory, archives and databases go to disk.
const spillOver = 64 << 10

// spill keeps a wanted file's contents in the spill file.
func (fl *flattener) spill(tr io.Reader, e *entry) error {
	if fl.fs.spill == nil {
		f, err := os.CreateTemp(fl.opts.SpillDir, tempfile.Pattern(TempSpill))
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

// finish gives hard links their target's contents, adds the directories
// the layers left implicit (counted against Options.MaxEntries) and lists
// every directory's children. Each entry's parents are found with hashes
// computed along its name, and a missing parent is made once: the work is
// linear in the names' lengths, however deep.
func (fl *flattener) finish(ctx context.Context) error {
	f := fl.fs
	root, ok := f.entries.get(".")
	if !ok {
		root = &entry{name: ".", typ: tar.TypeDir, mode: fs.ModeDir | 0o755, layer: -1}
		f.entries.put(".", root)
	}
	list := make([]*entry, 0, f.entries.len())
	for _, e := range f.entries.all() {
		if e.src != nil {
			r := e.root()
			e.size, e.mode, e.mtime = r.size, r.mode, r.mtime
			e.data, e.spilled, e.spillAt, e.kept, e.tooLarge = r.data, r.spilled, r.spillAt, r.kept, r.tooLarge
		}
		if e != root {
			list = append(list, e)
		}
	}
	for _, e := range f.entries.all() {
		e.src = nil
	}
	type parent struct {
		end int // the parent is name[:end]
		h   uint64
	}
	var parents []parent
	for i, e := range list {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		parents = parents[:0]
		for dir, h := range ancestors(fl.seed, e.name) {
			parents = append(parents, parent{len(dir), h})
		}
		child := e
		for k := len(parents) - 1; ; k-- {
			d := root
			if k >= 0 {
				dir := e.name[:parents[k].end]
				if d, ok = f.entries.getHashed(dir, parents[k].h); !ok {
					if fl.entries++; fl.entries > fl.opts.MaxEntries {
						return fmt.Errorf("more than %d entries in the image (with the directories it implies)", fl.opts.MaxEntries)
					}
					// The name is a part of the child's, not a copy.
					if err := fl.charge(EntryCost, false); err != nil {
						return err
					}
					if k%4096 == 0 {
						if err := ctx.Err(); err != nil {
							return err
						}
					}
					d = &entry{name: dir, typ: tar.TypeDir, mode: fs.ModeDir | 0o755, layer: -1}
					f.entries.putHashed(dir, parents[k].h, d)
					d.children = append(d.children, base(child.name))
					child = d
					continue
				}
			}
			if d.typ == tar.TypeDir {
				d.children = append(d.children, base(child.name))
			}
			break
		}
	}
	n := 0
	for _, e := range f.entries.all() {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		slices.Sort(e.children)
	}
	return nil
}
