package publish

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignerKeys(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath, passPath := testKey(t, dir, "secret")
	key, err := os.ReadFile(keyPath)
	require.NoError(t, err)
	pub, err := os.ReadFile(pubPath)
	require.NoError(t, err)

	s, err := LoadSigner(keyPath, passPath)
	require.NoError(t, err)
	got, err := s.PublicKeyPEM()
	require.NoError(t, err)
	assert.Equal(t, string(pub), string(got))

	// The older cosign PEM type, the same format.
	cosign := strings.ReplaceAll(string(key), pemSigstoreKey, pemCosignKey)
	_, err = NewSigner([]byte(cosign), []byte("secret"))
	assert.NoError(t, err)

	_, err = NewSigner(key, []byte("wrong"))
	assert.ErrorContains(t, err, "wrong passphrase")
	_, err = LoadSigner(keyPath, "")
	assert.ErrorContains(t, err, keyPath)
	_, err = LoadSigner(filepath.Join(dir, "missing"), passPath)
	assert.ErrorContains(t, err, "missing")
	_, err = NewSigner([]byte("not a key"), nil)
	assert.ErrorContains(t, err, "no PEM block")
	_, err = NewSigner(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1}}), nil)
	assert.ErrorContains(t, err, `PEM type "RSA PRIVATE KEY"`)

	// An Ed25519 key, unencrypted PKCS #8 and encrypted with an empty
	// passphrase: signatures verify as containers/image verifies them.
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(edPriv)
	require.NoError(t, err)
	enc, err := encrypted.Encrypt(der, nil)
	require.NoError(t, err)
	for _, k := range [][]byte{
		pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: pemSigstoreKey, Bytes: enc}),
	} {
		s, err := NewSigner(k, nil)
		require.NoError(t, err)
		p, err := Payload(name.MustParseReference("example.com/a/b:latest"), v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)})
		require.NoError(t, err)
		sig, err := s.s.SignMessage(strings.NewReader(string(p)))
		require.NoError(t, err)
		pubPEM, err := s.PublicKeyPEM()
		require.NoError(t, err)
		pk, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
		require.NoError(t, err)
		v, err := signature.LoadVerifier(pk, crypto.SHA256) // as containers/image
		require.NoError(t, err)
		assert.NoError(t, v.VerifySignature(strings.NewReader(string(sig)), strings.NewReader(string(p))))
	}

	// An RSA key signs too (PKCS #1 v1.5, SHA-256), as sigstore's
	// verifier, which containers/image uses, takes it.
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err = x509.MarshalPKCS8PrivateKey(rsaKey)
	require.NoError(t, err)
	_, err = NewSigner(pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: der}), nil)
	assert.NoError(t, err)
}

func TestPayload(t *testing.T) {
	p, err := Payload(name.MustParseReference("127.0.0.1:5000/alicorn/web:latest"), v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)})
	require.NoError(t, err)
	assert.JSONEq(t, `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/alicorn/web:latest"},
		"image":{"docker-manifest-digest":"sha256:`+strings.Repeat("ab", 32)+`"},"type":"cosign container image signature"},
		"optional":{"creator":"alicorn"}}`, string(p))
	r, err := name.NewRepository("127.0.0.1:5000/alicorn/web")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:5000/alicorn/web:sha256-"+strings.Repeat("ab", 32)+".sig",
		SignatureTag(r, v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}).String())
}
