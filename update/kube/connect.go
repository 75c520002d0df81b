package kube

import (
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/alicorn-dev/alicorn/module/kubemodules"
)

// Connect returns a Rollout for the cluster of a kubeconfig and the
// namespace to work in, found as kubectl finds them (kubemodules.Load):
// kubeconfig, else $KUBECONFIG, else ~/.kube/config; namespace, else the
// current context's, else "default".
func Connect(kubeconfig, namespace string) (*Rollout, error) {
	cfg, ns, where, err := kubemodules.Load(kubeconfig)
	if err != nil {
		return nil, err
	}
	if namespace == "" {
		namespace = ns
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: server %s (kubeconfig %s): %w", cfg.Host, where, err)
	}
	return &Rollout{Client: client, Namespace: namespace, Server: cfg.Host}, nil
}
