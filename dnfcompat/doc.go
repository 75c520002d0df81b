// Package dnfcompat is dnf 4.14's updateinfo command line: the same
// options, command words and aliases, the same output on stdout and the
// same exit status, for a host or an --installroot. It adds --with-links
// (update notice URLs), --json (a versioned schema for CI) and --fail-on
// (a non-zero exit when security advisories of a given severity apply),
// and it fails loudly where dnf would quietly report nothing from
// metadata it could not read.
package dnfcompat
