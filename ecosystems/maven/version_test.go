package maven

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The cases below are those of Maven's ComparableVersionTest (maven-3.9.16,
// maven-artifact; the master branch's copy has the same cases).
var (
	versionsQualifier = []string{"1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2",
		"1-m11", "1-rc", "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def",
		"1-pom-1", "1-1-snapshot", "1-1", "1-2", "1-123"}
	versionsNumber = []string{"2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
		"2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b",
		"11c", "11m"}
	versionsEqual = [][2]string{
		{"1", "1"}, {"1", "1.0"}, {"1", "1.0.0"}, {"1.0", "1.0.0"}, {"1", "1-0"}, {"1", "1.0-0"}, {"1.0", "1.0-0"},
		{"1a", "1-a"}, {"1a", "1.0-a"}, {"1a", "1.0.0-a"}, {"1.0a", "1-a"}, {"1.0.0a", "1-a"}, {"1x", "1-x"},
		{"1x", "1.0-x"}, {"1x", "1.0.0-x"}, {"1.0x", "1-x"}, {"1.0.0x", "1-x"}, {"1cr", "1rc"},
		{"1a1", "1-alpha-1"}, {"1b2", "1-beta-2"}, {"1m3", "1-milestone-3"},
		{"1X", "1x"}, {"1A", "1a"}, {"1B", "1b"}, {"1M", "1m"}, {"1Cr", "1Rc"}, {"1cR", "1rC"},
		{"1m3", "1Milestone3"}, {"1m3", "1MileStone3"}, {"1m3", "1MILESTONE3"},
		{"1ga", "1"}, {"1release", "1"}, {"1final", "1"}, {"1Ga", "1"}, {"1GA", "1"}, {"1RELEASE", "1"},
		{"1RELeaSE", "1"}, {"1Final", "1"}, {"1FinaL", "1"}, {"1FINAL", "1"},
		{"1.0.0-alpha1", "1.0.0-ALPHA1"}, {"1.a", "1.A"}, {"1.é", "1.É"},
	}
	versionsOrder = [][2]string{
		{"1", "2"}, {"1.5", "2"}, {"1", "2.5"}, {"1.0", "1.1"}, {"1.1", "1.2"}, {"1.0.0", "1.1"}, {"1.0.1", "1.1"},
		{"1.1", "1.2.0"}, {"1.0-alpha-1", "1.0"}, {"1.0-alpha-1", "1.0-alpha-2"}, {"1.0-alpha-1", "1.0-beta-1"},
		{"1.0-beta-1", "1.0-SNAPSHOT"}, {"1.0-SNAPSHOT", "1.0"}, {"1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"},
		{"1.0", "1.0-1"}, {"1.0-1", "1.0-2"}, {"1.0.0", "1.0-1"}, {"2.0-1", "2.0.1"}, {"2.0.1-klm", "2.0.1-lmn"},
		{"2.0.1", "2.0.1-xyz"}, {"2.0.1", "2.0.1-123"}, {"2.0.1-xyz", "2.0.1-123"}, {"0.7", "2"}, {"0.2", "1.0.7"},
		// MNG-5568, MNG-6572
		{"6.1.0rc3", "6.1.0"}, {"6.1.0rc3", "6.1H.5-beta"}, {"6.1.0", "6.1H.5-beta"},
		{"20190126.230843", "1234567890.12345"}, {"1234567890.12345", "123456789012345.1H.5-beta"},
		{"123456789012345.1H.5-beta", "12345678901234567890.1H.5-beta"},
		{"20190126.230843", "12345678901234567890.1H.5-beta"},
		// digits above letters, non-ASCII letters and digits; lexicographic
		{"é", "1"}, {"\U0001D7E4", "1"}, {"\u0668", "1"}, {"\u0668", "9"}, {"J", "7"}, {"c", "7"},
		{"aardvark", "zebra"}, {"zebra", "ζέβρα"},
	}
)

func TestMavenCases(t *testing.T) {
	for _, list := range [][]string{versionsQualifier, versionsNumber} {
		for i := range list {
			for j := i + 1; j < len(list); j++ {
				assert.Equal(t, -1, Compare(list[i], list[j]), "%s < %s", list[i], list[j])
				assert.Equal(t, 1, Compare(list[j], list[i]), "%s > %s", list[j], list[i])
			}
		}
	}
	for _, c := range versionsEqual {
		assert.Equal(t, 0, Compare(c[0], c[1]), "%s == %s", c[0], c[1])
		assert.Equal(t, 0, Compare(c[1], c[0]), "%s == %s", c[1], c[0])
	}
	for _, c := range versionsOrder {
		assert.Equal(t, -1, Compare(c[0], c[1]), "%s < %s", c[0], c[1])
		assert.Equal(t, 1, Compare(c[1], c[0]), "%s > %s", c[1], c[0])
	}
	// testVersionEqualWithLeadingZeroes and its "0" twin.
	for _, d := range []string{"1", "0"} {
		var all []string
		for n := 0; n < 19; n++ {
			all = append(all, strings.Repeat("0", n)+d)
		}
		for _, a := range all {
			for _, b := range all {
				assert.Equal(t, 0, Compare(a, b), "%s == %s", a, b)
			}
		}
	}
}

func FuzzCompare(f *testing.F) {
	for _, v := range versionsNumber {
		f.Add(v, "1-rc")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if Compare(a, b) != -Compare(b, a) {
			t.Fatalf("asymmetric: %q %q", a, b)
		}
		if Compare(a, a) != 0 {
			t.Fatalf("%q != itself", a)
		}
	})
}
