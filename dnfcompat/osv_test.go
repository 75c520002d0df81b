package dnfcompat

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/archivetest"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

const (
	requestsMeta = "usr/lib/python3.12/site-packages/requests-2.25.0.dist-info/METADATA"
	flaskMeta    = "usr/local/lib/python3.12/site-packages/Flask_Cors-3.0.0.dist-info/METADATA"
	rackSpec     = "usr/share/gems/specifications/rack-2.2.3.gemspec"
	appJar       = "opt/app/app.jar"
)

// osvFeed is a directory of OSV documents about the packages of
// osvImage.
var osvFeed = map[string]string{
	"PYSEC-2020-43.json": `{"id": "PYSEC-2020-43", "summary": "flask-cors path traversal", "aliases": ["CVE-2020-25032"],
	  "modified": "2021-01-01T00:00:00Z", "published": "2020-09-01T00:00:00Z",
	  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
	  "affected": [{"package": {"ecosystem": "PyPI", "name": "Flask-Cors"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.9"}]}]}],
	  "references": [{"type": "ADVISORY", "url": "https://github.com/advisories/GHSA-xc3p-ff3m-f46v"}]}`,
	"GHSA-requests.json": `{"id": "GHSA-j8r2-6x86-q33q", "summary": "requests leaks Proxy-Authorization", "aliases": ["CVE-2023-32681"],
	  "modified": "2023-06-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.3.0"}, {"fixed": "2.31.0"}]}]}],
	  "database_specific": {"severity": "MODERATE"}}`,
	"GHSA-rack.json": `{"id": "GHSA-rack-0001", "summary": "rack", "modified": "2022-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "RubyGems", "name": "rack"}, "versions": ["2.2.2", "2.2.3"]}],
	  "database_specific": {"severity": "LOW"}}`,
	"GHSA-jfh8-c2jp-5v3q.json": `{"id": "GHSA-jfh8-c2jp-5v3q", "summary": "Log4Shell", "aliases": ["CVE-2021-44228"],
	  "modified": "2021-12-10T00:00:00Z",
	  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
	  "affected": [{"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]}]}]}`,
	"GHSA-withdrawn.json": `{"id": "GHSA-withdrawn", "modified": "2022-01-01T00:00:00Z", "withdrawn": "2022-02-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "RubyGems", "name": "rack"}, "versions": ["2.2.3"]}]}`,
}

func zipBytes(t *testing.T, files ...string) []byte {
	b, err := archivetest.Zip(files...)
	require.NoError(t, err)
	return b
}

// osvImage builds a one-layer image whose root holds, besides RPMs, a
// Python distribution an RPM owns (requests), one pip installed
// (Flask-Cors), a gem and a Spring Boot jar with log4j-core inside.
func osvImage(t *testing.T, b *rpmtest.Builder, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "root")
	require.NoError(t, b.Root(root, []rpmtest.Pkg{
		{Name: "alpha", Version: "1.0", Release: "1", Arch: "x86_64"},
		{Name: "python3-requests", Version: "2.25.0", Release: "1.fc40", Arch: "noarch",
			Files: map[string]string{"/" + requestsMeta: "Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n"}},
	}))
	log4j := zipBytes(t, "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
		"groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n")
	files := map[string][]byte{
		flaskMeta: []byte("Metadata-Version: 2.1\nName: Flask-Cors\nVersion: 3.0.0\n"),
		rackSpec:  []byte("# -*- encoding: utf-8 -*-\n# stub: rack 2.2.3 ruby lib\n\nGem::Specification.new do |s|\n  s.name = \"rack\"\nend\n"),
		appJar:    zipBytes(t, "BOOT-INF/lib/log4j-core-2.14.1.jar", string(log4j)),
		// Root installs with --justdb: the file rpm would have written.
		requestsMeta:         []byte("Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n"),
		"usr/lib/os-release": []byte("NAME=Fedora\nID=fedora\nVERSION_ID=40\nPLATFORM_ID=\"platform:f40\"\n"),
	}
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	return layoutOf(t, root, filepath.Join(dir, "layout"))
}

// layoutOf writes an OCI layout at lay holding a one-layer image of root.
func layoutOf(t *testing.T, root, lay string) string {
	t.Helper()
	layer := tarLayer(t, root, func(string) bool { return true })
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layer)), nil })
	require.NoError(t, err)
	img, err := mutate.AppendLayers(empty.Image, l)
	require.NoError(t, err)
	p, err := layout.Write(lay, empty.Index)
	require.NoError(t, err)
	require.NoError(t, p.AppendImage(img))
	return lay
}

// writeFeed writes osvFeed into dir/osv and returns its path.
func writeFeed(t *testing.T, dir string) string {
	t.Helper()
	feed := filepath.Join(dir, "osv")
	require.NoError(t, os.MkdirAll(feed, 0o755))
	for name, doc := range osvFeed {
		require.NoError(t, os.WriteFile(filepath.Join(feed, name), []byte(doc), 0o644))
	}
	return feed
}

