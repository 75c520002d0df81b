package rpm

import (
	"strings"

	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
)

// EVR is an RPM epoch, version and release. An empty Epoch means no epoch,
// which compares equal to epoch 0; an empty Release means no release.
type EVR struct {
	Epoch   string
	Version string
	Release string
}

// ParseEVR splits "[epoch:]version[-release]" as libsolv does: the epoch is
// the leading digits before a ':', the release follows the last '-'.
func ParseEVR(s string) EVR {
	var e EVR
	d := 0
	for d < len(s) && isDigit(s[d]) {
		d++
	}
	if d > 0 && d < len(s) && s[d] == ':' {
		e.Epoch, s = s[:d], s[d+1:]
	}
	if k := strings.LastIndexByte(s, '-'); k >= 0 {
		e.Version, e.Release = s[:k], s[k+1:]
	} else {
		e.Version = s
	}
	return e
}

// String formats the EVR as dnf prints an installed package's:
// "[epoch:]version[-release]", the epoch left out when it is empty or zero.
func (e EVR) String() string {
	var b strings.Builder
	if strings.TrimLeft(e.Epoch, "0") != "" {
		b.WriteString(e.Epoch)
		b.WriteByte(':')
	}
	b.WriteString(e.Version)
	if e.Release != "" {
		b.WriteByte('-')
		b.WriteString(e.Release)
	}
	return b.String()
}

// Compare orders two EVRs as libsolv's pool_evrcmp (EVRCMP_COMPARE) and
// rpm's rpmVersionCompare do: epoch (missing = 0), then version, then
// release, each with Vercmp; a missing release is older than any release.
func Compare(a, b EVR) int {
	ea, eb := a.Epoch, b.Epoch
	if ea == "" {
		ea = "0"
	}
	if eb == "" {
		eb = "0"
	}
	if c := Vercmp(ea, eb); c != 0 {
		return c
	}
	if c := Vercmp(a.Version, b.Version); c != 0 {
		return c
	}
	switch {
	case a.Release == "" && b.Release == "":
		return 0
	case a.Release == "":
		return -1
	case b.Release == "":
		return 1
	}
	return Vercmp(a.Release, b.Release)
}

// Installed reads an rpm package's EVR and arch from its purl, which
// follows the purl spec: the version is VERSION-RELEASE and the epoch is
// only the epoch qualifier.
func Installed(p *inventory.Package) (evr EVR, arch string) {
	v := p.PURL.Version
	if k := strings.LastIndexByte(v, '-'); k >= 0 {
		evr.Version, evr.Release = v[:k], v[k+1:]
	} else {
		evr.Version = v
	}
	for _, q := range p.PURL.Qualifiers {
		switch q.Key {
		case "epoch":
			evr.Epoch = q.Value
		case "arch":
			arch = q.Value
		}
	}
	if arch == "" {
		arch = "noarch"
	}
	return evr, arch
}

// NEVRA formats an installed rpm package as dnf does:
// name-[epoch:]version-release.arch.
func NEVRA(p *inventory.Package) string {
	evr, arch := Installed(p)
	return p.Name + "-" + evr.String() + "." + arch
}

// NewPackage returns an installed rpm package of name, EVR
// ("[epoch:]version-release") and arch, as an rpm database of a root
// without os-release would describe it.
func NewPackage(name, evr, arch string) inventory.Package {
	e := ParseEVR(evr)
	p := rpmdb.Package{Name: name, Epoch: e.Epoch, Version: e.Version, Release: e.Release, Arch: arch}
	return p.Inventory(inventory.OSRelease{}, "")
}
