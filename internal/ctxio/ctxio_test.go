package ctxio

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReader(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := NewReader(ctx, strings.NewReader(strings.Repeat("x", 3*Chunk)))
	b := make([]byte, 2*Chunk)
	n, err := r.Read(b)
	require.NoError(t, err)
	assert.Equal(t, Chunk, n, "one chunk at most")
	cancel()
	_, err = io.ReadAll(r)
	assert.ErrorIs(t, err, context.Canceled)
}
