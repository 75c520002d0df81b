package haproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/alicorn-dev/alicorn/update/front"
)

// ErrNoServer is wrapped by the errors about a server the backend does
// not hold.
var ErrNoServer = errors.New("no such server")

// pollEvery is how often Drain looks at a draining server's sessions.
const pollEvery = 50 * time.Millisecond

// Front is a module's HAProxy backend, driven through HAProxy's runtime
// API: each backend of the module is a dynamic server of Backend, named
// as the backend (see the package documentation for the names allowed).
// It is an update.Front.
type Front struct {
	// Socket is the path of the runtime API's Unix socket ("stats
	// socket … level admin" in haproxy.cfg).
	Socket string
	// Backend is HAProxy's backend the servers are added to.
	Backend string
	// Client runs Add's health checks; nil: a client with a 5s timeout.
	Client *http.Client
	// Server holds more keywords of "add server" (say "check inter 2s
	// fall 2" for HAProxy's own checks, as the backend's "option
	// httpchk" says); with "check" among them Add also enables the
	// server's health checks. Empty: none.
	Server string
}

// Add checks b's health as h says (front.WaitHealthy), then adds b as a
// server of the backend ("add server", which HAProxy 2.6 starts in
// maintenance) and enables it ("enable health" when checked, "enable
// server"). A backend that does not become healthy within h.Timeout is not
// added.
func (f Front) Add(ctx context.Context, b front.Backend, h front.Health) error {
	srv, err := f.server(b.Name)
	if err != nil {
		return err
	}
	if err := checkAddr(b.Addr); err != nil {
		return fmt.Errorf("haproxy server %s: %w", srv, err)
	}
	if strings.ContainsAny(f.Server, ";\n\r") {
		return fmt.Errorf("haproxy server %s: keywords %q: no ';' or newline", srv, f.Server)
	}
	c := f.Client
	if c == nil {
		c = &http.Client{Timeout: 5 * time.Second}
	}
	if err := front.WaitHealthy(ctx, c, b.Addr, h); err != nil {
		return fmt.Errorf("backend %s (%s): %w", b.Name, b.Addr, err)
	}
	add := strings.TrimSpace("add server " + srv + " " + b.Addr + " " + f.Server)
	if err := expect(ctx, f.Socket, add, "New server registered."); err != nil {
		return err
	}
	enable := []string{"enable server " + srv}
	if slices.Contains(strings.Fields(f.Server), "check") {
		enable = append([]string{"enable health " + srv}, enable...)
	}
	for _, cmd := range enable {
		if err := expect(ctx, f.Socket, cmd, ""); err != nil {
			// Still in maintenance: take it away again.
			return errors.Join(err, expect(context.WithoutCancel(ctx), f.Socket, "del server "+srv, "Server deleted."))
		}
	}
	return nil
}

// Drain sets the server to drain (no new request goes to it, those in
// flight finish), waits until it has no session and none queued (show
// stat's scur and qcur), at most timeout, and then removes it: "set server
// … state maint" and "del server". When the timeout passes first, the
// server's sessions are shut down ("shutdown sessions server"), it is
// removed all the same, and the error says that requests were still in
// flight. When ctx ends first the server is left draining.
func (f Front) Drain(ctx context.Context, name string, timeout time.Duration) error {
	srv, err := f.server(name)
	if err != nil {
		return err
	}
	if err := f.set(ctx, srv, "set server "+srv+" state drain"); err != nil {
		return err
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var late error
	for late == nil {
		st, err := f.stats(ctx)
		if err != nil {
			return err
		}
		r, ok := st[name]
		if !ok {
			return fmt.Errorf("haproxy backend %s: server %s: %w", f.Backend, name, ErrNoServer)
		}
		if r.int64("scur")+r.int64("qcur") == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("haproxy server %s: draining: %w", srv, ctx.Err())
		case <-deadline.C:
			late = fmt.Errorf("backend %s: requests still in flight after %v", name, timeout)
		case <-tick.C:
		}
	}
	if err := f.set(ctx, srv, "set server "+srv+" state maint"); err != nil {
		return err
	}
	if late != nil {
		if err := f.set(ctx, srv, "shutdown sessions server "+srv); err != nil {
			return err
		}
	}
	if err := f.del(ctx, srv); err != nil {
		return errors.Join(late, err)
	}
	return late
}

