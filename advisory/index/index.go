package index

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"github.com/alicorn-dev/alicorn/advisory"
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
const magic = "ALCADVX3"

const headerLen = len(magic) + 7*8

// ErrCorrupt is returned for a file that is not a whole index.
var ErrCorrupt = errors.New("advisory index is damaged or of another version")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Write stores advisories at path atomically (a temporary file renamed
// into place).
func Write(path string, advs []*advisory.Advisory) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".index-*")
	if err != nil {
		return err
	}
	defer func() {
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(make([]byte, headerLen)); err != nil {
		return err
	}
	dsum := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(tmp, dsum), 256<<10)
	var core, details encoder
	var nref, ncoll, nmod, npkg, ndetails int
	for _, a := range advs {
		core.advisoryCore(a)
		details.advisoryDetails(a)
		if len(details.b) > 64<<10 {
			ndetails += len(details.b)
			if _, err := w.Write(details.b); err != nil {
				return err
			}
			details.b = details.b[:0]
		}
		nref += len(a.References)
		ncoll += len(a.Collections)
		for _, c := range a.Collections {
			nmod += len(c.Modules)
			npkg += len(c.Packages)
		}
	}
	ndetails += len(details.b)
	if _, err := w.Write(details.b); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	tail := binary.LittleEndian.AppendUint32(nil, crc32.Checksum(core.b, castagnoli))
	tail = binary.LittleEndian.AppendUint32(tail, dsum.Sum32())
	if _, err := tmp.Write(append(core.b, tail...)); err != nil {
		return err
	}
	head := []byte(magic)
	for _, n := range []int{len(advs), nref, ncoll, nmod, npkg, len(core.b), ndetails} {
		head = binary.LittleEndian.AppendUint64(head, uint64(n))
	}
	_, err = tmp.WriteAt(head, 0)
	return err
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
}

// Read loads the advisories stored at path. Their strings are views of
// one buffer holding the file's sections.
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
	hb := make([]byte, headerLen)
	if _, err := r.ReadAt(hb, 0); err != nil {
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
	n := h.core
	if !opts.Brief {
		n += h.details
	}
	buf := make([]byte, n+8)
	if _, err := r.ReadAt(buf[:h.core], int64(headerLen)+int64(h.details)); err != nil {
		return nil, err
	}
	if _, err := r.ReadAt(buf[n:], size-8); err != nil {
		return nil, err
	}
	sums := buf[n:]
	core := buf[:h.core]
	if crc32.Checksum(core, castagnoli) != binary.LittleEndian.Uint32(sums) {
		return nil, ErrCorrupt
	}
	var details []byte
	if !opts.Brief {
		details = buf[h.core:n]
		if _, err := r.ReadAt(details, int64(headerLen)); err != nil {
			return nil, err
		}
		if crc32.Checksum(details, castagnoli) != binary.LittleEndian.Uint32(sums[4:]) {
			return nil, ErrCorrupt
		}
	}
	return decode(h, core, details)
}

// Decode reads advisories from a whole index file's content. The result's
// strings point into data, which must not change afterwards.
func Decode(data []byte) ([]*advisory.Advisory, error) {
	return read(bytes.NewReader(data), int64(len(data)), Options{})
}

func decode(h header, core, details []byte) ([]*advisory.Advisory, error) {
	// One allocation per kind of item for the whole file.
	s := slabs{
		adv:  make([]advisory.Advisory, h.nadv),
		ref:  make([]advisory.Reference, h.nref),
		coll: make([]advisory.Collection, h.ncoll),
		mod:  make([]advisory.Module, h.nmod),
		pkg:  make([]advisory.Package, h.npkg),
	}
	out := make([]*advisory.Advisory, h.nadv)
	d := decoder{b: core}
	for i := range out {
		out[i] = &s.adv[i]
		d.advisoryCore(out[i], &s)
		if d.err != nil {
			return nil, d.err
		}
	}
	if len(d.b) != 0 || len(s.ref)+len(s.coll)+len(s.mod)+len(s.pkg) != 0 {
		return nil, ErrCorrupt
	}
	if details != nil {
		d = decoder{b: details}
		for _, a := range out {
			d.advisoryDetails(a)
		}
		if d.err != nil || len(d.b) != 0 {
			return nil, ErrCorrupt
		}
	}
	return out, nil
}

type slabs struct {
	adv  []advisory.Advisory
	ref  []advisory.Reference
	coll []advisory.Collection
	mod  []advisory.Module
	pkg  []advisory.Package
}

// take cuts n items off the front of a slab, or fails.
func take[T any](d *decoder, slab *[]T, n int) []T {
	if d.err != nil || n > len(*slab) {
		d.err = ErrCorrupt
		return nil
	}
	if n == 0 {
		return nil
	}
	out := (*slab)[:n:n]
	*slab = (*slab)[n:]
	return out
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

func (d *decoder) advisoryCore(a *advisory.Advisory, s *slabs) {
	a.ID, a.Type, a.Severity = d.str(), d.str(), d.str()
	a.Present = advisory.Field(d.uvarint())
	a.Issued = d.time()
	a.Updated = d.time()
	f := d.uvarint()
	a.Reboot, a.Restart, a.Relogin = f&1 != 0, f&2 != 0, f&4 != 0
	a.References = take(d, &s.ref, d.count())
	for i := range a.References {
		r := &a.References[i]
		r.Type, r.ID = d.str(), d.str()
		r.Present = advisory.RefField(d.uvarint())
	}
	a.Collections = take(d, &s.coll, d.count())
	for i := range a.Collections {
		c := &a.Collections[i]
		c.Modules = take(d, &s.mod, d.count())
		for j := range c.Modules {
			m := &c.Modules[j]
			m.Name, m.Stream, m.Version, m.Context, m.Arch = d.str(), d.str(), d.str(), d.str(), d.str()
		}
		c.Packages = take(d, &s.pkg, d.count())
		for j := range c.Packages {
			p := &c.Packages[j]
			p.Name, p.EVR, p.Arch = d.str(), d.str(), d.str()
			f := d.uvarint()
			p.HasArch, p.Reboot, p.Restart, p.Relogin = f&1 != 0, f&2 != 0, f&4 != 0, f&8 != 0
		}
	}
}

func (d *decoder) advisoryDetails(a *advisory.Advisory) {
	a.Status, a.From, a.Version = d.str(), d.str(), d.str()
	a.Title, a.Description, a.Rights, a.Message = d.str(), d.str(), d.str(), d.str()
	for i := range a.References {
		a.References[i].Href, a.References[i].Title = d.str(), d.str()
	}
	for i := range a.Collections {
		for j := range a.Collections[i].Packages {
			p := &a.Collections[i].Packages[j]
			p.Src, p.Filename = d.str(), d.str()
		}
	}
}
