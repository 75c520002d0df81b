package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/rollout"
)

// FieldManager is the server-side apply manager of the objects Rollout
// applies.
const FieldManager = "alicorn"

// revisionAnnotation is where the Deployment controller numbers a
// ReplicaSet's revision (kubectl rollout history).
const revisionAnnotation = "deployment.kubernetes.io/revision"

// Rollout updates modules that run as Deployments in a namespace of a
// cluster, with the lifecycle update/rollout gives them on a host: the
// same lock, journal, committed state and remembered failures in State,
// and a Lease in the cluster so that updaters on other hosts keep off.
// The Deployment controller replaces the pods; Rollout applies the new
// image by server-side apply, watches the rollout (the Deployment's
// conditions, its ReplicaSets' ready and available replicas, the new
// pods), and on failure puts the old image's pod template back, as
// kubectl rollout undo does, which Kubernetes never does by itself. An
// update whose Deployment another client changes meanwhile is abandoned
// to it, not undone.
//
// It needs, in its namespace: deployments get, list, watch, patch,
// update, delete; replicasets and pods list, watch; services get, patch,
// delete; leases get, create, update, delete; and namespaces get
// (optional: without it a missing namespace is not told apart).
type Rollout struct {
	Client kubernetes.Interface
	// Namespace holds the modules' Deployments ("" is "default").
	Namespace string
	// Server is the API server's address; with Namespace it names the
	// cluster's modules apart from another's and from this host's
	// (Scope).
	Server string
	// State is where journals, locks and committed digests are kept
	// (update/updater keeps them under Scope).
	State rollout.State
	// Log receives every step (nil: none).
	Log func(rollout.Event)
	// Holder names this updater in the module's lease (default: made
	// once per state directory, HOSTNAME-RANDOM): another updater, on
	// this host or another, does not update the module while the lease
	// is held.
	Holder string
}

// Scope names the namespace of the cluster the modules are in, as a
// file name: update/updater keeps this cluster's journals, locks and
// committed digests in a directory of that name, apart from another
// cluster's, another namespace's and this host's own containers'.
func (r *Rollout) Scope() string {
	clean := func(s string) string {
		return strings.Map(func(c rune) rune {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
				return c
			}
			return '_'
		}, s)
	}
	server := r.Server
	if u, err := url.Parse(r.Server); err == nil && u.Host != "" {
		server = u.Host + strings.TrimSuffix(u.Path, "/") // clusters behind one proxy differ by path
	}
	return clean(r.namespace()) + "@" + clean(server)
}

func (r *Rollout) namespace() string {
	if r.Namespace == "" {
		return metav1.NamespaceDefault
	}
	return r.Namespace
}

func (r *Rollout) log(m, step, id, detail string) {
	if r.Log != nil {
		r.Log(rollout.Event{Time: time.Now().UTC(), Module: m, Step: step, ID: id, Detail: detail})
	}
}

// Image is the image of digest as a Deployment names it (update.Image's
// ID is the reference by digest: the cluster pulls it, not this host).
func Image(ref string) update.Image {
	_, d, _ := strings.Cut(ref, "@")
	return update.Image{ID: ref, Digest: d}
}

// Expected is how many pods m's Deployment runs.
func Expected(m module.Module) int {
	for _, c := range m.Containers {
		if c.Serve > 0 {
			return max(c.Replicas, 1)
		}
	}
	return 0
}

