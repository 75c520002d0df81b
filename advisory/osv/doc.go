// Package osv reads OSV advisories (ossf.github.io/osv-schema): single
// JSON files, directories of them, and osv.dev's per-ecosystem all.zip,
// into advisory.Advisory values with their affected packages, ranges,
// CVE aliases, links and a dnf-style severity derived from CVSS vectors.
package osv
