package loadgen

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Conns is which connections requests go out on.
type Conns int

const (
	// BothConns alternates new and kept-alive connections.
	BothConns Conns = iota
	// NewConns opens a connection for every request.
	NewConns
	// KeptAlive reuses connections.
	KeptAlive
)

// Config is a load to send.
type Config struct {
	// URL is where requests go; each of Paths is appended to it in turn
	// (none: URL itself).
	URL   string
	Paths []string
	// Rate is the requests sent per second (default 200).
	Rate float64
	// Duration is how long requests are sent; 0: until ctx is done or
	// Stop.
	Duration time.Duration
	// Timeout bounds each request, body included (default 5s).
	Timeout time.Duration
	// MaxInFlight caps the requests in flight (default 256); a request
	// due beyond it counts as failed.
	MaxInFlight int
	// Conns is which connections requests go out on (default both,
	// alternately).
	Conns Conns
	// Check tells whether a 200 answer's body is right; when nil, it
	// must equal Expect, unless Expect is nil too.
	Check  func(path string, body []byte) error
	Expect []byte
	// MaxBody is the largest body read (default 16 MiB); a longer one
	// is a failure.
	MaxBody int64
	// KeepFailures is how many failures the Result lists, the first ones
	// due (default 10).
	KeepFailures int
}

// Generator is a load being sent.
type Generator struct {
	cfg       Config
	start     time.Time
	keptAlive *http.Client
	fresh     *http.Client
	sem       chan struct{}
	cancel    context.CancelFunc
	scheduled chan struct{} // closed when no more requests will be sent
	wg        sync.WaitGroup

	mu       sync.Mutex
	phases   []*phase
	failures []Failure
}

type phase struct {
	Phase
	latencies []time.Duration
}

// Start begins sending cfg's load, until cfg.Duration passes or ctx is
// done. Requests in flight when ctx is done are let finish (they have
// their Timeout). Requests are counted in the phase "before" until Mark.
func Start(ctx context.Context, cfg Config) (*Generator, error) {
	if _, err := url.Parse(cfg.URL); err != nil || cfg.URL == "" {
		return nil, fmt.Errorf("loadgen: URL %q: %v", cfg.URL, err)
	}
	if cfg.Rate < 0 || cfg.Duration < 0 || cfg.Timeout < 0 || cfg.MaxInFlight < 0 {
		return nil, errors.New("loadgen: Rate, Duration, Timeout and MaxInFlight must not be negative")
	}
	cfg.Rate = cmp.Or(cfg.Rate, 200)
	cfg.Timeout = cmp.Or(cfg.Timeout, 5*time.Second)
	cfg.MaxInFlight = cmp.Or(cfg.MaxInFlight, 256)
	cfg.MaxBody = cmp.Or(cfg.MaxBody, 16<<20)
	cfg.KeepFailures = cmp.Or(cfg.KeepFailures, 10)
	if cfg.Check == nil && cfg.Expect != nil {
		want := cfg.Expect
		cfg.Check = func(_ string, body []byte) error {
			if !bytes.Equal(body, want) {
				return fmt.Errorf("body differs: %d bytes %.40q", len(body), body)
			}
			return nil
		}
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ctx, cancel := context.WithCancel(ctx)
	g := &Generator{
		cfg:   cfg,
		start: time.Now(),
		keptAlive: &http.Client{CheckRedirect: noRedirect, Transport: &http.Transport{
			DialContext: dialer.DialContext, MaxIdleConns: cfg.MaxInFlight, MaxIdleConnsPerHost: cfg.MaxInFlight,
			IdleConnTimeout: 90 * time.Second}},
		fresh: &http.Client{CheckRedirect: noRedirect, Transport: &http.Transport{
			DialContext: dialer.DialContext, DisableKeepAlives: true}},
		sem:       make(chan struct{}, cfg.MaxInFlight),
		cancel:    cancel,
		scheduled: make(chan struct{}),
	}
	g.phases = []*phase{{Phase: Phase{Name: "before"}}}
	go g.schedule(ctx)
	return g, nil
}

// Run sends cfg's load until cfg.Duration passes or ctx is done, and
// returns its result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	g, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return g.Wait(), nil
}

// Mark starts a new phase: the requests due from now on are counted in
// it.
func (g *Generator) Mark(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.phases = append(g.phases, &phase{Phase: Phase{Name: name, Start: time.Since(g.start)}})
}

// Wait waits until the load has been sent (cfg.Duration passed or ctx
// done) and its requests answered, and returns the result.
func (g *Generator) Wait() *Result {
	<-g.scheduled
	g.wg.Wait()
	g.keptAlive.CloseIdleConnections()
	return g.result()
}

// Stop stops sending, waits for the requests in flight, and returns the
// result.
func (g *Generator) Stop() *Result {
	g.cancel()
	return g.Wait()
}

