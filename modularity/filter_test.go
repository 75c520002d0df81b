package modularity

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const filterYAML = `---
document: modulemd
version: 2
data:
  name: nodejs
  stream: "20"
  version: 1
  context: abcd
  arch: x86_64
  artifacts:
    rpms:
    - nodejs-1:20.1-1.module_f40.x86_64
    - npm-0:10.0-1.module_f40.x86_64
    - nodejs-1:20.1-1.module_f40.src
    - libuv-0:1.48-1.module_f40.x86_64
  demodularized:
    rpms: [libuv]
...
---
document: modulemd
version: 2
data:
  name: nodejs
  stream: "18"
  version: 1
  context: aaaa
  arch: x86_64
  artifacts:
    rpms:
    - nodejs-1:18.9-1.module_f40.x86_64
...
`

func TestFilter(t *testing.T) {
	md, err := Parse(strings.NewReader(filterYAML), "modules.yaml")
	require.NoError(t, err)
	require.Len(t, md.Streams, 2)
	assert.Equal(t, []string{"libuv"}, md.Streams[0].Demodularized)
	f := NewFilter(md, map[Key]bool{{"nodejs", "20", "abcd"}: true}, "x86_64")
	assert.False(t, f.Empty())
	for _, c := range []struct {
		name, evr, arch string
		provides        []string
		hidden          bool
		why             string
	}{
		{"nodejs", "1:20.1-1.module_f40", "x86_64", nil, false, "artifact of the active stream"},
		{"npm", "10.0-1.module_f40", "x86_64", nil, false, "zero epoch left out"},
		{"npm", "0:10.0-1.module_f40", "x86_64", nil, false, "zero epoch written"},
		{"nodejs", "1:18.9-1.module_f40", "x86_64", nil, true, "artifact of an inactive stream"},
		{"nodejs", "1:22.0-1.fc40", "x86_64", nil, true, "non-modular package of an active artifact's name"},
		{"nodejs-compat", "1.0-1", "x86_64", []string{"nodejs"}, true, "provides an active artifact's name"},
		{"libuv", "1.50-1.fc40", "x86_64", nil, false, "demodularized"},
		{"nodejs", "1:22.0-1.fc40", "src", nil, true, "source package of an active source artifact's name"},
		{"zlib", "1.3-1.fc40", "x86_64", []string{"zlib"}, false, "not modular"},
	} {
		assert.Equal(t, c.hidden, f.Hidden(c.name, c.evr, c.arch, c.provides), c.why)
	}
	// Nothing active: only the artifacts are hidden.
	f = NewFilter(md, nil, "x86_64")
	assert.True(t, f.Hidden("nodejs", "1:20.1-1.module_f40", "x86_64", nil))
	assert.False(t, f.Hidden("nodejs", "1:22.0-1.fc40", "x86_64", nil))
	// A build for another arch is never active.
	f = NewFilter(md, map[Key]bool{{"nodejs", "20", "abcd"}: true}, "aarch64")
	assert.True(t, f.Hidden("nodejs", "1:20.1-1.module_f40", "x86_64", nil))
	assert.True(t, NewFilter(nil, nil, "x86_64").Empty())
}

func TestParseNEVRA(t *testing.T) {
	for in, want := range map[string]nevra{
		"foo-1.0-1.fc40.x86_64":      {"foo", "1.0-1.fc40", "x86_64"},
		"foo-bar-2:1.0-1.noarch":     {"foo-bar", "2:1.0-1", "noarch"},
		"foo-00:1.0-1.x86_64":        {"foo", "1.0-1", "x86_64"},
		"python3-foo-0:1.0~rc1-1.el": {"python3-foo", "1.0~rc1-1", "el"},
	} {
		got, ok := parseNEVRA(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "foo", "foo-1.0.x86_64", "foo-1.0-1.", "-1.0-1.x86_64", "foo--1.x86_64"} {
		_, ok := parseNEVRA(bad)
		assert.False(t, ok, bad)
	}
}
