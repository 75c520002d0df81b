package publish

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// The sigstore attachment format, as containers/image writes it with
// use-sigstore-attachments (docker_image_dest.go,
// putSignaturesToSigstoreAttachments) and reads it for a sigstoreSigned
// policy, and as cosign does: an OCI image manifest tagged
// sha256-HEX.sig, one layer per signature. The layer's blob is the
// payload (simple signing JSON, from sigstore's payload package), its
// media type SimpleSigningMediaType, and its descriptor's annotation
// SignatureAnnotation the signature of the blob, base64. No library of
// the field writes this manifest without its registry client
// (containers/image's copy, cosign's oci/remote), so it is assembled here
// with go-containerregistry.
const (
	// SimpleSigningMediaType is the media type of a signature's payload
	// layer.
	SimpleSigningMediaType types.MediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// SignatureAnnotation holds a layer's signature (base64).
	SignatureAnnotation = "dev.cosignproject.cosign/signature"
	// signatureCreator is the payload's optional.creator.
	signatureCreator = "alicorn"
)

// PEM block types of sigstore private keys: encrypted (scrypt and NaCl
// secretbox, go-securesystemslib's "encrypted" format) as
// `cosign generate-key-pair` and containers/image's
// sigstore.GenerateKeyPair write them, under the current and the older
// cosign name; and an unencrypted PKCS #8 key.
const (
	pemSigstoreKey = "ENCRYPTED SIGSTORE PRIVATE KEY"
	pemCosignKey   = "ENCRYPTED COSIGN PRIVATE KEY"
	pemPKCS8       = "PRIVATE KEY"
)

// Signer signs images with a sigstore private key, as
// `podman push --sign-by-sigstore-private-key` does.
type Signer struct {
	s   signature.Signer
	pub crypto.PublicKey
}

// NewSigner returns the Signer of a PEM private key: an encrypted
// sigstore (or cosign) key, opened with passphrase, or an unencrypted
// PKCS #8 key (passphrase unused). ECDSA (cosign's and skopeo's keys are
// P-256), Ed25519 and RSA keys sign as podman's sigstoreSigned policy
// verifies them: sigstore's signer with SHA-256.
func NewSigner(keyPEM, passphrase []byte) (*Signer, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("sign key: no PEM block")
	}
	der := block.Bytes
	switch block.Type {
	case pemSigstoreKey, pemCosignKey:
		var err error
		der, err = encrypted.Decrypt(block.Bytes, passphrase)
		if err != nil {
			return nil, fmt.Errorf("sign key: decrypt (wrong passphrase?): %w", err)
		}
	case pemPKCS8:
	default:
		return nil, fmt.Errorf("sign key: PEM type %q: want %q or %q", block.Type, pemSigstoreKey, pemPKCS8)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("sign key: %w", err)
	}
	s, err := signature.LoadSigner(priv, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign key: %w", err)
	}
	pub, err := s.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("sign key: %w", err)
	}
	return &Signer{s: s, pub: pub}, nil
}

// LoadSigner reads the private key file keyPath (a recipe's sign-key) and
// opens it with the passphrase in passphraseFile, as podman's
// --sign-passphrase-file reads one: the file's first line ("" for
// none: an unencrypted key, or an encrypted one with an empty
// passphrase).
func LoadSigner(keyPath, passphraseFile string) (*Signer, error) {
	key, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("sign key: %w", err)
	}
	var pass []byte
	if passphraseFile != "" {
		b, err := os.ReadFile(passphraseFile)
		if err != nil {
			return nil, fmt.Errorf("sign key %s: passphrase: %w", keyPath, err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		pass = []byte(strings.TrimSuffix(line, "\r"))
	}
	s, err := NewSigner(key, pass)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	return s, nil
}

// PublicKeyPEM returns the public key a sigstoreSigned policy names
// (keyPath), PEM "PUBLIC KEY".
func (s *Signer) PublicKeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(s.pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// Payload returns the simple signing payload that claims the image of
// manifest digest d is identity (a docker reference, HOST/REPO:TAG):
// critical.identity.docker-reference, critical.image.docker-manifest-digest,
// critical.type "cosign container image signature", optional.creator.
// It has no timestamp, so the same claim is the same payload: a signature
// already attached is recognised.
func Payload(identity name.Reference, d v1.Hash) ([]byte, error) {
	return payload.Cosign{
		Image:           identity.Context().Digest(d.String()),
		ClaimedIdentity: identity.Name(),
		Annotations:     map[string]any{"creator": signatureCreator},
	}.MarshalJSON()
}

// SignatureTag returns the tag of the attachment that holds the
// signatures of manifest digest d: ALG-HEX.sig.
func SignatureTag(repo name.Repository, d v1.Hash) name.Tag {
	return repo.Tag(d.Algorithm + "-" + d.Hex + ".sig")
}

// attach signs the image of digest d under each identity and adds the
// signatures to its attachment in repo, keeping those already there;
// identities already signed (the same payload) are not signed again.
func (s *Signer) attach(ctx context.Context, repo name.Repository, d v1.Hash, identities []name.Reference, opts []remote.Option) error {
	sigTag := SignatureTag(repo, d)
	base, err := remote.Image(sigTag, opts...)
	var terr *transport.Error
	switch {
	case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
		base = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	case err != nil:
		return fmt.Errorf("read signatures %s: %w", sigTag, err)
	}
	m, err := base.Manifest()
	if err != nil {
		return fmt.Errorf("read signatures %s: %w", sigTag, err)
	}
	have := map[v1.Hash]bool{}
	for _, l := range m.Layers {
		if l.MediaType == SimpleSigningMediaType {
			have[l.Digest] = true
		}
	}
	var adds []mutate.Addendum
	for _, id := range identities {
		p, err := Payload(id, d)
		if err != nil {
			return fmt.Errorf("sign %s: %w", id, err)
		}
		layer := static.NewLayer(p, SimpleSigningMediaType)
		ld, err := layer.Digest()
		if err != nil {
			return err
		}
		if have[ld] {
			continue
		}
		have[ld] = true
		sig, err := s.s.SignMessage(bytes.NewReader(p))
		if err != nil {
			return fmt.Errorf("sign %s: %w", id, err)
		}
		adds = append(adds, mutate.Addendum{
			Layer:       layer,
			MediaType:   SimpleSigningMediaType,
			Annotations: map[string]string{SignatureAnnotation: base64.StdEncoding.EncodeToString(sig)},
		})
	}
	if len(adds) == 0 {
		return nil
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return fmt.Errorf("sign %s: %w", sigTag, err)
	}
	if err := remote.Write(sigTag, img, opts...); err != nil {
		return fmt.Errorf("write signatures %s: %w", sigTag, err)
	}
	return nil
}
