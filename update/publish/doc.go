// Package publish pushes a tested module image to a registry so that a
// crash never leaves a tag on a half-pushed or unsigned image, records in
// the image what it was built from, and signs it the way podman verifies.
//
// Annotate sets the image's labels (the update.Label* keys and the OCI
// image spec's org.opencontainers.image.created) in its configuration and
// the same as manifest annotations.
//
// Publisher.Publish writes, in order: the blobs and the manifest by
// digest; an immutable tag TAG-N, N one more than the highest TAG-N the
// repository lists; with a Signer, a sigstore signature stored as an OCI
// attachment (tag sha256-HEX.sig, as containers/image writes with
// use-sigstore-attachments and cosign reads); and only last the moving
// tag TAG. A failure at any step leaves the moving tag where it was, and
// the next Publish of the same image finishes the job: the blobs and the
// manifest are already there, the immutable tag is reused when the
// highest TAG-N names the image, and a signature already attached is not
// added again.
//
// One publisher per repository: the registry API has no conditional tag
// write, so two publishers racing may pick the same N.
package publish
