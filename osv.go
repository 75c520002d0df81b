package alicorn

import (
	"context"
	"fmt"
	"sync"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/advisory/osv"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
	"github.com/alicorn-dev/alicorn/match"
)

// feedCache loads each OSV feed once, however many modules name it
// (modules are matched one after the other).
type feedCache struct {
	mu    sync.Mutex
	feeds map[string][]*advisory.Advisory
}

// load returns the advisories of the feeds at paths, in order, each feed's
// once.
func (fc *feedCache) load(ctx context.Context, paths []string) ([]*advisory.Advisory, error) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
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
	if len(pkgs) == 0 || keepOwned || dbPath == "" {
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

// matchOSV returns what the OSV feeds (the options' and extra) say of
// pkgs, kept as the query's filter keeps advisories. An advisory whose
// ranges cannot be read is a warning naming it.
func (s *System) matchOSV(ctx context.Context, q *Query, pkgs []inventory.Package, extra []string) ([]match.Vulnerable,
	[]error, error) {
	if len(pkgs) == 0 {
		return nil, nil, nil
	}
	feeds, err := s.feeds.load(ctx, append(append([]string{}, s.opts.OSV...), extra...))
	if err != nil {
		return nil, nil, err
	}
	vulns, err := match.OSV(ctx, pkgs, feeds, s.ecos, match.OSVOptions{})
	if err != nil {
		return nil, nil, err
	}
	var kept []match.Vulnerable
	for _, v := range vulns {
		// The modes mean what they mean for RPMs: an affected package
		// needs an update (available, all), one with a fixed version has
		// one (updates); an affected package is never "installed".
		switch q.Mode {
		case match.Installed:
			continue
		case match.Updates:
			if v.Fixed == "" {
				continue
			}
		}
		if q.Filter.KeepAdvisory(v.Advisory, pkgs[v.Package].Name) {
			kept = append(kept, v)
		}
	}
	return kept, nil, nil
}
