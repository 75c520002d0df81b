package oci

import (
	"archive/tar"
	"bytes"
	"errors"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"
)

// maxHops bounds the symbolic links followed in one lookup, as Linux does.
const maxHops = 40

// lookup resolves name inside the root, following symbolic links (the
// last one only when follow is set). Absolute targets start at the image
// root and ".." stops there: nothing resolves outside the image. Each
// prefix is looked up by a hash extended part by part (see ancestors), so
// a lookup costs the name's length, however deep.
func (f *FS) lookup(op, name string, follow bool) (*entry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	root, _ := f.entries.get(".")
	if name == "." {
		return root, nil
	}
	// full[:at] is resolved to cur ("" for the root); h hashes it.
	full, at, cur, hops := name, 0, root, 0
	var h maphash.Hash
	h.SetSeed(f.entries.seed)
	for at < len(full) {
		start := at
		if at > 0 {
			start++ // the slash
		}
		end := strings.IndexByte(full[start:], '/')
		if end < 0 {
			end = len(full)
		} else {
			end += start
		}
		next := h // a copy: h stays the hash of full[:at]
		next.WriteString(full[at:end])
		e, ok := f.entries.getHashed(full[:end], next.Sum64())
		if !ok {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		last := end == len(full)
		if e.typ == tar.TypeSymlink && (!last || follow) {
			if hops++; hops > maxHops {
				return nil, &fs.PathError{Op: op, Path: name, Err: syscall.ELOOP}
			}
			dir := full[:at]
			if strings.HasPrefix(e.link, "/") {
				dir = ""
			}
			target := path.Clean("/" + dir + "/" + e.link) // ".." stops at the root
			if target == "/" {
				full = strings.TrimPrefix(full[end:], "/")
			} else {
				full = target[1:] + full[end:]
			}
			at, cur = 0, root
			h.Reset()
			continue
		}
		if !last && e.typ != tar.TypeDir {
			return nil, &fs.PathError{Op: op, Path: name, Err: syscall.ENOTDIR}
		}
		at, cur, h = end, e, next
	}
	return cur, nil
}

// entry returns the entry of a clean name (nil if none), without
// following links.
func (f *FS) entry(name string) *entry {
	e, _ := f.entries.get(name)
	return e
}

// Close removes the file that large kept files were spilled to, if any;
// the FS cannot read them after.
func (f *FS) Close() error {
	f.memory.Give(f.memTaken)
	f.disk.Give(f.diskTaken)
	f.memTaken, f.diskTaken = 0, 0
	if f.spill == nil {
		return nil
	}
	f.spill.Close()
	err := os.Remove(f.spill.Name())
	f.spill = nil
	return err
}

// contents reads a kept file's contents, from memory or the spill file.
func (f *FS) contents(e *entry) contents {
	if e.spilled && f.spill != nil {
		return io.NewSectionReader(f.spill, e.spillAt, e.size)
	}
	return bytes.NewReader(e.data)
}

type contents interface {
	io.Reader
	io.ReaderAt
	io.Seeker
}

// Open opens the named file, following symbolic links inside the image.
func (f *FS) Open(name string) (fs.File, error) {
	e, err := f.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	return &file{fs: f, e: e, r: f.contents(e)}, nil
}

// Stat describes the named file, following symbolic links.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("stat", name, true)
	if err != nil {
		return nil, err
	}
	return (&file{e: e}).info(), nil
}

// Lstat describes the named file without following a final symbolic link.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return (&file{e: e}).info(), nil
}

// ReadLink returns a symbolic link's target as written.
func (f *FS) ReadLink(name string) (string, error) {
	e, err := f.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if e.typ != tar.TypeSymlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return e.link, nil
}

// ReadFile returns a kept file's contents.
func (f *FS) ReadFile(name string) ([]byte, error) {
	e, err := f.lookup("read", name, true)
	if err != nil {
		return nil, err
	}
	if err := e.readable(name); err != nil {
		return nil, err
	}
	if e.spilled {
		b := make([]byte, e.size)
		_, err := f.contents(e).ReadAt(b, 0)
		return b, err
	}
	return bytes.Clone(e.data), nil
}

