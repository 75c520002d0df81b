package dnfcompat

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkListSecurityWarm runs `updateinfo list --security` on the
// fixtures of bench/compare (2,000 installed packages, 20,000 advisories)
// with a warm cache. Run go run ./bench/compare once to build them.
func BenchmarkListSecurityWarm(b *testing.B) {
	base, _ := os.UserCacheDir()
	dir := filepath.Join(base, "alicorn-bench")
	if _, err := os.Stat(filepath.Join(dir, "repo-zst", "repodata", "repomd.xml")); err != nil {
		b.Skip("run go run ./bench/compare once to build the fixtures")
	}
	args := []string{"--installroot=" + filepath.Join(dir, "host"), "--releasever=40", "--setopt=reposdir=/nonexistent",
		"--repofrompath=bench,file://" + filepath.Join(dir, "repo-zst"), "--setopt=cachedir=" + b.TempDir(), "-q",
		"updateinfo", "list", "--security"}
	env := Env{Stdout: io.Discard, Stderr: os.Stderr}
	if Run(context.Background(), args, env) != 0 {
		b.Fatal("first run failed")
	}
	b.ReportAllocs()
	for b.Loop() {
		if Run(context.Background(), args, env) != 0 {
			b.Fatal("run failed")
		}
	}
}
