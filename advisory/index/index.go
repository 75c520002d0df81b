package index

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unsafe"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/internal/tempfile"
)

// The file holds a header, a details section (texts, URLs, file names)
// and a core section (what matching and lists need), each with its own
// CRC-32C, so a brief read touches only the core:
//
//	magic | counts (5 × u64) | core length (u64) | details length (u64)
//	| details | core | core CRC (u32) | details CRC (u32)
//
// Details come first so that Write streams them to the file and holds
// only the (small) core in memory.
const magic = "ALCADVX4"

const headerLen = len(magic) + 7*8

// ErrCorrupt is returned for a file that is not a whole index.
var ErrCorrupt = errors.New("advisory index is damaged or of another version")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Writer writes an index one advisory at a time: details go straight to
// the file, only the core is held in memory.
type Writer struct {
	path string
	tmp  *os.File
	w    *bufio.Writer
	dsum hash.Hash32
	// The core section goes to a second file, appended at Close, so that
	// neither section is held in memory.
	coreTmp                                   *os.File
	cw                                        *bufio.Writer
	csum                                      hash.Hash32
	batch                                     Batch
	nadv, nref, ncoll, nmod, npkg, ndl, ncore int
	err                                       error
}

// Batch holds advisories encoded for an index, so that they can be
// encoded on any goroutine and appended to a Writer in order
// (Writer.AddBatch).
type Batch struct {
	core, details, rec            encoder
	nadv, nref, ncoll, nmod, npkg int
}

// Add encodes an advisory into the batch; a is not kept.
func (b *Batch) Add(a *advisory.Advisory) {
	// Each core record starts with its length, so that readers can skip
	// it unread (Options.Prefilter).
	b.rec.b = b.rec.b[:0]
	b.rec.advisoryCore(a)
	b.core.uvarint(uint64(len(b.rec.b)))
	b.core.b = append(b.core.b, b.rec.b...)
	b.details.advisoryDetails(a)
	b.nadv++
	b.nref += len(a.References)
	b.ncoll += len(a.Collections)
	for _, c := range a.Collections {
		b.nmod += len(c.Modules)
		b.npkg += len(c.Packages)
	}
}

// Len is the size of the batch's encoded advisories in bytes.
func (b *Batch) Len() int { return len(b.core.b) + len(b.details.b) }

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() {
	rec := b.rec
	*b = Batch{core: encoder{b.core.b[:0]}, details: encoder{b.details.b[:0]}, rec: rec}
}

// TempPrefix and TempCorePrefix begin the names of the temporary files
// of an index being written, beside it (see internal/tempfile: the
// process ID follows), which Close or Abort removes; those of a run
// killed meanwhile are for tempfile.Sweep.
const (
	TempPrefix     = ".index-"
	TempCorePrefix = ".index-core-"
)

// Create starts an index that Close moves to path.
func Create(path string) (*Writer, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), tempfile.Pattern(TempPrefix))
	if err != nil {
		return nil, err
	}
	coreTmp, err := os.CreateTemp(filepath.Dir(path), tempfile.Pattern(TempCorePrefix))
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	x := &Writer{path: path, tmp: tmp, dsum: crc32.New(castagnoli), coreTmp: coreTmp, csum: crc32.New(castagnoli)}
	x.w = bufio.NewWriterSize(io.MultiWriter(tmp, x.dsum), 256<<10)
	x.cw = bufio.NewWriterSize(io.MultiWriter(coreTmp, x.csum), 64<<10)
	_, x.err = tmp.Write(make([]byte, headerLen))
	return x, nil
}

// Add appends an advisory.
func (x *Writer) Add(a *advisory.Advisory) error {
	if x.err != nil {
		return x.err
	}
	x.batch.Add(a)
	if len(x.batch.details.b) > 64<<10 || len(x.batch.core.b) > 64<<10 {
		return x.flush()
	}
	return nil
}

func (x *Writer) flush() error {
	err := x.AddBatch(&x.batch)
	x.batch.Reset()
	return err
}

// AddBatch appends the advisories of a batch, which it leaves as it is.
func (x *Writer) AddBatch(b *Batch) error {
	if x.err != nil {
		return x.err
	}
	if _, err := x.cw.Write(b.core.b); err != nil {
		x.err = err
		return err
	}
	if _, err := x.w.Write(b.details.b); err != nil {
		x.err = err
		return err
	}
	x.ncore += len(b.core.b)
	x.ndl += len(b.details.b)
	x.nadv += b.nadv
	x.nref += b.nref
	x.ncoll += b.ncoll
	x.nmod += b.nmod
	x.npkg += b.npkg
	return nil
}

