package pypi

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/alicorn-dev/alicorn/inventory"
)

// Archive reads the distribution in a wheel (.whl: its
// *.dist-info/METADATA) or a zipped egg (.egg: EGG-INFO/PKG-INFO).
type Archive struct{}

// Name identifies the extractor.
func (Archive) Name() string { return "pypi/archive" }

// Required reports whether p is a .whl or .egg file.
func (Archive) Required(p string, info fs.FileInfo) bool {
	ext := path.Ext(p)
	return (ext == ".whl" || ext == ".egg") && info.Mode().IsRegular()
}

// WantsHead reports whether head starts a zip archive.
func (Archive) WantsHead(_ string, head []byte) bool { return bytes.HasPrefix(head, []byte("PK")) }

// Extract reads the archive's metadata file.
func (Archive) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	zr, closeZip, err := in.OpenZip()
	if err != nil {
		return nil, err
	}
	defer closeZip()
	for _, zf := range zr.File {
		dir, file := path.Split(zf.Name)
		dir = strings.TrimSuffix(dir, "/")
		meta := file == "METADATA" && strings.HasSuffix(dir, ".dist-info") && !strings.Contains(dir, "/") ||
			file == "PKG-INFO" && dir == "EGG-INFO"
		if !meta {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", zf.Name, err)
		}
		name, version, err := ParseMetadata(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", zf.Name, err)
		}
		return []inventory.Package{pkg(name, version, in.Path, in.Layer)}, nil
	}
	return nil, fmt.Errorf("no .dist-info/METADATA or EGG-INFO/PKG-INFO in the archive")
}
