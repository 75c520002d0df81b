// Package podman is the update side's runtime for one host: a module's
// containers run under podman, labelled with the module, their name in
// the module file and their image's digest (update.LabelContainer,
// update.LabelDigest), so that the rollout finds them again after a
// crash, and the reporter's podman discovery (module.FromPodman) sees
// them. A served container publishes its serve port on a free loopback
// port, which the front sends requests to.
package podman
