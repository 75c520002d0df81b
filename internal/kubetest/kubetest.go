// Package kubetest starts a real Kubernetes control plane on loopback
// for tests: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler, with KWOK standing in for the kubelets of one fake
// node. The binaries are the ones .ci/kube-build builds from the Go
// module proxy into its cache.
//
// KWOK makes pods Ready as a kubelet would; a pod whose image (its
// template's io.alicorn.digest annotation) is given a Fault behaves
// like a broken image instead.
package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Fault is how the pods of an image misbehave.
type Fault string

const (
	// NeverReady pods run but never pass their readiness probe.
	NeverReady Fault = "never-ready"
	// Pending pods are never started (an image that cannot be pulled,
	// a node that never takes them): only the progress deadline tells.
	Pending Fault = "pending"
	// CrashLoop pods keep crashing (CrashLoopBackOff).
	CrashLoop Fault = "crash-loop"
	// FailsLater pods get ready, then after 3 s are not ready any more
	// and restart.
	FailsLater Fault = "fails-later"
)

// Cluster is a running control plane.
type Cluster struct {
	// Kubeconfig is the path of a kubeconfig file for it.
	Kubeconfig string
	Client     kubernetes.Interface
	Dir        string
	procs      []*exec.Cmd // in start order; stopped in reverse
}

// Bin returns the directory of the built binaries: $ALICORN_KUBE_BIN,
// else where the module's .ci/kube-build puts them (the module found by
// go list -m from the working directory). Outside CI it skips the test
// when they are not built (CI builds them first: .ci/run), or when run
// outside the module without ALICORN_KUBE_BIN.
func Bin(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("ALICORN_KUBE_BIN"); d != "" {
		return d
	}
	missing := func(msg string) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	roots, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("finding the module root: %v", err)
	}
	script := ""
	for _, dir := range strings.Split(string(roots), "\n") { // one line a module in a workspace
		s := filepath.Join(strings.TrimSpace(dir), ".ci", "kube-build")
		if fi, err := os.Stat(s); strings.TrimSpace(dir) != "" && err == nil && fi.Mode().IsRegular() {
			script = s
			break
		}
	}
	if script == "" {
		wd, _ := os.Getwd()
		missing(fmt.Sprintf("needs the Kubernetes binaries: set ALICORN_KUBE_BIN to their directory (.ci/kube-build prints it), "+
			"or run the test inside the alicorn module (in %s, go list -m finds no module with .ci/kube-build)", wd))
	}
	out, err := exec.Command(script, "--path").Output()
	if err != nil {
		missing(fmt.Sprintf("needs the Kubernetes binaries: run .ci/kube-build (about 14 minutes once) (%v)", err))
	}
	return strings.TrimSpace(string(out))
}

// Start runs a cluster until the test ends; faults maps image digests to
// their Fault.
func Start(t testing.TB, faults map[string]Fault) *Cluster {
	t.Helper()
	bin := Bin(t)
	dir, err := os.MkdirTemp("", "kubetest-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Dir: dir}
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			t.Logf("control plane logs kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	if err := c.start(bin, faults); err != nil {
		t.Fatal(err)
	}
	return c
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (c *Cluster) run(bin, name string, args ...string) error {
	logf, err := os.Create(filepath.Join(c.Dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", name, err)
	}
	logf.Close()
	c.procs = append(c.procs, cmd)
	return nil
}

// stop stops the components in reverse order: the apiserver before
// etcd.
func (c *Cluster) stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		p.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.Process.Kill()
			<-done
		}
	}
	c.procs = nil
}

func (c *Cluster) start(bin string, faults map[string]Fault) error {
	ports := make([]string, 3)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return err
		}
		ports[i] = p
	}
	etcdClient, etcdPeer, api := ports[0], ports[1], ports[2]
	if err := c.run(bin, "etcd",
		"--name=default", "--data-dir="+filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls=http://"+etcdClient, "--advertise-client-urls=http://"+etcdClient,
		"--listen-peer-urls=http://"+etcdPeer, "--initial-advertise-peer-urls=http://"+etcdPeer,
		"--initial-cluster=default=http://"+etcdPeer, "--unsafe-no-fsync", "--log-level=warn"); err != nil {
		return err
	}

	token := make([]byte, 16)
	rand.Read(token)
	tok := hex.EncodeToString(token)
	if err := os.WriteFile(filepath.Join(c.Dir, "tokens.csv"), []byte(tok+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	saKey, saPub := filepath.Join(c.Dir, "sa.key"), filepath.Join(c.Dir, "sa.pub")
	if err := os.WriteFile(saKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(saPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(api)
	if err := c.run(bin, "kube-apiserver",
		"--etcd-servers=http://"+etcdClient,
		"--bind-address="+host, "--secure-port="+port, "--advertise-address="+host,
		"--endpoint-reconciler-type=none", "--authorization-mode=AlwaysAllow",
		"--token-auth-file="+filepath.Join(c.Dir, "tokens.csv"),
		"--service-account-key-file="+saPub, "--service-account-signing-key-file="+saKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--cert-dir="+filepath.Join(c.Dir, "certs"),
		"--service-cluster-ip-range=10.96.0.0/16"); err != nil {
		return err
	}
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://%s
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: %s
contexts:
- name: test
  context:
    cluster: test
    user: admin
current-context: test
`, api, tok)
	if err := os.WriteFile(c.Kubeconfig, []byte(kc), 0o600); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	c.Client = client
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := until(ctx, "the apiserver ready", func() error {
		b, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && !bytes.Equal(b, []byte("ok")) {
			err = fmt.Errorf("%s", b)
		}
		return err
	}); err != nil {
		return err
	}

	if err := c.run(bin, "kube-controller-manager", "--kubeconfig="+c.Kubeconfig, "--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port=0", "--service-account-private-key-file="+saKey,
		"--use-service-account-credentials=false"); err != nil {
		return err
	}
	if err := c.run(bin, "kube-scheduler", "--kubeconfig="+c.Kubeconfig, "--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port=0"); err != nil {
		return err
	}
	stages := filepath.Join(c.Dir, "stages.yaml")
	if err := os.WriteFile(stages, []byte(Stages(faults)), 0o644); err != nil {
		return err
	}
	if err := c.run(bin, "kwok", "--kubeconfig="+c.Kubeconfig, "--config="+stages,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-lease-duration-seconds=40", "--cidr=10.244.0.0/16", "--node-ip=127.0.0.1"); err != nil {
		return err
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "kwok-node-0",
		Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
		Labels:      map[string]string{"kubernetes.io/hostname": "kwok-node-0", "type": "kwok"}}}
	if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the fake node: %w", err)
	}
	return until(ctx, "the fake node and the default service account", func() error {
		n, err := client.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		readyNode := false
		for _, c := range n.Status.Conditions {
			readyNode = readyNode || c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
		}
		if !readyNode {
			return fmt.Errorf("node %s not ready", n.Name)
		}
		_, err = client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}

// Namespace creates a namespace and waits for its default service
// account (pods are refused before it exists).
func (c *Cluster) Namespace(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := until(ctx, "the default service account of "+name, func() error {
		_, err := c.Client.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return name
}

func until(ctx context.Context, what string, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
