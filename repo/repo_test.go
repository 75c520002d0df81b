package repo

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseConfig(t *testing.T) {
	cfg := `[main]
gpgcheck=1

# Fedora's updates repository
[updates]
name=Fedora $releasever - $basearch - Updates
baseurl=https://example.org/pub/fedora/linux/updates/$releasever/Everything/$basearch/
  https://mirror.example.org/fedora/updates/$releasever/
metalink=https://mirrors.example.org/metalink?repo=updates-released-f$releasever&arch=$basearch
enabled=1
skip_if_unavailable=False
priority=10
timeout=2m
minrate=1.5k

[updates-testing]
name=testing
baseurl=file:///srv/testing/${releasever:-39}
enabled=0
`
	cs, err := ParseConfig(strings.NewReader(cfg), "fedora.repo", Vars{"releasever": "40", "basearch": "x86_64"})
	require.NoError(t, err)
	require.Len(t, cs, 2)
	assert.Equal(t, "Fedora 40 - x86_64 - Updates", cs[0].Name)
	assert.Equal(t, []string{"https://example.org/pub/fedora/linux/updates/40/Everything/x86_64/",
		"https://mirror.example.org/fedora/updates/40/"}, cs[0].BaseURLs)
	assert.Equal(t, "https://mirrors.example.org/metalink?repo=updates-released-f40&arch=x86_64", cs[0].Metalink)
	assert.True(t, cs[0].Enabled)
	assert.Equal(t, 10, cs[0].Priority)
	assert.Equal(t, 2*time.Minute, cs[0].Timeout)
	assert.Equal(t, int64(1536), cs[0].MinRate)
	assert.Zero(t, cs[1].Timeout, "the Fetcher's")
	assert.False(t, cs[1].Enabled)
	assert.Equal(t, []string{"file:///srv/testing/40"}, cs[1].BaseURLs)

	_, err = ParseConfig(strings.NewReader("[x]\nenabled=maybe\n"), "bad.repo", nil)
	assert.ErrorContains(t, err, "bad.repo:2")
	_, err = ParseConfig(strings.NewReader("[x]\ntimeout=soon\n"), "bad.repo", nil)
	assert.ErrorContains(t, err, "bad.repo:2: option timeout")
	_, err = ParseConfig(strings.NewReader("[x]\nminrate=-1\n"), "bad.repo", nil)
	assert.ErrorContains(t, err, "bad.repo:2: option minrate")
	_, err = ParseConfig(strings.NewReader("[x\n"), "bad.repo", nil)
	assert.ErrorContains(t, err, "bad.repo:1")
}

func TestExpand(t *testing.T) {
	v := Vars{"a": "1", "empty": ""}
	for in, want := range map[string]string{
		"$a/$b": "1/$b", "${a}x": "1x", "${b:-d}": "d", "${empty:-d}": "d", "${a:+y}": "y",
		"${b:+y}": "", "$": "$", "${unclosed": "${unclosed", "$$a": "$1",
	} {
		assert.Equal(t, want, v.Expand(in), in)
	}
}

func TestParseRepomd(t *testing.T) {
	md, err := ParseRepomd(strings.NewReader(`<?xml version="1.0"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision>
<data type="primary"><checksum type="sha256">abc</checksum><location href="repodata/p.xml.gz"/><size>10</size></data>
<data type="updateinfo"><checksum type="sha256">def</checksum><location href="repodata/u.xml.zst"/></data>
</repomd>`))
	require.NoError(t, err)
	assert.Equal(t, "repodata/u.xml.zst", md.Find("updateinfo").Location.Href)
	assert.Nil(t, md.Find("modules"))
	_, err = ParseRepomd(strings.NewReader(`<repomd><data type="x"></data></repomd>`))
	assert.Error(t, err)
}

