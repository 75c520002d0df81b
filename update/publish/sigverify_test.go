package publish

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sigverifyTags are the build tags of testdata/sigverify: containers/image
// in pure Go (OpenPGP in Go, no gpgme; no btrfs, devicemapper or
// containers/storage), so that it builds with CGO_ENABLED=0.
const sigverifyTags = "containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper,containers_image_storage_stub"

// buildSigverify builds testdata/sigverify (its own module: containers/image
// is no dependency of this one, and go test ./... does not enter
// testdata) into a test directory and returns its path. A cold build
// takes under a minute; Go's build cache makes the later ones quick.
func buildSigverify(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command to build testdata/sigverify (containers/image's verifier)")
	}
	src, err := filepath.Abs(filepath.Join("testdata", "sigverify"))
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "sigverify")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-C", src, "-tags", sigverifyTags, "-o", bin, ".")
	// -mod=readonly: the committed go.sum is the whole of it.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly -buildvcs=false", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build testdata/sigverify: %v\n%s", err, out)
	}
	return bin
}

// ciVerifier runs testdata/sigverify, upstream containers/image's
// copy.Image as podman pull runs it, under a policy that requires a
// sigstore signature by pubPath for the registry at addr, with
// use-sigstore-attachments on for addr in its registries.d.
type ciVerifier struct {
	bin, policy, regd, home string
}

func newCIVerifier(t *testing.T, bin, addr, pubPath string) *ciVerifier {
	t.Helper()
	dir := t.TempDir()
	regd := filepath.Join(dir, "registries.d")
	policyPath := trustConfig(t, dir, regd, addr, pubPath)
	home := filepath.Join(dir, "home")
	require.NoError(t, os.Mkdir(home, 0o755))
	return &ciVerifier{bin: bin, policy: policyPath, regd: regd, home: home}
}

// pull copies docker://ref under the policy and returns the verifier's
// output: "accepted", or containers/image's error.
func (v *ciVerifier) pull(t *testing.T, ref string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, v.bin, "--policy", v.policy, "--registries-d", v.regd, "--insecure", "--timeout", "60s", "docker://"+ref)
	cmd.Env = []string{"HOME=" + v.home, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestContainersImageVerifies: containers/image, the library podman pull
// verifies signatures with, under a policy that requires a sigstore
// signature by the key, accepts an image Publisher signed by its moving
// tag, its immutable tag and its digest, and refuses an unsigned image
// and, under a policy naming another key, the signed one. It is what
// TestPodmanVerifies cannot show with Debian's podman
// (debianNoSigstore).
func TestContainersImageVerifies(t *testing.T) {
	ctx := context.Background()
	bin := buildSigverify(t)
	addr := registrytest.Start(t)
	keyPath, pubPath, passPath := testKey(t, t.TempDir(), "secret")
	_, otherPub, _ := testKey(t, t.TempDir(), "other")
	s, err := LoadSigner(keyPath, passPath)
	require.NoError(t, err)
	repo := addr + "/alicorn/signed"

	ref, imm, err := (&Publisher{Insecure: true, Signer: s}).Publish(ctx, signedImage(t, "signed\n", ""), repo, "latest")
	require.NoError(t, err)
	require.NotEmpty(t, imm)
	unsigned, err := name.NewTag(repo+":unsigned", name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(unsigned, testImage(t, "unsigned\n")))

	v := newCIVerifier(t, bin, addr, pubPath)
	for _, r := range []string{repo + ":latest", repo + ":" + imm, ref} {
		out, err := v.pull(t, r)
		require.NoError(t, err, "containers/image refuses %s: %s", r, out)
		assert.Equal(t, "accepted", out, r)
		t.Logf("%s: %s", r, out)
	}

	out, err := v.pull(t, unsigned.String())
	require.Error(t, err, "containers/image accepts the unsigned %s: %s", unsigned, out)
	assert.Contains(t, out, "A signature was required, but no signature exists")
	t.Logf("%s: %s", unsigned, out)

	other := newCIVerifier(t, bin, addr, otherPub)
	out, err = other.pull(t, repo+":latest")
	require.Error(t, err, "containers/image accepts %s under another key: %s", repo+":latest", out)
	assert.Contains(t, out, "None of the signatures were accepted")
	t.Logf("%s, another key: %s", repo+":latest", out)
}
