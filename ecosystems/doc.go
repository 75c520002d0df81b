// Package ecosystems defines what a packaging ecosystem plugs into
// alicorn: its package URL type, its name in OSV feeds, its version order
// and the extractors that find its packages in a file tree. A Set holds
// the ecosystems a scan uses; there is no global registry, so a third
// party's ecosystem is added by putting it in the Set.
package ecosystems
