package front

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Backend is a container behind the front: a name and the address it
// listens on (HOST:PORT, loopback).
type Backend struct {
	Name, Addr string
}

// Stats are a backend's requests and errors (transport failures and 5xx
// answers) since it was added.
type Stats struct {
	Requests, Errors int64
}

// Health is how Add tells that a backend works: a GET of Path answering
// 200 with Expect in its body (when set), tried every Interval until
// Timeout.
type Health struct {
	Path     string
	Expect   string
	Interval time.Duration
	Timeout  time.Duration
}

// ErrNoBackend answers requests when no backend is in the rotation (503).
var ErrNoBackend = errors.New("no backend in rotation")

// Proxy is the built-in front. The zero value is not usable: use New.
type Proxy struct {
	mu       sync.Mutex
	rotation []*backend // the backends new requests go to
	all      map[string]*backend
	next     atomic.Uint64
	client   *http.Client
	rp       *httputil.ReverseProxy // one for all backends: retry.go
	// transport holds the connections to the backends.
	transport *http.Transport
}

type backend struct {
	Backend
	inflight sync.WaitGroup
	requests atomic.Int64
	errors   atomic.Int64
}

// New returns a proxy with no backend.
func New() *Proxy {
	p := &Proxy{all: map[string]*backend{}, client: &http.Client{Timeout: 5 * time.Second}}
	p.rp = p.reverseProxy()
	return p
}

// ServeHTTP sends the request to the next backend of the rotation, and
// retries it on others when it is safe to (see retry.go).
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.rp.ServeHTTP(w, r)
}

// pick returns the next backend of the rotation that is not in tried,
// counted in flight; nil when there is none. A request's first attempt
// takes the rotation's next backend; a retry takes the one after the
// last it tried, so that retries do not skew the round robin.
func (p *Proxy) pick(tried []*backend) *backend {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := uint64(len(p.rotation))
	if n == 0 {
		return nil
	}
	var start uint64
	if len(tried) == 0 {
		start = p.next.Add(1)
	} else if i := slices.Index(p.rotation, tried[len(tried)-1]); i >= 0 {
		start = uint64(i) + 1
	} else {
		start = p.next.Load() + 1 // drained meanwhile
	}
	for i := range n {
		b := p.rotation[(start+i)%n]
		if slices.Contains(tried, b) {
			continue
		}
		// Under the lock: Drain takes the backend out of the rotation
		// under it too, so that a request it waits for is counted before
		// it waits.
		b.inflight.Add(1)
		return b
	}
	return nil
}

// Add checks b's health and then puts it in the rotation. A backend that
// does not become healthy within h.Timeout is not added.
func (p *Proxy) Add(ctx context.Context, b Backend, h Health) error {
	p.mu.Lock()
	_, dup := p.all[b.Name]
	p.mu.Unlock()
	if dup {
		return fmt.Errorf("backend %s: already behind the front", b.Name)
	}
	if err := WaitHealthy(ctx, p.client, b.Addr, h); err != nil {
		return fmt.Errorf("backend %s (%s): %w", b.Name, b.Addr, err)
	}
	nb := &backend{Backend: b}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.all[b.Name]; ok {
		return fmt.Errorf("backend %s: already behind the front", b.Name)
	}
	p.all[b.Name] = nb
	p.rotation = append(p.rotation, nb)
	return nil
}

// Drain takes the backend out of the rotation, waits for its requests in
// flight to finish (at most timeout), and forgets it. It reports whether
// requests were still in flight when the timeout passed.
func (p *Proxy) Drain(ctx context.Context, name string, timeout time.Duration) error {
	p.mu.Lock()
	b, ok := p.all[name]
	if !ok {
		p.mu.Unlock()
		return fmt.Errorf("backend %s: not behind the front", name)
	}
	for i, r := range p.rotation {
		if r == b {
			p.rotation = append(p.rotation[:i:i], p.rotation[i+1:]...)
			break
		}
	}
	delete(p.all, name)
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { b.inflight.Wait(); close(done) }()
	select {
	case <-done:
		// The drained backend's kept-alive connections go: a backend
		// added later on the same port (a new container) must not get
		// one to the container that is gone, whose packets would go
		// nowhere.
		p.transport.CloseIdleConnections()
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("backend %s: requests still in flight after %v", name, timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns a backend's counts; ok is false for an unknown backend.
func (p *Proxy) Stats(name string) (s Stats, ok bool) {
	p.mu.Lock()
	b, ok := p.all[name]
	p.mu.Unlock()
	if !ok {
		return Stats{}, false
	}
	return Stats{Requests: b.requests.Load(), Errors: b.errors.Load()}, true
}

// Backends lists the backends in rotation, in order.
func (p *Proxy) Backends() []Backend {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Backend, len(p.rotation))
	for i, b := range p.rotation {
		out[i] = b.Backend
	}
	return out
}
