package updateinfo

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/alicorn-dev/alicorn/advisory"
)

// The parser's states and the element transitions between them, as in
// libsolv's repo_updateinfoxml.c. Any other element is unknown: it and
// everything inside it are skipped, and it clears the text collected so
// far for the element around it.
type state uint8

const (
	stStart state = iota
	stUpdates
	stUpdate
	stID
	stTitle
	stRelease
	stIssued
	stUpdated
	stMessage
	stReferences
	stReference
	stDescription
	stPkglist
	stCollection
	stName
	stPackage
	stFilename
	stReboot
	stRestart
	stRelogin
	stRights
	stSeverity
	stModule
)

type transition struct {
	from    state
	element string
	to      state
	text    bool // collect the element's text
}

var transitions = [...]transition{
	{stStart, "updates", stUpdates, false},
	{stStart, "update", stUpdate, false},
	{stUpdates, "update", stUpdate, false},
	{stUpdate, "id", stID, true},
	{stUpdate, "title", stTitle, true},
	{stUpdate, "severity", stSeverity, true},
	{stUpdate, "rights", stRights, true},
	{stUpdate, "release", stRelease, true},
	{stUpdate, "issued", stIssued, false},
	{stUpdate, "updated", stUpdated, false},
	{stUpdate, "description", stDescription, true},
	{stUpdate, "message", stMessage, true},
	{stUpdate, "references", stReferences, false},
	{stUpdate, "pkglist", stPkglist, false},
	{stReferences, "reference", stReference, false},
	{stPkglist, "collection", stCollection, false},
	{stCollection, "name", stName, true},
	{stCollection, "package", stPackage, false},
	{stCollection, "module", stModule, false},
	{stPackage, "filename", stFilename, true},
	{stPackage, "reboot_suggested", stReboot, true},
	{stPackage, "restart_suggested", stRestart, true},
	{stPackage, "relogin_suggested", stRelogin, true},
}

func lookup(from state, name []byte) (transition, bool) {
	// The transitions of each state are contiguous: look only at those,
	// and compare names only when their lengths match.
	var ts []transition
	switch from {
	case stStart:
		ts = transitions[0:2]
	case stUpdates:
		ts = transitions[2:3]
	case stUpdate:
		ts = transitions[3:14]
	case stReferences:
		ts = transitions[14:15]
	case stPkglist:
		ts = transitions[15:16]
	case stCollection:
		ts = transitions[16:19]
	case stPackage:
		ts = transitions[19:23]
	}
	for _, t := range ts {
		if len(t.element) == len(name) && t.element == string(name) {
			return t, true
		}
	}
	return transition{}, false
}

// Parse reads updateinfo XML from r and calls fn with each advisory, in
// document order. The advisory belongs to fn. A malformed document is an
// error (with its line) even when some advisories were already passed to
// fn: callers that must not act on part of a document collect first.
func Parse(ctx context.Context, r io.Reader, fn func(*advisory.Advisory) error) error {
	return ParseWith(ctx, r, Options{}, fn)
}

// Options tune ParseWith.
type Options struct {
	// Reuse hands fn an advisory that is valid only during the call: its
	// memory, strings included, is reused for the next one. fn copies
	// what it keeps (Advisory.Brief, Advisory.Clone). Parsing then
	// allocates almost nothing per advisory, which matters when most are
	// looked at once and dropped.
	Reuse bool
}

// ParseWith is Parse with options.
func ParseWith(ctx context.Context, r io.Reader, opts Options, fn func(*advisory.Advisory) error) error {
	p := parser{tok: newTokenizer(r), reuse: opts.Reuse}
	return p.run(ctx, fn)
}

