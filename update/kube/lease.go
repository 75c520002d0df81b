package kube

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/alicorn-dev/alicorn/internal/tempfile"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update/rollout"
)

// leaseDuration is how long a module's lease holds without renewal (an
// updater killed holds it that long); it is renewed every third of it.
const leaseDuration = 30 * time.Second

// errLeaseLost is the cause of an update's context cancelled because
// its lease could not be renewed and may be another updater's now.
var errLeaseLost = errors.New("lost the module's lease")

// lock takes m's lock in State, then its lease in the cluster: a
// Lease alicorn-module-NAME in the namespace, so that two updaters on
// different hosts (or with different state directories) never update
// one Deployment at once. Its error wraps rollout.ErrBusy when another
// holds either. The context returned is cancelled (cause errLeaseLost)
// when the lease cannot be renewed.
func (r *Rollout) lock(ctx context.Context, m module.Module) (context.Context, func(), error) {
	unlockState, err := r.State.Lock(m.Name)
	if err != nil {
		return nil, nil, err
	}
	ctx, release, err := r.lease(ctx, m)
	if err != nil {
		unlockState()
		return nil, nil, err
	}
	return ctx, func() { release(); unlockState() }, nil
}

// holder names this updater: Holder, else an identity made once per
// state directory (the host's name and a random part), so that an
// updater killed and run again on one host takes its own lease back at
// once, and two hosts of one name do not share one.
func (r *Rollout) holder() (string, error) {
	if id := r.knownHolder(); id != "" {
		return id, nil
	}
	p := filepath.Join(r.State.Dir, "holder")
	host, _ := os.Hostname()
	var rnd [6]byte
	rand.Read(rnd[:])
	id := host + "-" + hex.EncodeToString(rnd[:])
	if err := tempfile.WriteFile(p, []byte(id+"\n"), ".alicorn-state."); err != nil {
		return "", fmt.Errorf("state: %w", err)
	}
	return id, nil
}

// knownHolder is holder's identity when it was made already ("" if
// not).
func (r *Rollout) knownHolder() string {
	if r.Holder != "" {
		return r.Holder
	}
	b, _ := os.ReadFile(filepath.Join(r.State.Dir, "holder"))
	return string(bytes.TrimSpace(b))
}

func leaseName(m module.Module) string { return "alicorn-module-" + m.Name }

// heldByOther returns l's holder when it is not me and its lease has not
// lapsed. The holder's own clock says when it last renewed: hosts'
// clocks are taken to agree within the lease's duration.
func heldByOther(l *coordinationv1.Lease, me string) (string, bool) {
	h := ptrOr(l.Spec.HolderIdentity, "")
	if h == "" || h == me || l.Spec.RenewTime == nil {
		return "", false
	}
	d := time.Duration(ptrOr(l.Spec.LeaseDurationSeconds, int32(leaseDuration/time.Second))) * time.Second
	return h, time.Since(l.Spec.RenewTime.Time) < d
}

// Holding returns who holds m's lease now, when it is another updater
// (its lease not lapsed); "" otherwise.
func (r *Rollout) Holding(ctx context.Context, m module.Module) (string, error) {
	l, err := r.Client.CoordinationV1().Leases(r.namespace()).Get(ctx, leaseName(m), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("module %s: lease: %w", m.Name, err)
	}
	if h, ok := heldByOther(l, r.knownHolder()); ok {
		return h, nil
	}
	return "", nil
}

func (r *Rollout) lease(ctx context.Context, m module.Module) (context.Context, func(), error) {
	leases := r.Client.CoordinationV1().Leases(r.namespace())
	name := leaseName(m)
	where := r.namespace() + "/" + name
	me, err := r.holder()
	if err != nil {
		return nil, nil, err
	}
	secs := int32(leaseDuration / time.Second)
	now := metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: r.namespace(), Labels: map[string]string{module.Label: m.Name}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &me, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now}}
		if l, err = leases.Create(ctx, l, metav1.CreateOptions{FieldManager: FieldManager}); apierrors.IsAlreadyExists(err) {
			return nil, nil, fmt.Errorf("%w: lease %s taken by another updater just now", rollout.ErrBusy, where)
		}
	case err == nil:
		if h, ok := heldByOther(l, me); ok {
			return nil, nil, fmt.Errorf("%w: updated by %s (lease %s renewed %s ago; if that updater died, the lease lapses %s after its last renewal, and its journal is on its host, where recover finishes its update)",
				rollout.ErrBusy, h, where, time.Since(l.Spec.RenewTime.Time).Round(time.Second), leaseDuration)
		}
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.AcquireTime, l.Spec.RenewTime = &me, &secs, &now, &now
		if l, err = leases.Update(ctx, l, metav1.UpdateOptions{FieldManager: FieldManager}); apierrors.IsConflict(err) {
			return nil, nil, fmt.Errorf("%w: lease %s taken by another updater just now", rollout.ErrBusy, where)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("lease %s: %w", where, err)
	}
	// renew renews the lease; when that fails, it reads it again: a
	// renewal whose answer was lost leaves it ours; another holder, or
	// none, means it is lost.
	renew := func() (lost bool, err error) {
		rctx, rcancel := context.WithTimeout(context.Background(), leaseDuration/6)
		defer rcancel()
		cur := l.DeepCopy()
		renewed := metav1.NewMicroTime(time.Now())
		cur.Spec.RenewTime = &renewed
		nl, err := leases.Update(rctx, cur, metav1.UpdateOptions{FieldManager: FieldManager})
		if err == nil {
			l = nl
			return false, nil
		}
		fresh, gerr := leases.Get(rctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(gerr):
			return true, fmt.Errorf("lease %s deleted", where)
		case gerr != nil:
			return false, err
		case ptrOr(fresh.Spec.HolderIdentity, "") != me:
			return true, fmt.Errorf("lease %s held by %q now", where, ptrOr(fresh.Spec.HolderIdentity, ""))
		}
		l = fresh
		return false, err // tried again with its new version
	}
	ctx, cancel := context.WithCancelCause(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { // renew; on failure, read it again: still ours, renew that
		defer close(done)
		t := time.NewTicker(leaseDuration / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			// A renewal that fails (the API server away) is tried
			// again at the next tick: only a lease seen to be another's,
			// or gone, is lost.
			for try := 0; try < 2; try++ {
				lost, err := renew()
				if lost {
					cancel(fmt.Errorf("%w: %w", errLeaseLost, err))
					return
				}
				if err == nil {
					break
				}
			}
		}
	}()
	return ctx, func() {
		close(stop)
		<-done
		cancel(nil)
		// Released even when the update's context is done (SIGTERM).
		rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer rcancel()
		rv := l.ResourceVersion
		err := leases.Delete(rctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			r.log(m.Name, "warning", name, "releasing the lease (it lapses by itself): "+err.Error())
		}
	}, nil
}
