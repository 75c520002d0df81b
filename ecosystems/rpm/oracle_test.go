package rpm

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// randVersion makes version strings that stress rpmvercmp: digit runs with
// leading zeros, letters, separators, '~' and '^', and non-ASCII bytes.
func randVersion(r *rand.Rand) string {
	atoms := []string{"0", "1", "2", "9", "10", "01", "007", "123456789012345678901234",
		"a", "b", "rc", "alpha", "Z", ".", "_", "+", "-", "~", "^", "~rc", "^git", "é", "%"}
	n := r.IntN(6)
	var b strings.Builder
	for range n {
		b.WriteString(atoms[r.IntN(len(atoms))])
	}
	return b.String()
}

// TestVercmpAgainstRPM compares Vercmp and Compare with real rpm's
// rpm.vercmp and rpm.ver on thousands of generated pairs.
func TestVercmpAgainstRPM(t *testing.T) {
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("rpm is not installed (apt-get install rpm): skipping the cross-check with real rpm")
	}
	r := rand.New(rand.NewPCG(1, 2))
	type pair struct{ a, b string }
	var ps []pair
	for len(ps) < 4000 {
		a := randVersion(r)
		b := randVersion(r)
		if r.IntN(4) == 0 { // near-equal pairs find the subtle cases
			b = a + randVersion(r)
		}
		if a == "" || b == "" || strings.Contains(a+b, "-") {
			continue // rpm.vercmp parses its arguments as EVRs
		}
		ps = append(ps, pair{a, b})
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "cmp.lua")
	out := filepath.Join(dir, "out.txt")
	var lua strings.Builder
	fmt.Fprintf(&lua, "local f = io.open(%q, 'w')\n", out)
	for _, p := range ps {
		// EVRs: give each side an epoch and release drawn from the same pool.
		fmt.Fprintf(&lua, "f:write(rpm.vercmp([==[%s]==], [==[%s]==]), ' ')\n", p.a, p.b)
		fmt.Fprintf(&lua, "do local x, y = rpm.ver([==[1:%s-%s]==]), rpm.ver([==[1:%s-%s]==]); f:write(x < y and -1 or (x == y and 0 or 1), '\\n') end\n",
			p.a, p.b, p.b, p.a)
	}
	lua.WriteString("f:close()\n")
	require.NoError(t, os.WriteFile(script, []byte(lua.String()), 0o644))
	cmd := exec.Command("rpm", "--eval", "%{lua: dofile('"+script+"')}")
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", msg)

	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	i, bad := 0, 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		require.Len(t, fields, 2)
		p := ps[i]
		i++
		want, _ := strconv.Atoi(fields[0])
		if got := Vercmp(p.a, p.b); got != want {
			bad++
			t.Errorf("Vercmp(%q, %q) = %d, rpm says %d", p.a, p.b, got, want)
		}
		wantEVR, _ := strconv.Atoi(fields[1])
		x, y := ParseEVR("1:"+p.a+"-"+p.b), ParseEVR("1:"+p.b+"-"+p.a)
		if got := Compare(x, y); got != wantEVR {
			bad++
			t.Errorf("Compare(%q, %q) = %d, rpm says %d", x, y, got, wantEVR)
		}
		if bad > 20 {
			t.FailNow()
		}
	}
	require.Equal(t, len(ps), i, "rpm answered for every pair")
}
