package match

import (
	"context"
	"errors"
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
	// For a pair whose fix is installed, it is the fix's version.
	Fixed string
	// FixInstalled is dnf's "installed" mark: the package is past a fixed
	// version of a range the advisory names, so the advisory's fix is
	// installed (Installed and All modes only).
	FixInstalled bool
}

// OSVOptions tune OSV.
type OSVOptions struct {
	// Withdrawn keeps advisories their feed has withdrawn (left out by
	// default, as osv-scanner leaves them out).
	Withdrawn bool
	// Mode gives the pairs dnf's availability mode would: Available (the
	// default) the affected packages; Updates those of them with a fixed
	// version; Installed the packages whose fix is installed (past a
	// fixed event of a range); All both kinds.
	Mode Mode
}

type osvKey struct{ typ, namespace, name string }

type osvEntry struct {
	adv *advisory.Advisory
	aff *advisory.Affected
}

// ErrRange is wrapped by the errors of OSV ranges that cannot be
// evaluated: a version in the range, or the package's own version, that
// the range's order cannot read.
var ErrRange = errors.New("range cannot be evaluated")

// RangeError says that an OSV advisory could not be evaluated for a
// package: a range of an affected entry naming the package holds a
// version that the range's order cannot read, or the package's version
// is not one of that order. Whether the package is affected is unknown;
// OSV reports it as data so that a caller can warn.
type RangeError struct {
	// Advisory is the advisory's ID.
	Advisory string
	// Package is the index of the package in the list given; PURL is
	// the package's URL, for the message.
	Package int
	PURL    string
	// Err joins the errors of the ranges that could not be evaluated;
	// each wraps ErrRange and names the range and the version.
	Err error
}

// Error names the advisory, the package and each range that failed.
func (e *RangeError) Error() string {
	return fmt.Sprintf("advisory %s: %s: %s", e.Advisory, e.PURL, strings.ReplaceAll(e.Err.Error(), "\n", "; "))
}

// Unwrap returns the ranges' errors.
func (e *RangeError) Unwrap() error { return e.Err }

// OSV returns the advisories that affect each package, for packages whose
// purl type has an ecosystem in set: package order, then advisory order,
// one pair per package and advisory. An affected entry names its package
// by OSV ecosystem and name (an ecosystem suffix such as ":3.18" is not
// part of the match); a version is affected when an affected entry lists
// it in versions, or when an ECOSYSTEM range (compared in the ecosystem's
// order) or a SEMVER range (Semantic Versioning 2.0 precedence) holds it,
// as the OSV schema's evaluation says (see Affects). GIT ranges name
// commits, which installed packages do not have, and are passed over.
//
// A range that cannot be evaluated for a package (a version that does not
// parse, in the range or installed) is never dropped silently: unless the
// advisory is found to affect the package all the same, OSV returns,
// beside every pair it found, an error joining one *RangeError per such
// package and advisory (errors.Is(err, ErrRange) holds), which callers
// show as warnings. A cancelled context returns no pairs and the
// context's error alone.
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
	var warnings []error
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
		// unread holds, per advisory, the errors of ranges that could
		// not be evaluated for this package, in advisory order.
		var unread []*RangeError
		for _, e := range entries {
			affected, fixed, past, err := affects(eco, e.aff, p.Version)
			if err != nil {
				j := slices.IndexFunc(unread, func(r *RangeError) bool { return r.Advisory == e.adv.ID })
				if j < 0 {
					unread = append(unread, &RangeError{Advisory: e.adv.ID, Package: i, PURL: p.PURL.String()})
					j = len(unread) - 1
				}
				unread[j].Err = errors.Join(unread[j].Err, err)
			}
			switch opts.Mode {
			case Installed:
				affected, fixed = false, ""
			case Updates:
				affected = affected && fixed != ""
			}
			if !affected && past != "" && (opts.Mode == Installed || opts.Mode == All) &&
				!slices.ContainsFunc(out[start:], func(v Vulnerable) bool { return v.Advisory == e.adv }) {
				out = append(out, Vulnerable{Package: i, Advisory: e.adv, Fixed: past, FixInstalled: true})
				continue
			}
			if !affected {
				continue
			}
			if j := slices.IndexFunc(out[start:], func(v Vulnerable) bool { return v.Advisory == e.adv }); j >= 0 {
				if out[start+j].FixInstalled { // affected by another entry: not fixed after all
					out[start+j] = Vulnerable{Package: i, Advisory: e.adv, Fixed: fixed}
				} else if out[start+j].Fixed == "" {
					out[start+j].Fixed = fixed
				}
				continue
			}
			out = append(out, Vulnerable{Package: i, Advisory: e.adv, Fixed: fixed})
		}
		for _, r := range unread {
			if !slices.ContainsFunc(out[start:], func(v Vulnerable) bool { return v.Advisory.ID == r.Advisory }) {
				warnings = append(warnings, r)
			}
		}
	}
	return out, errors.Join(warnings...)
}

// osvEcosystem drops an OSV ecosystem's ":suffix" (a release, as in
// "Alpine:v3.18").
func osvEcosystem(s string) string {
	name, _, _ := strings.Cut(s, ":")
	return name
}

