package match

import (
	"context"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/inventory"
)

// Matcher turns installed packages and advisories into the pairs that
// apply. A third party adds a way of matching (a vendor's VEX statements,
// say) by implementing it.
type Matcher interface {
	// Match returns the pairs that apply in mode (see OSVOptions.Mode).
	Match(ctx context.Context, pkgs []inventory.Package, advisories []*advisory.Advisory, mode Mode) ([]Vulnerable, error)
}

// AffectedMatcher is the Matcher of advisories' Affected entries (OSV's
// model, which any feed can fill in): OSV with the ecosystems of Set.
type AffectedMatcher struct {
	Set     *ecosystems.Set
	Options OSVOptions
}

// Match returns OSV(ctx, pkgs, advisories, m.Set, m.Options) in mode.
func (m AffectedMatcher) Match(ctx context.Context, pkgs []inventory.Package, advisories []*advisory.Advisory,
	mode Mode) ([]Vulnerable, error) {
	opts := m.Options
	opts.Mode = mode
	return OSV(ctx, pkgs, advisories, m.Set, opts)
}
