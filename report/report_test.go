package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/match"
)

// Expected outputs follow dnf 4.14's updateinfo.py; TestParityWithDNF
// checks the same code against real dnf.

func adv(id, typ, sev string, updated int64) *advisory.Advisory {
	a := &advisory.Advisory{ID: id, Type: typ, Title: "Title of " + id, Present: advisory.HasTitle}
	if sev != "-" {
		a.Severity, a.Present = sev, a.Present|advisory.HasSeverity
	}
	if updated > 0 {
		a.Updated = time.Unix(updated, 0).UTC()
	}
	return a
}

func finding(a *advisory.Advisory, name, evr, arch string, installed bool) match.Finding {
	return match.Finding{Advisory: a, Fixed: &advisory.Package{Name: name, EVR: evr, Arch: arch, HasArch: true,
		Filename: name + "-" + evr + "." + arch + ".rpm"}, NewerOrEqualInstalled: installed}
}

func TestSummary(t *testing.T) {
	crit := adv("A-1", "security", "Critical", 1)
	none := adv("A-2", "security", "-", 1)
	odd := adv("A-3", "security", "", 1)
	var fs []match.Finding
	for i := range 10 {
		fs = append(fs, finding(adv("B-"+string(rune('a'+i)), "bugfix", "-", 1), "p", "1-1", "x86_64", false))
	}
	fs = append(fs, finding(crit, "p", "1-1", "x86_64", false), finding(crit, "q", "1-1", "x86_64", false),
		finding(none, "p", "1-1", "x86_64", false), finding(odd, "p", "1-1", "x86_64", false),
		finding(adv("C-1", "weird", "-", 1), "p", "1-1", "x86_64", false))
	var b bytes.Buffer
	require.NoError(t, Summary(&b, fs, Options{Mode: match.Available}))
	assert.Equal(t, `Updates Information Summary: available
     3 Security notice(s)
         1 Critical Security notice(s)
         1 Unknown Security notice(s)
    10 Bugfix notice(s)
     1 other notice(s)
`, b.String())
	b.Reset()
	require.NoError(t, Summary(&b, nil, Options{}))
	assert.Empty(t, b.String(), "nothing at all when nothing applies")
}

func TestList(t *testing.T) {
	a := adv("FEDORA-2", "security", "Important", 200)
	a.References = []advisory.Reference{
		{Type: "self", ID: "FEDORA-2", Href: "https://bodhi/FEDORA-2", Present: advisory.RefHasID | advisory.RefHasHref},
		{Type: "cve", ID: "CVE-1", Present: advisory.RefHasID},
		{Type: "bugzilla", ID: "99", Present: advisory.RefHasID},
	}
	b1 := adv("FEDORA-1", "bugfix", "-", 100)
	// The same ID again later with another severity: one row, the last label.
	again := adv("FEDORA-2", "security", "Low", 200)
	fs := []match.Finding{
		finding(a, "zlib", "2.0-10", "x86_64", false),
		finding(b1, "zlib", "2.0-2", "x86_64", true),
		finding(again, "zlib", "2.0-10", "x86_64", false),
	}
	var b bytes.Buffer
	require.NoError(t, List(&b, fs, Options{Mode: match.All}))
	assert.Equal(t, "  FEDORA-2 Low/Sec. zlib-2.0-10.x86_64\ni FEDORA-1 bugfix   zlib-2.0-2.x86_64\n", b.String(),
		"sorted by NEVRA as strings: 2.0-10 before 2.0-2")

	b.Reset()
	require.NoError(t, List(&b, fs[:1], Options{WithCVE: true}))
	assert.Equal(t, "FEDORA-2 Important/Sec. zlib-2.0-10.x86_64\nCVE-1    Important/Sec. zlib-2.0-10.x86_64\n", b.String(),
		"--with-cve lists CVEs and references of other types, not Bugzilla")

	b.Reset()
	require.NoError(t, List(&b, fs[:2], Options{Verbose: true, Links: true, Location: time.UTC}))
	assert.Equal(t, "FEDORA-2 Important/Sec. zlib-2.0-10.x86_64 1970-01-01 00:03:20 https://bodhi/FEDORA-2\n"+
		"FEDORA-1 bugfix         zlib-2.0-2.x86_64  1970-01-01 00:01:40 -\n", b.String())
}