// ReadDir lists a directory, sorted by name; entries describe links
// themselves.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := f.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if e.typ != tar.TypeDir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	out := make([]fs.DirEntry, 0, len(e.children))
	for _, c := range e.children {
		out = append(out, fs.FileInfoToDirEntry((&file{e: f.entry(path.Join(e.name, c))}).info()))
	}
	return out, nil
}

// LayerOf returns the digest of the layer that last wrote name (following
// symbolic links), or "" for directories no layer listed.
func (f *FS) LayerOf(name string) string {
	e, err := f.lookup("layer", name, true)
	if err != nil || e.layer < 0 || e.layer >= len(f.Layers) {
		return ""
	}
	return f.Layers[e.layer].Digest
}

// ErrNotKept is wrapped by reads of files whose contents Options.Want did
// not keep.
var ErrNotKept = errors.New("contents not kept (not chosen by Options.Want)")

// ErrTooLarge is wrapped by reads of wanted files whose contents were not
// kept because Options.MaxFile, MaxTotal or MaxSpill, or the Memory or
// Disk budget, would have been passed (the rest of the image was read).
var ErrTooLarge = errors.New("too large to keep")

// ErrUnreadable is wrapped by reads of wanted files whose contents were
// not kept because Options.WantHead said that their first bytes are not
// what their readers read.
var ErrUnreadable = errors.New("contents not kept: not in a format its readers read")

func (e *entry) readable(name string) error {
	switch {
	case e.typ == tar.TypeDir:
		return &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	case e.typ != tar.TypeReg:
		return &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	case !e.kept && e.tooLarge != nil:
		return &fs.PathError{Op: "read", Path: name, Err: e.tooLarge}
	case !e.kept && e.size > 0:
		return &fs.PathError{Op: "read", Path: name, Err: ErrNotKept}
	}
	return nil
}

// file is an open file of an FS.
type file struct {
	fs  *FS
	e   *entry
	r   contents
	dir int // next child for ReadDir
}

func (fl *file) Stat() (fs.FileInfo, error) { return fl.info(), nil }

func (fl *file) Read(b []byte) (int, error) {
	if err := fl.e.readable(fl.e.name); err != nil {
		return 0, err
	}
	return fl.r.Read(b)
}

func (fl *file) ReadAt(b []byte, off int64) (int, error) {
	if err := fl.e.readable(fl.e.name); err != nil {
		return 0, err
	}
	return fl.r.ReadAt(b, off)
}

func (fl *file) Seek(off int64, whence int) (int64, error) { return fl.r.Seek(off, whence) }

func (fl *file) Close() error { return nil }

// ReadDir lists a directory opened with Open.
func (fl *file) ReadDir(n int) ([]fs.DirEntry, error) {
	if fl.e.typ != tar.TypeDir {
		return nil, &fs.PathError{Op: "readdir", Path: fl.e.name, Err: syscall.ENOTDIR}
	}
	rest := fl.e.children[fl.dir:]
	if n > 0 && len(rest) > n {
		rest = rest[:n]
	}
	out := make([]fs.DirEntry, 0, len(rest))
	for _, c := range rest {
		out = append(out, fs.FileInfoToDirEntry((&file{e: fl.fs.entry(path.Join(fl.e.name, c))}).info()))
	}
	fl.dir += len(rest)
	if n > 0 && len(out) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

func (fl *file) info() fs.FileInfo { return info{fl.e} }

type info struct{ e *entry }

func (i info) Name() string       { return path.Base(i.e.name) }
func (i info) Size() int64        { return i.e.size }
func (i info) ModTime() time.Time { return i.e.mtime }
func (i info) IsDir() bool        { return i.e.typ == tar.TypeDir }
func (i info) Sys() any           { return nil }
func (i info) Mode() fs.FileMode {
	m := i.e.mode.Perm() | i.e.mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
	switch i.e.typ {
	case tar.TypeDir:
		m |= fs.ModeDir
	case tar.TypeSymlink:
		m |= fs.ModeSymlink
	case tar.TypeReg:
	case tar.TypeChar:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case tar.TypeBlock:
		m |= fs.ModeDevice
	case tar.TypeFifo:
		m |= fs.ModeNamedPipe
	default:
		m |= fs.ModeIrregular
	}
	return m
}

var _ interface {
	fs.StatFS
	fs.ReadDirFS
	fs.ReadFileFS
} = (*FS)(nil)
