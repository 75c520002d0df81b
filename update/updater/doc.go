// Package updater is what examples/module-update does, as calls: the
// status of a module (the digest it runs, the newest one published under
// its image's tag and the advisories in between, from the labels the
// build service writes), the choice of updates with dnf's filters, and
// apply, rollback and recover: pull by digest, verify the signature under
// the host's policy, then roll out with update/rollout over podman and
// the module's front.
package updater
