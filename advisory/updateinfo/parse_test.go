package updateinfo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

func parse(t *testing.T, doc string) []*advisory.Advisory {
	t.Helper()
	as, err := ParseAll(context.Background(), strings.NewReader(doc))
	require.NoError(t, err)
	return as
}

func TestParseFedora(t *testing.T) {
	f, err := os.Open("testdata/fedora.xml")
	require.NoError(t, err)
	defer f.Close()
	as, err := ParseAll(context.Background(), f)
	require.NoError(t, err)
	require.Len(t, as, 2)
	a := as[0]
	assert.Equal(t, "FEDORA-2024-0001", a.ID)
	assert.Equal(t, "security", a.Type)
	assert.Equal(t, "stable", a.Status)
	assert.Equal(t, "updates@fedoraproject.org", a.From)
	assert.Equal(t, "openssl-3.1.4-3.fc40", a.Title, "trailing newline stripped")
	assert.Equal(t, "Important", a.Severity)
	assert.Equal(t, "Fix CVE-2024-0727 & more.\nSecond line.", a.Description)
	assert.Equal(t, "Copyright (C) 2024 Red Hat, Inc. and others.", a.Rights)
	assert.True(t, a.Has(advisory.HasSeverity|advisory.HasTitle|advisory.HasDescription|advisory.HasRights))
	assert.False(t, a.Has(advisory.HasMessage))
	assert.Equal(t, time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), a.Issued)
	assert.Equal(t, time.Date(2024, 3, 5, 8, 30, 0, 0, time.UTC), a.LastUpdated())
	require.Len(t, a.References, 3)
	assert.Equal(t, advisory.Reference{Type: "bugzilla", ID: "2257571",
		Href:    "https://bugzilla.redhat.com/show_bug.cgi?id=2257571",
		Title:   "CVE-2024-0727 openssl: denial of service via null dereference",
		Present: advisory.RefHasType | advisory.RefHasID | advisory.RefHasHref | advisory.RefHasTitle}, a.References[1])
	assert.False(t, a.References[2].Present&advisory.RefHasTitle != 0)
	require.Len(t, a.Collections, 1)
	pk := a.Collections[0].Packages
	require.Len(t, pk, 2)
	assert.Equal(t, advisory.Package{Name: "openssl-libs", EVR: "1:3.1.4-3.fc40", Arch: "x86_64", HasArch: true,
		Src: "openssl-3.1.4-3.fc40.src.rpm", Filename: "openssl-libs-3.1.4-3.fc40.x86_64.rpm", Reboot: true}, pk[0])
	assert.Equal(t, "3.1.4-3.fc40", pk[1].EVR, "epoch 0 is dropped")
	assert.True(t, a.Reboot)

	m := as[1]
	assert.Equal(t, time.Unix(1700000000, 0).UTC(), m.LastUpdated())
	assert.Equal(t, []advisory.Module{{Name: "nodejs", Stream: "20", Version: "4020240101", Context: "abcd", Arch: "x86_64"}},
		m.Collections[0].Modules)
	assert.False(t, m.Has(advisory.HasSeverity))
}

// What libsolv does with odd but well-formed input.
func TestParseLibsolvQuirks(t *testing.T) {
	as := parse(t, `<updates><update type="security">
<id>A</id><id>B</id>
<title>
T

</title>
<severity> Important </severity>
<description>a<b>x</b>c</description>
<rights></rights>
<pkglist><collection>
 <package name="n" version="1:2" release="3" arch="noarch"/>
 <package name="n" version="2" epoch="" />
 <package name="m" epoch="7"/>
</collection></pkglist>
</update></updates>`)
	require.Len(t, as, 1)
	a := as[0]
	assert.Equal(t, "B", a.ID, "the last id wins")
	assert.Equal(t, "\nT", a.Title, "only trailing newlines go")
	assert.Equal(t, " Important ", a.Severity, "kept raw")
	assert.Equal(t, "", a.Description, "an unknown child clears the text")
	assert.True(t, a.Has(advisory.HasDescription|advisory.HasRights))
	pk := a.Collections[0].Packages
	assert.Equal(t, "0:1:2-3", pk[0].EVR)
	assert.Equal(t, "2", pk[1].EVR)
	assert.False(t, pk[1].HasArch)
	assert.Equal(t, "7:", pk[2].EVR)
}

func TestParseXMLFeatures(t *testing.T) {
	as := parse(t, "\xEF\xBB\xBF<?xml version='1.0'?>\r\n<!DOCTYPE updates [ <!ELEMENT updates ANY> ]>\r\n"+
		"<!-- c --><updates><update type='bugfix'><?pi x?>"+
		"<description>l1\r\nl2\rl3 <![CDATA[<raw & stuff>]]> &#x263A;&#65;&lt;&gt;&quot;&apos;</description>"+
		"<references><reference title=\"a\tb\r\nc&#10;d &amp; e\"/></references>"+
		"</update></updates>\n<!-- trailing -->\n")
	require.Len(t, as, 1)
	assert.Equal(t, "l1\nl2\nl3 <raw & stuff> ☺A<>\"'", as[0].Description)
	assert.Equal(t, "a b c\nd & e", as[0].References[0].Title)
}

