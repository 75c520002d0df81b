package ecosystemtest

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/alicorn-dev/alicorn/ecosystems"
)

// Oracle compares e's order with the ecosystem's own implementation, run
// as cmd: it reads one "a\tb" line per pair on stdin and writes one line
// each, the sign of the comparison (-1, 0, 1), or "E" when it refuses
// either version, which e must refuse too. Up to 20 differences are
// reported; the counts are logged with name, the implementation's.
func Oracle(t *testing.T, e ecosystems.Ecosystem, name string, cmd *exec.Cmd, pairs [][2]string) {
	t.Helper()
	var in bytes.Buffer
	for _, p := range pairs {
		fmt.Fprintf(&in, "%s\t%s\n", p[0], p[1])
	}
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(want) != len(pairs) {
		t.Fatalf("%s answered %d of %d pairs", name, len(want), len(pairs))
	}
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
				t.Errorf("%q vs %q: ours %s, %s %s", p[0], p[1], got, name, want[i])
			}
		}
	}
	t.Logf("%d pairs (%d with an invalid version), %d differ from %s", len(pairs), invalid, bad, name)
}
