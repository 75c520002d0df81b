package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/match"
)

// ModuleFindings are the findings for the packages inside one module's
// image.
type ModuleFindings struct {
	Name, Image string
	Findings    []match.Finding
	// Installed are the image's packages, indexed by Finding.Installed.
	Installed []Installed
}

// moduleRow is one (module, advisory or reference ID) row.
type moduleRow struct {
	mod  *ModuleFindings
	id   string
	adv  *advisory.Advisory
	pkgs []string // affected packages: "fixed-NEVRA (installed NEVRA)"
}

func moduleRows(mods []ModuleFindings, opts *Options) []moduleRow {
	var rows []moduleRow
	for mi := range mods {
		m := &mods[mi]
		at := map[string]int{}
		for _, f := range m.Findings {
			a := f.Advisory
			ids := []string{a.ID}
			if opts.WithCVE || opts.WithBZ {
				ids = ids[:0]
				for _, r := range a.References {
					if r.Type == advisory.RefBugzilla && opts.WithBZ || r.Type == advisory.RefCVE && opts.WithCVE {
						ids = append(ids, refID(r))
					}
				}
			}
			pkg := f.Fixed.Name + "-" + f.Fixed.EVR + "." + f.Fixed.Arch
			if f.Installed >= 0 && f.Installed < len(m.Installed) {
				pkg += " (installed " + m.Installed[f.Installed].NEVRA() + ")"
			}
			for _, id := range ids {
				i, ok := at[id]
				if !ok {
					i = len(rows)
					at[id] = i
					rows = append(rows, moduleRow{mod: m, id: id, adv: a})
				}
				if !slices.Contains(rows[i].pkgs, pkg) {
					rows[i].pkgs = append(rows[i].pkgs, pkg)
				}
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b moduleRow) int {
		return cmp.Or(cmp.Compare(a.mod.Name, b.mod.Name), cmp.Compare(a.id, b.id))
	})
	return rows
}

// ModuleList writes, after dnf's rows, one row per module and advisory
// (or reference, with --with-cve and --with-bz) in dnf's columns: the ID,
// the type or severity label, and "module NAME IMAGE"; with Links the
// update notice's URL follows. With packages (or Verbose) each row is
// followed by the affected packages inside the image, indented. Nothing
// is written when no module needs an update.
func ModuleList(w io.Writer, mods []ModuleFindings, opts Options, packages bool) error {
	rows := moduleRows(mods, &opts)
	idw, tlw := 0, 0
	for _, r := range rows {
		idw = max(idw, utf8.RuneCountInString(r.id))
		tlw = max(tlw, utf8.RuneCountInString(label(r.adv)))
	}
	var b strings.Builder
	for _, r := range rows {
		b.Write(appendPadded(nil, r.id, idw))
		b.WriteByte(' ')
		b.Write(appendPadded(nil, label(r.adv), tlw))
		b.WriteString(" module " + r.mod.Name + " " + r.mod.Image)
		if opts.Links {
			u := NoticeURL(r.adv)
			if u == "" {
				u = "-"
			}
			b.WriteString(" " + u)
		}
		b.WriteByte('\n')
		if packages || opts.Verbose {
			for _, p := range r.pkgs {
				b.WriteString("    " + p + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ModuleSummary writes, after dnf's summary, how many modules need
// updates and, per module, its notices by type. Nothing is written when
// no module needs an update.
func ModuleSummary(w io.Writer, mods []ModuleFindings) error {
	var b strings.Builder
	n := 0
	for _, m := range mods {
		if len(m.Findings) == 0 {
			continue
		}
		n++
		seen := map[string]bool{}
		counts := map[string]int{}
		for _, f := range m.Findings {
			if !seen[f.Advisory.ID] {
				seen[f.Advisory.ID] = true
				counts[f.Advisory.Type]++
			}
		}
		var parts []string
		for _, t := range []struct{ typ, label string }{
			{advisory.Security, "Security"}, {advisory.Bugfix, "Bugfix"}, {advisory.Enhancement, "Enhancement"},
			{advisory.NewPackage, "New Package"},
		} {
			if c := counts[t.typ]; c > 0 {
				parts = append(parts, fmt.Sprintf("%d %s notice(s)", c, t.label))
				delete(counts, t.typ)
			}
		}
		other := 0
		for _, c := range counts {
			other += c
		}
		if other > 0 {
			parts = append(parts, fmt.Sprintf("%d other notice(s)", other))
		}
		fmt.Fprintf(&b, "    %s (%s): %s\n", m.Name, m.Image, strings.Join(parts, ", "))
	}
	if n == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "Modules needing updates: %d\n%s", n, b.String())
	return err
}

// ModuleInfo writes, after dnf's info, the info block of every advisory a
// module needs, with the same references and links, followed by the
// module and the affected packages inside its image. Nothing is written
// when no module needs an update.
func ModuleInfo(w io.Writer, mods []ModuleFindings, opts Options) error {
	o := opts
	o.WithCVE, o.WithBZ = false, false // one block per advisory
	if o.Mode == match.All {
		o.Mode = match.Available // no installed mark: it is the host's
	}
	var b strings.Builder
	for _, r := range moduleRows(mods, &o) {
		b.WriteString("\n")
		b.WriteString(infoBlock(r.adv, false, &o))
		b.WriteString("\n")
		keyLine(&b, "Module", r.mod.Name+" "+r.mod.Image)
		keyLines(&b, "Packages", r.pkgs)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
