package gem

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/inventory"
)

// Ecosystem is Ruby's.
type Ecosystem struct{}

// Type is the purl type.
func (Ecosystem) Type() string { return packageurl.TypeGem }

// OSV is the ecosystem's name in OSV.
func (Ecosystem) OSV() string { return "RubyGems" }

// Compare orders two RubyGems versions.
func (Ecosystem) Compare(a, b string) (int, error) {
	return ecosystems.CompareParsed(ParseVersion, a, b)
}

// Extractors returns the gemspec and Gemfile.lock extractors.
func (Ecosystem) Extractors() []inventory.Extractor {
	return []inventory.Extractor{Gemspec{}, Lockfile{}}
}

// maxFile bounds the files read.
const maxFile = 4 << 20

func open(in *inventory.Input) (io.ReadCloser, error) {
	if in.Info.Size() > maxFile {
		return nil, fmt.Errorf("%d bytes, more than the %d this extractor reads", in.Info.Size(), maxFile)
	}
	return in.FS.Open(in.Path)
}

func pkg(name, version string, in *inventory.Input) inventory.Package {
	return inventory.Package{PURL: packageurl.PackageURL{Type: packageurl.TypeGem, Name: name, Version: version},
		Name: name, Version: version, Locations: []inventory.Location{{Path: in.Path, Layer: in.Layer}}}
}

// Gemspec reads installed gems' specifications (GEM_HOME/specifications
// /*.gemspec, as Fedora's /usr/share/gems and bundler's paths hold them).
type Gemspec struct{}

// Name identifies the extractor.
func (Gemspec) Name() string { return "gem/gemspec" }

// Required reports whether p is an installed gem's specification.
func (Gemspec) Required(p string, _ fs.FileInfo) bool {
	dir, file := path.Split(p)
	return strings.HasSuffix(file, ".gemspec") && path.Base(strings.TrimSuffix(dir, "/")) == "specifications"
}

var (
	stubLine = regexp.MustCompile(`^# stub: (\S+) (\S+)`)
	nameLine = regexp.MustCompile(`^\s*s\.name\s*=\s*["']([^"']+)["']`)
	verLine  = regexp.MustCompile(`^\s*s\.version\s*=\s*["']([^"']+)["']`)
)

// Extract reads the gem's name and version: from the "# stub:" line
// RubyGems writes, or from the s.name and s.version assignments. The
// file is Ruby; it is read as text, never run.
func (Gemspec) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	f, err := open(in)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var name, version string
	sc := bufio.NewScanner(io.LimitReader(f, maxFile))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() && (name == "" || version == "") {
		line := sc.Text()
		if m := stubLine.FindStringSubmatch(line); m != nil {
			name, version = m[1], m[2]
			break
		}
		if m := nameLine.FindStringSubmatch(line); m != nil && name == "" {
			name = m[1]
		}
		if m := verLine.FindStringSubmatch(line); m != nil && version == "" {
			version = m[1]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if name == "" || version == "" {
		return nil, fmt.Errorf("no gem name and version found")
	}
	return []inventory.Package{pkg(name, version, in)}, nil
}

// Lockfile reads Gemfile.lock: the gems of its GEM, GIT and PATH specs.
type Lockfile struct{}

// Name identifies the extractor.
func (Lockfile) Name() string { return "gem/gemfile-lock" }

// Required reports whether p is a Gemfile.lock.
func (Lockfile) Required(p string, _ fs.FileInfo) bool { return path.Base(p) == "Gemfile.lock" }

var specLine = regexp.MustCompile(`^    ([^ ()]+) \(([^)]+)\)$`)

// Extract lists the locked gems (four-space "name (version)" lines under
// a specs: section; their dependencies are indented deeper).
func (Lockfile) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	f, err := open(in)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []inventory.Package
	inSpecs := false
	sc := bufio.NewScanner(io.LimitReader(f, maxFile))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "  specs:":
			inSpecs = true
		case !strings.HasPrefix(line, "  "):
			inSpecs = false
		case inSpecs:
			if m := specLine.FindStringSubmatch(line); m != nil {
				// A platform suffix ("1.2.3-x86_64-linux") is not part
				// of the version.
				v := m[2]
				if i := strings.IndexByte(v, '-'); i > 0 {
					v = v[:i]
				}
				out = append(out, pkg(m[1], v, in))
			}
		}
	}
	return out, sc.Err()
}
