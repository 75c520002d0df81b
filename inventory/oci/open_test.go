package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tarDir writes dir's files as a tar archive (an oci-archive when dir is
// a layout).
func tarDir(t *testing.T, dir, file string) {
	t.Helper()
	out, err := os.Create(file)
	require.NoError(t, err)
	defer out.Close()
	tw := tar.NewWriter(out)
	require.NoError(t, tw.AddFS(os.DirFS(dir)))
	require.NoError(t, tw.Close())
}

func TestOpenTransports(t *testing.T) {
	img := sample(t)
	want, err := img.Digest()
	require.NoError(t, err)
	dir := t.TempDir()

	lay := filepath.Join(dir, "layout")
	p, err := layout.Write(lay, empty.Index)
	require.NoError(t, err)
	require.NoError(t, p.AppendImage(img, layout.WithAnnotations(map[string]string{refName: "v1"})))
	tarDir(t, lay, filepath.Join(dir, "oci.tar"))

	tag, err := name.NewTag("example.org/web:1")
	require.NoError(t, err)
	require.NoError(t, tarball.WriteToFile(filepath.Join(dir, "docker.tar"), tag, img))

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, err := name.ParseReference(host+"/web:1", name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img))

	for _, r := range []string{
		"oci:" + lay + ":v1",
		"oci:" + lay,
		"oci-archive:" + filepath.Join(dir, "oci.tar") + ":v1",
		"docker-archive:" + filepath.Join(dir, "docker.tar"),
		"docker-archive:" + filepath.Join(dir, "docker.tar") + ":example.org/web:1",
		"docker://" + host + "/web:1",
	} {
		im, err := Open(context.Background(), r)
		require.NoError(t, err, r)
		got, err := im.Image.Digest()
		require.NoError(t, err, r)
		if !strings.HasPrefix(r, "docker-archive:") {
			// docker-archive keeps layers, not the manifest: compare trees.
			assert.Equal(t, want, got, r)
		}
		f, err := Flatten(context.Background(), im, Options{Want: all})
		require.NoError(t, err, r)
		b, err := fs.ReadFile(f, "etc/os-release")
		require.NoError(t, err, r)
		assert.Equal(t, "ID=fedora\nVERSION_ID=40\n", string(b), r)
		require.NoError(t, im.Close())
	}

	for r, msg := range map[string]string{
		"nothing":                     "no transport",
		"oci:" + lay + ":missing":     `no image tagged "missing"`,
		"oci:" + dir + "/nowhere":     "nowhere",
		"docker-archive:/nonexistent": "/nonexistent",
		"floppy:disk":                 `unknown transport "floppy"`,
	} {
		_, err := Open(context.Background(), r)
		require.Error(t, err, r)
		assert.Contains(t, err.Error(), msg, r)
	}
}

func TestOCIArchiveEscapes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "evil.tar")
	out, err := os.Create(file)
	require.NoError(t, err)
	tw := tar.NewWriter(out)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "../../escaped", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644}))
	_, err = io.WriteString(tw, "x")
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, out.Close())
	_, err = Open(context.Background(), "oci-archive:"+file)
	assert.ErrorIs(t, err, ErrUnsafePath)
	_, err = os.Stat(filepath.Join(os.TempDir(), "escaped"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestMissingBlob(t *testing.T) {
	img := sample(t)
	lay := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(lay, empty.Index)
	require.NoError(t, err)
	require.NoError(t, p.AppendImage(img))
	layers, err := img.Layers()
	require.NoError(t, err)
	d, err := layers[1].Digest()
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(lay, "blobs", d.Algorithm, d.Hex)))
	im, err := Open(context.Background(), "oci:"+lay)
	require.NoError(t, err)
	_, err = Flatten(context.Background(), im, Options{Want: all})
	require.Error(t, err)
	assert.Contains(t, err.Error(), d.String(), "the error names the layer")
	var _ v1.Image = im
}

// damagedLayout writes the sample image as a layout and lets damage
// change its second layer's blob.
func damagedLayout(t *testing.T, damage func([]byte) []byte) (string, string) {
	t.Helper()
	img := sample(t)
	lay := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(lay, empty.Index)
	require.NoError(t, err)
	require.NoError(t, p.AppendImage(img))
	layers, err := img.Layers()
	require.NoError(t, err)
	d, err := layers[1].Digest()
	require.NoError(t, err)
	blob := filepath.Join(lay, "blobs", d.Algorithm, d.Hex)
	b, err := os.ReadFile(blob)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(blob, damage(b), 0o644))
	return lay, d.String()
}

