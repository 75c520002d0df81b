package repo

import (
	"context"
	"fmt"
	"strings"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/advisory/index"
	"github.com/alicorn-dev/alicorn/advisory/updateinfo"
)

// Advisories reads the repository's updateinfo. A repository without one
// has no advisories. The whole file is read and checked before anything
// is returned: a truncated, malformed or altered file is an error.
//
// With a cache directory, the parsed advisories are kept in an index
// named after updateinfo's checksum, so the next run with the same
// metadata loads them without parsing.
//
// With brief, advisories loaded from the index lack their details (see
// index.Options): enough to match and list, not to show.
func (m *Metadata) Advisories(ctx context.Context, brief bool) ([]*advisory.Advisory, error) {
	d := m.Repomd.Find("updateinfo")
	if d == nil {
		return nil, nil
	}
	idx := ""
	if sum := strings.TrimSpace(d.Checksum.Value); sum != "" && !strings.ContainsAny(sum, "/\\") {
		idx = m.CacheFile(sum + "-updateinfo.idx")
	}
	if idx != "" {
		if as, err := index.Read(idx, index.Options{Brief: brief}); err == nil {
			m.setRepo(as)
			return as, nil
		}
	}
	r, d, err := m.Open(ctx, "updateinfo")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	as, err := updateinfo.ParseAll(ctx, r)
	if err == nil {
		err = r.Verify()
	}
	if err != nil {
		return nil, fmt.Errorf("repository %s: %s: %w", m.Config.ID, d.Location.Href, err)
	}
	if idx != "" {
		// The index only saves time: failing to write it is not an error.
		_ = index.Write(idx, as)
	}
	m.setRepo(as)
	return as, nil
}

func (m *Metadata) setRepo(as []*advisory.Advisory) {
	for _, a := range as {
		a.Repo = m.Config.ID
	}
}
