package alicorn_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn"
	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/repo"
)

// vendorFeed is a third party's feed: advisories from nowhere alicorn
// knows, with a fingerprint.
type vendorFeed struct {
	loads *[]advisory.Fingerprint
}

func (vendorFeed) Name() string { return "vendor-vex" }

func (f vendorFeed) Load(ctx context.Context, last advisory.Fingerprint) ([]*advisory.Advisory, advisory.Fingerprint, error) {
	*f.loads = append(*f.loads, last)
	if last == "v1" {
		return nil, last, advisory.ErrUnchanged
	}
	return []*advisory.Advisory{{ID: "VENDOR-1", Type: advisory.Security, Severity: "Critical",
		Affected: []advisory.Affected{{Ecosystem: "Maven", Name: "org.apache.logging.log4j:log4j-core",
			Versions: []string{"2.14.1"}}}}}, "v1", nil
}

// TestThirdPartyFeed: a feed written outside the core is matched like the
// OSV feeds, and read once while its fingerprint holds.
func TestThirdPartyFeed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	image, _ := exampleImage(dir)
	require.NoError(t, os.Remove(filepath.Join(dir, "GHSA-jfh8-c2jp-5v3q.json")))
	updates, err := repo.FromPath("updates,internal/testdata/example/repo")
	require.NoError(t, err)
	var loads []advisory.Fingerprint
	sys, err := alicorn.Open(ctx, alicorn.Options{Image: "oci:" + image, Releasever: "40",
		Feeds: []advisory.Feed{vendorFeed{&loads}}, CacheDir: filepath.Join(dir, "cache"),
		Repos: alicorn.Repos{Dirs: []string{}, FromPath: []repo.Config{updates}}})
	require.NoError(t, err)
	defer sys.Close()
	for range 2 {
		rep, err := sys.Report(ctx, alicorn.Query{})
		require.NoError(t, err)
		require.NotNil(t, rep.Host.Other)
		require.Len(t, rep.Host.Other.Vulnerable, 1)
		assert.Equal(t, "VENDOR-1", rep.Host.Other.Vulnerable[0].Advisory.ID)
		assert.Len(t, rep.Security(alicorn.Critical), 1)
	}
	assert.Equal(t, []advisory.Fingerprint{"", "v1"}, loads, "the second report found the feed unchanged")
}
