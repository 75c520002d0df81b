package inventory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"

	"github.com/alicorn-dev/alicorn/internal/tempfile"
)

// Package is one installed package.
type Package struct {
	// PURL identifies the package; match on its Type, Namespace and Name.
	PURL packageurl.PackageURL
	// Name is the package's name as its ecosystem spells it.
	Name string
	// Version is the full version as its ecosystem prints it
	// (for RPM "[epoch:]version-release").
	Version string
	// Source names the source package it was built from, if any
	// (an RPM's source RPM).
	Source string
	// Installed is when it was installed, if known.
	Installed time.Time
	// Locations are the files that record the package.
	Locations []Location
}

// Location is a file that records a package: a path inside the scanned
// tree and, for container images, the digest of the layer that last wrote it.
type Location struct {
	Path  string
	Layer string
}

// Input is one file offered to an Extractor.
type Input struct {
	// FS is the whole tree being scanned, for extractors that need to read
	// files next to the one offered.
	FS fs.FS
	// Path is the offered file's slash-separated path inside FS.
	Path string
	// Info describes the file.
	Info fs.FileInfo
	// Layer is the digest of the image layer that wrote the file, if any.
	Layer string
	// Limits are the run's budgets, which an extractor charges with what
	// it holds beyond the file itself (nested archives).
	Limits Limits
}

// Limits are the budgets a scan charges. The zero value limits nothing
// and spills to os.TempDir().
type Limits struct {
	// Memory is charged with what is held in memory, Disk with what is
	// written to temporary files in TempDir.
	Memory, Disk *Budget
	TempDir      string
}

// LayeredFS is a file tree made of layers (a container image): LayerOf
// names the layer that last wrote a file. Scan records it in each
// package's Location.
type LayeredFS interface {
	fs.FS
	LayerOf(name string) string
}

// Extractor finds packages in the files of one format.
type Extractor interface {
	// Name identifies the extractor in errors and reports.
	Name() string
	// Required reports, from the path and file info alone, whether the
	// extractor wants to read the file.
	Required(path string, info fs.FileInfo) bool
	// Extract reads the file and returns the packages it records.
	Extract(ctx context.Context, in *Input) ([]Package, error)
}

// Scan walks fsys once and runs every extractor that wants each regular
// file. Failures of single files are joined and returned beside the
// packages found elsewhere; a walk failure or a cancelled context stops it.
func Scan(ctx context.Context, fsys fs.FS, extractors []Extractor) ([]Package, error) {
	return ScanWithin(ctx, fsys, extractors, Limits{})
}

// ScanWithin is Scan with the extractors charging lim's budgets: a file
// whose reading would pass one is a failure of that file.
func ScanWithin(ctx context.Context, fsys fs.FS, extractors []Extractor, lim Limits) ([]Package, error) {
	var pkgs []Package
	var errs []error
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() && len(path) > MaxPath {
			// The walk builds every path from its parent's: past
			// PATH_MAX, where no program of the image could open a file
			// by its path, a hostile tree of 100,000 levels would cost
			// the square of its depth.
			errs = append(errs, fmt.Errorf("%s…: %w", path[:64], ErrPathTooLong))
			return fs.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		var info fs.FileInfo
		for _, x := range extractors {
			if info == nil {
				if info, err = d.Info(); err != nil {
					errs = append(errs, err)
					return nil
				}
			}
			if !x.Required(path, info) {
				continue
			}
			in := &Input{FS: fsys, Path: path, Info: info, Limits: lim}
			if l, ok := fsys.(LayeredFS); ok {
				in.Layer = l.LayerOf(path)
			}
			found, err := x.Extract(ctx, in)
			cost := int64(0)
			for _, err := range Leaves(err) {
				if strings.HasPrefix(err.Error(), path) {
					// The extractor named the file (as archive readers
					// do, with the entry inside it): not twice.
					err = fmt.Errorf("%s: %w", x.Name(), err)
				} else {
					err = fmt.Errorf("%s: %s: %w", x.Name(), path, err)
				}
				errs = append(errs, err)
				cost += errorCost + int64(len(err.Error()))
			}
			for i := range found {
				cost += packageCost(&found[i])
			}
			// What is found is kept for the whole run: charged, never
			// given back.
			if err := lim.Memory.Take(cost); err != nil {
				return fmt.Errorf("the packages and warnings found, at %s: %w", path, err)
			}
			pkgs = append(pkgs, found...)
		}
		return nil
	})
	if err != nil {
		return pkgs, err
	}
	return pkgs, errors.Join(errs...)
}

