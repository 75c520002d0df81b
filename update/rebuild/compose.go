package rebuild

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// DBPath is where composed images keep their rpm database, as Fedora does.
const DBPath = "/usr/lib/sysimage/rpm"

// Config is what the image runs.
type Config struct {
	Entrypoint []string
	Cmd        []string
	// ExposedPorts are "PORT/PROTO", as "80/tcp".
	ExposedPorts []string
	Labels       map[string]string
	WorkingDir   string
	// StopSignal is the signal that asks the image's process to stop
	// ("SIGTERM"; empty leaves the runtime's default, SIGTERM too). The
	// process must handle it: as PID 1, a process without a handler for
	// it ignores it, and every stop waits for the runtime's timeout.
	StopSignal string
}

// Compose installs rpms (package files) with rpm into an empty root under
// work and returns the image of that root: one layer, with cfg. The
// layer's tar stays in work, which must outlive the image.
func Compose(ctx context.Context, work string, rpms []string, cfg Config) (v1.Image, error) {
	root, err := os.MkdirTemp(work, "root-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	rpmCmd := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "rpm", append([]string{"--root", root, "--dbpath", DBPath}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("rpm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
		}
		return nil
	}
	if err := rpmCmd("--initdb"); err != nil {
		return nil, err
	}
	if err := rpmCmd(append([]string{"-i", "--nosignature"}, rpms...)...); err != nil {
		return nil, err
	}
	layerPath := filepath.Join(work, "layer.tar")
	if err := tarRoot(root, layerPath); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromFile(layerPath)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", goArch()
	cf.Config.Entrypoint, cf.Config.Cmd = cfg.Entrypoint, cfg.Cmd
	cf.Config.WorkingDir, cf.Config.Labels = cfg.WorkingDir, cfg.Labels
	cf.Config.StopSignal = cfg.StopSignal
	if len(cfg.ExposedPorts) > 0 {
		cf.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range cfg.ExposedPorts {
			cf.Config.ExposedPorts[p] = struct{}{}
		}
	}
	return mutate.ConfigFile(img, cf)
}

// tarRoot packs a root into a tar file, keeping modes, owners and links.
func tarRoot(root, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		h.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			h.Name += "/"
		}
		h.Uname, h.Gname = "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if cerr := tw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
