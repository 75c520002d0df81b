package updateinfo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// This is a streaming XML tokenizer for updateinfo's small vocabulary,
// written here because encoding/xml is too slow for the speed target
// (0.42 s to tokenize 25 MB, where the whole report may take 0.24 s) and
// builds values the parser discards. It follows expat, the parser
// libsolv uses on Fedora and Debian, in every way that changes what an
// updateinfo document means:
//   - the five predefined entities and character references, checked to
//     be legal XML characters; CDATA sections; comments and processing
//     instructions skipped; a DOCTYPE without entity declarations skipped;
//   - line ends normalised (\r\n and \r become \n) in text and attributes,
//     and whitespace in attribute values normalised to spaces;
//   - well-formedness: matching end tags, one root element, no text
//     outside it, quoted and unique attributes, valid UTF-8, no
//     characters XML forbids, no "]]>" in text. A document that breaks
//     these rules is an error, never a partial result.
// Names are compared raw ("prefix:local"), as expat does without
// namespace processing. Encodings: UTF-8, US-ASCII and ISO-8859-1.

// token kinds.
const (
	tokEOF = iota
	tokStart
	tokEnd
	tokText
)

// maxToken bounds one tag, comment or text run held in memory at once.
const maxToken = 64 << 20

type attr struct {
	name, value []byte
}

type tokenizer struct {
	r    io.Reader
	buf  []byte
	pos  int
	eof  bool
	err  error
	line int // lines in bytes dropped from buf
	// latin1 is set when the document declared ISO-8859-1.
	latin1 bool

	// Results of the last token; they alias buf or scratch and are valid
	// until the next call to next.
	name  []byte
	attrs []attr
	text  []byte
	// selfClose is set for <x/>; the matching tokEnd is synthesised.
	selfClose bool
	pendEnd   bool

	// The open elements' names, copied (the buffer they were read from
	// moves): stackBuf holds them end to end, stack their start offsets.
	stackBuf []byte
	stack    []int
	scratch  []byte // decoded text and attribute values of the current token
	started  bool   // the root element has begun
	ended    bool   // the root element has ended
	prolog   bool   // the XML declaration position has passed
	// partial is set when the input is a part of a document that ends
	// after an element (ParseParts): its end is not checked.
	partial bool
}

func newTokenizer(r io.Reader) *tokenizer {
	return &tokenizer{r: r, buf: make([]byte, 0, 256<<10), scratch: make([]byte, 0, 64<<10)}
}

