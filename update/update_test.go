package update

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/module"
)

func TestRecipeHash(t *testing.T) {
	dir := t.TempDir()
	cf := filepath.Join(dir, "app", "Containerfile")
	require.NoError(t, os.MkdirAll(filepath.Dir(cf), 0o755))
	require.NoError(t, os.WriteFile(cf, []byte("FROM base\nCOPY app.jar /opt/\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "app.jar"), []byte("v1"), 0o644))
	b := module.Build{Packages: []string{"a"}, Repos: []string{"file:///r"}, Publish: "docker://r/w", Tag: "1",
		Containerfile: cf}
	h1, err := RecipeHash(b)
	require.NoError(t, err)
	h2, err := RecipeHash(b)
	require.NoError(t, err)
	assert.Equal(t, h1, h2, "stable")
	assert.Len(t, h1, 64)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "app.jar"), []byte("v2"), 0o644))
	h3, err := RecipeHash(b)
	require.NoError(t, err)
	assert.NotEqual(t, h1, h3, "a file of the build context changed")

	b.Packages = append(b.Packages, "b")
	h4, err := RecipeHash(b)
	require.NoError(t, err)
	assert.NotEqual(t, h3, h4, "the recipe changed")

	b.Containerfile = filepath.Join(dir, "missing", "Containerfile")
	_, err = RecipeHash(b)
	assert.ErrorContains(t, err, "build context")
}

func TestPlanRebuild(t *testing.T) {
	assert.False(t, (&Plan{Reasons: []Reason{ReasonNone}}).Rebuild())
	assert.True(t, (&Plan{Reasons: []Reason{ReasonAdvisories, ReasonRecipe}}).Rebuild())
}
