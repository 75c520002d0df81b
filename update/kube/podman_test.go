package kube

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/module"
)

// TestForPodman checks the podman flavour's changes to Manifests'
// Deployment; examples/module-update's TestExportPodman plays it.
func TestForPodman(t *testing.T) {
	m, err := module.Parse([]byte(web), "web.toml")
	require.NoError(t, err)
	dep, err := ForPodman(m, image)
	require.NoError(t, err)
	assert.Equal(t, int32(1), *dep.Spec.Replicas)
	assert.Empty(t, dep.Namespace)
	pod := dep.Spec.Template.Spec
	assert.Empty(t, pod.InitContainers)
	require.Len(t, pod.Containers, 2)
	assert.Equal(t, "content", pod.Containers[0].Name)
	assert.Nil(t, pod.Containers[0].RestartPolicy)
	assert.Empty(t, pod.Containers[0].Ports)
	served := pod.Containers[1]
	assert.Equal(t, "web", served.Name)
	require.Len(t, served.Ports, 1)
	assert.Equal(t, int32(80), served.Ports[0].ContainerPort)
	assert.Equal(t, int32(8080), served.Ports[0].HostPort)
	assert.Equal(t, "127.0.0.1", served.Ports[0].HostIP)
	y, err := YAML(dep)
	require.NoError(t, err)
	assert.NotContains(t, string(y), "kind: Service")

	// Manifests' own Deployment is not changed by it.
	kdep, _, err := Manifests(m, image, "")
	require.NoError(t, err)
	assert.Len(t, kdep.Spec.Template.Spec.InitContainers, 1)
	assert.Equal(t, int32(3), *kdep.Spec.Replicas)

	// The front's address is where podman publishes: any address on
	// ":PORT", an IP address only (podman refuses host names), nothing
	// without [front].
	front := "[front]\nlisten = \"127.0.0.1:8080\"\n"
	for _, c := range []struct {
		front, hostIP string
		hostPort      int32
		err           string
	}{
		{front: "[front]\nlisten = \":8080\"\n", hostPort: 8080},
		{front: "[front]\nlisten = \"localhost:8080\"\n", err: "not a host name"},
		{front: ""},
	} {
		m, err := module.Parse([]byte(strings.Replace(web, front, c.front, 1)), "web.toml")
		require.NoError(t, err, c.front)
		dep, err := ForPodman(m, image)
		if c.err != "" {
			assert.ErrorIs(t, err, ErrUnsupported)
			assert.ErrorContains(t, err, c.err)
			continue
		}
		require.NoError(t, err, c.front)
		ports := dep.Spec.Template.Spec.Containers[1].Ports
		if c.hostPort == 0 {
			assert.Empty(t, ports, c.front)
			continue
		}
		require.Len(t, ports, 1)
		assert.Equal(t, c.hostPort, ports[0].HostPort)
		assert.Equal(t, c.hostIP, ports[0].HostIP)
	}
}
