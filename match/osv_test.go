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
	cases := []struct {
		name    string
		af      advisory.Affected
		version string
		in      bool
		fixed   string
	}{
		{"below fix", rng("ECOSYSTEM", ev("i", "0"), ev("f", "2.0")), "1.9", true, "2.0"},
		{"at fix", rng("ECOSYSTEM", ev("i", "0"), ev("f", "2.0")), "2.0", false, ""},
		{"pep440 order", rng("ECOSYSTEM", ev("i", "1.0"), ev("f", "1.10")), "1.9", true, "1.10"},
		{"prerelease below introduced", rng("ECOSYSTEM", ev("i", "1.0"), ev("f", "1.1")), "1.0rc1", false, ""},
		{"two runs, second", rng("ECOSYSTEM", ev("i", "1.0"), ev("f", "1.2"), ev("i", "2.0"), ev("f", "2.3")), "2.1",
			true, "2.3"},
		{"two runs, between", rng("ECOSYSTEM", ev("i", "2.0"), ev("f", "2.3"), ev("i", "1.0"), ev("f", "1.2")), "1.1",
			true, "1.2"},
		{"gap", rng("ECOSYSTEM", ev("i", "1.0"), ev("f", "1.2"), ev("i", "2.0"), ev("f", "2.3")), "1.5", false, ""},
		{"last_affected at", rng("ECOSYSTEM", ev("i", "0"), ev("l", "3.1")), "3.1", true, ""},
		{"last_affected above", rng("ECOSYSTEM", ev("i", "0"), ev("l", "3.1")), "3.1.1", false, ""},
		{"no fix", rng("ECOSYSTEM", ev("i", "1.0")), "9", true, ""},
		{"limit", rng("ECOSYSTEM", ev("i", "0"), ev("lim", "2.0")), "2.5", false, ""},
		{"git passed over", rng("GIT", ev("i", "abc"), ev("f", "def")), "1.0", false, ""},
		{"semver", rng("SEMVER", ev("i", "0"), ev("f", "1.2.3")), "1.2.3-rc.1", true, "1.2.3"},
		{"versions", advisory.Affected{Versions: []string{"1.0", "1.1"}}, "1.1", true, ""},
		{"versions exact", advisory.Affected{Versions: []string{"1.0", "1.1"}}, "1.1.0", false, ""},
		{"unreadable", rng("ECOSYSTEM", ev("i", "0"), ev("f", "not a version!")), "1.0", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, fixed := Affects(pypi.Ecosystem{}, &c.af, c.version)
			assert.Equal(t, c.in, in)
			assert.Equal(t, c.fixed, fixed)
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
		in, fix := Affects(eco, &af, v)
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
