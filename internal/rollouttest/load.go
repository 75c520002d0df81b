package rollouttest

import (
	"context"
	"testing"
	"time"

	"github.com/alicorn-dev/alicorn/internal/loadgen"
	"github.com/alicorn-dev/alicorn/internal/webimage"
)

// Load is internal/loadgen's load on the module's page through the
// front: 200 requests a second on new and kept-alive connections, every
// body checked against the page, in a phase "before" until During.
type Load struct {
	g *loadgen.Generator
}

// StartLoad starts the load on url and lets it run for a second before
// returning.
func StartLoad(t testing.TB, url string) *Load {
	t.Helper()
	g, err := loadgen.Start(context.Background(), loadgen.Config{URL: url, Expect: webimage.Page(), Rate: 200})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // loadgen's first phase is "before"
	g.Mark("during")
	return &Load{g: g}
}

// End stops the load, logs its table (requests, failures, latency
// percentiles before and during) and fails t on any failed request or
// wrong body.
func (l *Load) End(t testing.TB) *loadgen.Result {
	t.Helper()
	res := l.g.Stop()
	t.Logf("load:\n%s", res)
	if err := res.Err(); err != nil {
		t.Errorf("load: %v", err)
	}
	if res.Total().Requests == 0 {
		t.Error("load: no request sent")
	}
	return res
}
