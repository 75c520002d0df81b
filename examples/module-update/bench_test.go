package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alicorn-dev/alicorn/internal/rollouttest"
)

// BenchmarkRollingUpdate times a rolling update of the web module (three
// replicas and a content container) under 200 requests a second through
// the built-in front and through HAProxy, alternating between two
// published images, and reports the requests that failed (there must be
// none) and the latency percentiles before and during the update:
//
//	go test -run XXX -bench RollingUpdate -benchtime 3x ./examples/module-update
func BenchmarkRollingUpdate(b *testing.B) {
	for _, kind := range []string{"builtin", "haproxy"} {
		b.Run(kind, func(b *testing.B) { benchmarkRolling(b, kind) })
	}
}

func benchmarkRolling(b *testing.B, kind string) {
	ctx := context.Background()
	s := rollouttest.NewSite(b, ctx, "rolling", kind)
	digests := []string{
		rollouttest.Publish(b, ctx, s.Registry, s.Name, "stable", s.Images.Release(b, ctx, "1", ""), ""),
		rollouttest.Publish(b, ctx, s.Registry, s.Name, "stable", s.Images.Release(b, ctx, "2", ""), ""),
	}
	apply := func(to string) {
		var out, errb strings.Builder
		if code := run(ctx, append(s.Flags(), "apply", "-y", "--to", to), strings.NewReader(""), &out, &errb); code != 0 {
			b.Fatalf("apply --to %s: exit %d\n%s%s", to, code, out.String(), errb.String())
		}
	}
	apply(digests[0])
	var failed, requests int
	var p50b, p99b, p50d, p99d, total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		l := rollouttest.StartLoad(b, s.URL)
		b.StartTimer()
		start := time.Now()
		apply(digests[(i+1)%2])
		total += time.Since(start)
		b.StopTimer()
		res := l.End(b)
		failed += res.Total().Failed + res.Total().Wrong
		requests += res.Total().Requests
		before, _ := res.Phase("before")
		during, _ := res.Phase("during")
		p50b, p99b = p50b+before.P50, p99b+before.P99
		p50d, p99d = p50d+during.P50, p99d+during.P99
		b.StartTimer()
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / n }
	b.ReportMetric(float64(failed), "failed")
	b.ReportMetric(float64(requests)/n, "requests/op")
	b.ReportMetric(ms(p50b), "p50-before-ms")
	b.ReportMetric(ms(p99b), "p99-before-ms")
	b.ReportMetric(ms(p50d), "p50-during-ms")
	b.ReportMetric(ms(p99d), "p99-during-ms")
	b.ReportMetric(total.Seconds()/n, "s/update")
}
