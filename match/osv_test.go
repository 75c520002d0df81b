package match

import (
	"context"
	"testing"
	"time"

	"github.com/package-url/packageurl-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/ecosystems/gem"
	"github.com/alicorn-dev/alicorn/ecosystems/maven"
	"github.com/alicorn-dev/alicorn/ecosystems/pypi"
	"github.com/alicorn-dev/alicorn/inventory"
)

func ev(kind, v string) advisory.Event {
	switch kind {
	case "i":
		return advisory.Event{Introduced: v}
	case "f":
		return advisory.Event{Fixed: v}
	case "l":
		return advisory.Event{LastAffected: v}
	}
	return advisory.Event{Limit: v}
}

func TestAffects(t *testing.T) {
	rng := func(typ string, e ...advisory.Event) advisory.Affected {
		return advisory.Affected{Ranges: []advisory.Range{{Type: typ, Events: e}}}
	}
	py, rb, mvn := pypi.Ecosystem{}, gem.Ecosystem{}, maven.Ecosystem{}
	cases := []struct {
		name    string
		eco     ecosystems.Ecosystem
		af      advisory.Affected
		version string
		in      bool
		fixed   string
		err     string // a part of the error; "" for none
	}{
		{"below fix", py, rng("ECOSYSTEM", ev("i", "0"), ev("f", "2.0")), "1.9", true, "2.0", ""},
		{"at fix", py, rng("ECOSYSTEM", ev("i", "0"), ev("f", "2.0")), "2.0", false, "", ""},
		{"pep440 order", py, rng("ECOSYSTEM", ev("i", "1.0"), ev("f", "1.10")), "1.9", true, "1.10", ""},
		{"prerelease below introduced", py, rng("ECOSYSTEM", ev("i", "1.0"), ev("f", "1.1")), "1.0rc1", false, "", ""},
		{"two runs, second", py, rng("ECOSYSTEM", ev("i", "1.0"), ev("f", "1.2"), ev("i", "2.0"), ev("f", "2.3")), "2.1",
			true, "2.3", ""},
		{"two runs, between", py, rng("ECOSYSTEM", ev("i", "2.0"), ev("f", "2.3"), ev("i", "1.0"), ev("f", "1.2")), "1.1",
			true, "1.2", ""},
		{"gap", py, rng("ECOSYSTEM", ev("i", "1.0"), ev("f", "1.2"), ev("i", "2.0"), ev("f", "2.3")), "1.5", false, "", ""},
		{"last_affected at", py, rng("ECOSYSTEM", ev("i", "0"), ev("l", "3.1")), "3.1", true, "", ""},
		{"last_affected above", py, rng("ECOSYSTEM", ev("i", "0"), ev("l", "3.1")), "3.1.1", false, "", ""},
		{"no fix", py, rng("ECOSYSTEM", ev("i", "1.0")), "9", true, "", ""},
		{"git passed over", py, rng("GIT", ev("i", "abc"), ev("f", "def")), "1.0", false, "", ""},
		{"semver", py, rng("SEMVER", ev("i", "0"), ev("f", "1.2.3")), "1.2.3-rc.1", true, "1.2.3", ""},
		{"versions", py, advisory.Affected{Versions: []string{"1.0", "1.1"}}, "1.1", true, "", ""},
		{"versions exact", py, advisory.Affected{Versions: []string{"1.0", "1.1"}}, "1.1.0", false, "", ""},

		// limit: out of the range at or above every limit; "*" is
		// infinity, in any ecosystem.
		{"limit", py, rng("ECOSYSTEM", ev("i", "0"), ev("lim", "2.0")), "2.5", false, "", ""},
		{"below limit", py, rng("ECOSYSTEM", ev("i", "0"), ev("lim", "2.0")), "1.5", true, "", ""},
		{"limit star", py, rng("ECOSYSTEM", ev("i", "0"), ev("f", "2.0"), ev("lim", "*")), "1.5", true, "2.0", ""},
		{"limit star, fixed", py, rng("ECOSYSTEM", ev("i", "0"), ev("f", "2.0"), ev("lim", "*")), "2.5", false, "", ""},
		{"limit star, gem", rb, rng("ECOSYSTEM", ev("i", "0"), ev("f", "2.0"), ev("lim", "*")), "1.5", true, "2.0", ""},
		{"limit star first, gem", rb, rng("ECOSYSTEM", ev("lim", "*"), ev("i", "1.0")), "1.5", true, "", ""},
		{"limit star, maven", mvn, rng("ECOSYSTEM", ev("i", "0"), ev("f", "2.0"), ev("lim", "*")), "1.5", true, "2.0", ""},
		{"limit star, semver", py, rng("SEMVER", ev("i", "0"), ev("f", "2.0.0"), ev("lim", "*")), "1.5.0", true, "2.0.0", ""},
		{"below one of two limits", py, rng("ECOSYSTEM", ev("i", "0"), ev("lim", "2.0"), ev("lim", "3.0")), "2.5", true, "", ""},
		{"below both limits", rb, rng("ECOSYSTEM", ev("i", "0"), ev("lim", "2.0"), ev("lim", "3.0")), "1.5", true, "", ""},
		{"at the higher limit", py, rng("ECOSYSTEM", ev("i", "0"), ev("lim", "2.0"), ev("lim", "3.0")), "3.0", false, "", ""},
		{"star beside a limit", rb, rng("ECOSYSTEM", ev("i", "0"), ev("lim", "2.0"), ev("lim", "*")), "9", true, "", ""},
		{"limit does not introduce", py, rng("ECOSYSTEM", ev("i", "3.0"), ev("lim", "4.0")), "2.0", false, "", ""},

		// Ranges that cannot be evaluated are errors naming the range
		// and the version; the others still count.
		{"unreadable fix", py, rng("ECOSYSTEM", ev("i", "0"), ev("f", "not a version!")), "1.0", false, "",
			`ECOSYSTEM range 1: range cannot be evaluated: fixed "not a version!"`},
		{"unreadable introduced", rb, rng("ECOSYSTEM", ev("i", "1.0 beta"), ev("f", "2.0")), "1.5", false, "",
			`introduced "1.0 beta"`},
		{"unreadable installed", py, rng("ECOSYSTEM", ev("i", "1.0"), ev("f", "2.0")), "1.5-bulbasaur", false, "",
			`range cannot be evaluated: the package's version: version "1.5-bulbasaur"`},
		{"unreadable limit", py, rng("ECOSYSTEM", ev("i", "0"), ev("lim", "x y")), "1.0", false, "", `limit "x y"`},
		{"unreadable limit, below another", py, rng("ECOSYSTEM", ev("i", "0"), ev("lim", "x y"), ev("lim", "2.0")),
			"1.0", true, "", ""},
		{"unreadable semver", py, rng("SEMVER", ev("i", "0"), ev("f", "1.2.3.4")), "1.0.0", false, "",
			`SEMVER range 1: range cannot be evaluated: fixed "1.2.3.4"`},
		{"unreadable beside a readable range", py, advisory.Affected{Ranges: []advisory.Range{
			{Type: "ECOSYSTEM", Events: []advisory.Event{ev("i", "0"), ev("f", "bad version!")}},
			{Type: "ECOSYSTEM", Events: []advisory.Event{ev("i", "1.0"), ev("f", "1.2")}}}}, "1.1", true, "1.2",
			"ECOSYSTEM range 1"},
		{"unreadable but listed", py, advisory.Affected{Versions: []string{"1.1"}, Ranges: []advisory.Range{
			{Type: "ECOSYSTEM", Events: []advisory.Event{ev("i", "0"), ev("f", "bad version!")}}}}, "1.1", true, "",
			"ECOSYSTEM range 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, fixed, err := Affects(c.eco, &c.af, c.version)
			assert.Equal(t, c.in, in)
			assert.Equal(t, c.fixed, fixed)
			if c.err == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrRange)
			assert.Contains(t, err.Error(), c.err)
		})
	}
}

