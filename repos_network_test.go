package alicorn

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/repo"
)

func TestConfigsNetwork(t *testing.T) {
	root := t.TempDir()
	reposd := filepath.Join(root, "etc/yum.repos.d")
	require.NoError(t, os.MkdirAll(reposd, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc/dnf"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(reposd, "test.repo"), []byte(`[a]
baseurl=http://127.0.0.1:1/a/
timeout=3

[b]
baseurl=http://127.0.0.1:1/b/
`), 0o644))
	for _, tc := range []struct {
		name string
		conf string // dnf.conf
		opts repo.Network
		set  map[string]map[string]string
		a, b repo.Network
		err  string
	}{
		{name: "nothing set", conf: "[main]\ngpgcheck=1\n", a: repo.Network{Timeout: 3 * time.Second}},
		{name: "dnf.conf", conf: "[main]\ntimeout=7\nretries=0\nthrottle=1M\nminrate=2k\n",
			a: repo.Network{Timeout: 3 * time.Second, MinRate: 2048, Retries: -1, Throttle: 1 << 20},
			b: repo.Network{Timeout: 7 * time.Second, MinRate: 2048, Retries: -1, Throttle: 1 << 20}},
		{name: "options over dnf.conf, setopt ID.option over all", conf: "[main]\ntimeout=7\nretries=2\n",
			opts: repo.Network{Timeout: 9 * time.Second, MinRate: 5},
			set:  map[string]map[string]string{"a": {"timeout": "1", "throttle": "50%"}},
			a:    repo.Network{Timeout: time.Second, MinRate: 5, Retries: 2, ThrottlePercent: 50},
			b:    repo.Network{Timeout: 9 * time.Second, MinRate: 5, Retries: 2}},
		{name: "bad dnf.conf", conf: "[main]\ntimeout=soon\n", err: "dnf.conf:2: option timeout"},
		{name: "bad setopt", conf: "[main]\n", set: map[string]map[string]string{"b": {"minrate": "fast"}}, err: "--setopt b.minrate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := filepath.Join(root, "etc/dnf/dnf.conf")
			require.NoError(t, os.WriteFile(conf, []byte(tc.conf), 0o644))
			s := &System{root: root, opts: Options{Root: root, Network: tc.opts,
				Repos: Repos{Dirs: []string{reposd}, Set: tc.set}}}
			s.readDNFConf()
			cs, _, err := s.configs("x86_64", "40")
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, cs, 2)
			assert.Equal(t, tc.a, cs[0].Network, "a")
			assert.Equal(t, tc.b, cs[1].Network, "b")
		})
	}
}

// TestConfigsNetworkExplicitZero: a repository's own throttle=0 or
// minrate=0 (its .repo section's or --setopt's) wins over [main]'s, as in
// dnf; --setopt=throttle=0 wins over dnf.conf's.
func TestConfigsNetworkExplicitZero(t *testing.T) {
	root := t.TempDir()
	reposd := filepath.Join(root, "etc/yum.repos.d")
	require.NoError(t, os.MkdirAll(reposd, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc/dnf"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc/dnf/dnf.conf"),
		[]byte("[main]\nthrottle=1M\nminrate=2k\nbandwidth=5M\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(reposd, "test.repo"), []byte(`[a]
baseurl=http://127.0.0.1:1/a/
throttle=0

[b]
baseurl=http://127.0.0.1:1/b/

[c]
baseurl=http://127.0.0.1:1/c/
`), 0o644))
	s := &System{root: root, opts: Options{Root: root, Repos: Repos{Dirs: []string{reposd},
		Set: map[string]map[string]string{"b": {"minrate": "0", "bandwidth": "0"}}}}}
	s.readDNFConf()
	cs, _, err := s.configs("x86_64", "40")
	require.NoError(t, err)
	require.Len(t, cs, 3)
	a, b, c := cs[0].Network, cs[1].Network, cs[2].Network
	assert.Zero(t, a.MaxSpeed(), "a's own throttle=0")
	assert.Equal(t, int64(2048), a.MinRate)
	assert.Equal(t, int64(1<<20), b.MaxSpeed())
	assert.Zero(t, b.MinRate, "--setopt=b.minrate=0")
	assert.Zero(t, b.Bandwidth, "--setopt=b.bandwidth=0")
	assert.Equal(t, int64(1<<20), c.MaxSpeed(), "[main]'s")

	var zero repo.Network
	_, err = zero.Set("throttle", "0")
	require.NoError(t, err)
	s.opts.Network = zero
	s.readDNFConf()
	cs, _, err = s.configs("x86_64", "40")
	require.NoError(t, err)
	assert.Zero(t, cs[2].Network.MaxSpeed(), "--setopt=throttle=0 over dnf.conf's")
	assert.True(t, cs[2].Network.IsSet("throttle"))
}

// TestDNFConfReadOnce: dnf.conf is read once, by Open, for both the
// excludes and the download options: a report made after it changed
// still uses what Open read.
func TestDNFConfReadOnce(t *testing.T) {
	root := t.TempDir()
	reposd := filepath.Join(root, "etc/yum.repos.d")
	require.NoError(t, os.MkdirAll(reposd, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc/dnf"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(reposd, "a.repo"), []byte("[a]\nbaseurl=http://127.0.0.1:1/a/\n"), 0o644))
	conf := filepath.Join(root, "etc/dnf/dnf.conf")
	require.NoError(t, os.WriteFile(conf, []byte("[main]\nthrottle=1k\nexcludepkgs=foo, bar\n"), 0o644))
	s, err := Open(context.Background(), Options{Root: root, Excludes: []string{"baz"}, CacheDir: t.TempDir(),
		Repos: Repos{Dirs: []string{reposd}}})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, []string{"baz", "foo", "bar"}, s.excl)

	require.NoError(t, os.WriteFile(conf, []byte("[main]\nthrottle=soon\n"), 0o644))
	cs, _, err := s.configs("x86_64", "40")
	require.NoError(t, err, "dnf.conf is not read again")
	require.Len(t, cs, 1)
	assert.Equal(t, int64(1024), cs[0].Network.MaxSpeed(), "the throttle read by Open")
}

// TestConfigsUnknownOption: a per-repository option dnf's repositories do
// not have is a warning for each repository the glob matches (disabled
// ones too, as dnf reads them all), not an error; options dnf has are
// not.
func TestConfigsUnknownOption(t *testing.T) {
	root := t.TempDir()
	reposd := filepath.Join(root, "etc/yum.repos.d")
	require.NoError(t, os.MkdirAll(reposd, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(reposd, "test.repo"), []byte(`[fedora]
baseurl=http://127.0.0.1:1/f/

[updates]
baseurl=http://127.0.0.1:1/u/
enabled=0
`), 0o644))
	s := &System{root: root, opts: Options{Root: root, Repos: Repos{Dirs: []string{reposd},
		Set: map[string]map[string]string{
			"fedora":  {"bogus": "1", "gpgcheck": "0", "cachedir": "/x"},
			"*":       {"Enabled": "1", "sslverify": "0"},
			"nomatch": {"bogus": "2"},
		}}}}
	s.readDNFConf()
	cs, warns, err := s.configs("x86_64", "40")
	require.NoError(t, err)
	require.Len(t, cs, 1)
	var got []UnknownOptionError
	for _, w := range warns {
		var u *UnknownOptionError
		require.ErrorAs(t, w, &u)
		got = append(got, *u)
	}
	assert.Equal(t, []UnknownOptionError{
		{Repo: "fedora", Glob: "*", Option: "Enabled", Value: "1"},
		{Repo: "fedora", Glob: "fedora", Option: "bogus", Value: "1"},
		{Repo: "fedora", Glob: "fedora", Option: "cachedir", Value: "/x"},
		{Repo: "updates", Glob: "*", Option: "Enabled", Value: "1"},
	}, got)
	assert.EqualError(t, warns[1], "--setopt fedora.bogus=1: repository fedora has no option bogus: ignored")
}
