package maven

import (
	"cmp"
	"strings"
	"unicode/utf8"
)

// Version order is written here rather than taken from a library: the Go
// ports we measured (masahiro331/go-mvn-version, used by Trivy) miss
// Maven 3.9's rule that ".X" starts a sub-list like "-X" does, and so
// order "2.0.a" after "2-1", against Maven's own ComparableVersionTest.
// This follows the algorithm of Maven 3.9's ComparableVersion (parse into
// nested lists, trim trailing nulls, compare item by item); the tests use
// that class's published cases.

// item is one element of a parsed version: a number, a qualifier, or a
// sub-list started by "-" or by a change from letters to digits.
type item interface {
	// cmp compares with another item, or with nothing (nil).
	cmp(o item) int
	isNull() bool
}

type intItem string // decimal digits, no leading zeros ("" is 0)

type stringItem string // a qualifier as comparableQualifier writes it

type listItem []item

// qualifiers in their order; "" is a release.
var qualifiers = []string{"alpha", "beta", "milestone", "rc", "snapshot", "", "sp"}

var aliases = map[string]string{"ga": "", "final": "", "release": "", "cr": "rc"}

// releaseIndex is the comparable form of "".
const releaseIndex = "5"

func newString(s string, followedByDigit bool) stringItem {
	if followedByDigit && len(s) == 1 {
		switch s {
		case "a":
			s = "alpha"
		case "b":
			s = "beta"
		case "m":
			s = "milestone"
		}
	}
	if a, ok := aliases[s]; ok {
		s = a
	}
	for i, q := range qualifiers {
		if q == s {
			return stringItem(string(rune('0' + i)))
		}
	}
	return stringItem("7-" + s)
}

func (i intItem) isNull() bool { return i == "" }

func (i intItem) cmp(o item) int {
	switch o := o.(type) {
	case nil:
		if i == "" {
			return 0
		}
		return 1
	case intItem:
		if len(i) != len(o) {
			return cmp.Compare(len(i), len(o))
		}
		return strings.Compare(string(i), string(o))
	case stringItem:
		return 1
	default:
		return 1
	}
}

func (s stringItem) isNull() bool { return s == releaseIndex }

func (s stringItem) cmp(o item) int {
	switch o := o.(type) {
	case nil:
		return javaCompare(string(s), releaseIndex)
	case intItem:
		return -1
	case stringItem:
		return javaCompare(string(s), string(o))
	default:
		return -1
	}
}

func (l listItem) isNull() bool { return len(l) == 0 }

func (l listItem) cmp(o item) int {
	switch o := o.(type) {
	case nil:
		for _, it := range l {
			if c := it.cmp(nil); c != 0 {
				return c
			}
		}
		return 0
	case intItem:
		return -1
	case stringItem:
		return 1
	case listItem:
		for k := 0; k < len(l) || k < len(o); k++ {
			var a, b item
			if k < len(l) {
				a = l[k]
			}
			if k < len(o) {
				b = o[k]
			}
			var c int
			switch {
			case a == nil && b == nil:
			case a == nil:
				c = -b.cmp(nil)
			default:
				c = a.cmp(b)
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
	return 0
}

// normalize drops trailing null items, looking through trailing
// sub-lists, as ListItem.normalize does.
func (l listItem) normalize() listItem {
	for i := len(l) - 1; i >= 0; i-- {
		if l[i].isNull() {
			l = append(l[:i], l[i+1:]...)
		} else if _, ok := l[i].(listItem); !ok {
			break
		}
	}
	return l
}

// javaCompare orders strings as Java's String.compareTo does: by UTF-16
// code unit.
func javaCompare(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := utf16First(ra), utf16First(rb)
			if ua != ub {
				return cmp.Compare(ua, ub)
			}
			return cmp.Compare(ra, rb)
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

func utf16First(r rune) rune {
	if r >= 0x10000 {
		return 0xD800 + (r-0x10000)>>10
	}
	return r
}

// builder holds the lists being filled while parsing.
type builder struct {
	stack []*listItem // open lists, outermost first
}

func (b *builder) cur() *listItem { return b.stack[len(b.stack)-1] }

func (b *builder) add(it item) { *b.cur() = append(*b.cur(), it) }

// open starts a sub-list in the current list and makes it current.
func (b *builder) open() {
	sub := new(listItem)
	b.add(pending{sub})
	b.stack = append(b.stack, sub)
}

// pending stands in a list for a sub-list still being filled; freeze
// replaces it.
type pending struct{ l *listItem }

func (p pending) isNull() bool   { return len(*p.l) == 0 }
func (p pending) cmp(o item) int { return (*p.l).cmp(o) }

func parseItem(digits bool, s string) item {
	if digits {
		return intItem(strings.TrimLeft(s, "0"))
	}
	return newString(s, false)
}

func isDigit(c rune) bool { return c >= '0' && c <= '9' }

// parse reads a version as ComparableVersion.parseVersion does.
func parse(version string) listItem {
	version = strings.ToLower(version)
	root := new(listItem)
	b := &builder{stack: []*listItem{root}}
	digit := false
	start := 0
	for i, c := range version {
		switch {
		case c == '.' || c == '-':
			if i == start {
				b.add(intItem(""))
			} else {
				b.add(parseItem(digit, version[start:i]))
			}
			start = i + 1
			if c == '-' {
				b.open()
			}
		case isDigit(c):
			if !digit && i > start {
				// "1.0.0.X1" < "1.0.0-X2": ".X" is treated as "-X".
				if len(*b.cur()) > 0 {
					b.open()
				}
				b.add(newString(version[start:i], true))
				start = i
				b.open()
			}
			digit = true
		default:
			if digit && i > start {
				b.add(parseItem(true, version[start:i]))
				start = i
				b.open()
			}
			digit = false
		}
	}
	if len(version) > start {
		if !digit && len(*b.cur()) > 0 {
			b.open()
		}
		b.add(parseItem(digit, version[start:]))
	}
	return freeze(root)
}

// freeze turns the parse's list references into values, normalising each
// list innermost first, as parseVersion does when it pops its stack.
func freeze(l *listItem) listItem {
	out := make(listItem, len(*l))
	for i, it := range *l {
		if p, ok := it.(pending); ok {
			out[i] = freeze(p.l)
		} else {
			out[i] = it
		}
	}
	return out.normalize()
}

// Compare orders two Maven versions as ComparableVersion.compareTo does.
// Every string is a Maven version, so it never fails.
func Compare(a, b string) int { return parse(a).cmp(parse(b)) }
