package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/alicorn-dev/alicorn/internal/webimage"
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

// Build builds the RPMs and the image under dir (internal/webimage).
func Build(ctx context.Context, dir string) (*Module, error) {
	m := &Module{Dir: dir, Archive: filepath.Join(dir, "web.tar")}
	if err := os.MkdirAll(filepath.Join(dir, "modules.d"), 0o755); err != nil {
		return nil, err
	}
	rpms, err := webimage.RPMs(ctx, dir)
	if err != nil {
		return nil, err
	}
	m.RPMs = rpms
	work := filepath.Join(dir, "image")
	img, err := webimage.Compose(ctx, work, m.RPMs, webimage.Config())
	if err != nil {
		return nil, err
	}
	if err := webimage.WriteArchive(img, Image, work, m.Archive); err != nil {
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
