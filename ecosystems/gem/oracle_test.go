package gem

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// rubyOracle reads "a\tb" lines and prints, for each, the sign of
// Gem::Version's <=>, or "E" when either is not a version.
const rubyOracle = `
out = []
STDIN.each_line do |line|
  a, b = line.chomp("\n").split("\t", 2)
  if Gem::Version.correct?(a) && Gem::Version.correct?(b)
    out << (Gem::Version.new(a) <=> Gem::Version.new(b)).to_s
  else
    out << "E"
  end
end
STDOUT.write(out.join("\n") + "\n")
`

// TestOracle compares the order, and which strings are versions, with
// RubyGems itself (Debian's ruby) on random versions: numbers, pre-release
// letters, "-" suffixes, case, spaces and junk.
func TestOracle(t *testing.T) {
	if _, err := exec.LookPath("ruby"); err != nil {
		t.Skip("needs ruby (apt-get install ruby)")
	}
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	version := func() string {
		var b strings.Builder
		if r.IntN(10) == 0 {
			b.WriteString(" ")
		}
		b.WriteString(pick("0", "1", "2", "10", "01", "007"))
		for range r.IntN(5) {
			b.WriteString(pick(".", ".", ".", "-", ""))
			b.WriteString(pick("0", "1", "2", "10", "01", "a", "b", "rc", "pre", "beta", "alpha", "Z", "rc1", "1a",
				"00", "12345678901234567890123"))
		}
		if r.IntN(20) == 0 {
			b.WriteString(pick("+build", "..", "_", "-", " x"))
		}
		return b.String()
	}
	var in bytes.Buffer
	var pairs [][2]string
	for range 100000 {
		p := [2]string{version(), version()}
		pairs = append(pairs, p)
		fmt.Fprintf(&in, "%s\t%s\n", p[0], p[1])
	}
	cmd := exec.Command("ruby", "-e", rubyOracle)
	cmd.Stdin = &in
	out, err := cmd.Output()
	require.NoError(t, err)
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, want, len(pairs))
	var e Ecosystem
	bad, invalid := 0, 0
	for i, p := range pairs {
		got := "E"
		if c, err := e.Compare(p[0], p[1]); err == nil {
			got = fmt.Sprint(c)
		}
		if want[i] == "E" {
			invalid++
		}
		if got != want[i] {
			if bad++; bad <= 20 {
				t.Errorf("%q vs %q: ours %s, RubyGems %s", p[0], p[1], got, want[i])
			}
		}
	}
	t.Logf("%d pairs (%d with an invalid version), %d differ from RubyGems", len(pairs), invalid, bad)
}
