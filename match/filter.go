package match

import (
	"github.com/alicorn-dev/alicorn/advisory"
)

// Filter selects findings as dnf's updateinfo options do. Its criteria
// combine with OR; a Filter with none selects everything.
type Filter struct {
	// Types are advisory types (security, bugfix, enhancement, newpackage).
	Types []string
	// Specs are globs (fnmatch, case-sensitive) matched against the
	// advisory ID or the advisory package's name. --advisory IDs are
	// specs too.
	Specs []string
	// Severities are matched exactly against the advisory's severity.
	Severities []string
	// Bugzillas and CVEs are reference IDs.
	Bugzillas, CVEs []string
	// WithCVE and WithBZ select advisories with any CVE (Bugzilla) reference.
	WithCVE, WithBZ bool
}

func (f *Filter) empty() bool {
	return len(f.Types) == 0 && len(f.Specs) == 0 && len(f.Severities) == 0 && len(f.Bugzillas) == 0 &&
		len(f.CVEs) == 0 && !f.WithCVE && !f.WithBZ
}

// Keep reports whether the finding passes the filter.
func (f *Filter) Keep(fd *Finding) bool { return f.KeepAdvisory(fd.Advisory, fd.Fixed.Name) }

// KeepAdvisory reports whether an advisory about the package of that name
// passes the filter (for findings other than dnf's, such as OSV's).
func (f *Filter) KeepAdvisory(a *advisory.Advisory, pkgName string) bool {
	return f.matchAdvisory(a) || f.glob(pkgName)
}

// Advisory reports whether a can pass the filter at all: false means
// Keep is false for every finding of a, so a need not be matched. With
// SPEC globs any advisory may pass through its package names.
func (f *Filter) Advisory(a *advisory.Advisory) bool {
	return len(f.Specs) > 0 || f.matchAdvisory(a)
}

// NeedsReferences reports whether the filter looks at advisory
// references (CVEs and Bugzillas).
func (f *Filter) NeedsReferences() bool {
	return f.WithCVE || f.WithBZ || len(f.CVEs) > 0 || len(f.Bugzillas) > 0
}

// TypesOnly reports whether the filter selects by advisory type alone, and
// which types: then an advisory of another type can be passed over
// before anything else of it is read.
func (f *Filter) TypesOnly() ([]string, bool) {
	if len(f.Types) == 0 || len(f.Specs) > 0 || len(f.Severities) > 0 || len(f.Bugzillas) > 0 ||
		len(f.CVEs) > 0 || f.WithCVE || f.WithBZ {
		return nil, false
	}
	return f.Types, true
}

func (f *Filter) glob(s string) bool {
	for _, p := range f.Specs {
		if Glob(p, s) {
			return true
		}
	}
	return false
}

func (f *Filter) matchAdvisory(a *advisory.Advisory) bool {
	if f.empty() {
		return true
	}
	for _, t := range f.Types {
		if a.Type == t {
			return true
		}
	}
	if f.glob(a.ID) {
		return true
	}
	if a.Has(advisory.HasSeverity) {
		for _, s := range f.Severities {
			if a.Severity == s {
				return true
			}
		}
	}
	for _, r := range a.References {
		switch r.Type {
		case advisory.RefBugzilla:
			if f.WithBZ || (r.Present&advisory.RefHasID != 0 && contains(f.Bugzillas, r.ID)) {
				return true
			}
		case advisory.RefCVE:
			if f.WithCVE || (r.Present&advisory.RefHasID != 0 && contains(f.CVEs, r.ID)) {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Glob is Python's fnmatch.fnmatchcase on code points: '*' matches
// anything ('/' included), '?' one character, [seq] and [!seq] a set
// with ranges; a '[' with no closing ']' is literal.
func Glob(pattern, name string) bool {
	p, n := []rune(pattern), []rune(name)
	// Iterative matching with one backtrack point for the last '*'.
	pi, ni, star, mark := 0, 0, -1, 0
	for ni < len(n) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				star, mark = pi, ni
				pi++
				continue
			case '?':
				pi++
				ni++
				continue
			case '[':
				if end, ok := classEnd(p, pi); ok {
					if inClass(p[pi+1:end], n[ni]) {
						pi, ni = end+1, ni+1
						continue
					}
				} else if n[ni] == '[' {
					pi++
					ni++
					continue
				}
			default:
				if p[pi] == n[ni] {
					pi++
					ni++
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		mark++
		pi, ni = star+1, mark
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// classEnd finds the ']' closing the set that starts at p[i] == '['.
func classEnd(p []rune, i int) (int, bool) {
	j := i + 1
	if j < len(p) && p[j] == '!' {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for j < len(p) && p[j] != ']' {
		j++
	}
	return j, j < len(p)
}

func inClass(body []rune, c rune) bool {
	neg := len(body) > 0 && body[0] == '!'
	if neg {
		body = body[1:]
	}
	in := false
	for k := 0; k < len(body); k++ {
		if k+2 < len(body) && body[k+1] == '-' {
			if body[k] <= c && c <= body[k+2] {
				in = true
			}
			k += 2
			continue
		}
		if body[k] == c {
			in = true
		}
	}
	return in != neg
}
