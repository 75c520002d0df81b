package oci_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/oci"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
)

// layerFromDir packs a directory as a layer.
func layerFromDir(t *testing.T, dir string) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		return nil, err
	}
	return &buf, tw.Close()
}

// TestScanRPMImage scans a two-layer image whose upper layer rewrote the
// rpm database (a package upgraded, one erased): the packages are the
// upper layer's, located in it.
func TestScanRPMImage(t *testing.T) {
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux)", m)
	}
	base, err := os.UserCacheDir()
	require.NoError(t, err)
	b, err := rpmtest.NewBuilder(filepath.Join(base, "alicorn-test"))
	require.NoError(t, err)
	lower, upper := t.TempDir(), t.TempDir()
	require.NoError(t, b.Root(lower, []rpmtest.Pkg{
		{Name: "alpha", Version: "1.0", Release: "1", Arch: "x86_64"},
		{Name: "beta", Version: "1.0", Release: "1", Arch: "noarch"},
	}))
	require.NoError(t, os.MkdirAll(filepath.Join(lower, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(lower, "etc/os-release"), []byte("ID=fedora\nVERSION_ID=40\n"), 0o644))
	require.NoError(t, b.Root(upper, []rpmtest.Pkg{{Name: "alpha", Version: "2.0", Release: "1", Arch: "x86_64"}}))
	// The upper layer holds only the database files rpm rewrote.
	require.NoError(t, os.RemoveAll(filepath.Join(upper, "var")))

	var layers []*bytes.Buffer
	for _, dir := range []string{lower, upper} {
		l, err := layerFromDir(t, dir)
		require.NoError(t, err)
		layers = append(layers, l)
	}
	img := empty.Image
	for _, l := range layers {
		data := l.Bytes()
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		require.NoError(t, err)
		img, err = mutate.AppendLayers(img, layer)
		require.NoError(t, err)
	}

	x := rpmdb.Extractor{}
	fsys, err := oci.Flatten(context.Background(), img, oci.Options{Want: func(name string, info os.FileInfo) bool {
		return x.Required(name, info) || name == "etc/os-release"
	}})
	require.NoError(t, err)
	pkgs, err := inventory.Scan(context.Background(), fsys, []inventory.Extractor{x})
	require.NoError(t, err)

	want, err := rpmdb.Read(context.Background(), upper, rpmdb.Options{})
	require.NoError(t, err)
	var got, wantNames []string
	for _, p := range pkgs {
		got = append(got, p.Name+"-"+p.Version)
		assert.Equal(t, fsys.Layers[1].Digest, p.Locations[0].Layer, "written by the upper layer")
		assert.Equal(t, "fedora", p.PURL.Namespace)
	}
	for _, p := range want {
		wantNames = append(wantNames, p.Name+"-"+p.Version+"-"+p.Release)
	}
	sort.Strings(got)
	assert.Equal(t, []string{"alpha-2.0-1"}, got)
	assert.Equal(t, []string{"alpha-2.0-1"}, wantNames)
}
