package kube

import (
	"fmt"
	"net"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/alicorn-dev/alicorn/module"
)

// ForPodman returns the Deployment that podman kube play (podman 4.3)
// runs m from image as Manifests means it, on this host: Manifests'
// Deployment with one replica, the helpers plain containers listed
// before the served one, and the served port published on the host at
// [front] listen (hostIP and hostPort; nothing is published for a
// module without [front]). It has no Service and no namespace.
//
// What podman 4.3.1 does with Manifests' Deployment (each checked with
// podman kube play and down):
//
//   - replicas: honoured as that many pods (NAME-pod-0, -1, …), which
//     all publish the same host port and share the volumes: all but the
//     first fail to start. Hence one replica.
//   - sidecars (init containers with restartPolicy Always): run as
//     init containers, waited for: kube play never returns and the
//     served container stays Created. Hence plain containers, run beside
//     the served one with the pod's restartPolicy (podman's restart
//     policy always).
//   - ports: a containerPort without hostPort is published on
//     0.0.0.0:containerPort; hostPort and hostIP (an IP address, not a
//     host name) are honoured.
//   - emptyDir: a podman volume of the same name, created when missing
//     and then removed by kube down, shared by the pod's containers (and
//     by every replica's pod); a volume of that name already there (as
//     the module's own under podman) is used as it is and kept.
//   - hostPath: a bind mount; readOnly mounts are honoured.
//   - command, args, env and labels: honoured.
//   - ignored: the strategy and the progress deadline (kube play --replace
//     removes the old pod first), the readiness probe (no health check),
//     terminationGracePeriodSeconds (podman's 10 s stop timeout), the pod
//     template's annotations, metadata.namespace, and the Service.
func ForPodman(m module.Module, image string) (*appsv1.Deployment, error) {
	dep, _, err := Manifests(m, image, "")
	if err != nil {
		return nil, err
	}
	one := int32(1)
	dep.Spec.Replicas = &one
	spec := &dep.Spec.Template.Spec
	for i := range spec.InitContainers {
		spec.InitContainers[i].RestartPolicy = nil
	}
	spec.Containers = append(spec.InitContainers, spec.Containers...)
	spec.InitContainers = nil
	served := &spec.Containers[len(spec.Containers)-1]
	if m.Front.Listen == "" {
		served.Ports = nil
		return dep, nil
	}
	host, p, _ := net.SplitHostPort(m.Front.Listen) // checked by module.Parse
	port, _ := strconv.Atoi(p)
	if host != "" && net.ParseIP(host) == nil {
		return nil, fmt.Errorf("module %s: %w: [front] listen %s: podman publishes on an IP address, not a host name", m.Name, ErrUnsupported, m.Front.Listen)
	}
	served.Ports[0].HostIP = host
	served.Ports[0].HostPort = int32(port)
	return dep, nil
}