// Instances lists m's pods: ID and Name are the pod's name, Image the
// image its template names (by digest), Addr the pod's IP and served
// port, Running whether it runs.
func (r *Rollout) Instances(ctx context.Context, m module.Module) ([]update.Instance, error) {
	pods, err := r.Client.CoreV1().Pods(r.namespace()).List(ctx, metav1.ListOptions{LabelSelector: module.Label + "=" + m.Name})
	if err != nil {
		return nil, fmt.Errorf("module %s: listing pods in %s: %w", m.Name, r.namespace(), err)
	}
	if len(pods.Items) == 0 {
		if err := r.checkNamespace(ctx); err != nil {
			return nil, fmt.Errorf("module %s: %w", m.Name, err)
		}
	}
	var out []update.Instance
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue // on its way out
		}
		in := update.Instance{ID: p.Name, Name: p.Name, Image: podImage(&p), Running: p.Status.Phase == corev1.PodRunning}
		if len(p.Spec.Containers) > 0 {
			main := p.Spec.Containers[0]
			in.Container = main.Name
			if p.Status.PodIP != "" && len(main.Ports) > 0 {
				in.Addr = fmt.Sprintf("%s:%d", p.Status.PodIP, main.Ports[0].ContainerPort)
			}
		}
		out = append(out, in)
	}
	return out, nil
}

// podImage is the image a pod runs: its main container's reference
// and the digest in it ("" for a reference by tag), not the
// io.alicorn.digest annotation, which a hand edit leaves behind.
func podImage(p *corev1.Pod) update.Image { return specImage(&p.Spec) }

func templateImage(t *corev1.PodTemplateSpec) update.Image { return specImage(&t.Spec) }

func specImage(s *corev1.PodSpec) update.Image {
	if len(s.Containers) == 0 {
		return update.Image{}
	}
	img := Image(s.Containers[0].Image)
	if !strings.HasPrefix(img.Digest, "sha256:") {
		img.Digest = ""
	}
	return img
}

