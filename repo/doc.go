// Package repo reads dnf repository configuration (.repo files,
// --repofrompath, $releasever and $basearch) and a repository's metadata:
// repomd.xml, then the files it lists (updateinfo, primary), fetched from
// file://, http:// or https:// URLs (or a metalink or mirrorlist),
// verified against repomd's checksums, decompressed (gzip, xz, bzip2,
// zstd) and cached by checksum.
package repo
