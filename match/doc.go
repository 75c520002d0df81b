// Package match finds which advisories apply to installed packages. DNF
// applies dnf 4's rules for RPM advisories: an advisory's package applies
// to an installed package of the same name and exactly the same arch, and
// the EVR comparison depends on the mode (available, installed, updates,
// all); collections tied to modules count only for active module streams.
// OSV applies OSV advisories to the packages of other ecosystems (gems,
// Python distributions, Maven artifacts): ECOSYSTEM ranges in each
// ecosystem's own version order, SEMVER ranges, versions lists.
// It prints nothing: reports are rendered elsewhere.
package match
