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
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/advisory/osv"
	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/ecosystems/gem"
	"github.com/alicorn-dev/alicorn/ecosystems/maven"
	"github.com/alicorn-dev/alicorn/ecosystems/pypi"
	"github.com/alicorn-dev/alicorn/examples/npm/npm"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/oci"
	"github.com/alicorn-dev/alicorn/match"
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
	var advs []*advisory.Advisory
	for _, f := range feeds {
		as, err := osv.Load(ctx, f)
		if err != nil {
			return err
		}
		advs = append(advs, as...)
	}
	tree, closeTree, err := open(ctx, target, set.Extractors())
	if err != nil {
		return err
	}
	defer closeTree()
	pkgs, scanErr := inventory.Scan(ctx, tree, set.Extractors())
	vulns, rangeErr := match.OSV(ctx, pkgs, advs, set, match.OSVOptions{})
	if rangeErr != nil && !errors.Is(rangeErr, match.ErrRange) {
		return rangeErr
	}
	for _, v := range vulns {
		p := pkgs[v.Package]
		fixed := v.Fixed
		if fixed == "" {
			fixed = "-"
		}
		fmt.Printf("%s\t%s\t%s\t%s\tfixed %s\t%s\n", p.PURL, v.Advisory.ID, strings.Join(v.Advisory.Aliases, ","),
			v.Advisory.Severity, fixed, p.Locations[0].Path)
	}
	fmt.Fprintf(os.Stderr, "%d packages, %d advisories, %d findings\n", len(pkgs), len(advs), len(vulns))
	// Files that could not be read and ranges that could not be
	// evaluated, named; the rest is reported.
	return errors.Join(scanErr, rangeErr)
}

// open returns the file tree of a directory, or of an image when target
// names a transport; only the files the extractors ask for are read from
// an image, large ones kept in a temporary file that close removes.
func open(ctx context.Context, target string, xs []inventory.Extractor) (fs.FS, func() error, error) {
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		return os.DirFS(target), func() error { return nil }, nil
	}
	img, err := oci.Open(ctx, target)
	if err != nil {
		return nil, nil, err
	}
	defer img.Close()
	tree, err := oci.Flatten(ctx, img, oci.Options{Want: inventory.Required(xs), SpillDir: os.TempDir()})
	if err != nil {
		return nil, nil, err
	}
	return tree, tree.Close, nil
}
