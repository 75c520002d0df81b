package alicorn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/report"
)

// Query says which advisories a report holds.
type Query struct {
	// Mode is dnf's availability: Available (the default), Installed,
	// Updates or All.
	Mode match.Mode
	// Filter chooses advisories by type, severity, ID, reference and
	// package, as dnf's updateinfo options do.
	Filter match.Filter
	// Details loads every advisory's description, rights and references
	// (dnf's info needs them; a list does not, and loads faster without).
	Details bool
}

// keep returns the findings the filter keeps, in place.
func (q *Query) keep(findings []match.Finding) []match.Finding {
	kept := findings[:0]
	for i := range findings {
		if q.Filter.Keep(&findings[i]) {
			kept = append(kept, findings[i])
		}
	}
	return kept
}

// Report is what a root and its modules need.
type Report struct {
	// Mode is the query's.
	Mode match.Mode
	// Arch is the machine architecture the repositories were read for.
	Arch string
	// Host is the root's (or the image's) own report.
	Host HostReport
	// Modules are the modules deployed on the root, in the order found,
	// each with the findings for the packages inside its image.
	Modules []report.ModuleFindings
	// Warnings are problems that did not stop the report: per-repository
	// options dnf does not know (UnknownOptionError), repositories
	// skipped (skip_if_unavailable), files of images that could not be
	// read, images without an rpm database, OSV ranges that could not be
	// read. Each names what it is about.
	Warnings []error

	ties func(context.Context) (*report.TieOrder, error)
}

// TieOrder returns libdnf's order of the advisory packages, which
// report.Options.Ties needs to print list rows that tie on (NEVRA,
// installed, date) in dnf's order. It reads the repositories' advisories
// and primary metadata again, so report.List asks for it only when rows
// tie.
func (r *Report) TieOrder(ctx context.Context) (*report.TieOrder, error) {
	if r.ties == nil {
		return nil, nil
	}
	return r.ties(ctx)
}

// HostReport is the root's part of a report: exactly what dnf's
// updateinfo shows for it.
type HostReport struct {
	// Installed are the root's installed RPMs, in database order;
	// findings index them.
	Installed []inventory.Package
	// Findings are the (advisory package, installed package) pairs that
	// apply, in dnf's order, kept by the query's filter.
	Findings []match.Finding
	// RunningKernel is the index in Installed of the running kernel's
	// package, or -1 (only the live system has one).
	RunningKernel int
	// Advisories are every advisory read that names an installed package
	// (dnf's summary looks at them for its running-kernel notice).
	Advisories []*advisory.Advisory
	// Other, for an image read with OSV feeds, holds its packages not
	// installed by RPM and what the feeds say of them (Name is "").
	Other *report.ModuleFindings
}

// Report matches the root and its modules against the repositories'
// advisories (and the OSV feeds), as the query asks.
func (s *System) Report(ctx context.Context, q Query) (*Report, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var h *host
	var herr error
	ready := make(chan struct{})
	names := map[string]bool{}
	// Only advisories that name an installed package (of the root or a
	// module) and that the filter may select (or security advisories, for
	// the running-kernel notice) are kept in memory.
	keep := func(a *advisory.Advisory) bool {
		<-ready
		if a.Type != advisory.Security && !q.Filter.Advisory(a) {
			return false
		}
		for _, col := range a.Collections {
			for _, p := range col.Packages {
				if names[p.Name] {
					return true
				}
			}
		}
		return false
	}
	loadHost := func() {
		defer close(ready)
		if h, herr = s.loadHost(ctx); herr != nil {
			return
		}
		for _, p := range h.pkgs {
			names[p.Name] = true
		}
		for _, u := range s.units {
			for _, p := range u.pkgs {
				names[p.Name] = true
			}
		}
	}
	arch := s.opts.Arch
	var d *repoData
	var err error
	if s.opts.Releasever == "" {
		// $releasever comes from the root's packages: read them first.
		if loadHost(); herr != nil {
			return nil, herr
		}
		d, err = s.loadRepos(ctx, &q, arch, h.releasever, keep, ready)
	} else {
		go loadHost()
		d, err = s.loadRepos(ctx, &q, arch, s.opts.Releasever, keep, ready)
		<-ready
		if herr != nil {
			return nil, herr
		}
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkData(h, d); err != nil {
		return nil, err
	}
	rep := &Report{Mode: q.Mode, Arch: arch, Host: HostReport{Installed: h.pkgs, RunningKernel: h.kernel,
		Advisories: d.advs}}
	rep.Warnings = append(rep.Warnings, d.warnings...)
	rep.Warnings = append(rep.Warnings, d.skipped...)
	rep.Warnings = append(rep.Warnings, s.warnings...)

	active, modular, err := activeModules(s.root, arch, d.streams)
	if err != nil {
		return nil, err
	}
	// Advisories the filter rejects whatever they fix need not be
	// matched (the running-kernel notice looks at all of them).
	candidates := d.advs
	if len(q.Filter.Specs) == 0 {
		candidates = make([]*advisory.Advisory, 0, len(d.advs))
		for _, a := range d.advs {
			if q.Filter.Advisory(a) {
				candidates = append(candidates, a)
			}
		}
	}
	opts := match.DNFOptions{Mode: q.Mode, RunningKernelSource: h.kernelSource, ActiveModules: active}
	if q.Mode == match.Updates {
		opts.Upgradable = upgradable(h.pkgs, d.avail, s.excl, modular)
	}
	findings, err := match.DNF(ctx, h.pkgs, candidates, opts)
	if err != nil {
		return nil, err
	}
	rep.Host.Findings = q.keep(findings)
	rep.ties = func(ctx context.Context) (*report.TieOrder, error) {
		return tieOrder(ctx, arch, h.all, active, d.loaded)
	}
	if h.noRPMDB {
		rep.Warnings = append(rep.Warnings, fmt.Errorf("%s: %w", s.target(), ErrNoRPMDB))
	}
	if s.rootScan == nil && s.hasFeeds() {
		// Read even with no package of the root's to check against them.
		if _, _, err := s.matchOSV(ctx, &q, nil, nil); err != nil {
			return nil, err
		}
	}
	if s.rootScan != nil {
		other, warns, err := s.imageOther(ctx, &q)
		if err != nil {
			return nil, err
		}
		rep.Host.Other = other
		rep.Warnings = append(rep.Warnings, warns...)
	}
	for _, u := range s.units {
		mf, warns, err := s.matchUnit(ctx, &q, u, candidates, d, arch)
		if err != nil {
			return nil, err
		}
		rep.Modules = append(rep.Modules, mf)
		rep.Warnings = append(rep.Warnings, warns...)
	}
	return rep, nil
}

// checkData refuses to report from no data: installed RPMs (the root's or
// a module's) with no repository enabled, or nothing at all to check.
func (s *System) checkData(h *host, d *repoData) error {
	feeds := s.hasFeeds()
	if h.noRPMDB && !feeds {
		return fmt.Errorf("%s: %w, and no feeds are given to check its other packages", s.target(), rpmdb.ErrNoDatabase)
	}
	if d.enabled > 0 {
		return nil
	}
	rpms := len(h.pkgs) > 0
	for _, u := range s.units {
		rpms = rpms || len(u.pkgs) > 0
		feeds = feeds || len(u.mod.OSV) > 0
	}
	if rpms || !feeds {
		return ErrNoRepository
	}
	return nil
}

// imageOther matches the non-RPM packages of the image read as the root
// against the OSV feeds.
func (s *System) imageOther(ctx context.Context, q *Query) (*report.ModuleFindings, []error, error) {
	var warns []error
	for _, err := range inventory.Leaves(s.rootScan.err) {
		warns = append(warns, fmt.Errorf("%s: %w", s.target(), err))
	}
	dbPath, err := rpmdb.Find(s.root)
	if err != nil && !errors.Is(err, rpmdb.ErrNoDatabase) {
		return nil, nil, err
	}
	other, owned, err := splitOwned(ctx, dbPath, s.rootScan.pkgs, s.opts.OSVRPMOwned)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.target(), err)
	}
	mf := &report.ModuleFindings{Image: s.opts.Image, Packages: other, Owned: owned}
	if mf.Image == "" {
		mf.Root = s.root
	}
	var w []error
	if mf.Vulnerable, w, err = s.matchOSV(ctx, q, other, nil); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.target(), err)
	}
	return mf, append(warns, w...), nil
}

