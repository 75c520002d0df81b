package match_test

import (
	"context"
	"fmt"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/match"
)

func ExampleDNF() {
	installed := []match.RPM{
		{Name: "openssl-libs", EVR: rpm.ParseEVR("1:3.2.1-2.fc40"), Arch: "x86_64"},
		{Name: "openssl-libs", EVR: rpm.ParseEVR("1:3.2.1-2.fc40"), Arch: "i686"},
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
		fmt.Println(f.Advisory.ID, installed[f.Installed].Arch, f.Fixed.EVR)
	}
	// Output: FEDORA-2024-d2f1b9ac14 x86_64 1:3.2.2-3.fc40
}
