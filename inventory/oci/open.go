package oci

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/alicorn-dev/alicorn/internal/tempfile"
)

// Image is an opened image. Close releases what opening it took
// (temporary files for archives and podman's storage).
type Image struct {
	v1.Image
	// Ref is the reference it was opened by.
	Ref     string
	cleanup func()
}

// Close releases the image.
func (i *Image) Close() error {
	if i.cleanup != nil {
		i.cleanup()
		i.cleanup = nil
	}
	return nil
}

// Open opens an image by reference, with the transports skopeo and
// podman name:
//
//	oci:DIR[:TAG]                 an OCI image layout
//	oci-archive:FILE[:TAG]        a tar of one
//	docker-archive:FILE[:REF]     podman save / docker save output
//	docker://HOST/REPO[:TAG|@DIGEST]  a registry (plain HTTP for 127.0.0.1 and localhost)
//	containers-storage:NAME       podman's local storage (through podman image save)
func Open(ctx context.Context, ref string) (*Image, error) {
	transport, rest, ok := strings.Cut(ref, ":")
	if !ok {
		return nil, fmt.Errorf("image %q: no transport (oci:, oci-archive:, docker-archive:, docker://, containers-storage:)", ref)
	}
	img, cleanup, err := open(ctx, transport, rest)
	if err == nil && (transport == "oci" || transport == "oci-archive" || transport == "containers-storage") {
		// Their manifests are stored: the configuration must be the one
		// named there.
		if err = verifyConfig(img); err != nil && cleanup != nil {
			cleanup()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	return &Image{Image: img, Ref: ref, cleanup: cleanup}, nil
}

func open(ctx context.Context, transport, rest string) (v1.Image, func(), error) {
	switch transport {
	case "oci":
		dir, tag := splitTag(rest)
		return fromLayout(dir, tag)
	case "oci-archive":
		file, tag := splitTag(rest)
		return fromOCIArchive(file, tag)
	case "docker-archive":
		file, r := splitTag(rest)
		return fromDockerArchive(file, r)
	case "docker":
		r := strings.TrimPrefix(rest, "//")
		var opts []name.Option
		if host := strings.SplitN(r, "/", 2)[0]; loopback(host) {
			opts = append(opts, name.Insecure)
		}
		nr, err := name.ParseReference(r, opts...)
		if err != nil {
			return nil, nil, err
		}
		img, err := remote.Image(nr, remote.WithContext(ctx), remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}))
		return img, nil, err
	case "containers-storage":
		return fromPodman(ctx, rest)
	}
	return nil, nil, fmt.Errorf("unknown transport %q", transport)
}

// splitTag splits "PATH[:TAG]" at the first colon after which PATH
// exists (a tag or docker reference may hold colons and slashes itself).
func splitTag(s string) (string, string) {
	if _, err := os.Stat(s); err == nil {
		return s, ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] != ':' {
			continue
		}
		if _, err := os.Stat(s[:i]); err == nil {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func loopback(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

const refName = "org.opencontainers.image.ref.name"

// fromPodman saves an image of podman's storage as an oci-archive.
func fromPodman(ctx context.Context, ref string) (v1.Image, func(), error) {
	dir, err := os.MkdirTemp("", tempfile.Pattern(TempPodman))
	if err != nil {
		return nil, nil, err
	}
	archive := filepath.Join(dir, "image.tar")
	cmd := exec.CommandContext(ctx, "podman", "image", "save", "--format", "oci-archive", "-o", archive, ref)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("podman image save: %w: %s", err, strings.TrimSpace(string(out)))
	}
	img, cleanup, err := fromOCIArchive(archive, "")
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return img, func() { cleanup(); os.RemoveAll(dir) }, nil
}

func goarch() string { return runtime.GOARCH }
