package rebuild

import (
	"errors"
	"fmt"
	"os"
	"time"

	rpmutils "github.com/sassoftware/go-rpmutils"
)

// ErrVerify is wrapped by the errors of package files that fail
// verification: a header or payload digest that does not match, a
// NEVRA that is not the one dnf resolved, a header that cannot be read.
var ErrVerify = errors.New("package verification failed")

// Package is an RPM a build installed.
type Package struct {
	// NEVRA is name-[epoch:]version-release.arch, as dnf prints it
	// (the epoch only when it is not 0).
	NEVRA string
	// File is the package file that was verified and installed.
	File string
	// BuildTime is the package's BUILDTIME.
	BuildTime time.Time
	// KeyIDs are the IDs (16 hex digits) of the keys of the package's
	// OpenPGP signatures; none when the package is unsigned. The
	// signatures are parsed, not yet checked against any key.
	KeyIDs []string
}

// verifyRPM reads the package file at path with go-rpmutils: the header's
// digest and the payload's digest (reading the whole payload) must match
// the package's own records. It returns what the header says.
func verifyRPM(path string) (Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return Package{}, err
	}
	defer f.Close()
	// No keys yet: signatures are parsed, digests checked.
	hdr, sigs, err := rpmutils.Verify(f, nil)
	if err != nil {
		return Package{}, fmt.Errorf("%w: %s: %w", ErrVerify, path, err)
	}
	n, err := hdr.GetNEVRA()
	if err != nil {
		return Package{}, fmt.Errorf("%w: %s: %w", ErrVerify, path, err)
	}
	bt, err := hdr.GetUint64s(rpmutils.BUILDTIME)
	if err != nil || len(bt) != 1 {
		return Package{}, fmt.Errorf("%w: %s: no build time (%v)", ErrVerify, path, err)
	}
	p := Package{NEVRA: nevra(n.Name, n.Epoch, n.Version, n.Release, n.Arch), File: path,
		BuildTime: time.Unix(int64(bt[0]), 0).UTC()}
	for _, s := range sigs {
		p.KeyIDs = append(p.KeyIDs, fmt.Sprintf("%016x", s.KeyId))
	}
	return p, nil
}

// nevra formats a package's identity as dnf prints it.
func nevra(name, epoch, version, release, arch string) string {
	evr := version + "-" + release
	if epoch != "" && epoch != "0" {
		evr = epoch + ":" + evr
	}
	return name + "-" + evr + "." + arch
}