func TestOSV(t *testing.T) {
	set, err := ecosystems.NewSet(pypi.Ecosystem{}, gem.Ecosystem{}, maven.Ecosystem{})
	require.NoError(t, err)
	p := func(typ, ns, name, v string) inventory.Package {
		return inventory.Package{PURL: packageurl.PackageURL{Type: typ, Namespace: ns, Name: name, Version: v}, Version: v}
	}
	pkgs := []inventory.Package{
		p("pypi", "", "flask-cors", "3.0.0"),
		p("maven", "org.apache.logging.log4j", "log4j-core", "2.14.1"),
		p("gem", "", "rack", "2.2.3"),
		p("rpm", "fedora", "openssl", "3.0.0"),
	}
	all := func(e ...advisory.Event) []advisory.Range { return []advisory.Range{{Type: "ECOSYSTEM", Events: e}} }
	advs := []*advisory.Advisory{
		{ID: "PYSEC-1", Affected: []advisory.Affected{{Ecosystem: "PyPI", Name: "Flask_CORS",
			Ranges: all(ev("i", "0"), ev("f", "3.0.9"))}}},
		{ID: "GHSA-log4shell", Affected: []advisory.Affected{{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core",
			Ranges: all(ev("i", "2.0-beta9"), ev("f", "2.15.0"))},
			{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core", Ranges: all(ev("i", "2.13.0"), ev("f", "2.16.0"))}}},
		{ID: "GHSA-withdrawn", Withdrawn: time.Unix(1, 0), Affected: []advisory.Affected{{Ecosystem: "RubyGems",
			Name: "rack", Ranges: all(ev("i", "0"))}}},
		{ID: "GHSA-rack", Affected: []advisory.Affected{{Ecosystem: "RubyGems", Name: "rack", Versions: []string{"2.2.3"}}}},
		{ID: "OTHER", Affected: []advisory.Affected{{Ecosystem: "npm", Name: "rack", Ranges: all(ev("i", "0"))}}},
	}
	got, err := OSV(context.Background(), pkgs, advs, set, OSVOptions{})
	require.NoError(t, err)
	var pairs []string
	for _, v := range got {
		pairs = append(pairs, pkgs[v.Package].PURL.Name+" "+v.Advisory.ID+" "+v.Fixed)
	}
	assert.Equal(t, []string{"flask-cors PYSEC-1 3.0.9", "log4j-core GHSA-log4shell 2.15.0", "rack GHSA-rack "}, pairs)

	got, err = OSV(context.Background(), pkgs, advs, set, OSVOptions{Withdrawn: true})
	require.NoError(t, err)
	assert.Len(t, got, 4)
}

// TestOSVLimitsAndWarnings: a "*" limit keeps the range in PyPI and
// RubyGems, several limits hold a version below any one of them, and a
// range that cannot be evaluated comes back as a *RangeError naming the
// advisory and the package, beside the pairs found.
func TestOSVLimitsAndWarnings(t *testing.T) {
	set, err := ecosystems.NewSet(pypi.Ecosystem{}, gem.Ecosystem{}, maven.Ecosystem{})
	require.NoError(t, err)
	p := func(typ, name, v string) inventory.Package {
		return inventory.Package{PURL: packageurl.PackageURL{Type: typ, Name: name, Version: v}, Version: v}
	}
	pkgs := []inventory.Package{p("pypi", "jinja2", "2.10"), p("gem", "rack", "2.2.3"), p("pypi", "odd", "1.0-bulbasaur")}
	rng := func(e ...advisory.Event) []advisory.Range { return []advisory.Range{{Type: "ECOSYSTEM", Events: e}} }
	advs := []*advisory.Advisory{
		{ID: "PYSEC-star", Affected: []advisory.Affected{{Ecosystem: "PyPI", Name: "Jinja2",
			Ranges: rng(ev("i", "0"), ev("f", "2.11.3"), ev("lim", "*"))}}},
		{ID: "GHSA-star", Affected: []advisory.Affected{{Ecosystem: "RubyGems", Name: "rack",
			Ranges: rng(ev("i", "2.0"), ev("f", "2.2.4"), ev("lim", "*"))}}},
		{ID: "GHSA-limits", Affected: []advisory.Affected{{Ecosystem: "RubyGems", Name: "rack",
			Ranges: rng(ev("i", "0"), ev("lim", "2.1"), ev("lim", "2.3"))}}},
		{ID: "PYSEC-bad", Affected: []advisory.Affected{{Ecosystem: "PyPI", Name: "jinja2",
			Ranges: rng(ev("i", "0"), ev("f", "2.x.y z"))}}},
		{ID: "PYSEC-bad-but-listed", Affected: []advisory.Affected{{Ecosystem: "PyPI", Name: "jinja2",
			Ranges: rng(ev("i", "0"), ev("f", "2.x.y z")), Versions: []string{"2.10"}}}},
		{ID: "PYSEC-odd", Affected: []advisory.Affected{{Ecosystem: "PyPI", Name: "odd",
			Ranges: rng(ev("i", "0"), ev("f", "2.0"))}}},
	}
	got, err := OSV(context.Background(), pkgs, advs, set, OSVOptions{})
	var pairs []string
	for _, v := range got {
		pairs = append(pairs, pkgs[v.Package].PURL.Name+" "+v.Advisory.ID+" "+v.Fixed)
	}
	assert.Equal(t, []string{"jinja2 PYSEC-star 2.11.3", "jinja2 PYSEC-bad-but-listed ", "rack GHSA-star 2.2.4",
		"rack GHSA-limits "}, pairs)

	// The warnings: the advisories that could not be decided, one per
	// package, not the one found affecting it through its versions.
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrRange)
	var warnings []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var re *RangeError
		require.ErrorAs(t, e, &re)
		warnings = append(warnings, re.Advisory+" "+pkgs[re.Package].PURL.Name)
	}
	assert.Equal(t, []string{"PYSEC-bad jinja2", "PYSEC-odd odd"}, warnings)
	assert.Contains(t, err.Error(), `advisory PYSEC-bad: pkg:pypi/jinja2@2.10: ECOSYSTEM range 1: range cannot be evaluated: fixed "2.x.y z"`)
	assert.Contains(t, err.Error(), `advisory PYSEC-odd: pkg:pypi/odd@1.0-bulbasaur: ECOSYSTEM range 1: range cannot be evaluated: the package's version`)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err = OSV(ctx, pkgs, advs, set, OSVOptions{})
	assert.Nil(t, got)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrRange)
}

