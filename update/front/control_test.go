package front

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestControl drives a front through its control socket as an updater
// in another process would: add, list, stats, drain, and errors.
func TestControl(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := New()
	sock := filepath.Join(t.TempDir(), "front.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- p.ServeControl(ctx, l) }()
	front := httptest.NewServer(p)
	defer front.Close()
	v1 := page("v1", 0)
	defer v1.Close()

	c := Client{Socket: sock}
	require.NoError(t, c.Add(ctx, Backend{Name: "web-1", Addr: addr(v1)}, Health{Expect: "v1", Timeout: 5 * time.Second}))
	bs, err := c.Backends(ctx)
	require.NoError(t, err)
	assert.Equal(t, []Backend{{Name: "web-1", Addr: addr(v1)}}, bs)
	resp, err := http.Get(front.URL)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "v1", string(b))
	st, err := c.Stats(ctx, "web-1")
	require.NoError(t, err)
	assert.Equal(t, Stats{Requests: 1}, st)

	err = c.Add(ctx, Backend{Name: "web-2", Addr: "127.0.0.1:1"}, Health{Timeout: 200 * time.Millisecond, Interval: 50 * time.Millisecond})
	assert.ErrorContains(t, err, "backend web-2 (127.0.0.1:1): not healthy within 200ms")
	_, err = c.Stats(ctx, "web-2")
	assert.ErrorContains(t, err, "backend web-2: not behind the front")
	require.NoError(t, c.Drain(ctx, "web-1", time.Second))
	bs, err = c.Backends(ctx)
	require.NoError(t, err)
	assert.Empty(t, bs)

	_, err = Client{Socket: filepath.Join(t.TempDir(), "none.sock"), Wait: -1}.Backends(ctx)
	assert.ErrorContains(t, err, "none.sock")

	// A front that comes back within Wait is waited for.
	late := filepath.Join(t.TempDir(), "late.sock")
	go func() {
		time.Sleep(300 * time.Millisecond)
		l, err := net.Listen("unix", late)
		if err == nil {
			go p.ServeControl(ctx, l)
		}
	}()
	start := time.Now()
	_, err = Client{Socket: late, Wait: 5 * time.Second}.Backends(ctx)
	assert.NoError(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	cancel()
	assert.NoError(t, <-done)
}
