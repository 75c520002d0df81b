package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/alicorn-dev/alicorn/internal/kubetest"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update/rollout"
)

// Images by digest: KWOK pulls nothing, the digest decides how a pod
// behaves (kubetest.Fault).
func digest(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

var (
	v1, v2, v3                          = digest('1'), digest('2'), digest('3')
	neverReady, pending, crash, failing = digest('a'), digest('b'), digest('c'), digest('d')
	faults                              = map[string]kubetest.Fault{
		neverReady: kubetest.NeverReady, pending: kubetest.Pending, crash: kubetest.CrashLoop, failing: kubetest.FailsLater,
	}
)

func ref(d string) string { return "registry.example:5000/alicorn/web@" + d }

func webModule(t *testing.T, name string) module.Module {
	t.Helper()
	return policyModule(t, name, "rolling")
}

func policyModule(t *testing.T, name, policy string) module.Module {
	t.Helper()
	return moduleWith(t, name, policy, "4s")
}

func moduleWith(t *testing.T, name, policy, watch string) module.Module {
	t.Helper()
	m, err := module.Parse([]byte(fmt.Sprintf(`name = %q
image = "docker://registry.example:5000/alicorn/web:1"

[front]
listen = "127.0.0.1:8080"

[[containers]]
name = "content"
volumes = ["web-content:/srv/content"]

[[containers]]
name = "web"
serve = 80
replicas = 3
requires = ["content"]
volumes = ["web-content:/var/www/html:ro"]

[health]
path = "/"
interval = "1s"

[update]
policy = %q
ready-timeout = "5s"
watch = %q
`, name, policy, watch)), name+".toml")
	require.NoError(t, err)
	return m
}

type fixture struct {
	c  *kubetest.Cluster
	ns string
	r  *Rollout
}

func start(t *testing.T) *fixture {
	t.Parallel()
	c := kubetest.Start(t, faults)
	ns := c.Namespace(t, "modules")
	r := &Rollout{Client: c.Client, Namespace: ns, State: rollout.State{Dir: t.TempDir()},
		Log: func(e rollout.Event) {
			t.Logf("%s %s %s %s %s", e.Time.Format("15:04:05.000"), e.Module, e.Step, e.ID, e.Detail)
		}}
	return &fixture{c: c, ns: ns, r: r}
}

// observer records, from every change the apiserver reports while an
// update runs, the fewest available replicas of the Deployment and the
// fewest ready pods of the ReplicaSet that ran the old digest.
type observer struct {
	stop         func()
	done         chan struct{}
	minAvailable int32
	minOldReady  int32
	events       int
}

func observe(t *testing.T, client kubernetes.Interface, ns, name, old string) *observer {
	ctx, cancel := context.WithCancel(context.Background())
	o := &observer{stop: cancel, done: make(chan struct{}), minAvailable: 1 << 30, minOldReady: 1 << 30}
	sel := metav1.ListOptions{LabelSelector: module.Label + "=" + name}
	deps, err := client.AppsV1().Deployments(ns).Watch(ctx, sel)
	require.NoError(t, err)
	rss, err := client.AppsV1().ReplicaSets(ns).Watch(ctx, sel)
	require.NoError(t, err)
	go func() {
		defer close(o.done)
		defer deps.Stop()
		defer rss.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-deps.ResultChan():
				if d, ok := e.Object.(*appsv1.Deployment); ok {
					o.events++
					o.minAvailable = min(o.minAvailable, d.Status.AvailableReplicas)
				}
			case e := <-rss.ResultChan():
				if rs, ok := e.Object.(*appsv1.ReplicaSet); ok && templateImage(&rs.Spec.Template).Digest == old {
					o.events++
					o.minOldReady = min(o.minOldReady, rs.Status.ReadyReplicas)
				}
			}
		}
	}()
	t.Cleanup(cancel)
	return o
}

func (o *observer) end() *observer { o.stop(); <-o.done; return o }

func (f *fixture) deployment(t *testing.T, name string) *appsv1.Deployment {
	d, err := f.c.Client.AppsV1().Deployments(f.ns).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return d
}

