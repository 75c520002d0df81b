// Package modularity reads RPM modularity metadata: the module streams and
// defaults a repository's modules.yaml declares, and a root's module
// state (/etc/dnf/modules.d). Active works out which streams dnf treats
// as active, so that advisory collections tied to modules apply only
// where dnf would apply them.
package modularity
