package rpmdb

import (
	"github.com/package-url/packageurl-go"

	"github.com/alicorn-dev/alicorn/inventory"
)

// PURL is the package's URL, as the package-url spec defines pkg:rpm:
// pkg:rpm/<distribution ID>/<name>@<version>-<release>
// ?arch=<arch>&epoch=<epoch>&distro=<ID>-<VERSION_ID>. The epoch is only a
// qualifier, left out when it is empty or 0.
func (p *Package) PURL(osr inventory.OSRelease) packageurl.PackageURL {
	version := p.Version + "-" + p.Release
	var q packageurl.Qualifiers
	if p.Arch != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: p.Arch})
	}
	if p.Epoch != "" && p.Epoch != "0" {
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
func (p *Package) Inventory(osr inventory.OSRelease, dbPath string) inventory.Package {
	purl := p.PURL(osr)
	version := purl.Version
	if p.Epoch != "" && p.Epoch != "0" {
		version = p.Epoch + ":" + version
	}
	pkg := inventory.Package{PURL: purl, Name: p.Name, Version: version, Source: p.SourceRPM, Installed: p.InstallTime}
	if dbPath != "" {
		pkg.Locations = []inventory.Location{{Path: dbPath}}
	}
	return pkg
}
