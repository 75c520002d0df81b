package dnfcompat

import (
	"context"
	"fmt"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/advisory/osv"
	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/ecosystems/gem"
	"github.com/alicorn-dev/alicorn/ecosystems/maven"
	"github.com/alicorn-dev/alicorn/ecosystems/pypi"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
)

// defaultEcosystems are the non-RPM ecosystems modules are scanned for.
func defaultEcosystems() (*ecosystems.Set, error) {
	return ecosystems.NewSet(pypi.Ecosystem{}, gem.Ecosystem{}, maven.Ecosystem{})
}

// feedCache loads each OSV feed once, however many modules name it
// (modules are matched one after the other).
type feedCache struct {
	feeds map[string][]*advisory.Advisory
}

// load returns the advisories of the feeds at paths, in order, each feed's
// once.
func (fc *feedCache) load(ctx context.Context, paths []string) ([]*advisory.Advisory, error) {
	if fc.feeds == nil {
		fc.feeds = map[string][]*advisory.Advisory{}
	}
	var out []*advisory.Advisory
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[p] {
			continue
		}
		seen[p] = true
		as, ok := fc.feeds[p]
		if !ok {
			var err error
			if as, err = osv.Load(ctx, p); err != nil {
				return nil, fmt.Errorf("OSV feed: %w", err)
			}
			fc.feeds[p] = as
		}
		out = append(out, as...)
	}
	return out, nil
}

// splitOwned leaves out of pkgs those whose files an RPM of the database
// at dbPath owns, unless keepOwned: they are reported through that RPM's
// advisories.
func splitOwned(ctx context.Context, dbPath string, pkgs []inventory.Package, keepOwned bool) ([]inventory.Package,
	[]inventory.Owned, error) {
	if len(pkgs) == 0 || keepOwned {
		return pkgs, nil, nil
	}
	db, err := rpmdb.Open(dbPath)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	owners, err := db.FileOwners(ctx)
	if err != nil {
		return nil, nil, err
	}
	free, owned := inventory.SplitOwned(pkgs, func(p string) string { return owners[p] })
	return free, owned, nil
}
