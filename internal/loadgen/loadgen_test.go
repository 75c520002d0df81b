package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCounts: a server that answers the nth request 500 when n%5 == 0
// and a wrong body when n%7 == 3 is reported exactly, whatever order the
// requests arrive in; half the requests came on new connections.
func TestCounts(t *testing.T) {
	var n, closing atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Close {
			closing.Add(1)
		}
		switch i := n.Add(1); {
		case i%5 == 0:
			http.Error(w, "oops", http.StatusInternalServerError)
		case i%7 == 3:
			io.WriteString(w, "v0")
		default:
			io.WriteString(w, "v1")
		}
	}))
	defer s.Close()
	res, err := Run(context.Background(), Config{URL: s.URL, Rate: 500, Duration: 200 * time.Millisecond, Expect: []byte("v1")})
	require.NoError(t, err)
	t.Log("\n" + res.String())
	var failed, wrong int
	for i := 1; i <= 100; i++ {
		switch {
		case i%5 == 0:
			failed++
		case i%7 == 3:
			wrong++
		}
	}
	tot := res.Total()
	assert.Equal(t, 100, tot.Requests)
	assert.Equal(t, failed, tot.Failed)
	assert.Equal(t, wrong, tot.Wrong)
	assert.Equal(t, map[string]int{"status 500": failed, "wrong body": wrong}, tot.Reasons)
	assert.Equal(t, int64(50), closing.Load(), "every other request on a new connection")
	require.Len(t, res.Failures, 10)
	for i, f := range res.Failures {
		if i > 0 {
			assert.LessOrEqual(t, res.Failures[i-1].At, f.At, "first due first")
		}
		if f.Wrong {
			assert.Equal(t, `body differs: 2 bytes "v0"`, f.Reason)
		} else {
			assert.Equal(t, "status 500", f.Reason)
		}
		assert.Equal(t, "before", f.Phase)
	}
	assert.ErrorContains(t, res.Err(), fmt.Sprintf("%d of 100 requests failed, %d wrong; first at ", failed, wrong))
	assert.Positive(t, tot.P50)
	assert.LessOrEqual(t, tot.P50, tot.P90)
	assert.LessOrEqual(t, tot.P99, tot.Max)
}

// TestPhasesAndPaths: Mark splits the counts; each path is checked by
// Check; a clean run has no error.
func TestPhasesAndPaths(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "page "+r.URL.Path)
	}))
	defer s.Close()
	var checked atomic.Int64
	g, err := Start(context.Background(), Config{URL: s.URL, Paths: []string{"/a", "/b"}, Rate: 400, Duration: 300 * time.Millisecond,
		Check: func(path string, body []byte) error {
			checked.Add(1)
			if string(body) != "page "+path {
				return errors.New("not the page")
			}
			return nil
		}})
	require.NoError(t, err)
	time.Sleep(150 * time.Millisecond)
	g.Mark("during")
	res := g.Wait()
	t.Log("\n" + res.String())
	require.NoError(t, res.Err())
	require.Len(t, res.Phases, 2)
	before, during := res.Phases[0], res.Phases[1]
	assert.Equal(t, "before", before.Name)
	assert.Equal(t, "during", during.Name)
	assert.Positive(t, before.Requests)
	assert.Positive(t, during.Requests)
	assert.Equal(t, 120, before.Requests+during.Requests)
	assert.Equal(t, int64(120), checked.Load())
	p, ok := res.Phase("during")
	assert.True(t, ok)
	assert.Equal(t, during, p)
	assert.Contains(t, res.String(), "during")
	assert.Contains(t, res.String(), "total")
}

// TestOverflowAndTimeout: with the server stalled, requests beyond
// MaxInFlight are not sent and count as failed, and those sent time out:
// the load is not slowed down by the stall.
func TestOverflowAndTimeout(t *testing.T) {
	release := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer s.Close()
	defer close(release)
	res, err := Run(context.Background(), Config{URL: s.URL, Rate: 200, Duration: 100 * time.Millisecond, MaxInFlight: 5,
		Timeout: 300 * time.Millisecond, Conns: KeptAlive})
	require.NoError(t, err)
	t.Log("\n" + res.String())
	tot := res.Total()
	assert.Equal(t, 20, tot.Requests)
	assert.Equal(t, 20, tot.Failed)
	assert.Equal(t, 15, tot.Overflow)
	assert.Equal(t, map[string]int{"overflow": 15, "timeout": 5}, tot.Reasons)
	assert.GreaterOrEqual(t, tot.Max, 300*time.Millisecond)
}

// TestRefusedAndCancel: a server gone is reported as refused
// connections; the load ends when ctx is done.
func TestRefusedAndCancel(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	u := s.URL
	s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, Config{URL: u, Rate: 100, Conns: NewConns})
	require.NoError(t, err)
	tot := res.Total()
	assert.Positive(t, tot.Requests)
	assert.Equal(t, tot.Requests, tot.Failed)
	assert.Equal(t, map[string]int{"connection refused": tot.Requests}, tot.Reasons)
	assert.Equal(t, "new", res.Failures[0].Conn)
	assert.ErrorContains(t, res.Err(), "connection refused")
}
