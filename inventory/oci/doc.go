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
// Layers are streamed once, top layer first (a layer is read a second
// time only when a wanted name is a hard link to a file of the same layer
// whose contents were not kept); only the contents a caller asks for, and
// those of the files wanted names are hard links to, are kept, in memory
// (or, with Options.SpillDir, the large ones in a temporary file that
// FS.Close removes). Hostile layers (paths that climb out of the root,
// link loops, huge sizes, paths of a hundred thousand parts) fail with an
// error naming the layer or cost time linear in their size; a cancelled
// context stops Flatten within the 64 KiB being read, even inside one
// entry of many gigabytes.
package oci
