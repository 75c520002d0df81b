package modularity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const yamlDoc = `---
document: modulemd
version: 2
data:
  name: nodejs
  stream: "20"
  version: 4020240101
  context: abcd
  arch: x86_64
  dependencies:
  - requires:
      platform: [f40]
...
---
document: modulemd
version: 2
data:
  name: nodejs
  stream: "20"
  version: 4020240202
  context: ef01
  arch: x86_64
  dependencies:
  - requires:
      platform: [f39]
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
...
---
document: modulemd-defaults
version: 1
data:
  module: nodejs
  stream: "20"
...
---
document: modulemd-translations
version: 1
data: {module: nodejs}
...
`

func TestParseAndActive(t *testing.T) {
	md, err := Parse(strings.NewReader(yamlDoc), "modules.yaml")
	require.NoError(t, err)
	require.Len(t, md.Streams, 3)
	assert.Equal(t, []Defaults{{"nodejs", "20"}}, md.Defaults)

	// The default stream: the newest build is chosen and, as the other's
	// requirements but for the platform are the same, that one is active
	// with it (libdnf's dynamic context).
	both := map[Key]bool{{"nodejs", "20", "abcd"}: true, {"nodejs", "20", "ef01"}: true}
	assert.Equal(t, both, Active(md, nil, "f39", "x86_64"))
	// When the newest build needs another platform, libdnf's optional
	// job for the default stream cannot take the best candidate and is
	// dropped: nothing of the stream is active (dnf says "cannot install
	// the best candidate for the job").
	assert.Empty(t, Active(md, nil, "f40", "x86_64"))
	// An enabled stream is not optional: an older build is taken.
	enabled := map[string]State{"nodejs": {"nodejs", "20", "enabled"}}
	assert.Equal(t, both, Active(md, enabled, "f40", "x86_64"))
	// No build can be satisfied: none is active.
	assert.Empty(t, Active(md, nil, "f41", "x86_64"))
	// Enabled and disabled streams.
	assert.Equal(t, map[Key]bool{{"nodejs", "18", "aaaa"}: true},
		Active(md, map[string]State{"nodejs": {"nodejs", "18", "enabled"}}, "f40", "x86_64"))
	assert.Empty(t, Active(md, map[string]State{"nodejs": {"nodejs", "", "disabled"}}, "f40", "x86_64"))
	assert.Empty(t, Active(md, nil, "f40", "aarch64"))
}

func TestReadStates(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "etc/dnf/modules.d")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nodejs.module"),
		[]byte("[nodejs]\nname=nodejs\nstream=18\nprofiles=\nstate=enabled\n"), 0o644))
	st, err := ReadStates(dir)
	require.NoError(t, err)
	assert.Equal(t, map[string]State{"nodejs": {"nodejs", "18", "enabled"}}, st)
	assert.Equal(t, "f40", PlatformStream("platform:f40"))
	assert.Equal(t, "", PlatformStream(""))
}

func TestAccepts(t *testing.T) {
	assert.True(t, accepts(nil, "f40"))
	assert.True(t, accepts([]string{"f39", "f40"}, "f40"))
	assert.False(t, accepts([]string{"f39"}, "f40"))
	assert.False(t, accepts([]string{"-f40"}, "f40"))
	assert.True(t, accepts([]string{"-f39"}, "f40"))
}

func FuzzParse(f *testing.F) {
	f.Add(yamlDoc)
	f.Fuzz(func(t *testing.T, s string) {
		md, err := Parse(strings.NewReader(s), "fuzz.yaml")
		if err == nil {
			Active(md, map[string]State{"nodejs": {"nodejs", "18", "enabled"}}, "f40", "x86_64")
		}
	})
}
