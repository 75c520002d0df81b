package alicorn

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/alicorn-dev/alicorn/internal/tempfile"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/oci"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
)

// imageConfigDirs are the directories whose files dnf reads from an
// installroot besides the rpm database.
var imageConfigDirs = append(append([]string{"etc/dnf/modules.d", "etc/dnf/modules.defaults.d"},
	trimSlash(defaultReposdirs)...), trimSlash(defaultVarsdirs)...)

// imageTempPrefix begins the names of the temporary roots images are
// copied to (see internal/tempfile: the process ID follows).
const imageTempPrefix = "alicorn-image-"

// imageConfigFiles are single files dnf reads from an installroot.
var imageConfigFiles = []string{"etc/os-release", "usr/lib/os-release", "etc/dnf/dnf.conf"}

func trimSlash(dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = strings.TrimPrefix(d, "/")
	}
	return out
}

// wanted reports whether a file of an image is one dnf reads from an
// installroot: the rpm database (with its write-ahead log) and the
// configuration.
func wanted(name string, info fs.FileInfo) bool {
	if (rpmdb.Extractor{}).Required(strings.TrimSuffix(name, "-wal"), info) {
		return true
	}
	dir := path.Dir(name)
	for _, d := range imageConfigDirs {
		if dir == d {
			return true
		}
	}
	for _, f := range imageConfigFiles {
		if name == f {
			return true
		}
	}
	return false
}

// imageRoot opens an image and writes the files dnf would read from its
// root (the rpm database and configuration, links resolved inside the
// image) into a temporary directory that stands in for the installroot:
// the report is then exactly dnf's for --installroot=<the image's root>.
// Nothing else of the image is written anywhere.
//
// With extractors, the image's other packages they find (gems, wheels,
// jars) are returned too, with the errors of files they could not read.
func imageRoot(ctx context.Context, ref string, extractors []inventory.Extractor) (string, *scanned, func(), error) {
	// What runs killed before their cleanups left in the temporary
	// directory: image roots (below), oci's podman archives and spill
	// files, inventory's spooled files.
	_ = tempfile.Sweep(os.TempDir(), imageTempPrefix, oci.TempPodman, oci.TempSpill, inventory.TempSpool)
	img, err := oci.Open(ctx, ref)
	if err != nil {
		return "", nil, nil, err
	}
	defer img.Close()
	want := wanted
	if len(extractors) > 0 {
		required := inventory.Required(extractors)
		want = func(name string, info fs.FileInfo) bool { return wanted(name, info) || required(name, info) }
	}
	opts := oci.Options{Want: want}
	if len(extractors) > 0 {
		opts.SpillDir = os.TempDir() // jars can be large: kept on disk, not in memory
	}
	fsys, err := oci.Flatten(ctx, img, opts)
	if err != nil {
		return "", nil, nil, fmt.Errorf("image %s: %w", ref, err)
	}
	defer fsys.Close()
	var found *scanned
	if len(extractors) > 0 {
		pkgs, err := inventory.Scan(ctx, fsys, extractors)
		if ctx.Err() != nil {
			return "", nil, nil, ctx.Err()
		}
		found = &scanned{pkgs: pkgs, err: err}
	}
	root, err := os.MkdirTemp("", tempfile.Pattern(imageTempPrefix))
	if err != nil {
		return "", nil, nil, err
	}
	cleanup := func() { os.RemoveAll(root) }
	write := func(name string) error {
		info, err := fsys.Stat(name) // follows links inside the image
		if err != nil || !info.Mode().IsRegular() {
			return nil // absent, or not a file: as if absent
		}
		b, err := fsys.ReadFile(name)
		if err != nil {
			return fmt.Errorf("image %s: %w", ref, err)
		}
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, b, 0o644)
	}
	var names []string
	for _, d := range rpmdb.Dirs {
		for _, f := range rpmdb.Files {
			names = append(names, path.Join(d, f), path.Join(d, f+"-wal"))
		}
	}
	names = append(names, imageConfigFiles...)
	for _, d := range imageConfigDirs {
		entries, err := fsys.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			names = append(names, path.Join(d, e.Name()))
		}
	}
	for _, n := range names {
		if err := write(n); err != nil {
			cleanup()
			return "", nil, nil, err
		}
	}
	return root, found, cleanup, nil
}

// scanned are the non-RPM packages of an image, and the errors of the
// files that could not be read (reported as warnings).
type scanned struct {
	pkgs []inventory.Package
	err  error
}
