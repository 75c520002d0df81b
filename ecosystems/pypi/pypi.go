package pypi

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"

	pep440 "github.com/aquasecurity/go-pep440-version"
	"github.com/package-url/packageurl-go"

	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/inventory"
)

// Ecosystem is Python's.
type Ecosystem struct{}

// Type is the purl type.
func (Ecosystem) Type() string { return packageurl.TypePyPi }

// OSV is the ecosystem's name in OSV.
func (Ecosystem) OSV() string { return "PyPI" }

// Compare orders two PEP 440 versions.
func (Ecosystem) Compare(a, b string) (int, error) {
	return ecosystems.CompareParsed(pep440.Parse, a, b)
}

// Extractors returns the metadata and the archive extractors.
func (Ecosystem) Extractors() []inventory.Extractor {
	return []inventory.Extractor{Extractor{}, Archive{}}
}

var separators = regexp.MustCompile(`[-_.]+`)

// Normalize returns a distribution name as PEP 503 normalises it (and the
// pypi purl type requires): lower case, runs of -, _ and . made one -.
func Normalize(name string) string { return strings.ToLower(separators.ReplaceAllString(name, "-")) }

// Extractor finds installed distributions by their metadata files.
type Extractor struct{}

// Name identifies the extractor.
func (Extractor) Name() string { return "pypi/metadata" }

// Required reports whether p is a distribution's metadata: METADATA in a
// .dist-info directory, PKG-INFO in an .egg-info directory, or an
// .egg-info file.
func (Extractor) Required(p string, info fs.FileInfo) bool {
	dir, file := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case file == "METADATA":
		return strings.HasSuffix(dir, ".dist-info")
	case file == "PKG-INFO":
		// foo.egg-info/PKG-INFO, or an unzipped egg's foo.egg/EGG-INFO/PKG-INFO.
		return strings.HasSuffix(dir, ".egg-info") || strings.HasSuffix(dir, ".egg/EGG-INFO")
	}
	return strings.HasSuffix(file, ".egg-info") && info.Mode().IsRegular()
}

// maxHeader bounds the metadata read: the headers come first, and a
// file whose headers run past this is refused.
const maxHeader = 1 << 20

// Extract reads the name and version of the distribution.
func (Extractor) Extract(ctx context.Context, in *inventory.Input) ([]inventory.Package, error) {
	f, err := in.FS.Open(in.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	name, version, err := ParseMetadata(f)
	if err != nil {
		return nil, err
	}
	return []inventory.Package{pkg(name, version, in.Path, in.Layer)}, nil
}

func pkg(name, version, loc, layer string) inventory.Package {
	norm := Normalize(name)
	return inventory.Package{
		PURL:      packageurl.PackageURL{Type: packageurl.TypePyPi, Name: norm, Version: version},
		Name:      norm,
		Version:   version,
		Locations: []inventory.Location{{Path: loc, Layer: layer}},
	}
}

// ParseMetadata reads the Name and Version headers of core metadata
// (METADATA, PKG-INFO): RFC 822 style headers, which end at the first
// empty line.
func ParseMetadata(r io.Reader) (name, version string, err error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxHeader+1))
	sc.Buffer(make([]byte, 0, 4096), maxHeader)
	read := 0
	for sc.Scan() {
		line := sc.Bytes()
		read += len(line) + 1
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(k) == 0 || k[0] == ' ' || k[0] == '\t' {
			continue // a continuation line
		}
		switch strings.ToLower(string(k)) {
		case "name":
			if name == "" {
				name = strings.TrimSpace(string(v))
			}
		case "version":
			if version == "" {
				version = strings.TrimSpace(string(v))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("metadata headers: %w", err)
	}
	if read > maxHeader {
		return "", "", fmt.Errorf("metadata headers longer than %d bytes", maxHeader)
	}
	if name == "" || version == "" {
		return "", "", fmt.Errorf("metadata without Name or Version")
	}
	return name, version, nil
}

// PURLName normalises an OSV package name as the pypi purl type does.
func (Ecosystem) PURLName(osvName string) (namespace, name string) { return "", Normalize(osvName) }