// Abort discards the index.
func (x *Writer) Abort() {
	x.tmp.Close()
	os.Remove(x.tmp.Name())
	x.coreTmp.Close()
	os.Remove(x.coreTmp.Name())
}

// Close finishes the index and moves it into place.
func (x *Writer) Close() error {
	if x.err == nil {
		x.flush()
	}
	if x.err != nil {
		x.Abort()
		return x.err
	}
	err := func() error {
		if err := x.w.Flush(); err != nil {
			return err
		}
		if err := x.cw.Flush(); err != nil {
			return err
		}
		if _, err := x.coreTmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.Copy(x.tmp, x.coreTmp); err != nil {
			return err
		}
		tail := binary.LittleEndian.AppendUint32(nil, x.csum.Sum32())
		tail = binary.LittleEndian.AppendUint32(tail, x.dsum.Sum32())
		if _, err := x.tmp.Write(tail); err != nil {
			return err
		}
		head := []byte(magic)
		for _, n := range []int{x.nadv, x.nref, x.ncoll, x.nmod, x.npkg, x.ncore, x.ndl} {
			head = binary.LittleEndian.AppendUint64(head, uint64(n))
		}
		if _, err := x.tmp.WriteAt(head, 0); err != nil {
			return err
		}
		return x.tmp.Close()
	}()
	if err == nil {
		err = os.Rename(x.tmp.Name(), x.path)
	}
	if err != nil {
		x.tmp.Close()
		os.Remove(x.tmp.Name())
	}
	x.coreTmp.Close()
	os.Remove(x.coreTmp.Name())
	return err
}

// Write stores advisories at path atomically (a temporary file renamed
// into place).
func Write(path string, advs []*advisory.Advisory) error {
	x, err := Create(path)
	if err != nil {
		return err
	}
	for _, a := range advs {
		if err := x.Add(a); err != nil {
			x.Abort()
			return err
		}
	}
	return x.Close()
}

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.uvarint(0)
		return
	}
	e.uvarint(uint64(t.Unix()) + 1)
}

func bools(bs ...bool) uint64 {
	var v uint64
	for i, b := range bs {
		if b {
			v |= 1 << i
		}
	}
	return v
}

func (e *encoder) advisoryCore(a *advisory.Advisory) {
	e.str(a.ID)
	e.str(a.Type)
	e.str(a.Severity)
	e.uvarint(uint64(a.Present))
	e.time(a.Issued)
	e.time(a.Updated)
	e.uvarint(bools(a.Reboot, a.Restart, a.Relogin))
	e.uvarint(uint64(len(a.References)))
	for _, r := range a.References {
		e.str(r.Type)
		e.str(r.ID)
		e.uvarint(uint64(r.Present))
	}
	e.uvarint(uint64(len(a.Collections)))
	for _, c := range a.Collections {
		e.uvarint(uint64(len(c.Modules)))
		for _, m := range c.Modules {
			e.str(m.Name)
			e.str(m.Stream)
			e.str(m.Version)
			e.str(m.Context)
			e.str(m.Arch)
		}
		e.uvarint(uint64(len(c.Packages)))
		for _, p := range c.Packages {
			e.str(p.Name)
			e.str(p.EVR)
			e.str(p.Arch)
			e.uvarint(bools(p.HasArch, p.Reboot, p.Restart, p.Relogin))
		}
	}
}

func (e *encoder) advisoryDetails(a *advisory.Advisory) {
	for _, s := range []string{a.Status, a.From, a.Version, a.Title, a.Description, a.Rights, a.Message} {
		e.str(s)
	}
	for _, r := range a.References {
		e.str(r.Href)
		e.str(r.Title)
	}
	for _, c := range a.Collections {
		for _, p := range c.Packages {
			e.str(p.Src)
			e.str(p.Filename)
		}
	}
}

// Options choose what Read decodes.
type Options struct {
	// Brief leaves out the details: Status, From, Version, Title,
	// Description, Rights and Message, reference Href and Title, package
	// Src and Filename stay empty (the Present bits still tell which the
	// source had). Matching and lists need nothing more.
	Brief bool
	// Keep, when set, chooses the advisories to return from their core
	// fields (details are empty when it runs). The strings it is shown
	// are its to keep: they stay valid and unchanged after Read returns.
	// The advisory and its slices are lent for the call only (they are
	// reused for the next one). Unchosen advisories cost almost nothing.
	Keep func(*advisory.Advisory) bool
	// Prefilter, when set, rejects advisories by type before anything
	// else of them is decoded; Keep sees only those it accepts.
	Prefilter func(typ string) bool
	// NoReferences leaves References nil in the advisories returned (Keep
	// still sees them), for callers that neither print nor filter by
	// them.
	NoReferences bool
}