// syntaxError is a well-formedness error with its position.
type syntaxError struct {
	Line int
	Msg  string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func (t *tokenizer) fail(format string, args ...any) error {
	if t.err == nil {
		line := t.line + 1 + bytes.Count(t.buf[:min(t.pos, len(t.buf))], []byte{'\n'})
		t.err = &syntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	return t.err
}

// fill reads more input, keeping buf[t.pos:]. It reports false at the end
// of the input or on a read error (kept in t.err).
func (t *tokenizer) fill() bool {
	if t.eof {
		return false
	}
	if t.pos > 0 {
		t.line += bytes.Count(t.buf[:t.pos], []byte{'\n'})
		n := copy(t.buf, t.buf[t.pos:])
		t.buf = t.buf[:n]
		t.pos = 0
	}
	if len(t.buf) == cap(t.buf) {
		if len(t.buf) >= maxToken {
			t.fail("a token is longer than %d bytes", maxToken)
			return false
		}
		nb := make([]byte, len(t.buf), 2*cap(t.buf))
		copy(nb, t.buf)
		t.buf = nb
	}
	n, err := t.r.Read(t.buf[len(t.buf):cap(t.buf)])
	t.buf = t.buf[:len(t.buf)+n]
	if err != nil {
		t.eof = true
		if !errors.Is(err, io.EOF) {
			t.err = err
			return n > 0
		}
	}
	return n > 0 || !t.eof
}

// find returns the index, relative to t.pos, of sep in the unread input,
// reading more as needed; -1 at the end of the input.
func (t *tokenizer) find(sep string, from int) int {
	for {
		var i int
		if len(sep) == 1 {
			i = bytes.IndexByte(t.buf[t.pos+from:], sep[0])
		} else {
			i = bytes.Index(t.buf[t.pos+from:], []byte(sep))
		}
		if i >= 0 {
			return from + i
		}
		from = max(0, len(t.buf)-t.pos-len(sep)+1)
		if !t.fill() {
			return -1
		}
	}
}

// next reads the next token.
func (t *tokenizer) next() (int, error) {
	if t.err != nil {
		return tokEOF, t.err
	}
	t.scratch = t.scratch[:0]
	if t.pendEnd {
		t.pendEnd = false
		return t.popEnd(t.name)
	}
	if !t.prolog && t.pos == 0 && t.line == 0 {
		for len(t.buf) < 3 && t.fill() {
		}
		if bytes.HasPrefix(t.buf, []byte("\xEF\xBB\xBF")) {
			t.pos = 3
		}
	}
	for {
		if t.pos >= len(t.buf) && !t.fill() {
			if t.err != nil {
				return tokEOF, t.err
			}
			if t.partial {
				return tokEOF, nil
			}
			if !t.started {
				return tokEOF, t.fail("no element found")
			}
			if len(t.stack) > 0 {
				return tokEOF, t.fail("unclosed element <%s> at the end of the input (truncated?)", t.top())
			}
			return tokEOF, nil
		}
		if t.buf[t.pos] != '<' {
			return t.charData()
		}
		// Markup: look at what follows '<'. Most is a tag: a name or '/'.
		if t.pos+1 < len(t.buf) {
			if c := t.buf[t.pos+1]; c == '/' {
				return t.endTag()
			} else if c != '!' && c != '?' {
				return t.startTag()
			}
		}
		for len(t.buf)-t.pos < 9 && t.fill() {
		}
		rest := t.buf[t.pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := t.find("-->", 4)
			if end < 0 {
				return tokEOF, t.fail("unclosed comment")
			}
			if bytes.Contains(t.buf[t.pos+4:t.pos+end], []byte("--")) {
				return tokEOF, t.fail("\"--\" inside a comment")
			}
			if err := t.checkChars(t.buf[t.pos+4 : t.pos+end]); err != nil {
				return tokEOF, err
			}
			t.pos += end + 3
			t.prolog = true
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := t.pi(); err != nil {
				return tokEOF, err
			}
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			if len(t.stack) == 0 {
				return tokEOF, t.fail("CDATA section outside the root element")
			}
			end := t.find("]]>", 9)
			if end < 0 {
				return tokEOF, t.fail("unclosed CDATA section")
			}
			raw := t.buf[t.pos+9 : t.pos+end]
			if err := t.checkChars(raw); err != nil {
				return tokEOF, err
			}
			t.text = t.normalizeNewlines(raw)
			t.pos += end + 3
			return tokText, nil
		case bytes.HasPrefix(rest, []byte("<!DOCTYPE")):
			if err := t.doctype(); err != nil {
				return tokEOF, err
			}
		case bytes.HasPrefix(rest, []byte("</")):
			return t.endTag()
		default:
			return t.startTag()
		}
	}
}

// charData returns the text up to the next '<', entities decoded.
func (t *tokenizer) charData() (int, error) {
	end := t.find("<", 0)
	if end < 0 {
		end = len(t.buf) - t.pos
	}
	raw := t.buf[t.pos : t.pos+end]
	if len(t.stack) > 0 && blank(raw) {
		// Indentation between elements, most text runs: nothing to
		// check or decode.
		t.text = raw
		t.pos += end
		return tokText, nil
	}
	if len(t.stack) == 0 {
		if len(bytes.Trim(raw, " \t\r\n")) > 0 {
			if t.ended {
				return tokEOF, t.fail("junk after the document element")
			}
			return tokEOF, t.fail("text outside the document element")
		}
		t.pos += end
		t.prolog = true
		return t.next()
	}
	if bytes.Contains(raw, []byte("]]>")) {
		return tokEOF, t.fail("\"]]>\" in text")
	}
	text, err := t.decode(raw, false)
	if err != nil {
		return tokEOF, err
	}
	t.text = text
	t.pos += end
	return tokText, nil
}

// blank reports whether b holds only spaces, tabs and line feeds.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\n' && c != '\t' {
			return false
		}
	}
	return true
}

