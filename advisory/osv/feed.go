package osv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/alicorn-dev/alicorn/advisory"
)

// Feed is an OSV feed at a path (a JSON file, a directory of them or an
// all.zip) as an advisory.Feed. Its fingerprint is made of the names, sizes
// and modification times of the files, so an unchanged feed is not read
// again.
type Feed struct {
	Path string
}

// Name is the feed's path.
func (f Feed) Name() string { return f.Path }

// Load reads the feed unless its fingerprint is last.
func (f Feed) Load(ctx context.Context, last advisory.Fingerprint) ([]*advisory.Advisory, advisory.Fingerprint, error) {
	fp, err := fingerprint(f.Path)
	if err != nil {
		return nil, "", err
	}
	if fp == last {
		return nil, fp, advisory.ErrUnchanged
	}
	advs, err := Load(ctx, f.Path)
	if err != nil {
		return nil, "", err
	}
	return advs, fp, nil
}

// fingerprint hashes the names, sizes and modification times of the
// files at path.
func fingerprint(path string) (advisory.Fingerprint, error) {
	h := sha256.New()
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%o\x00", p, info.Size(), info.ModTime().UnixNano(), info.Mode())
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("OSV feed: %w", err)
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("OSV feed: %w", err)
	}
	return advisory.Fingerprint(hex.EncodeToString(h.Sum(nil))), nil
}
