package updater

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/alicorn-dev/alicorn/update"
)

var fixes = []update.Fix{
	{Advisory: "FEDORA-2026-1", Type: "security", Severity: "Important", CVEs: []string{"CVE-2026-1"}, Bugs: []string{"11"}},
	{Advisory: "FEDORA-2026-2", Type: "security", Severity: "Low", CVEs: []string{"CVE-2026-2"}},
	{Advisory: "FEDORA-2026-3", Type: "bugfix", Bugs: []string{"33"}},
	{Advisory: "OLD-1"}, // an image labelled with IDs only
}

func ids(fs []update.Fix) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Advisory)
	}
	return out
}

// TestFilter checks dnf's semantics: each option selects advisories, and
// the selections add up (OR); IDs compare case-insensitively.
func TestFilter(t *testing.T) {
	for _, c := range []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{"FEDORA-2026-1", "FEDORA-2026-2", "FEDORA-2026-3", "OLD-1"}},
		{Filter{Security: true}, []string{"FEDORA-2026-1", "FEDORA-2026-2"}},
		{Filter{Severities: []string{"important"}}, []string{"FEDORA-2026-1"}},
		{Filter{Security: true, Severities: []string{"Critical"}}, []string{"FEDORA-2026-1", "FEDORA-2026-2"}},
		{Filter{CVEs: []string{"cve-2026-2"}}, []string{"FEDORA-2026-2"}},
		{Filter{Bugs: []string{"33"}}, []string{"FEDORA-2026-3"}},
		{Filter{Advisories: []string{"old-1"}, Bugs: []string{"11"}}, []string{"FEDORA-2026-1", "OLD-1"}},
		{Filter{CVEs: []string{"CVE-1999-1"}}, nil},
	} {
		assert.Equal(t, c.want, ids(c.f.Select(fixes)), "%+v", c.f)
	}
}

func TestWanted(t *testing.T) {
	s := &Status{Newest: "sha256:b", Deployed: nil, Fixes: fixes[:1]}
	assert.True(t, Filter{}.Wanted(s), "a first deployment")
	s.Running = nil
	assert.False(t, Filter{Bugs: []string{"99"}}.Wanted(s))
	s.Newest = ""
	assert.False(t, Filter{}.Wanted(s), "nothing published")
}