func TestDamagedBlobs(t *testing.T) {
	for name, damage := range map[string]func([]byte) []byte{
		"digest mismatch": func(b []byte) []byte { b[len(b)/2] ^= 0xff; return b },
		"truncated gzip":  func(b []byte) []byte { return b[:len(b)/2] },
		"another layer": func([]byte) []byte {
			// Well-formed, but not the blob the manifest names.
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(tarOf(t, ent{Name: "etc/os-release", Body: "ID=evil\n"}))
			zw.Close()
			return buf.Bytes()
		},
	} {
		lay, digest := damagedLayout(t, damage)
		im, err := Open(context.Background(), "oci:"+lay)
		require.NoError(t, err, name)
		_, err = Flatten(context.Background(), im, Options{Want: all})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), digest, "%s: the error names the layer", name)
	}
}

func TestDamagedConfigAndManifest(t *testing.T) {
	img := sample(t)
	for _, which := range []string{"config", "manifest"} {
		lay := filepath.Join(t.TempDir(), "layout")
		p, err := layout.Write(lay, empty.Index)
		require.NoError(t, err)
		require.NoError(t, p.AppendImage(img))
		var d v1.Hash
		if which == "config" {
			d, err = img.ConfigName()
		} else {
			d, err = img.Digest()
		}
		require.NoError(t, err)
		blob := filepath.Join(lay, "blobs", d.Algorithm, d.Hex)
		b, err := os.ReadFile(blob)
		require.NoError(t, err)
		b = bytes.Replace(b, []byte(`"`), []byte(` "`), 1) // still JSON, other bytes
		require.NoError(t, os.WriteFile(blob, b, 0o644))
		im, err := Open(context.Background(), "oci:"+lay)
		if err == nil {
			_, err = Flatten(context.Background(), im, Options{Want: all})
		}
		assert.ErrorIs(t, err, ErrDigest, which)
	}
}

// TestContainersStorage opens an image from podman's storage.
func TestContainersStorage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for podman's storage")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("needs podman (apt-get install podman runc)")
	}
	dir := t.TempDir()
	lay := filepath.Join(dir, "layout")
	p, err := layout.Write(lay, empty.Index)
	require.NoError(t, err)
	// The full name: podman load tags the image with it (a bare "1"
	// would name it localhost/1, left behind by removing another tag).
	require.NoError(t, p.AppendImage(sample(t), layout.WithAnnotations(map[string]string{refName: "localhost/alicorn/oci-test:1"})))
	archive := filepath.Join(dir, "img.tar")
	tarDir(t, lay, archive)
	podman := func(args ...string) string {
		out, err := exec.Command("podman", args...).CombinedOutput()
		require.NoError(t, err, "podman %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	podman("load", "-q", "-i", archive)
	// Removing the name removes the image when no other name holds it.
	t.Cleanup(func() { exec.Command("podman", "rmi", "--ignore", "localhost/alicorn/oci-test:1").Run() })

	im, err := Open(context.Background(), "containers-storage:localhost/alicorn/oci-test:1")
	require.NoError(t, err)
	defer im.Close()
	assert.NoError(t, validate.Image(im))
	f, err := Flatten(context.Background(), im, Options{Want: all})
	require.NoError(t, err)
	b, err := fs.ReadFile(f, "etc/os-release")
	require.NoError(t, err)
	assert.Equal(t, "ID=fedora\nVERSION_ID=40\n", string(b))

	_, err = Open(context.Background(), "containers-storage:localhost/alicorn/no-such-image:1")
	assert.ErrorContains(t, err, "podman image save")
}

// TestDockerRegistry pushes to Debian's docker-registry (Distribution) on
// loopback and reads the image back over plain HTTP.
func TestDockerRegistry(t *testing.T) {
	addr := registrytest.Start(t)
	ref, err := name.ParseReference(addr+"/alicorn/web:1", name.Insecure)
	require.NoError(t, err)
	img := sample(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err = remote.Write(ref, img); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.NoError(t, err)

	im, err := Open(context.Background(), "docker://"+addr+"/alicorn/web:1")
	require.NoError(t, err)
	f, err := Flatten(context.Background(), im, Options{Want: all})
	require.NoError(t, err)
	b, err := fs.ReadFile(f, "etc/os-release")
	require.NoError(t, err)
	assert.Equal(t, "ID=fedora\nVERSION_ID=40\n", string(b))
	_, err = Open(context.Background(), "docker://"+addr+"/alicorn/missing:1")
	assert.Error(t, err)
}

// TestLayoutDirOneFilePerBlob: reading a blob again (and the hashing
// second reader) takes no new file descriptor.
func TestLayoutDirOneFilePerBlob(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "blob"), []byte("abc"), 0o644))
	d, err := openLayoutDir(dir)
	require.NoError(t, err)
	defer d.close()
	for range 5 {
		r, err := d.open("blob")
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		assert.Equal(t, "abc", string(b))
	}
	assert.Len(t, d.files, 1)
}
