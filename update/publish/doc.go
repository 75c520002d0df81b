// Package publish pushes a tested module image to a registry so that a
// crash never leaves a tag on a half-pushed or unsigned image, records in
// the image what it was built from, and signs it the way podman verifies.
//
// Annotate sets the image's labels (the update.Label* keys and the OCI
// image spec's org.opencontainers.image.created) in its configuration and
// the same as manifest annotations. Publisher.Current gives the digest
// the moving tag names now, the record's Previous.
//
// Publisher.Publish is the build service's last step, called with an
// image the gate passed. It writes, in order: the blobs and the manifest
// by digest; an immutable tag TAG-N, N one more than the highest TAG-N
// the repository lists (numbers, not dates: they sort, and two runs in one
// second cannot collide); with a Signer, a sigstore signature stored as an
// OCI attachment; and only last the moving tag TAG. A failure at any step
// (a registry that is down or refuses a write, a process killed) leaves
// the moving tag where it was, and the next Publish of the same image
// finishes the job without cleanup: the blobs and the manifest are
// already there, the immutable tag is reused when the highest TAG-N names
// the image, and a signature already attached is not added again.
//
// One publisher per repository: the registry API has no conditional tag
// write, so two publishers racing may pick the same N.
//
// # Signatures
//
// The signing key is a recipe's sign-key: a PEM private key as
// `cosign generate-key-pair` writes it (ENCRYPTED SIGSTORE PRIVATE KEY),
// or an unencrypted PKCS #8 one; LoadSigner reads its passphrase from a
// file's first line, as `podman push --sign-passphrase-file` does.
//
// Each published image gets two signatures, one claiming the moving tag
// (HOST/REPO:TAG) and one the immutable tag: a sigstoreSigned policy with
// the default signedIdentity (matchRepoDigestOrExact) accepts a pull by
// either tag or by digest. The claims name the registry as the publisher
// addressed it: pull it under the same name.
//
// The attachment is what containers/image writes and reads with
// use-sigstore-attachments, and cosign too: an OCI image manifest tagged
// sha256-HEX.sig (SignatureTag) whose layers are the payloads (simple
// signing JSON, Payload), media type SimpleSigningMediaType, each with
// its base64 signature in the SignatureAnnotation annotation. podman
// verifies it with, in registries.d (/etc/containers/registries.d, or
// $HOME/.config/containers/registries.d when that exists):
//
//	docker:
//	  registry.example.com:
//	    use-sigstore-attachments: true
//
// and in policy.json:
//
//	{"default": [{"type": "reject"}],
//	 "transports": {"docker": {"registry.example.com": [
//	   {"type": "sigstoreSigned", "keyPath": "/etc/alicorn/sign.pub",
//	    "signedIdentity": {"type": "matchRepoDigestOrExact"}}]}}}
//
// Debian 12's podman 4.3 reads such attachments but neither makes nor
// verifies sigstore signatures (its containers/image answers
// "Debian-local change: sigstore disabled"); upstream podman does. So the
// tests exercise the verification itself with upstream containers/image,
// the library podman pull verifies with: testdata/sigverify, a command
// in its own module (the package does not depend on containers/image),
// built without cgo, runs copy.Image from the registry under such a
// registries.d and policy.json, exactly as podman pull does, and must
// accept a published image by either tag and by digest and refuse an
// unsigned one and one a policy with another key names
// (TestContainersImageVerifies). TestPodmanVerifies checks what Debian's
// podman can: that it finds and reads the attachment.
// On such a host the updater verifies the signature itself, under the
// host's policy.json, with update/trust (whose tests check its decisions
// against testdata/sigverify's).
package publish
