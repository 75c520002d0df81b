package rpmdb

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNoDatabase is returned when no rpm database is found under a root.
var ErrNoDatabase = errors.New("no rpm database found")

// Backend names a database format.
type Backend string

// The database formats rpm has used.
const (
	SQLite     Backend = "sqlite"
	NDB        Backend = "ndb"
	BerkeleyDB Backend = "bdb"
)

// Dirs are the directories, relative to a root, where rpm keeps its
// database, in the order they are tried.
var Dirs = []string{"usr/lib/sysimage/rpm", "var/lib/rpm", "usr/share/rpm"}

// Files are the database file names each backend uses, in the order tried.
var Files = []string{"rpmdb.sqlite", "Packages.db", "Packages"}

// Package is one installed package as the rpm database records it.
type Package struct {
	// Key is the package's record number in the database.
	Key     uint32
	Name    string
	Epoch   string // "" when the header has no epoch
	Version string
	Release string
	Arch    string
	// SourceRPM is the source package's file name.
	SourceRPM       string
	Vendor          string
	License         string
	Summary         string
	ModularityLabel string
	Size            uint64
	InstallTime     time.Time
	// SigMD5 is the header+payload MD5 as hex, empty when absent.
	SigMD5 string
	// Files is the package's file list, read only with Options.Files.
	Files []string
}

// NEVRA formats the package as rpm -q does: name-[epoch:]version-release.arch.
func (p *Package) NEVRA() string {
	s := p.Name + "-"
	if p.Epoch != "" && p.Epoch != "0" {
		s += p.Epoch + ":"
	}
	s += p.Version + "-" + p.Release
	if p.Arch != "" {
		s += "." + p.Arch
	}
	return s
}

// Options choose what Read decodes beyond the basic fields.
type Options struct {
	// Files reads each package's file list.
	Files bool
	// Brief reads only what identifies a package: name, epoch, version,
	// release, arch and source RPM (and install time); Vendor, License,
	// Summary, ModularityLabel, Size and SigMD5 stay empty.
	Brief bool
}

// DB is an open rpm database file.
type DB struct {
	Path    string
	Backend Backend
	each    func(ctx context.Context, fn func(key uint32, blob []byte) error) error
	close   func() error
}

// Find returns the path of the rpm database under root: the first of Dirs
// and Files that exists. Symbolic links are resolved inside root.
func Find(root string) (string, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return "", err // names root
	}
	defer r.Close()
	for _, d := range Dirs {
		for _, f := range Files {
			p := path.Join(d, f)
			if st, err := r.Stat(p); err == nil && st.Mode().IsRegular() && st.Size() > 0 {
				return filepath.Join(root, filepath.FromSlash(p)), nil
			}
		}
	}
	return "", fmt.Errorf("%s: %w (looked in %s)", root, ErrNoDatabase, strings.Join(Dirs, ", "))
}

// Open opens the database file at path, recognising its format by content.
func Open(path string) (*DB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	size := st.Size()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	db := &DB{Path: path, close: f.Close}
	fail := func(err error) (*DB, error) {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Only the SQLite engine applies a write-ahead log that holds changes;
	// every other case reads the file itself.
	if bytes.HasPrefix(head, []byte(sqliteMagic)) {
		if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
			f.Close()
			s, err := openSQLite(path)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			db.Backend, db.each, db.close = SQLite, s.each, s.Close
			return db, nil
		}
	}
	each, backend, err := openReader(f, size)
	if err != nil {
		return fail(err)
	}
	db.Backend, db.each = backend, each
	return db, nil
}

// Close releases the database.
func (db *DB) Close() error { return db.close() }

