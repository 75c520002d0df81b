package front

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkProxy measures the front's overhead: GETs of a small page
// straight to the backend, through the Proxy, and through the Proxy with
// a second backend that answers 500 (half the requests sent again), one
// at a time (serial) and from GOMAXPROCS*4 goroutines on kept-alive
// connections (parallel); each reports req/s.
func BenchmarkProxy(b *testing.B) {
	ctx := context.Background()
	page := []byte("<html><body>It works</body></html>\n")
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(page)
	}))
	defer backend.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			return
		}
		http.Error(w, "broken", http.StatusInternalServerError)
	}))
	defer bad.Close()
	p := New()
	if err := p.Add(ctx, Backend{Name: "web", Addr: addr(backend)}, Health{}); err != nil {
		b.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	q := New()
	if err := q.Add(ctx, Backend{Name: "web", Addr: addr(backend)}, Health{}); err != nil {
		b.Fatal(err)
	}
	if err := q.Add(ctx, Backend{Name: "bad", Addr: addr(bad)}, Health{Path: "/health"}); err != nil {
		b.Fatal(err)
	}
	retrying := httptest.NewServer(q)
	defer retrying.Close()

	for _, target := range []struct{ name, url string }{
		{"direct", backend.URL}, {"proxy", front.URL}, {"proxy-retry", retrying.URL},
	} {
		get := func(c *http.Client) error {
			resp, err := c.Get(target.url)
			if err != nil {
				return err
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n != int64(len(page)) {
				return fmt.Errorf("%s: %d bytes", resp.Status, n)
			}
			return nil
		}
		b.Run(target.name+"/serial", func(b *testing.B) {
			c := &http.Client{Transport: &http.Transport{}}
			defer c.CloseIdleConnections()
			for b.Loop() {
				if err := get(c); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
		b.Run(target.name+"/parallel", func(b *testing.B) {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			defer c.CloseIdleConnections()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := get(c); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
