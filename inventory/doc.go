// Package inventory describes what is installed: a Package identified by a
// package URL, where it was found (Location), and the Extractor interface
// that ecosystems implement to find packages in a file tree. Scan walks a
// tree once and hands each file to the extractors that want it.
package inventory
