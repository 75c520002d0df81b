// Command npm scans a directory or a container image for Python, Ruby,
// Java and — added from outside alicorn's core, by package npm beside
// this file — npm packages, and prints the OSV advisories that affect
// them:
//
//	go run ./examples/npm -osv FEED [-osv FEED...] DIR|IMAGE
//
// FEED is an OSV JSON file, a directory of them or an all.zip; IMAGE is
// an image reference with its transport (oci:DIR, docker-archive:FILE…).
// Nothing in the core packages knows npm: the example puts
// npm.Ecosystem{} in the Set with the core ecosystems.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/alicorn-dev/alicorn"
	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/ecosystems/gem"
	"github.com/alicorn-dev/alicorn/ecosystems/maven"
	"github.com/alicorn-dev/alicorn/ecosystems/pypi"
	"github.com/alicorn-dev/alicorn/examples/npm/npm"
)

type feeds []string

func (f *feeds) String() string     { return strings.Join(*f, ",") }
func (f *feeds) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	var list feeds
	flag.Var(&list, "osv", "OSV feed: a JSON file, a directory or an all.zip (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 || len(list) == 0 {
		fmt.Fprintln(os.Stderr, "usage: npm -osv FEED [-osv FEED...] DIR|IMAGE")
		os.Exit(2)
	}
	if err := run(context.Background(), flag.Arg(0), list); err != nil {
		fmt.Fprintln(os.Stderr, "npm:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, target string, feeds []string) error {
	set, err := ecosystems.NewSet(pypi.Ecosystem{}, gem.Ecosystem{}, maven.Ecosystem{}, npm.Ecosystem{})
	if err != nil {
		return err
	}
	// A directory is scanned as a root, anything else opened as an image;
	// no repositories: only the OSV feeds are asked.
	opts := alicorn.Options{Image: target, OSV: feeds, Ecosystems: set, Repos: alicorn.Repos{Dirs: []string{}}}
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		abs, err := filepath.Abs(target)
		if err != nil {
			return err
		}
		opts.Image, opts.Root, opts.ScanRoot = "", abs, true
	}
	sys, err := alicorn.Open(ctx, opts)
	if err != nil {
		return err
	}
	defer sys.Close()
	rep, err := sys.Report(ctx, alicorn.Query{})
	if err != nil {
		return err
	}
	found := rep.Host.Other
	for _, v := range found.Vulnerable {
		p := found.Packages[v.Package]
		fixed := v.Fixed
		if fixed == "" {
			fixed = "-"
		}
		fmt.Printf("%s\t%s\t%s\t%s\tfixed %s\t%s\n", p.PURL, v.Advisory.ID, strings.Join(v.Advisory.Aliases, ","),
			v.Advisory.Severity, fixed, p.Locations[0].Path)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(os.Stderr, "npm: warning:", w) // files that could not be read, named; the rest is reported
	}
	fmt.Fprintf(os.Stderr, "%d packages, %d findings\n", len(found.Packages)+len(found.Owned), len(found.Vulnerable))
	return nil
}
