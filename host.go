package alicorn

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/repo"
)

// host is the installed side of the report.
type host struct {
	pkgs         []inventory.Package
	all          []inventory.Package // pkgs with the excluded ones, in database order
	kernel       int                 // index of the running kernel's package, or -1
	kernelSource string
	releasever   string
	// noRPMDB is set for a scanned image or root without an rpm database.
	noRPMDB bool
}

// releaseProvides are the provides dnf reads $releasever from, in order.
var releaseProvides = []string{"system-release(releasever)", "system-release", "distribution-release",
	"redhat-release", "suse-release"}

// readHost reads the root's installed packages, from the snapshot cache
// when the database is unchanged.
func (s *System) readHost(ctx context.Context) (*host, error) {
	h := &host{kernel: -1}
	// libdnf looks for the running kernel only on the live system, never
	// under another installroot.
	rel := ""
	if s.opts.Image == "" && filepath.Clean(s.root) == "/" {
		rel = s.opts.KernelRelease
		if rel == "" {
			_, rel = uname()
		}
	}
	path, err := rpmdb.Find(s.root)
	if err != nil {
		if (s.rootScan != nil || s.opts.Image != "") && errors.Is(err, rpmdb.ErrNoDatabase) {
			h.noRPMDB, h.releasever = true, s.opts.Releasever
			return h, nil
		}
		return nil, s.named(err)
	}
	cache := ""
	if s.opts.Image == "" {
		cache = hostCachePath(s.opts.CacheDir, path, rel)
	}
	var snap *snapshot
	if cache != "" {
		snap, _ = readSnapshot(cache) // a missing or damaged cache is rebuilt
	}
	if snap == nil {
		if snap, err = readRPMDB(ctx, path, rel); err != nil {
			return nil, s.named(err)
		}
		if cache != "" {
			writeSnapshot(cache, snap)
		}
	}
	h.all = snap.packages(inventory.ReadOSRelease(s.root), path)
	h.pkgs, h.kernel = withoutExcluded(h.all, s.excl, snap.kernel)
	h.releasever = s.opts.Releasever
	if h.releasever == "" {
		h.releasever = snap.releasever
	}
	if h.kernel >= 0 {
		h.kernelSource = h.pkgs[h.kernel].Source
	}
	return h, nil
}

// withoutExcluded drops the packages the exclude globs match, and says
// where the package at index keep went (-1 if dropped or absent).
func withoutExcluded(pkgs []inventory.Package, excl []string, keep int) ([]inventory.Package, int) {
	if len(excl) == 0 {
		return pkgs, keep
	}
	kept := make([]inventory.Package, 0, len(pkgs))
	at := -1
	for i := range pkgs {
		evr, arch := rpm.Installed(&pkgs[i])
		if excluded(excl, pkgs[i].Name, evr, arch) {
			continue
		}
		if i == keep {
			at = len(kept)
		}
		kept = append(kept, pkgs[i])
	}
	return kept, at
}

// readRPMDB decodes the database at path: the packages as libsolv sees
// them, $releasever from the release provides, and the package that owns
// the running kernel (release rel; none when rel is empty).
func readRPMDB(ctx context.Context, path, rel string) (*snapshot, error) {
	db, err := rpmdb.Open(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	s := &snapshot{kernel: -1}
	kernelPaths := []string{"/boot/vmlinuz-" + rel, "/lib/modules/" + rel}
	releaseHits := make([]string, len(releaseProvides))
	kernelHit := [2]int{-1, -1}
	err = db.Headers(ctx, func(key uint32, hd *rpmdb.Header) error {
		p, err := rpmdb.Decode(key, hd, rpmdb.Options{Brief: true})
		if err != nil {
			return fmt.Errorf("record %d: %w", key, err) // Headers names the file
		}
		for _, pr := range hd.Provides() {
			for i, want := range releaseProvides {
				if pr.Name != want || releaseHits[i] != "" {
					continue
				}
				releaseHits[i] = p.Version
				if pr.Flags&0x0f == 0x08 && pr.Version != "" && p.Name != want { // RPMSENSE_EQUAL
					releaseHits[i] = pr.Version
				}
			}
		}
		if p.Name == "gpg-pubkey" {
			return nil // libsolv leaves imported keys out
		}
		if rel != "" {
			for i, kp := range kernelPaths {
				if kernelHit[i] < 0 && hd.Owns(kp) {
					kernelHit[i] = len(s.rpms)
				}
			}
		}
		if p.Arch == "" {
			p.Arch = "noarch"
		}
		s.rpms = append(s.rpms, snapRPM{name: p.Name, evr: rpm.EVR{Epoch: p.Epoch, Version: p.Version, Release: p.Release},
			arch: p.Arch, source: p.SourceRPM})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, r := range releaseHits {
		if s.releasever == "" && r != "" {
			s.releasever = r
		}
	}
	for _, k := range kernelHit {
		if k >= 0 {
			s.kernel = k
			break
		}
	}
	return s, nil
}

// MachineArch returns this machine's architecture as rpm names it (uname
// -m: x86_64, aarch64), what Options.Arch defaults to.
func MachineArch() string {
	m, _ := uname()
	return m
}

// uname returns the machine architecture and the kernel release.
func uname() (machine, release string) {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "", ""
	}
	return utsString(u.Machine[:]), utsString(u.Release[:])
}

func utsString[T int8 | uint8](b []T) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

// CompatibleArches are the package arches libsolv accepts on a machine of
// arch (dnf's info -v lists file names for these).
func CompatibleArches(arch string) []string {
	switch repo.BaseArch(arch) {
	case "x86_64":
		return []string{"x86_64", "i686", "i586", "i486", "i386", "athlon", "noarch"}
	case "i386":
		return []string{"i686", "i586", "i486", "i386", "athlon", "noarch"}
	case "aarch64":
		return []string{"aarch64", "noarch"}
	case "ppc64le":
		return []string{"ppc64le", "noarch"}
	}
	return []string{arch, "noarch"}
}

// excluded reports whether a package matches an exclude glob in any of
// the forms dnf matches: name, name.arch, name-version,
// name-version-release and name-[epoch:]version-release.arch (with the
// epoch and without).
func excluded(globs []string, name string, evr rpm.EVR, arch string) bool {
	vr := evr.Version + "-" + evr.Release
	forms := []string{name, name + "." + arch, name + "-" + evr.Version, name + "-" + vr, name + "-" + vr + "." + arch}
	if e := evr.Epoch; e != "" {
		forms = append(forms, name+"-"+e+":"+vr, name+"-"+e+":"+vr+"."+arch)
	}
	for _, g := range globs {
		for _, f := range forms {
			if match.Glob(g, f) {
				return true
			}
		}
	}
	return false
}

// named returns err with the image's extracted root, a temporary
// directory the user never sees, named by the image instead.
func (s *System) named(err error) error {
	if s.opts.Image == "" || err == nil {
		return err
	}
	return &imageError{err: err, root: s.root, ref: s.opts.Image}
}

// imageError is an error about a file of an image's extracted root: its
// message names the image instead of the temporary directory.
type imageError struct {
	err       error
	root, ref string
}

func (e *imageError) Error() string {
	msg := strings.ReplaceAll(e.err.Error(), e.root+"/", "image "+e.ref+":/")
	return strings.ReplaceAll(msg, e.root, "image "+e.ref)
}

func (e *imageError) Unwrap() error { return e.err }
