package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/alicorn-dev/alicorn/internal/rollouttest"
	"github.com/alicorn-dev/alicorn/internal/webimage"
)

// TestExportKube prints the web module's Deployment and Service, its
// image named by digest, and the Deployment's podman flavour.
func TestExportKube(t *testing.T) {
	dir := t.TempDir()
	file := rollouttest.ModuleFile("web", "docker://registry.example:5000/alicorn/web:1", "127.0.0.1:8080", "", "rolling")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "web.toml"), []byte(file), 0o644))
	digest := "sha256:" + strings.Repeat("ab", 32)
	var out, errb strings.Builder
	code := run(context.Background(), []string{"--modules-dir", dir, "--state", t.TempDir(), "--policy", "none",
		"export", "--kube", "--namespace", "modules", "--to", digest, "web"}, strings.NewReader(""), &out, &errb)
	require.Equal(t, 0, code, errb.String())
	y := out.String()
	assert.Contains(t, y, "kind: Deployment")
	assert.Contains(t, y, "kind: Service")
	assert.Contains(t, y, "image: registry.example:5000/alicorn/web@"+digest)
	assert.Contains(t, y, "namespace: modules")
	assert.Contains(t, y, "replicas: 3")

	out.Reset()
	code = run(context.Background(), []string{"--modules-dir", dir, "--state", t.TempDir(), "--policy", "none",
		"export", "--kube", "--podman", "--to", digest, "web"}, strings.NewReader(""), &out, &errb)
	require.Equal(t, 0, code, errb.String())
	y = out.String()
	assert.Contains(t, y, "kind: Deployment")
	assert.NotContains(t, y, "kind: Service")
	assert.NotContains(t, y, "initContainers")
	assert.Contains(t, y, "replicas: 1")
	assert.Contains(t, y, "hostIP: 127.0.0.1")
	assert.Contains(t, y, "hostPort: 8080")

	code = run(context.Background(), []string{"--modules-dir", dir, "export", "web"}, strings.NewReader(""), &out, &errb)
	assert.Equal(t, 2, code)
	code = run(context.Background(), []string{"--modules-dir", dir, "export", "--kube", "--podman", "--namespace", "modules", "web"}, strings.NewReader(""), &out, &errb)
	assert.Equal(t, 2, code)
}

// TestExportPodman plays the web module's podman flavour, for a real
// image from a registry, with podman kube play: one pod, whose content
// container copies the pages into the volume its web container serves
// on [front] listen; kube down removes the pod and the volume.
func TestExportPodman(t *testing.T) {
	rollouttest.Needs(t)
	if _, err := os.Stat("/usr/libexec/podman/catatonit"); err != nil {
		t.Skip("needs catatonit (apt-get install catatonit): the pods podman kube play makes run it")
	}
	ctx := context.Background()
	dir := t.TempDir()
	pm := rollouttest.Podman(t, dir)
	reg := registrytest.Start(t)
	name := fmt.Sprintf("pp%d", time.Now().UnixNano()%1e8)
	digest := rollouttest.Publish(t, ctx, reg, name, "stable", rollouttest.NewImages(t, ctx, dir).Release(t, ctx, "1", ""), "")
	listen := registrytest.FreeAddr(t)
	mods := filepath.Join(dir, "modules.d")
	require.NoError(t, os.MkdirAll(mods, 0o755))
	file := rollouttest.ModuleFile(name, "docker://"+reg+"/"+name+":stable", listen, "", "rolling")
	require.NoError(t, os.WriteFile(filepath.Join(mods, name+".toml"), []byte(file), 0o644))

	var out, errb strings.Builder
	code := run(ctx, []string{"--modules-dir", mods, "--state", t.TempDir(), "--policy", "none",
		"export", "--kube", "--podman", "--to", digest, name}, strings.NewReader(""), &out, &errb)
	require.Equal(t, 0, code, errb.String())
	manifest := filepath.Join(dir, name+".yaml")
	require.NoError(t, os.WriteFile(manifest, []byte(out.String()), 0o644))
	t.Logf("%s", out.String())
	label := "label=io.alicorn.module=" + name
	t.Cleanup(func() {
		// Whatever kube down left behind: the pod, the volume, the image.
		pm.Run(ctx, "kube", "down", manifest)
		ids, _ := pm.Run(ctx, "pod", "ps", "--quiet", "--filter", label)
		for _, id := range strings.Fields(ids) {
			pm.Run(ctx, "pod", "rm", "--force", "--time", "1", id)
		}
		pm.Run(ctx, "volume", "rm", "--force", name+"-content")
		pm.Run(ctx, "rmi", "--force", reg+"/"+name+"@"+digest)
	})

	// A sidecar would keep kube play waiting for ever.
	playCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	_, err := pm.Run(playCtx, "kube", "play", "--tls-verify=false", manifest)
	require.NoError(t, err)
	pods, err := pm.Run(ctx, "pod", "ps", "--filter", label, "--format", "{{.Name}}")
	require.NoError(t, err)
	assert.Equal(t, []string{name + "-pod-0"}, strings.Fields(pods), "one pod, not one per replica")

	url := "http://" + listen + "/index.html"
	var body []byte
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(url)
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("%s", resp.Status)
			}
		}
		if err == nil && strings.Contains(string(body), webimage.Expect) {
			break
		}
		if time.Now().After(deadline) {
			states, _ := pm.Run(ctx, "ps", "--all", "--filter", label, "--format", "{{.Names}} {{.Status}}")
			t.Fatalf("%s: %v %q\n%s", url, err, body, states)
		}
		time.Sleep(200 * time.Millisecond)
	}
	assert.Equal(t, string(webimage.Page()), string(body))
	// The page is the content container's copy in the shared volume (the
	// volume hides the web container's own pages).
	mnt, err := pm.Run(ctx, "volume", "inspect", "--format", "{{.Mountpoint}}", name+"-content")
	require.NoError(t, err)
	copied, err := os.ReadFile(filepath.Join(strings.TrimSpace(mnt), "index.html"))
	require.NoError(t, err)
	assert.Equal(t, webimage.Page(), copied)

	_, err = pm.Run(ctx, "kube", "down", manifest)
	require.NoError(t, err)
	pods, err = pm.Run(ctx, "pod", "ps", "--filter", label, "--quiet")
	require.NoError(t, err)
	assert.Empty(t, strings.TrimSpace(pods))
	_, err = pm.Run(ctx, "volume", "inspect", name+"-content")
	assert.Error(t, err, "kube down removes the volume kube play made")
}