// Affects reports whether version is affected per af, and the fix the
// affecting range names (the lowest fixed version above version), by the
// OSV schema's evaluation: listed in versions, or inside any one ECOSYSTEM
// or SEMVER range. GIT ranges and types the schema does not define are
// passed over. err joins the errors (wrapping ErrRange) of the ranges
// that could not be evaluated; the others are evaluated all the same, so
// affected may be true beside an error.
func Affects(eco ecosystems.Ecosystem, af *advisory.Affected, version string) (affected bool, fixed string, err error) {
	affected, fixed, _, err = affects(eco, af, version)
	return affected, fixed, err
}

// affects is Affects, and also says, for a version no range holds, the
// fixed version of a range that the version is past (its fix installed).
func affects(eco ecosystems.Ecosystem, af *advisory.Affected, version string) (affected bool, fixed, past string, err error) {
	var errs []error
	for i, r := range af.Ranges {
		var cmp func(a, b string) (int, error)
		switch r.Type {
		case "ECOSYSTEM":
			cmp = eco.Compare
		case "SEMVER":
			cmp = compareSemver
		default:
			continue
		}
		in, fix, after, err := inRange(r.Events, version, cmp)
		if past == "" {
			past = after
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s range %d: %w: %w", r.Type, i+1, ErrRange, err))
			continue
		}
		if in && !affected {
			affected, fixed = true, fix
		}
	}
	if !affected && slices.Contains(af.Versions, version) {
		affected = true
	}
	if affected {
		past = ""
	}
	return affected, fixed, past, errors.Join(errs...)
}

// inRange evaluates one range by the OSV schema's pseudo-code: a version
// at or above no limit is out of the range (with no limit, or a limit
// holding "*", the schema's infinity, nothing is); then the events other
// than limits, in version order, switch it on at an introduced at or
// below the version ("0" is below every version), off at a fixed at or
// below it and at a last_affected strictly below it. fixed is the lowest
// fixed event above the version when it is in the range; past, when it is
// not, the fixed event that last put it out (its fix is installed). err
// names the version that does not compare.
func inRange(events []advisory.Event, v string, cmp func(a, b string) (int, error)) (in bool, fixed, past string, err error) {
	// BeforeLimits: below any one limit.
	var limited, below bool
	var limitErr error
	for _, e := range events {
		if e.Limit == "" || below {
			continue
		}
		limited = true
		if strings.Contains(e.Limit, "*") {
			below = true
			continue
		}
		c, err := cmp(v, e.Limit)
		switch {
		case err != nil:
			limitErr = fmt.Errorf("limit %q: %w", e.Limit, err)
			if _, vErr := cmp(v, v); vErr != nil {
				limitErr = fmt.Errorf("the package's version: %w", vErr)
			}
		case c < 0:
			below = true
		}
	}
	if limited && !below {
		// Out of the range, unless a limit that does not compare might
		// have held the version.
		return false, "", "", limitErr
	}

	type ev struct {
		kind, ver string // kind as the schema names the event
		zero      bool   // introduced "0"
	}
	evs := make([]ev, 0, len(events))
	for _, e := range events {
		switch {
		case e.Introduced != "":
			evs = append(evs, ev{"introduced", e.Introduced, e.Introduced == "0"})
		case e.Fixed != "":
			evs = append(evs, ev{"fixed", e.Fixed, false})
		case e.LastAffected != "":
			evs = append(evs, ev{"last_affected", e.LastAffected, false})
		}
	}
	// Every version must compare with the installed one, which also
	// tells that the sort below can compare them.
	rel := make([]int, len(evs)) // the event's version against v
	for i, e := range evs {
		if e.zero {
			rel[i] = -1
			continue
		}
		if rel[i], err = cmp(e.ver, v); err != nil {
			if _, vErr := cmp(v, v); vErr != nil {
				return false, "", "", fmt.Errorf("the package's version: %w", vErr)
			}
			return false, "", "", fmt.Errorf("%s %q: %w", e.kind, e.ver, err)
		}
	}
	order := make([]int, len(evs))
	for i := range order {
		order[i] = i
	}
	var sortErr error
	slices.SortStableFunc(order, func(i, j int) int {
		a, b := evs[i], evs[j]
		switch {
		case a.zero && b.zero:
			return 0
		case a.zero:
			return -1
		case b.zero:
			return 1
		}
		c, err := cmp(a.ver, b.ver)
		if err != nil && sortErr == nil {
			sortErr = fmt.Errorf("%q against %q: %w", a.ver, b.ver, err)
		}
		return c
	})
	if sortErr != nil {
		return false, "", "", sortErr
	}
	for _, i := range order {
		e, c := evs[i], rel[i]
		switch {
		case e.kind == "introduced" && c <= 0:
			in, past = true, ""
		case e.kind == "fixed" && c <= 0:
			if in {
				past = e.ver
			}
			in = false
		case e.kind == "last_affected" && c < 0:
			in, past = false, ""
		}
	}
	if in {
		// Events above the version leave it as it is: the first fixed
		// above it in order is the fix.
		for _, i := range order {
			if evs[i].kind == "fixed" && rel[i] > 0 {
				fixed = evs[i].ver
				break
			}
		}
	}
	return in, fixed, past, nil
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
