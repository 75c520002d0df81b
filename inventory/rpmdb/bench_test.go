package rpmdb

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReadBench reads the 2,000-package host that bench/compare
// builds (run it once first); it is skipped when that host is missing.
func BenchmarkReadBench(b *testing.B) {
	base, _ := os.UserCacheDir()
	root := filepath.Join(base, "alicorn-bench", "host")
	if _, err := Find(root); err != nil {
		b.Skip("run go run ./bench/compare once to build the 2,000-package host")
	}
	b.ReportAllocs()
	for b.Loop() {
		pkgs, err := Read(context.Background(), root, Options{})
		if err != nil || len(pkgs) != 2000 {
			b.Fatal(err, len(pkgs))
		}
	}
}

// BenchmarkReadSQLite reads the shared CBL-Mariner database (129 packages).
func BenchmarkReadSQLite(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		db, err := Open(filepath.Join(sharedDir(b), "cbl-mariner-2.0/rpmdb.sqlite"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Packages(context.Background(), Options{}); err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}
