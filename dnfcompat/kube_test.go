package dnfcompat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/alicorn-dev/alicorn"
	"github.com/alicorn-dev/alicorn/internal/kubetest"
	"github.com/alicorn-dev/alicorn/internal/registrytest"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update/kube"
)

// TestKubeModules publishes a module's image (RPMs installed by rpm, in
// two layers) to a registry, runs it as the Deployment update/kube makes
// on a real API server, and reports it with --kube-modules: the module
// and its advisories are what the same image gives through a module
// file, byte for byte, in every output.
func TestKubeModules(t *testing.T) {
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux)", m)
	}
	c := kubetest.Start(t, nil)
	addr := registrytest.Start(t)
	ctx := context.Background()
	b := testBuilder(t)
	dir := t.TempDir()
	lay, _ := testImage(t, b, dir)

	// The layout's image, pushed; the module runs it by digest.
	idx, err := layout.ImageIndexFromPath(lay)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	img, err := idx.Image(im.Manifests[0].Digest)
	require.NoError(t, err)
	tag, err := name.ParseReference(addr+"/alicorn/web:1", name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(tag, img))
	d, err := img.Digest()
	require.NoError(t, err)
	ref := addr + "/alicorn/web@" + d.String()

	file := "name = \"web\"\nimage = \"docker://" + ref + "\"\n\n[[containers]]\nname = \"web\"\nserve = 80\n"
	args := moduleHost(t, b, dir, []rpmtest.Pkg{{Name: "gamma", Version: "1.0", Release: "1", Arch: "x86_64"}}, false, file)
	m, err := module.Parse([]byte(file), "web.toml")
	require.NoError(t, err)
	deploy := func(ns string) {
		dep, _, err := kube.Manifests(m, ref, ns)
		require.NoError(t, err)
		_, err = c.Client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	deploy(c.Namespace(t, "modules"))

	commands := [][]string{
		{"updateinfo", "list", "--all"},
		{"updateinfo", "list", "--module-packages", "--security"},
		{"updateinfo", "summary"},
		{"--with-links", "updateinfo", "info", "--security"},
		{"updateinfo", "list", "--json"},
		{"updateinfo", "--fail-on=Important"},
	}
	type result struct {
		code           int
		stdout, stderr string
	}
	var fromFile []result
	for _, cmd := range commands {
		code, stdout, stderr := runCLI(args(cmd...)...)
		fromFile = append(fromFile, result{code, stdout, stderr})
	}
	require.Equal(t, 0, fromFile[0].code, fromFile[0].stderr)
	require.Contains(t, fromFile[0].stdout, "  ADV-A Important/Sec. module web docker://"+ref+"\n")

	// Discovered and in a module file: the module is defined twice.
	kubeArgs := func(cmd ...string) []string {
		return args(append([]string{"--kube-modules", "--kubeconfig=" + c.Kubeconfig}, cmd...)...)
	}
	assertFails(t, "kubernetes:modules/web: module web is also defined in "+filepath.Join(dir, "mods/web.toml"),
		kubeArgs("updateinfo")...)

	require.NoError(t, os.Remove(filepath.Join(dir, "mods/web.toml")))
	for i, cmd := range commands {
		code, stdout, stderr := runCLI(kubeArgs(cmd...)...)
		assert.Equal(t, fromFile[i], result{code, stdout, stderr}, "%v", cmd)
	}
	// One namespace named: the same.
	code, stdout, stderr := runCLI(kubeArgs("--kube-namespace=modules", "updateinfo", "list", "--all")...)
	assert.Equal(t, fromFile[0], result{code, stdout, stderr})

	// The module in a second namespace: both are reported, each by
	// namespace and Deployment; with one namespace named, as before.
	deploy(c.Namespace(t, "staging"))
	code, stdout, stderr = runCLI(kubeArgs("updateinfo", "list", "--all")...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "  ADV-G bugfix         gamma-2.0-1.x86_64\n"+
		"  ADV-A Important/Sec. module modules/web docker://"+ref+"\n"+
		"  ADV-G bugfix         module modules/web docker://"+ref+"\n"+
		"  ADV-A Important/Sec. module staging/web docker://"+ref+"\n"+
		"  ADV-G bugfix         module staging/web docker://"+ref+"\n", stdout)
	code, stdout, stderr = runCLI(kubeArgs("--kube-namespace=staging", "updateinfo", "list", "--all")...)
	assert.Equal(t, fromFile[0], result{code, stdout, stderr})

	// A namespace that does not exist is an error, not an empty report.
	assertFails(t, "namespace nope: namespaces \"nope\" not found", kubeArgs("--kube-namespace=nope", "updateinfo")...)
}

// TestKubeModulesErrors: the options' errors, and a cluster that cannot
// be reached, are one line naming what failed, exit 1.
func TestKubeModulesErrors(t *testing.T) {
	assertFails(t, "command line error: argument --kubeconfig: needs --kube-modules", "--kubeconfig=/k", "updateinfo")
	assertFails(t, "command line error: argument --kube-namespace: needs --kube-modules", "--kube-namespace=ns", "updateinfo")
	assertFails(t, "command line error: argument --kube-namespace: empty", "--kube-modules", "--kube-namespace=", "updateinfo")
	assertFails(t, "command line error: ambiguous option: --kube could match --kube-modules, --kube-namespace, --kubeconfig",
		"--kube", "updateinfo")
	assertFails(t, "kubernetes: kubeconfig /nonexistent/kubeconfig: ", "--kube-modules", "--kubeconfig=/nonexistent/kubeconfig",
		"--setopt=reposdir=/nonexistent", "updateinfo")

	root, repoDir := fixture(t)
	down := registrytest.FreeAddr(t)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kc, []byte(strings.ReplaceAll(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://ADDR
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: t
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
`, "ADDR", down)), 0o600))
	assertFails(t, "dnf-security: kubernetes: server https://"+down+" (kubeconfig "+kc+"): listing Deployments labelled "+
		"io.alicorn.module in all namespaces: Get \"https://"+down+"/apis/apps/v1/deployments?",
		append(baseArgs(t, root, repoDir), "--kube-modules", "--kubeconfig", kc, "updateinfo")...)

	c, err := parseCommand([]string{"--kube-mod", "--kubeconfig", "/k", "--kube-namespace=a", "--kube-namespace=b", "updateinfo"})
	require.NoError(t, err)
	assert.True(t, c.opts.KubeModules)
	assert.Equal(t, "/k", c.opts.Kubeconfig)
	assert.Equal(t, "b", c.opts.KubeNamespace, "the last one wins")
}

// Who may not list Deployments in all namespaces is told the option that
// names one.
func TestKubeNamespaceHint(t *testing.T) {
	forbidden := fmt.Errorf("listing Deployments labelled io.alicorn.module in all namespaces: %w (name a namespace to look in that one only)",
		apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "", errors.New("no")))
	err := kubeNamespaceHint(forbidden, &alicorn.Options{KubeModules: true})
	assert.True(t, apierrors.IsForbidden(err))
	assert.EqualError(t, err, forbidden.Error()+": --kube-namespace=NS")
	assert.Equal(t, forbidden, kubeNamespaceHint(forbidden, &alicorn.Options{KubeModules: true, KubeNamespace: "web"}))
	other := errors.New("other")
	assert.Equal(t, other, kubeNamespaceHint(other, &alicorn.Options{KubeModules: true}))
}
