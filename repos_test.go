package alicorn

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImageRepos: an image's own repositories are read only with
// ImageRepos, and then never a file:// one.
func TestImageRepos(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "etc/yum.repos.d")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	write := func(body string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "image.repo"), []byte(body), 0o644))
	}
	ids := func(s *System) ([]string, error) {
		cfgs, _, err := s.configs("x86_64", "40")
		var out []string
		for _, c := range cfgs {
			out = append(out, c.ID)
		}
		return out, err
	}
	write("[evil]\nname=evil\nbaseurl=file:///etc/\nenabled=1\n")
	got, err := ids(&System{opts: Options{Image: "oci:/x"}, root: root})
	require.NoError(t, err)
	assert.NotContains(t, got, "evil", "the image's repositories are not read by default")

	_, err = ids(&System{opts: Options{Image: "oci:/x", ImageRepos: true}, root: root})
	assert.ErrorContains(t, err, "image oci:/x: repository evil: file:///etc/: file:// URLs")

	write("[remote]\nname=remote\nbaseurl=https://mirror.example/f40/\nenabled=1\n")
	got, err = ids(&System{opts: Options{Image: "oci:/x", ImageRepos: true}, root: root})
	require.NoError(t, err)
	assert.Equal(t, []string{"remote"}, got)
}

// TestImageDNFConfNotForHostRepos: an image's dnf.conf does not tune the
// host's repositories (a throttle of 1 byte/s would make them fail); its
// excludepkgs still leave out the image's packages.
func TestImageDNFConfNotForHostRepos(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc/dnf"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc/dnf/dnf.conf"),
		[]byte("[main]\nthrottle=1\nexcludepkgs=image-only\n"), 0o644))
	s := &System{opts: Options{Image: "oci:/x"}, root: root}
	s.readDNFConf()
	assert.NotEqual(t, int64(1), s.mainNet.Throttle)
	assert.Contains(t, s.excl, "image-only", "the image's excludes")
	s = &System{opts: Options{Image: "oci:/x", ImageRepos: true}, root: root}
	s.readDNFConf()
	require.NoError(t, s.mainErr)
	assert.Equal(t, int64(1), s.mainNet.Throttle, "with the image's repositories, its dnf.conf")
	assert.Equal(t, []string{"image-only"}, s.excl)
	s = &System{opts: Options{Image: "oci:/x", DisableExcludes: true, Excludes: []string{"x"}}, root: root}
	s.readDNFConf()
	assert.Empty(t, s.excl)
}
