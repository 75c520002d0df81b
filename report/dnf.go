package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/match"
)

// Options shape the dnf-style output.
type Options struct {
	// Mode is the availability the findings were matched with; All adds
	// the installed mark and the Installed line.
	Mode match.Mode
	// Verbose is dnf -v: list shows the updated date, info adds Rights
	// and Files.
	Verbose bool
	// WithCVE and WithBZ list reference IDs instead of advisory IDs.
	WithCVE, WithBZ bool
	// Location is the time zone dates are shown in (dnf: local time).
	Location *time.Location
	// Arches are the architectures whose file names info -v lists.
	Arches []string
	// Links adds the update notice URL to list rows and every
	// reference's URL to info (not in dnf).
	Links bool
	// Ties, when set, gives libdnf's order of advisory packages; List
	// asks for it only when rows tie, and prints them in that order.
	Ties func() (*TieOrder, error)
}

func (o *Options) loc() *time.Location {
	if o.Location != nil {
		return o.Location
	}
	return time.Local
}

func (o *Options) date(a *advisory.Advisory) string {
	t := a.LastUpdated()
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.In(o.loc()).Format(time.DateTime)
}

var typeLabel = map[string]string{
	advisory.Bugfix: "bugfix", advisory.Enhancement: "enhancement", advisory.Security: "security",
	advisory.NewPackage: "newpackage",
}

var securityLabel = map[string]string{
	"Critical": "Critical/Sec.", "Important": "Important/Sec.", "Moderate": "Moderate/Sec.", "Low": "Low/Sec.",
}

func label(a *advisory.Advisory) string {
	if a.Type == advisory.Security {
		if l, ok := securityLabel[a.Severity]; ok && a.Has(advisory.HasSeverity) {
			return l
		}
		return "Unknown/Sec."
	}
	if l, ok := typeLabel[a.Type]; ok {
		return l
	}
	return "unknown"
}