func FuzzParseConfig(f *testing.F) {
	f.Add("[a]\nbaseurl=file:///x\n  http://y\nenabled=1\npriority=5\n")
	f.Add("[main]\n[b]\nname=${releasever:-3}$basearch\n")
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := ParseConfig(strings.NewReader(s), "fuzz.repo", Vars{"releasever": "40", "basearch": "x86_64"})
		if err == nil {
			for _, c := range cs {
				if c.ID == "" {
					t.Fatal("empty repository id")
				}
			}
		}
	})
}

func FuzzParseMain(f *testing.F) {
	f.Add("[main]\ntimeout=5\nminrate=1k\nthrottle=50%\nexcludepkgs=a*, b\n")
	f.Add("[main]\nthrottle=0\n[other]\nexcludepkgs=x\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMain(strings.NewReader(s), "dnf.conf")
		if err != nil {
			if !strings.Contains(err.Error(), "dnf.conf") {
				t.Fatalf("error without the file's name: %v", err)
			}
			return
		}
		for _, x := range m.Excludes {
			if x == "" {
				t.Fatal("an empty exclude")
			}
		}
	})
}

func FuzzParseRepomd(f *testing.F) {
	f.Add(`<repomd><data type="updateinfo"><checksum type="sha256">d</checksum><location href="u.xml"/></data></repomd>`)
	f.Fuzz(func(t *testing.T, s string) {
		ParseRepomd(strings.NewReader(s))
	})
}

func FuzzParseMetalink(f *testing.F) {
	f.Add(`<metalink><files><file name="repomd.xml"><verification><hash type="sha256">ab</hash></verification>
<alternates><alternate><verification><hash type="sha512">cd</hash></verification></alternate></alternates>
<resources><url>http://x/repodata/repomd.xml</url></resources></file></files></metalink>`)
	f.Fuzz(func(t *testing.T, s string) {
		ml, err := parseMetalink([]byte(s))
		if err == nil {
			_ = ml.sums.verify([]byte(s))
			for _, u := range ml.urls {
				if !strings.HasSuffix(u, "/") {
					t.Fatalf("base URL %q", u)
				}
			}
		}
	})
}

func TestNetworkSet(t *testing.T) {
	for _, tc := range []struct {
		key, value string
		want       Network
		err        bool
	}{
		{key: "timeout", value: "5", want: Network{Timeout: 5 * time.Second}},
		{key: "timeout", value: "1.5m", want: Network{Timeout: 90 * time.Second}},
		{key: "minrate", value: "2k", want: Network{MinRate: 2048}},
		{key: "retries", value: "3", want: Network{Retries: 3}},
		{key: "retries", value: "0", want: Network{Retries: -1}},
		{key: "throttle", value: "1M", want: Network{Throttle: 1 << 20}},
		{key: "throttle", value: "50%", want: Network{ThrottlePercent: 50}},
		{key: "bandwidth", value: "1G", want: Network{Bandwidth: 1 << 30}},
		{key: "timeout", value: "never", err: true},
		{key: "retries", value: "-2", err: true},
		{key: "throttle", value: "150%", err: true},
		{key: "throttle", value: "fast", err: true},
	} {
		var n Network
		ok, err := n.Set(tc.key, tc.value)
		assert.True(t, ok, tc.key)
		if tc.err {
			assert.Error(t, err, "%s=%s", tc.key, tc.value)
			continue
		}
		require.NoError(t, err, "%s=%s", tc.key, tc.value)
		assert.Equal(t, tc.want, n, "%s=%s", tc.key, tc.value)
	}
	var n Network
	ok, err := n.Set("gpgcheck", "1")
	assert.False(t, ok)
	assert.NoError(t, err)
}

func TestNetworkOr(t *testing.T) {
	main := Network{Timeout: time.Minute, MinRate: 10, Retries: 4, ThrottlePercent: 50, Bandwidth: 1000}
	assert.Equal(t, main, Network{}.Or(main))
	own := Network{Timeout: time.Second, Retries: -1, Throttle: 2000}
	assert.Equal(t, Network{Timeout: time.Second, MinRate: 10, Retries: -1, Throttle: 2000, Bandwidth: 1000}, own.Or(main),
		"the repository's own values win; its throttle replaces [main]'s percentage")
	assert.Equal(t, int64(500), main.MaxSpeed())
	assert.Equal(t, int64(2000), own.MaxSpeed())
	assert.Zero(t, Network{ThrottlePercent: 50}.MaxSpeed(), "a percentage of no bandwidth")
}

