// Package update is the update side's vocabulary: a Plan says what a
// module (or the host) needs and why, the label keys a published image
// records its build in, and the interfaces an update runs over: a
// Runtime runs a module's containers (Instances, Start, Remove…) and a
// Front holds its public address (Add after a health check, Drain,
// Stats).
//
// Its subpackages do the work. Building: rebuild composes an image from
// a module's recipe, gate tests a candidate image, publish pushes and
// signs it, service ties them together (Check, Build). Applying: trust
// verifies an image's signature under the host's containers policy
// (Debian's podman does not verify sigstore signatures), podman is the
// Runtime on one host, front the built-in front (and front/haproxy an
// HAProxy driven through its runtime API), rollout the strategies, the
// journal and the automatic rollback, kube the same on a Kubernetes
// cluster (Deployments rolled out, watched and undone), and updater
// what module-update does: status, dnf's filters, apply, rollback,
// recover.
package update