// ParseAll reads every advisory of an updateinfo document.
func ParseAll(ctx context.Context, r io.Reader) ([]*advisory.Advisory, error) {
	var out []*advisory.Advisory
	err := Parse(ctx, r, func(a *advisory.Advisory) error {
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// source yields XML tokens; the tokenizer is the one implementation
// outside tests, which also drive the parser from encoding/xml.
type source interface {
	// next reads a token: tokStart (with name and attrs), tokText (text)
	// or tokEnd; tokEOF at the end of a well-formed document.
	next() (kind int, err error)
	token() (name []byte, attrs []attr, text []byte)
}

type parser struct {
	tok     source
	name    []byte
	attrs   []attr
	ttext   []byte
	stack   []state
	state   state
	unknown int
	collect bool
	text    []byte
	cur     *advisory.Advisory
	coll    *advisory.Collection
	pkg     *advisory.Package
	sawRoot bool
	// partial is set while parsing a part of a document (ParseParts).
	partial bool
	strs    map[string]string
	recent  [1024]string

	// reuse makes every advisory in spare, with the arena's memory.
	reuse bool
	spare advisory.Advisory

	// The current advisory's free text is gathered in arena and turned
	// into strings when the advisory ends, with one allocation for all.
	arena []byte
	spans advSpans
	refs  []advisory.Reference
}

// span is a piece of the arena.
type span struct{ off, n int }

type pkgSpans struct{ evr, src, filename span }

type refSpans struct{ href, id, title span }

type advSpans struct {
	id, title, description, message span
	refs                            []refSpans
	pkgs                            [][]pkgSpans // per collection
}

func (p *parser) keep(b []byte) span {
	sp := span{len(p.arena), len(b)}
	p.arena = append(p.arena, b...)
	return sp
}

// finish gives the advisory its strings, all views of one copy of the
// arena.
func (p *parser) finish(a *advisory.Advisory) {
	var arena string
	if p.reuse {
		// A view: the arena is not written again until the next advisory.
		arena = unsafe.String(unsafe.SliceData(p.arena), len(p.arena))
	} else {
		arena = string(p.arena) // the one copy
	}
	str := func(sp span) string { return arena[sp.off : sp.off+sp.n] }
	sp := &p.spans
	if p.reuse {
		a.References = append(a.References[:0], p.refs...)
	} else if len(p.refs) > 0 {
		a.References = slices.Clone(p.refs)
	}
	a.ID, a.Title, a.Description, a.Message = str(sp.id), str(sp.title), str(sp.description), str(sp.message)
	for i := range a.References {
		r := &a.References[i]
		rs := sp.refs[i]
		r.Href, r.ID, r.Title = str(rs.href), str(rs.id), str(rs.title)
	}
	for c := range a.Collections {
		for k := range a.Collections[c].Packages {
			pk := &a.Collections[c].Packages[k]
			ps := sp.pkgs[c][k]
			pk.EVR, pk.Src, pk.Filename = str(ps.evr), str(ps.src), str(ps.filename)
		}
	}
}

func (p *parser) run(ctx context.Context, fn func(*advisory.Advisory) error) error {
	if p.strs == nil {
		p.strs = map[string]string{}
	}
	for n := 0; ; n++ {
		if n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		kind, err := p.tok.next()
		if err != nil {
			return err
		}
		p.name, p.attrs, p.ttext = p.tok.token()
		switch kind {
		case tokEOF:
			if !p.sawRoot && !p.partial {
				return fmt.Errorf("the document element is not <updates> or <update>")
			}
			return nil
		case tokText:
			if p.collect {
				p.text = append(p.text, p.ttext...)
			}
		case tokStart:
			if p.unknown > 0 {
				p.unknown++
				continue
			}
			t, ok := lookup(p.state, p.name)
			if !ok {
				p.unknown++
				continue
			}
			p.stack = append(p.stack, p.state)
			p.state = t.to
			p.collect = t.text
			p.text = p.text[:0]
			p.start()
			if p.state == stUpdate || p.state == stUpdates {
				p.sawRoot = true
			}
		case tokEnd:
			if p.unknown > 0 {
				p.unknown--
				p.text = p.text[:0]
				p.collect = false
				continue
			}
			if err := p.end(fn); err != nil {
				return err
			}
			p.state = p.stack[len(p.stack)-1]
			p.stack = p.stack[:len(p.stack)-1]
			p.collect = false
			p.text = p.text[:0]
		}
	}
}

// attr returns the attribute's value and whether it was given; the value
// is valid until the next token.
func (p *parser) attr(name string) ([]byte, bool) {
	for _, a := range p.attrs {
		if string(a.name) == name {
			return a.value, true
		}
	}
	return nil, false
}

// pooled is attr for values that repeat across a document (types,
// arches, severities): one string per distinct value.
func (p *parser) pooled(name string) (string, bool) {
	for _, a := range p.attrs {
		if string(a.name) == name {
			return p.intern(a.value), true
		}
	}
	return "", false
}

func (p *parser) intern(b []byte) string {
	// A direct-mapped cache in front of the map: the same few values
	// (arches, types, severities) come back all the time.
	slot := 0
	if len(b) > 0 {
		// Package names differ mostly at their ends.
		n := len(b)
		slot = (n*31 + int(b[0])*7 + int(b[n-1])*131 + int(b[max(0, n-2)])*1031 + int(b[n/2])*17) & (len(p.recent) - 1)
		if r := p.recent[slot]; r == string(b) {
			return r
		}
	}
	if s, ok := p.strs[string(b)]; ok {
		p.recent[slot] = s
		return s
	}
	s := string(b)
	if len(p.strs) < 1<<16 {
		p.strs[s] = s
	}
	return s
}

func (p *parser) start() {
	switch p.state {
	case stUpdate:
		var a *advisory.Advisory
		if p.reuse {
			a = &p.spare
			refs, colls := a.References[:0], a.Collections[:0]
			*a = advisory.Advisory{References: refs, Collections: colls}
		} else {
			a = &advisory.Advisory{}
		}
		a.From, _ = p.pooled("from")
		a.Type, _ = p.pooled("type")
		a.Version, _ = p.pooled("version")
		a.Status, _ = p.pooled("status")
		p.cur = a
		p.arena = p.arena[:0]
		p.spans.id, p.spans.title, p.spans.description, p.spans.message = span{}, span{}, span{}, span{}
		p.spans.refs = p.spans.refs[:0]
		p.refs = p.refs[:0]
		p.spans.pkgs = p.spans.pkgs[:0]
	case stIssued, stUpdated:
		if d, ok := p.attr("date"); ok {
			if t := ParseDate(string(d)); t > 0 {
				tm := time.Unix(t, 0).UTC()
				if p.state == stIssued && tm.After(p.cur.Issued) {
					p.cur.Issued = tm
				}
				if p.state == stUpdated && tm.After(p.cur.Updated) {
					p.cur.Updated = tm
				}
			}
		}
	case stReference:
		var ref advisory.Reference
		var rs refSpans
		if v, ok := p.attr("href"); ok {
			ref.Present |= advisory.RefHasHref
			rs.href = p.keep(v)
		}
		if v, ok := p.attr("id"); ok {
			ref.Present |= advisory.RefHasID
			rs.id = p.keep(v)
		}
		if v, ok := p.attr("title"); ok {
			ref.Present |= advisory.RefHasTitle
			rs.title = p.keep(v)
		}
		var ok bool
		if ref.Type, ok = p.pooled("type"); ok {
			ref.Present |= advisory.RefHasType
		}
		p.refs = append(p.refs, ref) // copied to the advisory, exact-size, when it ends
		p.spans.refs = append(p.spans.refs, rs)
	case stCollection:
		cs := p.cur.Collections
		if p.reuse && len(cs) < cap(cs) {
			// Keep the slot's package and module lists for reuse.
			cs = cs[:len(cs)+1]
			c := &cs[len(cs)-1]
			c.Modules, c.Packages = c.Modules[:0], c.Packages[:0]
		} else {
			cs = append(cs, advisory.Collection{})
		}
		p.cur.Collections = cs
		p.coll = &cs[len(cs)-1]
		if n := len(p.spans.pkgs); n < cap(p.spans.pkgs) {
			p.spans.pkgs = p.spans.pkgs[:n+1]
			p.spans.pkgs[n] = p.spans.pkgs[n][:0]
		} else {
			p.spans.pkgs = append(p.spans.pkgs, nil)
		}
	case stPackage:
		var pk advisory.Package
		var ps pkgSpans
		// One pass over the attributes (the hottest element).
		var e, v, r []byte
		var hasE, hasV, hasR bool
		for _, a := range p.attrs {
			switch string(a.name) {
			case "name":
				pk.Name = p.intern(a.value)
			case "arch":
				pk.Arch, pk.HasArch = p.intern(a.value), true
			case "src":
				ps.src = p.keep(a.value)
			case "epoch":
				e, hasE = a.value, true
			case "version":
				v, hasV = a.value, true
			case "release":
				r, hasR = a.value, true
			}
		}
		ps.evr = p.evr(e, v, r, hasE, hasV, hasR)
		p.coll.Packages = append(p.coll.Packages, pk)
		p.pkg = &p.coll.Packages[len(p.coll.Packages)-1]
		last := len(p.spans.pkgs) - 1
		p.spans.pkgs[last] = append(p.spans.pkgs[last], ps)
	case stModule:
		var m advisory.Module
		m.Name, _ = p.pooled("name")
		m.Stream, _ = p.pooled("stream")
		m.Version, _ = p.pooled("version")
		m.Context, _ = p.pooled("context")
		m.Arch, _ = p.pooled("arch")
		p.coll.Modules = append(p.coll.Modules, m)
	}
}

// evr builds the package's EVR string as libsolv's makeevr_atts does: the
// epoch is dropped when empty or "0", "0:" is added when the version itself
// looks like "digits:...", and missing parts are left out.
func (p *parser) evr(e, v, r []byte, hasE, hasV, hasR bool) span {
	if hasE && (len(e) == 0 || string(e) == "0") {
		hasE = false
	}
	if hasV && !hasE {
		d := 0
		for d < len(v) && v[d] >= '0' && v[d] <= '9' {
			d++
		}
		if d > 0 && d < len(v) && v[d] == ':' {
			e, hasE = []byte("0"), true
		}
	}
	start := len(p.arena)
	if hasE {
		p.arena = append(p.arena, e...)
		p.arena = append(p.arena, ':')
	}
	p.arena = append(p.arena, v...)
	if hasR {
		p.arena = append(p.arena, '-')
		p.arena = append(p.arena, r...)
	}
	return span{start, len(p.arena) - start}
}

func (p *parser) end(fn func(*advisory.Advisory) error) error {
	a := p.cur
	switch p.state {
	case stUpdate:
		p.finish(a)
		p.cur = nil
		return fn(a)
	case stID:
		p.spans.id = p.keep(p.text)
	case stTitle:
		t := p.text
		for len(t) > 0 && t[len(t)-1] == '\n' {
			t = t[:len(t)-1]
		}
		p.spans.title = p.keep(t)
		a.Present |= advisory.HasTitle
	case stSeverity:
		a.Severity = p.intern(p.text)
		a.Present |= advisory.HasSeverity
	case stRights:
		a.Rights = p.intern(p.text)
		a.Present |= advisory.HasRights
	case stDescription:
		p.spans.description = p.keep(p.text)
		a.Present |= advisory.HasDescription
	case stMessage:
		p.spans.message = p.keep(p.text)
		a.Present |= advisory.HasMessage
	case stFilename:
		c := len(p.spans.pkgs) - 1
		p.spans.pkgs[c][len(p.spans.pkgs[c])-1].filename = p.keep(p.text)
	case stReboot, stRestart, stRelogin:
		if len(p.text) > 0 && (p.text[0] == 'T' || p.text[0] == 't' || p.text[0] == '1') {
			switch p.state {
			case stReboot:
				a.Reboot, p.pkg.Reboot = true, true
			case stRestart:
				a.Restart, p.pkg.Restart = true, true
			case stRelogin:
				a.Relogin, p.pkg.Relogin = true, true
			}
		}
	case stCollection:
		p.coll = nil
	case stPackage:
		p.pkg = nil
	}
	return nil
}

// ParseDate reads an updateinfo date as libsolv's datestr2timestamp does
// and returns seconds since the epoch, or 0 when it cannot be read:
// all digits are seconds (as C's atoi reads them, wrapped to 32 bits);
// otherwise "YYYY-MM-DD HH:MM:SS" as glibc's strptime("%F%T") reads it,
// in UTC, with anything after the seconds ignored.
func ParseDate(s string) int64 {
	if s == "" {
		return 0
	}
	d := 0
	for d < len(s) && s[d] >= '0' && s[d] <= '9' {
		d++
	}
	if d == len(s) {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			v = math.MaxInt64 // strtol saturates
		}
		return int64(int32(v)) // atoi returns an int
	}
	if len(s) == 19 && s[4] == '-' && s[7] == '-' && s[10] == ' ' && s[13] == ':' && s[16] == ':' {
		// The usual shape, "2024-05-23 07:47:34", read straight.
		if t, ok := plainDate(s); ok {
			return t
		}
	}
	fields := [6]struct{ lo, hi, width int }{
		{0, 9999, 4}, {1, 12, 2}, {1, 31, 2}, {0, 23, 2}, {0, 59, 2}, {0, 61, 2},
	}
	seps := [6]byte{0, '-', '-', 0, ':', ':'}
	var v [6]int
	i := 0
	for f, spec := range fields {
		if seps[f] != 0 {
			if i >= len(s) || s[i] != seps[f] {
				return 0
			}
			i++
		}
		// glibc's get_number: skip white space, read up to width digits
		// while the value can still grow within range.
		for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return 0
		}
		val, n := 0, spec.width
		for {
			val = val*10 + int(s[i]-'0')
			i++
			n--
			if n <= 0 || val*10 > spec.hi || i >= len(s) || s[i] < '0' || s[i] > '9' {
				break
			}
		}
		if val < spec.lo || val > spec.hi {
			return 0
		}
		v[f] = val
	}
	return time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, time.UTC).Unix()
}

// plainDate reads "YYYY-MM-DD HH:MM:SS" when every field is digits and in
// the range ParseDate accepts, with time.Date's arithmetic (a day or
// second past the month's or minute's end carries over), and reports
// false otherwise.
func plainDate(s string) (int64, bool) {
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, sec := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 61 {
		return 0, false
	}
	// Days from 1970-01-01 to the first of the month (Howard Hinnant's
	// days_from_civil), then the day and time added as time.Date adds them.
	yy := y
	if mo <= 2 {
		yy--
	}
	era := yy / 400
	if yy < 0 { // only January and February of year 0
		era = -1
	}
	yoe := yy - era*400
	mp := (mo + 9) % 12
	doe := yoe*365 + yoe/4 - yoe/100 + (153*mp+2)/5
	days := int64(era)*146097 + int64(doe) - 719468 + int64(d-1)
	return days*86400 + int64(h)*3600 + int64(mi)*60 + int64(sec), true
}
