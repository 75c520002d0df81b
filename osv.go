package alicorn

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/advisory/osv"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
	"github.com/alicorn-dev/alicorn/match"
)

// feedCache keeps each feed's advisories with their fingerprint: a feed
// is read once however many modules name it, and read again by a later
// report only when it changed.
type feedCache struct {
	mu    sync.Mutex
	feeds map[string]loadedFeed
}

type loadedFeed struct {
	fp   advisory.Fingerprint
	advs []*advisory.Advisory
}

// load returns the advisories of feeds, in order, each feed's once.
func (fc *feedCache) load(ctx context.Context, feeds []advisory.Feed) ([]*advisory.Advisory, error) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.feeds == nil {
		fc.feeds = map[string]loadedFeed{}
	}
	var out []*advisory.Advisory
	seen := map[string]bool{}
	for _, f := range feeds {
		name := f.Name()
		if seen[name] {
			continue
		}
		seen[name] = true
		prev := fc.feeds[name]
		advs, fp, err := f.Load(ctx, prev.fp)
		switch {
		case errors.Is(err, advisory.ErrUnchanged):
			advs = prev.advs
		case err != nil:
			return nil, fmt.Errorf("feed %s: %w", name, err)
		default:
			fc.feeds[name] = loadedFeed{fp: fp, advs: advs}
		}
		out = append(out, advs...)
	}
	return out, nil
}

// hasFeeds reports whether any feed applies to every image.
func (s *System) hasFeeds() bool { return len(s.opts.OSV) > 0 || len(s.opts.Feeds) > 0 }

// feedsFor are the feeds that apply to an image: the options' and the
// OSV paths a module file names.
func (s *System) feedsFor(osvPaths []string) []advisory.Feed {
	var out []advisory.Feed
	for _, p := range append(append([]string{}, s.opts.OSV...), osvPaths...) {
		out = append(out, osv.Feed{Path: p})
	}
	return append(out, s.opts.Feeds...)
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
	// Every feed named is read, packages or not: a feed that cannot be
	// read is an error, never a silent report of nothing.
	feeds, err := s.feeds.load(ctx, s.feedsFor(extra))
	if err != nil || len(pkgs) == 0 {
		return nil, nil, err
	}
	// Ranges that could not be evaluated come back beside the pairs found
	// (match.ErrRange): warnings, each naming its advisory.
	vulns, err := s.matcher.Match(ctx, pkgs, feeds, q.Mode)
	var warns []error
	if err != nil {
		if !errors.Is(err, match.ErrRange) {
			return nil, nil, err
		}
		warns = unjoin(err)
	}
	var kept []match.Vulnerable
	for _, v := range vulns {
		if q.Filter.KeepAdvisory(v.Advisory, pkgs[v.Package].Name) {
			kept = append(kept, v)
		}
	}
	return kept, warns, nil
}

// unjoin splits an errors.Join into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