// Read loads the advisories stored at path. The file is mapped, not read
// into memory, and only chosen advisories are copied out of it.
func Read(path string, opts Options) ([]*advisory.Advisory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	advs, err := read(f, st.Size(), opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return advs, nil
}

type header struct {
	nadv, nref, ncoll, nmod, npkg, core, details uint64
}

func read(r io.ReaderAt, size int64, opts Options) ([]*advisory.Advisory, error) {
	if size < int64(headerLen+8) {
		return nil, ErrCorrupt
	}
	hb := make([]byte, headerLen+8)
	if _, err := r.ReadAt(hb[:headerLen], 0); err != nil {
		return nil, err
	}
	if _, err := r.ReadAt(hb[headerLen:], size-8); err != nil {
		return nil, err
	}
	if string(hb[:len(magic)]) != magic {
		return nil, ErrCorrupt
	}
	var h header
	for i, p := range []*uint64{&h.nadv, &h.nref, &h.ncoll, &h.nmod, &h.npkg, &h.core, &h.details} {
		*p = binary.LittleEndian.Uint64(hb[len(magic)+8*i:])
	}
	if h.core > uint64(size) || h.details > uint64(size) || uint64(headerLen)+h.core+h.details+8 != uint64(size) {
		return nil, ErrCorrupt
	}
	// Each advisory takes at least 8 bytes of core, each other item 2.
	if h.nadv > h.core/8 || h.nref > h.core/2 || h.ncoll > h.core/2 || h.nmod > h.core/2 || h.npkg > h.core/2 {
		return nil, ErrCorrupt
	}
	// The core is read into memory the collector owns, not mapped: the
	// strings Keep is shown and those of the advisories returned view it,
	// so they stay valid whatever their holders keep, after Read returns.
	core, _, err := readSection(r, int64(headerLen)+int64(h.details), int64(h.core))
	if err != nil {
		return nil, err
	}
	// The checksum is computed on another core while the core is decoded
	// (decoding damaged data is safe; nothing is returned unless the sum
	// holds). That goroutine reads only the core, which is never mapped,
	// and every return below waits for it: nothing it reads can be
	// unmapped or reused under it, whichever check fails first.
	coreSum := binary.LittleEndian.Uint32(hb[headerLen:])
	sumOK := make(chan bool, 1)
	go func() { sumOK <- crc32.Checksum(core, castagnoli) == coreSum }()
	advs, err := decodeMapped(r, h, hb, core, opts)
	if !<-sumOK {
		return nil, ErrCorrupt
	}
	if err != nil {
		return nil, err
	}
	return advs, nil
}

// decodeMapped checks the details section, mapped for the call only
// (when opts want it), and decodes the advisories. Nothing it returns
// views the mapping: details are copied out before it is unmapped.
func decodeMapped(r io.ReaderAt, h header, hb, core []byte, opts Options) ([]*advisory.Advisory, error) {
	if opts.Brief {
		return decode(h, core, nil, opts)
	}
	details, release, err := mapSection(r, int64(headerLen), int64(h.details))
	if err != nil {
		return nil, err
	}
	defer release()
	if crc32.Checksum(details, castagnoli) != binary.LittleEndian.Uint32(hb[headerLen+4:]) {
		return nil, ErrCorrupt
	}
	if details == nil {
		details = []byte{} // an empty section, not a brief read
	}
	return decode(h, core, details, opts)
}

// Decode reads advisories from a whole index file's content.
func Decode(data []byte) ([]*advisory.Advisory, error) {
	return read(bytes.NewReader(data), int64(len(data)), Options{})
}

func decode(h header, core, details []byte, opts Options) ([]*advisory.Advisory, error) {
	// Two passes over the core. The first decodes each record into
	// scratch space (views of the core) for Keep and counts what the
	// chosen ones hold; the second decodes only those, straight into
	// slabs of exactly that size, their strings views of the core too
	// (which is never written again). Fresh memory is costly (a page
	// fault per 4 KiB touched), so nothing is allocated twice or grown.
	type span struct{ off, n int }
	var chosen []span
	var want struct{ refs, colls, mods, pkgs int }
	// For the details pass: how many references and packages each
	// advisory has, to skip the details of those not chosen.
	type entry struct {
		kept       bool
		refs, pkgs int
	}
	var entries []entry
	if details != nil {
		entries = make([]entry, 0, h.nadv)
	}
	var scratch advisory.Advisory
	var sc scratchSlabs
	d := decoder{b: core}
	for i := uint64(0); i < h.nadv; i++ {
		n := d.count()
		if d.err != nil {
			return nil, d.err
		}
		off := len(core) - len(d.b)
		rec := decoder{b: d.b[:n]}
		d.b = d.b[n:]
		if opts.Prefilter != nil {
			// The type is the second field: peek at it.
			peek := rec
			peek.str()
			if typ := peek.str(); peek.err == nil && !opts.Prefilter(typ) {
				// Skipped unread; a details pass needs its item counts.
				if details != nil {
					var e entry
					e.refs, e.pkgs = rec.counts()
					if rec.err != nil {
						return nil, rec.err
					}
					entries = append(entries, e)
				}
				continue
			}
		}
		sc.reset()
		scratch = advisory.Advisory{}
		rec.advisoryCore(&scratch, &sc)
		if rec.err != nil || len(rec.b) != 0 {
			return nil, ErrCorrupt
		}
		kept := opts.Keep == nil || opts.Keep(&scratch)
		if details != nil {
			entries = append(entries, entry{kept: kept, refs: len(scratch.References), pkgs: len(sc.pkg)})
		}
		if kept {
			chosen = append(chosen, span{off, n})
			want.refs += len(sc.ref)
			want.colls += len(sc.coll)
			want.mods += len(sc.mod)
			want.pkgs += len(sc.pkg)
		}
	}
	if len(d.b) != 0 {
		return nil, ErrCorrupt
	}
	if opts.NoReferences {
		want.refs = 0
	}
	advs := make([]advisory.Advisory, len(chosen))
	out := make([]*advisory.Advisory, len(chosen))
	slabs := scratchSlabs{
		noRefs: opts.NoReferences,
		ref:    make([]advisory.Reference, 0, want.refs),
		coll:   make([]advisory.Collection, 0, want.colls),
		mod:    make([]advisory.Module, 0, want.mods),
		pkg:    make([]advisory.Package, 0, want.pkgs),
	}
	for k, c := range chosen {
		slabs.spans = slabs.spans[:0]
		rec := decoder{b: core[c.off : c.off+c.n]}
		rec.advisoryCore(&advs[k], &slabs)
		if rec.err != nil {
			return nil, ErrCorrupt
		}
		out[k] = &advs[k]
	}
	if details != nil {
		var cp copier
		d = decoder{b: details}
		k := 0
		for _, e := range entries {
			if e.kept {
				d.advisoryDetails(out[k], &cp)
				k++
				continue
			}
			for range 7 + 2*e.refs + 2*e.pkgs {
				d.str()
			}
		}
		if d.err != nil || len(d.b) != 0 {
			return nil, ErrCorrupt
		}
	}
	return out, nil
}

// scratchSlabs hold the items of the advisory being decoded; they are
// reused for the next one.
type scratchSlabs struct {
	// noRefs drops references as they are read.
	noRefs bool
	ref    []advisory.Reference
	coll   []advisory.Collection
	mod    []advisory.Module
	pkg    []advisory.Package
	spans  []collSpan
}

// collSpan locates a collection's modules and packages in the slabs.
type collSpan struct{ mod, nmod, pkg, npkg int }

func (s *scratchSlabs) reset() {
	s.ref, s.coll, s.mod, s.pkg, s.spans = s.ref[:0], s.coll[:0], s.mod[:0], s.pkg[:0], s.spans[:0]
}

// grow appends n zero items to a scratch slab and returns the index of
// the first; the slab may move, so callers slice it only at the end.
func grow[T any](slab *[]T, n int) int {
	start := len(*slab)
	*slab = slices.Grow(*slab, n)[:start+n]
	clear((*slab)[start:])
	return start
}

// copier copies the details of chosen advisories out of the mapped file
// into an arena.
type copier struct {
	arena []byte
}

func (c *copier) str(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > cap(c.arena)-len(c.arena) {
		c.arena = make([]byte, 0, max(len(s), 64<<10))
	}
	start := len(c.arena)
	c.arena = append(c.arena, s...)
	// A view of the arena: its bytes are never written again.
	return unsafe.String(&c.arena[start], len(s))
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = ErrCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		d.err = ErrCorrupt
		return 0
	}
	return int(v)
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = ErrCorrupt
		return ""
	}
	if n == 0 {
		return ""
	}
	// A view of the read buffer, which nothing changes afterwards.
	s := unsafe.String(&d.b[0], int(n))
	d.b = d.b[n:]
	return s
}

