package gate_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update/gate"
)

// A candidate from an OCI layout is tested as the module's [health] and
// [test] say; nothing is published unless it passes. (Not run: it needs
// podman and an image; TestPodman runs the demo web module's.)
func ExamplePodman_Check() {
	ctx := context.Background()
	m := module.Module{
		Name:   "web",
		Image:  "docker://registry.example/web:1",
		Health: module.Health{Path: "/", Expect: "It works", Timeout: module.Duration{Duration: 30 * time.Second}},
		Build:  module.Build{Ports: []string{"80/tcp"}},
		Test:   module.Test{Content: "test/www", Mount: "/var/www/html"},
	}
	idx, err := layout.ImageIndexFromPath("candidate")
	if err != nil {
		fmt.Println(err)
		return
	}
	man, err := idx.IndexManifest()
	if err != nil || len(man.Manifests) == 0 {
		fmt.Println("no image in the layout", err)
		return
	}
	img, err := idx.Image(man.Manifests[0].Digest)
	if err != nil {
		fmt.Println(err)
		return
	}
	g := &gate.Podman{ContainersConf: "/etc/alicorn/containers.conf"}
	rep, err := g.Check(ctx, img, m)
	for _, s := range rep.Steps {
		fmt.Printf("%-8s %6s %s\n", s.Name, s.Duration.Round(time.Millisecond), s.Err)
	}
	switch {
	case errors.Is(err, gate.ErrFailed):
		fmt.Printf("%s fails its test: %v\nlogs:\n%s", m.Name, err, rep.Logs)
	case err != nil:
		fmt.Println("cannot test:", err)
	default:
		fmt.Println("passed: publish it")
	}
}