// TestGoodUpdate deploys v1, then updates to v2: committed, with never
// fewer than 3 available replicas.
func TestGoodUpdate(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	m := webModule(t, "web")
	require.NoError(t, f.r.Apply(ctx, m, Image(ref(v1))))
	o := observe(t, f.c.Client, f.ns, "web", v1)
	begin := time.Now()
	require.NoError(t, f.r.Apply(ctx, m, Image(ref(v2))))
	took := time.Since(begin)
	o.end()
	t.Logf("apply → committed in %s; available replicas never below %d (%d changes watched)", took.Round(10*time.Millisecond), o.minAvailable, o.events)
	assert.GreaterOrEqual(t, o.minAvailable, int32(3))
	assert.Greater(t, o.events, 3)

	d, ok, err := f.r.State.Deployed("web")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, v2, d.Current.Digest)
	assert.Equal(t, v1, d.Previous.Digest)
	assert.Equal(t, ref(v2), f.deployment(t, "web").Spec.Template.Spec.Containers[0].Image)
	ins, err := f.r.Instances(ctx, m)
	require.NoError(t, err)
	assert.Len(t, ins, 3)
	for _, in := range ins {
		assert.Equal(t, v2, in.Image.Digest)
		assert.True(t, in.Running)
	}
	// Applying it again changes nothing.
	require.NoError(t, f.r.Apply(ctx, m, Image(ref(v2))))
	svc, err := f.c.Client.CoreV1().Services(f.ns).Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(8080), svc.Spec.Ports[0].Port)
}

// failedUpdate applies bad over v1 and checks it was rolled back, with
// the old ReplicaSet serving throughout when the failure shows before
// the rollout completes (oldServes); it returns the reason.
func failedUpdate(t *testing.T, bad string, oldServes bool) error {
	f := start(t)
	ctx := context.Background()
	m := webModule(t, "web")
	require.NoError(t, f.r.Apply(ctx, m, Image(ref(v1))))
	o := observe(t, f.c.Client, f.ns, "web", v1)
	begin := time.Now()
	err := f.r.Apply(ctx, m, Image(ref(bad)))
	took := time.Since(begin)
	o.end()
	var rb *rollout.RolledBackError
	require.ErrorAs(t, err, &rb, "%v", err)
	require.NoError(t, rb.Err)
	t.Logf("apply → rolled back in %s: %v; old ReplicaSet ready never below %d, available never below %d (%d changes watched)",
		took.Round(10*time.Millisecond), rb.Reason, o.minOldReady, o.minAvailable, o.events)
	if oldServes {
		assert.GreaterOrEqual(t, o.minOldReady, int32(3), "the old ReplicaSet served throughout")
		assert.GreaterOrEqual(t, o.minAvailable, int32(3))
	}

	d := f.deployment(t, "web")
	assert.Equal(t, ref(v1), d.Spec.Template.Spec.Containers[0].Image)
	assert.True(t, complete(d))
	dep, ok, err := f.r.State.Deployed("web")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, v1, dep.Current.Digest)
	failed, err := f.r.State.Failed("web", bad)
	require.NoError(t, err)
	assert.NotNil(t, failed, "the image is remembered as failed")
	u, err := f.r.State.ReadJournal("web")
	require.NoError(t, err)
	assert.Nil(t, u, "the journal is finished")
	return rb.Reason
}

func TestNeverReadyRolledBack(t *testing.T) {
	err := failedUpdate(t, neverReady, true)
	assert.Contains(t, err.Error(), "not ready within the ready timeout")
}

func TestProgressDeadlineRolledBack(t *testing.T) {
	err := failedUpdate(t, pending, true)
	assert.Contains(t, err.Error(), "progress deadline exceeded")
}

func TestCrashLoopRolledBack(t *testing.T) {
	err := failedUpdate(t, crash, true)
	assert.Contains(t, err.Error(), "CrashLoopBackOff")
}

func TestWatchWindowRolledBack(t *testing.T) {
	// The new pods fail 3 s after they got ready, once the old
	// ReplicaSet was scaled down: the rollout brings it back.
	err := failedUpdate(t, failing, false)
	assert.Contains(t, err.Error(), "within the watch window")
}

