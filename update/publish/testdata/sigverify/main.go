// Command sigverify pulls an image as podman pull does, with
// containers/image's copy.Image under a signature policy, into a
// temporary directory that is then removed: it prints "accepted" and
// exits 0 when the policy accepts the image, and prints the error and
// exits 1 when it does not (2 on a usage error).
//
//	sigverify --policy policy.json --registries-d DIR [--insecure] docker://HOST/REPO:TAG
//
// It is the update/publish tests' verifier: Debian's podman has
// sigstore verification patched out, this is upstream containers/image.
// Nothing of the host's containers configuration is read: registries.d
// is --registries-d, registries.conf an empty file, and the blob info
// cache and credentials live in the temporary directory. Build it, in
// this directory (its own module: the main module does not depend on
// containers/image), without cgo:
//
//	CGO_ENABLED=0 go build -tags containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper,containers_image_storage_stub -o BIN .
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containers/image/v5/copy"
	"github.com/containers/image/v5/directory"
	"github.com/containers/image/v5/docker"
	"github.com/containers/image/v5/signature"
	"github.com/containers/image/v5/types"
)

func main() {
	policyPath := flag.String("policy", "", "signature policy (policy.json)")
	registriesD := flag.String("registries-d", "", "registries.d directory")
	insecure := flag.Bool("insecure", false, "plain HTTP (or TLS unverified) to the registry")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()
	if *policyPath == "" || *registriesD == "" || flag.NArg() != 1 || !strings.HasPrefix(flag.Arg(0), "docker://") {
		fmt.Fprintln(os.Stderr, "usage: sigverify --policy policy.json --registries-d DIR [--insecure] docker://HOST/REPO:TAG")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	err := verify(ctx, *policyPath, *registriesD, *insecure, flag.Arg(0))
	cancel()
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("accepted")
}

func verify(ctx context.Context, policyPath, registriesD string, insecure bool, image string) (retErr error) {
	policy, err := signature.NewPolicyFromFile(policyPath)
	if err != nil {
		return err
	}
	pc, err := signature.NewPolicyContext(policy)
	if err != nil {
		return err
	}
	defer func() { retErr = errors.Join(retErr, pc.Destroy()) }()

	tmp, err := os.MkdirTemp("", "sigverify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	regConf := filepath.Join(tmp, "registries.conf")
	if err := os.WriteFile(regConf, nil, 0o644); err != nil {
		return err
	}
	regConfD := filepath.Join(tmp, "registries.conf.d")
	dest := filepath.Join(tmp, "image")
	cache := filepath.Join(tmp, "cache")
	for _, d := range []string{regConfD, dest, cache} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	sys := &types.SystemContext{
		SignaturePolicyPath:         policyPath,
		RegistriesDirPath:           registriesD,
		SystemRegistriesConfPath:    regConf,
		SystemRegistriesConfDirPath: regConfD,
		AuthFilePath:                filepath.Join(tmp, "auth.json"),
		BlobInfoCacheDir:            cache,
		DockerDisableV1Ping:         true,
	}
	if insecure {
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
	}

	src, err := docker.ParseReference(strings.TrimPrefix(image, "docker:"))
	if err != nil {
		return err
	}
	dst, err := directory.NewReference(dest)
	if err != nil {
		return err
	}
	_, err = copy.Image(ctx, pc, dst, src, &copy.Options{SourceCtx: sys, DestinationCtx: sys})
	return err
}
