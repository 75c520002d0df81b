package kubetest

import (
	"context"
	"fmt"
	"strings"
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

// stopped is a testing.TB whose Skip and Fatal stop by panicking with
// what they were told.
type stopped struct {
	testing.TB
}

type stop struct {
	skip bool
	msg  string
}

func (stopped) Helper()                      {}
func (stopped) Skip(args ...any)             { panic(stop{true, fmt.Sprint(args...)}) }
func (stopped) Fatal(args ...any)            { panic(stop{false, fmt.Sprint(args...)}) }
func (stopped) Fatalf(f string, args ...any) { panic(stop{false, fmt.Sprintf(f, args...)}) }

// TestBinOutsideModule: run outside the module without ALICORN_KUBE_BIN,
// Bin says what to do rather than failing to run a relative
// .ci/kube-build.
func TestBinOutsideModule(t *testing.T) {
	t.Setenv("ALICORN_KUBE_BIN", "")
	t.Setenv("GOWORK", "off")
	t.Chdir(t.TempDir())
	for ci, skip := range map[string]bool{"": true, "true": false} {
		t.Setenv("CI", ci)
		got := func() (s stop) {
			defer func() { s, _ = recover().(stop) }()
			Bin(stopped{t})
			return stop{}
		}()
		if got.skip != skip || !strings.Contains(got.msg, "set ALICORN_KUBE_BIN") || !strings.Contains(got.msg, "inside the alicorn module") {
			t.Errorf("CI=%q: %+v", ci, got)
		}
	}
}