// TestTwoModules updates two modules at once.
func TestTwoModules(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	a, b := webModule(t, "alpha"), webModule(t, "beta")
	require.NoError(t, f.r.Apply(ctx, a, Image(ref(v1))))
	require.NoError(t, f.r.Apply(ctx, b, Image(ref(v1))))
	begin := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, step := range []struct {
		m module.Module
		d string
	}{{a, v2}, {b, neverReady}} {
		wg.Go(func() { errs[i] = f.r.Apply(ctx, step.m, Image(ref(step.d))) })
	}
	wg.Wait()
	t.Logf("both done in %s: %v, %v", time.Since(begin).Round(10*time.Millisecond), errs[0], errs[1])
	assert.NoError(t, errs[0])
	var rb *rollout.RolledBackError
	assert.ErrorAs(t, errs[1], &rb)
	assert.Equal(t, ref(v2), f.deployment(t, "alpha").Spec.Template.Spec.Containers[0].Image)
	assert.Equal(t, ref(v1), f.deployment(t, "beta").Spec.Template.Spec.Containers[0].Image)
}

// TestInterruptedThenRecover cancels an update mid-rollout (undone, not
// remembered as failed), then leaves one unfinished in the journal as a
// killed updater would and recovers it.
func TestInterruptedThenRecover(t *testing.T) {
	f := start(t)
	m := webModule(t, "web")
	require.NoError(t, f.r.Apply(context.Background(), m, Image(ref(v1))))

	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	err := f.r.Apply(ctx, m, Image(ref(v3)))
	require.ErrorIs(t, err, rollout.ErrInterrupted)
	failed, err := f.r.State.Failed("web", v3)
	require.NoError(t, err)
	assert.Nil(t, failed)
	assert.Equal(t, ref(v1), f.deployment(t, "web").Spec.Template.Spec.Containers[0].Image)

	// A journal left by a killed updater: begun towards v3, applied.
	j, err := f.r.State.OpenJournal("web")
	require.NoError(t, err)
	from, to := Image(ref(v1)), Image(ref(v3))
	require.NoError(t, j.Write(rollout.Record{Op: "begin", From: &from, To: &to, Policy: "rolling"}))
	dep, svc, err := Manifests(m, ref(v3), f.ns)
	require.NoError(t, err)
	ru := &run{Rollout: f.r, m: m, j: j, to: to}
	require.NoError(t, ru.applyService(context.Background(), svc))
	require.NoError(t, ru.applyDeployment(context.Background(), dep))
	j.Close()

	begin := time.Now()
	require.NoError(t, f.r.Recover(context.Background(), m))
	t.Logf("recover → rolled back in %s", time.Since(begin).Round(10*time.Millisecond))
	d := f.deployment(t, "web")
	assert.Equal(t, ref(v1), d.Spec.Template.Spec.Containers[0].Image)
	assert.True(t, complete(d))
	u, err := f.r.State.ReadJournal("web")
	require.NoError(t, err)
	assert.Nil(t, u)

	// Changed by hand (kubectl set image: the annotation stays): recover
	// puts the committed image back.
	_, err = f.c.Client.AppsV1().Deployments(f.ns).Patch(context.Background(), "web", "application/strategic-merge-patch+json",
		[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"`+ref(v2)+`"}]}}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, f.r.Recover(context.Background(), m))
	assert.Equal(t, ref(v1), f.deployment(t, "web").Spec.Template.Spec.Containers[0].Image)
	assert.False(t, errors.Is(err, rollout.ErrBusy))
}

// TestPolicyRollouts updates with each policy: blue-green surges a whole new
// set (never below 3 available), recreate stops the old pods first (the
// downtime it documents).
func TestPolicyRollouts(t *testing.T) {
	for _, tc := range []struct {
		policy       string
		minAvailable int32
	}{{"blue-green", 3}, {"recreate", 0}} {
		t.Run(tc.policy, func(t *testing.T) {
			f := start(t)
			ctx := context.Background()
			m := policyModule(t, "web", tc.policy)
			require.NoError(t, f.r.Apply(ctx, m, Image(ref(v1))))
			o := observe(t, f.c.Client, f.ns, "web", v1)
			begin := time.Now()
			require.NoError(t, f.r.Apply(ctx, m, Image(ref(v2))))
			took := time.Since(begin)
			o.end()
			t.Logf("%s: apply → committed in %s; available replicas never below %d (%d changes watched)", tc.policy, took.Round(10*time.Millisecond), o.minAvailable, o.events)
			assert.Equal(t, tc.minAvailable, o.minAvailable)
			assert.Equal(t, ref(v2), f.deployment(t, "web").Spec.Template.Spec.Containers[0].Image)

			// And back, by the same undo a failure takes.
			err := f.r.Apply(ctx, m, Image(ref(neverReady)))
			var rb *rollout.RolledBackError
			require.ErrorAs(t, err, &rb)
			assert.Equal(t, ref(v2), f.deployment(t, "web").Spec.Template.Spec.Containers[0].Image)
		})
	}
}

