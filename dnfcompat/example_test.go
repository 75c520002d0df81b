package dnfcompat_test

import (
	"context"
	"os"
	"path/filepath"

	"github.com/alicorn-dev/alicorn/dnfcompat"
)

// The example host has openssl-libs 3.2.1 installed; its repository has
// an advisory that fixes it.
func ExampleRun() {
	root, _ := os.MkdirTemp("", "example-cache")
	defer os.RemoveAll(root)
	args := []string{
		"--installroot=" + abs("../internal/testdata/example/root"),
		"--repofrompath=updates,../internal/testdata/example/repo",
		"--setopt=reposdir=/nonexistent", "--releasever=40", "--setopt=cachedir=" + root, "-q",
		"updateinfo", "list", "--security", "--with-links",
	}
	dnfcompat.Run(context.Background(), args, dnfcompat.Env{Stdout: os.Stdout, Stderr: os.Stdout})
	// Output:
	// FEDORA-2024-d2f1b9ac14 Important/Sec. openssl-libs-1:3.2.2-3.fc40.x86_64 https://bodhi.fedoraproject.org/updates/FEDORA-2024-d2f1b9ac14
}

func abs(p string) string {
	a, _ := filepath.Abs(p)
	return a
}
