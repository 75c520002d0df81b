package npm

import (
	"context"

	"github.com/alicorn-dev/alicorn/inventory"
	"testing"
	"testing/fstest"

	"github.com/alicorn-dev/alicorn/ecosystems/ecosystemtest"
)

const lockV3 = `{"name": "site", "lockfileVersion": 3, "packages": {
  "": {"name": "site", "version": "1.0.0"},
  "node_modules/lodash": {"version": "4.17.20"},
  "node_modules/@babel/core": {"version": "7.22.0"},
  "node_modules/@babel/core/node_modules/semver": {"version": "6.3.0"},
  "node_modules/local": {"resolved": "../local", "link": true}}}`

const lockV1 = `{"name": "old", "lockfileVersion": 1, "dependencies": {
  "minimist": {"version": "0.0.8", "dependencies": {"deep": {"version": "1.0.0-beta.2"}}},
  "mine": {"version": "file:../mine"}}}`

func TestConformance(t *testing.T) {
	ecosystemtest.Run(t, Ecosystem{}, ecosystemtest.Case{
		Ordered: []string{"0.0.8", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0",
			"1.2.0", "1.10.0"},
		Equal:   [][2]string{{"1.0.0+build.1", "1.0.0"}},
		Invalid: []string{"not.a.version"},
		Tree: fstest.MapFS{
			"srv/site/package-lock.json":                {Data: []byte(lockV3)},
			"srv/old/npm-shrinkwrap.json":               {Data: []byte(lockV1)},
			"srv/site/node_modules/.package-lock.json":  {Data: []byte(lockV3)},
			"srv/site/node_modules/x/package-lock.json": {Data: []byte(lockV1)},
		},
		Want: []string{"pkg:npm/lodash@4.17.20", "pkg:npm/%40babel/core@7.22.0", "pkg:npm/semver@6.3.0",
			"pkg:npm/minimist@0.0.8", "pkg:npm/deep@1.0.0-beta.2"},
		OSVNames: map[string]string{"@babel/core": "@babel/core", "lodash": "lodash"},
	})
}

func FuzzLockfile(f *testing.F) {
	f.Add([]byte(lockV3))
	f.Add([]byte(lockV1))
	f.Fuzz(func(t *testing.T, b []byte) {
		tree := fstest.MapFS{"package-lock.json": {Data: b}}
		info, _ := tree.Stat("package-lock.json")
		pkgs, _ := Lockfile{}.Extract(context.Background(), &inventory.Input{FS: tree, Path: "package-lock.json", Info: info})
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}