// patch changes the Deployment as kubectl would.
func (f *fixture) patch(t *testing.T, name, patch string) {
	t.Helper()
	_, err := f.c.Client.AppsV1().Deployments(f.ns).Patch(context.Background(), name, "application/strategic-merge-patch+json", []byte(patch), metav1.PatchOptions{})
	require.NoError(t, err)
}

// TestNotTheImage: what the cluster refuses, or another client does,
// is not blamed on the image.
func TestNotTheImage(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	m := webModule(t, "web")

	// A namespace that does not exist: refused before anything changes.
	other := *f.r
	other.Namespace = "nope"
	err := other.Apply(ctx, m, Image(ref(v1)))
	require.ErrorContains(t, err, "namespace nope does not exist")
	u, err := f.r.State.ReadJournal("web")
	require.NoError(t, err)
	assert.Nil(t, u)

	// The first deployment of a never-ready image is undone with its
	// Service.
	var rb *rollout.RolledBackError
	require.ErrorAs(t, f.r.Apply(ctx, m, Image(ref(neverReady))), &rb)
	_, err = f.c.Client.CoreV1().Services(f.ns).Get(ctx, "web", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "%v", err)

	// Another client changes the image mid-rollout: the update is
	// abandoned (the Deployment is theirs now), v2 not remembered as
	// failed, the journal finished.
	require.NoError(t, f.r.Apply(ctx, m, Image(ref(v1))))
	done := make(chan error, 1)
	go func() { done <- f.r.Apply(ctx, m, Image(ref(v2))) }()
	require.Eventually(t, func() bool { return f.deployment(t, "web").Spec.Template.Spec.Containers[0].Image == ref(v2) }, 10*time.Second, 20*time.Millisecond)
	f.patch(t, "web", `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"`+ref(v3)+`"}]}}}}`)
	err = <-done
	assert.ErrorContains(t, err, "update abandoned")
	assert.ErrorContains(t, err, "changed to "+v3+" by another client")
	failed, err := f.r.State.Failed("web", v2)
	require.NoError(t, err)
	assert.Nil(t, failed)
	assert.Equal(t, ref(v3), f.deployment(t, "web").Spec.Template.Spec.Containers[0].Image)
	u, err = f.r.State.ReadJournal("web")
	require.NoError(t, err)
	assert.Nil(t, u)
	require.NoError(t, f.r.Recover(ctx, m), "recover puts the committed image back")
	assert.Equal(t, ref(v1), f.deployment(t, "web").Spec.Template.Spec.Containers[0].Image)

	// Paused: refused before anything changes.
	f.patch(t, "web", `{"spec":{"paused":true}}`)
	require.ErrorContains(t, f.r.Apply(ctx, m, Image(ref(v2))), "is paused")
	f.patch(t, "web", `{"spec":{"paused":false}}`)
}

