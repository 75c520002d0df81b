// Package updateinfo reads a repository's updateinfo.xml (plain or
// compressed with gzip, xz, bzip2 or zstd) into advisories, exactly as
// libsolv reads it for dnf: the same elements and attributes, the same
// treatment of unknown elements, text, package EVRs and dates. It streams:
// memory holds one advisory at a time (Parse), or a few parts of the
// document parsed at once on every core (ParseParts), not a document tree.
package updateinfo
