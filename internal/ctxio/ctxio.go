// Package ctxio stops long reads when their context is done.
package ctxio

import (
	"context"
	"io"
)

// Chunk is the most a Reader reads at once: a cancelled read stops
// within that many bytes.
const Chunk = 64 << 10

// NewReader returns a reader of r that fails with ctx's error once ctx
// is done, checked before every read of at most Chunk bytes.
func NewReader(ctx context.Context, r io.Reader) io.Reader { return &reader{ctx, r} }

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (c *reader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(b) > Chunk {
		b = b[:Chunk]
	}
	return c.r.Read(b)
}
