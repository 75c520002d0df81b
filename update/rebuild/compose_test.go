package rebuild

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

// TestComposeConfig composes an image from a real RPM and checks what it
// is told to run, and how to stop it.
func TestComposeConfig(t *testing.T) {
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux)", m)
	}
	b, err := rpmtest.NewBuilder(filepath.Join(t.TempDir(), "rpms"))
	require.NoError(t, err)
	rpm, err := b.Build(rpmtest.Pkg{Name: "hello", Version: "1.0", Release: "1", Arch: "noarch",
		Files: map[string]string{"/usr/bin/hello": "#!/bin/sh\necho hello\n"}})
	require.NoError(t, err)
	work := t.TempDir()
	for _, c := range []struct {
		name string
		cfg  Config
		stop string
	}{
		{"stop signal", Config{Entrypoint: []string{"/usr/bin/hello"}, StopSignal: "SIGTERM"}, "SIGTERM"},
		{"runtime's default", Config{Entrypoint: []string{"/usr/bin/hello"}}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := filepath.Join(work, c.name)
			require.NoError(t, os.MkdirAll(w, 0o755))
			img, err := Compose(context.Background(), w, []string{rpm}, c.cfg)
			require.NoError(t, err)
			cf, err := img.ConfigFile()
			require.NoError(t, err)
			assert.Equal(t, c.stop, cf.Config.StopSignal)
			assert.Equal(t, []string{"/usr/bin/hello"}, cf.Config.Entrypoint)
			assert.Equal(t, "linux", cf.OS)
		})
	}
}
