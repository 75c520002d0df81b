package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/alicorn-dev/alicorn/internal/archivetest"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/update/rebuild"
)

const urllib3Meta = "/usr/lib/python3.12/site-packages/urllib3-1.26.18.dist-info/METADATA"

// moduleRPMs are installed by rpm into the module image's first layer;
// python3-urllib3 owns its dist-info, as Fedora's package does.
var moduleRPMs = []rpmtest.Pkg{
	{Name: "curl", Version: "8.6.0", Release: "7.fc40", Arch: "x86_64"},
	{Name: "python3-urllib3", Version: "1.26.18", Release: "2.fc40", Arch: "noarch",
		Files: map[string]string{urllib3Meta: "Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.18\n"}},
}

// osvFeed is the module's OSV feed. The urllib3 entry is not reported:
// the RPM that owns urllib3 is, through Fedora's advisory.
var osvFeed = map[string]string{
	"PYSEC-2020-43.json": `{"id": "PYSEC-2020-43", "summary": "Flask-CORS directory traversal",
  "aliases": ["CVE-2020-25032"], "published": "2020-09-03T00:00:00Z", "modified": "2024-01-10T00:00:00Z",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
  "affected": [{"package": {"ecosystem": "PyPI", "name": "flask-cors"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.9"}]}]}],
  "references": [{"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2020-25032"}]}`,
	"GHSA-jfh8-c2jp-5v3q.json": `{"id": "GHSA-jfh8-c2jp-5v3q", "summary": "Remote code injection in Log4j",
  "aliases": ["CVE-2021-44228"], "published": "2021-12-10T00:00:00Z", "modified": "2024-03-01T00:00:00Z",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
  "affected": [{"package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]}]}],
  "references": [{"type": "WEB", "url": "https://logging.apache.org/log4j/2.x/security.html"}]}`,
	"GHSA-54rr-7fvw-6x8f.json": `{"id": "GHSA-54rr-7fvw-6x8f", "summary": "Shell escape in Rack's Lint",
  "aliases": ["CVE-2022-30123"], "modified": "2023-01-01T00:00:00Z", "database_specific": {"severity": "CRITICAL"},
  "affected": [{"package": {"ecosystem": "RubyGems", "name": "rack"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.2.0"}, {"fixed": "2.2.3.1"}]}]}]}`,
	"GHSA-34jh-p97f-mpxf.json": `{"id": "GHSA-34jh-p97f-mpxf", "summary": "urllib3 Proxy-Authorization header",
  "aliases": ["CVE-2024-37891"], "modified": "2024-06-18T00:00:00Z", "database_specific": {"severity": "MODERATE"},
  "affected": [{"package": {"ecosystem": "PyPI", "name": "urllib3"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.26.19"}]}]}]}`,
}

// webModule writes the module's image (an OCI layout), its OSV feed and
// its module file under the host root's /etc/alicorn/modules.d.
func webModule(ctx context.Context, b *rpmtest.Builder, dir, root string) error {
	var rpms []string
	for _, p := range moduleRPMs {
		f, err := b.Build(p)
		if err != nil {
			return err
		}
		rpms = append(rpms, f)
	}
	work := filepath.Join(dir, "image-work")
	os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	img, err := rebuild.Compose(ctx, work, rpms, rebuild.Config{Cmd: []string{"/bin/httpd"}})
	if err != nil {
		return err
	}
	log4j, err := archivetest.Zip("META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
		"groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n")
	if err != nil {
		return err
	}
	app, err := archivetest.Zip("BOOT-INF/lib/log4j-core-2.14.1.jar", string(log4j))
	if err != nil {
		return err
	}
	layer, err := archivetest.Tar(map[string][]byte{
		"usr/local/lib/python3.12/site-packages/Flask_Cors-3.0.0.dist-info/METADATA": []byte(
			"Metadata-Version: 2.1\nName: Flask-Cors\nVersion: 3.0.0\n"),
		"opt/app/app.jar": app,
		"srv/app/Gemfile.lock": []byte(
			"GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.3)\n\nDEPENDENCIES\n  rack\n"),
	})
	if err != nil {
		return err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layer)), nil })
	if err != nil {
		return err
	}
	if img, err = mutate.AppendLayers(img, l); err != nil {
		return err
	}
	lay := filepath.Join(dir, "web-image")
	os.RemoveAll(lay)
	p, err := layout.Write(lay, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img); err != nil {
		return err
	}
	feed := filepath.Join(dir, "osv")
	os.RemoveAll(feed)
	if err := os.MkdirAll(feed, 0o755); err != nil {
		return err
	}
	for name, doc := range osvFeed {
		if err := os.WriteFile(filepath.Join(feed, name), []byte(doc), 0o644); err != nil {
			return err
		}
	}
	mods := filepath.Join(root, "etc/alicorn/modules.d")
	if err := os.MkdirAll(mods, 0o755); err != nil {
		return err
	}
	toml := "name = \"web\"\nimage = \"oci:" + lay + "\"\nosv = [\"" + feed + "\"]\n\n" +
		"[[containers]]\nname = \"web-1\"\nports = [\"127.0.0.1:8080:80\"]\n"
	return os.WriteFile(filepath.Join(mods, "web.toml"), []byte(toml), 0o644)
}
