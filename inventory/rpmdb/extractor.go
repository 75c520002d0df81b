package rpmdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/alicorn-dev/alicorn/inventory"
)

// Extractor finds installed RPMs in a file tree (a root, an image) for
// inventory.Scan: it reads the rpm database files at the places Dirs and
// Files name.
type Extractor struct {
	// MaxSize bounds the database files read (default 2 GiB).
	MaxSize int64
}

// Name identifies the extractor.
func (Extractor) Name() string { return "rpm/rpmdb" }

// Required reports whether path is an rpm database file.
func (Extractor) Required(p string, info fs.FileInfo) bool {
	dir, file := path.Split(p)
	dir = strings.TrimSuffix(strings.TrimPrefix(dir, "/"), "/")
	for _, d := range Dirs {
		if dir == d {
			for _, f := range Files {
				if file == f {
					return true
				}
			}
		}
	}
	return false
}

// Extract reads the packages of the database at in.Path; their purls name
// the distribution of the tree's os-release.
func (x Extractor) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	limit := x.MaxSize
	if limit <= 0 {
		limit = 2 << 30
	}
	if in.Info.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d this extractor reads", in.Path, in.Info.Size(), limit)
	}
	f, err := in.FS.Open(in.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The readers need random access: use the file's own when it has one.
	ra, ok := f.(io.ReaderAt)
	size := in.Info.Size()
	if !ok {
		data, err := io.ReadAll(io.LimitReader(f, limit+1))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.Path, err)
		}
		ra, size = bytes.NewReader(data), int64(len(data))
	}
	each, backend, err := openReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Path, err)
	}
	osr := osReleaseFS(in.FS)
	var out []inventory.Package
	err = each(ctx, func(key uint32, blob []byte) error {
		if len(blob) < 8 {
			return nil
		}
		h, err := ParseHeader(blob)
		if err != nil {
			return fmt.Errorf("record %d: %w", key, err)
		}
		p, err := Decode(key, h, Options{Brief: true})
		if err != nil {
			return fmt.Errorf("record %d: %w", key, err)
		}
		if p.Name == "gpg-pubkey" {
			return nil
		}
		pkg := p.Inventory(osr, in.Path)
		pkg.Locations[0].Layer = in.Layer
		out = append(out, pkg)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", in.Path, backend, err)
	}
	return out, nil
}

// WantsHead reports whether head begins an rpm database (SQLite, ndb or
// Berkeley DB hash): image readers keep nothing else of that name.
func (Extractor) WantsHead(_ string, head []byte) bool {
	return bytes.HasPrefix(head, []byte(sqliteMagic)) || bytes.HasPrefix(head, []byte("RpmP")) || sniffBDB(head) != nil
}

// openReader recognises a database by content and returns its record
// iterator. SQLite is read from the file format (a write-ahead log, which
// a file tree may not even hold beside it, is not applied).
func openReader(r io.ReaderAt, size int64) (func(context.Context, func(uint32, []byte) error) error, Backend, error) {
	head := make([]byte, 512)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte(sqliteMagic)):
		s, err := openSQLiteFile(r, size)
		if err != nil {
			return nil, SQLite, err
		}
		return s.each, SQLite, nil
	case bytes.HasPrefix(head, []byte("RpmP")):
		db, err := openNDB(r, size)
		if err != nil {
			return nil, NDB, err
		}
		return db.each, NDB, nil
	case sniffBDB(head) != nil:
		db, err := openBDB(r, size)
		if err != nil {
			return nil, BerkeleyDB, err
		}
		return db.each, BerkeleyDB, nil
	}
	return nil, "", errors.New("not an rpm database (neither SQLite, ndb nor Berkeley DB hash)")
}

// osReleaseFS reads os-release from a file tree.
func osReleaseFS(fsys fs.FS) inventory.OSRelease {
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		b, err := fs.ReadFile(fsys, p)
		if err == nil {
			return inventory.ParseOSRelease(b)
		}
	}
	return inventory.OSRelease{}
}