func (d *decoder) time() time.Time {
	v := d.uvarint()
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(int64(v-1), 0).UTC()
}

func (d *decoder) advisoryCore(a *advisory.Advisory, s *scratchSlabs) {
	a.ID, a.Type, a.Severity = d.str(), d.str(), d.str()
	a.Present = advisory.Field(d.uvarint())
	a.Issued = d.time()
	a.Updated = d.time()
	f := d.uvarint()
	a.Reboot, a.Restart, a.Relogin = f&1 != 0, f&2 != 0, f&4 != 0
	nref := d.count()
	if s.noRefs {
		for range nref {
			d.str()
			d.str()
			d.uvarint()
		}
		nref = 0
	}
	r0 := grow(&s.ref, nref)
	for i := r0; i < r0+nref && d.err == nil; i++ {
		s.ref[i].Type, s.ref[i].ID = d.str(), d.str()
		s.ref[i].Present = advisory.RefField(d.uvarint())
	}
	ncoll := d.count()
	c0 := grow(&s.coll, ncoll)
	for range ncoll {
		if d.err != nil {
			return
		}
		var sp collSpan
		sp.nmod = d.count()
		sp.mod = grow(&s.mod, sp.nmod)
		for j := sp.mod; j < sp.mod+sp.nmod && d.err == nil; j++ {
			m := &s.mod[j]
			m.Name, m.Stream, m.Version, m.Context, m.Arch = d.str(), d.str(), d.str(), d.str(), d.str()
		}
		sp.npkg = d.count()
		sp.pkg = grow(&s.pkg, sp.npkg)
		for j := sp.pkg; j < sp.pkg+sp.npkg && d.err == nil; j++ {
			p := &s.pkg[j]
			p.Name, p.EVR, p.Arch = d.str(), d.str(), d.str()
			f := d.uvarint()
			p.HasArch, p.Reboot, p.Restart, p.Relogin = f&1 != 0, f&2 != 0, f&4 != 0, f&8 != 0
		}
		s.spans = append(s.spans, sp)
	}
	if d.err != nil {
		return
	}
	// Slice the slabs now that they no longer move.
	if nref > 0 {
		a.References = s.ref[r0 : r0+nref]
	}
	if ncoll > 0 {
		a.Collections = s.coll[c0 : c0+ncoll]
		for i, sp := range s.spans {
			if sp.nmod > 0 {
				a.Collections[i].Modules = s.mod[sp.mod : sp.mod+sp.nmod]
			}
			if sp.npkg > 0 {
				a.Collections[i].Packages = s.pkg[sp.pkg : sp.pkg+sp.npkg]
			}
		}
	}
}

