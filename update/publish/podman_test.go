package publish

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicorn-dev/alicorn/internal/podman"
	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trustConfig writes what containers/image (podman) reads to verify
// pulls from the registry at addr: registries.d/alicorn-test.yaml under
// regd, turning on use-sigstore-attachments for addr, and dir/policy.json,
// requiring a sigstore signature by the key pubPath. It returns the
// policy's path.
func trustConfig(t *testing.T, dir, regd, addr, pubPath string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(regd, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(regd, "alicorn-test.yaml"),
		[]byte("docker:\n  "+addr+":\n    use-sigstore-attachments: true\n"), 0o644))
	policy := map[string]any{
		"default": []any{map[string]any{"type": "reject"}},
		"transports": map[string]any{
			"docker": map[string]any{
				addr: []any{map[string]any{
					"type":           "sigstoreSigned",
					"keyPath":        pubPath,
					"signedIdentity": map[string]any{"type": "matchRepoDigestOrExact"},
				}},
			},
		},
	}
	b, err := json.MarshalIndent(policy, "", "  ")
	require.NoError(t, err)
	policyPath := filepath.Join(dir, "policy.json")
	require.NoError(t, os.WriteFile(policyPath, b, 0o644))
	return policyPath
}

// podmanVerifier is a podman whose pulls from the registry at addr
// require a sigstore signature by the key pubPath. Nothing under /etc is
// read or written for it: containers/image reads registries.d from
// $HOME/.config/containers/registries.d when that exists, so HOME is a
// test directory holding one that turns use-sigstore-attachments on for
// addr; the policy is --signature-policy; CONTAINERS_CONF as
// podman.ContainersConf. Storage is the default (root) one.
type podmanVerifier struct {
	env    []string
	policy string
}

func newPodmanVerifier(t *testing.T, addr, pubPath string) *podmanVerifier {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("needs podman (apt-get install podman runc)")
	}
	home := t.TempDir()
	regd := filepath.Join(home, ".config", "containers", "registries.d")
	policyPath := trustConfig(t, home, regd, addr, pubPath)
	conf := filepath.Join(home, "containers.conf")
	require.NoError(t, os.WriteFile(conf, []byte(podman.ContainersConf), 0o644))
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "HOME=") && !strings.HasPrefix(e, "CONTAINERS_") && !strings.HasPrefix(e, "REGISTRIES_CONFIG_PATH=") {
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+home, "CONTAINERS_CONF="+conf)
	return &podmanVerifier{env: env, policy: policyPath}
}

// pull pulls ref under the policy and removes the image at the end of the
// test.
func (p *podmanVerifier) pull(t *testing.T, ref string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", "pull", "--quiet", "--tls-verify=false", "--signature-policy="+p.policy, ref)
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Cleanup(func() {
			rm := exec.Command("podman", "rmi", "--force", ref)
			rm.Env = p.env
			if out, err := rm.CombinedOutput(); err != nil {
				t.Errorf("podman rmi %s: %v: %s", ref, err, out)
			}
		})
	}
	return strings.TrimSpace(string(out)), err
}

// debianNoSigstore is the reason Debian's containers/image (podman 4.3
// in bookworm) gives for every sigstore signature: Debian patched
// sigstore signing and verification out.
const debianNoSigstore = "Debian-local change: sigstore disabled"

// TestPodmanVerifies: podman, under a policy that requires a sigstore
// signature by the key, pulls an image Publisher signed (by its moving
// and immutable tags and by digest) and refuses an unsigned one and one
// signed by another key.
//
// Debian's podman verifies no sigstore signature (debianNoSigstore). With
// it the test checks what it can: podman finds the attachment and reads
// both its signatures as sigstore signatures (one reason each), and the
// unsigned image is refused for having none; readSignatures checks the
// signatures themselves, and TestContainersImageVerifies has upstream
// containers/image (what podman pull verifies with) accept and refuse
// them under the same registries.d and policy.
func TestPodmanVerifies(t *testing.T) {
	ctx := context.Background()
	addr := registrytest.Start(t)
	keyPath, pubPath, passPath := testKey(t, t.TempDir(), "secret")
	_, otherPub, _ := testKey(t, t.TempDir(), "other")
	s, err := LoadSigner(keyPath, passPath)
	require.NoError(t, err)
	repo := addr + "/alicorn/signed"

	img := signedImage(t, "signed\n", "")
	d, err := img.Digest()
	require.NoError(t, err)
	ref, imm, err := (&Publisher{Insecure: true, Signer: s}).Publish(ctx, img, repo, "latest")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{repo + ":latest", repo + ":" + imm}, readSignatures(t, repo, d, pubPath))
	_, _, err = (&Publisher{Insecure: true}).Publish(ctx, signedImage(t, "unsigned\n", ""), repo, "unsigned")
	require.NoError(t, err)

	podman := newPodmanVerifier(t, addr, pubPath)
	out, err := podman.pull(t, repo+":unsigned")
	require.Error(t, err, "an unsigned image is pulled: %s", out)
	assert.Contains(t, out, "A signature was required, but no signature exists")

	out, err = podman.pull(t, repo+":latest")
	if err != nil && strings.Contains(out, debianNoSigstore) {
		t.Logf("this podman verifies no sigstore signature: %s", out)
		assert.Contains(t, out, "None of the signatures were accepted")
		assert.Equal(t, 2, strings.Count(out, debianNoSigstore), "podman read both signatures of the attachment: %s", out)
		return
	}
	require.NoError(t, err, "podman pull %s: %s", repo+":latest", out)
	for _, r := range []string{repo + ":" + imm, ref} {
		out, err := podman.pull(t, r)
		require.NoError(t, err, "podman pull %s: %s", r, out)
	}
	other := newPodmanVerifier(t, addr, otherPub)
	out, err = other.pull(t, repo+":latest")
	require.Error(t, err, "an image signed by another key is pulled: %s", out)
	assert.Contains(t, out, "None of the signatures were accepted")
}
