// Package trust verifies a module image's sigstore signature under the
// host's containers policy (/etc/containers/policy.json) before the
// updater runs it, as podman pull would with upstream containers/image.
// Debian 12's podman 4.3 cannot: its containers/image has sigstore
// patched out, so a policy that requires sigstore signatures is not
// enforced by the pull itself.
//
// LoadPolicy (or ParsePolicy) reads the policy; Policy.Verify evaluates
// it for an image reference, fetching the signatures from the registry
// with go-containerregistry and checking them with the standard
// library's crypto. Verify returns a Result saying what accepted the
// image, or an error; a *RejectedError when the policy refuses the image
// (unsigned, wrong key, a signature of another digest or identity, a
// reject requirement, a requirement this package does not support), any
// other error when it could not decide (registry unreachable, unreadable
// key file). Either way the image must not be run. Pull the image by the
// Result's Digest when Verify was given a tag.
//
// # Policy subset
//
// The file is parsed as strictly as containers/image does: unknown or
// duplicate keys, an empty requirement list, a missing "default" and an
// unknown requirement type fail the whole policy. Only the docker
// transport is evaluated (transports.docker, then default); the scopes of
// other transports are parsed and ignored. The scope is chosen as
// containers/image chooses it, the most specific first: HOST/REPO:TAG or
// HOST/REPO@DIGEST, HOST/REPO and its parent namespaces, HOST[:PORT],
// the wildcards *.DOMAIN of the host's parent domains, "" (the
// transport's default), and last "default". Docker Hub names are
// normalized as docker.io/library/NAME. All requirements of the scope
// must accept the image.
//
// Requirement types:
//
//   - insecureAcceptAnything accepts.
//   - reject refuses.
//   - sigstoreSigned with exactly one of keyPath, keyPaths, keyData or
//     keyDatas (PEM "PUBLIC KEY": ECDSA, Ed25519 or RSA; SHA-256, as
//     sigstore's verifiers that containers/image uses) and a
//     signedIdentity: matchRepoDigestOrExact (the default), matchExact,
//     matchRepository, exactReference, exactRepository or remapIdentity.
//     At least one signature must verify with one of the keys, name the
//     image's manifest digest and an identity the signedIdentity matches,
//     and have type "cosign container image signature". Key files are
//     read when a requirement is evaluated, as containers/image does.
//   - sigstoreSigned with fulcio, pki or rekorPublicKey*, signedBy (GPG)
//     and signedBaseLayer parse, but evaluating them fails closed: the
//     image is refused with a "not supported" RejectedError. (Fedora's
//     default policy has signedBy scopes for Red Hat's registries: they
//     do not prevent verifying images of other registries.)
//
// # Signatures
//
// Signatures are read from the sigstore attachment, as
// containers/image reads them with use-sigstore-attachments (and as
// update/publish writes them): the OCI image manifest tagged
// sha256-HEX.sig in the image's repository, whose layers of media type
// application/vnd.dev.cosign.simplesigning.v1+json are the payloads, each
// with its base64 signature in the annotation
// dev.cosignproject.cosign/signature. Attachments are always looked for:
// registries.d is not read, so use-sigstore-attachments need not be set
// (containers/image finds no signature without it), and lookaside
// signature stores are not consulted.
//
// What is read is bounded: the policy file (MaxPolicySize), key files,
// the attachment manifest, the number of signatures and each payload
// (see the constants); more is an error naming the file or blob.
//
// # Differences from containers/image
//
// TestOracle checks that Verify decides as containers/image does for
// policies of each supported kind and images signed, unsigned, forged,
// tampered and mirrored. Known differences: registries.d is not read
// (above); the fields of unsupported requirements are not validated; a
// signed payload's "optional" part is not checked, and its keys are
// matched as encoding/json matches them (ignoring case, the last of
// duplicates), where containers/image refuses a non-integer timestamp,
// other cases and duplicates (the payload is signed by a trusted key
// either way); the bounds above are errors, and only the simple signing
// layers of an attachment are read (containers/image fetches them all).
package trust
