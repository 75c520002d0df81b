// Command web-module builds alicorn's web-server module and starts it: RPMs
// built from internal/webimage's spec files (a base filesystem, BusyBox's
// httpd from Debian's busybox-static, the pages), installed by rpm into an
// image whose rpm database owns every file (update/rebuild.Compose),
// written as an oci-archive, loaded into podman and run on
// 127.0.0.1:PORT. It also writes the module's file, for dnf-security
// --modules-dir.
//
//	go run ./examples/web-module [-dir DIR] [-port 8080] [-start=false]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/alicorn-dev/alicorn/internal/webimage"
)

// Image is the name the module's image gets in podman's storage: the
// oci-archive names it so, and podman load tags it so.
const Image = "localhost/alicorn/web:1"

func main() {
	dir := flag.String("dir", "", "work directory (default: the user cache directory)")
	port := flag.Int("port", 8080, "port on 127.0.0.1 the module answers on")
	start := flag.Bool("start", true, "load the image into podman and start the container")
	flag.Parse()
	if *dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			fail(err)
		}
		*dir = filepath.Join(base, "alicorn", "web-module")
	}
	ctx := context.Background()
	m, err := Build(ctx, *dir)
	if err != nil {
		fail(err)
	}
	fmt.Printf("built %s\n  packages: %s\n  module file: %s\n", m.Archive, strings.Join(m.RPMs, ", "), m.ModuleFile)
	if !*start {
		return
	}
	url, err := Start(ctx, m, *port)
	if err != nil {
		fail(err)
	}
	fmt.Printf("started web-1: %s\n", url)
	fmt.Printf("report: dnf-security --modules-dir=%s updateinfo list --module-packages\n", filepath.Dir(m.ModuleFile))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "web-module:", err)
	os.Exit(1)
}

// podman runs podman with the settings these machines need (runc,
// cgroupfs, file events, modest ulimits), kept in dir.
func podman(ctx context.Context, dir string, args ...string) (string, error) {
	conf := filepath.Join(dir, "containers.conf")
	if _, err := os.Stat(conf); err != nil {
		if err := os.WriteFile(conf, []byte(webimage.ContainersConf), 0o644); err != nil {
			return "", err
		}
	}
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}
