package trust

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/alicorn-dev/alicorn/update/publish"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testKey is a signing key: its ECDSA private key, a publish.Signer of
// it, and its public key file.
type testKey struct {
	priv   *ecdsa.PrivateKey
	signer *publish.Signer
	pub    string // path of the PEM public key
}

func newKey(t *testing.T) *testKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	s, pub := signerOf(t, priv)
	return &testKey{priv: priv, signer: s, pub: pub}
}

// signerOf returns the publish.Signer of a private key and the path of
// its public key.
func signerOf(t *testing.T, priv crypto.PrivateKey) (*publish.Signer, string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	s, err := publish.NewSigner(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
	require.NoError(t, err)
	pubPEM, err := s.PublicKeyPEM()
	require.NoError(t, err)
	pub := filepath.Join(t.TempDir(), "key.pub")
	require.NoError(t, os.WriteFile(pub, pubPEM, 0o644))
	return s, pub
}

// keyTypes are Ed25519 and RSA signers (newKey's is ECDSA P-256) and
// their public keys, by name.
func keyTypes(t *testing.T) map[string][2]any {
	t.Helper()
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	keys := map[string][2]any{}
	for n, k := range map[string]crypto.PrivateKey{"ed25519": ed, "rsa": rsaKey, "p384": p384} {
		s, pub := signerOf(t, k)
		keys[n] = [2]any{s, pub}
	}
	return keys
}

// publishWith publishes a new image to repo signed by s and returns its
// reference by digest.
func publishWith(t *testing.T, s *publish.Signer, repo string) string {
	t.Helper()
	img, err := random.Image(256, 1)
	require.NoError(t, err)
	ref, _, err := (&publish.Publisher{Insecure: true, Signer: s}).Publish(context.Background(), img, repo, "latest")
	require.NoError(t, err)
	return ref
}

func TestVerifyKeyTypes(t *testing.T) {
	f := newFixture(t)
	for n, k := range keyTypes(t) {
		ref := publishWith(t, k[0].(*publish.Signer), f.addr+"/keys/"+n)
		res, err := f.policy(t, sigstore(k[1].(string))).Verify(context.Background(), ref, Options{Insecure: true})
		require.NoError(t, err, n)
		assert.Equal(t, k[1], res.Key)
		_, err = f.policy(t, sigstore(f.key.pub)).Verify(context.Background(), ref, Options{Insecure: true})
		rejected(t, err, "not signed by the key")
	}
}

// signP1363 returns the base64 IEEE P1363 signature (r‖s) of payload.
func (k *testKey) signP1363(t *testing.T, payload []byte) string {
	t.Helper()
	h := sha256.Sum256(payload)
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, h[:])
	require.NoError(t, err)
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return base64.StdEncoding.EncodeToString(sig)
}

// sign returns the base64 signature of payload.
func (k *testKey) sign(t *testing.T, payload []byte) string {
	t.Helper()
	h := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, h[:])
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(sig)
}

// fixture is a registry holding, in REPO = ADDR/alicorn/app, an image
// published and signed by key (signed: its reference by digest, tags
// latest and latest-1) and an unsigned one (tag unsigned, and unsigned:
// by digest).
type fixture struct {
	addr, repo       string
	key              *testKey
	signed, unsigned string
	signedDigest     v1.Hash
	unsignedDigest   v1.Hash
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{addr: registrytest.Start(t), key: newKey(t)}
	f.repo = f.addr + "/alicorn/app"
	img, err := random.Image(512, 1)
	require.NoError(t, err)
	f.signed, _, err = (&publish.Publisher{Insecure: true, Signer: f.key.signer}).Publish(ctx, img, f.repo, "latest")
	require.NoError(t, err)
	f.signedDigest, err = img.Digest()
	require.NoError(t, err)

	img, err = random.Image(512, 1)
	require.NoError(t, err)
	tag, err := name.NewTag(f.repo+":unsigned", name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(tag, img))
	f.unsignedDigest, err = img.Digest()
	require.NoError(t, err)
	f.unsigned = f.repo + "@" + f.unsignedDigest.String()
	return f
}

// policy writes a policy.json of the docker scope of the fixture's
// registry (default: reject) and loads it.
func (f *fixture) policy(t *testing.T, reqs ...map[string]any) *Policy {
	t.Helper()
	path := writePolicy(t, map[string]any{
		"default":    []any{map[string]any{"type": "reject"}},
		"transports": map[string]any{"docker": map[string]any{f.addr: reqs}},
	})
	p, err := LoadPolicy(path)
	require.NoError(t, err)
	return p
}

