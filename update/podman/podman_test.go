package podman

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ps is what podman 4.3 prints of a served web replica.
const ps = `[{"Id": "d6a77c44", "Names": ["web-1"], "ImageID": "cf82bf07",
  "Labels": {"io.alicorn.module": "web", "io.alicorn.container": "web-1", "io.alicorn.digest": "sha256:898a"},
  "State": "running", "ExitCode": 0,
  "Ports": [{"host_ip": "127.0.0.1", "container_port": 80, "host_port": 42227, "range": 1, "protocol": "tcp"}]},
 {"Id": "e1", "Names": ["content"], "ImageID": "cf82bf07",
  "Labels": {"io.alicorn.module": "web", "io.alicorn.container": "content", "io.alicorn.digest": "sha256:898a"},
  "State": "exited", "ExitCode": 3, "Ports": null}]`

func TestParseList(t *testing.T) {
	cs, err := parseList([]byte(ps))
	require.NoError(t, err)
	require.Len(t, cs, 2)
	web := cs[0].instance(80)
	assert.Equal(t, "127.0.0.1:42227", web.Addr)
	assert.True(t, web.Running)
	assert.Equal(t, "web-1", web.Container)
	assert.Equal(t, "sha256:898a", web.Image.Digest)
	content := cs[1].instance(0)
	assert.False(t, content.Running)
	assert.Equal(t, 3, content.Exit)
	assert.Empty(t, content.Addr)
	// A port range holding the serve port; a wildcard host.
	cs, err = parseList([]byte(strings.Replace(ps, `"host_ip": "127.0.0.1", "container_port": 80, "host_port": 42227, "range": 1`,
		`"host_ip": "", "container_port": 78, "host_port": 5000, "range": 4`, 1)))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:5002", cs[0].instance(80).Addr)
	_, err = parseList([]byte(`{"not": "a list"}`))
	assert.ErrorContains(t, err, "podman ps")
}

func FuzzParseList(f *testing.F) {
	f.Add([]byte(ps))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := parseList(b)
		if err != nil {
			return
		}
		for _, c := range cs {
			in := c.instance(80)
			if in.Running != (c.State == "running") {
				t.Fatalf("running %v for state %q", in.Running, c.State)
			}
		}
	})
}
