package update

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update/rebuild"
)

// TestCheck follows a module through Check's decisions: nothing
// published, published and current, a security fix in the recipe's
// repository, a changed recipe.
func TestCheck(t *testing.T) {
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c dnf util-linux)", m)
	}
	addr := registrytest.Start(t)
	b := rpmtest.Cached(t)
	dir := t.TempDir()
	repoDir := filepath.Join(dir, "repo")
	v1 := rpmtest.Pkg{Name: "alpha", Version: "1.0", Release: "1", Arch: "x86_64"}
	require.NoError(t, b.Repo(repoDir, []rpmtest.Pkg{v1}, nil, "gz"))
	m := module.Module{Name: "web", Image: "docker://" + addr + "/alicorn/web:1", Build: module.Build{
		Packages: []string{"alpha"}, Repos: []string{"file://" + repoDir}, Publish: "docker://" + addr + "/alicorn/web", Tag: "1",
	}}
	o := CheckOptions{CacheDir: filepath.Join(dir, "cache"), Arch: "x86_64"}
	ctx := context.Background()

	p, err := Check(ctx, m, o)
	require.NoError(t, err)
	assert.Equal(t, []Reason{ReasonFirst}, p.Reasons)
	assert.True(t, p.Rebuild())

	// Publish the recipe's image, recording its hash.
	img, _, err := rebuild.FromRecipe(ctx, filepath.Join(dir, "build"), m.Build)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cfg := cf.Config.DeepCopy()
	cfg.Labels = map[string]string{LabelRecipe: p.Recipe}
	img, err = mutate.Config(img, *cfg)
	require.NoError(t, err)
	ref, err := name.ParseReference(addr + "/alicorn/web:1")
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img))
	digest, err := img.Digest()
	require.NoError(t, err)

	p, err = Check(ctx, m, o)
	require.NoError(t, err)
	assert.Equal(t, []Reason{ReasonNone}, p.Reasons)
	assert.False(t, p.Rebuild())
	assert.Equal(t, digest.String(), p.Digest)
	assert.Empty(t, p.Fixes)

	// A fixed alpha and its advisory reach the repository.
	v2 := rpmtest.Pkg{Name: "alpha", Version: "2.0", Release: "1", Arch: "x86_64"}
	require.NoError(t, os.RemoveAll(repoDir))
	require.NoError(t, b.Repo(repoDir, []rpmtest.Pkg{v1, v2}, []byte(rpmtest.OneAdvisory), "gz"))
	p, err = Check(ctx, m, o)
	require.NoError(t, err)
	assert.Equal(t, []Reason{ReasonAdvisories}, p.Reasons)
	assert.Equal(t, []Fix{{Advisory: "ADV-1", Type: "security", Severity: "Important",
		Packages: []string{"alpha-1.0-1.x86_64 → alpha-2.0-1.x86_64"}}}, p.Fixes)

	// A changed recipe, and a forced rebuild.
	m.Build.Entrypoint = []string{"/bin/true"}
	o.Force = true
	p, err = Check(ctx, m, o)
	require.NoError(t, err)
	assert.Equal(t, []Reason{ReasonForced, ReasonRecipe, ReasonAdvisories}, p.Reasons)

	_, err = Check(ctx, module.Module{Name: "plain", Image: "oci:/x"}, o)
	assert.ErrorIs(t, err, ErrNoRecipe)
}