// checkNamespace fails when the namespace does not exist (listing in it
// would only find nothing).
func (r *Rollout) checkNamespace(ctx context.Context) error {
	_, err := r.Client.CoreV1().Namespaces().Get(ctx, r.namespace(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("namespace %s does not exist", r.namespace())
	}
	if err != nil && !apierrors.IsForbidden(err) { // a Role without namespaces: no check

		return fmt.Errorf("namespace %s: %w", r.namespace(), err)
	}
	return nil
}

// current is m's committed image: the state's, else the one its
// Deployment's template names, else none (a first deployment).
func (r *Rollout) current(ctx context.Context, m module.Module) (update.Image, error) {
	d, ok, err := r.State.Deployed(m.Name)
	if err != nil || ok {
		return d.Current, err
	}
	dep, err := r.Client.AppsV1().Deployments(r.namespace()).Get(ctx, m.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return update.Image{}, nil
	}
	if err != nil {
		return update.Image{}, fmt.Errorf("reading deployment %s/%s: %w", r.namespace(), m.Name, err)
	}
	return templateImage(&dep.Spec.Template), nil
}

// Apply rolls m's Deployment to img (Image(ref)), watches it, and
// commits; on failure it undoes the rollout and returns a
// *rollout.RolledBackError. An unfinished update of m is recovered
// first.
func (r *Rollout) Apply(ctx context.Context, m module.Module, img update.Image) (err error) {
	defer named(m.Name, &err)
	if m.Update.Policy == "manual" {
		return rollout.ErrManual
	}
	// What the cluster would refuse, or cannot roll, is said before
	// anything changes: no journal, no image blamed.
	if _, _, err := Manifests(m, img.ID, r.namespace()); err != nil {
		return err
	}
	if err := r.checkNamespace(ctx); err != nil {
		return err
	}
	ctx, unlock, err := r.lock(ctx, m)
	if err != nil {
		return err
	}
	defer unlock()
	if err := r.recover(ctx, m); err != nil {
		return fmt.Errorf("recovering the last update: %w", err)
	}
	from, err := r.current(ctx, m)
	if err != nil {
		return err
	}
	if err := r.notPaused(ctx, m); err != nil {
		return err
	}
	if from.Digest == img.Digest {
		if done, _ := r.rolledOut(ctx, m, img); done {
			r.log(m.Name, "current", "", img.Digest)
			return nil
		}
	}
	j, err := r.State.OpenJournal(m.Name)
	if err != nil {
		return err
	}
	defer j.Close()
	ru := &run{Rollout: r, m: m, j: j, to: img}
	if err := j.Write(rollout.Record{Op: "begin", From: &from, To: &img, Policy: m.Update.Policy}); err != nil {
		return err
	}
	r.log(m.Name, "begin", "", fmt.Sprintf("%s → %s (%s)", orNone(from.Digest), img.Digest, m.Update.Policy))
	err = ru.forward(ctx, img)
	var other *otherClient
	switch {
	case err == nil:
		return ru.commit(from, img)
	case errors.Is(context.Cause(ctx), errLeaseLost) || errors.As(err, &other):
		// Another updater or a person has the Deployment now: it is
		// theirs, not undone.
		if err := ru.j.Write(rollout.Record{Op: "rollback", Detail: err.Error(), Blameless: true}); err != nil {
			return err
		}
		if err := ru.end("abandoned"); err != nil {
			return err
		}
		return fmt.Errorf("update abandoned, the deployment left as it is: %w", err)
	case ctx.Err() != nil:
		err = fmt.Errorf("%w: %w", rollout.ErrInterrupted, context.Cause(ctx))
	}
	return ru.rollback(ctx, from, err)
}

// Recover finishes or undoes m's unfinished update, or, with none, puts
// the committed image back in a Deployment changed since (by hand, by
// another tool).
func (r *Rollout) Recover(ctx context.Context, m module.Module) (err error) {
	defer named(m.Name, &err)
	if err := r.checkNamespace(ctx); err != nil {
		return err
	}
	ctx, unlock, err := r.lock(ctx, m)
	if err != nil {
		return err
	}
	defer unlock()
	return r.State.Recover(ctx, m.Name, r.resumer(m))
}

// recover handles an unfinished journal, under the lock.
func (r *Rollout) recover(ctx context.Context, m module.Module) error {
	return r.State.Resume(ctx, m.Name, r.resumer(m))
}

// resumer is how State.Resume and State.Recover drive m's Deployment.
func (r *Rollout) resumer(m module.Module) rollout.Resumer {
	return rollout.Resumer{
		Converge: func(ctx context.Context, j *rollout.Journal, img update.Image) error {
			return (&run{Rollout: r, m: m, j: j, to: img}).undo(ctx, img)
		},
		Commit: func(_ context.Context, j *rollout.Journal, from, to update.Image) error {
			return (&run{Rollout: r, m: m, j: j, to: to}).commit(from, to)
		},
		End:       func(j *rollout.Journal, outcome string) error { return (&run{Rollout: r, m: m, j: j}).end(outcome) },
		Log:       func(step, detail string) { r.log(m.Name, step, "", detail) },
		Converged: func(ctx context.Context, img update.Image) (bool, error) { return r.rolledOut(ctx, m, img) },
	}
}

// rolledOut reports whether m's Deployment runs img and nothing else.
func (r *Rollout) rolledOut(ctx context.Context, m module.Module, img update.Image) (bool, error) {
	dep, err := r.Client.AppsV1().Deployments(r.namespace()).Get(ctx, m.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return img.ID == "", nil
	}
	if err != nil {
		return false, fmt.Errorf("reading deployment %s/%s: %w", r.namespace(), m.Name, err)
	}
	return img.ID != "" && templateImage(&dep.Spec.Template).ID == img.ID && complete(dep), nil
}

// complete is kubectl rollout status's test: the controller has seen
// the last change, and every replica is updated and available, none
// old left.
func complete(d *appsv1.Deployment) bool {
	want := ptrOr(d.Spec.Replicas, 1)
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want
}

// run is one rollout of one module.
type run struct {
	*Rollout
	m  module.Module
	j  *rollout.Journal
	to update.Image
}

func (ru *run) end(outcome string) error {
	if err := ru.j.Write(rollout.Record{Op: "end", Detail: outcome}); err != nil {
		return err
	}
	ru.log(ru.m.Name, outcome, "", "")
	return ru.j.Finish()
}

func (ru *run) commit(from, to update.Image) error {
	if err := ru.j.Write(rollout.Record{Op: "commit"}); err != nil {
		return err
	}
	if err := ru.State.Commit(ru.m.Name, from, to); err != nil {
		return err
	}
	return ru.end("committed")
}

func (ru *run) rollback(ctx context.Context, from update.Image, reason error) error {
	// The undo runs even when ctx was cancelled, with a bound of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	ru.log(ru.m.Name, "rollback", "", reason.Error())
	e := &rollout.RolledBackError{Module: ru.m.Name, Reason: reason}
	var other *notTheImage
	blameless := errors.Is(reason, rollout.ErrInterrupted) || errors.As(reason, &other)
	if err := ru.j.Write(rollout.Record{Op: "rollback", Detail: reason.Error(), Blameless: blameless}); err != nil {
		e.Err = err
		return e
	}
	if err := ru.undo(ctx, from); err != nil {
		e.Err = err
		return e
	}
	if err := ru.end("rolled back"); err != nil {
		e.Err = err
	}
	if blameless {
		return e // nothing says the image is bad
	}
	if err := ru.State.AddFailure(ru.m.Name, rollout.Failure{Digest: ru.to.Digest, Reason: reason.Error(), Time: time.Now().UTC()}); err != nil && e.Err == nil {
		e.Err = err
	}
	return e
}

// forward applies img and watches the rollout to its end, then for the
// module's watch window.
func (ru *run) forward(ctx context.Context, img update.Image) error {
	dep, svc, err := Manifests(ru.m, img.ID, ru.namespace())
	if err != nil {
		return err
	}
	if err := ru.applyService(ctx, svc); err != nil {
		return &notTheImage{err}
	}
	if err := ru.applyDeployment(ctx, dep); err != nil {
		return &notTheImage{err}
	}
	// A rollout that shows no progress for longer than the progress
	// deadline, the ready timeout and the watch window together (and a
	// minute) is stuck on the cluster (a controller down), not on the
	// image; a slow one that progresses pod by pod is not.
	ready := ru.m.Update.ReadyTimeoutOr(ru.m.Health)
	stall := time.Duration(ptrOr(dep.Spec.ProgressDeadlineSeconds, 600))*time.Second + ready + ru.m.Update.WatchOr() + time.Minute
	w := &watcher{m: ru.m, digest: img.Digest, readyTimeout: ready}
	return ru.wait(ctx, w.rollout, stall)
}

// otherClient is the failure of an update whose Deployment another
// client changed, paused or deleted meanwhile: theirs now, not undone.
type otherClient struct{ err error }

func (e *otherClient) Error() string { return e.err.Error() }
func (e *otherClient) Unwrap() error { return e.err }

// notTheImage is a failure of an update that says nothing about its
// image (the cluster refused a change, another client changed the
// Deployment, the controller does not act): it is rolled back, not
// remembered as failed.
type notTheImage struct{ err error }

func (e *notTheImage) Error() string { return e.err.Error() }
func (e *notTheImage) Unwrap() error { return e.err }

// notPaused fails for a paused Deployment: it would not roll.
func (r *Rollout) notPaused(ctx context.Context, m module.Module) error {
	dep, err := r.Client.AppsV1().Deployments(r.namespace()).Get(ctx, m.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading deployment %s/%s: %w", r.namespace(), m.Name, err)
	}
	if dep.Spec.Paused {
		return fmt.Errorf("deployment %s/%s is paused (kubectl rollout resume): it would not roll", r.namespace(), m.Name)
	}
	return nil
}

// undo brings m's Deployment back to img. Its pod template is replaced
// (not merged: hand edits to it go too) by the module file's template
// for img, the one the ReplicaSet that ran img has unless the file
// changed since, so that the controller scales that ReplicaSet up again
// as after kubectl rollout undo. No image at all (the update was the
// first: there was no Deployment) deletes the Deployment, and its
// Service when no one else manages it.
func (ru *run) undo(ctx context.Context, img update.Image) error {
	ns := ru.namespace()
	if img.ID == "" {
		ru.log(ru.m.Name, "undo", "", "deleting the deployment")
		if err := ru.Client.AppsV1().Deployments(ns).Delete(ctx, ru.m.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting deployment %s/%s: %w", ns, ru.m.Name, err)
		}
		return ru.deleteService(ctx)
	}
	dep, svc, err := Manifests(ru.m, img.ID, ns)
	if err != nil {
		return err
	}
	if err := ru.applyService(ctx, svc); err != nil {
		return err
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := ru.Client.AppsV1().Deployments(ns).Get(ctx, dep.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return ru.applyDeployment(ctx, dep) // deleted meanwhile: made again
		}
		if err != nil {
			return err
		}
		if err := ru.j.Write(rollout.Record{Op: "apply", Name: ns + "/" + dep.Name, ID: img.ID}); err != nil {
			return err
		}
		cur.Spec.Template = dep.Spec.Template
		_, err = ru.Client.AppsV1().Deployments(ns).Update(ctx, cur, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
	if err != nil {
		return fmt.Errorf("replacing the pod template of deployment %s/%s: %w", ns, dep.Name, err)
	}
	ru.log(ru.m.Name, "undo", dep.Name, "pod template of "+orNone(img.Digest))
	// The old pods had run: they get twice the ready timeout without
	// progress, and the controller its time to act, before the undo is
	// called failed (kubectl rollout undo does not wait at all).
	w := &watcher{m: ru.m, digest: img.Digest}
	return ru.wait(ctx, w.rollout, 2*ru.m.Update.ReadyTimeoutOr(ru.m.Health)+30*time.Second)
}

// deleteService deletes the module's Service unless another manager
// than Rollout's has fields in it (one that was there before).
func (ru *run) deleteService(ctx context.Context) error {
	ns := ru.namespace()
	svc, err := ru.Client.CoreV1().Services(ns).Get(ctx, ru.m.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading service %s/%s: %w", ns, ru.m.Name, err)
	}
	for _, f := range svc.ManagedFields {
		if f.Manager != FieldManager {
			ru.log(ru.m.Name, "undo", "", "keeping service "+ns+"/"+ru.m.Name+": "+f.Manager+" manages it too")
			return nil
		}
	}
	ru.log(ru.m.Name, "undo", "", "deleting the service")
	err = ru.Client.CoreV1().Services(ns).Delete(ctx, ru.m.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &svc.ResourceVersion}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting service %s/%s: %w", ns, ru.m.Name, err)
	}
	return nil
}

// applyService server-side applies the module's Service (none: nothing).
func (ru *run) applyService(ctx context.Context, svc *corev1.Service) error {
	if svc == nil {
		return nil
	}
	b, err := json.Marshal(svc)
	if err != nil {
		return err
	}
	if _, err := ru.Client.CoreV1().Services(svc.Namespace).Patch(ctx, svc.Name, types.ApplyPatchType, b, applyOptions()); err != nil {
		return fmt.Errorf("applying service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return nil
}

// applyDeployment server-side applies the Deployment, journalled first.
func (ru *run) applyDeployment(ctx context.Context, dep *appsv1.Deployment) error {
	if err := ru.j.Write(rollout.Record{Op: "apply", Name: dep.Namespace + "/" + dep.Name, ID: templateImage(&dep.Spec.Template).ID}); err != nil {
		return err
	}
	b, err := json.Marshal(dep)
	if err != nil {
		return err
	}
	d, err := ru.Client.AppsV1().Deployments(dep.Namespace).Patch(ctx, dep.Name, types.ApplyPatchType, b, applyOptions())
	if err != nil {
		return fmt.Errorf("applying deployment %s/%s: %w", dep.Namespace, dep.Name, err)
	}
	ru.log(ru.m.Name, "apply", d.Name, "generation "+strconv.FormatInt(d.Generation, 10))
	return nil
}

func applyOptions() metav1.PatchOptions {
	force := true
	return metav1.PatchOptions{FieldManager: FieldManager, Force: &force}
}

// snapshot is what the informers hold of a module.
type snapshot struct {
	dep  *appsv1.Deployment
	rss  []*appsv1.ReplicaSet
	pods []*corev1.Pod
	now  time.Time
}

// wait watches m's Deployment, ReplicaSets and pods until check says
// done or fails; check runs on every change and every 250 ms (its
// timeouts). The wait fails, not blaming the image, when the rollout
// shows no progress for stall.
func (ru *run) wait(ctx context.Context, check func(snapshot) (bool, error), stall time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := informers.NewSharedInformerFactoryWithOptions(ru.Client, 0, informers.WithNamespace(ru.namespace()),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = module.Label + "=" + ru.m.Name }))
	deps := f.Apps().V1().Deployments()
	rss := f.Apps().V1().ReplicaSets()
	pods := f.Core().V1().Pods()
	changed := make(chan struct{}, 1)
	poke := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(any) { poke() },
	}
	for _, i := range []cache.SharedIndexInformer{deps.Informer(), rss.Informer(), pods.Informer()} {
		if _, err := i.AddEventHandler(h); err != nil {
			return err
		}
	}
	f.Start(ctx.Done())
	defer func() { cancel(); f.Shutdown() }() // the informers stop on cancel
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("watching %v: %w", typ, context.Cause(ctx))
		}
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var last string
	progressed := time.Now()
	for {
		s := snapshot{now: time.Now()}
		s.dep, _ = deps.Lister().Deployments(ru.namespace()).Get(ru.m.Name)
		s.rss, _ = rss.Lister().ReplicaSets(ru.namespace()).List(labels.Everything())
		s.pods, _ = pods.Lister().Pods(ru.namespace()).List(labels.Everything())
		if p := s.progress(); p != last {
			ru.log(ru.m.Name, "progress", "", p)
			last, progressed = p, s.now
		}
		if s.now.Sub(progressed) > stall {
			return &notTheImage{fmt.Errorf("no progress for %s (%s)", stall, last)}
		}
		done, err := check(s)
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%s)", context.Cause(ctx), last)
		case <-changed:
		case <-tick.C:
		}
	}
}

