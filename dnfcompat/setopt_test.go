package dnfcompat

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setoptLines are the lines of stderr about --setopt.
func setoptLines(stderr string) []string {
	var out []string
	for _, l := range strings.SplitAfter(stderr, "\n") {
		if strings.Contains(l, "setopt") {
			out = append(out, l)
		}
	}
	return out
}

// TestSetoptUnknownRepoOption: --setopt=ID.option=value with an option
// dnf's repositories do not have is dnf's warning on stderr (silenced by
// -q), once for each repository the glob matches, and the report goes on,
// as dnf 4.14's does.
func TestSetoptUnknownRepoOption(t *testing.T) {
	needParityTools(t)
	b := testBuilder(t)
	root, repoDir := fixture(t)
	dir := t.TempDir()
	common := []string{"--installroot=" + root, "--setopt=reposdir=/nonexistent", "--releasever=40",
		"--repofrompath=t,file://" + repoDir, "--setopt=t.bogus=1", "--setopt=t*.gpgcheck=0",
		"--setopt=nomatch.other=2"}
	for _, quiet := range []bool{false, true} {
		args := append([]string{}, common...)
		if quiet {
			args = append(args, "-q")
		}
		args = append(args, "updateinfo", "list")
		dnf := runDNF(t, b, "UTC", append(append([]string{}, args...), "--setopt=cachedir="+filepath.Join(dir, "dnfcache")))
		code, stdout, stderr := runCLI(append(append([]string{}, args...), "--setopt=cachedir="+filepath.Join(dir, "ourcache"))...)
		assert.Equal(t, dnf.code, code, "quiet %v: %s", quiet, stderr)
		require.Equal(t, 0, code, stderr)
		assert.Equal(t, "ADV-1 Important/Sec. alpha-2.0-1.x86_64\n", stdout)
		want := []string{"Repo t did not have a bogus attr. before setopt\n"}
		if quiet {
			want = nil
			assert.Equal(t, dnf.stdout, stdout)
		}
		assert.Equal(t, want, setoptLines(dnf.stderr), "dnf, quiet %v", quiet)
		assert.Equal(t, want, setoptLines(stderr), "quiet %v", quiet)
	}
}