// TestStaleDeadline: a Deployment left stuck past its progress deadline
// keeps the condition when its template goes back to an existing
// ReplicaSet; that condition is not the new rollout's failure.
func TestStaleDeadline(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	m := webModule(t, "web")
	require.NoError(t, f.r.Apply(ctx, m, Image(ref(v1))))
	require.NoError(t, f.r.Apply(ctx, m, Image(ref(v2))))
	f.patch(t, "web", `{"spec":{"template":{"metadata":{"annotations":{"io.alicorn.digest":"`+pending+`"}},"spec":{"containers":[{"name":"web","image":"`+ref(pending)+`"}]}}}}`)
	require.Eventually(t, func() bool {
		for _, c := range f.deployment(t, "web").Status.Conditions {
			if c.Reason == "ProgressDeadlineExceeded" {
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond)
	require.NoError(t, f.r.Apply(ctx, m, Image(ref(v1))), "v1's ReplicaSet exists: the stale condition is another's")
	assert.Equal(t, ref(v1), f.deployment(t, "web").Spec.Template.Spec.Containers[0].Image)
}

// TestLease: two updaters (other hosts, other state directories) never
// update one module at once.
func TestLease(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	m := webModule(t, "web")
	require.NoError(t, f.r.Apply(ctx, m, Image(ref(v1))))
	_, unlock, err := f.r.lock(ctx, m)
	require.NoError(t, err)
	second := &Rollout{Client: f.c.Client, Namespace: f.ns, State: rollout.State{Dir: t.TempDir()}, Holder: "host-b"}
	err = second.Apply(ctx, m, Image(ref(v2)))
	require.ErrorIs(t, err, rollout.ErrBusy)
	assert.ErrorContains(t, err, "lease "+f.ns+"/alicorn-module-web")
	unlock()
	require.NoError(t, second.Apply(ctx, m, Image(ref(v2))))
	_, err = f.c.Client.CoordinationV1().Leases(f.ns).Get(ctx, "alicorn-module-web", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "released: %v", err)
}

// TestBlamelessResumed: a rollback that says nothing against the image,
// interrupted and finished by recover, does not mark the image failed.
func TestBlamelessResumed(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	m := webModule(t, "web")
	require.NoError(t, f.r.Apply(ctx, m, Image(ref(v1))))
	j, err := f.r.State.OpenJournal("web")
	require.NoError(t, err)
	from, to := Image(ref(v1)), Image(ref(v2))
	require.NoError(t, j.Write(rollout.Record{Op: "begin", From: &from, To: &to, Policy: "rolling"}))
	require.NoError(t, j.Write(rollout.Record{Op: "rollback", Detail: "no progress for 2m", Blameless: true}))
	j.Close()
	require.NoError(t, f.r.Recover(ctx, m))
	failed, err := f.r.State.Failed("web", v2)
	require.NoError(t, err)
	assert.Nil(t, failed)
}

// TestExistingByTag: a Deployment made by hand, its image named by tag,
// is not deleted (nor its Service) when the first update fails: it goes
// back to that tag.
func TestExistingByTag(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	m := webModule(t, "web")
	dep, svc, err := Manifests(m, "registry.example:5000/alicorn/web:1", f.ns)
	require.NoError(t, err)
	_, err = f.c.Client.AppsV1().Deployments(f.ns).Create(ctx, dep, metav1.CreateOptions{FieldManager: "kubectl-create"})
	require.NoError(t, err)
	_, err = f.c.Client.CoreV1().Services(f.ns).Create(ctx, svc, metav1.CreateOptions{FieldManager: "kubectl-create"})
	require.NoError(t, err)
	var rb *rollout.RolledBackError
	require.ErrorAs(t, f.r.Apply(ctx, m, Image(ref(neverReady))), &rb)
	assert.Equal(t, "registry.example:5000/alicorn/web:1", f.deployment(t, "web").Spec.Template.Spec.Containers[0].Image)
	_, err = f.c.Client.CoreV1().Services(f.ns).Get(ctx, "web", metav1.GetOptions{})
	assert.NoError(t, err)
}

// TestLeaseLost: an update whose lease another updater takes (it
// lapsed, say, while this one was cut off) stops at the next renewal,
// abandoned to the new holder: nothing undone, the image not blamed.
func TestLeaseLost(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	require.NoError(t, f.r.Apply(ctx, webModule(t, "web"), Image(ref(v1))))
	m := moduleWith(t, "web", "rolling", "20s") // still watching when the lease is taken
	done := make(chan error, 1)
	begin := time.Now()
	go func() { done <- f.r.Apply(ctx, m, Image(ref(v2))) }()
	leases := f.c.Client.CoordinationV1().Leases(f.ns)
	require.Eventually(t, func() bool {
		l, err := leases.Get(ctx, "alicorn-module-web", metav1.GetOptions{})
		if err != nil {
			return false
		}
		other := "host-b"
		l.Spec.HolderIdentity = &other
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
		return err == nil
	}, 10*time.Second, 50*time.Millisecond)
	err := <-done
	t.Logf("abandoned after %s: %v", time.Since(begin).Round(10*time.Millisecond), err)
	assert.ErrorContains(t, err, "update abandoned")
	assert.ErrorContains(t, err, "held by \"host-b\"")
	assert.Equal(t, ref(v2), f.deployment(t, "web").Spec.Template.Spec.Containers[0].Image, "left to the new holder")
	failed, err := f.r.State.Failed("web", v2)
	require.NoError(t, err)
	assert.Nil(t, failed)
	u, err := f.r.State.ReadJournal("web")
	require.NoError(t, err)
	assert.Nil(t, u)
	l, err := leases.Get(ctx, "alicorn-module-web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "host-b", *l.Spec.HolderIdentity, "another's lease is not released")
}
