package rebuild

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/repo"
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
	// OpenPGP signatures; none when the package is unsigned. They are
	// checked against the recipe's keys when it has any.
	KeyIDs []string
}

// verifyRPM reads the package file at path with go-rpmutils: the header's
// digest and the payload's digest (reading the whole payload) must match
// the package's own records. It returns what the header says.
//
// With keys, the package must also be signed, and every signature made by
// one of them.
func verifyRPM(path string, keys openpgp.EntityList) (Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return Package{}, err
	}
	defer f.Close()
	hdr, sigs, err := rpmutils.Verify(f, keys)
	if err != nil {
		return Package{}, fmt.Errorf("%w: %s: %w", ErrVerify, path, err)
	}
	if len(keys) > 0 && len(sigs) == 0 {
		return Package{}, fmt.Errorf("%w: %s: not signed, and the recipe's repositories have keys", ErrVerify, path)
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

// Keys reads the OpenPGP public keys a recipe's packages must be signed
// by: its gpgkeys files, and the gpgkey= files (file:// URLs) of its .repo
// files' repositories that set gpgcheck (vars expand $releasever and
// $basearch in them). None: signatures are only reported.
func Keys(b module.Build, vars repo.Vars) (openpgp.EntityList, error) {
	files := append([]string(nil), b.GPGKeys...)
	for _, r := range b.Repos {
		if strings.Contains(r, "://") {
			continue
		}
		f, err := os.Open(r)
		if err != nil {
			return nil, err
		}
		cs, err := repo.ParseConfig(f, r, vars)
		f.Close()
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if !c.Enabled || !c.GPGCheck {
				continue
			}
			for _, k := range c.GPGKeys {
				p, ok := strings.CutPrefix(k, "file://")
				if !ok {
					return nil, fmt.Errorf("%s: repository %s: gpgkey %s: only file:// keys are read", r, c.ID, k)
				}
				files = append(files, p)
			}
		}
	}
	var keys openpgp.EntityList
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("gpg key: %w", err)
		}
		el, err := openpgp.ReadArmoredKeyRing(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("gpg key %s: %w", p, err)
		}
		keys = append(keys, el...)
	}
	return keys, nil
}
