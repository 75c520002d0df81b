package advisory

import (
	"context"
	"errors"
)

// Fingerprint identifies what a feed held when it was loaded: a feed that
// still has the same fingerprint has the same advisories.
type Fingerprint string

// ErrUnchanged is returned by Feed.Load when the feed's fingerprint is
// still the one given: the advisories loaded before still hold.
var ErrUnchanged = errors.New("advisory feed unchanged")

// Feed is a source of advisories: OSV files, a vendor's CSAF or VEX
// documents, anything that can say which versions of which packages
// (Affected, keyed on package URLs or ecosystem names) an advisory is
// about. A third party adds a feed by implementing it.
type Feed interface {
	// Name identifies the feed in errors and warnings (a path, a URL).
	Name() string
	// Load returns the feed's advisories and their fingerprint. Given the
	// fingerprint of an earlier load that still holds, it returns
	// ErrUnchanged and no advisories, without reading them again.
	Load(ctx context.Context, last Fingerprint) ([]*Advisory, Fingerprint, error)
}
