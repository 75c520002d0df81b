package osv

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/advisory"
)

const requestsOSV = `{
  "schema_version": "1.6.0",
  "id": "GHSA-9wx4-h78v-vm56",
  "modified": "2024-06-10T21:17:03Z",
  "published": "2024-05-20T20:15:00Z",
  "aliases": ["CVE-2024-35195"],
  "summary": "Requests Session object does not verify requests after making first request with verify=False",
  "details": "When making requests through a Requests Session, if the first request is made with verify=False...",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N"}],
  "affected": [{
    "package": {"ecosystem": "PyPI", "name": "requests", "purl": "pkg:pypi/requests"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.32.0"}]}],
    "versions": ["2.31.0"],
    "database_specific": {"source": "x"}
  }],
  "references": [
    {"type": "WEB", "url": "https://github.com/psf/requests/security/advisories/GHSA-9wx4-h78v-vm56"},
    {"type": "PACKAGE", "url": "https://github.com/psf/requests"}
  ],
  "database_specific": {"severity": "MODERATE", "github_reviewed": true},
  "unknown_field": 1
}`

func TestParse(t *testing.T) {
	a, err := Parse([]byte(requestsOSV), "r.json")
	require.NoError(t, err)
	assert.Equal(t, "GHSA-9wx4-h78v-vm56", a.ID)
	assert.Equal(t, advisory.Security, a.Type)
	assert.Equal(t, "Moderate", a.Severity, "CVSS 5.6")
	assert.True(t, a.Has(advisory.HasSeverity))
	assert.Equal(t, []string{"CVE-2024-35195"}, a.Aliases)
	assert.Equal(t, time.Date(2024, 6, 10, 21, 17, 3, 0, time.UTC), a.Updated)
	assert.Equal(t, []advisory.Affected{{Ecosystem: "PyPI", Name: "requests", PURL: "pkg:pypi/requests",
		Ranges:   []advisory.Range{{Type: "ECOSYSTEM", Events: []advisory.Event{{Introduced: "0"}, {Fixed: "2.32.0"}}}},
		Versions: []string{"2.31.0"}}}, a.Affected)
	var cves, self []string
	for _, r := range a.References {
		switch r.Type {
		case advisory.RefCVE:
			cves = append(cves, r.ID+" "+r.Href)
		case advisory.RefSelf:
			self = append(self, r.Href)
		}
	}
	assert.Equal(t, []string{"CVE-2024-35195 https://www.cve.org/CVERecord?id=CVE-2024-35195"}, cves)
	assert.Equal(t, []string{"https://osv.dev/vulnerability/GHSA-9wx4-h78v-vm56"}, self)
}

