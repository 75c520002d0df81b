package match

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFnmatch(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"FEDORA-*", "FEDORA-2024-1", true},
		{"*", "a/b", true},
		{"fedora-*", "FEDORA-1", false},
		{"open?sl*", "openssl-libs", true},
		{"[ab]*", "bash", true},
		{"[!ab]*", "bash", false},
		{"[a-c]x", "bx", true},
		{"[]]x", "]x", true},
		{"[x", "[x", true},
		{"a[", "a[", true},
		{"*.x86_64", "a.x86_64", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"é?", "éa", true},
		{"", "", true},
		{"", "a", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Glob(c.p, c.s), "fnmatch(%q, %q)", c.p, c.s)
	}
}
