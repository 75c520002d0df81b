package oci_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/alicorn-dev/alicorn/inventory/oci"
)

func ExampleFlatten() {
	// An image of one layer holding os-release, and a link to it.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "usr/lib/os-release", Typeflag: tar.TypeReg, Mode: 0o644, Size: 10})
	io.WriteString(tw, "ID=fedora\n")
	tw.WriteHeader(&tar.Header{Name: "etc/os-release", Typeflag: tar.TypeSymlink, Linkname: "../usr/lib/os-release"})
	tw.Close()
	layer, _ := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	img, _ := mutate.AppendLayers(empty.Image, layer)

	// Keep only what will be read; Open(ctx, "docker://…") gives images
	// from registries, archives and podman alike.
	fsys, err := oci.Flatten(context.Background(), img, oci.Options{
		Want: func(name string, _ fs.FileInfo) bool { return name == "usr/lib/os-release" },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := fs.ReadFile(fsys, "etc/os-release")
	fmt.Print(string(b))
	fmt.Println(fsys.LayerOf("etc/os-release") == fsys.Layers[0].Digest)
	// Output:
	// ID=fedora
	// true
}
