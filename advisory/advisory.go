package advisory

import "time"

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
