// Package service is the module build service: for each module with a
// recipe it checks whether the published image needs a rebuild
// (update.Check), rebuilds it (update/rebuild, with the recipe's
// Containerfile layers), tests it (an update.Gate such as gate.Podman),
// records the build in its labels and annotations (publish.Annotate) and
// publishes it (an update.Publisher such as publish.Publisher), under a
// per-module lock, logging every step with its reason. Watch does so
// every interval until stopped.
package service
