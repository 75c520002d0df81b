package pypi

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/ecosystems/ecosystemtest"
	"github.com/alicorn-dev/alicorn/internal/archivetest"
	"github.com/alicorn-dev/alicorn/inventory"
)

// TestOrderMatchesPackaging checks every pair of the packaging project's
// own ordered list.
func TestOrderMatchesPackaging(t *testing.T) {
	f, err := os.Open("testdata/packaging-versions.txt")
	require.NoError(t, err)
	defer f.Close()
	var vs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			vs = append(vs, l)
		}
	}
	require.Len(t, vs, 92)
	var e Ecosystem
	for i, a := range vs {
		for j, b := range vs {
			got, err := e.Compare(a, b)
			require.NoError(t, err)
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("Compare(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
	for _, eq := range [][2]string{{"1.0rc1", "1.0c1"}, {"1.01", "1.1"}, {"v1.0", "1.0"}, {"1.0-5", "1.0.post5"}, {"00!1.2", "1.2"}} {
		got, err := e.Compare(eq[0], eq[1])
		require.NoError(t, err)
		assert.Zero(t, got, "%s == %s", eq[0], eq[1])
	}
	_, err = e.Compare("french toast", "1.0")
	assert.Error(t, err)
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"Django": "django", "zope.interface": "zope-interface",
		"typing_extensions": "typing-extensions", "A__b--C..d": "a-b-c-d"} {
		assert.Equal(t, want, Normalize(in))
	}
}

func TestExtract(t *testing.T) {
	fsys := fstest.MapFS{
		"usr/lib/python3.12/site-packages/Requests-2.31.0.dist-info/METADATA": {Data: []byte(
			"Metadata-Version: 2.1\nName: Requests\nVersion: 2.31.0\nSummary: HTTP\n  for humans\n\nName: not-a-header\n")},
		"usr/lib/python3.12/site-packages/zope.interface-6.0-py3.12.egg-info/PKG-INFO": {Data: []byte(
			"Metadata-Version: 1.1\nName: zope.interface\nVersion: 6.0\n")},
		"usr/lib/python3.12/site-packages/six-1.16.0.egg-info":       {Data: []byte("Name: six\nVersion: 1.16.0\n")},
		"usr/lib/python3.12/site-packages/broken.dist-info/METADATA": {Data: []byte("Summary: no name\n")},
		"usr/share/doc/METADATA":                                     {Data: []byte("Name: x\nVersion: 1\n")},
		"opt/wheels/Flask_Cors-4.0.0-py3-none-any.whl": {Data: zipOf(t, "Flask_Cors-4.0.0.dist-info/METADATA",
			"Name: Flask-Cors\nVersion: 4.0.0\n", "flask_cors/__init__.py", "")},
		"usr/lib/python3.12/site-packages/setuptools-40.0-py3.12.egg": {Data: zipOf(t, "EGG-INFO/PKG-INFO",
			"Name: setuptools\nVersion: 40.0\n")},
		"usr/lib/python3.12/site-packages/Jinja2-2.10-py3.12.egg/EGG-INFO/PKG-INFO": {Data: []byte(
			"Name: Jinja2\nVersion: 2.10\n")},
	}
	pkgs, err := inventory.Scan(context.Background(), fsys, Ecosystem{}.Extractors())
	require.Error(t, err, "the broken one is reported")
	assert.ErrorContains(t, err, "broken.dist-info/METADATA")
	var got []string
	for _, p := range pkgs {
		got = append(got, p.PURL.String())
	}
	assert.ElementsMatch(t, []string{"pkg:pypi/requests@2.31.0", "pkg:pypi/zope-interface@6.0", "pkg:pypi/six@1.16.0",
		"pkg:pypi/flask-cors@4.0.0", "pkg:pypi/setuptools@40.0", "pkg:pypi/jinja2@2.10"}, got)
}

func zipOf(t testing.TB, nameData ...string) []byte {
	b, err := archivetest.Zip(nameData...)
	require.NoError(t, err)
	return b
}

func TestArchiveErrors(t *testing.T) {
	for name, data := range map[string][]byte{
		"junk.whl":  []byte("PK not really"),
		"empty.whl": zipOf(t, "x.py", ""),
		"bad.egg":   zipOf(t, "EGG-INFO/PKG-INFO", "Summary: none\n"),
		"huge.whl":  zipOf(t, "x-1.dist-info/METADATA", "Name: x\nSummary: "+strings.Repeat("a", 2<<20)+"\n"),
	} {
		fsys := fstest.MapFS{name: {Data: data}}
		_, err := inventory.Scan(context.Background(), fsys, []inventory.Extractor{Archive{}})
		assert.ErrorContains(t, err, name)
	}
}

func FuzzArchive(f *testing.F) {
	f.Add(zipOf(f, "x-1.dist-info/METADATA", "Name: x\nVersion: 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys := fstest.MapFS{"f.whl": {Data: b}}
		info, _ := fsys.Stat("f.whl")
		pkgs, err := Archive{}.Extract(context.Background(), &inventory.Input{FS: fsys, Path: "f.whl", Info: info})
		if err == nil && len(pkgs) != 1 {
			t.Fatal("no package and no error")
		}
	})
}

func TestHugeHeaders(t *testing.T) {
	_, _, err := ParseMetadata(strings.NewReader("Name: x\nVersion: 1\nSummary: " + strings.Repeat("a", 2<<20) + "\n"))
	assert.Error(t, err)
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte("Metadata-Version: 2.1\nName: Requests\nVersion: 2.31.0\n\nbody"))
	f.Fuzz(func(t *testing.T, b []byte) {
		name, version, err := ParseMetadata(strings.NewReader(string(b)))
		if err == nil && (name == "" || version == "") {
			t.Fatal("accepted metadata without name or version")
		}
	})
}

func TestConformance(t *testing.T) {
	ecosystemtest.Run(t, Ecosystem{}, ecosystemtest.Case{
		Ordered: []string{"0.9", "1.0.dev1", "1.0a1", "1.0rc1", "1.0", "1.0.post1", "1.1", "1.10", "2!0.1"},
		Equal:   [][2]string{{"1.0", "1.0.0"}, {"1.0RC1", "1.0rc1"}},
		Invalid: []string{"not a version"},
		Tree: fstest.MapFS{
			"usr/lib/python3.12/site-packages/Flask_Cors-4.0.0.dist-info/METADATA": {Data: []byte(
				"Metadata-Version: 2.1\nName: Flask-Cors\nVersion: 4.0.0\n")},
			"usr/lib/python3.12/site-packages/six-1.16.0.egg-info": {Data: []byte("Name: six\nVersion: 1.16.0\n")},
			"opt/wheels/zope.interface-6.0-py3-none-any.whl": {Data: zipOf(t, "zope.interface-6.0.dist-info/METADATA",
				"Name: zope.interface\nVersion: 6.0\n")},
		},
		Want:     []string{"pkg:pypi/flask-cors@4.0.0", "pkg:pypi/six@1.16.0", "pkg:pypi/zope-interface@6.0"},
		OSVNames: map[string]string{"Flask_CORS": "flask-cors", "zope.interface": "zope-interface"},
	})
}