func TestInfo(t *testing.T) {
	a := adv("FEDORA-2", "security", "", 1709287200)
	a.Title = "zlib update"
	a.Description, a.Present = "First line.\nSecond\u2028third\r\n", a.Present|advisory.HasDescription
	a.Rights, a.Present = "Copyright", a.Present|advisory.HasRights
	a.References = []advisory.Reference{
		{Type: "bugzilla", ID: "20", Title: "b", Href: "https://bz/20", Present: advisory.RefHasID | advisory.RefHasTitle | advisory.RefHasHref},
		{Type: "bugzilla", ID: "100", Present: advisory.RefHasID},
		{Type: "cve", ID: "CVE-2", Href: "https://cve/2", Present: advisory.RefHasID | advisory.RefHasHref},
		{Type: "self", ID: "FEDORA-2", Href: "https://bodhi/FEDORA-2", Present: advisory.RefHasID | advisory.RefHasHref},
	}
	a.Collections = []advisory.Collection{{Packages: []advisory.Package{
		{Name: "zlib", EVR: "2-1", Arch: "x86_64", HasArch: true, Filename: "zlib-2-1.x86_64.rpm"},
		{Name: "zlib", EVR: "2-1", Arch: "aarch64", HasArch: true, Filename: "zlib-2-1.aarch64.rpm"},
	}}}
	b2 := adv("fedora-1", "newpackage", "-", 0)
	fs := []match.Finding{finding(a, "zlib", "2-1", "x86_64", true), finding(b2, "zlib", "2-1", "x86_64", false)}
	var b bytes.Buffer
	require.NoError(t, Info(&b, fs, Options{Mode: match.All, Verbose: true, Location: time.UTC, Arches: []string{"x86_64", "noarch"}}))
	assert.Equal(t, `===============================================================================
  Title of fedora-1
===============================================================================
  Update ID: fedora-1
       Type: newpackage
    Updated: 1970-01-01 00:00:00
  Installed: false

===============================================================================
  zlib update
===============================================================================
  Update ID: FEDORA-2
       Type: security
    Updated: 2024-03-01 10:00:00
       Bugs: 100 - 
           : 20 - b
       CVEs: CVE-2
Description: First line.
           : Second
           : third
   Severity: 
     Rights: Copyright
      Files: zlib-2-1.x86_64.rpm
  Installed: true
`, b.String())

	b.Reset()
	require.NoError(t, Info(&b, fs[:1], Options{Links: true, Location: time.UTC}))
	assert.Contains(t, b.String(), "       Bugs: 100 - \n           : 20 - b\n           : https://bz/20\n"+
		"       CVEs: CVE-2\n           : https://cve/2\n     Notice: https://bodhi/FEDORA-2\n")

	b.Reset()
	require.NoError(t, Info(&b, nil, Options{}))
	assert.Equal(t, "\n", b.String(), "no match prints one newline")
}

// TestListAllLinksLineUp: with --with-links the URL column of module rows
// lines up with the host rows'; with -v the host rows stay dnf's.
func TestListAllLinksLineUp(t *testing.T) {
	adv := &advisory.Advisory{ID: "A-1", Type: advisory.Security, Severity: "Low", Present: advisory.HasSeverity,
		References:  []advisory.Reference{{Type: advisory.RefSelf, ID: "A-1", Href: "https://x/A-1"}},
		Collections: []advisory.Collection{{Packages: []advisory.Package{{Name: "p", EVR: "2-1", Arch: "x86_64", HasArch: true}}}}}
	installed := []inventory.Package{rpm.NewPackage("p", "1-1", "x86_64")}
	findings := []match.Finding{{Installed: 0, Advisory: adv, Fixed: &adv.Collections[0].Packages[0]}}
	mods := []ModuleFindings{{Name: "web", Image: "oci:/a/long/image/reference", Findings: findings, Installed: installed}}
	var b strings.Builder
	require.NoError(t, ListAll(&b, findings, mods, Options{Links: true}, false))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, strings.Index(lines[0], "https://"), strings.Index(lines[1], "https://"), b.String())
	b.Reset()
	require.NoError(t, ListAll(&b, findings, mods, Options{Verbose: true, Location: time.UTC}, false))
	assert.True(t, strings.HasPrefix(b.String(), "A-1 Low/Sec. p-2-1.x86_64 1970-01-01 00:00:00\n"), b.String())
}
