// Package index stores parsed advisories in a compact binary file, so
// that a repository's updateinfo is parsed once per checksum and then
// loaded in milliseconds. Files end with a CRC-32C of their content: a
// truncated or damaged file is reported as ErrCorrupt (callers re-parse),
// never decoded in part.
package index
