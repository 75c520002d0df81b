package update

import (
	"context"
	"time"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update/front"
)

// Labels the runtime puts on a module's containers, besides module.Label
// (io.alicorn.module=NAME), so that a rollout finds them again after a
// crash and the reporter's podman discovery keeps working.
const (
	// LabelContainer is the container's name in the module file (a
	// replica's expanded name, "web-2"): it outlives renames.
	LabelContainer = "io.alicorn.container"
	// LabelDigest is the manifest digest of the image the container runs.
	LabelDigest = "io.alicorn.digest"
)

// Instance is one container of a module as the runtime runs it.
type Instance struct {
	// ID is the runtime's identifier (podman's container ID); the front
	// knows a served instance by it.
	ID string `json:"id"`
	// Name is the runtime's name for it: the module file's container
	// name once committed, a temporary one while it is a candidate.
	Name string `json:"name"`
	// Container is the module file's container it runs (LabelContainer).
	Container string `json:"container"`
	// Image is the image it runs (its digest from LabelDigest).
	Image Image `json:"image"`
	// Addr is the loopback HOST:PORT the front sends requests to; "" for
	// a container the front does not serve.
	Addr string `json:"addr,omitempty"`
	// Running is false once the container has ended; Exit is then its
	// exit code.
	Running bool `json:"running"`
	Exit    int  `json:"exit,omitempty"`
}

// Image is an image in a runtime's storage: the runtime's ID for it and
// its manifest digest.
type Image struct {
	ID     string `json:"id"`
	Digest string `json:"digest"`
}

// Runtime runs a module's containers on one host (update/podman); on
// Kubernetes, update/kube's Rollout takes the place of Runtime, Front and
// update/rollout together. Every method works on what the runtime holds now, so
// that a rollout can be recovered after a crash from the runtime's state
// and its journal.
type Runtime interface {
	// Pull fetches ref (an image by digest, "docker://HOST/REPO@sha256:…")
	// into the runtime's storage.
	Pull(ctx context.Context, ref string) (Image, error)
	// Instances lists the module's containers, running or not.
	Instances(ctx context.Context, m module.Module) ([]Instance, error)
	// Start creates and starts container c of m, named name, from img
	// (pulled before).
	Start(ctx context.Context, m module.Module, c module.Replica, name string, img Image) (Instance, error)
	// Inspect returns m's instance id as it is now.
	Inspect(ctx context.Context, m module.Module, id string) (Instance, error)
	// Rename gives an instance its committed name.
	Rename(ctx context.Context, id, name string) error
	// Remove stops an instance (SIGTERM, then SIGKILL after timeout) and
	// removes it; removing an instance that is gone is no error.
	Remove(ctx context.Context, id string, timeout time.Duration) error
	// RemoveImage removes an image no container uses any more (the old
	// image, once an update is committed).
	RemoveImage(ctx context.Context, id string) error
}

// Front holds a module's public address across updates and spreads its
// requests over the served instances (update/front: the built-in front's
// Client, and its HAProxy front). Backends are named by Instance.ID.
type Front interface {
	// Add puts b in the rotation once it passes h.
	Add(ctx context.Context, b front.Backend, h front.Health) error
	// Drain takes a backend out of the rotation and waits, at most
	// timeout, for its requests in flight.
	Drain(ctx context.Context, name string, timeout time.Duration) error
	// Stats are a backend's requests and errors since it was added.
	Stats(ctx context.Context, name string) (front.Stats, error)
	// Backends lists the backends in rotation, and those a restarted
	// front is restoring.
	Backends(ctx context.Context) ([]front.Backend, error)
}
