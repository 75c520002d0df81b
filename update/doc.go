// Package update is the update side's vocabulary: a Plan says what a
// module (or the host) needs and why, and the label keys a published
// image records its build in. Its subpackages do the work: rebuild
// composes an image from a module's recipe, gate tests a candidate
// image, publish pushes and signs it; the build service (Check, Build)
// ties them together. On the host, trust verifies an image's signature
// under the host's containers policy before the updater runs it (Debian's
// podman does not verify sigstore signatures).
package update
