package front

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
)

// The control protocol: one JSON request a line on a Unix socket, one
// JSON response a line back, so that the front can run as a long-lived
// process of its own and updaters drive it (see Client).
type request struct {
	Op      string   `json:"op"` // add, drain, stats, list
	Backend Backend  `json:"backend,omitempty"`
	Health  Health   `json:"health,omitempty"`
	Name    string   `json:"name,omitempty"`
	Timeout Duration `json:"timeout,omitempty"`
}

type response struct {
	Error    string    `json:"error,omitempty"`
	Stats    *Stats    `json:"stats,omitempty"`
	Backends []Backend `json:"backends,omitempty"`
}

// Duration is a time.Duration written as Go writes it ("10s").
type Duration struct{ time.Duration }

// MarshalText writes a duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	d.Duration = v
	return err
}

// ServeControl answers control requests for p on l until ctx is done.
func (p *Proxy) ServeControl(ctx context.Context, l net.Listener) error {
	return serveControl(ctx, l, p.do)
}

// serveControl answers control requests on l with do until ctx is done,
// and returns once the connections it served are closed.
func serveControl(ctx context.Context, l net.Listener, do func(context.Context, request, *response) error) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Go(func() { control(ctx, c, do) })
	}
}

func control(ctx context.Context, c net.Conn, do func(context.Context, request, *response) error) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	sc := bufio.NewScanner(c)
	sc.Buffer(nil, 1<<20)
	enc := json.NewEncoder(c)
	for sc.Scan() {
		var req request
		var resp response
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			resp.Error = "bad request: " + err.Error()
		} else if err := do(ctx, req, &resp); err != nil {
			resp.Error = err.Error()
		}
		if err := enc.Encode(resp); err != nil {
			return
		}
	}
}

func (p *Proxy) do(ctx context.Context, req request, resp *response) error {
	switch req.Op {
	case "add":
		return p.Add(ctx, req.Backend, req.Health)
	case "drain":
		return p.Drain(ctx, req.Name, req.Timeout.Duration)
	case "stats":
		s, ok := p.Stats(req.Name)
		if !ok {
			return fmt.Errorf("backend %s: not behind the front", req.Name)
		}
		resp.Stats = &s
		return nil
	case "list":
		resp.Backends = p.Backends()
		return nil
	}
	return fmt.Errorf("unknown operation %q", req.Op)
}

// Client drives a front over its control socket.
type Client struct {
	// Socket is the control socket's path.
	Socket string
	// Wait is how long a socket nobody answers on is tried again (a
	// front restarting: systemd brings it back within a second or two);
	// 0 means 10s, a negative value not at all.
	Wait time.Duration
}

// dial connects to the socket, trying again for c.Wait while nobody
// answers on it.
func (c Client) dial(ctx context.Context) (net.Conn, error) {
	wait := c.Wait
	if wait == 0 {
		wait = 10 * time.Second
	}
	deadline := time.Now().Add(wait)
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "unix", c.Socket)
		if err == nil {
			return conn, nil
		}
		gone := errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
		if !gone || time.Now().After(deadline) || ctx.Err() != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c Client) call(ctx context.Context, req request) (*response, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("front %s: %w", c.Socket, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return nil, fmt.Errorf("front %s: %w", c.Socket, err)
	}
	var resp response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("front %s: %w", c.Socket, err)
	}
	if resp.Error != "" {
		return &resp, errors.New(resp.Error)
	}
	return &resp, nil
}

// Add asks the front to add b once healthy.
func (c Client) Add(ctx context.Context, b Backend, h Health) error {
	_, err := c.call(ctx, request{Op: "add", Backend: b, Health: h})
	return err
}

// Drain asks the front to drain and forget a backend.
func (c Client) Drain(ctx context.Context, name string, timeout time.Duration) error {
	_, err := c.call(ctx, request{Op: "drain", Name: name, Timeout: Duration{timeout}})
	return err
}

// Stats returns a backend's counts.
func (c Client) Stats(ctx context.Context, name string) (Stats, error) {
	resp, err := c.call(ctx, request{Op: "stats", Name: name})
	if err != nil || resp.Stats == nil {
		return Stats{}, err
	}
	return *resp.Stats, nil
}

// Backends lists the backends in rotation (and, of a front run by
// Serve, those it is restoring after a restart).
func (c Client) Backends(ctx context.Context) ([]Backend, error) {
	resp, err := c.call(ctx, request{Op: "list"})
	if err != nil {
		return nil, err
	}
	return resp.Backends, nil
}