// Summary writes dnf's "Updates Information Summary".
func Summary(w io.Writer, findings []match.Finding, opts Options) error {
	type sevKey struct{ id, sev string }
	byID := map[string]string{}  // advisory ID -> type (the last seen)
	bySev := map[sevKey]string{} // (ID, severity) -> severity bucket
	for _, f := range findings {
		a := f.Advisory
		byID[a.ID] = a.Type
		if a.Type == advisory.Security {
			sev := "\x00none"
			if a.Has(advisory.HasSeverity) {
				sev = a.Severity
			}
			bySev[sevKey{a.ID, sev}] = sev
		}
	}
	if len(byID) == 0 {
		return nil
	}
	counts := map[string]int{}
	for _, t := range byID {
		counts["t:"+t]++
	}
	for _, s := range bySev {
		counts["s:"+s]++
	}
	other := 0
	for t, n := range counts {
		if strings.HasPrefix(t, "t:") {
			if _, known := typeLabel[t[2:]]; !known {
				other += n
			}
		}
	}
	rows := []struct {
		indent int
		label  string
		n      int
	}{
		{0, "New Package notice(s)", counts["t:newpackage"]},
		{0, "Security notice(s)", counts["t:security"]},
		{1, "Critical Security notice(s)", counts["s:Critical"]},
		{1, "Important Security notice(s)", counts["s:Important"]},
		{1, "Moderate Security notice(s)", counts["s:Moderate"]},
		{1, "Low Security notice(s)", counts["s:Low"]},
		{1, "Unknown Security notice(s)", counts["s:\x00none"]},
		{0, "Bugfix notice(s)", counts["t:bugfix"]},
		{0, "Enhancement notice(s)", counts["t:enhancement"]},
		{0, "other notice(s)", other},
	}
	width := 0
	for _, r := range rows {
		if r.n > 0 {
			width = max(width, len(strconv.Itoa(r.n)))
		}
	}
	var b strings.Builder
	b.WriteString("Updates Information Summary: " + opts.Mode.String() + "\n")
	for _, r := range rows {
		if r.n == 0 {
			continue
		}
		fmt.Fprintf(&b, "    %*d %s\n", width+4*r.indent, r.n, r.label)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// listKey is dnf's grouping of list rows.
type listKey struct {
	nevra     string
	installed bool
	updated   int64
}

func compareKeys(a, b listKey) int {
	if c := strings.Compare(a.nevra, b.nevra); c != 0 {
		return c
	}
	if a.installed != b.installed {
		if a.installed {
			return 1
		}
		return -1
	}
	return cmp.Compare(a.updated, b.updated)
}

type listEntry struct {
	key listKey
	id  string
	adv *advisory.Advisory
	seq int32 // position before sorting, to keep the sort stable
	fi  int32 // the finding's index, for the order of tied rows
}

// List writes dnf's updateinfo list. Rows are grouped by (NEVRA,
// installed, updated) in that order; within a group each ID is printed
// once, in first-seen order, with the last advisory's label (dnf keeps
// them in a dict).
func List(w io.Writer, findings []match.Finding, opts Options) error {
	rows, err := listRows(findings, &opts)
	if err != nil {
		return err
	}
	return writeList(w, rows, &opts, columns{})
}

// listRows are dnf's list rows, sorted and merged.
func listRows(findings []match.Finding, opts *Options) ([]listEntry, error) {
	entries := make([]listEntry, 0, len(findings))
	for fi, f := range findings {
		a := f.Advisory
		k := listKey{nevra: f.Fixed.Name + "-" + f.Fixed.EVR + "." + f.Fixed.Arch, installed: f.NewerOrEqualInstalled}
		if t := a.LastUpdated(); !t.IsZero() {
			k.updated = t.Unix()
		}
		if opts.WithCVE || opts.WithBZ {
			for _, r := range a.References {
				if r.Type == advisory.RefBugzilla && !opts.WithBZ || r.Type == advisory.RefCVE && !opts.WithCVE {
					continue
				}
				entries = append(entries, listEntry{key: k, id: refID(r), adv: a, fi: int32(fi)})
			}
			continue
		}
		entries = append(entries, listEntry{key: k, id: a.ID, adv: a, fi: int32(fi)})
	}
	// Stable by position: a plain sort with the position as the last
	// key is several times faster than a stable sort (no merging).
	for i := range entries {
		entries[i].seq = int32(i)
	}
	slices.SortFunc(entries, func(a, b listEntry) int {
		if c := compareKeys(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	if err := orderTies(entries, findings, opts.Ties); err != nil {
		return nil, err
	}
	// Merge repeated IDs within each group.
	out := entries[:0]
	for i := 0; i < len(entries); {
		j := i
		for j < len(entries) && entries[j].key == entries[i].key {
			j++
		}
		start := len(out)
	group:
		for _, e := range entries[i:j] {
			for k := start; k < len(out); k++ {
				if out[k].id == e.id {
					out[k].adv = e.adv
					continue group
				}
			}
			out = append(out, e)
		}
		i = j
	}
	return out, nil
}

// columns are the widths of a list's ID, label and NEVRA columns.
type columns struct{ id, label, nevra int }

// listWidths are the widths of the columns of rows.
func listWidths(entries []listEntry) columns {
	var c columns
	for _, e := range entries {
		c.id = max(c.id, utf8.RuneCountInString(e.id))
		c.label = max(c.label, utf8.RuneCountInString(label(e.adv)))
		c.nevra = max(c.nevra, utf8.RuneCountInString(e.key.nevra))
	}
	return c
}

// writeList writes list rows, the columns at least as wide as least.
func writeList(w io.Writer, entries []listEntry, opts *Options, least columns) error {
	idw, tlw, nw := least.id, least.label, least.nevra
	size := 0
	for _, e := range entries {
		idw = max(idw, utf8.RuneCountInString(e.id))
		tlw = max(tlw, utf8.RuneCountInString(label(e.adv)))
		nw = max(nw, utf8.RuneCountInString(e.key.nevra))
		size += len(e.id) + len(e.key.nevra) + 32
	}
	// Rows go out in chunks: the report can be large, and a whole copy
	// of it would only cost memory.
	const chunk = 64 << 10
	b := make([]byte, 0, min(chunk+512, size+len(entries)*(idw+tlw+nw+96)))
	for _, e := range entries {
		if len(b) > chunk {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
		if opts.Mode == match.All {
			if e.key.installed {
				b = append(b, "i "...)
			} else {
				b = append(b, "  "...)
			}
		}
		b = appendPadded(b, e.id, idw)
		b = append(b, ' ')
		b = appendPadded(b, label(e.adv), tlw)
		b = append(b, ' ')
		switch {
		case opts.Verbose:
			b = appendPadded(b, e.key.nevra, nw)
			b = append(b, ' ')
			b = append(b, opts.date(e.adv)...)
		case opts.Links:
			b = appendPadded(b, e.key.nevra, nw)
		default:
			b = append(b, e.key.nevra...)
		}
		if opts.Links {
			u := NoticeURL(e.adv)
			if u == "" {
				u = "-" // keeps the column for scripts
			}
			b = append(b, ' ')
			b = append(b, u...)
		}
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
}

// appendPadded appends s left-justified to width code points.
func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for n := utf8.RuneCountInString(s); n < width; n++ {
		b = append(b, ' ')
	}
	return b
}

// refID is the reference's ID as Python would print it ("None" if unset).
func refID(r advisory.Reference) string {
	if r.Present&advisory.RefHasID == 0 {
		return "None"
	}
	return r.ID
}

// NoticeURL is the advisory's update notice: the href of its "self"
// reference, else of a reference whose ID is the advisory's, else "".
func NoticeURL(a *advisory.Advisory) string {
	for _, r := range a.References {
		if r.Type == advisory.RefSelf && r.Href != "" {
			return r.Href
		}
	}
	for _, r := range a.References {
		if r.ID == a.ID && r.Href != "" {
			return r.Href
		}
	}
	return ""
}

// Info writes dnf's updateinfo info blocks.
func Info(w io.Writer, findings []match.Finding, opts Options) error {
	seen := map[string]bool{}
	var blocks []string
	for _, f := range findings {
		blk := infoBlock(f.Advisory, f.NewerOrEqualInstalled, &opts)
		if !seen[blk] {
			seen[blk] = true
			blocks = append(blocks, blk)
		}
	}
	lower := make(map[string]string, len(blocks))
	for _, b := range blocks {
		lower[b] = pyLower(b)
	}
	sort.SliceStable(blocks, func(i, j int) bool { return lower[blocks[i]] < lower[blocks[j]] })
	_, err := io.WriteString(w, strings.Join(blocks, "\n\n")+"\n")
	return err
}

const keyWidth = 11 // the widest label, "Description"

// keyLine writes "  Key: value" with the key right-aligned, as dnf's
// info does.
func keyLine(b *strings.Builder, key, value string) {
	b.WriteString(strings.Repeat(" ", keyWidth-utf8.RuneCountInString(key)))
	b.WriteString(key)
	b.WriteString(": ")
	b.WriteString(value)
	b.WriteByte('\n')
}

// keyLines writes values under one key, the key on the first line only.
func keyLines(b *strings.Builder, key string, values []string) {
	for i, v := range values {
		if i == 0 {
			keyLine(b, key, v)
		} else {
			keyLine(b, "", v)
		}
	}
}

func infoBlock(a *advisory.Advisory, installed bool, opts *Options) string {
	var b strings.Builder
	line := func(key, value string) { keyLine(&b, key, value) }
	lines := func(key string, values []string) { keyLines(&b, key, values) }
	sep := strings.Repeat("=", 79)
	b.WriteString(sep + "\n  " + a.Title + "\n" + sep + "\n")
	line("Update ID", a.ID)
	t, ok := typeLabel[a.Type]
	if !ok {
		t = "unknown"
	}
	line("Type", t)
	line("Updated", opts.date(a))
	type ref struct{ text, href string }
	var bugs, cves []ref
	for _, r := range a.References {
		switch r.Type {
		case advisory.RefBugzilla:
			title := ""
			if r.Present&advisory.RefHasTitle != 0 {
				title = r.Title
			}
			bugs = append(bugs, ref{refID(r) + " - " + title, r.Href})
		case advisory.RefCVE:
			cves = append(cves, ref{refID(r), r.Href})
		}
	}
	refLines := func(key string, refs []ref) {
		sort.SliceStable(refs, func(i, j int) bool { return refs[i].text < refs[j].text })
		for i, r := range refs {
			if i == 0 {
				line(key, r.text)
			} else {
				line("", r.text)
			}
			if opts.Links && r.href != "" {
				line("", r.href)
			}
		}
	}
	refLines("Bugs", bugs)
	refLines("CVEs", cves)
	if opts.Links {
		if u := NoticeURL(a); u != "" {
			line("Notice", u)
		}
	}
	lines("Description", splitLines(a.Description))
	if a.Has(advisory.HasSeverity) {
		line("Severity", a.Severity)
	}
	if opts.Verbose {
		lines("Rights", splitLines(a.Rights))
		lines("Files", files(a, opts.Arches))
	}
	if opts.Mode == match.All {
		if installed {
			line("Installed", "true")
		} else {
			line("Installed", "false")
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// files lists the file names of the advisory's packages for the given
// arches, sorted and without repeats.
func files(a *advisory.Advisory, arches []string) []string {
	set := map[string]bool{}
	for _, c := range a.Collections {
		for _, p := range c.Packages {
			for _, arch := range arches {
				if p.HasArch && p.Arch == arch {
					name := p.Filename
					if name == "" {
						name = "None"
					}
					set[name] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// splitLines is Python's str.splitlines.
func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\n', '\v', '\f', '\x1c', '\x1d', '\x1e', '\u0085', '\u2028', '\u2029':
			out = append(out, s[start:i])
			start = i + n
		case '\r':
			out = append(out, s[start:i])
			if i+1 < len(s) && s[i+1] == '\n' {
				n++
			}
			start = i + n
		}
		i += n
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// pyLower approximates Python's str.lower for sorting.
func pyLower(s string) string { return strings.ToLower(s) }
