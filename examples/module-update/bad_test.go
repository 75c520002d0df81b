package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/rollouttest"
	"github.com/alicorn-dev/alicorn/update/publish"
)

// TestBadInput: a digest that does not exist, a front that does not
// answer, an unsigned image under a policy that requires signatures, a
// registry that is down: a clear error, and nothing changed.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, ctx, "rolling")
	d1 := s.deploy(t, ctx)

	missing := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	code, _, stderr := s.cli(t, ctx, "apply", "-y", "--to", missing)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, missing)
	s.on(t, ctx, d1)

	code, _, stderr = s.cli(t, ctx, "apply", "-y", "--to", "sha256:nothex")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `--to "sha256:nothex": not a digest`)
	s.on(t, ctx, d1)

	// The front's socket gone: nothing is pulled or started.
	d2 := rollouttest.Publish(t, ctx, s.Registry, s.Name, "stable", s.Images.Release(t, ctx, "2", ""), d1, fix)
	sock := filepath.Join(s.State, "front-"+s.Name+".sock")
	require.NoError(t, os.Rename(sock, sock+".away"))
	code, _, stderr = s.cli(t, ctx, "apply", "-y")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "front")
	assert.Contains(t, stderr, "does not answer")
	require.NoError(t, os.Rename(sock+".away", sock))
	s.on(t, ctx, d1)

	// Under a policy that requires signatures: an unsigned image is
	// refused, a signed one runs.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	signer, err := publish.NewSigner(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
	require.NoError(t, err)
	pub, err := signer.PublicKeyPEM()
	require.NoError(t, err)
	pubFile := filepath.Join(s.Dir, "key.pub")
	require.NoError(t, os.WriteFile(pubFile, pub, 0o644))
	policy := filepath.Join(s.Dir, "policy.json")
	require.NoError(t, os.WriteFile(policy, []byte(`{"default": [{"type": "insecureAcceptAnything"}],
  "transports": {"docker": {"`+s.Registry+`": [{"type": "sigstoreSigned", "keyPath": "`+pubFile+`"}]}}}`), 0o644))
	code, _, stderr = s.cli(t, ctx, "apply", "-y", "--policy", policy)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "a signature is required")
	s.on(t, ctx, d1)
	d3 := rollouttest.PublishSigned(t, ctx, s.Registry, s.Name, "stable", s.Images.Release(t, ctx, "3", ""), d1, signer, fix)
	code, _, _ = s.cli(t, ctx, "apply", "-y", "--policy", policy)
	assert.Equal(t, 0, code)
	s.on(t, ctx, d3)

	// The registry down.
	s.StopRegistry()
	code, _, stderr = s.cli(t, ctx, "apply", "-y")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, s.Registry)
	code, _, stderr = s.cli(t, ctx, "status")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, s.Registry)
	s.on(t, ctx, d3)
	_ = d2
}

// TestFrontAddressTaken: the built-in front of a module whose public
// address another process holds does not start, and says why.
func TestFrontAddressTaken(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	file := rollouttest.ModuleFile("taken", "docker://127.0.0.1:1/taken:stable", l.Addr().String(), "", "rolling")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "taken.toml"), []byte(file), 0o644))
	var stdout, stderr strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, []string{"--modules-dir", dir, "--state", filepath.Join(dir, "state"), "front", "taken"}, strings.NewReader(""), &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), l.Addr().String())
	assert.Contains(t, stderr.String(), "address already in use")
	assert.Empty(t, stdout.String())
}

// TestReboot: containers stopped as by a reboot (podman does not restart
// them) come back on the committed image with recover, as
// alicorn-module@.service runs it at boot, and the front serves them.
func TestReboot(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, ctx, "rolling")
	d1 := s.deploy(t, ctx)
	out, err := s.Podman.Run(ctx, "ps", "--quiet", "--filter", "label=io.alicorn.module="+s.Name)
	require.NoError(t, err)
	for _, id := range strings.Fields(out) {
		_, err := s.Podman.Run(ctx, "stop", "--time", "1", id)
		require.NoError(t, err)
	}
	for _, in := range s.status(t, ctx).Running {
		require.False(t, in.Running, in.Name)
	}
	code, _, _ := s.cli(t, ctx, "recover")
	require.Equal(t, 0, code)
	s.on(t, ctx, d1)
	l := rollouttest.StartLoad(t, s.URL)
	l.End(t)
}
