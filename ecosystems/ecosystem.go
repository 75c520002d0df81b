package ecosystems

import (
	"fmt"

	"github.com/alicorn-dev/alicorn/inventory"
)

// Ecosystem is one packaging ecosystem.
type Ecosystem interface {
	// Type is the package URL type of its packages ("pypi", "gem").
	Type() string
	// OSV is its name in OSV feeds ("PyPI", "RubyGems").
	OSV() string
	// Compare orders two versions: -1, 0 or +1; an error when either is
	// not a version of this ecosystem.
	Compare(a, b string) (int, error)
	// Extractors find its packages in a file tree.
	Extractors() []inventory.Extractor
}

// Set holds the ecosystems of a scan, found by purl type or OSV name.
type Set struct {
	all    []Ecosystem
	byType map[string]Ecosystem
	byOSV  map[string]Ecosystem
}

// NewSet makes a set; two ecosystems of one purl type or OSV name are an
// error.
func NewSet(es ...Ecosystem) (*Set, error) {
	s := &Set{byType: map[string]Ecosystem{}, byOSV: map[string]Ecosystem{}}
	for _, e := range es {
		if _, dup := s.byType[e.Type()]; dup {
			return nil, fmt.Errorf("two ecosystems of purl type %q", e.Type())
		}
		if _, dup := s.byOSV[e.OSV()]; dup && e.OSV() != "" {
			return nil, fmt.Errorf("two ecosystems named %q in OSV", e.OSV())
		}
		s.all = append(s.all, e)
		s.byType[e.Type()] = e
		if e.OSV() != "" {
			s.byOSV[e.OSV()] = e
		}
	}
	return s, nil
}

// ByType returns the ecosystem of a purl type.
func (s *Set) ByType(t string) (Ecosystem, bool) {
	e, ok := s.byType[t]
	return e, ok
}

// ByOSV returns the ecosystem OSV names so.
func (s *Set) ByOSV(name string) (Ecosystem, bool) {
	e, ok := s.byOSV[name]
	return e, ok
}

// Extractors returns every ecosystem's extractors, in the set's order.
func (s *Set) Extractors() []inventory.Extractor {
	var out []inventory.Extractor
	for _, e := range s.all {
		out = append(out, e.Extractors()...)
	}
	return out
}

// CompareParsed orders two version strings with a version type's parser
// and comparison, for ecosystems whose versions come from a library.
func CompareParsed[V interface{ Compare(V) int }](parse func(string) (V, error), a, b string) (int, error) {
	va, err := parse(a)
	if err != nil {
		return 0, fmt.Errorf("version %q: %w", a, err)
	}
	vb, err := parse(b)
	if err != nil {
		return 0, fmt.Errorf("version %q: %w", b, err)
	}
	return va.Compare(vb), nil
}

// Namer is implemented by ecosystems whose OSV package names are not
// their package URLs' names as written: PyPI's need PEP 503
// normalisation, Maven's "group:artifact" is a namespace and a name.
type Namer interface {
	// PURLName returns the namespace and name of the package URL of a
	// package OSV names so.
	PURLName(osvName string) (namespace, name string)
}

// PURLName maps an OSV package name to a purl namespace and name with
// e's Namer, or as the name itself when e has none.
func PURLName(e Ecosystem, osvName string) (namespace, name string) {
	if n, ok := e.(Namer); ok {
		return n.PURLName(osvName)
	}
	return "", osvName
}
