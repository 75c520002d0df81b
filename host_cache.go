package alicorn

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"

	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/internal/tempfile"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
)

// The installed packages of a root are cached beside the advisory
// indexes, as libdnf keeps @System.solv: a warm run reads one small file
// instead of decoding every rpmdb header, which would otherwise be the
// longest step before matching. The cache is named after the identity of
// the database files (path, device, inode, size, modification time; the
// write-ahead log's too) and the running kernel's release, so any rpm
// transaction leaves it unused.

const hostMagic = "ALCHOST1"

// snapshot is what a root's rpmdb yields for a report.
type snapshot struct {
	rpms []snapRPM
	// releasever is $releasever as dnf derives it from the release
	// provides, or "".
	releasever string
	// kernel is the index of the running kernel's package, or -1.
	kernel int
}

// snapRPM is an installed RPM as the snapshot keeps it.
type snapRPM struct {
	name   string
	evr    rpm.EVR
	arch   string
	source string
}

// packages returns the snapshot's packages, their purls naming the
// distribution osr, found in the database at dbPath.
func (s *snapshot) packages(osr inventory.OSRelease, dbPath string) []inventory.Package {
	out := make([]inventory.Package, len(s.rpms))
	for i, r := range s.rpms {
		p := rpmdb.Package{Name: r.name, Epoch: r.evr.Epoch, Version: r.evr.Version, Release: r.evr.Release,
			Arch: r.arch, SourceRPM: r.source}
		out[i] = p.Inventory(osr, dbPath)
	}
	return out
}

// hostCachePath names the cache file for the database at dbPath, or ""
// when the files cannot be identified.
func hostCachePath(cacheDir, dbPath, kernelRelease string) string {
	if cacheDir == "" {
		return ""
	}
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", hostMagic, abs, kernelRelease)
	for _, p := range []string{abs, abs + "-wal"} {
		st, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(h, "-\x00")
			continue
		}
		if err != nil {
			return ""
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			return ""
		}
		fmt.Fprintf(h, "%d %d %d %d\x00", sys.Dev, sys.Ino, st.Size(), st.ModTime().UnixNano())
	}
	return filepath.Join(cacheDir, "host-"+hex.EncodeToString(h.Sum(nil)[:16]))
}

func (s *snapshot) encode() []byte {
	b := []byte(hostMagic)
	str := func(v string) {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	b = binary.AppendUvarint(b, uint64(len(s.rpms)))
	for _, r := range s.rpms {
		str(r.name)
		str(r.evr.Epoch)
		str(r.evr.Version)
		str(r.evr.Release)
		str(r.arch)
		str(r.source)
	}
	str(s.releasever)
	b = binary.AppendUvarint(b, uint64(s.kernel+1))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var errHostCache = errors.New("host cache is damaged or of another version")

// decodeSnapshot reads an encoded snapshot; its strings view b.
func decodeSnapshot(b []byte) (*snapshot, error) {
	if len(b) < len(hostMagic)+4 || string(b[:len(hostMagic)]) != hostMagic ||
		crc32.Checksum(b[:len(b)-4], castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, errHostCache
	}
	d := b[len(hostMagic) : len(b)-4]
	bad := false
	uv := func() uint64 {
		v, n := binary.Uvarint(d)
		if n <= 0 {
			bad = true
			return 0
		}
		d = d[n:]
		return v
	}
	str := func() string {
		n := uv()
		if bad || n > uint64(len(d)) {
			bad = true
			return ""
		}
		if n == 0 {
			return ""
		}
		s := unsafe.String(&d[0], int(n))
		d = d[n:]
		return s
	}
	n := uv()
	if n > uint64(len(d))/6 {
		return nil, errHostCache
	}
	s := &snapshot{rpms: make([]snapRPM, n)}
	for i := range s.rpms {
		r := &s.rpms[i]
		r.name = str()
		r.evr = rpm.EVR{Epoch: str(), Version: str(), Release: str()}
		r.arch, r.source = str(), str()
	}
	s.releasever = str()
	s.kernel = int(uv()) - 1
	if bad || len(d) != 0 || s.kernel < -1 || s.kernel >= len(s.rpms) {
		return nil, errHostCache
	}
	return s, nil
}

// hostTempPrefix begins the names of snapshots being written (see
// internal/tempfile: the process ID follows).
const hostTempPrefix = ".host-"

// readSnapshot reads the snapshot at path, after sweeping from its
// directory the snapshots that runs killed while writing them left.
func readSnapshot(path string) (*snapshot, error) {
	_ = tempfile.Sweep(filepath.Dir(path), hostTempPrefix)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return decodeSnapshot(b)
}

// writeSnapshot stores s at path atomically; failing to is not an error
// worth reporting (the cache only saves time).
func writeSnapshot(path string, s *snapshot) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(path), tempfile.Pattern(hostTempPrefix))
	if err != nil {
		return
	}
	_, err = f.Write(s.encode())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
}