// Headers calls fn with every package header in database order. The
// header is valid only during the call.
func (db *DB) Headers(ctx context.Context, fn func(key uint32, h *Header) error) error {
	err := db.each(ctx, func(key uint32, blob []byte) error {
		if len(blob) < 8 {
			return nil // bookkeeping records (BDB key 0 holds a counter)
		}
		h, err := ParseHeader(blob)
		if err != nil {
			return fmt.Errorf("record %d: %w", key, err)
		}
		return fn(key, h)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", db.Path, err)
	}
	return nil
}

// Packages decodes every package in the database. On error it returns no
// packages: a database that cannot be read whole is not reported in part.
func (db *DB) Packages(ctx context.Context, opts Options) ([]Package, error) {
	var pkgs []Package
	err := db.Headers(ctx, func(key uint32, h *Header) error {
		p, err := Decode(key, h, opts)
		if err != nil {
			return fmt.Errorf("record %d: %w", key, err)
		}
		pkgs = append(pkgs, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pkgs, nil
}

// Read finds the database under root, reads every package and closes it.
func Read(ctx context.Context, root string, opts Options) ([]Package, error) {
	p, err := Find(root)
	if err != nil {
		return nil, err
	}
	db, err := Open(p)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Packages(ctx, opts)
}

// Decode reads a package's fields from its header in one pass over the
// header's index (the last entry of a tag wins, as in rpm).
func Decode(key uint32, h *Header, opts Options) (Package, error) {
	p := Package{Key: key}
	var name, epoch, installTime, size, sigmd5 entry
	var strs [8]entry // version, release, arch, sourcerpm, vendor, license, summary, modularitylabel
	var have uint16
	n := len(h.index) / 16
	for i := 0; i < n; i++ {
		e := h.entry(i)
		switch e.tag {
		case TagName:
			name, have = e, have|1
		case TagEpoch:
			epoch, have = e, have|2
		case TagInstallTime:
			installTime, have = e, have|4
		case TagSize:
			size, have = e, have|8
		case TagSigMD5:
			sigmd5, have = e, have|16
		case TagVersion:
			strs[0], have = e, have|1<<8
		case TagRelease:
			strs[1], have = e, have|1<<9
		case TagArch:
			strs[2], have = e, have|1<<10
		case TagSourceRPM:
			strs[3], have = e, have|1<<11
		case TagVendor:
			strs[4], have = e, have|1<<12
		case TagLicense:
			strs[5], have = e, have|1<<13
		case TagSummary:
			strs[6], have = e, have|1<<14
		case TagModularityLabel:
			strs[7], have = e, have|1<<15
		}
	}
	var ok bool
	if have&1 == 0 {
		return p, errors.New("header has no name")
	}
	if p.Name, ok = h.stringOf(name); !ok {
		return p, errors.New("header has no name")
	}
	for i, dst := range []*string{&p.Version, &p.Release, &p.Arch, &p.SourceRPM, &p.Vendor, &p.License, &p.Summary, &p.ModularityLabel} {
		if opts.Brief && i >= 4 {
			break
		}
		if have&(1<<(8+i)) != 0 {
			*dst, _ = h.stringOf(strs[i])
		}
	}
	// rpm names a package's file NAME-VERSION-RELEASE.ARCH.rpm, and its
	// source package's file is SOURCERPM: none can be longer than a file
	// name. Longer ones are not from rpm, and would only fill memory.
	for _, f := range []struct{ tag, v string }{{"name", p.Name}, {"version", p.Version}, {"release", p.Release},
		{"arch", p.Arch}, {"sourcerpm", p.SourceRPM}} {
		if len(f.v) > maxFileName {
			return p, fmt.Errorf("header's %s has %d bytes, more than a file name can (%d)", f.tag, len(f.v), maxFileName)
		}
	}
	if have&2 != 0 {
		if e, ok := h.uint32Of(epoch); ok {
			p.Epoch = strconv.FormatUint(uint64(e), 10)
		}
	}
	if opts.Brief {
		have &^= 8 | 16
	}
	if have&8 != 0 {
		p.Size, _ = h.uint64Of(size)
	}
	if have&4 != 0 {
		if t, ok := h.uint32Of(installTime); ok {
			p.InstallTime = time.Unix(int64(t), 0).UTC()
		}
	}
	if have&16 != 0 {
		if b, ok := h.binaryOf(sigmd5); ok {
			p.SigMD5 = hex.EncodeToString(b)
		}
	}
	if opts.Files {
		p.Files = fileList(h)
	}
	return p, nil
}

// maxFileName is NAME_MAX, the longest file name.
const maxFileName = 255

// fileList joins DIRNAMES[DIRINDEXES[i]] + BASENAMES[i], or reads the old
// OLDFILENAMES tag of rpm < 4.
func fileList(h *Header) []string {
	base, ok := h.Strings(TagBasenames)
	if !ok {
		old, _ := h.Strings(TagOldFilenames)
		return old
	}
	dirs, _ := h.Strings(TagDirnames)
	idx, _ := h.Uint32s(TagDirIndexes)
	out := make([]string, 0, len(base))
	for i, b := range base {
		if i < len(idx) && int(idx[i]) < len(dirs) {
			out = append(out, dirs[idx[i]]+b)
		} else {
			out = append(out, b)
		}
	}
	return out
}

// readBudget bounds how much a reader may read of a database in all: a
// well-formed database is read about once, so a file whose records all
// point at the same long chain (quadratic work) stops with an error.
type readBudget struct{ left int64 }

func newBudget(size int64) readBudget { return readBudget{left: 4*size + 1<<20} }

func (b *readBudget) spend(n int) error {
	b.left -= int64(n)
	if b.left < 0 {
		return errors.New("records re-read the same data over and over (a damaged or hostile database)")
	}
	return nil
}

// FileOwners maps each file the database's packages own (its path
// without the leading "/", as inventory locations are written) to the
// owning package's NEVRA; a file two packages share keeps the first.
func (db *DB) FileOwners(ctx context.Context) (map[string]string, error) {
	owners := map[string]string{}
	err := db.Headers(ctx, func(key uint32, h *Header) error {
		p, err := Decode(key, h, Options{Files: true, Brief: true})
		if err != nil {
			return fmt.Errorf("record %d: %w", key, err)
		}
		nevra := p.NEVRA()
		for _, f := range p.Files {
			f = strings.TrimPrefix(f, "/")
			if _, ok := owners[f]; !ok {
				owners[f] = nevra
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return owners, nil
}