// del deletes a server in maintenance. HAProxy refuses while the server
// still has connections (those just shut down close asynchronously, and
// idle kept-alive ones are closed on maintenance): it is tried again for
// a second.
func (f Front) del(ctx context.Context, srv string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	for {
		err := expect(ctx, f.Socket, "del server "+srv, "Server deleted.")
		if err == nil || !strings.Contains(err.Error(), "connections attached") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pollEvery):
		}
	}
}

// set runs a command that answers nothing, and tells an unknown server.
func (f Front) set(ctx context.Context, srv, cmd string) error {
	err := expect(ctx, f.Socket, cmd, "")
	if err != nil && strings.Contains(err.Error(), "No such server.") {
		return fmt.Errorf("%w: %w", err, ErrNoServer)
	}
	return err
}

// Stats returns the server's counts since it was added, from show stat.
// Both count attempts: a request HAProxy retries (on this server or
// another one) is one attempt on each. Requests is stot, the attempts
// given to the server; Errors are the attempts that did not end in an
// answer below 500: stot - scur (those in flight) - hrsp_1xx - hrsp_2xx -
// hrsp_3xx - hrsp_4xx. They are 5xx answers (hrsp_5xx), failed
// connections (econ), failed answers (eresp: cut, empty, late) and the
// attempts retried: HAProxy 2.6 counts a retried attempt in neither
// hrsp_5xx nor econ but in wretr and wredis both, so that their sum
// would count it twice or not at all.
func (f Front) Stats(ctx context.Context, name string) (front.Stats, error) {
	if _, err := f.server(name); err != nil {
		return front.Stats{}, err
	}
	st, err := f.stats(ctx)
	if err != nil {
		return front.Stats{}, err
	}
	r, ok := st[name]
	if !ok {
		return front.Stats{}, fmt.Errorf("haproxy backend %s: server %s: %w", f.Backend, name, ErrNoServer)
	}
	s := front.Stats{Requests: r.int64("stot")}
	s.Errors = max(0, s.Requests-r.int64("scur")-r.int64("hrsp_1xx")-r.int64("hrsp_2xx")-r.int64("hrsp_3xx")-r.int64("hrsp_4xx"))
	return s, nil
}

// Backends lists the servers in rotation: in show servers state, those
// running or starting (srv_op_state 2 or 1) and in no maintenance or
// drain (srv_admin_state 0), as HAProxy lists them.
func (f Front) Backends(ctx context.Context) ([]front.Backend, error) {
	if err := checkName(f.Backend); err != nil {
		return nil, fmt.Errorf("haproxy backend %q: %w", f.Backend, err)
	}
	cmd := "show servers state " + f.Backend
	out, err := run(ctx, f.Socket, cmd)
	if err != nil {
		return nil, err
	}
	rows, err := table(out, " ")
	if err != nil {
		return nil, fmt.Errorf("haproxy runtime API %s: %s: %w", f.Socket, cmd, err)
	}
	var bs []front.Backend
	for _, r := range rows {
		op, admin := r["srv_op_state"], r["srv_admin_state"]
		if (op == "1" || op == "2") && admin == "0" {
			bs = append(bs, front.Backend{Name: r["srv_name"], Addr: net.JoinHostPort(r["srv_addr"], r["srv_port"])})
		}
	}
	return bs, nil
}

// server returns "BACKEND/NAME", HAProxy's name of the server for the
// backend named name.
func (f Front) server(name string) (string, error) {
	if err := checkName(f.Backend); err != nil {
		return "", fmt.Errorf("haproxy backend %q: %w", f.Backend, err)
	}
	if err := checkName(name); err != nil {
		return "", fmt.Errorf("haproxy server %q: %w", name, err)
	}
	return f.Backend + "/" + name, nil
}

// checkName accepts the characters HAProxy allows in a proxy's or a
// server's name: letters, digits, '-', '_', '.' and ':'.
func checkName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	for _, c := range name {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("-_.:", c)
		if !ok {
			return fmt.Errorf("character %q not allowed (letters, digits, '-', '_', '.', ':')", c)
		}
	}
	return nil
}

// checkAddr accepts HOST:PORT with no blank or command separator in it.
func checkAddr(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil || strings.ContainsAny(addr, " \t\r\n;") {
		return fmt.Errorf("address %q: not HOST:PORT", addr)
	}
	return nil
}
