// Package kube runs modules on Kubernetes: Manifests turns a module file
// into a Deployment (its served container's replicas, the image by
// digest, a readiness probe from [health], a rolling update that never
// goes below the desired count) and a Service in front of it, the same
// lifecycle as under podman, on a real cluster.
package kube