// FuzzAffects evaluates ranges of arbitrary versions in each ecosystem:
// no panic, and a version is never both affected and fixed by the same
// range's fix at or below it.
func FuzzAffects(f *testing.F) {
	f.Add("1.0", "0", "2.0", "", "1.5", uint8(0))
	f.Add("1.0a", "1.0", "", "1.0", "1.0", uint8(1))
	f.Add("1-rc", "1-alpha", "1", "", "1-beta", uint8(2))
	ecos := []ecosystems.Ecosystem{pypi.Ecosystem{}, gem.Ecosystem{}, maven.Ecosystem{}}
	f.Fuzz(func(t *testing.T, v, intro, fixed, last, listed string, which uint8) {
		eco := ecos[int(which)%len(ecos)]
		typ := "ECOSYSTEM"
		if which&4 != 0 {
			typ = "SEMVER"
		}
		af := advisory.Affected{Versions: []string{listed}, Ranges: []advisory.Range{{Type: typ,
			Events: []advisory.Event{{Introduced: intro}, {Fixed: fixed}, {LastAffected: last}}}}}
		in, fix, _ := Affects(eco, &af, v)
		if !in && fix != "" {
			t.Fatalf("a fix %q for an unaffected version", fix)
		}
		if in && fix != "" && typ == "ECOSYSTEM" {
			if c, err := eco.Compare(fix, v); err == nil && c <= 0 {
				t.Fatalf("fix %q is not above %q", fix, v)
			}
		}
	})
}

