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
	"net"
	"net/http"
	"os"
	"os/exec"
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

// registry starts Debian's docker-registry (Distribution) on a loopback
// port with its storage under a test directory and returns HOST:PORT once
// it answers; it is killed when the test ends.
func registry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("needs docker-registry (apt-get install docker-registry)")
	}
	addr := freeAddr(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yml")
	require.NoError(t, os.WriteFile(conf, []byte("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: "+
		filepath.Join(dir, "data")+"\n  delete:\n    enabled: true\nhttp:\n  addr: "+addr+"\n"), 0o644))
	cmd := exec.Command(bin, "serve", conf)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		require.True(t, time.Now().Before(deadline), "docker-registry did not answer on %s: %v", addr, err)
		time.Sleep(100 * time.Millisecond)
	}
}

// freeAddr returns a loopback address nothing listens on (now).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	return addr
}

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