func TestParseLatin1(t *testing.T) {
	as := parse(t, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><updates><update><title>caf\xe9</title></update></updates>")
	assert.Equal(t, "café", as[0].Title)
}

func TestParseDate(t *testing.T) {
	cases := map[string]int64{
		"":                        0,
		"1700000000":              1700000000,
		"2024-03-01 10:00:00":     1709287200,
		"2024-03-01 10:00:00 UTC": 1709287200,
		"2024-03-01T10:00:00":     0,
		"2024-03-01":              0,
		"2024-3-1 1:2:3":          1709254923,
		"2024-02-31 00:00:00":     1709337600, // normalised like timegm
		" 2024-03-01 10:00:00":    1709287200,
		"2024-13-01 00:00:00":     0,
		"4294967296":              0,           // atoi keeps the low 32 bits
		"4294967297":              1,           //
		"3000000000":              -1294967296, // negative: ignored by the parser
		"99999999999999999999":    -1,
	}
	for in, want := range cases {
		assert.Equal(t, want, ParseDate(in), "%q", in)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"":                                         "no element found",
		"<updates><update>":                        "unclosed element <update>",
		"<updates><update></updates>":              "does not match",
		"<updates>&bogus;</updates>":               "undefined entity",
		"<updates a=b/>":                           "not quoted",
		"<updates a='1' a='2'/>":                   "duplicate attribute",
		"<updates>\xff</updates>":                  "invalid UTF-8",
		"<updates>\x01</updates>":                  "not allowed",
		"<updates/><updates/>":                     "junk after",
		"<updates/>junk":                           "junk after",
		"<updates>]]></updates>":                   "]]>",
		"<updates><update><id>x</id></update":      "unclosed end tag",
		"<foo/>":                                   "not <updates>",
		"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>": "declares entities",
		"<updates>&#0;</updates>":                  "not a legal XML character",
		"<?xml version='1.0' encoding='EBCDIC'?><updates/>": "unsupported encoding",
	}
	for in, want := range cases {
		_, err := ParseAll(context.Background(), strings.NewReader(in))
		if assert.Error(t, err, "%q", in) {
			assert.Contains(t, err.Error(), want, "%q", in)
		}
	}
	_, err := ParseAll(context.Background(), strings.NewReader("<updates>\n<update>\n<id>x</id>\n</bad>"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 4")
}

func TestReuse(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, rpmtest.WriteUpdateinfo(&buf, 500, []string{"alpha", "beta", "gamma"}, 9))
	docs := [][]byte{buf.Bytes()}
	if b, err := os.ReadFile("testdata/fedora.xml"); err == nil {
		docs = append(docs, b)
	}
	for _, doc := range docs {
		want, err := ParseAll(context.Background(), bytes.NewReader(doc))
		require.NoError(t, err)
		var got, brief []*advisory.Advisory
		err = ParseWith(context.Background(), bytes.NewReader(doc), Options{Reuse: true}, func(a *advisory.Advisory) error {
			got = append(got, a.Clone())
			brief = append(brief, a.Brief(true))
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, want, got)
		require.Len(t, brief, len(want))
		for i := range want {
			assert.Equal(t, want[i].Brief(true), brief[i])
		}
	}
}

// TestLookup checks lookup's per-state ranges against the table.
func TestLookup(t *testing.T) {
	for _, tr := range transitions {
		got, ok := lookup(tr.from, []byte(tr.element))
		assert.True(t, ok, tr.element)
		assert.Equal(t, tr, got)
	}
	for st := stStart; st <= stModule; st++ {
		for _, tr := range transitions {
			if tr.from != st {
				_, ok := lookup(st, []byte(tr.element))
				assert.Equal(t, slices.ContainsFunc(transitions[:], func(o transition) bool {
					return o.from == st && o.element == tr.element
				}), ok)
			}
		}
	}
}

// TestPlainDate compares the quick reading of the usual date shape with
// the general one (time.Date) across years, months' ends and leap days.
func TestPlainDate(t *testing.T) {
	general := func(y, mo, d, h, mi, s int) int64 {
		return time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC).Unix()
	}
	years := []int{0, 1, 3, 4, 99, 100, 399, 400, 401, 1600, 1899, 1900, 1969, 1970, 1971, 1999, 2000, 2001, 2024, 2038, 2100, 2400, 9999}
	for _, y := range years {
		for mo := 1; mo <= 12; mo++ {
			for _, d := range []int{1, 2, 15, 28, 29, 30, 31} {
				for _, hms := range [][3]int{{0, 0, 0}, {23, 59, 59}, {23, 59, 60}, {23, 59, 61}, {12, 34, 56}} {
					s := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, hms[0], hms[1], hms[2])
					got, ok := plainDate(s)
					require.True(t, ok, s)
					require.Equal(t, general(y, mo, d, hms[0], hms[1], hms[2]), got, s)
					require.Equal(t, general(y, mo, d, hms[0], hms[1], hms[2]), ParseDate(s), s)
				}
			}
		}
	}
	for _, s := range []string{"2024-13-01 00:00:00", "2024-00-01 00:00:00", "2024-01-32 00:00:00", "2024-01-00 00:00:00",
		"2024-01-01 24:00:00", "2024-01-01 00:60:00", "2024-01-01 00:00:62", "2024-01-01 0a:00:00", "2024-01-01  0:00:00"} {
		_, ok := plainDate(s)
		assert.False(t, ok, s)
	}
}
