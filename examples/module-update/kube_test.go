package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/alicorn-dev/alicorn/internal/kubetest"
	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/kube"
	"github.com/alicorn-dev/alicorn/update/rollout"
)

// kubeSite is a registry, a real control plane and a module file whose
// image the cluster runs; KWOK pulls nothing, so the images are small
// random ones carrying the advisory labels the build service writes.
type kubeSite struct {
	cluster             *kubetest.Cluster
	dir, state, ns, tag string
	images              map[string]string // release → digest
}

// pushImage pushes a random image labelled as fixing fixes and returns its
// digest; tagged moves the tag to it.
func pushImage(t *testing.T, tag string, fixes []update.Fix, tagged bool) string {
	t.Helper()
	img, err := random.Image(256, 1)
	require.NoError(t, err)
	b, err := json.Marshal(fixes)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cfg := cf.Config
	cfg.Labels = map[string]string{update.LabelAdvisories: string(b)}
	img, err = mutate.Config(img, cfg)
	require.NoError(t, err)
	d, err := img.Digest()
	require.NoError(t, err)
	ref, err := name.ParseReference(tag)
	require.NoError(t, err)
	if !tagged {
		ref = ref.Context().Digest(d.String())
	}
	require.NoError(t, remote.Write(ref, img))
	return d.String()
}

func (k *kubeSite) retag(t *testing.T, digest string) {
	t.Helper()
	tag, err := name.NewTag(k.tag)
	require.NoError(t, err)
	desc, err := remote.Get(tag.Context().Digest(digest))
	require.NoError(t, err)
	img, err := desc.Image()
	require.NoError(t, err)
	require.NoError(t, remote.Write(tag, img))
}

func newKubeSite(t *testing.T) *kubeSite {
	t.Helper()
	reg := registrytest.Start(t)
	k := &kubeSite{dir: t.TempDir(), state: t.TempDir(), tag: reg + "/mods/web:stable", images: map[string]string{}}
	k.images["1"] = pushImage(t, k.tag, nil, true)
	k.images["2"] = pushImage(t, k.tag, []update.Fix{fix}, false)
	k.images["3"] = pushImage(t, k.tag, nil, false)
	k.images["bad"] = pushImage(t, k.tag, nil, false)
	k.cluster = kubetest.Start(t, map[string]kubetest.Fault{k.images["bad"]: kubetest.NeverReady})
	k.ns = k.cluster.Namespace(t, "modules")
	file := fmt.Sprintf(`name = "web"
image = "docker://%s"

[front]
listen = "127.0.0.1:8080"

[[containers]]
name = "web"
serve = 80
replicas = 3

[health]
path = "/"

[update]
policy = "rolling"
ready-timeout = "5s"
watch = "4s"
`, k.tag)
	require.NoError(t, os.WriteFile(filepath.Join(k.dir, "web.toml"), []byte(file), 0o644))
	return k
}

func (k *kubeSite) flags() []string {
	return []string{"--modules-dir", k.dir, "--state", k.state, "--policy", "none", "--tls-verify=false",
		"--kube", "--kubeconfig", k.cluster.Kubeconfig, "--namespace", k.ns}
}

func (k *kubeSite) cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	begin := time.Now()
	code := run(context.Background(), append(k.flags(), args...), strings.NewReader(""), &stdout, &stderr)
	t.Logf("module-update --kube %s: exit %d in %s\n%s%s", strings.Join(args, " "), code, time.Since(begin).Round(10*time.Millisecond), stdout.String(), stderr.String())
	return code, stdout.String(), stderr.String()
}

// server is the API server's address in the kubeconfig.
func (k *kubeSite) server(t *testing.T) string {
	t.Helper()
	r, err := kube.Connect(k.cluster.Kubeconfig, k.ns)
	require.NoError(t, err)
	return r.Server
}

func (k *kubeSite) image(t *testing.T) string {
	t.Helper()
	d, err := k.cluster.Client.AppsV1().Deployments(k.ns).Get(context.Background(), "web", metav1.GetOptions{})
	require.NoError(t, err)
	return d.Spec.Template.Annotations[update.LabelDigest]
}

// TestKube is a sysadmin's session against a cluster: the first
// deployment, status with the fixes of a newer image, apply, a bad image
// rolled back by itself, a rollback by hand, the updater killed
// mid-rollout and recover.
func TestKube(t *testing.T) {
	k := newKubeSite(t)
	code, _, _ := k.cli(t, "apply", "-y")
	require.Equal(t, 0, code)
	assert.Equal(t, k.images["1"], k.image(t))

	k.retag(t, k.images["2"])
	code, out, _ := k.cli(t, "status")
	assert.Equal(t, 100, code)
	assert.Contains(t, out, "3/3")
	assert.Contains(t, out, "web: ALICORN-2026-1 Important (CVE-2026-0001, BZ#1001)")
	code, _, _ = k.cli(t, "apply", "--security", "-y")
	require.Equal(t, 0, code)
	assert.Equal(t, k.images["2"], k.image(t))
	code, _, _ = k.cli(t, "status")
	assert.Equal(t, 0, code)

	// A never-ready image: rolled back by itself, remembered.
	k.retag(t, k.images["bad"])
	code, _, errs := k.cli(t, "apply", "-y")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "rolled back: pod web-")
	assert.Equal(t, k.images["2"], k.image(t))
	code, out, _ = k.cli(t, "status")
	assert.Equal(t, 0, code, "no update to take: the newest was rolled back")
	assert.Contains(t, out, "was rolled back on this host")
	code, out, _ = k.cli(t, "apply", "-y")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "apply --to")

	// By hand, back to 1.
	code, _, _ = k.cli(t, "rollback", "-y", "web")
	require.Equal(t, 0, code)
	assert.Equal(t, k.images["1"], k.image(t))

	// Killed mid-rollout to 3: recover undoes it.
	k.retag(t, k.images["3"])
	bin := filepath.Join(t.TempDir(), "module-update")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	cmd := exec.Command(bin, append(k.flags(), "apply", "-y")...)
	var cout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &cout, &cout
	require.NoError(t, cmd.Start())
	// The cluster's modules have their state apart, per cluster and
	// namespace.
	scope := (&kube.Rollout{Namespace: k.ns, Server: k.server(t)}).Scope()
	journal := filepath.Join(k.state, "kube", scope, "web.journal")
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(journal)
		if bytes.Contains(b, []byte(`"op":"apply"`)) {
			break
		}
		require.True(t, time.Now().Before(deadline), "no apply in the journal: %s", cout.String())
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the rollout under way, not yet complete
	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()
	t.Logf("killed mid-rollout:\n%s", cout.String())
	assert.Equal(t, k.images["3"], k.image(t), "the Deployment was left on the new image")
	code, out, _ = k.cli(t, "status")
	assert.Equal(t, 100, code)
	assert.Contains(t, out, "an update was interrupted")
	code, _, _ = k.cli(t, "recover")
	require.Equal(t, 0, code)
	assert.Equal(t, k.images["1"], k.image(t))
	u, err := (&rollout.State{Dir: filepath.Join(k.state, "kube", scope)}).ReadJournal("web")
	require.NoError(t, err)
	assert.Nil(t, u)
	// Interrupted, not failed: apply takes 3 again.
	code, _, _ = k.cli(t, "apply", "-y")
	require.Equal(t, 0, code)
	assert.Equal(t, k.images["3"], k.image(t))
}