// decode checks raw text and returns it with entities replaced, line ends
// normalised and, for attribute values, whitespace turned into spaces.
// It returns raw itself when nothing needs changing.
func (t *tokenizer) decode(raw []byte, attribute bool) ([]byte, error) {
	special, err := t.scan(raw, attribute)
	if err != nil {
		return nil, err
	}
	if !special && !t.latin1 {
		return raw, nil
	}
	start := len(t.scratch)
	out := t.scratch
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '&':
			semi := bytes.IndexByte(raw[i:], ';')
			if semi < 0 {
				return nil, t.fail("unterminated entity reference")
			}
			ref := raw[i+1 : i+semi]
			r, err := t.entity(ref)
			if err != nil {
				return nil, err
			}
			out = utf8.AppendRune(out, r)
			i += semi
		case c == '\r':
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
			if attribute {
				out = append(out, ' ')
			} else {
				out = append(out, '\n')
			}
		case attribute && (c == '\t' || c == '\n'):
			out = append(out, ' ')
		case attribute && c == '<':
			return nil, t.fail("'<' in an attribute value")
		case t.latin1 && c >= 0x80:
			out = utf8.AppendRune(out, rune(c))
		default:
			out = append(out, c)
		}
	}
	t.scratch = out
	return out[start:len(out):len(out)], nil
}

// normalizeNewlines returns raw with \r\n and \r turned into \n.
func (t *tokenizer) normalizeNewlines(raw []byte) []byte {
	if bytes.IndexByte(raw, '\r') < 0 && !t.latin1 {
		return raw
	}
	start := len(t.scratch)
	out := t.scratch
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '\r':
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
			out = append(out, '\n')
		case t.latin1 && c >= 0x80:
			out = utf8.AppendRune(out, rune(c))
		default:
			out = append(out, c)
		}
	}
	t.scratch = out
	return out[start:len(out):len(out)]
}

func (t *tokenizer) entity(ref []byte) (rune, error) {
	switch string(ref) {
	case "lt":
		return '<', nil
	case "gt":
		return '>', nil
	case "amp":
		return '&', nil
	case "apos":
		return '\'', nil
	case "quot":
		return '"', nil
	}
	if len(ref) > 1 && ref[0] == '#' {
		var r rune
		digits := ref[1:]
		base := rune(10)
		if digits[0] == 'x' {
			base, digits = 16, digits[1:]
		}
		if len(digits) == 0 {
			return 0, t.fail("bad character reference &%s;", ref)
		}
		for _, d := range digits {
			var v rune
			switch {
			case d >= '0' && d <= '9':
				v = rune(d - '0')
			case base == 16 && d >= 'a' && d <= 'f':
				v = rune(d-'a') + 10
			case base == 16 && d >= 'A' && d <= 'F':
				v = rune(d-'A') + 10
			default:
				return 0, t.fail("bad character reference &%s;", ref)
			}
			r = r*base + v
			if r > utf8.MaxRune {
				return 0, t.fail("character reference &%s; is out of range", ref)
			}
		}
		if !isXMLChar(r) {
			return 0, t.fail("character reference &%s; is not a legal XML character", ref)
		}
		return r, nil
	}
	return 0, t.fail("undefined entity &%s;", ref)
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// scan checks raw as checkChars does and reports, in the same pass,
// whether it holds anything decode must rewrite: '&' or '\r' anywhere,
// and in attribute values also '\t', '\n' and '<' (an error there).
func (t *tokenizer) scan(raw []byte, attribute bool) (bool, error) {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) bool { return (v-ones)&^v&high != 0 }
	special := false
	for i := 0; i < len(raw); {
		// Eight plain bytes at a time: none a control, non-ASCII, '&' or '<'.
		if i+8 <= len(raw) {
			w := binary.LittleEndian.Uint64(raw[i:])
			if (w-0x20*ones)&^w&high == 0 && w&high == 0 && !hasZero(w^0x26*ones) && !hasZero(w^0x3c*ones) {
				i += 8
				continue
			}
		}
		c := raw[i]
		switch {
		case c == '&' || c == '\r':
			special = true
		case c == '<' || c == '\t' || c == '\n':
			special = special || attribute
		case c < 0x20:
			return false, t.fail("character U+%04X is not allowed in XML", c)
		case c >= 0x80 && !t.latin1:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n <= 1 {
				return false, t.fail("invalid UTF-8")
			}
			if !isXMLChar(r) {
				return false, t.fail("character U+%04X is not allowed in XML", r)
			}
			i += n
			continue
		}
		i++
	}
	return special, nil
}