// TestModuleOSV reports a module holding gems, wheels and jars against an
// OSV feed: the host's report stays dnf's, the module's OSV rows follow.
func TestModuleOSV(t *testing.T) {
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux)", m)
	}
	b := testBuilder(t)
	dir := t.TempDir()
	lay := osvImage(t, b, dir)
	image := "oci:" + lay
	feed := writeFeed(t, dir)
	withModule := moduleHost(t, b, dir, nil, false, "name = \"web\"\nimage = \""+image+"\"\n")
	mods := filepath.Join(dir, "mods")
	args := func(cmd ...string) []string { return withModule(append([]string{"--osv=" + feed}, cmd...)...) }
	code, stdout, stderr := runCLI(args("updateinfo", "list")...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, ""+
		"ADV-A               Important/Sec. module web "+image+"\n"+
		"GHSA-jfh8-c2jp-5v3q Critical/Sec.  module web "+image+"\n"+
		"GHSA-rack-0001      Low/Sec.       module web "+image+"\n"+
		"PYSEC-2020-43       Important/Sec. module web "+image+"\n", stdout)

	code, stdout, stderr = runCLI(args("updateinfo", "list", "-v", "--sec-severity=Critical")...)
	require.Equal(t, 0, code, stderr)
	t.Logf("-v:\n%s", stdout)
	assert.Contains(t, stdout, "GHSA-jfh8-c2jp-5v3q Critical/Sec. module web "+image+"\n"+
		"    pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1 fixed in 2.15.0 at opt/app/app.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar\n")
	assert.Contains(t, stdout, "        GHSA-jfh8-c2jp-5v3q CVE-2021-44228 Critical fixed in 2.15.0\n")
	assert.Contains(t, stdout, "pkg:pypi/requests@2.25.0 owned by python3-requests-2.25.0-1.fc40.noarch\n")

	// RPM-owned packages are checked too when asked.
	code, stdout, stderr = runCLI(args("updateinfo", "list", "--osv-rpm-owned", "--with-cve")...)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `(?m)^CVE-2023-32681 +Moderate/Sec\.`, stdout)
	// As dnf's --with-cve rows: the advisory's own (self) reference too.
	assert.Regexp(t, `(?m)^GHSA-j8r2-6x86-q33q +Moderate/Sec\.`, stdout)

	code, stdout, stderr = runCLI(args("updateinfo", "info", "PYSEC-2020-43")...)
	require.Equal(t, 0, code, stderr)
	// The CVE alias is on the CVEs line, once.
	assert.Equal(t, 1, strings.Count(stdout, "CVE-2020-25032"), stdout)
	assert.Contains(t, stdout, "       CVEs: CVE-2020-25032\n   Severity: Important\n      Links: https://github.com/advisories/GHSA-xc3p-ff3m-f46v\n")
	assert.Contains(t, stdout, "   Packages: pkg:pypi/flask-cors@3.0.0 fixed in 3.0.9 at "+flaskMeta+"\n")
	t.Logf("info:\n%s", stdout)

	code, stdout, stderr = runCLI(args("updateinfo", "summary")...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "Modules needing updates: 1\n    web ("+image+"): 4 Security notice(s)\n"+
		"        1 Critical Security notice(s)\n        2 Important Security notice(s)\n        1 Low Security notice(s)\n", stdout)

	code, stdout, stderr = runCLI(args("updateinfo", "list", "--json")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, `"purl": "pkg:gem/rack@2.2.3"`)
	assert.Contains(t, stdout, `"aliases": [`)

	code, _, _ = runCLI(args("updateinfo", "--fail-on=Critical")...)
	assert.Equal(t, ExitFound, code, "an OSV advisory fails the gate too")

	// A module file may name its own feeds; a broken feed is an error naming it.
	require.NoError(t, os.WriteFile(filepath.Join(mods, "web.toml"),
		[]byte("name = \"web\"\nimage = \""+image+"\"\nosv = [\"../osv\"]\n"), 0o644))
	code, stdout, stderr = runCLI(withModule("updateinfo", "list", "--security")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "PYSEC-2020-43")

	// A "*" limit is infinity; a range that cannot be evaluated is a
	// warning naming the advisory, and the rest is reported.
	require.NoError(t, os.WriteFile(filepath.Join(feed, "GHSA-star.json"), []byte(`{"id": "GHSA-star", "modified": "2022-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "RubyGems", "name": "rack"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.2.4"}, {"limit": "*"}]}]}]}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(feed, "GHSA-odd.json"), []byte(`{"id": "GHSA-odd", "modified": "2022-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "RubyGems", "name": "rack"},
	    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.2.x y"}]}]}]}`), 0o644))
	code, stdout, stderr = runCLI(withModule("updateinfo", "list", "--security")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "GHSA-star ")
	assert.NotContains(t, stdout, "GHSA-odd")
	assert.Contains(t, stderr, `warning: module web: advisory GHSA-odd: pkg:gem/rack@2.2.3: ECOSYSTEM range 1: `+
		`range cannot be evaluated: fixed "2.2.x y"`)
	require.NoError(t, os.WriteFile(filepath.Join(feed, "bad.json"), []byte(`{"id": "X", "affected": [`), 0o644))
	assertFails(t, "bad.json", args("updateinfo", "list")...)
}
