package front

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flaky serves "ok" until broken is set, then fails every request as
// mode says: "500" answers 500, "close" closes the connection before
// any answer, "midbody" sends the headers and half the body and closes.
func flaky(t *testing.T, mode string) (*httptest.Server, *atomic.Bool) {
	var broken atomic.Bool
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !broken.Load() {
			io.WriteString(w, "ok")
			return
		}
		switch mode {
		case "500":
			http.Error(w, "broken", http.StatusInternalServerError)
		case "close", "midbody":
			if mode == "midbody" {
				w.Header().Set("Content-Length", "10")
				io.WriteString(w, "hal")
				w.(http.Flusher).Flush()
			}
			c, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				c.Close()
			}
		}
	}))
	t.Cleanup(s.Close)
	return s, &broken
}

// get sends n GETs to u on one kept-alive client and on new
// connections, and returns how many failed and the bodies seen.
func get(t *testing.T, u string, n int) (failed int, bodies map[string]int) {
	t.Helper()
	bodies = map[string]int{}
	clients := []*http.Client{{}, {Transport: &http.Transport{DisableKeepAlives: true}}}
	for i := range n {
		resp, err := clients[i%2].Get(u)
		if err != nil {
			failed++
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			failed++
			continue
		}
		bodies[string(b)]++
	}
	return failed, bodies
}

// TestRetryOnBadBackend: a backend that passed its health check then
// answers 500, closes its connections, or is gone (connection refused)
// fails no GET while another backend works; its failures are counted
// against it.
func TestRetryOnBadBackend(t *testing.T) {
	for _, mode := range []string{"500", "close", "refused"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			good := page("good", 0)
			defer good.Close()
			bad, broken := flaky(t, mode)
			p := New()
			require.NoError(t, p.Add(ctx, Backend{Name: "good", Addr: addr(good)}, Health{}))
			require.NoError(t, p.Add(ctx, Backend{Name: "bad", Addr: addr(bad)}, Health{Expect: "ok"}))
			broken.Store(true)
			if mode == "refused" {
				bad.Close()
			}
			front := httptest.NewServer(p)
			defer front.Close()

			failed, bodies := get(t, front.URL, 40)
			assert.Zero(t, failed)
			assert.Equal(t, map[string]int{"good": 40}, bodies)
			gs, _ := p.Stats("good")
			bs, _ := p.Stats("bad")
			t.Logf("good %+v, bad %+v", gs, bs)
			assert.Equal(t, Stats{Requests: 40}, gs, "every request answered once by the good backend")
			assert.Positive(t, bs.Requests, "round robin sent requests to the bad backend too")
			assert.Equal(t, bs.Requests, bs.Errors, "every attempt on the bad backend counted failed")
		})
	}
}

// TestRetryAllFail: when every backend fails, the client gets the last
// 500 as it was, or 502 after transport errors; each backend is tried
// once.
func TestRetryAllFail(t *testing.T) {
	ctx := context.Background()
	p := New()
	front := httptest.NewServer(p)
	defer front.Close()
	for _, name := range []string{"a", "b"} {
		s, broken := flaky(t, "500")
		require.NoError(t, p.Add(ctx, Backend{Name: name, Addr: addr(s)}, Health{}))
		broken.Store(true)
	}
	resp, err := http.Get(front.URL)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, "broken\n", string(b))
	for _, name := range []string{"a", "b"} {
		st, _ := p.Stats(name)
		assert.Equal(t, Stats{Requests: 1, Errors: 1}, st, name)
	}

	q := New()
	front2 := httptest.NewServer(q)
	defer front2.Close()
	for _, name := range []string{"a", "b", "c", "d"} {
		s, broken := flaky(t, "close")
		require.NoError(t, q.Add(ctx, Backend{Name: name, Addr: addr(s)}, Health{}))
		broken.Store(true)
	}
	resp, err = http.Get(front2.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	var attempts int64
	for _, name := range []string{"a", "b", "c", "d"} {
		st, _ := q.Stats(name)
		assert.LessOrEqual(t, st.Requests, int64(1), name)
		attempts += st.Requests
	}
	assert.Equal(t, int64(MaxAttempts), attempts, "attempts are bounded")
}