func TestSeverity(t *testing.T) {
	for _, c := range []struct {
		vectors []string
		db      string
		want    string
	}{
		{[]string{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, "", "Critical"},                    // 9.8
		{[]string{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}, "", "Important"},                   // 7.5
		{[]string{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}, "", "Moderate"},                    // 6.1
		{[]string{"CVSS:3.1/AV:L/AC:H/PR:H/UI:N/S:U/C:L/I:N/A:N"}, "", "Low"},                         // 1.9
		{[]string{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, "", "Critical"},                    // 9.8
		{[]string{"AV:N/AC:L/Au:N/C:P/I:P/A:P"}, "", "Important"},                                     // v2 7.5
		{[]string{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}, "", "Critical"}, // 9.3
		{[]string{"CVSS:3.1/AV:L/AC:H/PR:H/UI:N/S:U/C:L/I:N/A:N", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}, "", "Important"},
		{[]string{"garbage"}, "HIGH", "Important"},
		{nil, "moderate", "Moderate"},
		{nil, "", ""},
	} {
		assert.Equal(t, c.want, Severity(c.vectors, c.db), "%v %s", c.vectors, c.db)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	other := bytes.Replace([]byte(requestsOSV), []byte("GHSA-9wx4-h78v-vm56"), []byte("PYSEC-2024-1"), -1)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "feed/PyPI"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "feed/PyPI/b.json"), []byte(requestsOSV), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "feed/PyPI/a.json"), other, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "feed/README.md"), []byte("not json"), 0o644))
	as, err := Load(context.Background(), filepath.Join(dir, "feed"))
	require.NoError(t, err)
	require.Len(t, as, 2)
	assert.Equal(t, "PYSEC-2024-1", as[0].ID)

	zpath := filepath.Join(dir, "all.zip")
	f, err := os.Create(zpath)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	for name, body := range map[string][]byte{"GHSA-9wx4-h78v-vm56.json": []byte(requestsOSV), "PYSEC-2024-1.json": other} {
		w, err := zw.Create(name)
		require.NoError(t, err)
		w.Write(body)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	as, err = Load(context.Background(), zpath)
	require.NoError(t, err)
	require.Len(t, as, 2)
	assert.Equal(t, "GHSA-9wx4-h78v-vm56", as[0].ID)

	one, err := Load(context.Background(), filepath.Join(dir, "feed/PyPI/b.json"))
	require.NoError(t, err)
	require.Len(t, one, 1)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"id": "X", "affected": [`), 0o644))
	_, err := Load(context.Background(), bad)
	assert.ErrorContains(t, err, "bad.json")
	_, err = Parse([]byte(`{"summary": "no id"}`), "noid.json")
	assert.ErrorContains(t, err, "noid.json: no id")

	// A zip bomb: an entry that inflates past MaxEntry.
	zpath := filepath.Join(dir, "bomb.zip")
	f, err := os.Create(zpath)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	w, err := zw.Create("bomb.json")
	require.NoError(t, err)
	w.Write(bytes.Repeat([]byte(" "), MaxEntry+10))
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	_, err = Load(context.Background(), zpath)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.ErrorContains(t, err, "bomb.zip:bomb.json")
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(requestsOSV))
	f.Add([]byte(`{"id":"X","severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Parse(b, "f.json")
		if err == nil && a.ID == "" {
			t.Fatal("accepted an advisory without id")
		}
	})
}

func TestFeedFingerprint(t *testing.T) {
	dir := t.TempDir()
	doc := `{"id": "GHSA-1", "modified": "2022-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "versions": ["1"]}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.json"), []byte(doc), 0o644))
	f := Feed{Path: dir}
	ctx := context.Background()
	advs, fp, err := f.Load(ctx, "")
	require.NoError(t, err)
	require.Len(t, advs, 1)
	_, fp2, err := f.Load(ctx, fp)
	assert.ErrorIs(t, err, advisory.ErrUnchanged)
	assert.Equal(t, fp, fp2)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.json"), []byte(strings.Replace(doc, "GHSA-1", "GHSA-2", 1)), 0o644))
	advs, _, err = f.Load(ctx, fp)
	require.NoError(t, err)
	assert.Len(t, advs, 2, "a new document changes the fingerprint")
	_, _, err = Feed{Path: filepath.Join(dir, "missing")}.Load(ctx, "")
	assert.ErrorContains(t, err, "missing")
}

// TestAliasesOnce: a feed that repeats an alias, or writes a CVE ID in
// lower case, gives each CVE once, as a CVE.
func TestAliasesOnce(t *testing.T) {
	a, err := Parse([]byte(`{"id": "GHSA-x", "modified": "2022-01-01T00:00:00Z",
	  "aliases": ["CVE-2021-44228", "CVE-2021-44228", "cve-2021-45046", "OTHER-1"]}`), "x.json")
	require.NoError(t, err)
	assert.Equal(t, []string{"CVE-2021-44228", "CVE-2021-45046", "OTHER-1"}, a.Aliases)
	var cves []string
	for _, r := range a.References {
		if r.Type == advisory.RefCVE {
			cves = append(cves, r.ID)
		}
	}
	assert.Equal(t, []string{"CVE-2021-44228", "CVE-2021-45046"}, cves)
}
