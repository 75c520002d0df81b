// Package oci reads container images as file trees: an image from an OCI
// layout, an oci-archive, a docker-archive, a registry or podman's local
// storage (Open), flattened into one read-only fs.FS (Flatten) the way a
// container sees it: whiteouts and opaque directories applied, hard and
// symbolic links resolved inside the image root and never out of it, and
// every file tagged with the layer that last wrote it.
//
// Every blob is checked against the digest it is named by, in its own
// algorithm (sha256, sha512): indexes, manifests and configurations as they
// are read, layers as they are streamed (their bytes, and their
// uncompressed contents against the configuration's diff IDs); a mismatch
// is an ErrDigest naming the blob.
//
// Layers are streamed once, top layer first; only the contents a caller
// asks for are kept, in memory (or, with Options.SpillDir, the large ones
// in a temporary file that FS.Close removes). Hostile layers (paths that climb out of
// the root, link loops, huge sizes) fail with an error naming the layer.
package oci
