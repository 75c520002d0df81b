package rebuild

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"
)

// gzipLevel is the layers' fixed compression level: the same tar gives
// the same blob.
const gzipLevel = gzip.BestCompression

// tarRoot packs a root into a gzip-compressed tar file at path,
// deterministically: entries in the order of a walk with sorted
// directories (parents before children), every mtime clamped to clamp
// (as SOURCE_DATE_EPOCH does), no access or change times, numeric owners
// only, hard links as tar hard links, only the security.capability
// extended attribute (file capabilities), and a gzip stream at a fixed
// level with neither name nor time in its header. skip, when not nil,
// leaves out the files (relative, slash-separated) it returns true for.
func tarRoot(root, path string, clamp time.Time, skip func(rel string) bool) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw, err := gzip.NewWriterLevel(bw, gzipLevel)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	type inode struct{ dev, ino uint64 }
	links := map[inode]string{}
	clamp = clamp.Truncate(time.Second)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skip != nil && skip(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("%s: no stat", p)
		}
		h := &tar.Header{Name: rel, Mode: int64(st.Mode & 0o7777), Uid: int(st.Uid), Gid: int(st.Gid),
			ModTime: info.ModTime().Truncate(time.Second)}
		if h.ModTime.After(clamp) {
			h.ModTime = clamp
		}
		switch m := info.Mode(); {
		case m.IsDir():
			h.Typeflag, h.Name = tar.TypeDir, rel+"/"
		case m&fs.ModeSymlink != 0:
			h.Typeflag = tar.TypeSymlink
			if h.Linkname, err = os.Readlink(p); err != nil {
				return err
			}
		case m.IsRegular():
			h.Typeflag, h.Size = tar.TypeReg, info.Size()
			if st.Nlink > 1 {
				key := inode{uint64(st.Dev), st.Ino}
				if first, ok := links[key]; ok {
					h.Typeflag, h.Linkname, h.Size = tar.TypeLink, first, 0
				} else {
					links[key] = rel
				}
			}
		case m&fs.ModeCharDevice != 0:
			h.Typeflag = tar.TypeChar
			h.Devmajor, h.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		case m&fs.ModeDevice != 0:
			h.Typeflag = tar.TypeBlock
			h.Devmajor, h.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		case m&fs.ModeNamedPipe != 0:
			h.Typeflag = tar.TypeFifo
		default: // sockets are not content
			return nil
		}
		if h.Typeflag != tar.TypeLink {
			if caps, err := getxattr(p, "security.capability"); err != nil {
				return err
			} else if caps != nil {
				h.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": string(caps)}
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if h.Typeflag != tar.TypeReg {
			return nil
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		if n, err := io.Copy(tw, src); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		} else if n != h.Size {
			return fmt.Errorf("%s: changed while packed", p)
		}
		return nil
	})
	for _, c := range []func() error{tw.Close, zw.Close, bw.Flush} {
		if cerr := c(); err == nil {
			err = cerr
		}
	}
	return err
}

// getxattr returns the extended attribute name of the file at p (not
// following links), or nil when it has none.
func getxattr(p, name string) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(p, name, buf)
		switch {
		case errors.Is(err, unix.ERANGE):
			buf = make([]byte, 2*len(buf))
			continue
		case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return buf[:n], nil
	}
}

// rpmdbScratch reports the rpm database's files that are no content:
// SQLite's shared-memory index, rpmdb.sqlite-shm, which SQLite rebuilds
// when it opens the database and whose bytes differ from run to run.
// (The write-ahead log, rpmdb.sqlite-wal, is empty once rpm has closed
// the database and stays.)
func rpmdbScratch(rel string) bool {
	return "/"+filepath.Dir(rel) == DBPath && strings.HasSuffix(rel, ".sqlite-shm")
}

// image makes the one-layer image of the gzip-compressed tar at
// layerPath, created at created, with cfg; createdBy is its history.
func image(layerPath string, created time.Time, createdBy string, cfg Config) (v1.Image, error) {
	// The file is compressed already: its bytes are the blob.
	layer, err := tarball.LayerFromFile(layerPath)
	if err != nil {
		return nil, err
	}
	t := v1.Time{Time: created.UTC().Truncate(time.Second)}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer,
		History: v1.History{Created: t, CreatedBy: createdBy}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = t
	cf.OS, cf.Architecture = "linux", goArch()
	cf.Config.Entrypoint, cf.Config.Cmd = cfg.Entrypoint, cfg.Cmd
	cf.Config.WorkingDir, cf.Config.Labels = cfg.WorkingDir, cfg.Labels
	cf.Config.StopSignal = cfg.StopSignal
	if len(cfg.ExposedPorts) > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range cfg.ExposedPorts {
			cf.Config.ExposedPorts[p] = struct{}{}
		}
	}
	return mutate.ConfigFile(img, cf)
}
