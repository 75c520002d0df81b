package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/alicorn-dev/alicorn/update/rebuild"
)

// Module is the built module.
type Module struct {
	Dir        string
	RPMs       []string // package files
	Archive    string   // the image, as an oci-archive
	ModuleFile string
	// Loaded are the IDs of the images StartContainer loaded into
	// podman, which Remove removes.
	Loaded []string
}

// Build builds the RPMs and the image under dir.
func Build(ctx context.Context, dir string) (*Module, error) {
	m := &Module{Dir: dir, Archive: filepath.Join(dir, "web.tar")}
	for _, d := range []string{"src", "rpms", "modules.d"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	busybox, version, err := findBusybox()
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
	for _, name := range []string{"web-filesystem", "busybox-httpd", "web-content"} {
		spec, _ := files.ReadFile("rpm/" + name + ".spec")
		f, err := buildRPM(ctx, dir, name, spec, map[string]string{"bbversion": version})
		if err != nil {
			return nil, err
		}
		m.RPMs = append(m.RPMs, f)
	}
	work := filepath.Join(dir, "image")
	os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	img, err := rebuild.Compose(ctx, work, m.RPMs, rebuild.Config{
		// httpd runs under web-init, which stops it on SIGTERM: as PID 1
		// httpd would ignore the signal.
		Entrypoint:   []string{"/usr/sbin/web-init", "-p", "80", "-h", "/var/www/html"},
		ExposedPorts: []string{"80/tcp"},
		Labels:       map[string]string{"io.alicorn.module": "web"},
		StopSignal:   "SIGTERM",
	})
	if err != nil {
		return nil, err
	}
	lay := filepath.Join(work, "layout")
	p, err := layout.Write(lay, empty.Index)
	if err != nil {
		return nil, err
	}
	// The full name, so that podman load tags the image instead of
	// leaving it nameless (or naming it localhost/1).
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": Image})); err != nil {
		return nil, err
	}
	if err := tarDir(lay, m.Archive); err != nil {
		return nil, err
	}
	m.ModuleFile = filepath.Join(dir, "modules.d/web.toml")
	toml := fmt.Sprintf(`name = "web"
image = "oci-archive:%s"

[[containers]]
name = "web-1"
ports = ["127.0.0.1:8080:80"]

[health]
path = "/"
expect = "It works"
interval = "1s"
timeout = "30s"

[update]
policy = "rolling"
`, m.Archive)
	return m, os.WriteFile(m.ModuleFile, []byte(toml), 0o644)
}

var (
	busyboxVersion = regexp.MustCompile(`BusyBox v([0-9.]+)`)
	wroteRPM       = regexp.MustCompile(`Wrote: (\S+\.rpm)`)
)

// findBusybox returns Debian's static BusyBox and its version.
func findBusybox() (string, string, error) {
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

// Start loads the image into podman and (re)starts the module's container
// web-1 on 127.0.0.1:port; it returns the URL once the page answers.
func Start(ctx context.Context, m *Module, port int) (string, error) {
	return StartContainer(ctx, m, "web-1", port, "", "It works")
}

// StartContainer (re)starts a container of the module named name on
// 127.0.0.1:port, serving the host directory content (read-only) instead
// of the image's pages when content is set, and returns the URL once the
// page answers with expect. The image is loaded as Image; the image that
// held that name before is removed once no container uses it, so that
// rebuilding leaves no untagged image behind.
func StartContainer(ctx context.Context, m *Module, name string, port int, content, expect string) (string, error) {
	old, _ := imageID(ctx, m.Dir, Image)
	if _, err := podman(ctx, m.Dir, "load", "-q", "-i", m.Archive); err != nil {
		return "", err
	}
	id, err := imageID(ctx, m.Dir, Image)
	if err != nil {
		return "", err
	}
	if !slices.Contains(m.Loaded, id) {
		m.Loaded = append(m.Loaded, id)
	}
	podman(ctx, m.Dir, "rm", "-f", name)
	if old != "" && old != id {
		// Fails, and leaves it, while another container runs it.
		podman(ctx, m.Dir, "rmi", old)
	}
	args := []string{"run", "-d", "--name", name, "--label", "io.alicorn.module=web",
		"-p", fmt.Sprintf("127.0.0.1:%d:80", port)}
	if content != "" {
		args = append(args, "-v", content+":/var/www/html:ro")
	}
	if _, err := podman(ctx, m.Dir, append(args, Image)...); err != nil {
		return "", err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		body, err := get(ctx, url)
		if err == nil && strings.Contains(body, expect) {
			return url, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s did not answer with the page within 30 s: %v", url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Remove stops and removes the module's containers named, then the
// images StartContainer loaded, unless another container still runs one.
func Remove(ctx context.Context, m *Module, containers ...string) error {
	var errs []error
	if len(containers) > 0 {
		if _, err := podman(ctx, m.Dir, append([]string{"rm", "-f", "--ignore"}, containers...)...); err != nil {
			errs = append(errs, err)
		}
	}
	for _, id := range m.Loaded {
		if _, err := podman(ctx, m.Dir, "rmi", "--ignore", id); err != nil {
			errs = append(errs, err)
		}
	}
	m.Loaded = nil
	return errors.Join(errs...)
}

// imageID returns the ID of the image podman names ref.
func imageID(ctx context.Context, dir, ref string) (string, error) {
	return podman(ctx, dir, "image", "inspect", "--format", "{{.Id}}", ref)
}

func get(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}
