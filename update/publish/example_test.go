package publish_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/alicorn-dev/alicorn/update/publish"
)

// A rebuilt and tested image is annotated with its build record, then
// published under a moving tag, signed with the recipe's sign-key.
func ExamplePublisher_Publish() {
	ctx := context.Background()
	img, err := random.Image(1024, 1) // the rebuilt image, tested
	if err != nil {
		log.Fatal(err)
	}
	img, err = publish.Annotate(img, publish.Record{
		Recipe:   "5d41402abc4b2a76b9719d911017c592",
		Packages: []string{"httpd-2.4.62-1.fc40.x86_64"},
		Fixes:    []string{"FEDORA-2024-1a2b3c"},
		Previous: "", // the digest the moving tag named ("" for the first)
		Created:  time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		log.Fatal(err)
	}
	signer, err := publish.LoadSigner("/etc/alicorn/sign.key", "/etc/alicorn/sign.pass")
	if err != nil {
		log.Fatal(err)
	}
	p := &publish.Publisher{Signer: signer}
	ref, immutable, err := p.Publish(ctx, img, "docker://registry.example.com/web", "latest")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ref, immutable) // registry.example.com/web@sha256:… latest-N
}