// progress is a one-line account: the Deployment's counts and each
// ReplicaSet's ready replicas.
func (s snapshot) progress() string {
	if s.dep == nil {
		return "no deployment"
	}
	st := s.dep.Status
	out := fmt.Sprintf("updated %d, ready %d, available %d of %d", st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas, ptrOr(s.dep.Spec.Replicas, 1))
	rss := slices.SortedFunc(slices.Values(s.rss), func(a, b *appsv1.ReplicaSet) int { return strings.Compare(a.Name, b.Name) })
	for _, rs := range rss {
		if rs.Status.Replicas == 0 && ptrOr(rs.Spec.Replicas, 0) == 0 {
			continue
		}
		out += fmt.Sprintf("; %s %d/%d ready", rs.Name, rs.Status.ReadyReplicas, ptrOr(rs.Spec.Replicas, 0))
	}
	return out
}

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// watcher tells a rollout to digest done or failed.
type watcher struct {
	m            module.Module
	digest       string
	readyTimeout time.Duration // 0: the undo, which only waits
	settled      time.Time     // when the rollout completed: the watch window starts
}

// rollout is the check of a rollout to w.digest: done once complete and
// watched for the module's watch window; failed on the progress
// deadline, a new pod that crashes, a started one not ready within the
// ready timeout, or a new pod no longer ready within the window.
func (w *watcher) rollout(s snapshot) (bool, error) {
	if s.dep == nil {
		return false, &otherClient{errors.New("the deployment was deleted by another client")}
	}
	if d := templateImage(&s.dep.Spec.Template).Digest; d != w.digest {
		return false, &otherClient{fmt.Errorf("the deployment's image was changed to %s by another client", orNone(d))}
	}
	if s.dep.Spec.Paused {
		return false, &otherClient{errors.New("the deployment was paused by another client")}
	}
	if w.readyTimeout == 0 {
		return complete(s.dep), nil
	}
	if c := deadlineExceeded(s, w.digest); c != nil {
		return false, fmt.Errorf("progress deadline exceeded (%ds): %s", ptrOr(s.dep.Spec.ProgressDeadlineSeconds, 600), c.Message)
	}
	for _, p := range s.pods {
		if p.DeletionTimestamp != nil || podImage(p).Digest != w.digest {
			continue
		}
		if err := w.pod(p, s.now); err != nil {
			if !w.settled.IsZero() {
				return false, fmt.Errorf("within the watch window: pod %s: %w", p.Name, err)
			}
			return false, fmt.Errorf("pod %s: %w", p.Name, err)
		}
	}
	if w.settled.IsZero() {
		if complete(s.dep) {
			w.settled = s.now
		}
		return false, nil
	}
	if !complete(s.dep) {
		st := s.dep.Status
		return false, fmt.Errorf("within the watch window: %d of %d replicas updated and %d available, %d in all", st.UpdatedReplicas, ptrOr(s.dep.Spec.Replicas, 1), st.AvailableReplicas, st.Replicas)
	}
	return s.now.Sub(w.settled) >= w.m.Update.WatchOr(), nil
}