// counts reads only the number of references and packages of a core
// record (for the details pass), skipping the strings.
func (d *decoder) counts() (refs, pkgs int) {
	skip := func(n int) {
		for range n {
			d.str()
		}
	}
	skip(3)     // ID, type, severity
	d.uvarint() // present
	d.uvarint() // issued
	d.uvarint() // updated
	d.uvarint() // flags
	refs = d.count()
	for range refs {
		skip(2)
		d.uvarint()
	}
	for range d.count() {
		skip(5 * d.count())
		n := d.count()
		for range n {
			skip(3)
			d.uvarint()
		}
		pkgs += n
	}
	return refs, pkgs
}

func (d *decoder) advisoryDetails(a *advisory.Advisory, c *copier) {
	a.Status, a.From, a.Version = c.str(d.str()), c.str(d.str()), c.str(d.str())
	a.Title, a.Description, a.Rights, a.Message = c.str(d.str()), c.str(d.str()), c.str(d.str()), c.str(d.str())
	for i := range a.References {
		a.References[i].Href, a.References[i].Title = c.str(d.str()), c.str(d.str())
	}
	for i := range a.Collections {
		for j := range a.Collections[i].Packages {
			p := &a.Collections[i].Packages[j]
			p.Src, p.Filename = c.str(d.str()), c.str(d.str())
		}
	}
}

func readSection(r io.ReaderAt, off, length int64) ([]byte, func(), error) {
	b := make([]byte, length)
	if _, err := r.ReadAt(b, off); err != nil {
		return nil, nil, err
	}
	return b, func() {}, nil
}
