package rebuild

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/alicorn-dev/alicorn/internal/podman"
)

// Builder builds a recipe's Containerfile layers with podman.
type Builder struct {
	// Binary and ContainersConf choose podman and its configuration (""
	// means podman on PATH, and its own configuration).
	Binary, ContainersConf string
}

// Layers builds containerfile on top of base, as Fedora's layered image
// build service does: `podman build --from` the composed image (which
// replaces the Containerfile's FROM), with the Containerfile's directory
// as the build context and every time set to created (--timestamp), so
// that the same inputs give the same layers. The new layers and
// configuration are put on base itself, so that its layers stay byte for
// byte what they were. work, which must exist, holds the archives
// podman's images go through; podman's images are removed after.
func (b Builder) Layers(ctx context.Context, base v1.Image, containerfile string, created time.Time, work string) (v1.Image, error) {
	p := podman.Podman{Binary: b.Binary, ContainersConf: b.ContainersConf}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	id := strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(raw[:])
	from, out := "localhost/alicorn-build:"+id, "localhost/alicorn-build-out:"+id
	defer func() {
		// Removed even when ctx is done.
		c, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = p.Run(c, "rmi", "--ignore", "--force", out, from)
	}()
	if err := p.Load(ctx, base, from, work); err != nil {
		return nil, fmt.Errorf("containerfile %s: %w", containerfile, err)
	}
	if _, err := p.Run(ctx, "build", "--quiet", "--pull=never", "--from", from, "--timestamp",
		strconv.FormatInt(created.Unix(), 10), "--file", containerfile, "--tag", out, filepath.Dir(containerfile)); err != nil {
		return nil, fmt.Errorf("containerfile %s: %w", containerfile, err)
	}
	built, err := p.Save(ctx, out, filepath.Join(work, "layers.tar"))
	if err != nil {
		return nil, fmt.Errorf("containerfile %s: %w", containerfile, err)
	}
	return onBase(base, built, created)
}

// onBase puts the layers built has past base's, and its configuration,
// on base.
func onBase(base, built v1.Image, created time.Time) (v1.Image, error) {
	bl, err := base.Layers()
	if err != nil {
		return nil, err
	}
	nl, err := built.Layers()
	if err != nil {
		return nil, err
	}
	if len(nl) < len(bl) {
		return nil, fmt.Errorf("podman's image has %d layers, fewer than the %d it was built on", len(nl), len(bl))
	}
	for i, l := range bl {
		want, err := l.DiffID()
		if err != nil {
			return nil, err
		}
		got, err := nl[i].DiffID()
		if err != nil {
			return nil, err
		}
		if got != want {
			return nil, fmt.Errorf("podman's image changed layer %d of the one it was built on (%s, not %s)", i, got, want)
		}
	}
	cf, err := built.ConfigFile()
	if err != nil {
		return nil, err
	}
	// The history of the layers (not of LABEL, ENV and such, which make
	// none), in order.
	var hist []v1.History
	for _, h := range cf.History {
		if !h.EmptyLayer {
			hist = append(hist, h)
		}
	}
	var adds []mutate.Addendum
	for i, l := range nl[len(bl):] {
		a := mutate.Addendum{Layer: l, History: v1.History{Created: v1.Time{Time: created}}}
		if n := len(bl) + i; n < len(hist) {
			a.History.CreatedBy = hist[n].CreatedBy
		}
		adds = append(adds, a)
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return nil, err
	}
	img, err = mutate.Config(img, cf.Config)
	if err != nil {
		return nil, err
	}
	return mutate.CreatedAt(img, v1.Time{Time: created})
}
