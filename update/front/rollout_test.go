package front

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alicorn-dev/alicorn/internal/loadgen"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRollbackUnderLoad is the proof the rollout relies on: under a load
// of 200 requests a second, on new and kept-alive connections, a
// candidate that answers 500 after passing its health check and one that
// crashes are each added and rolled back, and then a good one replaces
// the old: no request fails, every body is a version's page.
func TestRollbackUnderLoad(t *testing.T) {
	ctx := context.Background()
	v1, v2 := page("v1", 0), page("v2", 0)
	defer v1.Close()
	defer v2.Close()
	// Healthy where checked, 500 everywhere else.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			io.WriteString(w, "ok")
			return
		}
		http.Error(w, "broken", http.StatusInternalServerError)
	}))
	defer bad.Close()
	crashing := page("v2", 0)
	defer crashing.Close()

	p := New()
	require.NoError(t, p.Add(ctx, Backend{Name: "v1", Addr: addr(v1)}, Health{Expect: "v1"}))
	front := httptest.NewServer(p)
	defer front.Close()
	g, err := loadgen.Start(ctx, loadgen.Config{URL: front.URL, Paths: []string{"/", "/index.html"}, Rate: 200,
		Check: func(_ string, body []byte) error {
			if s := string(body); s != "v1" && s != "v2" {
				return fmt.Errorf("body %q", s)
			}
			return nil
		}})
	require.NoError(t, err)
	defer g.Stop()
	time.Sleep(200 * time.Millisecond)

	g.Mark("500s")
	require.NoError(t, p.Add(ctx, Backend{Name: "bad", Addr: addr(bad)}, Health{Path: "/health", Expect: "ok"}))
	time.Sleep(300 * time.Millisecond)
	st, _ := p.Stats("bad")
	assert.Positive(t, st.Errors, "the watch window sees the errors")
	// All failed but those in flight as Stats read the counts.
	assert.GreaterOrEqual(t, st.Errors, st.Requests-2)
	require.NoError(t, p.Drain(ctx, "bad", time.Second))

	g.Mark("crash")
	require.NoError(t, p.Add(ctx, Backend{Name: "crashing", Addr: addr(crashing)}, Health{Expect: "v2"}))
	time.Sleep(150 * time.Millisecond)
	crashing.CloseClientConnections()
	crashing.Close()
	time.Sleep(300 * time.Millisecond)
	st, _ = p.Stats("crashing")
	assert.Positive(t, st.Errors, "the watch window sees the crash")
	require.NoError(t, p.Drain(ctx, "crashing", time.Second))

	g.Mark("roll")
	require.NoError(t, p.Add(ctx, Backend{Name: "v2", Addr: addr(v2)}, Health{Expect: "v2"}))
	time.Sleep(150 * time.Millisecond)
	require.NoError(t, p.Drain(ctx, "v1", time.Second))
	time.Sleep(200 * time.Millisecond)

	res := g.Stop()
	t.Log("\n" + res.String())
	assert.NoError(t, res.Err())
	for _, ph := range res.Phases {
		assert.Positive(t, ph.Requests, ph.Name)
	}
}
