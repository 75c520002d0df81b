package rpmtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Cached returns a builder whose RPM cache survives test runs: in
// $ALICORN_TEST_CACHE, else the user cache directory's alicorn-test.
func Cached(t testing.TB) *Builder {
	t.Helper()
	dir := os.Getenv("ALICORN_TEST_CACHE")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(base, "alicorn-test")
	}
	b, err := NewBuilder(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
