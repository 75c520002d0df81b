package advisory

import (
	"slices"
	"time"
	"unsafe"
)

// Field marks the optional text fields an advisory's source set, so that
// an empty value can be told from a missing one (dnf prints them apart).
type Field uint8

// The optional fields.
const (
	HasTitle Field = 1 << iota
	HasSeverity
	HasDescription
	HasRights
	HasMessage
)

// Advisory types as dnf names them.
const (
	Security    = "security"
	Bugfix      = "bugfix"
	Enhancement = "enhancement"
	NewPackage  = "newpackage"
)

// Reference types as dnf recognises them; others are kept as written.
const (
	RefBugzilla = "bugzilla"
	RefCVE      = "cve"
	RefVendor   = "vendor"
	RefSelf     = "self"
)

// Advisory is one update notice (an updateinfo <update>, an OSV entry).
type Advisory struct {
	ID string
	// Type is security, bugfix, enhancement, newpackage or whatever the
	// feed wrote (dnf shows any other as "unknown").
	Type    string
	Status  string
	From    string
	Version string

	Title       string
	Severity    string
	Description string
	Rights      string
	Message     string
	// Present tells which of the text fields above the source set.
	Present Field

	// Issued and Updated are the latest readable issued and updated dates;
	// zero when absent or unreadable.
	Issued  time.Time
	Updated time.Time

	References  []Reference
	Collections []Collection

	// Reboot, Restart and Relogin are set when any package suggests it.
	Reboot, Restart, Relogin bool

	// Repo names the repository (or feed) the advisory came from.
	Repo string

	// Aliases are other IDs of the same issue (an OSV entry's CVE ids).
	Aliases []string
	// Affected names, for feeds of non-RPM ecosystems (OSV), the packages
	// and versions the advisory is about; updateinfo advisories use
	// Collections instead.
	Affected []Affected
	// Withdrawn is when the feed withdrew the advisory, if it did.
	Withdrawn time.Time
}

// Affected is one package an advisory is about, in one ecosystem.
type Affected struct {
	// Ecosystem and Name are as the feed writes them ("PyPI",
	// "requests"); PURL is the package URL when the feed gives one.
	Ecosystem, Name, PURL string
	// Ranges and Versions say which versions are affected: any version in
	// a range, and every version listed.
	Ranges   []Range
	Versions []string
}

// Range is a run of affected versions, as OSV writes it: events in
// order, each introducing, fixing, or bounding the affected versions.
type Range struct {
	// Type is how versions compare: ECOSYSTEM, SEMVER or GIT.
	Type   string
	Events []Event
}

// Event is one OSV range event; exactly one field is set.
type Event struct {
	Introduced, Fixed, LastAffected, Limit string
}

// Has reports whether the source set field f.
func (a *Advisory) Has(f Field) bool { return a.Present&f != 0 }

// LastUpdated is the later of Issued and Updated: the date dnf shows.
func (a *Advisory) LastUpdated() time.Time {
	if a.Updated.After(a.Issued) {
		return a.Updated
	}
	return a.Issued
}

// Reference is a link from an advisory: a bug, a CVE, the notice itself.
type Reference struct {
	Type  string
	ID    string
	Href  string
	Title string
	// Present tells which of ID, Href and Title the source set (RefID...).
	Present RefField
}

// RefField marks the reference attributes a source set.
type RefField uint8

// The optional reference attributes.
const (
	RefHasType RefField = 1 << iota
	RefHasID
	RefHasHref
	RefHasTitle
)

// Collection is a group of fixed packages; when it names modules it
// applies only where one of those module streams is active.
type Collection struct {
	Modules  []Module
	Packages []Package
}

// Module is a module stream a collection belongs to.
type Module struct {
	Name, Stream, Version, Context, Arch string
}

// Package is a fixed package an advisory names.
type Package struct {
	Name string
	// EVR is "[epoch:]version[-release]" exactly as dnf prints it.
	EVR      string
	Arch     string
	Src      string
	Filename string
	// HasArch is false when the source gave no arch (such an entry never
	// applies in dnf).
	HasArch                  bool
	Reboot, Restart, Relogin bool
}

