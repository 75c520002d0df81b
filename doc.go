// Package alicorn tells a Fedora-style host, and the container-based
// modules running on it, which security updates they need.
//
// Open reads a root (a directory or a container image): its installed
// packages, its dnf repositories and the modules deployed on it. Report
// then matches them against the repositories' advisories exactly as dnf
// 4.14's updateinfo does, and each module's image (RPMs, and with OSV
// feeds its gems, wheels and jars) the same way:
//
//	sys, err := alicorn.Open(ctx, alicorn.Options{Root: "/"})
//	if err != nil { ... }
//	defer sys.Close()
//	rep, err := sys.Report(ctx, alicorn.Query{Filter: match.Filter{Types: []string{"security"}}})
//	for _, f := range rep.Host.Findings { ... }
//
// The report is data: the report package renders it as dnf prints it,
// dnfcompat takes dnf's command line, and examples/dnf-security is the
// command.
package alicorn
