package trust

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Bounds on what Verify reads.
const (
	// MaxKeySize is the largest public key file read.
	MaxKeySize = 64 << 10
	// MaxAttachmentSize is the largest attachment manifest accepted
	// (go-containerregistry reads at most 100 MiB of it).
	MaxAttachmentSize = 4 << 20
	// MaxSignatures is the most signatures an attachment may hold.
	MaxSignatures = 64
	// MaxPayloadSize is the largest signature payload read.
	MaxPayloadSize = 64 << 10
)

// The sigstore attachment format (see update/publish).
const (
	payloadMediaType    = types.MediaType("application/vnd.dev.cosign.simplesigning.v1+json")
	signatureAnnotation = "dev.cosignproject.cosign/signature"
	signatureType       = "cosign container image signature"
)

// Options say how Verify reaches the registry. The zero value is HTTPS,
// anonymous, remote.DefaultTransport.
type Options struct {
	// Insecure allows plain HTTP (and unverified TLS) to the registry.
	Insecure bool
	// Keychain gives the registry's credentials; nil means anonymous.
	Keychain authn.Keychain
	// Transport is the HTTP transport; nil means remote.DefaultTransport.
	Transport http.RoundTripper
	// Remote are more options for go-containerregistry's remote (as
	// update/updater's Updater.Remote), applied after the others.
	Remote []remote.Option
}

// Result says what accepted an image.
type Result struct {
	// Scope is the policy scope that applied: default or
	// transports.docker["SCOPE"].
	Scope string
	// Digest is the manifest digest the signatures were checked for
	// (the tag's when Verify was given a tag: pull by it); "" when no
	// requirement needed a signature.
	Digest string
	// Key names the key that verified the signature (its path, keyData
	// or keyDatas[I]) and Identity is the docker reference the signature
	// claims, of the last sigstoreSigned requirement; "" when none.
	Key, Identity string
}

// RejectedError is the error of an image the policy refuses.
type RejectedError struct {
	Policy string // the policy file
	Scope  string // the scope that applied, as Result.Scope
	Image  string // the image, as given to Verify
	Reason string
}

// Error says which policy file and scope rejects which image, and why.
func (e *RejectedError) Error() string {
	return fmt.Sprintf("policy %s (%s) rejects %s: %s", e.Policy, e.Scope, e.Image, e.Reason)
}

// signature is a payload of the attachment and its annotations.
type signature struct {
	blob        string // digest
	payload     []byte
	annotations map[string]string
}

// Verify evaluates the policy for image, a docker reference
// HOST/REPO@sha256:HEX or HOST/REPO[:TAG] (docker:// allowed; no tag
// means latest), fetching its signatures when a requirement needs them.
// It returns what accepted the image, a *RejectedError when the policy
// refuses it, or another error when it could not be evaluated.
func (p *Policy) Verify(ctx context.Context, image string, o Options) (*Result, error) {
	n, err := parseName(strings.TrimPrefix(image, "docker://"))
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", image, err)
	}
	switch {
	case n.tag != "" && n.digest != "":
		return nil, fmt.Errorf("verify %s: both a tag and a digest", image)
	case n.tag == "" && n.digest == "":
		n.tag = "latest"
	}
	scope, reqs := p.requirements(n)
	res := &Result{Scope: scope}
	reject := func(reason string) error {
		return &RejectedError{Policy: p.path, Scope: scope, Image: image, Reason: reason}
	}
	var sigs []signature
	for i, r := range reqs {
		switch {
		case r.unsupported != "":
			return nil, reject(fmt.Sprintf("requirement %d (%s): %s", i+1, r.typ, r.unsupported))
		case r.typ == typeAccept:
		case r.typ == typeReject:
			return nil, reject("the policy rejects all images here (type reject)")
		case r.typ == typeSigstore:
			if res.Digest == "" {
				if res.Digest, sigs, err = fetch(ctx, n, o); err != nil {
					return nil, fmt.Errorf("verify %s: %w", image, err)
				}
			}
			keys, err := r.loadKeys()
			if err != nil {
				return nil, fmt.Errorf("policy %s (%s): %w", p.path, scope, err)
			}
			if err := accept(res, sigs, keys, r.identity, n); err != nil {
				return nil, reject(err.Error())
			}
		}
	}
	return res, nil
}

// accept checks the signatures until one is accepted, and sets the
// Result's Key and Identity from it.
func accept(res *Result, sigs []signature, keys []publicKey, id identityMatch, n imageName) error {
	if len(sigs) == 0 {
		return errors.New("a signature is required, but there is none")
	}
	why := make([]string, 0, len(sigs))
	for i, s := range sigs {
		key, identity, err := check(s, keys, id, n, res.Digest)
		if err == nil {
			res.Key, res.Identity = key, identity
			return nil
		}
		why = append(why, fmt.Sprintf("signature %d (%s): %v", i+1, s.blob, err))
	}
	return errors.New("no signature accepted: " + strings.Join(why, "; "))
}

// publicKey is a key of a requirement and its name.
type publicKey struct {
	name string
	key  crypto.PublicKey
}

func (r *requirement) loadKeys() ([]publicKey, error) {
	keys := make([]publicKey, 0, len(r.keys))
	for _, k := range r.keys {
		data := k.data
		if k.path != "" {
			var err error
			if data, err = readFile(k.path, MaxKeySize); err != nil {
				return nil, fmt.Errorf("public key: %w", err)
			}
		}
		pub, err := parseKey(data)
		if err != nil {
			return nil, fmt.Errorf("public key %s: %w", k.name, err)
		}
		keys = append(keys, publicKey{name: k.name, key: pub})
	}
	return keys, nil
}