// Clone returns a deep copy of a that shares no memory with it (for
// advisories that are only lent, as updateinfo.Options.Reuse lends them).
func (a *Advisory) Clone() *Advisory {
	n := len(a.ID) + len(a.Type) + len(a.Status) + len(a.From) + len(a.Version) + len(a.Title) +
		len(a.Severity) + len(a.Description) + len(a.Rights) + len(a.Message) + len(a.Repo)
	for _, r := range a.References {
		n += len(r.Type) + len(r.ID) + len(r.Href) + len(r.Title)
	}
	nmod, npkg, bytes := collectionSizes(a.Collections, true)
	n += bytes
	clone := stringCopier(n)
	b := *a
	for _, f := range []*string{&b.ID, &b.Type, &b.Status, &b.From, &b.Version, &b.Title, &b.Severity,
		&b.Description, &b.Rights, &b.Message, &b.Repo} {
		*f = clone(*f)
	}
	b.References = nil
	if len(a.References) > 0 {
		b.References = make([]Reference, len(a.References))
		for i, r := range a.References {
			b.References[i] = Reference{Type: clone(r.Type), ID: clone(r.ID), Href: clone(r.Href), Title: clone(r.Title),
				Present: r.Present}
		}
	}
	b.Collections = copyCollections(a.Collections, nmod, npkg, clone, true)
	b.Aliases = slices.Clone(a.Aliases)
	b.Affected = slices.Clone(a.Affected)
	for i := range b.Affected {
		b.Affected[i].Versions = slices.Clone(a.Affected[i].Versions)
		b.Affected[i].Ranges = slices.Clone(a.Affected[i].Ranges)
		for j := range b.Affected[i].Ranges {
			b.Affected[i].Ranges[j].Events = slices.Clone(a.Affected[i].Ranges[j].Events)
		}
	}
	return &b
}

// stringCopier returns a function that copies strings into one buffer of
// n bytes; the buffer never grows, so the copies stay valid.
func stringCopier(n int) func(string) string {
	buf := make([]byte, 0, n)
	return func(s string) string {
		if s == "" {
			return ""
		}
		buf = append(buf, s...)
		return unsafe.String(&buf[len(buf)-len(s)], len(s))
	}
}

// collectionSizes counts the modules, packages and string bytes of
// collections (with packages' Src and Filename when full is set).
func collectionSizes(cs []Collection, full bool) (nmod, npkg, bytes int) {
	for _, c := range cs {
		nmod += len(c.Modules)
		npkg += len(c.Packages)
		for _, m := range c.Modules {
			bytes += len(m.Name) + len(m.Stream) + len(m.Version) + len(m.Context) + len(m.Arch)
		}
		for _, p := range c.Packages {
			bytes += len(p.Name) + len(p.EVR) + len(p.Arch)
			if full {
				bytes += len(p.Src) + len(p.Filename)
			}
		}
	}
	return nmod, npkg, bytes
}

// copyCollections deep-copies collections holding nmod modules and npkg
// packages in all, with their Src and Filename when full is set.
func copyCollections(cs []Collection, nmod, npkg int, clone func(string) string, full bool) []Collection {
	if len(cs) == 0 {
		return nil
	}
	out := make([]Collection, len(cs))
	mods := make([]Module, nmod)
	pkgs := make([]Package, npkg)
	for i, c := range cs {
		bc := &out[i]
		if len(c.Modules) > 0 {
			bc.Modules, mods = mods[:len(c.Modules):len(c.Modules)], mods[len(c.Modules):]
			for j, m := range c.Modules {
				bc.Modules[j] = Module{clone(m.Name), clone(m.Stream), clone(m.Version), clone(m.Context), clone(m.Arch)}
			}
		}
		if len(c.Packages) > 0 {
			bc.Packages, pkgs = pkgs[:len(c.Packages):len(c.Packages)], pkgs[len(c.Packages):]
			for j, p := range c.Packages {
				q := Package{Name: clone(p.Name), EVR: clone(p.EVR), Arch: clone(p.Arch),
					HasArch: p.HasArch, Reboot: p.Reboot, Restart: p.Restart, Relogin: p.Relogin}
				if full {
					q.Src, q.Filename = clone(p.Src), clone(p.Filename)
				}
				bc.Packages[j] = q
			}
		}
	}
	return out
}

// Brief returns a copy of a without its details (Status, From, Version,
// Title, Description, Rights, Message, reference Href and Title, package
// Src and Filename; the Present bits still tell which a had), and without
// its references unless refs is set. The copy shares no memory with a:
// keeping it does not keep a's text alive.
func (a *Advisory) Brief(refs bool) *Advisory {
	n := len(a.ID) + len(a.Type) + len(a.Severity) + len(a.Repo)
	nref := 0
	if refs {
		nref = len(a.References)
		for _, r := range a.References {
			n += len(r.Type) + len(r.ID)
		}
	}
	nmod, npkg, bytes := collectionSizes(a.Collections, false)
	n += bytes
	clone := stringCopier(n)
	b := &Advisory{Present: a.Present, Issued: a.Issued, Updated: a.Updated,
		Reboot: a.Reboot, Restart: a.Restart, Relogin: a.Relogin}
	b.ID, b.Type, b.Severity, b.Repo = clone(a.ID), clone(a.Type), clone(a.Severity), clone(a.Repo)
	if nref > 0 {
		b.References = make([]Reference, nref)
		for i, r := range a.References {
			b.References[i] = Reference{Type: clone(r.Type), ID: clone(r.ID), Present: r.Present}
		}
	}
	b.Collections = copyCollections(a.Collections, nmod, npkg, clone, false)
	return b
}