// TestNetworkOrExplicitZero: an option set to zero is set, and wins over
// the default as dnf's repository options do (throttle=0 over [main]'s
// throttle).
func TestNetworkOrExplicitZero(t *testing.T) {
	main := Network{Timeout: time.Minute, MinRate: 10, Throttle: 2000, Bandwidth: 1000}
	var own Network
	for _, k := range []string{"timeout", "minrate", "throttle", "bandwidth"} {
		assert.False(t, own.IsSet(k), k)
		ok, err := own.Set(k, "0")
		require.True(t, ok)
		require.NoError(t, err)
		assert.True(t, own.IsSet(k), k)
	}
	got := own.Or(main)
	assert.Zero(t, got.Timeout)
	assert.Zero(t, got.MinRate)
	assert.Zero(t, got.Throttle)
	assert.Zero(t, got.MaxSpeed())
	assert.Zero(t, got.Bandwidth)
	assert.True(t, got.IsSet("throttle"), "still set, over a further default")
	assert.Zero(t, got.Or(main).MaxSpeed())
	assert.Zero(t, (&Fetcher{Throttle: 1000}).maxSpeed(Config{Network: got}), "over the Fetcher's throttle too")

	var pct Network
	_, err := pct.Set("throttle", "0%")
	require.NoError(t, err)
	assert.Zero(t, pct.Or(main).MaxSpeed(), "0%% is a throttle too")

	// [main]'s own zero passes on to a repository that leaves it unset,
	// and setting a value again clears it.
	var m Network
	_, err = m.Set("throttle", "0")
	require.NoError(t, err)
	assert.True(t, Network{}.Or(m).IsSet("throttle"))
	_, err = m.Set("throttle", "5k")
	require.NoError(t, err)
	_, err = m.Set("throttle", "x")
	require.Error(t, err)
	assert.False(t, m.IsSet("throttle"), "a bad value leaves it unset")
	assert.False(t, m.IsSet("gpgcheck"))
}

func TestParseMain(t *testing.T) {
	m, err := ParseMain(strings.NewReader(`# dnf.conf
[main]
gpgcheck=True
timeout = 10
minrate=100k
retries=0
throttle=20%
bandwidth=10M
excludepkgs=kernel*, foo
exclude = bar
# excludepkgs=commented
Throttle=1
EXCLUDEPKGS=upper

[updates]
timeout=99
excludepkgs=elsewhere
`), "dnf.conf")
	require.NoError(t, err)
	assert.Equal(t, Network{Timeout: 10 * time.Second, MinRate: 100 << 10, Retries: -1, ThrottlePercent: 20, Bandwidth: 10 << 20},
		m.Network, "option names are dnf's, in their case")
	assert.Equal(t, int64(2<<20), m.MaxSpeed())
	assert.Equal(t, []string{"kernel*", "foo", "bar"}, m.Excludes)

	m, err = ParseMain(strings.NewReader("[main]\n\ntimeout=soon\nexcludepkgs=foo\nthrottle=x\n"), "dnf.conf")
	assert.ErrorContains(t, err, "dnf.conf:3: option timeout")
	assert.Equal(t, []string{"foo"}, m.Excludes, "the rest is read")

	cs, err := ParseConfig(strings.NewReader("[r]\nretries=2\nthrottle=1k\n"), "r.repo", nil)
	require.NoError(t, err)
	assert.Equal(t, Network{Retries: 2, Throttle: 1024}, cs[0].Network)
	_, err = ParseConfig(strings.NewReader("[r]\nthrottle=x%\n"), "r.repo", nil)
	assert.ErrorContains(t, err, "r.repo:2: option throttle")
}
