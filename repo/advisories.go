package repo

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/advisory/index"
	"github.com/alicorn-dev/alicorn/advisory/updateinfo"
	"github.com/alicorn-dev/alicorn/modularity"
)

// AdvisoryOptions choose what Advisories returns.
type AdvisoryOptions struct {
	// Brief allows advisories without their details when they come from
	// the index (see index.Options): enough to match and list, not to show.
	Brief bool
	// Keep, when set, chooses the advisories to return; the others are
	// still parsed and indexed, but never kept in memory. It must not keep
	// the advisory it is given nor its strings (when updateinfo is parsed
	// they are lent, and reused for the next advisory). It is called on
	// one goroutine, once per advisory, in document order, unless
	// KeepConcurrently is set.
	Keep func(*advisory.Advisory) bool
	// Prefilter, when set, rejects advisories by type before Keep (and,
	// from the index, before anything else of them is decoded). It is
	// called as Keep is.
	Prefilter func(typ string) bool
	// KeepConcurrently lets Advisories parse updateinfo on every core,
	// for a Keep and a Prefilter that are pure and safe for concurrent
	// use: they are then called from several goroutines at once, in no
	// particular order, and possibly more than once for an advisory (a
	// part of the document parsed again). The advisories returned are in
	// document order all the same. From the index they are called as
	// without it.
	KeepConcurrently bool
	// NoReferences allows advisories without their references when they
	// come from the index, for callers that neither print nor filter by
	// them (Keep still sees them).
	NoReferences bool
	// KeepReady, when set, is closed once Keep can answer without waiting
	// (it may need data still being loaded). Until then, parsing holds
	// the advisories that pass Prefilter and asks Keep about them later,
	// instead of stalling on the first one.
	KeepReady <-chan struct{}
}

// Advisories reads the repository's updateinfo. A repository without one
// has no advisories. The whole file is read and checked before anything
// is returned: a truncated, malformed or altered file is an error.
//
// With a cache directory, the parsed advisories are kept in an index
// named after updateinfo's checksum, so the next run with the same
// metadata loads them without parsing. A damaged index is dropped and
// rebuilt; a damaged cached updateinfo is dropped and downloaded again
// (in cache-only mode, an error naming it).
func (m *Metadata) Advisories(ctx context.Context, opts AdvisoryOptions) ([]*advisory.Advisory, error) {
	d := m.Repomd.Find("updateinfo")
	if d == nil {
		return nil, nil
	}
	idx := ""
	if sum := strings.TrimSpace(d.Checksum.Value); sum != "" && !strings.ContainsAny(sum, "/\\") {
		idx = m.CacheFile(sum + "-updateinfo.idx")
	}
	if idx != "" {
		as, err := index.Read(idx, index.Options{Brief: opts.Brief, Keep: opts.Keep, Prefilter: opts.Prefilter,
			NoReferences: opts.NoReferences})
		if err == nil {
			m.setRepo(as)
			return as, nil
		}
		if errors.Is(err, index.ErrCorrupt) {
			os.Remove(idx) // dropped, rebuilt below
		}
	}
	var as []*advisory.Advisory
	err := m.redownloadDamaged(d, func() (err error) {
		as, err = m.parseAdvisories(ctx, opts, idx)
		return err
	})
	return as, err
}

// redownloadDamaged runs read, which reads the metadata file d, and
// when it fails on a cached copy that no longer matches repomd's
// checksum (a damaged cache), drops that copy and runs read again, which
// downloads it anew; in cache-only mode that is an error naming the
// file.
func (m *Metadata) redownloadDamaged(d *Data, read func() error) error {
	err := read()
	if err == nil || !m.dropDamaged(d) {
		return err
	}
	if m.f.CacheOnly {
		return fmt.Errorf("repository %s: %s is damaged (%w) and was removed: run without -C to download it again",
			m.Config.ID, m.cachedName(d), ErrChecksum)
	}
	return read()
}

// dropDamaged removes the cached copy of the metadata file d when it no
// longer matches repomd's checksum, and tells whether it did: a read
// that failed on it may succeed on a new download.
func (m *Metadata) dropDamaged(d *Data) bool {
	if m.cache == "" || m.local() && !m.f.CacheOnly {
		return false // not read from the cache
	}
	name := m.cachedName(d)
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	h, err := newHash(d.Checksum.Type)
	if err != nil {
		return false
	}
	if _, err := io.Copy(h, f); err != nil || strings.EqualFold(hex.EncodeToString(h.Sum(nil)), strings.TrimSpace(d.Checksum.Value)) {
		return false
	}
	return os.Remove(name) == nil
}

