package pypi

import (
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/alicorn-dev/alicorn/ecosystems/ecosystemtest"
)

// packagingOracle reads "a\tb" lines and prints, for each, the sign of
// packaging.version's comparison, or "E" when either is not a PEP 440
// version.
const packagingOracle = `
import sys
from packaging.version import Version, InvalidVersion
out = []
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t", 1)
    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion:
        out.append("E")
        continue
    out.append(str((va > vb) - (va < vb)))
sys.stdout.write("\n".join(out) + "\n")
`

// TestOracle compares the order, and which strings are versions at all,
// with the packaging project's own (Debian's python3-packaging) on
// random versions: epochs, release segments, pre-, post- and
// dev-releases in their spellings, local labels, case, leading "v",
// separators and junk.
func TestOracle(t *testing.T) {
	py := ""
	// Debian's python3 has python3-packaging; a python3 earlier on PATH
	// (pyenv, a virtualenv) may not.
	for _, c := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(c, "-c", "import packaging.version").Run() == nil {
			py = c
			break
		}
	}
	if py == "" {
		t.Skip("needs python3 with packaging (apt-get install python3-packaging)")
	}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	version := func() string {
		var b strings.Builder
		if r.IntN(8) == 0 {
			b.WriteString(pick("v", "V", " "))
		}
		if r.IntN(6) == 0 {
			b.WriteString(pick("1!", "0!", "2!"))
		}
		for i := range 1 + r.IntN(4) {
			if i > 0 {
				b.WriteString(".")
			}
			b.WriteString(pick("0", "1", "2", "10", "01", "00"))
		}
		if r.IntN(2) == 0 {
			b.WriteString(pick("", ".", "-", "_") + pick("a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "A", "RC") +
				pick("", "0", "1", "2", "10"))
		}
		if r.IntN(3) == 0 {
			b.WriteString(pick(".post", "post", "-post", ".rev", ".r", "-", "_post") + pick("", "0", "1", "2"))
		}
		if r.IntN(3) == 0 {
			b.WriteString(pick(".dev", "dev", "-dev", "_dev", ".DEV") + pick("", "0", "1", "3"))
		}
		if r.IntN(6) == 0 {
			b.WriteString("+" + pick("ubuntu", "1", "abc.1", "a-b_c", "Z.9", ""))
		}
		if r.IntN(20) == 0 {
			b.WriteString(pick("x", "..", "-", "+", "!"))
		}
		return b.String()
	}
	var pairs [][2]string
	for range 100000 {
		pairs = append(pairs, [2]string{version(), version()})
	}
	ecosystemtest.Oracle(t, Ecosystem{}, "packaging", exec.Command(py, "-c", packagingOracle), pairs)
}