func writePolicy(t *testing.T, policy map[string]any) string {
	t.Helper()
	b, err := json.MarshalIndent(policy, "", "  ")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "policy.json")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

func sigstore(keyPath string, identity ...string) map[string]any {
	r := map[string]any{"type": "sigstoreSigned", "keyPath": keyPath}
	if len(identity) > 0 {
		id := map[string]any{"type": identity[0]}
		if len(identity) > 2 {
			id[identity[1]] = identity[2]
		}
		r["signedIdentity"] = id
	}
	return r
}

// attach replaces the attachment of the image of digest d with one of
// layers.
func (f *fixture) attach(t *testing.T, d v1.Hash, layers ...mutate.Addendum) {
	t.Helper()
	f.attachTo(t, f.repo, d, layers...)
}

// attachTo is attach in another repository.
func (f *fixture) attachTo(t *testing.T, repository string, d v1.Hash, layers ...mutate.Addendum) {
	t.Helper()
	repo, err := name.NewRepository(repository, name.Insecure)
	require.NoError(t, err)
	img, err := mutate.Append(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), layers...)
	require.NoError(t, err)
	require.NoError(t, remote.Write(publish.SignatureTag(repo, d), img))
}

// sigLayer is an attachment layer of payload with the annotation sig
// ("" for none).
func sigLayer(payload []byte, sig string) mutate.Addendum {
	a := mutate.Addendum{Layer: static.NewLayer(payload, publish.SimpleSigningMediaType), MediaType: publish.SimpleSigningMediaType}
	if sig != "" {
		a.Annotations = map[string]string{publish.SignatureAnnotation: sig}
	}
	return a
}

func (f *fixture) payload(t *testing.T, identity string, d v1.Hash) []byte {
	t.Helper()
	ref, err := name.ParseReference(identity)
	require.NoError(t, err)
	p, err := publish.Payload(ref, d)
	require.NoError(t, err)
	return p
}

