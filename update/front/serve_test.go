package front

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// freeAddr returns a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// serve runs Serve in the background until the test ends or stop is
// called, and returns once its control socket answers.
func serve(t *testing.T, cfg Config) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg.Logf = t.Logf
	go func() { done <- Serve(ctx, cfg) }()
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			done <- err
			return true
		default:
		}
		_, err := Client{Socket: cfg.Socket}.Backends(ctx)
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	var stopped bool
	var err error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func body(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestServe runs a front as its process would: backends added through
// the control socket, recorded in the state file, restored after a
// restart once healthy (the public port answering meanwhile), and
// drained; a second front on the same socket or address is refused.
func TestServe(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{Listen: freeAddr(t), Socket: filepath.Join(dir, "front.sock"), State: filepath.Join(dir, "front.json")}
	var up atomic.Bool
	up.Store(true)
	v1 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "v1")
	}))
	defer v1.Close()
	u := "http://" + cfg.Listen + "/"

	stop := serve(t, cfg)
	fi, err := os.Stat(cfg.Socket)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSocket|0o600, fi.Mode()&(fs.ModeType|fs.ModePerm))
	code, _ := body(t, u)
	assert.Equal(t, http.StatusServiceUnavailable, code, "no backend yet")
	c := Client{Socket: cfg.Socket}
	h := Health{Path: "/", Expect: "v1", Interval: 20 * time.Millisecond, Timeout: 5 * time.Second}
	require.NoError(t, c.Add(ctx, Backend{Name: "web-1", Addr: addr(v1)}, h))
	code, b := body(t, u)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "v1", b)
	var st struct {
		Version  int
		Backends []map[string]any
	}
	raw, err := os.ReadFile(cfg.State)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &st))
	assert.Equal(t, []map[string]any{{"name": "web-1", "addr": addr(v1), "health": map[string]any{
		"path": "/", "expect": "v1", "interval": "20ms", "timeout": "5s"}}}, st.Backends)

	// Another front on the same socket, or the same address, is refused.
	err = Serve(ctx, cfg)
	assert.ErrorContains(t, err, "control socket "+cfg.Socket+": another front answers on it")
	err = Serve(ctx, Config{Listen: cfg.Listen, Socket: filepath.Join(dir, "other.sock")})
	assert.ErrorContains(t, err, "front: public address "+cfg.Listen+": ")
	assert.ErrorContains(t, err, "address already in use")

	require.NoError(t, stop())
	_, err = os.Lstat(cfg.Socket)
	assert.ErrorIs(t, err, fs.ErrNotExist, "socket removed")

	// Restarted while the backend is not healthy: the port answers (503),
	// the backend comes back once healthy.
	up.Store(false)
	stop = serve(t, cfg)
	code, _ = body(t, u)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	bs, err := c.Backends(ctx)
	require.NoError(t, err)
	assert.Equal(t, []Backend{{Name: "web-1", Addr: addr(v1)}}, bs, "listed while it is restored (an updater drains it when its container is gone)")
	raw2, err := os.ReadFile(cfg.State)
	require.NoError(t, err)
	assert.JSONEq(t, string(raw), string(raw2), "still recorded while it is restored")
	up.Store(true)
	require.Eventually(t, func() bool {
		code, b := body(t, u)
		return code == http.StatusOK && b == "v1"
	}, 5*time.Second, 10*time.Millisecond)
	bs, err = c.Backends(ctx)
	require.NoError(t, err)
	assert.Equal(t, []Backend{{Name: "web-1", Addr: addr(v1)}}, bs)

	require.NoError(t, c.Drain(ctx, "web-1", time.Second))
	raw, err = os.ReadFile(cfg.State)
	require.NoError(t, err)
	assert.JSONEq(t, `{"version": 1, "backends": []}`, string(raw))
	require.NoError(t, stop())
}

// TestServeRestoreDrained: a recorded backend that never becomes healthy
// again is checked until it is drained through the socket, which drops
// it from the state file; a stale socket file is replaced.
func TestServeRestoreDrained(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{Listen: freeAddr(t), Socket: filepath.Join(dir, "front.sock"), State: filepath.Join(dir, "front.json")}
	require.NoError(t, os.WriteFile(cfg.State, []byte(`{"version": 1, "backends": [
		{"name": "gone", "addr": "127.0.0.1:1", "health": {"interval": "10ms", "timeout": "50ms"}}]}`), 0o600))
	l, err := net.Listen("unix", cfg.Socket)
	require.NoError(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()

	serve(t, cfg)
	c := Client{Socket: cfg.Socket}
	time.Sleep(100 * time.Millisecond) // a few failed checks
	require.NoError(t, c.Drain(ctx, "gone", time.Second))
	raw, err := os.ReadFile(cfg.State)
	require.NoError(t, err)
	assert.JSONEq(t, `{"version": 1, "backends": []}`, string(raw))
	assert.ErrorContains(t, c.Drain(ctx, "gone", time.Second), "backend gone: not behind the front")
}

// TestServeBadState: a damaged state file does not keep the front down:
// it starts with no backend and sets the file aside, saying so.
func TestServeBadState(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "front.json")
	require.NoError(t, os.WriteFile(state, []byte("{"), 0o600))
	var logged strings.Builder
	var mu sync.Mutex
	cfg := Config{Listen: freeAddr(t), Socket: filepath.Join(dir, "s"), State: state}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg.Logf = func(format string, args ...any) {
		mu.Lock()
		fmt.Fprintf(&logged, format+"\n", args...)
		mu.Unlock()
	}
	go func() { done <- Serve(ctx, cfg) }()
	require.Eventually(t, func() bool {
		_, err := Client{Socket: cfg.Socket, Wait: -1}.Backends(ctx)
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	mu.Lock()
	assert.Contains(t, logged.String(), "front: state "+state+": ")
	assert.Contains(t, logged.String(), "starting with no backend")
	mu.Unlock()
	b, err := os.ReadFile(state + ".damaged")
	require.NoError(t, err)
	assert.Equal(t, "{", string(b))
}

// TestServeShutdown: when ctx is done, a request in flight is answered
// before Serve returns, and the public address is closed.
func TestServeShutdown(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{Listen: freeAddr(t), Socket: filepath.Join(dir, "front.sock")}
	arrived := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("slow") {
			arrived <- struct{}{}
			time.Sleep(300 * time.Millisecond)
		}
		io.WriteString(w, "slow")
	}))
	defer slow.Close()
	stop := serve(t, cfg)
	require.NoError(t, Client{Socket: cfg.Socket}.Add(ctx, Backend{Name: "web", Addr: addr(slow)}, Health{}))
	answered := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + cfg.Listen + "/?slow")
		if err != nil {
			answered <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- string(b)
	}()
	<-arrived // the request is in flight
	require.NoError(t, stop())
	assert.Equal(t, "slow", <-answered)
	_, err := net.Dial("tcp", cfg.Listen)
	assert.Error(t, err, "closed")
}
