package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/match"
)

// ModuleFindings are the findings for the packages inside one module's
// image.
type ModuleFindings struct {
	// Name and Image are the module's. For the findings of the root's own
	// packages not installed by RPM, Name is empty and Image names the
	// image, or Root the directory, reported on.
	Name, Image, Root string
	Findings          []match.Finding
	// Installed are the image's packages, indexed by Finding.Installed.
	Installed []inventory.Package
	// Packages are the image's non-RPM packages (gems, wheels, jars)
	// checked against OSV advisories, Vulnerable the advisories that
	// affect them (indexed into Packages).
	Packages   []inventory.Package
	Vulnerable []match.Vulnerable
	// Owned are non-RPM packages an RPM owns: reported through the RPM.
	Owned []inventory.Owned
}

// target names what the findings are about in a row: "module NAME
// IMAGE", or "image REF" for the packages of the image reported on
// (Name is empty).
func (m *ModuleFindings) target() string {
	switch {
	case m.Name == "" && m.Root != "":
		return "root " + m.Root
	case m.Name == "":
		return "image " + m.Image
	}
	return "module " + m.Name + " " + m.Image
}

// needs reports whether the module needs any update.
func (m *ModuleFindings) needs() bool { return len(m.Findings) > 0 || len(m.Vulnerable) > 0 }

// osvLine describes a package an OSV advisory affects: its purl, the
// fixed version (or that there is none), and where it is in the image.
func osvLine(p *inventory.Package, v match.Vulnerable) string {
	s := p.PURL.String() + fixedIn(v)
	if len(p.Locations) > 0 {
		s += " at " + p.Locations[0].Path
	}
	return s
}

// fixedIn says which version fixes a package: " fixed in V", " no fix"
// when the advisory names none, " fix installed (V)" when the package is
// past it.
func fixedIn(v match.Vulnerable) string {
	switch {
	case v.FixInstalled:
		return " fix installed (" + v.Fixed + ")"
	case v.Fixed == "":
		return " no fix"
	}
	return " fixed in " + v.Fixed
}

// refIDs are the IDs a row shows for an advisory: its own, or with
// --with-cve and --with-bz its CVE and Bugzilla references.
func refIDs(a *advisory.Advisory, opts *Options) []string {
	if !opts.WithCVE && !opts.WithBZ {
		return []string{a.ID}
	}
	// As dnf's list does: every reference but the kinds not asked for.
	var ids []string
	for _, r := range a.References {
		if r.Type == advisory.RefBugzilla && !opts.WithBZ || r.Type == advisory.RefCVE && !opts.WithCVE {
			continue
		}
		if r.ID == "" {
			continue // an OSV link: no ID to list (dnf would print None)
		}
		if !slices.Contains(ids, refID(r)) {
			ids = append(ids, refID(r))
		}
	}
	return ids
}

// moduleRow is one (module, advisory or reference ID) row.
type moduleRow struct {
	mod  *ModuleFindings
	id   string
	adv  *advisory.Advisory
	pkgs []string // affected packages: "fixed-NEVRA (installed NEVRA)"
	// installed is dnf's mark: every pair of the row has its fix installed.
	installed bool
}

