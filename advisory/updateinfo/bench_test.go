package updateinfo

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"testing"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

var benchDoc []byte

func doc(b *testing.B) []byte {
	if benchDoc == nil {
		var names []string
		for i := range 2000 {
			names = append(names, fmt.Sprintf("pkg%04d", i))
		}
		var buf bytes.Buffer
		if err := rpmtest.WriteUpdateinfo(&buf, 20000, names, 1); err != nil {
			b.Fatal(err)
		}
		benchDoc = buf.Bytes()
	}
	return benchDoc
}

// BenchmarkParse parses 20,000 Fedora-shaped advisories (about 25 MB).
func BenchmarkParse(b *testing.B) {
	d := doc(b)
	b.SetBytes(int64(len(d)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		err := Parse(context.Background(), bytes.NewReader(d), func(*advisory.Advisory) error { n++; return nil })
		if err != nil || n != 20000 {
			b.Fatal(err, n)
		}
	}
}

// BenchmarkEncodingXML is the floor encoding/xml sets: tokens only.
func BenchmarkEncodingXML(b *testing.B) {
	d := doc(b)
	b.SetBytes(int64(len(d)))
	for b.Loop() {
		dec := xml.NewDecoder(bytes.NewReader(d))
		for {
			if _, err := dec.RawToken(); err != nil {
				break
			}
		}
	}
}

func TestBenchDocSize(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	b := &testing.B{}
	t.Logf("benchmark document: %d bytes", len(doc(b)))
}

// counting is a Part that counts its advisories.
type counting struct{ n int }

func (c *counting) Add(*advisory.Advisory) error { c.n++; return nil }

// BenchmarkParseReuse is BenchmarkParse with lent advisories, as
// repositories read them.
func BenchmarkParseReuse(b *testing.B) {
	d := doc(b)
	b.SetBytes(int64(len(d)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		err := ParseWith(context.Background(), bytes.NewReader(d), Options{Reuse: true}, func(*advisory.Advisory) error { n++; return nil })
		if err != nil || n != 20000 {
			b.Fatal(err, n)
		}
	}
}

// BenchmarkParseParts parses the same document in parts on every core.
func BenchmarkParseParts(b *testing.B) {
	d := doc(b)
	b.SetBytes(int64(len(d)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		err := ParseParts(context.Background(), bytes.NewReader(d), PartsOptions{},
			func() *counting { return &counting{} }, func(c *counting) error { n += c.n; return nil })
		if err != nil || n != 20000 {
			b.Fatal(err, n)
		}
	}
}