// parseKey parses a PEM "PUBLIC KEY": ECDSA, Ed25519 or RSA.
func parseKey(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New(`no PEM "PUBLIC KEY" block`)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	switch pub.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey, *rsa.PublicKey:
		return pub, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", pub)
}

// verifySignature reports whether sig signs payload with key, as
// sigstore's verifiers with SHA-256 do (containers/image's): ECDSA ASN.1
// (or else IEEE P1363, r‖s), Ed25519 of the payload itself, RSA PKCS #1
// v1.5.
func verifySignature(key crypto.PublicKey, payload, sig []byte) bool {
	h := sha256.Sum256(payload)
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(sig, &rs); err == nil {
			return ecdsa.VerifyASN1(k, h[:], sig)
		}
		n := len(sig) / 2
		return n > 0 && len(sig) <= 132 && len(sig)%2 == 0 &&
			ecdsa.Verify(k, h[:], new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:]))
	case ed25519.PublicKey:
		return ed25519.Verify(k, payload, sig)
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) == nil
	}
	return false
}

// check verifies one signature for the image n of digest d, and returns
// the name of the key that verified it and the identity it claims.
func check(s signature, keys []publicKey, id identityMatch, n imageName, d string) (key, identity string, err error) {
	b64, ok := s.annotations[signatureAnnotation]
	if !ok {
		return "", "", fmt.Errorf("no %s annotation", signatureAnnotation)
	}
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", "", fmt.Errorf("signature not base64: %w", err)
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
		if key == "" && verifySignature(k.key, s.payload, sig) {
			key = k.name
		}
	}
	if key == "" {
		return "", "", fmt.Errorf("not signed by the key %s", strings.Join(names, " nor "))
	}
	var p struct {
		Critical struct {
			Identity struct {
				DockerReference string `json:"docker-reference"`
			} `json:"identity"`
			Image struct {
				DockerManifestDigest string `json:"docker-manifest-digest"`
			} `json:"image"`
			Type string `json:"type"`
		} `json:"critical"`
		Optional json.RawMessage `json:"optional"`
	}
	dec := json.NewDecoder(bytes.NewReader(s.payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return "", "", fmt.Errorf("payload: %w", err)
	}
	signed := p.Critical.Identity.DockerReference
	switch {
	case p.Optional == nil:
		return "", "", errors.New(`payload: no "optional"`)
	case p.Critical.Type != signatureType:
		return "", "", fmt.Errorf("payload type %q, not %q", p.Critical.Type, signatureType)
	case p.Critical.Image.DockerManifestDigest != d:
		return "", "", fmt.Errorf("signs the digest %q, not %s", p.Critical.Image.DockerManifestDigest, d)
	case !id.matches(n, signed):
		return "", "", fmt.Errorf("signs the identity %q, which %s does not accept for %s", signed, id.typ, n)
	}
	return key, signed, nil
}

// fetch returns the manifest digest of n (resolving its tag) and the
// signatures of its attachment, none when it has none.
func fetch(ctx context.Context, n imageName, o Options) (string, []signature, error) {
	var nopts []name.Option
	if o.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	ro := []remote.Option{remote.WithContext(ctx)}
	if o.Keychain != nil {
		ro = append(ro, remote.WithAuthFromKeychain(o.Keychain))
	} else {
		ro = append(ro, remote.WithAuth(authn.Anonymous))
	}
	if o.Transport != nil {
		ro = append(ro, remote.WithTransport(o.Transport))
	}
	ro = append(ro, o.Remote...)
	repo, err := name.NewRepository(n.repo, nopts...)
	if err != nil {
		return "", nil, err
	}
	d := n.digest
	if d == "" {
		desc, err := remote.Get(repo.Tag(n.tag), ro...)
		if err != nil {
			return "", nil, fmt.Errorf("resolve tag: %w", err)
		}
		d = desc.Digest.String()
	}
	h, err := v1.NewHash(d)
	if err != nil || h.Algorithm != "sha256" {
		return "", nil, fmt.Errorf("digest %s: want sha256", d)
	}
	att := repo.Tag("sha256-" + h.Hex + ".sig")
	desc, err := remote.Get(att, ro...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return d, nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("read signatures %s: %w", att, err)
	}
	if len(desc.Manifest) > MaxAttachmentSize {
		return "", nil, fmt.Errorf("signatures %s: manifest of %d bytes, more than %d", att, len(desc.Manifest), MaxAttachmentSize)
	}
	if desc.MediaType != types.OCIManifestSchema1 {
		return "", nil, fmt.Errorf("signatures %s: media type %q, not an OCI image manifest", att, desc.MediaType)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return "", nil, fmt.Errorf("signatures %s: %w", att, err)
	}
	var sigs []signature
	for _, l := range m.Layers {
		if l.MediaType != payloadMediaType {
			continue
		}
		if len(sigs) == MaxSignatures {
			return "", nil, fmt.Errorf("signatures %s: more than %d", att, MaxSignatures)
		}
		blob := repo.Digest(l.Digest.String())
		if l.Size > MaxPayloadSize {
			return "", nil, fmt.Errorf("signature %s: %d bytes, more than %d", blob, l.Size, MaxPayloadSize)
		}
		payload, err := readBlob(blob, ro)
		if err != nil {
			return "", nil, fmt.Errorf("signature %s: %w", blob, err)
		}
		sigs = append(sigs, signature{blob: l.Digest.String(), payload: payload, annotations: l.Annotations})
	}
	return d, sigs, nil
}

// readBlob reads a blob of at most MaxPayloadSize bytes; go-containerregistry
// checks its digest at its end.
func readBlob(blob name.Digest, ro []remote.Option) ([]byte, error) {
	l, err := remote.Layer(blob, ro...)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxPayloadSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPayloadSize {
		return nil, fmt.Errorf("more than %d bytes", MaxPayloadSize)
	}
	return b, nil
}
