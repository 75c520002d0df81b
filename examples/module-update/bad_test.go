package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/rollouttest"
)

// TestBadInput: a digest that does not exist, a front that does not
// answer, a registry that is down: a clear error, and nothing changed.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, ctx, "rolling")
	d1 := rollouttest.Publish(t, ctx, s.registry, s.name, "stable", s.images.Release(t, ctx, "1", ""), "")
	code, _, _ := s.cli(t, ctx, "apply", "-y")
	require.Equal(t, 0, code)
	s.on(t, ctx, d1)

	missing := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	code, _, stderr := s.cli(t, ctx, "apply", "-y", "--to", missing)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, missing)
	s.on(t, ctx, d1)

	code, _, stderr = s.cli(t, ctx, "apply", "-y", "--to", "sha256:nothex")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `digest "sha256:nothex"`)
	s.on(t, ctx, d1)

	// The front's socket gone: nothing is pulled or started.
	d2 := rollouttest.Publish(t, ctx, s.registry, s.name, "stable", s.images.Release(t, ctx, "2", ""), d1, fix)
	sock := filepath.Join(s.state, "front-"+s.name+".sock")
	require.NoError(t, os.Rename(sock, sock+".away"))
	code, _, stderr = s.cli(t, ctx, "apply", "-y")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "front")
	assert.Contains(t, stderr, "does not answer")
	require.NoError(t, os.Rename(sock+".away", sock))
	s.on(t, ctx, d1)

	// The registry down.
	s.stopRegistry()
	code, _, stderr = s.cli(t, ctx, "apply", "-y")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, s.registry)
	s.on(t, ctx, d1)
	_ = d2
}