// checkChars rejects bytes that are not UTF-8 or are characters XML
// forbids (controls, U+FFFE, U+FFFF). With ISO-8859-1 every byte is a
// character, so only the controls are checked.
func (t *tokenizer) checkChars(b []byte) error {
	const high, low = 0x8080808080808080, 0x2020202020202020
	for i := 0; i < len(b); {
		// Eight bytes at a time while none is a control or non-ASCII.
		if i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			if (w-low)&^w&high == 0 && w&high == 0 {
				i += 8
				continue
			}
		}
		c := b[i]
		if c < 0x80 {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return t.fail("character U+%04X is not allowed in XML", c)
			}
			i++
			continue
		}
		if t.latin1 {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return t.fail("invalid UTF-8")
		}
		if !isXMLChar(r) {
			return t.fail("character U+%04X is not allowed in XML", r)
		}
		i += n
	}
	return nil
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || c >= 0x80
}

func isNameChar(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// tagEnd finds the '>' closing the tag at t.pos, skipping quoted values:
// it finds the next '>' once, then jumps from quote to quote with
// IndexByte, searching for '>' again only when a value runs past it.
func (t *tokenizer) tagEnd() int {
	i, gt := 1, -1
	for {
		if gt < i {
			g := bytes.IndexByte(t.buf[t.pos+i:], '>')
			if g < 0 {
				if !t.fill() {
					return -1
				}
				continue
			}
			gt = i + g
		}
		q := indexQuote(t.buf[t.pos+i : t.pos+gt])
		if q < 0 {
			return gt
		}
		open := t.pos + i + q
		end := bytes.IndexByte(t.buf[open+1:], t.buf[open])
		if end < 0 {
			if !t.fill() {
				return -1
			}
			continue
		}
		i = open + 1 + end + 1 - t.pos
	}
}

// indexQuote returns the index of the first quote character in b, or -1.
func indexQuote(b []byte) int {
	d := bytes.IndexByte(b, '"')
	if d >= 0 {
		b = b[:d]
	}
	if s := bytes.IndexByte(b, '\''); s >= 0 {
		return s
	}
	return d
}

// plainValue reports whether an attribute value is used as it is: only
// printable ASCII, without '&' or '<'. Others go through decode.
func plainValue(b []byte) bool {
	const ones, high = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) bool { return (v-ones)&^v&high != 0 }
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		if (w-0x20*ones)&^w&high != 0 || w&high != 0 || hasZero(w^0x26*ones) || hasZero(w^0x3c*ones) {
			return false
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c >= 0x7f || c == '&' || c == '<' {
			return false
		}
	}
	return true
}