// Leaves returns the errors joined in err (by errors.Join, at any depth),
// or err alone, or none for nil: one line each, so that each can be
// given its context (the file, the image) when it is reported.
func Leaves(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, Leaves(e)...)
	}
	return out
}

// What a found package and a warning take in memory besides their
// strings, about (charged to Limits.Memory by ScanWithin).
const (
	PackageCost = 384
	errorCost   = 64
)

// packageCost is about what p takes in memory.
func packageCost(p *Package) int64 {
	n := PackageCost + len(p.Name) + len(p.Version) + len(p.Source) + len(p.PURL.Namespace) + len(p.PURL.Name) +
		len(p.PURL.Version) + len(p.PURL.Subpath)
	for _, q := range p.PURL.Qualifiers {
		n += len(q.Key) + len(q.Value) + 32
	}
	for _, l := range p.Locations {
		n += len(l.Path) + len(l.Layer) + 32
	}
	return int64(n)
}

// MaxPath is the longest path of a directory Scan walks into, in bytes:
// Linux's PATH_MAX.
const MaxPath = 4096

// ErrPathTooLong is wrapped by Scan's error for a directory whose path
// is longer than MaxPath, which it does not walk into.
var ErrPathTooLong = fmt.Errorf("path longer than %d bytes: not scanned", MaxPath)

// TempSpool is the name prefix of the files OpenReaderAt spools streams
// to (the process ID follows it, see internal/tempfile).
const TempSpool = "alicorn-spool-"

// OpenReaderAt opens the input's file for random access (zip archives
// need it): the file itself when its file system offers it (os.DirFS and
// flattened images do), else a copy spooled to a temporary file, which
// close removes.
func (in *Input) OpenReaderAt() (r io.ReaderAt, size int64, close func() error, err error) {
	f, err := in.FS.Open(in.Path)
	if err != nil {
		return nil, 0, nil, err
	}
	if ra, ok := f.(io.ReaderAt); ok {
		return ra, in.Info.Size(), f.Close, nil
	}
	defer f.Close()
	size = in.Info.Size()
	if err := in.Limits.Disk.Take(size); err != nil {
		return nil, 0, nil, err
	}
	tmp, err := os.CreateTemp(in.Limits.TempDir, tempfile.Pattern(TempSpool))
	if err != nil {
		in.Limits.Disk.Give(size)
		return nil, 0, nil, err
	}
	cleanup := func() error {
		tmp.Close()
		in.Limits.Disk.Give(size)
		return os.Remove(tmp.Name())
	}
	// Not past the size taken: a file that grows while read is cut off.
	n, err := io.Copy(tmp, io.LimitReader(f, size))
	if err != nil {
		cleanup()
		return nil, 0, nil, err
	}
	return tmp, n, cleanup, nil
}

// Required returns a function that reports whether any of the extractors
// requires a file: what an image flattener keeps for a scan with them
// (oci.Options.Want).
func Required(extractors []Extractor) func(path string, info fs.FileInfo) bool {
	return func(path string, info fs.FileInfo) bool {
		for _, x := range extractors {
			if x.Required(path, info) {
				return true
			}
		}
		return false
	}
}

// HeadChecker is implemented by extractors that can tell from a file's
// first bytes whether they can read it at all (a zip archive starts with
// "PK"). Image readers that keep large files on disk ask before writing
// one, so that a file only named like an archive costs nothing.
type HeadChecker interface {
	// WantsHead reports whether the extractor can read a file of this
	// path that begins with head (at most HeadLen bytes; fewer for a
	// shorter file).
	WantsHead(path string, head []byte) bool
}

// HeadLen is how many first bytes HeadChecker.WantsHead is given.
const HeadLen = 512

// RequiredHead returns a function that reports whether any of the
// extractors that require a file can read it, given its first bytes: an
// extractor without HeadChecker can (oci.Options.WantHead).
func RequiredHead(extractors []Extractor) func(path string, info fs.FileInfo, head []byte) bool {
	return func(path string, info fs.FileInfo, head []byte) bool {
		for _, x := range extractors {
			if !x.Required(path, info) {
				continue
			}
			if h, ok := x.(HeadChecker); !ok || h.WantsHead(path, head) {
				return true
			}
		}
		return false
	}
}
