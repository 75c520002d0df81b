// Package hostile generates hostile inputs for tests, benchmarks and
// probes: container images (OCI layout directories and oci-archive
// files) written from in-memory layer descriptions, with deep paths,
// large zero-filled files, hard links and zip bombs; nested-jar bombs;
// HTTP servers on the loopback interface that stall or never end; and
// ways to damage a cache file.
//
// Every size is a parameter: tests use small ones, probes the sizes of
// the attacks they reproduce. The generators stream what they write
// (zeros come from a reader, through the compressors), so their own
// memory stays small whatever the size asked for.
package hostile