// quickStartTag reads the start tag at t.pos in one pass when it is
// plain: wholly in the buffer, ASCII names, values that need no decoding,
// nothing wrong. Otherwise it reports false having changed nothing that
// startTag does not set again, and startTag reads the tag the careful
// way, which finds the same token or the error.
func (t *tokenizer) quickStartTag() bool {
	b := t.buf
	p := t.pos + 1
	n := p
	for n < len(b) && isNameChar(b[n]) && b[n] < 0x80 {
		n++
	}
	if n == p || !isNameStart(b[p]) {
		return false
	}
	name := b[p:n]
	t.attrs = t.attrs[:0]
	p = n
	for {
		sp := p
		for p < len(b) && isSpace(b[p]) {
			p++
		}
		if p >= len(b) {
			return false
		}
		switch b[p] {
		case '>':
			t.selfClose = false
			t.name = name
			t.pos = p + 1
			return true
		case '/':
			if p+1 < len(b) && b[p+1] == '>' {
				t.selfClose = true
				t.name = name
				t.pos = p + 2
				return true
			}
			return false
		}
		if sp == p {
			return false
		}
		k := p
		for k < len(b) && isNameChar(b[k]) && b[k] < 0x80 {
			k++
		}
		if k == p || !isNameStart(b[p]) || k+1 >= len(b) || b[k] != '=' || b[k+1] != '"' && b[k+1] != '\'' {
			return false
		}
		an := b[p:k]
		q := bytes.IndexByte(b[k+2:], b[k+1])
		if q < 0 {
			return false
		}
		v := b[k+2 : k+2+q]
		if !plainValue(v) {
			return false
		}
		for _, a := range t.attrs {
			if len(a.name) == len(an) && string(a.name) == string(an) {
				return false
			}
		}
		t.attrs = append(t.attrs, attr{an, v})
		p = k + 3 + q
	}
}

func (t *tokenizer) startTag() (int, error) {
	if t.ended {
		return tokEOF, t.fail("junk after the document element")
	}
	if t.quickStartTag() {
		return t.pushStart(), nil
	}
	end := t.tagEnd()
	if end < 0 {
		return tokEOF, t.fail("unclosed start tag (truncated?)")
	}
	tag := t.buf[t.pos+1 : t.pos+end]
	t.selfClose = len(tag) > 0 && tag[len(tag)-1] == '/'
	if t.selfClose {
		tag = tag[:len(tag)-1]
	}
	n := 0
	for n < len(tag) && isNameChar(tag[n]) {
		n++
	}
	if n == 0 || !isNameStart(tag[0]) {
		return tokEOF, t.fail("bad element name")
	}
	t.name = tag[:n]
	for _, c := range t.name {
		if c >= 0x80 { // only non-ASCII names need the full check
			if err := t.checkChars(t.name); err != nil {
				return tokEOF, err
			}
			break
		}
	}
	t.attrs = t.attrs[:0]
	rest := tag[n:]
	for {
		sp := 0
		for sp < len(rest) && isSpace(rest[sp]) {
			sp++
		}
		rest = rest[sp:]
		if len(rest) == 0 {
			break
		}
		if sp == 0 {
			return tokEOF, t.fail("missing space before attribute in <%s>", t.name)
		}
		k := 0
		for k < len(rest) && isNameChar(rest[k]) {
			k++
		}
		if k == 0 || !isNameStart(rest[0]) {
			return tokEOF, t.fail("bad attribute name in <%s>", t.name)
		}
		an := rest[:k]
		rest = rest[k:]
		for len(rest) > 0 && isSpace(rest[0]) {
			rest = rest[1:]
		}
		if len(rest) == 0 || rest[0] != '=' {
			return tokEOF, t.fail("attribute %s in <%s> has no value", an, t.name)
		}
		rest = rest[1:]
		for len(rest) > 0 && isSpace(rest[0]) {
			rest = rest[1:]
		}
		if len(rest) == 0 || rest[0] != '"' && rest[0] != '\'' {
			return tokEOF, t.fail("attribute %s in <%s> is not quoted", an, t.name)
		}
		q := bytes.IndexByte(rest[1:], rest[0])
		if q < 0 {
			return tokEOF, t.fail("unterminated attribute %s in <%s>", an, t.name)
		}
		v, err := t.decode(rest[1:1+q], true)
		if err != nil {
			return tokEOF, err
		}
		for _, a := range t.attrs {
			if bytes.Equal(a.name, an) {
				return tokEOF, t.fail("duplicate attribute %s in <%s>", an, t.name)
			}
		}
		t.attrs = append(t.attrs, attr{an, v})
		rest = rest[2+q:]
	}
	t.pos += end + 1
	return t.pushStart(), nil
}

