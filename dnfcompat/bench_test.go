package dnfcompat

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// benchArgs returns the command line for `updateinfo list --security` on
// the fixtures of bench/compare (2,000 installed packages, 20,000
// advisories, zstd) with the given cache, or skips when they are missing.
func benchArgs(b *testing.B, cache string) []string {
	base, _ := os.UserCacheDir()
	dir := filepath.Join(base, "alicorn-bench")
	if _, err := os.Stat(filepath.Join(dir, "repo-zst", "repodata", "repomd.xml")); err != nil {
		b.Skip("run go run ./bench/compare once to build the fixtures")
	}
	return []string{"--installroot=" + filepath.Join(dir, "host"), "--releasever=40", "--setopt=reposdir=/nonexistent",
		"--repofrompath=bench,file://" + filepath.Join(dir, "repo-zst"), "--setopt=cachedir=" + cache, "-q",
		"updateinfo", "list", "--security"}
}

var benchEnv = Env{Stdout: io.Discard, Stderr: os.Stderr}

// BenchmarkListSecurityWarm runs with a warm cache.
func BenchmarkListSecurityWarm(b *testing.B) {
	args := benchArgs(b, b.TempDir())
	if Run(context.Background(), args, benchEnv) != 0 {
		b.Fatal("first run failed")
	}
	b.ReportAllocs()
	for b.Loop() {
		if Run(context.Background(), args, benchEnv) != 0 {
			b.Fatal("run failed")
		}
	}
}

// BenchmarkListSecurityCold empties the cache before every run:
// updateinfo.xml.zst is decompressed, parsed and indexed each time.
func BenchmarkListSecurityCold(b *testing.B) {
	cache := b.TempDir()
	args := benchArgs(b, cache)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		os.RemoveAll(cache)
		b.StartTimer()
		if Run(context.Background(), args, benchEnv) != 0 {
			b.Fatal("run failed")
		}
	}
}