func moduleRows(mods []ModuleFindings, opts *Options) []moduleRow {
	var rows []moduleRow
	for mi := range mods {
		m := &mods[mi]
		at := map[string]int{}
		add := func(a *advisory.Advisory, pkg string, installed bool) {
			for _, id := range refIDs(a, opts) {
				i, ok := at[id]
				if !ok {
					i = len(rows)
					at[id] = i
					rows = append(rows, moduleRow{mod: m, id: id, adv: a, installed: true})
				}
				rows[i].installed = rows[i].installed && installed
				if !slices.Contains(rows[i].pkgs, pkg) {
					rows[i].pkgs = append(rows[i].pkgs, pkg)
				}
			}
		}
		for _, f := range m.Findings {
			pkg := f.Fixed.Name + "-" + f.Fixed.EVR + "." + f.Fixed.Arch
			if f.Installed >= 0 && f.Installed < len(m.Installed) {
				pkg += " (installed " + rpm.NEVRA(&m.Installed[f.Installed]) + ")"
			}
			add(f.Advisory, pkg, f.NewerOrEqualInstalled)
		}
		for _, v := range m.Vulnerable {
			add(v.Advisory, osvLine(&m.Packages[v.Package], v), v.FixInstalled)
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
	return writeModuleList(w, moduleRows(mods, &opts), mods, &opts, packages, columns{})
}

// ListAll writes dnf's list of findings followed by the module rows of
// ModuleList, the ID and label columns of both as wide as the widest of
// either, so that the rows line up.
func ListAll(w io.Writer, findings []match.Finding, mods []ModuleFindings, opts Options, packages bool) error {
	host, err := listRows(findings, &opts)
	if err != nil {
		return err
	}
	rows := moduleRows(mods, &opts)
	c := listWidths(host)
	m := moduleWidths(rows)
	c = columns{max(c.id, m.id), max(c.label, m.label), c.nevra}
	if opts.Links {
		// Only the URL column follows: without it (with -v's dates) the
		// host rows stay exactly dnf's.
		c.nevra = max(c.nevra, m.nevra)
	}
	if err := writeList(w, host, &opts, c); err != nil {
		return err
	}
	return writeModuleList(w, rows, mods, &opts, packages, c)
}

// moduleWidths are the widths of the columns of module rows (the NEVRA
// column holds what the row is about).
func moduleWidths(rows []moduleRow) columns {
	var c columns
	for _, r := range rows {
		c.id = max(c.id, utf8.RuneCountInString(r.id))
		c.label = max(c.label, utf8.RuneCountInString(label(r.adv)))
		c.nevra = max(c.nevra, utf8.RuneCountInString(r.mod.target()))
	}
	return c
}

func writeModuleList(w io.Writer, rows []moduleRow, mods []ModuleFindings, opts *Options, packages bool,
	least columns) error {
	m := moduleWidths(rows)
	idw, tlw, nw := max(least.id, m.id), max(least.label, m.label), max(least.nevra, m.nevra)
	var b strings.Builder
	for _, r := range rows {
		if opts.Mode == match.All {
			if r.installed {
				b.WriteString("i ")
			} else {
				b.WriteString("  ")
			}
		}
		b.Write(appendPadded(nil, r.id, idw))
		b.WriteByte(' ')
		b.Write(appendPadded(nil, label(r.adv), tlw))
		b.WriteByte(' ')
		if opts.Links {
			// The URL column lines up with the host rows'.
			b.Write(appendPadded(nil, r.mod.target(), nw))
			u := NoticeURL(r.adv)
			if u == "" {
				u = "-"
			}
			b.WriteString(" " + u)
		} else {
			b.WriteString(r.mod.target())
		}
		b.WriteByte('\n')
		if packages || opts.Verbose {
			for _, p := range r.pkgs {
				b.WriteString("    " + p + "\n")
			}
		}
	}
	if opts.Verbose {
		for i := range mods {
			nonRPM(&b, &mods[i])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// nonRPM writes, for -v, a module's non-RPM packages that advisories
// affect, each with its advisories' IDs, CVE aliases and the fixed
// version, then how many others were checked or left to their RPMs.
func nonRPM(b *strings.Builder, m *ModuleFindings) {
	if len(m.Packages) == 0 && len(m.Owned) == 0 {
		return
	}
	t := m.target()
	fmt.Fprintf(b, "%s: packages not installed by RPM\n", strings.ToUpper(t[:1])+t[1:])
	byPkg := map[int][]match.Vulnerable{}
	var order []int
	for _, v := range m.Vulnerable {
		if _, ok := byPkg[v.Package]; !ok {
			order = append(order, v.Package)
		}
		byPkg[v.Package] = append(byPkg[v.Package], v)
	}
	slices.Sort(order)
	for _, pi := range order {
		p := &m.Packages[pi]
		loc := ""
		if len(p.Locations) > 0 {
			loc = " " + p.Locations[0].Path
		}
		b.WriteString("    " + p.PURL.String() + loc + "\n")
		for _, v := range byPkg[pi] {
			line := v.Advisory.ID
			for _, al := range v.Advisory.Aliases {
				if strings.HasPrefix(al, "CVE-") {
					line += " " + al
				}
			}
			if v.Advisory.Has(advisory.HasSeverity) {
				line += " " + v.Advisory.Severity
			}
			line += fixedIn(v)
			b.WriteString("        " + line + "\n")
		}
	}
	fmt.Fprintf(b, "    %d package(s) with advisories, %d without; %d installed by RPMs, reported with them\n",
		len(order), len(m.Packages)-len(order), len(m.Owned))
	for _, o := range m.Owned {
		b.WriteString("    " + o.PURL.String() + " owned by " + o.By + "\n")
	}
}

// severities are dnf's security severities, highest first.
var severities = []string{"Critical", "Important", "Moderate", "Low"}

// ModuleSummary writes, after dnf's summary, how many modules need
// updates and, per module, its notices by type and its security notices
// by severity, as dnf's summary breaks them down. Nothing is written when
// no module needs an update.
func ModuleSummary(w io.Writer, mods []ModuleFindings) error {
	var img, mb strings.Builder // the image's own lines, the modules'
	n := 0
	for _, m := range mods {
		if !m.needs() {
			continue
		}
		b := &mb
		if m.Name == "" {
			b = &img
		} else {
			n++
		}
		seen := map[string]bool{}
		counts := map[string]int{}
		sevs := map[string]int{}
		count := func(a *advisory.Advisory) {
			if !seen[a.ID] {
				seen[a.ID] = true
				counts[a.Type]++
				if a.Type == advisory.Security {
					sev := "Unknown"
					if a.Has(advisory.HasSeverity) && slices.Contains(severities, a.Severity) {
						sev = a.Severity
					}
					sevs[sev]++
				}
			}
		}
		for _, f := range m.Findings {
			count(f.Advisory)
		}
		for _, v := range m.Vulnerable {
			count(v.Advisory)
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
		if m.Name == "" {
			t := m.target()
			fmt.Fprintf(b, "%s, packages not installed by RPM: %s\n", strings.ToUpper(t[:1])+t[1:], strings.Join(parts, ", "))
		} else {
			fmt.Fprintf(b, "    %s (%s): %s\n", m.Name, m.Image, strings.Join(parts, ", "))
		}
		for _, sev := range append(severities, "Unknown") {
			if n := sevs[sev]; n > 0 {
				fmt.Fprintf(b, "        %d %s Security notice(s)\n", n, sev)
			}
		}
	}
	out := img.String()
	if n > 0 {
		out += fmt.Sprintf("Modules needing updates: %d\n", n) + mb.String()
	}
	_, err := io.WriteString(w, out)
	return err
}

// ModuleInfo writes, after dnf's info, the info block of every advisory a
// module needs, with the same references and links, followed by the
// module and the affected packages inside its image. Nothing is written
// when no module needs an update.
func ModuleInfo(w io.Writer, mods []ModuleFindings, opts Options) error {
	return moduleInfo(w, mods, opts, true)
}

// InfoAll writes dnf's info of findings followed by the blocks of
// ModuleInfo, one blank line between any two blocks (dnf's info of no
// findings is one empty line, which then stands before the first module
// block).
func InfoAll(w io.Writer, findings []match.Finding, mods []ModuleFindings, opts Options) error {
	if err := Info(w, findings, opts); err != nil {
		return err
	}
	return moduleInfo(w, mods, opts, len(findings) > 0)
}

// moduleInfo writes the module blocks, the first after a blank line when
// first is set.
func moduleInfo(w io.Writer, mods []ModuleFindings, opts Options, first bool) error {
	o := opts
	o.WithCVE, o.WithBZ = false, false // one block per advisory
	if o.Mode == match.All {
		o.Mode = match.Available // no installed mark: it is the host's
	}
	var b strings.Builder
	for i, r := range moduleRows(mods, &o) {
		if i > 0 || first {
			b.WriteString("\n")
		}
		b.WriteString(infoBlock(r.adv, false, &o))
		b.WriteString("\n")
		if len(r.adv.Affected) > 0 { // an OSV advisory: its aliases and links
			// Aliases that are CVE references are on the CVEs line.
			var aliases []string
			for _, al := range r.adv.Aliases {
				if !slices.ContainsFunc(r.adv.References, func(ref advisory.Reference) bool {
					return ref.Type == advisory.RefCVE && ref.ID == al
				}) {
					aliases = append(aliases, al)
				}
			}
			keyLines(&b, "Aliases", aliases)
			var links []string
			for _, ref := range r.adv.References {
				if ref.Type != advisory.RefCVE && ref.Type != advisory.RefSelf && ref.Href != "" {
					links = append(links, ref.Href)
				}
			}
			keyLines(&b, "Links", links)
		}
		if r.mod.Name == "" {
			t := r.mod.target()
			kw, what, _ := strings.Cut(t, " ")
			keyLine(&b, strings.ToUpper(kw[:1])+kw[1:], what)
		} else {
			keyLine(&b, "Module", r.mod.Name+" "+r.mod.Image)
		}
		keyLines(&b, "Packages", r.pkgs)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
