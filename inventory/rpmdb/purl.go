package rpmdb

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/alicorn-dev/alicorn/inventory"
)

// OSRelease is what a root's os-release says about its distribution.
type OSRelease struct {
	// ID is the distribution's ID ("fedora", "rhel", "opensuse-leap").
	ID string
	// VersionID is its version ("40", "9.4").
	VersionID string
}

// ReadOSRelease reads etc/os-release (or usr/lib/os-release) under root.
// A root without one gives the zero OSRelease.
func ReadOSRelease(root string) OSRelease {
	var o OSRelease
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok {
				continue
			}
			v = strings.Trim(v, `"'`)
			switch k {
			case "ID":
				o.ID = v
			case "VERSION_ID":
				o.VersionID = v
			}
		}
		return o
	}
	return o
}

// PURL is the package's URL, as the package-url spec defines pkg:rpm:
// pkg:rpm/<distribution ID>/<name>@[<epoch>:]<version>-<release>
// ?arch=<arch>&epoch=<epoch>&distro=<ID>-<VERSION_ID>.
func (p *Package) PURL(osr OSRelease) packageurl.PackageURL {
	version := p.Version + "-" + p.Release
	var q packageurl.Qualifiers
	if p.Arch != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: p.Arch})
	}
	if p.Epoch != "" && p.Epoch != "0" {
		version = p.Epoch + ":" + version
		q = append(q, packageurl.Qualifier{Key: "epoch", Value: p.Epoch})
	}
	if osr.ID != "" {
		d := osr.ID
		if osr.VersionID != "" {
			d += "-" + osr.VersionID
		}
		q = append(q, packageurl.Qualifier{Key: "distro", Value: d})
	}
	return *packageurl.NewPackageURL(packageurl.TypeRPM, osr.ID, p.Name, version, q, "")
}

// Inventory describes the package as an inventory.Package found in the
// database at dbPath.
func (p *Package) Inventory(osr OSRelease, dbPath string) inventory.Package {
	purl := p.PURL(osr)
	return inventory.Package{PURL: purl, Name: p.Name, Version: purl.Version, Source: p.SourceRPM,
		Installed: p.InstallTime, Locations: []inventory.Location{{Path: dbPath}}}
}
