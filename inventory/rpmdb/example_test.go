package rpmdb_test

import (
	"context"
	"fmt"

	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
)

func ExampleRead() {
	pkgs, err := rpmdb.Read(context.Background(), "../../internal/testdata/example/root", rpmdb.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range pkgs {
		fmt.Println(p.NEVRA(), p.SourceRPM)
	}
	// Output:
	// openssl-libs-1:3.2.1-2.fc40.x86_64 openssl-libs-3.2.1-2.fc40.src.rpm
	// hello-1.0-1.fc40.noarch hello-1.0-1.fc40.src.rpm
}

func ExamplePackage_PURL() {
	p := rpmdb.Package{Name: "openssl-libs", Epoch: "1", Version: "3.2.1", Release: "2.fc40", Arch: "x86_64"}
	purl := p.PURL(inventory.OSRelease{ID: "fedora", VersionID: "40"})
	fmt.Println(purl.ToString())
	// Output: pkg:rpm/fedora/openssl-libs@3.2.1-2.fc40?arch=x86_64&distro=fedora-40&epoch=1
}
