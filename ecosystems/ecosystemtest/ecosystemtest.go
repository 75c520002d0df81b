package ecosystemtest

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/package-url/packageurl-go"

	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/inventory"
)

// Case is what an ecosystem shows of itself to the suite.
type Case struct {
	// Ordered are versions in strictly ascending order; Equal pairs of
	// versions that compare equal; Invalid strings Compare must refuse
	// (leave empty for orders, like Maven's, that accept every string).
	Ordered []string
	Equal   [][2]string
	Invalid []string
	// Tree is a sample file tree; Want the package URLs (String form,
	// any order) Scan finds in it with the ecosystem's extractors.
	Tree fstest.MapFS
	Want []string
	// OSVNames maps OSV package names to the purl "namespace/name" they
	// must match (for ecosystems with a Namer).
	OSVNames map[string]string
}

// Run checks e against c.
func Run(t *testing.T, e ecosystems.Ecosystem, c Case) {
	t.Helper()
	t.Run("identity", func(t *testing.T) { identity(t, e) })
	t.Run("order", func(t *testing.T) { order(t, e, c) })
	t.Run("extract", func(t *testing.T) { extract(t, e, c) })
	t.Run("damaged", func(t *testing.T) { damaged(t, e, c) })
	t.Run("names", func(t *testing.T) {
		for osvName, want := range c.OSVNames {
			ns, name := ecosystems.PURLName(e, osvName)
			got := name
			if ns != "" {
				got = ns + "/" + name
			}
			if got != want {
				t.Errorf("PURLName(%q) = %q, want %q", osvName, got, want)
			}
		}
	})
}

func identity(t *testing.T, e ecosystems.Ecosystem) {
	if e.Type() == "" {
		t.Fatal("Type is empty")
	}
	probe := packageurl.PackageURL{Type: e.Type(), Name: "x"}
	if err := probe.Normalize(); err != nil {
		t.Errorf("Type %q is not a valid purl type: %v", e.Type(), err)
	}
	if _, err := ecosystems.NewSet(e); err != nil {
		t.Errorf("a set of it alone: %v", err)
	}
	xs := e.Extractors()
	if len(xs) == 0 {
		t.Fatal("no extractors")
	}
	seen := map[string]bool{}
	for _, x := range xs {
		if x.Name() == "" || seen[x.Name()] {
			t.Errorf("extractor name %q empty or repeated", x.Name())
		}
		seen[x.Name()] = true
	}
}

func order(t *testing.T, e ecosystems.Ecosystem, c Case) {
	if len(c.Ordered) < 3 {
		t.Fatal("give at least three ordered versions")
	}
	cmp := func(a, b string) int {
		t.Helper()
		r, err := e.Compare(a, b)
		if err != nil {
			t.Fatalf("Compare(%q, %q): %v", a, b, err)
		}
		if r < -1 || r > 1 {
			t.Fatalf("Compare(%q, %q) = %d, want -1, 0 or 1", a, b, r)
		}
		return r
	}
	// Every pair of the list, both ways: this checks antisymmetry and,
	// over a sorted list, transitivity.
	for i, a := range c.Ordered {
		if cmp(a, a) != 0 {
			t.Errorf("%s != itself", a)
		}
		for _, b := range c.Ordered[i+1:] {
			if cmp(a, b) != -1 || cmp(b, a) != 1 {
				t.Errorf("want %s < %s", a, b)
			}
		}
	}
	for _, p := range c.Equal {
		if cmp(p[0], p[1]) != 0 || cmp(p[1], p[0]) != 0 {
			t.Errorf("want %s == %s", p[0], p[1])
		}
	}
	// Sorting a shuffled copy gives the list back.
	shuffled := slices.Clone(c.Ordered)
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	slices.SortFunc(shuffled, cmp)
	if !slices.Equal(shuffled, c.Ordered) {
		t.Errorf("sorted: %v, want %v", shuffled, c.Ordered)
	}
	for _, bad := range c.Invalid {
		if _, err := e.Compare(bad, c.Ordered[0]); err == nil {
			t.Errorf("Compare accepted %q", bad)
		}
	}
}

func extract(t *testing.T, e ecosystems.Ecosystem, c Case) {
	pkgs, err := inventory.Scan(context.Background(), c.Tree, e.Extractors())
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	var got []string
	for _, p := range pkgs {
		if p.PURL.Type != e.Type() {
			t.Errorf("%s: purl type %q, want %q", p.PURL, p.PURL.Type, e.Type())
		}
		if p.Version == "" || p.PURL.Version != p.Version || p.PURL.Name == "" {
			t.Errorf("%s: name or version missing (Version %q)", p.PURL, p.Version)
		}
		if len(p.Locations) == 0 || p.Locations[0].Path == "" {
			t.Errorf("%s: no location", p.PURL)
		}
		if back, err := packageurl.FromString(p.PURL.String()); err != nil {
			t.Errorf("%s does not parse back: %v", p.PURL, err)
		} else if back.String() != p.PURL.String() {
			t.Errorf("%s is not in its type's canonical form (%s)", p.PURL, back)
		}
		if _, err := e.Compare(p.Version, p.Version); err != nil {
			t.Errorf("%s: its own version does not compare: %v", p.PURL, err)
		}
		got = append(got, p.PURL.String())
	}
	want := slices.Clone(c.Want)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("found %v, want %v", got, want)
	}
}

// damaged runs every extractor on truncated and bit-flipped copies of
// the files it asks for, and on empty ones: errors are fine, panics and
// packages without a name or version are not.
func damaged(t *testing.T, e ecosystems.Ecosystem, c Case) {
	r := rand.New(rand.NewPCG(3, 4))
	for name, f := range c.Tree {
		if !f.Mode.IsRegular() {
			continue
		}
		variants := [][]byte{nil, f.Data[:len(f.Data)/2]}
		for range 8 {
			b := slices.Clone(f.Data)
			if len(b) > 0 {
				b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
			}
			variants = append(variants, b)
		}
		for _, x := range e.Extractors() {
			for i, data := range variants {
				tree := fstest.MapFS{name: &fstest.MapFile{Data: data, Mode: f.Mode}}
				info, err := fs.Stat(tree, name)
				if err != nil {
					t.Fatal(err)
				}
				if !x.Required(name, info) {
					continue
				}
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Errorf("%s panicked on variant %d of %s: %v", x.Name(), i, name, p)
						}
					}()
					pkgs, _ := x.Extract(context.Background(), &inventory.Input{FS: tree, Path: name, Info: info})
					for _, p := range pkgs {
						if p.PURL.Name == "" || p.Version == "" {
							t.Errorf("%s: variant %d of %s gave %s", x.Name(), i, name, fmt.Sprint(p.PURL))
						}
					}
				}()
			}
		}
	}
}
