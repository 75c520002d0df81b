// Package report renders findings as dnf 4.14's updateinfo command prints
// them (summary, list and info, byte for byte), with optional links to the
// update notices, and as versioned JSON for CI.
package report
