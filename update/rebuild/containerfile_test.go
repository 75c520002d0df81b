package rebuild

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/podman"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/inventory/oci"
)

// TestContainerfileLayers builds a Containerfile's layers with podman on a
// composed image: the composed layer stays as it was, the new file and
// label are there, and two builds give the same image.
func TestContainerfileLayers(t *testing.T) {
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux)", m)
	}
	if _, err := exec.LookPath("podman"); err != nil || os.Geteuid() != 0 {
		t.Skip("needs podman, as root (apt-get install podman runc)")
	}
	b, err := rpmtest.NewBuilder(filepath.Join(t.TempDir(), "rpms"))
	require.NoError(t, err)
	rpm, err := b.Build(rpmtest.Pkg{Name: "hello", Version: "1.0", Release: "1", Arch: "noarch",
		Files: map[string]string{"/usr/share/hello/README": "hello\n"}})
	require.NoError(t, err)
	ctx := context.Background()
	base, err := Compose(ctx, t.TempDir(), []string{rpm}, Config{Cmd: []string{"/bin/true"}})
	require.NoError(t, err)

	dir := t.TempDir()
	conf := filepath.Join(dir, "containers.conf")
	require.NoError(t, os.WriteFile(conf, []byte(podman.ContainersConf), 0o644))
	app := filepath.Join(dir, "app")
	require.NoError(t, os.MkdirAll(app, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(app, "app.txt"), []byte("the app\n"), 0o644))
	cfile := filepath.Join(app, "Containerfile")
	require.NoError(t, os.WriteFile(cfile, []byte("FROM scratch\nCOPY app.txt /opt/app/app.txt\nLABEL io.example.app=1\n"), 0o644))

	bld := Builder{ContainersConf: conf}
	created := time.Unix(1700000000, 0).UTC()
	build := func() (digest string, layers int) {
		work := t.TempDir()
		img, err := bld.Layers(ctx, base, cfile, created, work)
		require.NoError(t, err)
		ls, err := img.Layers()
		require.NoError(t, err)
		bl, err := base.Layers()
		require.NoError(t, err)
		d0, _ := bl[0].Digest()
		d1, _ := ls[0].Digest()
		assert.Equal(t, d0, d1, "the composed layer as it was")
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		assert.Equal(t, "1", cf.Config.Labels["io.example.app"])
		assert.Equal(t, created, cf.Created.Time.UTC())
		f, err := oci.Flatten(ctx, img, oci.Options{Want: func(string, fs.FileInfo) bool { return true }})
		require.NoError(t, err)
		defer f.Close()
		got, err := fs.ReadFile(f, "opt/app/app.txt")
		require.NoError(t, err)
		assert.Equal(t, "the app\n", string(got))
		_, err = fs.ReadFile(f, "usr/share/hello/README")
		require.NoError(t, err)
		d, err := img.Digest()
		require.NoError(t, err)
		return d.String(), len(ls)
	}
	d1, n := build()
	assert.Equal(t, 2, n)
	d2, _ := build()
	assert.Equal(t, d1, d2, "two builds, one image")

	// A Containerfile that fails is an error naming it.
	bad := filepath.Join(app, "Bad")
	require.NoError(t, os.WriteFile(bad, []byte("FROM scratch\nCOPY missing.txt /x\n"), 0o644))
	_, err = bld.Layers(ctx, base, bad, created, t.TempDir())
	assert.ErrorContains(t, err, "containerfile "+bad)
}
