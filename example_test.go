package alicorn_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/alicorn-dev/alicorn"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/internal/archivetest"
	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/repo"
)

// The example root has openssl-libs 3.2.1 installed; its repository has a
// security advisory that fixes it.
func Example() {
	ctx := context.Background()
	cache, _ := os.MkdirTemp("", "alicorn-cache-")
	defer os.RemoveAll(cache)
	updates, _ := repo.FromPath("updates,internal/testdata/example/repo")
	sys, err := alicorn.Open(ctx, alicorn.Options{Root: abs("internal/testdata/example/root"), Releasever: "40",
		CacheDir: cache, Repos: alicorn.Repos{Dirs: []string{}, FromPath: []repo.Config{updates}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sys.Close()
	rep, err := sys.Report(ctx, alicorn.Query{Filter: match.Filter{Types: []string{"security"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rep.Host.Findings {
		fmt.Println(f.Advisory.ID, f.Advisory.Severity, rpm.NEVRA(&rep.Host.Installed[f.Installed]), "→", f.Fixed.EVR)
	}
	// Output:
	// FEDORA-2024-d2f1b9ac14 Important openssl-libs-1:3.2.1-2.fc40.x86_64 → 1:3.2.2-3.fc40
}

// An image, here an OCI layout holding the example root and a Spring Boot
// jar, is read like a root; with an OSV feed its jars, wheels and gems are
// checked too. A module file in the root's etc/alicorn/modules.d (or a
// ModuleDirs directory) would add each module's image the same way.
func Example_image() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "alicorn-example-")
	defer os.RemoveAll(dir)
	image, feed := exampleImage(dir)
	updates, _ := repo.FromPath("updates,internal/testdata/example/repo")
	sys, err := alicorn.Open(ctx, alicorn.Options{Image: "oci:" + image, OSV: []string{feed}, Releasever: "40",
		CacheDir: filepath.Join(dir, "cache"), Repos: alicorn.Repos{Dirs: []string{}, FromPath: []repo.Config{updates}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sys.Close()
	rep, err := sys.Report(ctx, alicorn.Query{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rep.Host.Findings {
		fmt.Println("rpm:", f.Advisory.ID, rpm.NEVRA(&rep.Host.Installed[f.Installed]))
	}
	for _, v := range rep.Host.Other.Vulnerable {
		fmt.Println("osv:", v.Advisory.ID, v.Advisory.Aliases, rep.Host.Other.Packages[v.Package].PURL, "fixed in", v.Fixed)
	}
	// Output:
	// rpm: FEDORA-2024-d2f1b9ac14 openssl-libs-1:3.2.1-2.fc40.x86_64
	// osv: GHSA-jfh8-c2jp-5v3q [CVE-2021-44228] pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1 fixed in 2.15.0
}

// Modules deployed on a root are reported with it: here the example root
// runs a module "web" whose image holds the same RPMs and a jar that an
// OSV feed names. A module file names the module and its image.
func Example_modules() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "alicorn-example-")
	defer os.RemoveAll(dir)
	image, feed := exampleImage(dir)
	mods := filepath.Join(dir, "modules.d")
	os.MkdirAll(mods, 0o755)
	os.WriteFile(filepath.Join(mods, "web.toml"), []byte("name = \"web\"\nimage = \"oci:"+image+"\"\n"), 0o644)
	updates, _ := repo.FromPath("updates,internal/testdata/example/repo")
	sys, err := alicorn.Open(ctx, alicorn.Options{Root: abs("internal/testdata/example/root"), ModuleDirs: []string{mods},
		OSV: []string{feed}, Releasever: "40", CacheDir: filepath.Join(dir, "cache"),
		Repos: alicorn.Repos{Dirs: []string{}, FromPath: []repo.Config{updates}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sys.Close()
	rep, err := sys.Report(ctx, alicorn.Query{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range rep.Modules {
		for _, f := range m.Findings {
			fmt.Println(m.Name, "rpm:", f.Advisory.ID, rpm.NEVRA(&m.Installed[f.Installed]))
		}
		for _, v := range m.Vulnerable {
			fmt.Println(m.Name, "osv:", v.Advisory.ID, m.Packages[v.Package].PURL, "fixed in", v.Fixed)
		}
	}
	// Output:
	// web rpm: FEDORA-2024-d2f1b9ac14 openssl-libs-1:3.2.1-2.fc40.x86_64
	// web osv: GHSA-jfh8-c2jp-5v3q pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1 fixed in 2.15.0
}

// exampleImage writes into dir an OCI layout of the example root plus a
// jar, and an OSV feed about the jar; it returns their paths.
func exampleImage(dir string) (image, feed string) {
	files := map[string][]byte{}
	root := "internal/testdata/example/root"
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			files[filepath.ToSlash(rel)], _ = os.ReadFile(p)
		}
		return err
	})
	pom, _ := archivetest.Zip("META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
		"groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n")
	files["opt/app/app.jar"], _ = archivetest.Zip("BOOT-INF/lib/log4j-core-2.14.1.jar", string(pom))
	tarred, _ := archivetest.Tar(files)
	layer, _ := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tarred)), nil })
	img, _ := mutate.AppendLayers(empty.Image, layer)
	p, _ := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	p.AppendImage(img)
	feed = filepath.Join(dir, "GHSA-jfh8-c2jp-5v3q.json")
	os.WriteFile(feed, []byte(`{"id": "GHSA-jfh8-c2jp-5v3q", "summary": "Log4Shell", "aliases": ["CVE-2021-44228"],
	  "modified": "2021-12-10T00:00:00Z", "affected": [{"package": {"ecosystem": "Maven",
	  "name": "org.apache.logging.log4j:log4j-core"}, "ranges": [{"type": "ECOSYSTEM",
	  "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]}]}]}`), 0o644)
	return filepath.Join(dir, "layout"), feed
}

func abs(p string) string {
	a, _ := filepath.Abs(p)
	return a
}
