package kubemodules

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"

	"github.com/alicorn-dev/alicorn/module"
)

// dep is a Deployment as the API server lists it: namespace, name,
// labels and its pod template's container images.
func dep(ns, name string, labels map[string]string, images ...string) deployment {
	var d deployment
	d.Metadata.Namespace, d.Metadata.Name, d.Metadata.Labels = ns, name, labels
	for i, im := range images {
		d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, struct {
			Name  string `json:"name"`
			Image string `json:"image"`
		}{fmt.Sprint("c", i), im})
	}
	return d
}

func label(name string) map[string]string { return map[string]string{module.Label: name, "app": "x"} }

const digest = "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestFromDeployments(t *testing.T) {
	mods, err := fromDeployments([]deployment{
		dep("prod", "web", label("web"), "127.0.0.1:5000/alicorn/web"+digest, "sidecar:1"),
		dep("prod", "db", label("db"), "127.0.0.1:5000/alicorn/db:15"), // by tag: reported as the tag names it
		dep("prod", "plain", map[string]string{"app": "plain"}, "nginx:1"),
		dep("prod", "unnamed", label(""), "nginx:1"), // an empty label names no module
		dep("staging", "web", label("web"), "127.0.0.1:5000/alicorn/web:2"),
		dep("staging", "web-canary", label("web"), "127.0.0.1:5000/alicorn/web:3"),
		dep("staging", "cache", label("cache.v2"), "redis"),
	})
	require.NoError(t, err)
	assert.Equal(t, []module.Module{
		{Name: "cache.v2", Image: "docker://redis", Source: "kubernetes:staging/cache"},
		{Name: "db", Image: "docker://127.0.0.1:5000/alicorn/db:15", Source: "kubernetes:prod/db"},
		// One name, three Deployments: each is named by its namespace
		// and Deployment.
		{Name: "prod/web", Image: "docker://127.0.0.1:5000/alicorn/web" + digest, Source: "kubernetes:prod/web"},
		{Name: "staging/web", Image: "docker://127.0.0.1:5000/alicorn/web:2", Source: "kubernetes:staging/web"},
		{Name: "staging/web-canary", Image: "docker://127.0.0.1:5000/alicorn/web:3", Source: "kubernetes:staging/web-canary"},
	}, mods)

	mods, err = fromDeployments(nil)
	require.NoError(t, err)
	assert.Empty(t, mods)

	// A module whose pod template runs no image cannot be reported:
	// an error naming it, not a module left out.
	for _, d := range []deployment{dep("prod", "web", label("web")), dep("prod", "web", label("web"), " ")} {
		_, err = fromDeployments([]deployment{d})
		require.ErrorIs(t, err, module.ErrInvalid)
		assert.ErrorContains(t, err, "kubernetes:prod/web: invalid module: Deployment labelled io.alicorn.module=web runs no image")
	}
}

