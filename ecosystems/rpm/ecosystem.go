package rpm

import (
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
)

// Ecosystem is RPM's: installed packages from the rpm database, ordered
// by EVR as rpm orders them.
type Ecosystem struct{}

// Type is the purl type.
func (Ecosystem) Type() string { return "rpm" }

// OSV is empty: RPM advisories come from updateinfo, not OSV feeds.
func (Ecosystem) OSV() string { return "" }

// Compare orders two "[epoch:]version[-release]" strings as rpm does.
func (Ecosystem) Compare(a, b string) (int, error) { return Compare(ParseEVR(a), ParseEVR(b)), nil }

// Extractors returns the rpm database extractor.
func (Ecosystem) Extractors() []inventory.Extractor { return []inventory.Extractor{rpmdb.Extractor{}} }
