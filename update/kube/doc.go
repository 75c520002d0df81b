// Package kube runs modules on Kubernetes with the lifecycle they have
// on a host: reported, rolled out, rolled back by themselves.
//
// Manifests turns a module file into a Deployment (its served
// container's replicas, the image by digest, a readiness probe from
// [health], a rolling update that never goes below the desired count,
// the ready timeout as the progress deadline) and a Service in front of
// it; ForPodman is the Deployment podman kube play runs on one host.
//
// Rollout is the second runtime of update/updater: it server-side
// applies the new image, watches the rollout through informers (the
// Deployment's conditions, its ReplicaSets, the new pods), and when a
// new pod never gets ready, crashes, or fails within the watch window,
// or the progress deadline passes, puts the previous revision's pod
// template back as kubectl rollout undo does; Kubernetes alone would
// leave the rollout stuck. It keeps the host's lock, journal, committed
// digests and remembered failures (update/rollout's State), so recover
// finishes or undoes an update whose updater was killed. Connect finds a
// cluster as kubectl does.
package kube
