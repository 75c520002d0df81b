package gem

import (
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/alicorn-dev/alicorn/ecosystems/ecosystemtest"
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
	var pairs [][2]string
	for range 100000 {
		pairs = append(pairs, [2]string{version(), version()})
	}
	ecosystemtest.Oracle(t, Ecosystem{}, "RubyGems", exec.Command("ruby", "-e", rubyOracle), pairs)
}
