package npm_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/advisory/osv"
	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/ecosystems/pypi"
	"github.com/alicorn-dev/alicorn/examples/npm/npm"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/match"
)

// A third-party ecosystem joins the core ones in a Set; scanning and OSV
// matching need nothing else.
func Example() {
	set, err := ecosystems.NewSet(pypi.Ecosystem{}, npm.Ecosystem{})
	if err != nil {
		panic(err)
	}
	tree := fstest.MapFS{"srv/site/package-lock.json": {Data: []byte(
		`{"lockfileVersion": 3, "packages": {"node_modules/lodash": {"version": "4.17.20"}}}`)}}
	pkgs, err := inventory.Scan(context.Background(), tree, set.Extractors())
	if err != nil {
		panic(err)
	}
	adv, err := osv.Parse([]byte(`{"id": "GHSA-35jh-r3h4-6jhm", "aliases": ["CVE-2021-23337"],
		"affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
		  "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}]}`), "lodash.json")
	if err != nil {
		panic(err)
	}
	vulns, err := match.OSV(context.Background(), pkgs, []*advisory.Advisory{adv}, set, match.OSVOptions{})
	if err != nil {
		panic(err)
	}
	for _, v := range vulns {
		fmt.Println(pkgs[v.Package].PURL, v.Advisory.ID, v.Advisory.Aliases, "fixed in", v.Fixed)
	}
	// Output: pkg:npm/lodash@4.17.20 GHSA-35jh-r3h4-6jhm [CVE-2021-23337] fixed in 4.17.21
}
