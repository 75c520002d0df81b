package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update/rollout"
)

// leaseDuration is how long a module's lease holds without renewal (an
// updater killed holds it that long); it is renewed every third of it.
const leaseDuration = 30 * time.Second

// lock takes m's lock in State, then its lease in the cluster: a
// Lease alicorn-module-NAME in the namespace, so that two updaters on
// different hosts (or with different state directories) never update
// one Deployment at once. Its error wraps rollout.ErrBusy when another
// holds either.
func (r *Rollout) lock(ctx context.Context, m module.Module) (unlock func(), err error) {
	unlockState, err := r.State.Lock(m.Name)
	if err != nil {
		return nil, err
	}
	release, err := r.lease(ctx, m)
	if err != nil {
		unlockState()
		return nil, err
	}
	return func() { release(); unlockState() }, nil
}

// holder names this updater: the host and its state directory (two
// updaters with one state directory already exclude each other).
func (r *Rollout) holder() string {
	if r.Holder != "" {
		return r.Holder
	}
	host, _ := os.Hostname()
	dir, err := filepath.Abs(r.State.Dir)
	if err != nil {
		dir = r.State.Dir
	}
	return host + ":" + dir
}

func (r *Rollout) lease(ctx context.Context, m module.Module) (release func(), err error) {
	leases := r.Client.CoordinationV1().Leases(r.namespace())
	name := "alicorn-module-" + m.Name
	me := r.holder()
	secs := int32(leaseDuration / time.Second)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: r.namespace(), Labels: map[string]string{module.Label: m.Name}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &me, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}}
		if l, err = leases.Create(ctx, l, metav1.CreateOptions{FieldManager: FieldManager}); apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("%w: lease %s/%s taken by another updater just now", rollout.ErrBusy, r.namespace(), name)
		}
	case err == nil:
		if h := ptrOr(l.Spec.HolderIdentity, ""); h != "" && h != me && l.Spec.RenewTime != nil &&
			time.Since(l.Spec.RenewTime.Time) < time.Duration(ptrOr(l.Spec.LeaseDurationSeconds, secs))*time.Second {
			return nil, fmt.Errorf("%w: updated by %s (lease %s/%s renewed %s ago)", rollout.ErrBusy, h, r.namespace(), name, time.Since(l.Spec.RenewTime.Time).Round(time.Second))
		}
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.AcquireTime, l.Spec.RenewTime = &me, &secs, &now, &now
		if l, err = leases.Update(ctx, l, metav1.UpdateOptions{FieldManager: FieldManager}); apierrors.IsConflict(err) {
			return nil, fmt.Errorf("%w: lease %s/%s taken by another updater just now", rollout.ErrBusy, r.namespace(), name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lease %s/%s: %w", r.namespace(), name, err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { // renew
		defer close(done)
		t := time.NewTicker(leaseDuration / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				cur := l.DeepCopy()
				renewed := metav1.NewMicroTime(time.Now())
				cur.Spec.RenewTime = &renewed
				rctx, cancel := context.WithTimeout(context.Background(), leaseDuration/3)
				if nl, err := leases.Update(rctx, cur, metav1.UpdateOptions{FieldManager: FieldManager}); err == nil {
					l = nl
				} else {
					r.log(m.Name, "warning", name, "renewing the lease: "+err.Error())
				}
				cancel()
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		// Released even when the update's context is done (SIGTERM).
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rv := l.ResourceVersion
		leases.Delete(rctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
	}, nil
}
