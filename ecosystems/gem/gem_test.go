package gem

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/ecosystems/ecosystemtest"
	"github.com/alicorn-dev/alicorn/inventory"
)

// TestOrder checks RubyGems' own comparison cases (test_gem_version.rb:
// test_spaceship, test_semver, test_equals2).
func TestOrder(t *testing.T) {
	var e Ecosystem
	cmp := func(a, b string) int {
		c, err := e.Compare(a, b)
		require.NoError(t, err, "%s %s", a, b)
		return c
	}
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0.0", 0}, {"1.0", "1.0.a", 1}, {"1.8.2", "0.0.0", 1}, {"1.8.2", "1.8.2.a", 1},
		{"1.8.2.b", "1.8.2.a", 1}, {"1.8.2.a", "1.8.2", -1}, {"1.8.2.a10", "1.8.2.a9", 1},
		{"1.2.b1", "1.2.b.1", 0}, {"1.2", "1.3", -1},
		// Gem::Version reads "-" as ".pre.": a pre-release.
		{"3.0.0-1", "3.0.0.pre.1", 0}, {"3.0.0-1", "3.0.0", -1}, {"3.0.0.beta2", "3.0.0-1", -1},
	} {
		assert.Equal(t, c.want, cmp(c.a, c.b), "%s <=> %s", c.a, c.b)
	}
	// test_semver without its "+build" cases: RubyGems' version pattern
	// has no "+", and current RubyGems refuses such versions, as we do.
	semver := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"}
	for i := 1; i < len(semver); i++ {
		assert.Equal(t, -1, cmp(semver[i-1], semver[i]), "%s < %s", semver[i-1], semver[i])
	}
	for _, bad := range []string{"junk", "1.0.0+build"} {
		_, err := e.Compare(bad, "1.0")
		assert.Error(t, err, bad)
	}
}

func TestExtract(t *testing.T) {
	fsys := fstest.MapFS{
		"usr/share/gems/specifications/rack-2.2.3.gemspec": {Data: []byte(
			"# -*- encoding: utf-8 -*-\n# stub: rack 2.2.3 ruby lib\n\nGem::Specification.new do |s|\n  s.name = \"rack\".freeze\n")},
		"usr/local/share/gems/specifications/puma-6.4.0.gemspec": {Data: []byte(
			"Gem::Specification.new do |s|\n  s.name = 'puma'\n  s.version = \"6.4.0\"\n  system('rm -rf /')\nend\n")},
		"usr/share/gems/specifications/broken.gemspec": {Data: []byte("Gem::Specification.new do |s|\nend\n")},
		"srv/app/Gemfile.lock": {Data: []byte("GEM\n  remote: https://rubygems.org/\n  specs:\n" +
			"    actionpack (7.1.3)\n      rack (>= 2.2.4)\n    nokogiri (1.16.2-x86_64-linux)\n    rack (2.2.8)\n\n" +
			"PLATFORMS\n  x86_64-linux\n\nDEPENDENCIES\n  rack\n")},
		"srv/app/lib/specifications.rb": {Data: []byte("not a gemspec")},
	}
	pkgs, err := inventory.Scan(context.Background(), fsys, Ecosystem{}.Extractors())
	require.Error(t, err)
	assert.ErrorContains(t, err, "broken.gemspec")
	var got []string
	for _, p := range pkgs {
		got = append(got, p.PURL.String()+" "+p.Locations[0].Path)
	}
	assert.ElementsMatch(t, []string{
		"pkg:gem/rack@2.2.3 usr/share/gems/specifications/rack-2.2.3.gemspec",
		"pkg:gem/puma@6.4.0 usr/local/share/gems/specifications/puma-6.4.0.gemspec",
		"pkg:gem/actionpack@7.1.3 srv/app/Gemfile.lock",
		"pkg:gem/nokogiri@1.16.2 srv/app/Gemfile.lock",
		"pkg:gem/rack@2.2.8 srv/app/Gemfile.lock",
	}, got)
}

func FuzzGemspec(f *testing.F) {
	f.Add([]byte("# stub: rack 2.2.3 ruby lib\n"))
	f.Add([]byte("GEM\n  specs:\n    rack (2.2.8)\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys := fstest.MapFS{"specifications/x.gemspec": {Data: b}, "Gemfile.lock": {Data: b}}
		pkgs, _ := inventory.Scan(context.Background(), fsys, Ecosystem{}.Extractors())
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || strings.ContainsAny(p.Name, " \n") {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

func TestConformance(t *testing.T) {
	ecosystemtest.Run(t, Ecosystem{}, ecosystemtest.Case{
		Ordered: []string{"0.9", "1.0.a", "1.0.b1", "1.0", "1.0.1", "1.2", "1.10", "2.0.0.rc1", "2.0.0"},
		Equal:   [][2]string{{"1.0", "1.0.0"}, {"1.2.b1", "1.2.b.1"}},
		Invalid: []string{"junk", "1.0.0+build"},
		Tree: fstest.MapFS{
			"usr/share/gems/specifications/rack-2.2.3.gemspec": {Data: []byte("# stub: rack 2.2.3 ruby lib\n")},
			"usr/local/share/gems/specifications/puma-6.0.0.gemspec": {Data: []byte(
				"Gem::Specification.new do |s|\n  s.name = \"puma\"\n  s.version = \"6.0.0\"\nend\n")},
			"srv/app/Gemfile.lock": {Data: []byte("GEM\n  remote: https://rubygems.org/\n  specs:\n" +
				"    nokogiri (1.15.0-x86_64-linux)\n      racc (~> 1.4)\n    racc (1.7.1)\n\nPLATFORMS\n  ruby\n")},
		},
		Want: []string{"pkg:gem/rack@2.2.3", "pkg:gem/puma@6.0.0", "pkg:gem/nokogiri@1.15.0", "pkg:gem/racc@1.7.1"},
	})
}

// TestGemspecIsNotRun: a gemspec is Ruby; one whose version is computed
// is refused, and nothing in it runs.
func TestGemspecIsNotRun(t *testing.T) {
	marker := t.TempDir() + "/ran"
	fsys := fstest.MapFS{"usr/share/gems/specifications/evil-1.gemspec": {Data: []byte(
		"system(\"touch " + marker + "\")\nGem::Specification.new do |s|\n  s.name = \"evil\"\n" +
			"  s.version = File.read(\"VERSION\")\nend\n")}}
	_, err := inventory.Scan(context.Background(), fsys, Ecosystem{}.Extractors())
	require.ErrorContains(t, err, "evil-1.gemspec")
	assert.NoFileExists(t, marker)
}

func FuzzCompare(f *testing.F) {
	f.Add("1.0.a", "1.0-1")
	f.Add(" 2.0.0.rc1 ", "10.beta")
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := ParseVersion(a)
		vb, errB := ParseVersion(b)
		if errA != nil || errB != nil {
			return
		}
		if va.Compare(vb) != -vb.Compare(va) || va.Compare(va) != 0 {
			t.Fatalf("not an order on %q, %q", a, b)
		}
	})
}