// TestRetryUnsafe: a POST is sent again only when its backend refused
// the connection (it never saw it), never after a 500; a body over
// MaxReplayBody is streamed once.
func TestRetryUnsafe(t *testing.T) {
	ctx := context.Background()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body) // all of it before answering (HTTP/1)
		w.Write(b)
	}))
	defer echo.Close()
	post := func(u, body string) (int, string) {
		resp, err := http.Post(u, "text/plain", strings.NewReader(body))
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}

	// Refused: sent again, with its body.
	p := New()
	front := httptest.NewServer(p)
	defer front.Close()
	gone, _ := flaky(t, "")
	require.NoError(t, p.Add(ctx, Backend{Name: "echo", Addr: addr(echo)}, Health{}))
	require.NoError(t, p.Add(ctx, Backend{Name: "gone", Addr: addr(gone)}, Health{}))
	gone.Close()
	for range 4 {
		code, body := post(front.URL, "hello")
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "hello", body)
	}
	st, _ := p.Stats("gone")
	assert.Equal(t, Stats{Requests: 2, Errors: 2}, st)
	// Too large to buffer: sent once, 502 when refused.
	big := strings.Repeat("x", MaxReplayBody+1)
	codes := map[int]int{}
	for range 4 {
		code, body := post(front.URL, big)
		codes[code]++
		if code == http.StatusOK {
			assert.True(t, body == big, "the body went through")
		}
	}
	assert.Equal(t, map[int]int{http.StatusOK: 2, http.StatusBadGateway: 2}, codes)

	// 500: passed through, not sent again.
	q := New()
	front2 := httptest.NewServer(q)
	defer front2.Close()
	bad, broken := flaky(t, "500")
	require.NoError(t, q.Add(ctx, Backend{Name: "echo", Addr: addr(echo)}, Health{}))
	require.NoError(t, q.Add(ctx, Backend{Name: "bad", Addr: addr(bad)}, Health{}))
	broken.Store(true)
	codes = map[int]int{}
	for range 4 {
		code, _ := post(front2.URL, "hello")
		codes[code]++
	}
	assert.Equal(t, map[int]int{http.StatusOK: 2, http.StatusInternalServerError: 2}, codes)
	st, _ = q.Stats("bad")
	assert.Equal(t, Stats{Requests: 2, Errors: 2}, st)
}

// TestMidBodyCounted: a backend that dies in the middle of a body cannot
// be hidden (the headers are sent), but counts as failed.
func TestMidBodyCounted(t *testing.T) {
	ctx := context.Background()
	p := New()
	bad, broken := flaky(t, "midbody")
	require.NoError(t, p.Add(ctx, Backend{Name: "bad", Addr: addr(bad)}, Health{}))
	broken.Store(true)
	front := httptest.NewServer(p)
	defer front.Close()
	resp, err := http.Get(front.URL)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	assert.Error(t, err)
	require.Eventually(t, func() bool {
		st, _ := p.Stats("bad")
		return st == Stats{Requests: 1, Errors: 1}
	}, 2*time.Second, 10*time.Millisecond)
	require.NoError(t, p.Drain(ctx, "bad", time.Second), "the failed body left nothing in flight")
}

// TestDrainWaitsForBody: Drain returns only once a response's body has
// been copied to the client in full, not when its headers arrived.
func TestDrainWaitsForBody(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow" {
			io.WriteString(w, "ok")
			return
		}
		io.WriteString(w, "first ")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "last")
	}))
	defer s.Close()
	p := New()
	require.NoError(t, p.Add(ctx, Backend{Name: "web", Addr: addr(s)}, Health{}))
	front := httptest.NewServer(p)
	defer front.Close()

	resp, err := http.Get(front.URL + "/slow")
	require.NoError(t, err)
	defer resp.Body.Close()
	drained := make(chan error, 1)
	go func() { drained <- p.Drain(ctx, "web", 5*time.Second) }()
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) with a body in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "first last", string(b))
	assert.NoError(t, <-drained)
}

// TestUpgrade: a protocol switch (WebSocket's) goes through, and keeps
// its backend in flight until the connection ends; a backend switching
// to another protocol than asked gets 502, and leaves nothing in flight.
func TestUpgrade(t *testing.T) {
	ctx := context.Background()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			io.WriteString(w, "ok") // the health check
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		proto := "echo"
		if r.URL.Path == "/wrong" {
			proto = "other"
		}
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n", proto)
		brw.Flush()
		io.Copy(c, brw) // echo until the client closes
	}))
	defer s.Close()
	for _, path := range []string{"/", "/wrong"} {
		p := New()
		require.NoError(t, p.Add(ctx, Backend{Name: "web", Addr: addr(s)}, Health{}))
		front := httptest.NewServer(p)
		c, err := net.Dial("tcp", addr(front))
		require.NoError(t, err)
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n", path)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		if path == "/wrong" {
			assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
			c.Close()
			assert.NoError(t, p.Drain(ctx, "web", time.Second), "nothing left in flight")
			front.Close()
			continue
		}
		require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
		io.WriteString(c, "hello")
		b := make([]byte, 5)
		_, err = io.ReadFull(br, b)
		require.NoError(t, err)
		assert.Equal(t, "hello", string(b))
		assert.ErrorContains(t, p.Drain(ctx, "web", 100*time.Millisecond), "in flight", "the connection is a request in flight")
		c.Close()
		front.Close()
	}
}