// schedule sends request i at start + i/Rate: late ones (the scheduler
// was not run in time) at once, none skipped.
func (g *Generator) schedule(ctx context.Context) {
	defer close(g.scheduled)
	defer g.cancel()
	interval := time.Duration(float64(time.Second) / g.cfg.Rate)
	n := -1
	if g.cfg.Duration > 0 {
		n = int(float64(g.cfg.Duration) / float64(interval))
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; n < 0 || i < n; i++ {
		due := g.start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		g.send(ctx, i, due)
	}
}

// send sends request i, due at due, unless MaxInFlight are in flight.
func (g *Generator) send(ctx context.Context, i int, due time.Time) {
	path := ""
	if len(g.cfg.Paths) > 0 {
		path = g.cfg.Paths[i%len(g.cfg.Paths)]
	}
	c, conn := g.keptAlive, "kept-alive"
	if g.cfg.Conns == NewConns || g.cfg.Conns == BothConns && i%2 == 1 {
		c, conn = g.fresh, "new"
	}
	at := due.Sub(g.start)
	g.mu.Lock()
	// The phase it was due in: a late request due before Mark counts
	// before it.
	ph := g.phases[len(g.phases)-1]
	for j := len(g.phases) - 1; j > 0 && ph.Start > at; j-- {
		ph = g.phases[j-1]
	}
	ph.Requests++
	g.mu.Unlock()
	o := outcome{ph: ph, at: at, path: path, conn: conn}
	select {
	case g.sem <- struct{}{}:
	default:
		o.overflow = true
		o.reason = "overflow"
		g.record(o)
		return
	}
	g.wg.Go(func() {
		defer func() { <-g.sem }()
		o.wrong, o.reason = g.get(ctx, c, path)
		o.latency = time.Since(due)
		g.record(o)
	})
}

// get sends one request; reason is "" when the answer was right. The
// request has its Timeout, and is not cancelled with ctx: the load ends,
// its requests in flight finish.
func (g *Generator) get(ctx context.Context, c *http.Client, path string) (wrong bool, reason string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.cfg.URL+path, nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := c.Do(req)
	if err != nil {
		return false, reasonOf(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, g.cfg.MaxBody+1))
	switch {
	case err != nil:
		return false, "body: " + reasonOf(err)
	case int64(len(body)) > g.cfg.MaxBody:
		return false, fmt.Sprintf("body over %d bytes", g.cfg.MaxBody)
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Sprintf("status %d", resp.StatusCode)
	}
	if g.cfg.Check != nil {
		if err := g.cfg.Check(path, body); err != nil {
			return true, err.Error()
		}
	}
	return false, ""
}

// reasonOf names a transport error shortly, without the URL, so that the
// same failure of different requests counts as one reason.
func reasonOf(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// outcome is one request's.
type outcome struct {
	ph       *phase
	at       time.Duration
	path     string
	conn     string
	overflow bool
	wrong    bool
	reason   string
	latency  time.Duration
}

func (g *Generator) record(o outcome) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ph := o.ph
	if !o.overflow {
		ph.latencies = append(ph.latencies, o.latency)
	}
	if o.reason == "" {
		return
	}
	switch {
	case o.overflow:
		ph.Failed++
		ph.Overflow++
	case o.wrong:
		ph.Wrong++
	default:
		ph.Failed++
	}
	if ph.Reasons == nil {
		ph.Reasons = map[string]int{}
	}
	key := o.reason
	if o.wrong {
		key = "wrong body"
	}
	ph.Reasons[key]++
	f := Failure{At: o.at, Phase: ph.Name, Path: o.path, Conn: o.conn, Wrong: o.wrong, Reason: o.reason}
	// Keep the first KeepFailures due: a late, fast failure may be
	// recorded before an earlier, slow one.
	i, _ := slices.BinarySearchFunc(g.failures, f.At, func(f Failure, at time.Duration) int { return cmp.Compare(f.At, at) })
	if i < g.cfg.KeepFailures {
		g.failures = slices.Insert(g.failures, i, f)
		if len(g.failures) > g.cfg.KeepFailures {
			g.failures = g.failures[:g.cfg.KeepFailures]
		}
	}
}

func (g *Generator) result() *Result {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := &Result{Elapsed: time.Since(g.start), Failures: slices.Clone(g.failures)}
	var all []time.Duration
	for _, ph := range g.phases {
		p := ph.Phase
		p.Reasons = maps.Clone(p.Reasons)
		p.P50, p.P90, p.P99, p.Max = percentiles(ph.latencies)
		r.Phases = append(r.Phases, p)
		all = append(all, ph.latencies...)
	}
	r.total = Phase{Name: "total"}
	for _, p := range r.Phases {
		r.total.Requests += p.Requests
		r.total.Failed += p.Failed
		r.total.Overflow += p.Overflow
		r.total.Wrong += p.Wrong
		for k, v := range p.Reasons {
			if r.total.Reasons == nil {
				r.total.Reasons = map[string]int{}
			}
			r.total.Reasons[k] += v
		}
	}
	r.total.P50, r.total.P90, r.total.P99, r.total.Max = percentiles(all)
	return r
}

// percentiles returns the nearest-rank 50th, 90th and 99th percentiles
// and the maximum of d, which it sorts.
func percentiles(d []time.Duration) (p50, p90, p99, maxd time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	rank := func(p int) time.Duration {
		i := (p*len(d)+99)/100 - 1
		return d[max(i, 0)]
	}
	return rank(50), rank(90), rank(99), d[len(d)-1]
}
