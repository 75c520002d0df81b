package advisory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/alicorn-dev/alicorn/advisory"
)

func TestBrief(t *testing.T) {
	a := &advisory.Advisory{ID: "FEDORA-2024-1", Type: advisory.Security, Severity: "Important",
		Title: "t", Description: "long text", Present: advisory.HasTitle | advisory.HasSeverity | advisory.HasDescription,
		Issued: time.Unix(100, 0), Updated: time.Unix(200, 0), Reboot: true, Repo: "updates",
		References: []advisory.Reference{{Type: "cve", ID: "CVE-1", Href: "https://x", Title: "x", Present: advisory.RefHasID}},
		Collections: []advisory.Collection{
			{Modules: []advisory.Module{{"nodejs", "20", "1", "abcd", "x86_64"}},
				Packages: []advisory.Package{{Name: "n", EVR: "1:2-3", Arch: "x86_64", Src: "s", Filename: "f", HasArch: true}}},
			{Packages: []advisory.Package{{Name: "m", EVR: "4-5", Arch: "noarch", HasArch: true, Restart: true}}},
		}}
	b := a.Brief(true)
	want := &advisory.Advisory{ID: a.ID, Type: a.Type, Severity: a.Severity, Present: a.Present,
		Issued: a.Issued, Updated: a.Updated, Reboot: true, Repo: "updates",
		References: []advisory.Reference{{Type: "cve", ID: "CVE-1", Present: advisory.RefHasID}},
		Collections: []advisory.Collection{
			{Modules: []advisory.Module{{"nodejs", "20", "1", "abcd", "x86_64"}},
				Packages: []advisory.Package{{Name: "n", EVR: "1:2-3", Arch: "x86_64", HasArch: true}}},
			{Packages: []advisory.Package{{Name: "m", EVR: "4-5", Arch: "noarch", HasArch: true, Restart: true}}},
		}}
	assert.Equal(t, want, b)
	assert.Nil(t, a.Brief(false).References)
	assert.Equal(t, &advisory.Advisory{}, (&advisory.Advisory{}).Brief(true))
}
