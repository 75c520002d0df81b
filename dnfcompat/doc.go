// Package dnfcompat is dnf 4.14's updateinfo command line over the
// alicorn library: it turns dnf's options, command words and aliases into
// alicorn.Options and an alicorn.Query, and renders the alicorn.Report with
// the report package exactly as dnf prints it (stdout and exit status), for
// a host, an --installroot or an --image. It adds --with-links (update
// notice URLs), --json (a versioned schema for CI) and --fail-on (a
// non-zero exit when security advisories of a given severity apply). It
// computes nothing itself.
package dnfcompat
