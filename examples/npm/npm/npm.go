// Package npm adds the npm ecosystem to alicorn from outside its core
// packages, as a third party would: packages from package-lock.json
// (lockfile versions 1 to 3), ordered by Semantic Versioning 2.0
// precedence (Masterminds/semver), named "@scope/name" in OSV.
package npm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/package-url/packageurl-go"

	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/inventory"
)

// Ecosystem is npm's.
type Ecosystem struct{}

var (
	_ ecosystems.Ecosystem = Ecosystem{}
	_ ecosystems.Namer     = Ecosystem{}
)

// Type is the purl type.
func (Ecosystem) Type() string { return packageurl.TypeNPM }

// OSV is the ecosystem's name in OSV.
func (Ecosystem) OSV() string { return "npm" }

// Compare orders two versions by SemVer precedence.
func (Ecosystem) Compare(a, b string) (int, error) {
	return ecosystems.CompareParsed(func(s string) (*semver.Version, error) { return semver.NewVersion(s) }, a, b)
}

// Extractors returns the package-lock.json extractor.
func (Ecosystem) Extractors() []inventory.Extractor { return []inventory.Extractor{Lockfile{}} }

// PURLName splits a scoped name "@scope/name" into namespace and name.
func (Ecosystem) PURLName(osvName string) (namespace, name string) {
	if strings.HasPrefix(osvName, "@") {
		if ns, n, ok := strings.Cut(osvName, "/"); ok {
			return ns, n
		}
	}
	return "", osvName
}

// Lockfile reads package-lock.json and npm-shrinkwrap.json.
type Lockfile struct{}

// Name identifies the extractor.
func (Lockfile) Name() string { return "npm/package-lock" }

// Required reports whether p is a lockfile outside node_modules (npm's
// hidden node_modules/.package-lock.json repeats the same packages).
func (Lockfile) Required(p string, info fs.FileInfo) bool {
	b := path.Base(p)
	return (b == "package-lock.json" || b == "npm-shrinkwrap.json") && info.Mode().IsRegular() &&
		!strings.Contains(p, "node_modules/")
}

// validName reports whether s can name a package: "name" or
// "@scope/name", neither part empty.
func validName(s string) bool {
	if strings.HasPrefix(s, "@") {
		scope, name, ok := strings.Cut(s[1:], "/")
		return ok && scope != "" && name != "" && !strings.Contains(name, "/")
	}
	return s != "" && !strings.Contains(s, "/")
}

// maxLockfile bounds the lockfiles read.
const maxLockfile = 64 << 20

type lockfile struct {
	Packages     map[string]entry `json:"packages"`
	Dependencies map[string]entry `json:"dependencies"`
}

type entry struct {
	Version      string           `json:"version"`
	Link         bool             `json:"link"`
	Dependencies map[string]entry `json:"dependencies"`
}

// Extract lists the installed packages of the lockfile: the "packages"
// map of lockfile versions 2 and 3, else version 1's nested
// "dependencies". The root project and links are not packages.
func (Lockfile) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	if in.Info.Size() > maxLockfile {
		return nil, fmt.Errorf("%d bytes, more than the %d this extractor reads", in.Info.Size(), maxLockfile)
	}
	f, err := in.FS.Open(in.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lf lockfile
	if err := json.NewDecoder(io.LimitReader(f, maxLockfile)).Decode(&lf); err != nil {
		return nil, err
	}
	found := map[[2]string]bool{}
	if len(lf.Packages) > 0 {
		for p, e := range lf.Packages {
			i := strings.LastIndex(p, "node_modules/")
			if i < 0 || e.Link || e.Version == "" {
				continue
			}
			if name := p[i+len("node_modules/"):]; validName(name) {
				found[[2]string{name, e.Version}] = true
			}
		}
	} else {
		var walk func(map[string]entry, int) error
		walk = func(deps map[string]entry, depth int) error {
			if depth > 256 {
				return fmt.Errorf("dependencies nested deeper than 256")
			}
			for name, e := range deps {
				if e.Version != "" && !strings.Contains(e.Version, ":") && validName(name) { // not "file:", "git+https:"
					found[[2]string{name, e.Version}] = true
				}
				if err := walk(e.Dependencies, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		if err := walk(lf.Dependencies, 0); err != nil {
			return nil, err
		}
	}
	var out []inventory.Package
	for k := range found {
		ns, name := Ecosystem{}.PURLName(k[0])
		out = append(out, inventory.Package{
			PURL:      packageurl.PackageURL{Type: packageurl.TypeNPM, Namespace: ns, Name: name, Version: k[1]},
			Name:      k[0],
			Version:   k[1],
			Locations: []inventory.Location{{Path: in.Path, Layer: in.Layer}},
		})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || out[i].Name == out[j].Name && out[i].Version < out[j].Version
	})
	return out, nil
}
