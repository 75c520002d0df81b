// Package ecosystems defines what a packaging ecosystem plugs into
// alicorn: its package URL type, its name in OSV feeds, its version order
// and the extractors that find its packages in a file tree. A Set holds
// the ecosystems a scan uses; there is no global registry, so a third
// party's ecosystem is added by putting it in the Set. An ecosystem whose
// OSV package names are not its purl names as written implements Namer.
// Package ecosystemtest is the conformance suite each one runs.
package ecosystems
