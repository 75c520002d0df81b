package rollout_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update/front"
	"github.com/alicorn-dev/alicorn/update/podman"
	"github.com/alicorn-dev/alicorn/update/rollout"
)

// Rolls the web module to an image pulled into podman, behind its
// built-in front; a failure here brings the old image back by itself.
func ExampleRollout_Apply() {
	ctx := context.Background()
	mods, err := module.LoadDir("/etc/alicorn/modules.d")
	if err != nil || len(mods) == 0 {
		return
	}
	m := mods[0]
	rt := &podman.Runtime{}
	img, err := rt.Pull(ctx, "docker://registry.example:5000/alicorn/web@sha256:…")
	if err != nil {
		return
	}
	r := &rollout.Rollout{
		Runtime: rt,
		Front:   front.Client{Socket: m.Front.SocketIn("/var/lib/alicorn/updates", m.Name)},
		State:   rollout.State{Dir: "/var/lib/alicorn/updates"},
		Log:     func(e rollout.Event) { fmt.Println(e.Module, e.Step, e.Container, e.Detail) },
	}
	var rb *rollout.RolledBackError
	switch err := r.Apply(ctx, m, img); {
	case errors.As(err, &rb):
		fmt.Println("rolled back:", rb.Reason)
	case err != nil:
		fmt.Println(err)
	}
}