// target names the root in messages: "image REF" or "root DIR".
func (s *System) target() string {
	if s.opts.Image != "" {
		return "image " + s.opts.Image
	}
	return "root " + s.root
}

// Severity is a security advisory's severity, in dnf's order; the zero
// value, None, is below every one (no severity, or any).
type Severity int

// The severities dnf knows.
const (
	None Severity = iota
	Low
	Moderate
	Important
	Critical
)

var severityWords = []string{"", "Low", "Moderate", "Important", "Critical"}

// String is dnf's word for the severity ("" for None).
func (s Severity) String() string {
	if s < None || s > Critical {
		return fmt.Sprintf("Severity(%d)", int(s))
	}
	return severityWords[s]
}

// ParseSeverity reads one of dnf's severity words: Low, Moderate,
// Important or Critical, spelled as dnf spells them.
func ParseSeverity(word string) (Severity, error) {
	for i, w := range severityWords[1:] {
		if w == word {
			return Severity(i + 1), nil
		}
	}
	return None, fmt.Errorf("unknown severity %q (choose from Low, Moderate, Important, Critical)", word)
}

// advisoryTypes are the advisory types a filter may name.
var advisoryTypes = []string{advisory.Bugfix, advisory.Enhancement, advisory.NewPackage, advisory.Security}

// Validate refuses a query whose filter names an advisory type or a
// severity dnf does not know: a misspelt one would match nothing, and a
// report of nothing must not come from a typo.
func (q *Query) Validate() error {
	for _, t := range q.Filter.Types {
		if !slices.Contains(advisoryTypes, t) {
			return fmt.Errorf("query: unknown advisory type %q (choose from %s)", t, strings.Join(advisoryTypes, ", "))
		}
	}
	for _, w := range q.Filter.Severities {
		if _, err := ParseSeverity(w); err != nil {
			return fmt.Errorf("query: %w", err)
		}
	}
	return nil
}

// Security returns the security advisories of the report (the root's, its
// image's other packages' and every module's) whose severity is at least
// min (None: any), each once, in the order first found.
func (r *Report) Security(min Severity) []*advisory.Advisory {
	var out []*advisory.Advisory
	seen := map[*advisory.Advisory]bool{}
	add := func(a *advisory.Advisory) {
		sev, _ := ParseSeverity(a.Severity)
		if seen[a] || a.Type != advisory.Security || sev < min {
			return
		}
		seen[a] = true
		out = append(out, a)
	}
	all := r.Modules
	if r.Host.Other != nil {
		all = append([]report.ModuleFindings{*r.Host.Other}, all...)
	}
	for _, f := range r.Host.Findings {
		add(f.Advisory)
	}
	for _, m := range all {
		for _, f := range m.Findings {
			add(f.Advisory)
		}
		for _, v := range m.Vulnerable {
			add(v.Advisory)
		}
	}
	return out
}