// pushStart records the start tag just read (its end comes at once when
// it closes itself) and returns tokStart.
func (t *tokenizer) pushStart() int {
	t.started, t.prolog = true, true
	t.stack = append(t.stack, len(t.stackBuf))
	t.stackBuf = append(t.stackBuf, t.name...)
	if t.selfClose {
		t.pendEnd = true
	}
	return tokStart
}

func (t *tokenizer) endTag() (int, error) {
	// An end tag holds no quoted values: the first '>' ends it.
	end := t.find(">", 2)
	if end < 0 {
		return tokEOF, t.fail("unclosed end tag (truncated?)")
	}
	name := t.buf[t.pos+2 : t.pos+end]
	for len(name) > 0 && isSpace(name[len(name)-1]) {
		name = name[:len(name)-1]
	}
	t.pos += end + 1
	return t.popEnd(name)
}

func (t *tokenizer) popEnd(name []byte) (int, error) {
	if len(t.stack) == 0 {
		return tokEOF, t.fail("end tag </%s> without a start tag", name)
	}
	top := t.top()
	if !bytes.Equal(top, name) {
		return tokEOF, t.fail("end tag </%s> does not match <%s>", name, top)
	}
	t.stackBuf = t.stackBuf[:t.stack[len(t.stack)-1]]
	t.stack = t.stack[:len(t.stack)-1]
	t.name = nil
	if len(t.stack) == 0 {
		t.ended = true
	}
	return tokEnd, nil
}

// pi skips a processing instruction, reading the XML declaration's encoding.
func (t *tokenizer) pi() error {
	end := t.find("?>", 2)
	if end < 0 {
		return t.fail("unclosed processing instruction")
	}
	body := t.buf[t.pos+2 : t.pos+end]
	if err := t.checkChars(body); err != nil {
		return err
	}
	target := body
	if i := bytes.IndexAny(body, " \t\r\n"); i >= 0 {
		target = body[:i]
	}
	if bytes.EqualFold(target, []byte("xml")) {
		if t.prolog {
			return t.fail("XML declaration not at the start of the document")
		}
		if err := t.encoding(body); err != nil {
			return err
		}
	}
	t.pos += end + 2
	t.prolog = true
	return nil
}

func (t *tokenizer) encoding(decl []byte) error {
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return t.fail("bad XML declaration")
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) < 2 || rest[0] != '"' && rest[0] != '\'' {
		return t.fail("bad XML declaration")
	}
	q := bytes.IndexByte(rest[1:], rest[0])
	if q < 0 {
		return t.fail("bad XML declaration")
	}
	switch enc := string(bytes.ToLower(rest[1 : 1+q])); enc {
	case "utf-8", "utf8", "us-ascii", "ascii":
	case "iso-8859-1", "latin1", "iso8859-1":
		t.latin1 = true
	default:
		return t.fail("unsupported encoding %q", enc)
	}
	return nil
}

// doctype skips <!DOCTYPE ...>, including an internal subset, and refuses
// entity declarations (expat would expand them; we do not).
func (t *tokenizer) doctype() error {
	if t.started {
		return t.fail("DOCTYPE inside the document element")
	}
	i := len("<!DOCTYPE")
	depth := 0
	var quote byte
	for {
		for ; t.pos+i < len(t.buf); i++ {
			c := t.buf[t.pos+i]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '[':
				depth++
			case c == ']':
				depth--
			case c == '>' && depth <= 0:
				body := t.buf[t.pos : t.pos+i]
				if bytes.Contains(body, []byte("<!ENTITY")) {
					return t.fail("DOCTYPE declares entities, which are not supported")
				}
				t.pos += i + 1
				t.prolog = true
				return nil
			}
		}
		if !t.fill() {
			return t.fail("unclosed DOCTYPE")
		}
	}
}

func (t *tokenizer) token() ([]byte, []attr, []byte) { return t.name, t.attrs, t.text }

// top is the innermost open element's name.
func (t *tokenizer) top() []byte { return t.stackBuf[t.stack[len(t.stack)-1]:] }
