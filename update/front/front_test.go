package front

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// page serves body; slow requests (?slow) take d.
func page(body string, d time.Duration) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("slow") {
			time.Sleep(d)
		}
		io.WriteString(w, body)
	}))
}

func addr(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

// TestSwitchUnderLoad sends requests without pause on kept-alive
// connections while a new backend is added and the old one drained: not
// one fails, each body is one of the two pages, and once drained only the
// new page is served; a slow request in flight on the old backend
// finishes.
func TestSwitchUnderLoad(t *testing.T) {
	v1, v2 := page("v1", 300*time.Millisecond), page("v2", 0)
	defer v1.Close()
	defer v2.Close()
	p := New()
	ctx := context.Background()
	require.NoError(t, p.Add(ctx, Backend{Name: "web-1", Addr: addr(v1)}, Health{Expect: "v1"}))
	front := httptest.NewServer(p)
	defer front.Close()

	var ok, failed, wrong atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get(front.URL + "/")
				if err != nil {
					failed.Add(1)
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case err != nil || resp.StatusCode != 200:
					failed.Add(1)
				case string(b) != "v1" && string(b) != "v2":
					wrong.Add(1)
				default:
					ok.Add(1)
				}
			}
		}()
	}
	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get(front.URL + "/?slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, p.Add(ctx, Backend{Name: "web-2", Addr: addr(v2)}, Health{Expect: "v2"}))
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, p.Drain(ctx, "web-1", 5*time.Second))
	assert.Equal(t, "v1", <-slow, "the request in flight on the drained backend finished")
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d requests, %d failed, %d wrong", ok.Load(), failed.Load(), wrong.Load())
	assert.Positive(t, ok.Load())
	assert.Zero(t, failed.Load())
	assert.Zero(t, wrong.Load())
	assert.Equal(t, []Backend{{Name: "web-2", Addr: addr(v2)}}, p.Backends())
	for range 10 {
		resp, err := http.Get(front.URL + "/")
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "v2", string(b))
	}
}

func TestHealthAndErrors(t *testing.T) {
	ctx := context.Background()
	p := New()
	// Never healthy: not added.
	bad := page("maintenance", 0)
	defer bad.Close()
	err := p.Add(ctx, Backend{Name: "bad", Addr: addr(bad)}, Health{Expect: "It works", Timeout: 300 * time.Millisecond,
		Interval: 50 * time.Millisecond})
	assert.ErrorContains(t, err, `backend bad (`+addr(bad)+`): not healthy within 300ms: GET http://`+addr(bad)+`/: 200 without "It works"`)
	assert.Empty(t, p.Backends())
	front := httptest.NewServer(p)
	defer front.Close()
	resp, err := http.Get(front.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "no backend")

	// Healthy, then 500s: counted.
	var broken atomic.Bool
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			http.Error(w, "oops", 500)
			return
		}
		io.WriteString(w, "It works")
	}))
	defer s.Close()
	require.NoError(t, p.Add(ctx, Backend{Name: "web", Addr: addr(s)}, Health{Expect: "It works"}))
	broken.Store(true)
	for range 3 {
		resp, err := http.Get(front.URL)
		require.NoError(t, err)
		resp.Body.Close()
	}
	st, ok := p.Stats("web")
	require.True(t, ok)
	assert.Equal(t, Stats{Requests: 3, Errors: 3}, st)
	assert.ErrorContains(t, p.Add(ctx, Backend{Name: "web", Addr: addr(s)}, Health{}), "already behind the front")
	assert.ErrorContains(t, p.Drain(ctx, "nope", time.Second), "not behind the front")
}