// TestOSVModes: Installed gives the pairs whose fix is installed, Updates
// the affected ones with a fix, All both, marked.
func TestOSVModes(t *testing.T) {
	set, err := ecosystems.NewSet(pypi.Ecosystem{})
	require.NoError(t, err)
	pkgs := []inventory.Package{{PURL: packageurl.PackageURL{Type: "pypi", Name: "a", Version: "2.0"}, Version: "2.0"}}
	adv := func(id string, events ...advisory.Event) *advisory.Advisory {
		return &advisory.Advisory{ID: id, Affected: []advisory.Affected{{Ecosystem: "PyPI", Name: "a",
			Ranges: []advisory.Range{{Type: "ECOSYSTEM", Events: events}}}}}
	}
	advs := []*advisory.Advisory{
		adv("OLD", advisory.Event{Introduced: "0"}, advisory.Event{Fixed: "1.5"}),         // fix installed
		adv("NOW", advisory.Event{Introduced: "1.0"}, advisory.Event{Fixed: "2.1"}),       // affected, fixed
		adv("NOFIX", advisory.Event{Introduced: "1.0"}),                                   // affected, no fix
		adv("LAST", advisory.Event{Introduced: "0"}, advisory.Event{LastAffected: "1.0"}), // past, no fix named
		adv("LATER", advisory.Event{Introduced: "3.0"}, advisory.Event{Fixed: "3.1"}),     // not yet
	}
	for _, tc := range []struct {
		mode Mode
		want []string
	}{
		{Available, []string{"NOW fixed 2.1", "NOFIX fixed "}},
		{Updates, []string{"NOW fixed 2.1"}},
		{Installed, []string{"OLD installed 1.5"}},
		{All, []string{"OLD installed 1.5", "NOW fixed 2.1", "NOFIX fixed "}},
	} {
		vulns, err := OSV(context.Background(), pkgs, advs, set, OSVOptions{Mode: tc.mode})
		require.NoError(t, err)
		var got []string
		for _, v := range vulns {
			word := "fixed"
			if v.FixInstalled {
				word = "installed"
			}
			got = append(got, v.Advisory.ID+" "+word+" "+v.Fixed)
		}
		assert.Equal(t, tc.want, got, tc.mode.String())
	}
}
