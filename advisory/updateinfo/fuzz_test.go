package updateinfo

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/advisory"
)

// stdSource feeds the parser from encoding/xml, the reference tokenizer.
type stdSource struct {
	d     *xml.Decoder
	stack []string
	name  []byte
	attrs []attr
	text  []byte
	root  bool
}

func (s *stdSource) next() (int, error) {
	for {
		tok, err := s.d.RawToken()
		if errors.Is(err, io.EOF) {
			if len(s.stack) > 0 || !s.root {
				return tokEOF, errors.New("unexpected EOF")
			}
			return tokEOF, nil
		}
		if err != nil {
			return tokEOF, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := tok.Name.Local
			if tok.Name.Space != "" {
				n = tok.Name.Space + ":" + n
			}
			s.root = true
			s.stack = append(s.stack, n)
			s.name = []byte(n)
			s.attrs = s.attrs[:0]
			for _, a := range tok.Attr {
				an := a.Name.Local
				if a.Name.Space != "" {
					an = a.Name.Space + ":" + an
				}
				v := strings.NewReplacer("\t", " ", "\n", " ").Replace(a.Value)
				s.attrs = append(s.attrs, attr{[]byte(an), []byte(v)})
			}
			return tokStart, nil
		case xml.EndElement:
			n := tok.Name.Local
			if tok.Name.Space != "" {
				n = tok.Name.Space + ":" + n
			}
			if len(s.stack) == 0 || s.stack[len(s.stack)-1] != n {
				return tokEOF, errors.New("mismatched end tag")
			}
			s.stack = s.stack[:len(s.stack)-1]
			return tokEnd, nil
		case xml.CharData:
			if len(s.stack) == 0 {
				continue
			}
			s.text = tok
			return tokText, nil
		}
	}
}

func (s *stdSource) token() ([]byte, []attr, []byte) { return s.name, s.attrs, s.text }

func parseStd(doc []byte) ([]*advisory.Advisory, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	p := parser{tok: &stdSource{d: d}}
	var out []*advisory.Advisory
	err := p.run(context.Background(), func(a *advisory.Advisory) error {
		out = append(out, a)
		return nil
	})
	return out, err
}

// smallReader returns at most n bytes per Read, so that every token
// crosses buffer refills somewhere.
type smallReader struct {
	r io.Reader
	n int
}

func (s *smallReader) Read(p []byte) (int, error) {
	if len(p) > s.n {
		p = p[:s.n]
	}
	return s.r.Read(p)
}

func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("testdata/fedora.xml")
	require.NoError(f, err)
	f.Add(seed, uint8(7))
	f.Add([]byte(`<updates><update type="security"><id>A</id><description>x<![CDATA[y]]>&amp;z<b>q</b></description><pkglist><collection><module name="m" stream="s"/><package name="p" version="1" arch="x86_64"><filename>f</filename></package></collection></pkglist></update></updates>`), uint8(3))
	f.Add([]byte("<updates>\r\n<update>\r\n<title>a\r\nb</title></update></updates>"), uint8(1))
	f.Fuzz(func(t *testing.T, doc []byte, chunk uint8) {
		n := int(chunk%64) + 1
		ours, err := ParseAll(context.Background(), &smallReader{bytes.NewReader(doc), n})
		// The same document in one piece must give the same answer.
		whole, err2 := ParseAll(context.Background(), bytes.NewReader(doc))
		if (err == nil) != (err2 == nil) {
			t.Fatalf("chunked read: %v, whole read: %v", err, err2)
		}
		if err == nil {
			require.Equal(t, whole, ours)
		}
		// Lent advisories, cloned, are the same advisories.
		var lent []*advisory.Advisory
		err3 := ParseWith(context.Background(), &smallReader{bytes.NewReader(doc), n}, Options{Reuse: true},
			func(a *advisory.Advisory) error { lent = append(lent, a.Clone()); return nil })
		if (err3 == nil) != (err == nil) {
			t.Fatalf("reusing parse: %v, plain parse: %v", err3, err)
		}
		if err == nil {
			require.Equal(t, ours, lent)
		}
		// Cut into parts parsed at once, the same advisories or the same
		// error.
		parts, _, err4 := parseParts(doc, n, 2)
		if err == nil {
			require.NoError(t, err4)
			require.Equal(t, ours, parts)
		} else {
			require.EqualError(t, err4, err2.Error())
		}
		if bytes.Contains(doc, []byte("&#")) || bytes.Contains(doc, []byte("encoding")) ||
			bytes.Contains(doc, []byte("<!")) || bytes.Contains(doc, []byte("<?")) {
			return // char refs may hide whitespace; DTDs and declarations differ
		}
		std, stdErr := parseStd(doc)
		if err != nil || stdErr != nil {
			if err == nil && stdErr != nil && !strings.Contains(stdErr.Error(), "not <updates>") {
				t.Fatalf("we accept a document encoding/xml rejects: %v", stdErr)
			}
			return
		}
		require.Equal(t, std, ours)
	})
}
