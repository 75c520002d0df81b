package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn"
	"github.com/alicorn-dev/alicorn/internal/archivetest"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/internal/webimage"
	"github.com/alicorn-dev/alicorn/repo"
)

// The Pegasus module's app layer: a gem, a Python distribution and a jar,
// put on the composed web image by its Containerfile.
const (
	pegasusGem   = "usr/share/gems/specifications/rack-2.2.3.gemspec"
	pegasusWheel = "usr/lib/python3.12/site-packages/requests-2.25.0.dist-info/METADATA"
	pegasusJar   = "opt/app/app.jar"
)

// TestPegasus rebuilds the Pegasus module (the web module and a
// Containerfile layer of gems, wheels and jars) after a fix of an RPM in
// it: the rebuilt image keeps its app layer, whose packages the reporter
// still finds.
func TestPegasus(t *testing.T) {
	d := newDemo(t)
	app := filepath.Join(d.dir, "mods", "app")
	require.NoError(t, os.MkdirAll(app, 0o755))
	jar, err := archivetest.Zip("META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
		"groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n")
	require.NoError(t, err)
	for name, data := range map[string][]byte{
		"rack.gemspec": []byte("Gem::Specification.new do |s|\n  s.name = \"rack\"\n  s.version = \"2.2.3\"\nend\n"),
		"METADATA":     []byte("Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n"),
		"app.jar":      jar,
	} {
		require.NoError(t, os.WriteFile(filepath.Join(app, name), data, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(app, "Containerfile"), []byte("FROM scratch\n"+
		"COPY rack.gemspec /"+pegasusGem+"\n"+
		"COPY METADATA /"+pegasusWheel+"\n"+
		"COPY app.jar /"+pegasusJar+"\n"), 0o644))
	image := d.module(t, "pegasus")
	file := filepath.Join(d.dir, "mods", "pegasus.toml")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(b), "[build]\n", "[build]\ncontainerfile = \"app/Containerfile\"\n", 1)), 0o644))
	require.NoError(t, os.Remove(filepath.Join(d.dir, "mods", "web.toml")))

	feed := filepath.Join(d.dir, "osv")
	require.NoError(t, os.MkdirAll(feed, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(feed, "log4shell.json"), []byte(`{"id": "GHSA-jfh8-c2jp-5v3q",
	  "modified": "2021-12-10T00:00:00Z", "aliases": ["CVE-2021-44228"],
	  "affected": [{"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]}]}]}`), 0o644))
	// The image's other packages, as the reporter finds them.
	others := func() []string {
		rc, err := repo.FromPath("recipe,file://" + d.repoDir)
		require.NoError(t, err)
		sys, err := alicorn.Open(context.Background(), alicorn.Options{Image: image, Arch: "x86_64", OSV: []string{feed},
			CacheDir: filepath.Join(d.dir, "report-cache"), Repos: alicorn.Repos{Dirs: []string{}, FromPath: []repo.Config{rc}}})
		require.NoError(t, err)
		defer sys.Close()
		rep, err := sys.Report(context.Background(), alicorn.Query{})
		require.NoError(t, err)
		require.NotNil(t, rep.Host.Other)
		var out []string
		for _, p := range rep.Host.Other.Packages {
			out = append(out, p.PURL.String())
		}
		for _, v := range rep.Host.Other.Vulnerable {
			out = append(out, "vulnerable "+rep.Host.Other.Packages[v.Package].PURL.String())
		}
		return out
	}
	code, out := d.cli(t, "build")
	require.Equal(t, 0, code, out)
	want := []string{"pkg:gem/rack@2.2.3", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "pkg:pypi/requests@2.25.0",
		"vulnerable pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}
	assert.ElementsMatch(t, want, others())

	// An RPM inside gets a fix: the rebuild keeps the app layer.
	fixed, err := webimage.HTTPD(context.Background(), filepath.Join(d.dir, "build"), "2", false)
	require.NoError(t, err)
	d.addRPMs(t, fixed)
	require.NoError(t, rpmtest.Cached(t).AddMetadata(d.repoDir, "updateinfo", "updateinfo.xml",
		[]byte(strings.ReplaceAll(advisory, "%[1]s", d.version)), "gz"))
	code, out = d.cli(t, "build")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "pegasus check rebuild (advisories) ALICORN-2026-1")
	assert.Contains(t, out, "pegasus publish published")
	assert.ElementsMatch(t, want, others(), "the app layer, rebuilt on the fixed RPMs")
}
