package publish

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/stretchr/testify/require"
)

// testImage returns a small OCI image for linux/amd64 whose one layer
// holds /etc/release with content: the same content, the same digest.
func testImage(t *testing.T, content string) v1.Image {
	t.Helper()
	return makeImage(t, content, false)
}

// dockerImage is testImage with Docker schema 2 media types, as
// rebuild.FromRecipe makes.
func dockerImage(t *testing.T, content string) v1.Image {
	t.Helper()
	return makeImage(t, content, true)
}

func makeImage(t *testing.T, content string, docker bool) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0)}))
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "etc/release", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(0, 0)}))
	_, err := tw.Write([]byte(content))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil }
	base := empty.Image
	var lopts []tarball.LayerOption
	if !docker {
		lopts = append(lopts, tarball.WithMediaType(types.OCILayer))
		base = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	}
	layer, err := tarball.LayerFromOpener(opener, lopts...)
	require.NoError(t, err)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "test", Created: v1.Time{Time: time.Unix(0, 0).UTC()}}})
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config.Cmd = []string{"/bin/true"}
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

// testKey writes an ECDSA P-256 key pair in sigstore's formats under dir:
// key.key (ENCRYPTED SIGSTORE PRIVATE KEY, passphrase pass), key.pub
// (PUBLIC KEY) and pass (the passphrase file); it returns their paths.
func testKey(t *testing.T, dir, pass string) (keyPath, pubPath, passPath string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	enc, err := encrypted.Encrypt(der, []byte(pass))
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	require.NoError(t, err)
	keyPath, pubPath, passPath = filepath.Join(dir, "key.key"), filepath.Join(dir, "key.pub"), filepath.Join(dir, "pass")
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: pemSigstoreKey, Bytes: enc}), 0o600))
	require.NoError(t, os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644))
	require.NoError(t, os.WriteFile(passPath, []byte(pass+"\n"), 0o600))
	return keyPath, pubPath, passPath
}
