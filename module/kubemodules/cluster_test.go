package kubemodules_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/alicorn-dev/alicorn/internal/kubetest"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/module/kubemodules"
	"github.com/alicorn-dev/alicorn/update/kube"
)

func digest(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

// deploy creates the Deployment update/kube makes of a one-container
// module name running ref, in namespace.
func deploy(t *testing.T, c *kubetest.Cluster, name, ref, namespace string) {
	t.Helper()
	m, err := module.Parse([]byte(fmt.Sprintf("name = %q\nimage = \"docker://%s\"\n\n[[containers]]\nname = \"web\"\nserve = 80\n",
		name, ref)), name+".toml")
	require.NoError(t, err)
	d, _, err := kube.Manifests(m, ref, namespace)
	require.NoError(t, err)
	_, err = c.Client.AppsV1().Deployments(namespace).Create(context.Background(), d, metav1.CreateOptions{})
	require.NoError(t, err)
}

// TestCluster discovers modules from the Deployments of a real API
// server, as update/kube makes them.
func TestCluster(t *testing.T) {
	c := kubetest.Start(t, nil)
	ctx := context.Background()
	prod, staging := c.Namespace(t, "prod"), c.Namespace(t, "staging")
	web1, web2, db := "127.0.0.1:5000/alicorn/web@"+digest('1'), "127.0.0.1:5000/alicorn/web@"+digest('2'),
		"127.0.0.1:5000/alicorn/db@"+digest('3')
	deploy(t, c, "web", web1, prod)
	deploy(t, c, "db", db, prod)
	deploy(t, c, "web", web2, staging)
	// A Deployment that is not a module's.
	one := int32(1)
	plain := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: prod, Labels: map[string]string{"app": "plain"}},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "plain"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "plain"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}}}}}
	_, err := c.Client.AppsV1().Deployments(prod).Create(ctx, plain, metav1.CreateOptions{})
	require.NoError(t, err)

	mods, err := kubemodules.Discover(ctx, kubemodules.Config{Kubeconfig: c.Kubeconfig})
	require.NoError(t, err)
	assert.Equal(t, []module.Module{
		{Name: "db", Image: "docker://" + db, Source: "kubernetes:prod/db"},
		{Name: "prod/web", Image: "docker://" + web1, Source: "kubernetes:prod/web"},
		{Name: "staging/web", Image: "docker://" + web2, Source: "kubernetes:staging/web"},
	}, mods)

	mods, err = kubemodules.Discover(ctx, kubemodules.Config{Kubeconfig: c.Kubeconfig, Namespace: prod})
	require.NoError(t, err)
	assert.Equal(t, []module.Module{
		{Name: "db", Image: "docker://" + db, Source: "kubernetes:prod/db"},
		{Name: "web", Image: "docker://" + web1, Source: "kubernetes:prod/web"},
	}, mods)

	_, err = kubemodules.Discover(ctx, kubemodules.Config{Kubeconfig: c.Kubeconfig, Namespace: "nope"})
	assert.True(t, apierrors.IsNotFound(err), "%v", err)
	assert.ErrorContains(t, err, "kubeconfig "+c.Kubeconfig+"): namespace nope: ")

	// A clientset's REST client serves as well.
	mods, err = kubemodules.List(ctx, c.Client.AppsV1().RESTClient(), staging)
	require.NoError(t, err)
	assert.Equal(t, []module.Module{{Name: "web", Image: "docker://" + web2, Source: "kubernetes:staging/web"}}, mods)
}
