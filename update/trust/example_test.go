package trust_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/alicorn-dev/alicorn/update/trust"
)

// Before running a new module image, the updater verifies it under the
// host's containers policy: a refusal leaves everything as it was.
func ExamplePolicy_Verify() {
	ctx := context.Background()
	policy, err := trust.LoadPolicy("/etc/containers/policy.json")
	if err != nil {
		log.Fatal(err)
	}
	image := "registry.example.com/alicorn/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	res, err := policy.Verify(ctx, image, trust.Options{})
	var rejected *trust.RejectedError
	switch {
	case errors.As(err, &rejected):
		log.Fatalf("not updating: %v", err) // unsigned, wrong key, …
	case err != nil:
		log.Fatalf("not updating, cannot verify: %v", err) // registry down, …
	}
	fmt.Println(res.Scope, res.Key, res.Identity)
}

// Scopes: the most specific one applies.
func ExampleParsePolicy() {
	policy, err := trust.ParsePolicy([]byte(`{
	  "default": [{"type": "reject"}],
	  "transports": {"docker": {
	    "registry.example.com/alicorn": [{"type": "insecureAcceptAnything"}],
	    "registry.example.com": [{"type": "sigstoreSigned", "keyPath": "/etc/alicorn/sign.pub"}]}}}`))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	res, err := policy.Verify(ctx, "registry.example.com/alicorn/web:latest", trust.Options{})
	fmt.Println(res.Scope, err)
	_, err = policy.Verify(ctx, "quay.io/other/web:latest", trust.Options{})
	fmt.Println(err)
	// Output:
	// transports.docker["registry.example.com/alicorn"] <nil>
	// policy policy.json (default) rejects quay.io/other/web:latest: the policy rejects all images here (type reject)
}
