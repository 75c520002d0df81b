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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/update/front"
)

// start runs a real HAProxy with Config for backend "web" on a free
// loopback port, and returns the Front driving it and the front's URL.
// The HAProxy has one more runtime API socket, of level operator:
// operator.sock, next to Front's.
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
	// And a socket whose level is too low for Front (TestErrors).
	op := "    stats socket " + filepath.Join(dir, "operator.sock") + " mode 600 level operator\n"
	conf := strings.Replace(Config(listen, "web", sock), "\n", "\n"+op, 1)
	require.NoError(t, os.WriteFile(cfg, []byte(conf), 0o600))
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

	low := Front{Socket: filepath.Join(filepath.Dir(f.Socket), "operator.sock"), Backend: "web"}
	err = low.Add(ctx, front.Backend{Name: "x", Addr: addr(v1)}, health)
	assert.ErrorContains(t, err, "add server web/x "+addr(v1)+": Permission denied")

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
	// HAProxy counts a response's error just after sending it: the
	// counters settle within moments (under load, after the client has
	// its answer).
	var st front.Stats
	assert.Eventually(t, func() bool {
		st, err = f.Stats(ctx, "web-1")
		return err == nil && st == front.Stats{Requests: 7, Errors: 4}
	}, 2*time.Second, 20*time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, front.Stats{Requests: 7, Errors: 4}, st)
}

// TestDrain: a drained server gets no new request, its slow request in
// flight finishes well, and it is gone once Drain returns.
func TestDrain(t *testing.T) {
	f, url := start(t)
	ctx := context.Background()
	got := make(chan struct{}, 1)
	v1, v2 := page("v1", 500*time.Millisecond, got), page("v2", 0, nil)
	defer v1.Close()
	defer v2.Close()
	require.NoError(t, f.Add(ctx, front.Backend{Name: id(1), Addr: addr(v1)}, health))
	type answer struct {
		code int
		body string
		err  error
	}
	slow := make(chan answer, 1)
	go func() {
		code, body, err := get(http.DefaultClient, url+"/?slow")
		slow <- answer{code, body, err}
	}()
	<-got
	require.NoError(t, f.Add(ctx, front.Backend{Name: id(2), Addr: addr(v2)}, health))
	began := time.Now()
	require.NoError(t, f.Drain(ctx, id(1), 5*time.Second))
	assert.Greater(t, time.Since(began), 200*time.Millisecond, "Drain returned before the request in flight ended")
	select {
	case a := <-slow:
		assert.Equal(t, answer{200, "v1", nil}, a)
	default:
		t.Fatal("Drain returned before the request in flight ended")
	}
	bs, err := f.Backends(ctx)
	require.NoError(t, err)
	assert.Equal(t, []front.Backend{{Name: id(2), Addr: addr(v2)}}, bs)
	_, err = f.Stats(ctx, id(1))
	assert.ErrorIs(t, err, ErrNoServer)
	for range 4 {
		_, body, err := get(http.DefaultClient, url)
		require.NoError(t, err)
		assert.Equal(t, "v2", body)
	}
}

// TestDrainTimeout: a request still in flight after the timeout is cut,
// the server removed all the same, and the error says so.
func TestDrainTimeout(t *testing.T) {
	f, url := start(t)
	ctx := context.Background()
	got := make(chan struct{}, 1)
	v1 := page("v1", time.Second, got)
	defer v1.Close()
	require.NoError(t, f.Add(ctx, front.Backend{Name: "web-1", Addr: addr(v1)}, health))
	go get(http.DefaultClient, url+"/?slow")
	<-got
	began := time.Now()
	err := f.Drain(ctx, "web-1", 200*time.Millisecond)
	assert.EqualError(t, err, "backend web-1: requests still in flight after 200ms")
	assert.Less(t, time.Since(began), 900*time.Millisecond)
	_, err = f.Stats(ctx, "web-1")
	assert.ErrorIs(t, err, ErrNoServer)
}

// TestRetry: the requests sent to a backend that died, or that answers
// 503, are retried on the other one: the client sees no failure, and
// the backend's errors count them. HAProxy's own checks (Front.Server)
// then take the dead one out of the rotation.
func TestRetry(t *testing.T) {
	f, url := start(t)
	f.Server = "check inter 100ms fall 1"
	ctx := context.Background()
	v1, v2 := page("v1", 0, nil), page("v2", 0, nil)
	defer v2.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			io.WriteString(w, "v3 up")
			return
		}
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer bad.Close()
	for i, s := range []*httptest.Server{v1, v2, bad} {
		require.NoError(t, f.Add(ctx, front.Backend{Name: id(i + 1), Addr: addr(s)}, health))
	}
	v1.Close()
	for range 30 {
		code, body, err := get(http.DefaultClient, url+"/x")
		require.NoError(t, err)
		assert.Equal(t, 200, code)
		assert.Equal(t, "v2", body)
	}
	for _, n := range []int{1, 3} {
		st, err := f.Stats(ctx, id(n))
		require.NoError(t, err)
		assert.Positive(t, st.Errors, id(n))
		assert.Equal(t, st.Requests, st.Errors, id(n))
	}
	st, err := f.Stats(ctx, id(2))
	require.NoError(t, err)
	assert.Equal(t, front.Stats{Requests: 30}, st)
	require.Eventually(t, func() bool {
		bs, err := f.Backends(ctx)
		return err == nil && len(bs) == 2 && bs[0].Name == id(2)
	}, 5*time.Second, 50*time.Millisecond, "HAProxy's check did not take the dead server out")
}

// TestSwitchUnderLoad sends requests without pause from a few clients on
// kept-alive connections while backends are added and drained, twice:
// not one fails, and once done only the last version answers.
func TestSwitchUnderLoad(t *testing.T) {
	f, url := start(t)
	ctx := context.Background()
	vs := []*httptest.Server{page("v1", 0, nil), page("v2", 0, nil), page("v3", 0, nil)}
	for _, v := range vs {
		defer v.Close()
	}
	require.NoError(t, f.Add(ctx, front.Backend{Name: id(1), Addr: addr(vs[0])}, health))

	var ok, failed atomic.Int64
	var switched atomic.Bool // v1 and v2 are drained: only v3 answers
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				after := switched.Load()
				code, body, err := get(c, url)
				if err != nil || code != 200 {
					failed.Add(1)
					t.Errorf("GET %s: %d %q %v", url, code, body, err)
					continue
				}
				ok.Add(1)
				if after && body != "v3" {
					t.Errorf("GET %s after the switch: %q", url, body)
				}
			}
		}()
	}
	wait := func(n int64) {
		for ok.Load()+failed.Load() < n {
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait(200)
	require.NoError(t, f.Add(ctx, front.Backend{Name: id(2), Addr: addr(vs[1])}, health))
	wait(400)
	require.NoError(t, f.Drain(ctx, id(1), 5*time.Second))
	wait(600)
	require.NoError(t, f.Add(ctx, front.Backend{Name: id(3), Addr: addr(vs[2])}, health))
	require.NoError(t, f.Drain(ctx, id(2), 5*time.Second))
	switched.Store(true)
	wait(1000)
	close(stop)
	wg.Wait()
	assert.Zero(t, failed.Load())
	assert.GreaterOrEqual(t, ok.Load(), int64(1000))
	bs, err := f.Backends(ctx)
	require.NoError(t, err)
	assert.Equal(t, []front.Backend{{Name: id(3), Addr: addr(vs[2])}}, bs)
}