// parseAdvisories parses updateinfo, writing the index idx (unless "").
func (m *Metadata) parseAdvisories(ctx context.Context, opts AdvisoryOptions, idx string) ([]*advisory.Advisory, error) {
	r, d, err := m.Open(ctx, "updateinfo")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// Each advisory is lent by the parser (its memory is reused for the
	// next one): it is encoded for the index and chosen at once, and what
	// is kept is copied, brief when allowed. Most advisories are looked at
	// once and dropped, so parsing allocates little and touches little
	// fresh memory. With KeepConcurrently the document is parsed in parts
	// on every core, each advisory encoded and chosen on the goroutine
	// that parsed it, and the parts joined in document order.
	var w *index.Writer
	var werr error
	if idx != "" {
		if w, werr = index.Create(idx); werr != nil {
			w = nil
		}
	}
	var as, held []*advisory.Advisory
	j := &joiner{opts: &opts, index: w != nil, free: make(chan *part, 8)}
	// take joins a part's advisories to the others.
	take := func(p *part) {
		if w != nil && werr == nil {
			werr = w.AddBatch(&p.batch)
		}
		if len(p.held) > 0 || len(held) > 0 {
			if !j.ready() {
				// Then nothing of the part was chosen either.
				held = append(held, p.held...)
			} else {
				for _, h := range append(held, p.held...) {
					if opts.Keep == nil || opts.Keep(h) {
						as = append(as, j.copyOf(h))
					}
				}
				held = nil
			}
		}
		as = append(as, p.kept...)
		p.reset()
	}
	if opts.KeepConcurrently {
		err = updateinfo.ParseParts(ctx, r, updateinfo.PartsOptions{}, j.part, func(p *part) error {
			take(p)
			j.recycle(p)
			return nil
		})
	} else {
		// One goroutine; each advisory is shown to Keep once, in
		// document order.
		p := j.part()
		err = updateinfo.ParseWith(ctx, r, updateinfo.Options{Reuse: true}, func(a *advisory.Advisory) error {
			if err := p.Add(a); err != nil {
				return err
			}
			if len(p.kept) > 0 || len(p.held) > 0 || p.batch.Len() > 64<<10 {
				take(p)
			}
			return nil
		})
		if err == nil {
			take(p)
		}
	}
	if err == nil && held != nil {
		select {
		case <-opts.KeepReady:
		case <-ctx.Done():
			err = ctx.Err()
		}
		// Keep may wait on what KeepReady announces: never after a cancel.
		for _, h := range held {
			if err != nil {
				break
			}
			if opts.Keep == nil || opts.Keep(h) {
				as = append(as, j.copyOf(h))
			}
		}
	}
	if err == nil {
		err = r.Verify()
	}
	if w != nil {
		// A bad document leaves no index; failing to write one is not an
		// error (the index only saves time).
		if err != nil || werr != nil {
			w.Abort()
		} else {
			_ = w.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("repository %s: %s: %w", m.Config.ID, d.Location.Href, err)
	}
	m.setRepo(as)
	return as, nil
}

// part is what ParseParts gives Advisories of a part of updateinfo: the
// advisories encoded for the index, those chosen, and those held until
// Keep is ready.
type part struct {
	batch      index.Batch
	kept, held []*advisory.Advisory
	j          *joiner
}

// joiner makes parts and chooses advisories as AdvisoryOptions ask.
type joiner struct {
	opts  *AdvisoryOptions
	index bool
	free  chan *part
}

func (j *joiner) part() *part {
	select {
	case p := <-j.free:
		return p
	default:
		return &part{j: j}
	}
}

// reset empties a part, keeping its memory.
func (p *part) reset() {
	p.batch.Reset()
	clear(p.kept)
	clear(p.held)
	p.kept, p.held = p.kept[:0], p.held[:0]
}

// recycle hands an empty part back for another part of the document.
func (j *joiner) recycle(p *part) {
	select {
	case j.free <- p:
	default:
	}
}

func (j *joiner) ready() bool {
	if j.opts.KeepReady == nil {
		return true
	}
	select {
	case <-j.opts.KeepReady:
		return true
	default:
		return false
	}
}

func (j *joiner) copyOf(a *advisory.Advisory) *advisory.Advisory {
	if j.opts.Brief {
		return a.Brief(!j.opts.NoReferences)
	}
	return a.Clone()
}

// Add encodes a for the index and chooses it, or holds it until Keep is
// ready.
func (p *part) Add(a *advisory.Advisory) error {
	o := p.j.opts
	if p.j.index {
		p.batch.Add(a)
	}
	if o.Prefilter != nil && !o.Prefilter(a.Type) {
		return nil
	}
	if !p.j.ready() {
		// Held as Keep would see it from the index: without details.
		if o.Brief {
			p.held = append(p.held, a.Brief(true))
		} else {
			p.held = append(p.held, a.Clone())
		}
		return nil
	}
	if o.Keep == nil || o.Keep(a) {
		p.kept = append(p.kept, p.j.copyOf(a))
	}
	return nil
}

func (m *Metadata) setRepo(as []*advisory.Advisory) {
	for _, a := range as {
		a.Repo = m.Config.ID
	}
}

// Modules reads the repository's module metadata (modules.yaml); a
// repository without one declares no modules. A damaged cached copy is
// handled as Advisories handles updateinfo's.
func (m *Metadata) Modules(ctx context.Context) (*modularity.Metadata, error) {
	d := m.Repomd.Find("modules")
	if d == nil {
		return nil, nil
	}
	var md *modularity.Metadata
	err := m.redownloadDamaged(d, func() (err error) {
		md, err = m.parseModules(ctx)
		return err
	})
	return md, err
}

func (m *Metadata) parseModules(ctx context.Context) (*modularity.Metadata, error) {
	r, d, err := m.Open(ctx, "modules")
	if err != nil || r == nil {
		return nil, err
	}
	defer r.Close()
	md, err := modularity.Parse(r, m.Config.ID+": "+d.Location.Href)
	if err == nil {
		err = r.Verify()
	}
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", m.Config.ID, err)
	}
	return md, nil
}
