package updateinfo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/advisory"
)

// collected is a Part that keeps copies of its advisories.
type collected struct{ advs []*advisory.Advisory }

func (c *collected) Add(a *advisory.Advisory) error {
	c.advs = append(c.advs, a.Clone())
	return nil
}

// parseParts parses doc with ParseParts and returns its advisories and
// how many parts done received.
func parseParts(doc []byte, size, workers int) ([]*advisory.Advisory, int, error) {
	var out []*advisory.Advisory
	parts := 0
	err := ParseParts(context.Background(), bytes.NewReader(doc), PartsOptions{Workers: workers, PartSize: size},
		func() *collected { return &collected{} },
		func(c *collected) error { out = append(out, c.advs...); parts++; return nil })
	return out, parts, err
}

func TestParseParts(t *testing.T) {
	big := doc(&testing.B{})
	update := func(id string) string {
		return `<update type="security"><id>` + id + `</id><pkglist><collection><package name="p" version="1" release="` + id +
			`" arch="x86_64"/></collection></pkglist></update>` + "\n"
	}
	many := func(n int, sep func(i int) string) []byte {
		var b strings.Builder
		b.WriteString("<?xml version=\"1.0\"?>\n<updates>\n")
		for i := range n {
			b.WriteString(update(fmt.Sprint(i)))
			b.WriteString(sep(i))
		}
		b.WriteString("</updates>\n")
		return []byte(b.String())
	}
	none := func(int) string { return "" }
	tests := []struct {
		name string
		doc  []byte
		// split: every cut holds (with parts of 100 bytes and more).
		split bool
	}{
		{"benchmark document", big, true},
		{"small parts", many(300, none), true},
		{name: "advisory end in a comment", doc: many(300, func(i int) string {
			if i%7 == 0 {
				return "<!-- " + update("c") + " -->"
			}
			return ""
		})},
		{name: "advisory end in CDATA", doc: []byte("<updates>" + update("1") + `<update><id>2</id><description><![CDATA[</update>` +
			strings.Repeat("x", 100) + `</update>]]></description></update>` + update("3") + "</updates>")},
		{name: "nested updates", doc: []byte("<updates><x>" + strings.Repeat(update("n"), 50) + "</x>" + update("y") + "</updates>")},
		{name: "update as the root", doc: []byte(update("root"))},
		{name: "another root", doc: []byte("<other>" + strings.Repeat(update("o"), 40) + "</other>")},
		{name: "latin-1", doc: append([]byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><updates>"+strings.Repeat(update("l\xe9"), 40)), "</updates>"...)},
		{name: "truncated", doc: many(300, none)[:5000]},
		{name: "error late", doc: bytes.Replace(many(300, none), []byte(`<id>250</id>`), []byte(`<id>250</i>`), 1)},
		{name: "junk after the root", doc: append(many(100, none), "<x/>"...)},
		{name: "empty"},
		{name: "a huge advisory", doc: []byte("<updates>" + update("a") + `<update><id>b</id><description>` +
			strings.Repeat("x", 3<<20) + `</description></update>` + update("c") + "</updates>")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := ParseAll(context.Background(), bytes.NewReader(tt.doc))
			for _, size := range []int{1, 100, 1000, 64 << 10} {
				for _, workers := range []int{1, 2, 3} {
					got, parts, err := parseParts(tt.doc, size, workers)
					if wantErr != nil {
						require.EqualError(t, err, wantErr.Error(), "size %d, %d workers", size, workers)
						continue
					}
					require.NoError(t, err, "size %d, %d workers", size, workers)
					require.Equal(t, want, got, "size %d, %d workers", size, workers)
					if tt.split && size >= 100 {
						assert.Greater(t, parts, len(tt.doc)/(size+2000)/2, "size %d, %d workers", size, workers)
					}
				}
			}
		})
	}
}

// failing fails on the nth advisory it is given.
type failing struct {
	mu *sync.Mutex
	n  *int
}

var errStop = errors.New("stop")

func (f failing) Add(*advisory.Advisory) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.n--
	if *f.n == 0 {
		return errStop
	}
	return nil
}

func TestParsePartsErrors(t *testing.T) {
	d := doc(&testing.B{})
	var mu sync.Mutex
	n := 5000
	err := ParseParts(context.Background(), bytes.NewReader(d), PartsOptions{PartSize: 4096},
		func() failing { return failing{&mu, &n} }, func(failing) error { return nil })
	assert.ErrorIs(t, err, errStop)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = ParseParts(ctx, bytes.NewReader(d), PartsOptions{},
		func() *collected { return &collected{} }, func(*collected) error { return nil })
	assert.ErrorIs(t, err, context.Canceled)

	parts := 0
	err = ParseParts(context.Background(), bytes.NewReader(d), PartsOptions{PartSize: 4096},
		func() *collected { return &collected{} }, func(*collected) error {
			parts++
			if parts == 3 {
				return errStop
			}
			return nil
		})
	assert.ErrorIs(t, err, errStop)

	// A read error is returned as a plain parse returns it.
	r := &failAfter{r: bytes.NewReader(d), n: 1 << 20}
	_, want := ParseAll(context.Background(), &failAfter{r: bytes.NewReader(d), n: 1 << 20})
	_, err = func() ([]*advisory.Advisory, error) {
		var out []*advisory.Advisory
		err := ParseParts(context.Background(), r, PartsOptions{PartSize: 64 << 10},
			func() *collected { return &collected{} },
			func(c *collected) error { out = append(out, c.advs...); return nil })
		return out, err
	}()
	require.Error(t, want)
	assert.ErrorIs(t, err, errRead)
}

var errRead = errors.New("read failed")

// failAfter fails after n bytes.
type failAfter struct {
	r *bytes.Reader
	n int
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errRead
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}
