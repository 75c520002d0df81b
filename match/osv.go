package match

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/inventory"
)

// Vulnerable is one (package, OSV advisory) pair: the package's version
// is among the versions the advisory says are affected.
type Vulnerable struct {
	// Package is the index of the package in the list given.
	Package  int
	Advisory *advisory.Advisory
	// Fixed is the lowest version above the installed one that the
	// affected range says fixes it; "" when the advisory names no fix.
	Fixed string
}

// OSVOptions tune OSV.
type OSVOptions struct {
	// Withdrawn keeps advisories their feed has withdrawn (left out by
	// default, as osv-scanner leaves them out).
	Withdrawn bool
}

type osvKey struct{ typ, namespace, name string }

type osvEntry struct {
	adv *advisory.Advisory
	aff *advisory.Affected
}

// OSV returns the advisories that affect each package, for packages whose
// purl type has an ecosystem in set: package order, then advisory order,
// one pair per package and advisory. An affected entry names its package
// by OSV ecosystem and name (an ecosystem suffix such as ":3.18" is not
// part of the match); a version is affected when an affected entry lists
// it in versions, or when an ECOSYSTEM range (compared in the ecosystem's
// order) or a SEMVER range (Semantic Versioning 2.0 precedence) holds it.
// GIT ranges name commits, which installed packages do not have, and are
// passed over; so are versions the ecosystem cannot read.
func OSV(ctx context.Context, pkgs []inventory.Package, advisories []*advisory.Advisory, set *ecosystems.Set,
	opts OSVOptions) ([]Vulnerable, error) {
	index := map[osvKey][]osvEntry{}
	for _, a := range advisories {
		if !a.Withdrawn.IsZero() && !opts.Withdrawn {
			continue
		}
		for i := range a.Affected {
			af := &a.Affected[i]
			eco, ok := set.ByOSV(osvEcosystem(af.Ecosystem))
			if !ok {
				continue
			}
			ns, name := ecosystems.PURLName(eco, af.Name)
			k := osvKey{eco.Type(), ns, name}
			index[k] = append(index[k], osvEntry{a, af})
		}
	}
	var out []Vulnerable
	for i := range pkgs {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		p := &pkgs[i]
		entries := index[osvKey{p.PURL.Type, p.PURL.Namespace, p.PURL.Name}]
		if len(entries) == 0 {
			continue
		}
		eco, _ := set.ByType(p.PURL.Type)
		start := len(out)
		for _, e := range entries {
			affected, fixed := Affects(eco, e.aff, p.Version)
			if !affected {
				continue
			}
			if j := slices.IndexFunc(out[start:], func(v Vulnerable) bool { return v.Advisory == e.adv }); j >= 0 {
				if out[start+j].Fixed == "" {
					out[start+j].Fixed = fixed
				}
				continue
			}
			out = append(out, Vulnerable{Package: i, Advisory: e.adv, Fixed: fixed})
		}
	}
	return out, nil
}

// osvEcosystem drops an OSV ecosystem's ":suffix" (a release, as in
// "Alpine:v3.18").
func osvEcosystem(s string) string {
	name, _, _ := strings.Cut(s, ":")
	return name
}

// Affects reports whether version is affected per af, and the fix the
// affecting range names (the lowest fixed version above version).
func Affects(eco ecosystems.Ecosystem, af *advisory.Affected, version string) (affected bool, fixed string) {
	for _, r := range af.Ranges {
		var cmp func(a, b string) (int, error)
		switch r.Type {
		case "ECOSYSTEM":
			cmp = eco.Compare
		case "SEMVER":
			cmp = compareSemver
		default:
			continue
		}
		if in, fix, ok := inRange(r.Events, version, cmp); ok && in {
			return true, fix
		}
	}
	if slices.Contains(af.Versions, version) {
		return true, ""
	}
	return false, ""
}

// inRange evaluates one range as the OSV schema defines: every event at
// or below the version, in version order, switches it on (introduced) or
// off (fixed; last_affected when strictly below); a limit at or below
// the version puts it out of the range. ok is false when a version does
// not compare.
func inRange(events []advisory.Event, v string, cmp func(a, b string) (int, error)) (in bool, fixed string, ok bool) {
	type ev struct {
		ver  string
		kind int // 0 introduced, 1 fixed, 2 last_affected, 3 limit
	}
	// An introduced "0" is below every version, whatever the order says
	// of the string "0"; it is kept apart as zero.
	zero := ev{kind: 0}
	var evs []ev
	for _, e := range events {
		switch {
		case e.Introduced == "0":
			evs = append(evs, zero)
		case e.Introduced != "":
			evs = append(evs, ev{e.Introduced, 0})
		case e.Fixed != "":
			evs = append(evs, ev{e.Fixed, 1})
		case e.LastAffected != "":
			evs = append(evs, ev{e.LastAffected, 2})
		case e.Limit != "":
			evs = append(evs, ev{e.Limit, 3})
		}
	}
	// vs compares an event's version with a version.
	vs := func(e ev, v string) (int, error) {
		if e == zero {
			return -1, nil
		}
		return cmp(e.ver, v)
	}
	var bad bool
	slices.SortStableFunc(evs, func(a, b ev) int {
		switch {
		case a == zero && b == zero:
			return 0
		case a == zero:
			return -1
		case b == zero:
			return 1
		}
		c, err := cmp(a.ver, b.ver)
		if err != nil {
			bad = true
		}
		return c
	})
	if bad {
		return false, "", false
	}
	for _, e := range evs {
		c, err := vs(e, v)
		if err != nil {
			return false, "", false
		}
		switch e.kind {
		case 0:
			if c <= 0 {
				in = true
			}
		case 1:
			if c <= 0 {
				in = false
			} else if fixed == "" && in {
				fixed = e.ver
			}
		case 2:
			if c < 0 {
				in = false
			}
		case 3:
			if c <= 0 && e.ver != "*" {
				return false, "", true
			}
		}
	}
	return in, fixed, true
}

// compareSemver orders two versions by Semantic Versioning 2.0
// precedence (golang.org/x/mod/semver, which needs no set-up at start-up,
// unlike a package that compiles a pattern when linked: every run of the
// reporter would pay for it).
func compareSemver(a, b string) (int, error) {
	va, vb := withV(a), withV(b)
	for _, v := range []string{va, vb} {
		if !semver.IsValid(v) {
			return 0, fmt.Errorf("version %q: not a semantic version", strings.TrimPrefix(v, "v"))
		}
	}
	return semver.Compare(va, vb), nil
}

// withV adds the "v" x/mod/semver wants; OSV writes none.
func withV(s string) string {
	if strings.HasPrefix(s, "v") {
		return s
	}
	return "v" + s
}