// fakeAPI serves the list of Deployments in pages of two, as an API
// server does for limit=2, and the namespaces that exist.
type fakeAPI struct {
	deps       []deployment
	namespaces []string
	forbidden  bool
	requests   []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests = append(f.requests, r.URL.String())
	status := func(code int, reason, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure",
			"message": msg, "reason": reason, "code": code})
	}
	if ns, ok := strings.CutPrefix(r.URL.Path, "/api/v1/namespaces/"); ok {
		for _, n := range f.namespaces {
			if n == ns {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"kind":"Namespace","apiVersion":"v1","metadata":{"name":%q}}`, ns)
				return
			}
		}
		status(http.StatusNotFound, "NotFound", fmt.Sprintf("namespaces %q not found", ns))
		return
	}
	ns := ""
	switch p := r.URL.Path; {
	case p == "/apis/apps/v1/deployments":
	case strings.HasPrefix(p, "/apis/apps/v1/namespaces/") && strings.HasSuffix(p, "/deployments"):
		ns = strings.TrimSuffix(strings.TrimPrefix(p, "/apis/apps/v1/namespaces/"), "/deployments")
	default:
		http.NotFound(w, r)
		return
	}
	if f.forbidden && ns == "" {
		status(http.StatusForbidden, "Forbidden", `deployments.apps is forbidden: User "dev" cannot list resource "deployments" in API group "apps" at the cluster scope`)
		return
	}
	if r.URL.Query().Get("labelSelector") != module.Label {
		status(http.StatusBadRequest, "BadRequest", "labelSelector "+r.URL.Query().Get("labelSelector"))
		return
	}
	var items []deployment
	for _, d := range f.deps {
		if _, ok := d.Metadata.Labels[module.Label]; ok && (ns == "" || d.Metadata.Namespace == ns) {
			items = append(items, d)
		}
	}
	start, _ := strconv.Atoi(r.URL.Query().Get("continue"))
	end := min(start+2, len(items))
	var l deploymentList
	l.Items = items[start:end]
	if end < len(items) {
		l.Metadata.Continue = strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(l)
}

func TestList(t *testing.T) {
	api := &fakeAPI{namespaces: []string{"prod", "staging", "empty"}, deps: []deployment{
		dep("prod", "a", label("a"), "r/a:1"),
		dep("prod", "b", label("b"), "r/b:1"),
		dep("prod", "plain", nil, "r/plain:1"),
		dep("staging", "c", label("c"), "r/c:1"),
		dep("staging", "a", label("a"), "r/a:2"),
	}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c, err := NewClient(&rest.Config{Host: srv.URL})
	require.NoError(t, err)
	ctx := context.Background()
	names := func(ms []module.Module) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Name+"="+m.Image)
		}
		return out
	}

	// All namespaces, in two pages.
	mods, err := List(ctx, c, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"b=docker://r/b:1", "c=docker://r/c:1", "prod/a=docker://r/a:1", "staging/a=docker://r/a:2"}, names(mods))
	assert.Len(t, api.requests, 2, "%v", api.requests)
	assert.Contains(t, api.requests[1], "continue=2")

	// One namespace: a is a's only Deployment there.
	mods, err = List(ctx, c, "staging")
	require.NoError(t, err)
	assert.Equal(t, []string{"a=docker://r/a:2", "c=docker://r/c:1"}, names(mods))

	// A namespace with no module is no error; one that does not exist is.
	mods, err = List(ctx, c, "empty")
	require.NoError(t, err)
	assert.Empty(t, mods)
	_, err = List(ctx, c, "typo")
	assert.True(t, apierrors.IsNotFound(err), "%v", err)
	assert.ErrorContains(t, err, `namespace typo: namespaces "typo" not found`)

	// Who may not list Deployments cluster-wide is told the way out.
	api.forbidden = true
	_, err = List(ctx, c, "")
	assert.True(t, apierrors.IsForbidden(err), "%v", err)
	assert.ErrorContains(t, err, `listing Deployments labelled io.alicorn.module in all namespaces: deployments.apps is forbidden: `+
		`User "dev" cannot list resource "deployments" in API group "apps" at the cluster scope (name a namespace to look in that one only)`)
	mods, err = List(ctx, c, "prod")
	require.NoError(t, err)
	assert.Equal(t, []string{"a=docker://r/a:1", "b=docker://r/b:1"}, names(mods))
}

// TestDiscoverErrors: errors name the kubeconfig and the server.
func TestDiscoverErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Discover(ctx, Config{Kubeconfig: "/nonexistent/kubeconfig"})
	assert.ErrorContains(t, err, "kubernetes: kubeconfig /nonexistent/kubeconfig: ")

	// A kubeconfig for a server that is down.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	kc := writeKubeconfig(t, srv.URL)
	_, err = Discover(ctx, Config{Kubeconfig: kc})
	assert.ErrorContains(t, err, "kubernetes: server "+srv.URL+" (kubeconfig "+kc+"): listing Deployments labelled io.alicorn.module in all namespaces: ")
	assert.ErrorContains(t, err, "connection refused")

	// No kubeconfig anywhere (and not in a pod).
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	_, err = Discover(ctx, Config{})
	require.ErrorIs(t, err, ErrNoConfig)
	assert.ErrorContains(t, err, "kubernetes: no kubeconfig (looked for ")
	assert.ErrorContains(t, err, "/.kube/config; name one with --kubeconfig)")

	// $KUBECONFIG is read as kubectl reads it.
	api := &fakeAPI{deps: []deployment{dep("prod", "a", label("a"), "r/a:1")}}
	live := httptest.NewServer(api)
	t.Cleanup(live.Close)
	t.Setenv("KUBECONFIG", writeKubeconfig(t, live.URL))
	mods, err := Discover(ctx, Config{})
	require.NoError(t, err)
	assert.Equal(t, []module.Module{{Name: "a", Image: "docker://r/a:1", Source: "kubernetes:prod/a"}}, mods)
}

func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	kc := t.TempDir() + "/kubeconfig"
	require.NoError(t, os.WriteFile(kc, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: %s
users:
- name: u
  user:
    token: secret
contexts:
- name: c
  context:
    cluster: c
    user: u
    namespace: elsewhere
current-context: c
`, server)), 0o600))
	return kc
}
