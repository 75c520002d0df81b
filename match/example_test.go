package match_test

import (
	"context"
	"fmt"

	"github.com/package-url/packageurl-go"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/ecosystems/maven"
	"github.com/alicorn-dev/alicorn/ecosystems/pypi"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/match"
)

func ExampleDNF() {
	installed := []inventory.Package{
		rpm.NewPackage("openssl-libs", "1:3.2.1-2.fc40", "x86_64"),
		rpm.NewPackage("openssl-libs", "1:3.2.1-2.fc40", "i686"),
	}
	adv := &advisory.Advisory{ID: "FEDORA-2024-d2f1b9ac14", Type: advisory.Security,
		Collections: []advisory.Collection{{Packages: []advisory.Package{
			{Name: "openssl-libs", EVR: "1:3.2.2-3.fc40", Arch: "x86_64", HasArch: true},
		}}}}
	findings, err := match.DNF(context.Background(), installed, []*advisory.Advisory{adv}, match.DNFOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range findings {
		fmt.Println(f.Advisory.ID, rpm.NEVRA(&installed[f.Installed]), f.Fixed.EVR)
	}
	// Output: FEDORA-2024-d2f1b9ac14 openssl-libs-1:3.2.1-2.fc40.x86_64 1:3.2.2-3.fc40
}

func ExampleOSV() {
	set, err := ecosystems.NewSet(maven.Ecosystem{}, pypi.Ecosystem{})
	if err != nil {
		fmt.Println(err)
		return
	}
	pkgs := []inventory.Package{{
		PURL:    packageurl.PackageURL{Type: "maven", Namespace: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1"},
		Version: "2.14.1",
	}}
	adv := &advisory.Advisory{ID: "GHSA-jfh8-c2jp-5v3q", Aliases: []string{"CVE-2021-44228"},
		Affected: []advisory.Affected{{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core",
			Ranges: []advisory.Range{{Type: "ECOSYSTEM", Events: []advisory.Event{{Introduced: "2.0-beta9"}, {Fixed: "2.15.0"}}}}}}}
	vulns, err := match.OSV(context.Background(), pkgs, []*advisory.Advisory{adv}, set, match.OSVOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range vulns {
		fmt.Println(pkgs[v.Package].PURL, v.Advisory.ID, v.Advisory.Aliases, "fixed in", v.Fixed)
	}
	// Output: pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1 GHSA-jfh8-c2jp-5v3q [CVE-2021-44228] fixed in 2.15.0
}
