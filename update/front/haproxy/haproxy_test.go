package haproxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/update/front"
)

// start runs a real HAProxy with Config for backend "web" on a free
// loopback port, and returns the Front driving it and the front's URL.
func start(t *testing.T) (Front, string) {
	t.Helper()
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy not installed: apt-get install haproxy")
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	listen := l.Addr().String()
	l.Close()
	sock := filepath.Join(dir, "admin.sock")
	cfg := filepath.Join(dir, "haproxy.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte(Config(listen, "web", sock)), 0o600))
	var log bytes.Buffer
	cmd := exec.Command("haproxy", "-f", cfg, "-db")
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy:\n%s", log.String())
		}
	})
	require.Eventually(t, func() bool {
		_, err := run(context.Background(), sock, "show info")
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "haproxy's runtime API at %s", sock)
	return Front{Socket: sock, Backend: "web"}, "http://" + listen
}

// page serves body; ?slow requests take d (and are told on got),
// /fail answers 500.
func page(body string, d time.Duration, got chan<- struct{}) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			http.Error(w, "failed", http.StatusInternalServerError)
			return
		}
		if r.URL.Query().Has("slow") {
			if got != nil {
				got <- struct{}{}
			}
			time.Sleep(d)
		}
		io.WriteString(w, body)
	}))
}

func addr(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

// get returns a GET's status and body.
func get(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// id is a podman container ID (64 hex digits) for n.
func id(n int) string { return fmt.Sprintf("%064x", n) }

var health = front.Health{Expect: "v", Interval: 20 * time.Millisecond, Timeout: 2 * time.Second}

// TestAdd: a backend joins once healthy, one that is not is refused
// within the timeout and not added, and requests reach every backend of
// the rotation in turn.
func TestAdd(t *testing.T) {
	f, url := start(t)
	ctx := context.Background()
	err := f.Add(ctx, front.Backend{Name: id(9), Addr: "127.0.0.1:1"}, front.Health{Timeout: 300 * time.Millisecond, Interval: 50 * time.Millisecond})
	assert.ErrorContains(t, err, "backend "+id(9)+" (127.0.0.1:1): not healthy within 300ms")
	_, err = f.Stats(ctx, id(9))
	assert.ErrorIs(t, err, ErrNoServer)

	v1, v2 := page("v1", 0, nil), page("v2", 0, nil)
	defer v1.Close()
	defer v2.Close()
	require.NoError(t, f.Add(ctx, front.Backend{Name: id(1), Addr: addr(v1)}, health))
	require.NoError(t, f.Add(ctx, front.Backend{Name: "web-2", Addr: addr(v2)}, health))
	bs, err := f.Backends(ctx)
	require.NoError(t, err)
	assert.Equal(t, []front.Backend{{Name: id(1), Addr: addr(v1)}, {Name: "web-2", Addr: addr(v2)}}, bs)

	seen := map[string]int{}
	for range 10 {
		code, body, err := get(http.DefaultClient, url)
		require.NoError(t, err)
		assert.Equal(t, 200, code)
		seen[body]++
	}
	assert.Equal(t, map[string]int{"v1": 5, "v2": 5}, seen)
	st, err := f.Stats(ctx, id(1))
	require.NoError(t, err)
	assert.Equal(t, front.Stats{Requests: 5}, st)

	err = f.Add(ctx, front.Backend{Name: id(1), Addr: addr(v1)}, health)
	assert.ErrorContains(t, err, "Already exists a server with the same name")
}

// TestErrors: what is not there, names HAProxy does not allow, a socket
// that is not there.
func TestErrors(t *testing.T) {
	f, _ := start(t)
	ctx := context.Background()
	err := f.Drain(ctx, "nope", time.Second)
	assert.ErrorIs(t, err, ErrNoServer)
	assert.ErrorContains(t, err, "set server web/nope state drain: No such server.")
	_, err = f.Stats(ctx, "nope")
	assert.ErrorIs(t, err, ErrNoServer)

	v1 := page("v1", 0, nil)
	defer v1.Close()
	err = f.Add(ctx, front.Backend{Name: "a b;del server web/x", Addr: addr(v1)}, health)
	assert.ErrorContains(t, err, `haproxy server "a b;del server web/x": character ' ' not allowed`)
	err = f.Add(ctx, front.Backend{Name: "x", Addr: "127.0.0.1:80;x"}, health)
	assert.ErrorContains(t, err, `address "127.0.0.1:80;x": not HOST:PORT`)

	other := Front{Socket: f.Socket, Backend: "other"}
	err = other.Add(ctx, front.Backend{Name: "x", Addr: addr(v1)}, health)
	assert.ErrorContains(t, err, "add server other/x "+addr(v1)+": No such backend.")
	_, err = other.Backends(ctx)
	assert.ErrorContains(t, err, "show servers state other: no table: Can't find backend.")

	gone := Front{Socket: filepath.Join(t.TempDir(), "none.sock"), Backend: "web"}
	_, err = gone.Backends(ctx)
	assert.ErrorContains(t, err, "haproxy runtime API "+gone.Socket)
}

// TestStats: requests and errors are attempts; a 5xx HAProxy retried 3
// times on the only server is 4 failed attempts.
func TestStats(t *testing.T) {
	f, url := start(t)
	ctx := context.Background()
	v1 := page("v1", 0, nil)
	defer v1.Close()
	require.NoError(t, f.Add(ctx, front.Backend{Name: "web-1", Addr: addr(v1)}, health))
	for range 3 {
		code, _, err := get(http.DefaultClient, url)
		require.NoError(t, err)
		assert.Equal(t, 200, code)
	}
	code, _, err := get(http.DefaultClient, url+"/fail")
	require.NoError(t, err)
	assert.Equal(t, 500, code)
	st, err := f.Stats(ctx, "web-1")
	require.NoError(t, err)
	assert.Equal(t, front.Stats{Requests: 7, Errors: 4}, st)
}
