package alicorn

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/alicorn-dev/alicorn/internal/ctxio"
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

// wantedHead reports whether a file wanted is worth keeping, given its
// first bytes: an rpm database that is not one is not.
func wantedHead(name string, info fs.FileInfo, head []byte) bool {
	if x := (rpmdb.Extractor{}); x.Required(name, info) {
		return x.WantsHead(name, head)
	}
	return wanted(name, info)
}

// imageRoot opens an image and writes the files dnf would read from its
// root (the rpm database and configuration, links resolved inside the
// image) into a temporary directory that stands in for the installroot:
// the report is then exactly dnf's for --installroot=<the image's root>.
// Nothing else of the image is written anywhere.
//
// With extractors, the image's other packages they find (gems, wheels,
// jars) are returned too, with the errors of files they could not read.
//
// Everything held is charged to lim: the flattened image's list and
// kept files, the extractors' archives, the root's copies (on disk).
//
// An image named by digest (docker://HOST/REPO@sha256:…), read without
// extractors, is extracted once into cacheDir (when set) and read from
// there after: the build service checks the same published image every
// few minutes.
func imageRoot(ctx context.Context, ref string, extractors []inventory.Extractor, lim inventory.Limits, cacheDir string) (string, *scanned, func(), error) {
	cached := ""
	if len(extractors) == 0 {
		cached = imageCache(cacheDir, ref)
	}
	if cached != "" {
		if _, err := os.Stat(filepath.Join(cached, imageComplete)); err == nil {
			return cached, nil, func() {}, nil
		}
	}
	// What runs killed before their cleanups left in the temporary
	// directory: image roots (below), oci's podman archives and spill
	// files, inventory's spooled files.
	_ = tempfile.Sweep(lim.TempDir, imageTempPrefix, oci.TempPodman, oci.TempSpill, inventory.TempSpool)
	img, err := oci.Open(ctx, ref)
	if err != nil {
		return "", nil, nil, err
	}
	defer img.Close()
	required, requiredHead := inventory.Required(extractors), inventory.RequiredHead(extractors)
	opts := oci.Options{
		Want: func(name string, info fs.FileInfo) bool { return wanted(name, info) || required(name, info) },
		WantHead: func(name string, info fs.FileInfo, head []byte) bool {
			return wantedHead(name, info, head) || requiredHead(name, info, head)
		},
		// Files of more than 64 KiB (rpm databases, jars) are kept on
		// disk, not in memory.
		SpillDir: lim.TempDir,
		Memory:   lim.Memory,
		Disk:     lim.Disk,
	}
	fsys, err := oci.Flatten(ctx, img, opts)
	if err != nil {
		return "", nil, nil, fmt.Errorf("image %s: %w", ref, err)
	}
	defer fsys.Close()
	var found *scanned
	if len(extractors) > 0 {
		pkgs, err := inventory.ScanWithin(ctx, fsys, extractors, lim)
		if ctx.Err() != nil {
			return "", nil, nil, ctx.Err()
		}
		found = &scanned{pkgs: pkgs, err: err}
	}
	// An image root to be cached is made next to its place in the cache,
	// so that moving it there is a rename.
	rootDir := lim.TempDir
	if cached != "" {
		rootDir = filepath.Dir(cached)
		if err := os.MkdirAll(rootDir, 0o755); err != nil {
			return "", nil, nil, err
		}
		_ = tempfile.Sweep(rootDir, imageTempPrefix)
	}
	root, err := os.MkdirTemp(rootDir, tempfile.Pattern(imageTempPrefix))
	if err != nil {
		return "", nil, nil, err
	}
	var written int64 // charged to the disk budget until cleanup
	cleanup := func() { os.RemoveAll(root); lim.Disk.Give(written) }
	write := func(name string) error {
		info, err := fsys.Stat(name) // follows links inside the image
		if err != nil || !info.Mode().IsRegular() {
			return nil // absent, or not a file: as if absent
		}
		if err := lim.Disk.Take(info.Size()); err != nil {
			return fmt.Errorf("image %s: %s: %w", ref, name, err)
		}
		written += info.Size()
		if err := copyOut(ctx, fsys, name, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			return fmt.Errorf("image %s: %w", ref, err)
		}
		return nil
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
		if err := ctx.Err(); err != nil {
			cleanup()
			return "", nil, nil, err
		}
		if err := write(n); err != nil {
			cleanup()
			return "", nil, nil, err
		}
	}
	if cached != "" && keep(root, cached) {
		lim.Disk.Give(written) // the cache's now, not the run's
		return cached, found, func() {}, nil
	}
	return root, found, cleanup, nil
}

// imageComplete marks a cached image root as whole.
const imageComplete = ".alicorn-complete"

// imageCache returns where the extracted root of an image named by
// digest is kept under cacheDir; "" for other references (a tag may name
// another image tomorrow) or without a cache.
func imageCache(cacheDir, ref string) string {
	rest, ok := strings.CutPrefix(ref, "docker://")
	if cacheDir == "" || !ok {
		return ""
	}
	_, hex, ok := strings.Cut(rest, "@sha256:")
	if !ok || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return ""
	}
	return filepath.Join(cacheDir, "images", "sha256-"+hex)
}

// keep moves an extracted root into the cache at dir, marked whole, and
// reports whether it did (another run may have been first: then root
// stays the run's).
func keep(root, dir string) bool {
	if err := os.WriteFile(filepath.Join(root, imageComplete), nil, 0o644); err != nil {
		return false
	}
	return os.Rename(root, dir) == nil
}

// copyOut writes the file name of fsys to the path p, streaming (an rpm
// database can be large) and stopping once ctx is done.
func copyOut(ctx context.Context, fsys fs.FS, name, p string) error {
	src, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	dst, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, ctxio.NewReader(ctx, src)); err != nil {
		dst.Close()
		return err // a PathError naming the file, or the context's
	}
	return dst.Close()
}

// scanned are the non-RPM packages of an image, and the errors of the
// files that could not be read (reported as warnings).
type scanned struct {
	pkgs []inventory.Package
	err  error
}
