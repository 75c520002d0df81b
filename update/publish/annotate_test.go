package publish

import (
	"testing"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/update"
)

func TestAnnotate(t *testing.T) {
	img := testImage(t, "ID=fedora\n")
	rec := Record{
		Recipe:   "0123abcd",
		Packages: []string{"zlib-1.3-1.fc40.x86_64", "bash-5.2-1.fc40.x86_64"},
		Fixes:    []string{"FEDORA-2024-b", "FEDORA-2024-a"},
		Previous: "sha256:ab00000000000000000000000000000000000000000000000000000000000000",
		Created:  time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("x", 3600)),
	}
	out, err := Annotate(img, rec)
	require.NoError(t, err)
	want := map[string]string{
		update.LabelRecipe:      "0123abcd",
		update.LabelPackages:    PackagesDigest([]string{"bash-5.2-1.fc40.x86_64", "zlib-1.3-1.fc40.x86_64"}),
		update.LabelFixes:       "FEDORA-2024-a,FEDORA-2024-b",
		update.LabelPrevious:    rec.Previous,
		specs.AnnotationCreated: "2024-05-01T11:00:00Z",
	}
	cf, err := out.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, want, cf.Config.Labels)
	assert.Equal(t, []string{"/bin/true"}, cf.Config.Cmd, "the rest of the configuration is kept")
	m, err := out.Manifest()
	require.NoError(t, err)
	assert.Equal(t, want, m.Annotations)

	// Deterministic: the same image and record give the same digest.
	again, err := Annotate(testImage(t, "ID=fedora\n"), rec)
	require.NoError(t, err)
	d1, err := out.Digest()
	require.NoError(t, err)
	d2, err := again.Digest()
	require.NoError(t, err)
	assert.Equal(t, d1, d2)

	// Labels already there are kept; ours replace theirs.
	pre, err := Annotate(img, Record{Recipe: "old"})
	require.NoError(t, err)
	out, err = Annotate(pre, Record{Recipe: "new"})
	require.NoError(t, err)
	cf, err = out.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "new", cf.Config.Labels[update.LabelRecipe])
	assert.Equal(t, PackagesDigest(nil), cf.Config.Labels[update.LabelPackages])
	assert.NotContains(t, cf.Config.Labels, update.LabelFixes)

	_, err = Annotate(img, Record{Previous: "latest"})
	assert.ErrorContains(t, err, `previous digest "latest"`)
}

func TestPackagesDigest(t *testing.T) {
	// sha256 of "a\nb\n", whatever the order.
	assert.Equal(t, "sha256:911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2", PackagesDigest([]string{"b", "a"}))
	assert.Equal(t, PackagesDigest([]string{"a", "b"}), PackagesDigest([]string{"b", "a"}))
	assert.NotEqual(t, PackagesDigest([]string{"a", "b"}), PackagesDigest([]string{"ab"}))
}

func TestHighest(t *testing.T) {
	for _, tc := range []struct {
		tags []string
		n    int
		last string
	}{
		{nil, 0, ""},
		{[]string{"latest", "latest-x", "latest-0", "latest-01", "other-9"}, 0, ""},
		{[]string{"latest-2", "latest-10", "latest-9", "latest"}, 10, "latest-10"},
		{[]string{"latest-1-2", "latest-3"}, 3, "latest-3"},
	} {
		n, last := highest(tc.tags, "latest")
		assert.Equal(t, tc.n, n, "%v", tc.tags)
		assert.Equal(t, tc.last, last, "%v", tc.tags)
	}
}
