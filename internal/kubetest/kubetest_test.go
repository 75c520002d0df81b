package kubetest

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestStart brings the control plane up to a Ready fake node.
func TestStart(t *testing.T) {
	begin := time.Now()
	c := Start(t, map[string]Fault{"sha256:bad": NeverReady})
	t.Logf("control plane and a Ready node in %s", time.Since(begin).Round(10*time.Millisecond))
	nodes, err := c.Client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 1 {
		t.Fatalf("%d nodes, want 1", len(nodes.Items))
	}
}
