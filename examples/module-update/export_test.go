package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/rollouttest"
)

// TestExportKube prints the web module's Deployment and Service, its
// image named by digest.
func TestExportKube(t *testing.T) {
	dir := t.TempDir()
	file := rollouttest.ModuleFile("web", "docker://registry.example:5000/alicorn/web:1", "127.0.0.1:8080", "", "rolling")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "web.toml"), []byte(file), 0o644))
	digest := "sha256:" + strings.Repeat("ab", 32)
	var out, errb strings.Builder
	code := run(context.Background(), []string{"--modules-dir", dir, "--state", t.TempDir(), "--policy", "none",
		"export", "--kube", "--namespace", "modules", "--to", digest, "web"}, strings.NewReader(""), &out, &errb)
	require.Equal(t, 0, code, errb.String())
	y := out.String()
	assert.Contains(t, y, "kind: Deployment")
	assert.Contains(t, y, "kind: Service")
	assert.Contains(t, y, "image: registry.example:5000/alicorn/web@"+digest)
	assert.Contains(t, y, "namespace: modules")
	assert.Contains(t, y, "replicas: 3")

	code = run(context.Background(), []string{"--modules-dir", dir, "export", "web"}, strings.NewReader(""), &out, &errb)
	assert.Equal(t, 2, code)
}
