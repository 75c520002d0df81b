package inventory_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/package-url/packageurl-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/inventory"
)

// lines is an extractor of *.pkg files: one "name version" per line.
type lines struct{}

func (lines) Name() string                          { return "test/lines" }
func (lines) Required(p string, _ fs.FileInfo) bool { return strings.HasSuffix(p, ".pkg") }
func (lines) Extract(_ context.Context, in *inventory.Input) ([]inventory.Package, error) {
	b, err := fs.ReadFile(in.FS, in.Path)
	if err != nil {
		return nil, err
	}
	var out []inventory.Package
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		name, v, ok := strings.Cut(l, " ")
		if !ok {
			return out, fmt.Errorf("line %q: no version", l)
		}
		out = append(out, inventory.Package{PURL: packageurl.PackageURL{Type: "generic", Name: name, Version: v},
			Name: name, Version: v, Locations: []inventory.Location{{Path: in.Path}}})
	}
	return out, nil
}

func ExampleScan() {
	tree := fstest.MapFS{
		"opt/a.pkg":  {Data: []byte("alpha 1.0\nbeta 2.0\n")},
		"opt/readme": {Data: []byte("not a package list")},
	}
	pkgs, err := inventory.Scan(context.Background(), tree, []inventory.Extractor{lines{}})
	if err != nil {
		panic(err)
	}
	for _, p := range pkgs {
		fmt.Println(p.PURL, p.Locations[0].Path)
	}
	// Output:
	// pkg:generic/alpha@1.0 opt/a.pkg
	// pkg:generic/beta@2.0 opt/a.pkg
}

func TestScanErrorsNameTheFile(t *testing.T) {
	tree := fstest.MapFS{"good.pkg": {Data: []byte("a 1\n")}, "bad.pkg": {Data: []byte("a 1\nnoversion\n")}}
	pkgs, err := inventory.Scan(context.Background(), tree, []inventory.Extractor{lines{}})
	require.ErrorContains(t, err, "test/lines: bad.pkg: line \"noversion\"")
	assert.Len(t, pkgs, 2, "the good file's package and the bad file's first one")
}

func TestSplitOwned(t *testing.T) {
	pkg := func(path string) inventory.Package {
		return inventory.Package{Name: path, Locations: []inventory.Location{{Path: path}}}
	}
	owners := map[string]string{"usr/share/java/app.jar": "app-1.0-1.noarch", "usr/lib/x/METADATA": "python3-x-1-1.noarch"}
	free, owned := inventory.SplitOwned([]inventory.Package{pkg("usr/share/java/app.jar!/BOOT-INF/lib/a.jar"),
		pkg("usr/lib/x/METADATA"), pkg("opt/y/METADATA"), {Name: "nowhere"}},
		func(p string) string { return owners[p] })
	require.Len(t, owned, 2)
	assert.Equal(t, "app-1.0-1.noarch", owned[0].By, "a nested archive is owned with its outer file")
	assert.Equal(t, "python3-x-1-1.noarch", owned[1].By)
	require.Len(t, free, 2)
	assert.Equal(t, "opt/y/METADATA", free[0].Name)
}

// streamFS hides the files' ReadAt, as a file system of streams would.
type streamFS struct{ fstest.MapFS }

type streamFile struct{ f fs.File }

func (s streamFile) Stat() (fs.FileInfo, error) { return s.f.Stat() }
func (s streamFile) Read(b []byte) (int, error) { return s.f.Read(b) }
func (s streamFile) Close() error               { return s.f.Close() }

func (s streamFS) Open(name string) (fs.File, error) {
	f, err := s.MapFS.Open(name)
	if err != nil {
		return nil, err
	}
	return streamFile{f}, nil
}

func TestOpenReaderAt(t *testing.T) {
	for _, fsys := range []fs.FS{fstest.MapFS{"f": {Data: []byte("0123456789")}},
		streamFS{fstest.MapFS{"f": {Data: []byte("0123456789")}}}} {
		info, err := fs.Stat(fsys, "f")
		require.NoError(t, err)
		r, size, closeFile, err := (&inventory.Input{FS: fsys, Path: "f", Info: info}).OpenReaderAt()
		require.NoError(t, err)
		assert.EqualValues(t, 10, size)
		b := make([]byte, 3)
		_, err = r.ReadAt(b, 7)
		if err != io.EOF {
			require.NoError(t, err)
		}
		assert.Equal(t, "789", string(b))
		require.NoError(t, closeFile())
	}
}

// named is an extractor whose errors name the file themselves, as archive
// readers do ("app.jar!/inner.jar: …").
type named struct{}

func (named) Name() string                          { return "test/named" }
func (named) Required(p string, _ fs.FileInfo) bool { return strings.HasSuffix(p, ".jar") }
func (named) Extract(_ context.Context, in *inventory.Input) ([]inventory.Package, error) {
	return nil, fmt.Errorf("%s!/inner.jar: truncated", in.Path)
}

func TestScanNamesTheFileOnce(t *testing.T) {
	tree := fstest.MapFS{"opt/app.jar": {Data: []byte("x")}}
	_, err := inventory.Scan(context.Background(), tree, []inventory.Extractor{named{}})
	require.Error(t, err)
	assert.Equal(t, "test/named: opt/app.jar!/inner.jar: truncated", err.Error())
}