// deadlineExceeded is the Deployment's ProgressDeadlineExceeded
// condition when it is about the ReplicaSet of digest: the controller
// leaves the condition of an earlier stuck rollout in place when the
// template goes back to an existing ReplicaSet.
func deadlineExceeded(s snapshot, digest string) *appsv1.DeploymentCondition {
	if s.dep.Status.ObservedGeneration < s.dep.Generation {
		return nil
	}
	var newest *appsv1.ReplicaSet
	rev := -1
	for _, rs := range s.rss {
		if templateImage(&rs.Spec.Template).Digest != digest {
			continue
		}
		if n, _ := strconv.Atoi(rs.Annotations[revisionAnnotation]); n > rev {
			newest, rev = rs, n
		}
	}
	for i, c := range s.dep.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" &&
			newest != nil && strings.Contains(c.Message, `"`+newest.Name+`"`) {
			return &s.dep.Status.Conditions[i]
		}
	}
	return nil
}

// pod fails a new pod that crashed, or that runs but was not ready for
// the ready timeout, or (in the watch window) is no longer ready.
func (w *watcher) pod(p *corev1.Pod, now time.Time) error {
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff":
			return fmt.Errorf("container %s: CrashLoopBackOff (%d restarts): %s", cs.Name, cs.RestartCount, cs.State.Waiting.Message)
		case cs.RestartCount > 0:
			return fmt.Errorf("container %s restarted %d times", cs.Name, cs.RestartCount)
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0:
			return fmt.Errorf("container %s exited %d (%s)", cs.Name, cs.State.Terminated.ExitCode, cs.State.Terminated.Reason)
		}
	}
	if p.Status.Phase == corev1.PodFailed {
		return fmt.Errorf("failed: %s", p.Status.Message)
	}
	if p.Status.Phase != corev1.PodRunning || p.Status.StartTime == nil {
		return nil // not started: the progress deadline's business
	}
	if ready(p) {
		return nil
	}
	if !w.settled.IsZero() {
		return errors.New("no longer ready")
	}
	// From when the main container started: the pod's StartTime is
	// before its image was pulled.
	started := p.Status.StartTime.Time
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == p.Spec.Containers[0].Name && cs.State.Running != nil && !cs.State.Running.StartedAt.IsZero() {
			started = cs.State.Running.StartedAt.Time
		}
	}
	if since := now.Sub(started); since > w.readyTimeout {
		return fmt.Errorf("running for %s, not ready within the ready timeout (%s)", since.Round(time.Second), w.readyTimeout)
	}
	return nil
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// named makes *err say which module it is about.
func named(module string, err *error) {
	if *err != nil && !strings.HasPrefix((*err).Error(), "module "+module+":") {
		*err = fmt.Errorf("module %s: %w", module, *err)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
