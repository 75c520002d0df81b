package webimage

import (
	"archive/tar"
	"context"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/alicorn-dev/alicorn/internal/podman"
	"github.com/alicorn-dev/alicorn/update/rebuild"
)

//go:embed rpm/*.spec rpm/web-init content/index.html
var files embed.FS

// The module's web server: httpd serves DocRoot on Port, and its page
// holds Expect.
const (
	DocRoot = "/var/www/html"
	Port    = 80
	Expect  = "It works"
)

// ContainersConf is the containers.conf podman needs on these machines
// (podman.ContainersConf).
const ContainersConf = podman.ContainersConf

// Page returns the index.html the web-content package installs in
// DocRoot.
func Page() []byte {
	b, _ := files.ReadFile("content/index.html")
	return b
}

// Config is what the module's image runs: web-init, which runs httpd on
// Port serving DocRoot and stops it on SIGTERM (as PID 1 httpd would
// ignore the signal).
func Config() rebuild.Config {
	return rebuild.Config{
		Entrypoint:   []string{"/usr/sbin/web-init", "-p", strconv.Itoa(Port), "-h", DocRoot},
		ExposedPorts: []string{strconv.Itoa(Port) + "/tcp"},
		Labels:       map[string]string{"io.alicorn.module": "web"},
		StopSignal:   "SIGTERM",
	}
}

var (
	busyboxVersion = regexp.MustCompile(`BusyBox v([0-9.]+)`)
	wroteRPM       = regexp.MustCompile(`Wrote: (\S+\.rpm)`)
)

// Busybox returns the path and version of Debian's static BusyBox, or an
// error saying how to install it.
func Busybox() (path, version string, err error) {
	for _, p := range []string{"/usr/bin/busybox", "/bin/busybox"} {
		out, err := exec.Command(p).CombinedOutput()
		if err != nil && len(out) == 0 {
			continue
		}
		if v := busyboxVersion.FindSubmatch(out); v != nil {
			return p, string(v[1]), nil
		}
	}
	return "", "", fmt.Errorf("busybox is missing: apt-get install busybox-static")
}

// RPMs builds the module's packages under dir (sources in dir/src,
// packages in dir/rpms) and returns their files: web-filesystem,
// busybox-httpd, web-content.
func RPMs(ctx context.Context, dir string) ([]string, error) {
	for _, d := range []string{"src", "rpms"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	busybox, version, err := Busybox()
	if err != nil {
		return nil, err
	}
	if err := copyFile(busybox, filepath.Join(dir, "src/busybox"), 0o755); err != nil {
		return nil, err
	}
	for src, dst := range map[string]string{"content/index.html": "src/index.html", "rpm/web-init": "src/web-init"} {
		b, _ := files.ReadFile(src)
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			return nil, err
		}
	}
	var rpms []string
	for _, name := range []string{"web-filesystem", "busybox-httpd", "web-content"} {
		spec, _ := files.ReadFile("rpm/" + name + ".spec")
		f, err := buildRPM(ctx, dir, name, spec, map[string]string{"bbversion": version})
		if err != nil {
			return nil, err
		}
		rpms = append(rpms, f)
	}
	return rpms, nil
}

// HTTPD builds busybox-httpd again with another release (a "fixed"
// package), under dir after RPMs prepared it, and returns its file.
// broken makes a fix that breaks the module: its httpd serves an empty
// directory instead of the pages.
func HTTPD(ctx context.Context, dir, release string, broken bool) (string, error) {
	_, version, err := Busybox()
	if err != nil {
		return "", err
	}
	spec, _ := files.ReadFile("rpm/busybox-httpd.spec")
	defines := map[string]string{"bbversion": version, "bbrelease": release}
	if broken {
		defines["broken"] = "1"
	}
	return buildRPM(ctx, dir, "busybox-httpd", spec, defines)
}

// Compose installs rpms into an image with cfg, working in work (which
// is emptied first and must outlive the image: it holds the layer).
func Compose(ctx context.Context, work string, rpms []string, cfg rebuild.Config) (v1.Image, error) {
	if err := os.RemoveAll(work); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	return rebuild.Compose(ctx, work, rpms, cfg)
}

// WriteArchive writes img as an oci-archive at file, naming it ref (as
// "localhost/alicorn/web:1"), so that podman load tags it instead of
// leaving it nameless. work holds the OCI layout it is made from.
func WriteArchive(img v1.Image, ref, work, file string) error {
	lay := filepath.Join(work, "layout")
	if err := os.RemoveAll(lay); err != nil {
		return err
	}
	p, err := layout.Write(lay, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref})); err != nil {
		return err
	}
	return tarDir(lay, file)
}

// buildRPM builds one spec with rpmbuild and returns the package file.
func buildRPM(ctx context.Context, dir, name string, spec []byte, defines map[string]string) (string, error) {
	top, err := os.MkdirTemp(dir, "rpmbuild-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(top)
	specPath := filepath.Join(top, name+".spec")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "rpms")
	args := []string{"-bb", "--define", "_topdir " + top, "--define", "_sourcedir " + filepath.Join(dir, "src"),
		"--define", "_rpmdir " + out, "--define", "_build_id_links none", "--define", "debug_package %{nil}"}
	for k, v := range defines {
		args = append(args, "--define", k+" "+v)
	}
	cmd := exec.CommandContext(ctx, "rpmbuild", append(args, specPath)...)
	cmd.Env = append(os.Environ(), "HOME="+top)
	b, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("rpmbuild %s: %w: %s", name, err, strings.TrimSpace(string(b)))
	}
	m := wroteRPM.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("rpmbuild %s wrote no package: %s", name, b)
	}
	return string(m[1]), nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

// tarDir writes dir's files as a tar archive.
func tarDir(dir, file string) error {
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(out)
	err = tw.AddFS(os.DirFS(dir))
	if cerr := tw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
