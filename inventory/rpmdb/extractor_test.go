package rpmdb_test

import (
	"context"
	"os"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
)

func TestExtractorInScan(t *testing.T) {
	const root = "../../internal/testdata/example/root"
	// A real directory: files with random access.
	pkgs, err := inventory.Scan(context.Background(), os.DirFS(root), []inventory.Extractor{rpmdb.Extractor{}})
	require.NoError(t, err)
	require.Len(t, pkgs, 2)
	assert.Equal(t, "pkg:rpm/openssl-libs@3.2.1-2.fc40?arch=x86_64&epoch=1", pkgs[0].PURL.ToString())
	assert.Equal(t, "usr/lib/sysimage/rpm/rpmdb.sqlite", pkgs[0].Locations[0].Path)

	// An in-memory tree with an os-release: files read whole.
	db, err := os.ReadFile(root + "/usr/lib/sysimage/rpm/rpmdb.sqlite")
	require.NoError(t, err)
	mem := fstest.MapFS{
		"var/lib/rpm/rpmdb.sqlite": {Data: db},
		"etc/os-release":           {Data: []byte("ID=fedora\nVERSION_ID=40\n")},
		"var/lib/rpm/other":        {Data: []byte("not a database")},
	}
	pkgs, err = inventory.Scan(context.Background(), mem, []inventory.Extractor{rpmdb.Extractor{}})
	require.NoError(t, err)
	require.Len(t, pkgs, 2)
	assert.Equal(t, "pkg:rpm/fedora/hello@1.0-1.fc40?arch=noarch&distro=fedora-40", pkgs[1].PURL.ToString())

	// A damaged database is an error naming the file, beside what else was found.
	mem["usr/share/rpm/Packages"] = &fstest.MapFile{Data: []byte("garbage garbage garbage")}
	pkgs, err = inventory.Scan(context.Background(), mem, []inventory.Extractor{rpmdb.Extractor{}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "usr/share/rpm/Packages")
	assert.Len(t, pkgs, 2)
}
