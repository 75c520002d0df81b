package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/update/service"
)

// BenchmarkCheck20 times `module-build check` over 20 published modules
// with nothing to do, the common case a timer runs every few minutes:
// each round reads 20 tags and the cached repository metadata, and scans
// no image again (they are cached by digest).
func BenchmarkCheck20(b *testing.B) {
	d := newDemo(b)
	for i := 2; i <= 20; i++ {
		d.module(b, fmt.Sprintf("web%d", i))
	}
	code, out := d.cli(b, "build")
	require.Equal(b, 0, code, out)
	code, out = d.cli(b, "check")
	require.Equal(b, 0, code, out)
	b.ResetTimer()
	for b.Loop() {
		if code, out := d.cli(b, "check"); code != 0 {
			b.Fatalf("check: exit %d: %s", code, out)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/20, "ms/module")
}

// BenchmarkRebuild times a rebuild of the web module, split by step:
// check, build (dnf, verification, rpm, the layer), test (podman) and
// publish. Each round changes a label of the recipe, so that the image
// differs and every step runs.
func BenchmarkRebuild(b *testing.B) {
	d := newDemo(b)
	code, out := d.cli(b, "build")
	require.Equal(b, 0, code, out)
	steps := map[string]time.Duration{}
	b.ResetTimer()
	file := filepath.Join(d.dir, "mods", "web.toml")
	orig, err := os.ReadFile(file)
	require.NoError(b, err)
	round := 0
	for b.Loop() {
		round++
		b.StopTimer()
		require.NoError(b, os.WriteFile(file, []byte(strings.Replace(string(orig), "[build]\n",
			fmt.Sprintf("[build]\nlabels = {\"io.example.round\" = \"%d\"}\n", round), 1)), 0o644))
		b.StartTimer()
		start := time.Now()
		code, out := d.cli(b, "--json", "build", "web")
		if code != 0 {
			b.Fatalf("build: exit %d: %s", code, out)
		}
		prev := start
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var e service.Event
			require.NoError(b, json.Unmarshal([]byte(l), &e))
			steps[e.Step] += e.Time.Sub(prev)
			prev = e.Time
		}
	}
	for _, s := range []string{"check", "build", "test", "publish"} {
		b.ReportMetric(float64(steps[s].Milliseconds())/float64(b.N), s+"-ms/op")
	}
}
