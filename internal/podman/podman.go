// Package podman runs the podman command for the update side (the gate's
// test containers, Containerfile layers): one way to call it, to load an
// image into its storage and to read one back.
package podman

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// ContainersConf is a containers.conf podman needs on machines where
// crun and podman's default ulimits fail (runc, cgroupfs, events to a
// file, modest ulimits).
const ContainersConf = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=1000:1000"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`

// Podman is a podman command: its binary ("" means podman on PATH) and
// the containers.conf it runs with ("" means podman's own choice).
type Podman struct {
	Binary         string
	ContainersConf string
}

// Command prepares podman with args.
func (p Podman) Command(ctx context.Context, args ...string) *exec.Cmd {
	bin := p.Binary
	if bin == "" {
		bin = "podman"
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	// podman dies with its caller: a killed updater leaves no podman
	// command finishing behind the back of the next one.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if p.ContainersConf != "" {
		cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+p.ContainersConf)
	}
	return cmd
}

// Run runs podman and returns its standard output; its error holds the
// command and podman's standard error (or ctx's error once it is done).
func (p Podman) Run(ctx context.Context, args ...string) (string, error) {
	cmd := p.Command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return stdout.String(), fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Load puts img into podman's storage named ref (a docker-archive written
// in dir, which must exist, and removed after).
func (p Podman) Load(ctx context.Context, img v1.Image, ref, dir string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	file := filepath.Join(dir, "load.tar")
	defer os.Remove(file)
	if err := tarball.WriteToFile(file, tag, img); err != nil {
		return fmt.Errorf("writing the image archive: %w", err)
	}
	_, err = p.Run(ctx, "load", "--quiet", "--input", file)
	return err
}

// Save reads the image ref of podman's storage back (as a docker-archive
// written to file, which must outlive the image).
func (p Podman) Save(ctx context.Context, ref, file string) (v1.Image, error) {
	if _, err := p.Run(ctx, "save", "--quiet", "--format", "docker-archive", "--output", file, ref); err != nil {
		return nil, err
	}
	img, err := tarball.ImageFromPath(file, nil)
	if err != nil {
		return nil, fmt.Errorf("reading podman's archive of %s: %w", ref, err)
	}
	return img, nil
}
