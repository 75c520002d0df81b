// Package module reads the deployment file of alicorn's container-based modules: a TOML file per
// module names it, its image, the containers that run the image (ports,
// volumes), a health check and an update policy. Modules are found in a
// directory (LoadDir) or discovered from podman containers labelled
// io.alicorn.module=NAME (FromPodman), or from a Kubernetes cluster's
// Deployments labelled so (package module/kubemodules).
package module
