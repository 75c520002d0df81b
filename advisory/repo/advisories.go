package repo

import (
	"context"
	"fmt"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/advisory/updateinfo"
)

// Advisories reads the repository's updateinfo. A repository without one
// has no advisories. The whole file is read and checked before anything
// is returned: a truncated, malformed or altered file is an error.
func (m *Metadata) Advisories(ctx context.Context) ([]*advisory.Advisory, error) {
	r, d, err := m.Open(ctx, "updateinfo")
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, nil
	}
	defer r.Close()
	as, err := updateinfo.ParseAll(ctx, r)
	if err == nil {
		err = r.Verify()
	}
	if err != nil {
		return nil, fmt.Errorf("repository %s: %s: %w", m.Config.ID, d.Location.Href, err)
	}
	for _, a := range as {
		a.Repo = m.Config.ID
	}
	return as, nil
}
