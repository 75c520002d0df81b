package rebuild_test

import (
	"context"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update/rebuild"
)

// Compose needs rpm and package files; examples/web-module builds both.
func ExampleCompose() {
	work, _ := os.MkdirTemp("", "compose-")
	defer os.RemoveAll(work)
	img, err := rebuild.Compose(context.Background(), work,
		[]string{"web-filesystem-1.0-1.noarch.rpm", "busybox-httpd-1.35.0-1.x86_64.rpm"},
		rebuild.Config{Entrypoint: []string{"/usr/sbin/httpd", "-f", "-p", "80"}, ExposedPorts: []string{"80/tcp"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := layout.Write("web-layout", empty.Index)
	fmt.Println(p.AppendImage(img))
}

// FromRecipe needs dnf, rpm and the recipe's repositories.
func ExampleFromRecipe() {
	work, _ := os.MkdirTemp("", "recipe-")
	defer os.RemoveAll(work)
	img, res, err := rebuild.FromRecipe(context.Background(), work, module.Build{
		Packages:   []string{"busybox-httpd", "web-content"},
		Repos:      []string{"file:///srv/repos/web"},
		Releasever: "39",
		Entrypoint: []string{"/usr/sbin/web-init", "-p", "80", "-h", "/var/www/html"},
		Ports:      []string{"80/tcp"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	d, _ := img.Digest()
	fmt.Println(d, res.Created, res.Unsigned())
}