func rejected(t *testing.T, err error, reason string) {
	t.Helper()
	var rerr *RejectedError
	if assert.ErrorAs(t, err, &rerr) {
		assert.Contains(t, rerr.Reason, reason)
		t.Log(err)
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	o := Options{Insecure: true}
	p := f.policy(t, sigstore(f.key.pub))

	for _, image := range []string{f.signed, f.repo + ":latest", "docker://" + f.repo} {
		res, err := p.Verify(ctx, image, o)
		require.NoError(t, err, image)
		assert.Equal(t, Result{Scope: `transports.docker["` + f.addr + `"]`, Digest: f.signedDigest.String(), Key: f.key.pub,
			Identity: f.repo + ":latest"}, *res, image)
	}
	res, err := p.Verify(ctx, f.repo+":latest-1", Options{Insecure: true, Remote: []remote.Option{remote.WithUserAgent("alicorn-test")}})
	require.NoError(t, err)
	assert.Equal(t, f.repo+":latest-1", res.Identity)

	_, err = p.Verify(ctx, f.unsigned, o)
	rejected(t, err, "a signature is required, but there is none")
	assert.ErrorContains(t, err, "policy "+p.path+` (transports.docker["`+f.addr+`"]) rejects `+f.unsigned+": ")
	_, err = p.Verify(ctx, f.repo+":unsigned", o)
	rejected(t, err, "a signature is required, but there is none")
	_, err = p.Verify(ctx, f.addr+"/alicorn/none:latest", o)
	assert.ErrorContains(t, err, "verify "+f.addr+"/alicorn/none:latest: resolve tag: ")
	assert.False(t, isRejected(err))

	other := newKey(t)
	_, err = f.policy(t, sigstore(other.pub)).Verify(ctx, f.signed, o)
	rejected(t, err, "not signed by the key "+other.pub)
	res, err = f.policy(t, map[string]any{"type": "sigstoreSigned", "keyPaths": []string{other.pub, f.key.pub}}).Verify(ctx, f.signed, o)
	require.NoError(t, err)
	assert.Equal(t, f.key.pub, res.Key)
	pubPEM, err := os.ReadFile(f.key.pub)
	require.NoError(t, err)
	res, err = f.policy(t, map[string]any{"type": "sigstoreSigned", "keyData": pubPEM}).Verify(ctx, f.signed, o)
	require.NoError(t, err)
	assert.Equal(t, "keyData", res.Key)

	// A key file that cannot be read is no decision: an error naming it.
	missing := filepath.Join(t.TempDir(), "missing.pub")
	_, err = f.policy(t, sigstore(missing)).Verify(ctx, f.signed, o)
	assert.ErrorContains(t, err, missing)
	assert.False(t, isRejected(err))
	_, err = f.policy(t, sigstore(p.path)).Verify(ctx, f.signed, o)
	assert.ErrorContains(t, err, "public key "+p.path+": no PEM")

	// insecureAcceptAnything accepts anything; reject rejects; both
	// must accept.
	res, err = f.policy(t, map[string]any{"type": "insecureAcceptAnything"}).Verify(ctx, f.unsigned, o)
	require.NoError(t, err)
	assert.Equal(t, Result{Scope: `transports.docker["` + f.addr + `"]`}, *res)
	_, err = f.policy(t, map[string]any{"type": "reject"}).Verify(ctx, f.signed, o)
	rejected(t, err, "type reject")
	_, err = f.policy(t, map[string]any{"type": "insecureAcceptAnything"}, sigstore(other.pub)).Verify(ctx, f.signed, o)
	rejected(t, err, "not signed by the key")

	// signedIdentity.
	for _, c := range []struct {
		id     []string
		image  string
		reason string // "" accepted
	}{
		{[]string{"matchExact"}, f.repo + ":latest", ""},
		{[]string{"matchExact"}, f.signed, "which matchExact does not accept"},
		{[]string{"matchRepository"}, f.signed, ""},
		{[]string{"exactReference", "dockerReference", f.repo + ":latest-1"}, f.repo + ":latest", ""},
		{[]string{"exactReference", "dockerReference", f.repo + ":other"}, f.signed, "which exactReference does not accept"},
		{[]string{"exactRepository", "dockerRepository", f.addr + "/other"}, f.signed, "which exactRepository does not accept"},
	} {
		_, err := f.policy(t, sigstore(f.key.pub, c.id...)).Verify(ctx, c.image, o)
		if c.reason == "" {
			assert.NoError(t, err, "%v %s", c.id, c.image)
		} else {
			rejected(t, err, c.reason)
		}
	}
}

func isRejected(err error) bool {
	var rerr *RejectedError
	return errors.As(err, &rerr)
}

// TestVerifyForged: signatures that do not hold are refused, whatever
// else the attachment holds, and one that holds among them accepts.
func TestVerifyForged(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	o := Options{Insecure: true}
	p := f.policy(t, sigstore(f.key.pub))

	// A valid signature of the signed image, attached to the unsigned
	// one: it names another digest.
	good := f.payload(t, f.repo+":latest", f.signedDigest)
	f.attach(t, f.unsignedDigest, sigLayer(good, f.key.sign(t, good)))
	_, err := p.Verify(ctx, f.unsigned, o)
	rejected(t, err, `signs the digest "`+f.signedDigest.String()+`", not `+f.unsignedDigest.String())

	// Tampered: the payload changed (another identity), the signature
	// kept; a signature of other bytes; not base64; no annotation.
	mine := f.payload(t, f.repo+":unsigned", f.unsignedDigest)
	tampered := f.payload(t, f.repo+":latest", f.unsignedDigest)
	f.attach(t, f.unsignedDigest,
		sigLayer(tampered, f.key.sign(t, mine)),
		sigLayer(mine, base64.StdEncoding.EncodeToString([]byte("garbage"))),
		sigLayer(mine, "!!not base64!!"),
		sigLayer(mine, ""),
		sigLayer([]byte("garbage, signed"), f.key.sign(t, []byte("garbage, signed"))),
		sigLayer([]byte(`{"critical":{"identity":{"docker-reference":"`+f.repo+`:unsigned"},"image":{"docker-manifest-digest":"`+f.unsignedDigest.String()+`"},"type":"something else"},"optional":null}`), ""),
	)
	_, err = p.Verify(ctx, f.unsigned, o)
	rejected(t, err, "no signature accepted: signature 1 (sha256:")
	for _, why := range []string{"not signed by the key", "signature not base64", "no dev.cosignproject.cosign/signature annotation", "payload: invalid character"} {
		assert.ErrorContains(t, err, why)
	}
	// The wrong type, signed.
	wrongType := []byte(strings.Replace(string(mine), "cosign container image signature", "something else", 1))
	unknownField := []byte(strings.Replace(string(mine), `"critical":{`, `"critical":{"extra":1,`, 1))
	f.attach(t, f.unsignedDigest, sigLayer(wrongType, f.key.sign(t, wrongType)), sigLayer(unknownField, f.key.sign(t, unknownField)))
	_, err = p.Verify(ctx, f.unsigned, o)
	rejected(t, err, `payload type "something else", not "cosign container image signature"`)
	assert.ErrorContains(t, err, `unknown field "extra"`)

	// One good signature among bad ones and other attachments accepts.
	f.attach(t, f.unsignedDigest,
		sigLayer(tampered, f.key.sign(t, mine)),
		mutate.Addendum{Layer: static.NewLayer([]byte("an attestation"), "application/vnd.in-toto+json"), MediaType: "application/vnd.in-toto+json"},
		sigLayer(mine, f.key.sign(t, mine)))
	res, err := p.Verify(ctx, f.unsigned, o)
	require.NoError(t, err)
	assert.Equal(t, f.repo+":unsigned", res.Identity)

	// An ECDSA signature encoded as IEEE P1363 (r‖s), as sigstore's
	// verifier takes it, verifies; one of other bytes does not.
	f.attach(t, f.unsignedDigest, sigLayer(mine, f.key.signP1363(t, tampered)))
	_, err = p.Verify(ctx, f.unsigned, o)
	rejected(t, err, "not signed by the key")
	f.attach(t, f.unsignedDigest, sigLayer(mine, f.key.signP1363(t, mine)))
	_, err = p.Verify(ctx, f.unsigned, o)
	require.NoError(t, err)
}

// TestVerifyHostile: what the registry serves is read within bounds,
// and errors name the blob.
func TestVerifyHostile(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	o := Options{Insecure: true}
	p := f.policy(t, sigstore(f.key.pub))

	huge := make([]byte, MaxPayloadSize+1)
	f.attach(t, f.unsignedDigest, sigLayer(huge, "AAAA"))
	_, verr := p.Verify(ctx, f.unsigned, o)
	hugeDigest, _, err := v1.SHA256(bytes.NewReader(huge))
	require.NoError(t, err)
	assert.ErrorContains(t, verr, "signature "+f.repo+"@"+hugeDigest.String()+": 65537 bytes, more than 65536")
	assert.False(t, isRejected(verr))

	// A descriptor that lies about the size: the read stops at the bound.
	repo, err := name.NewRepository(f.repo, name.Insecure)
	require.NoError(t, err)
	liar := static.NewLayer(bytes.Repeat([]byte("x"), 1<<20), publish.SimpleSigningMediaType)
	require.NoError(t, remote.WriteLayer(repo, liar))
	config := static.NewLayer([]byte("{}"), types.OCIConfigJSON)
	require.NoError(t, remote.WriteLayer(repo, config))
	desc := func(l v1.Layer, size int64) v1.Descriptor {
		d, err := l.Digest()
		require.NoError(t, err)
		mt, err := l.MediaType()
		require.NoError(t, err)
		return v1.Descriptor{MediaType: mt, Size: size, Digest: d, Annotations: map[string]string{publish.SignatureAnnotation: "AAAA"}}
	}
	m, err := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: desc(config, 2), Layers: []v1.Descriptor{desc(liar, 100)}})
	require.NoError(t, err)
	require.NoError(t, remote.Put(publish.SignatureTag(repo, f.unsignedDigest), rawManifest(m)))
	_, err = p.Verify(ctx, f.unsigned, o)
	liarDigest, err2 := liar.Digest()
	require.NoError(t, err2)
	assert.ErrorContains(t, err, "signature "+f.repo+"@"+liarDigest.String()+": more than 65536 bytes")

	var layers []mutate.Addendum
	for i := range MaxSignatures + 1 {
		pl := []byte{byte(i)}
		layers = append(layers, sigLayer(pl, "AAAA"))
	}
	f.attach(t, f.unsignedDigest, layers...)
	_, err = p.Verify(ctx, f.unsigned, o)
	assert.ErrorContains(t, err, ":sha256-"+f.unsignedDigest.Hex+".sig: more than 64")

	// The attachment is not an OCI image manifest.
	img, err := random.Image(10, 1) // Docker media types
	require.NoError(t, err)
	require.NoError(t, remote.Write(publish.SignatureTag(repo, f.unsignedDigest), img))
	_, err = p.Verify(ctx, f.unsigned, o)
	assert.ErrorContains(t, err, `media type "application/vnd.docker.distribution.manifest.v2+json", not an OCI image manifest`)
}

// rawManifest is an OCI image manifest as bytes, for remote.Put.
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
