package dnfcompat

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/repo"
)

func TestParseCommand(t *testing.T) {
	c, err := parseCommand(strings.Fields("-q --installroot=/r --sec-sev Critical --with-c list-sec all FEDORA-* -x foo,bar"))
	require.NoError(t, err)
	assert.Equal(t, "list", c.action)
	assert.Equal(t, match.All, c.query.Mode)
	assert.Equal(t, "/r", c.opts.Root)
	assert.Equal(t, []string{"Critical"}, c.query.Filter.Severities)
	assert.True(t, c.query.Filter.WithCVE, "--with-c abbreviates --with-cve")
	assert.Equal(t, []string{"FEDORA-*"}, c.query.Filter.Specs)
	assert.Equal(t, []string{"foo", "bar"}, c.opts.Excludes)

	c, err = parseCommand(strings.Fields("updateinfo info installed bugfix --advisory A,B --repofrompath r,/x --repofrompath r,/y"))
	require.NoError(t, err)
	assert.Equal(t, "info", c.action)
	assert.Equal(t, match.Installed, c.query.Mode)
	assert.Equal(t, []string{"bugfix"}, c.query.Filter.Types)
	assert.Equal(t, []string{"A", "B"}, c.query.Filter.Specs)
	require.Len(t, c.opts.Repos.FromPath, 1, "--repofrompath is a dict: the last value wins")
	assert.Equal(t, []string{"file:///y"}, c.opts.Repos.FromPath[0].BaseURLs)
}

func TestSetoptNetwork(t *testing.T) {
	c, err := parseCommand(strings.Fields("updateinfo --setopt=timeout=5 --setopt=minrate=1k --setopt=retries=0 --setopt=throttle=2M --setopt=r.timeout=1"))
	require.NoError(t, err)
	assert.Equal(t, repo.Network{Timeout: 5 * time.Second, MinRate: 1024, Retries: -1, Throttle: 2 << 20}, c.opts.Network)
	assert.Equal(t, map[string]string{"timeout": "1"}, c.opts.Repos.Set["r"], "a repository's own, applied by alicorn")

	_, err = parseCommand(strings.Fields("updateinfo --setopt=timeout=soon"))
	require.ErrorContains(t, err, "--setopt timeout")
}

func FuzzParseCommand(f *testing.F) {
	f.Add("-q updateinfo list --security --sec-severity=Important -x a,b --setopt=t.enabled=0")
	f.Add("--installroot=/ upif --info all cves FEDORA-* --repofrompath=a,/b -C -v")
	f.Add("-qvC -xfoo list-sec --with- --")
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseCommand(strings.Fields(line))
		if err == nil {
			switch c.action {
			case "summary", "list", "info":
			default:
				t.Fatalf("action %q", c.action)
			}
		}
	})
}

func TestSoftMemoryLimit(t *testing.T) {
	assert.Equal(t, int64(384<<20), SoftMemoryLimit([]string{"updateinfo"}))
	assert.Equal(t, int64(1<<30+192<<20), SoftMemoryLimit([]string{"--max-memory=1G", "updateinfo"}))
	assert.Equal(t, int64(math.MaxInt64), SoftMemoryLimit([]string{"--max-memory=none", "updateinfo"}))
	assert.Equal(t, int64(384<<20), SoftMemoryLimit([]string{"--bogus"}), "the default for a bad command line")
}
