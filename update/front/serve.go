package front

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alicorn-dev/alicorn/internal/tempfile"
)

// Config is how Serve runs a front as a long-lived process.
type Config struct {
	// Listen is the public address (HOST:PORT).
	Listen string
	// Socket is the control socket's path; Client drives the front
	// through it. It is created mode 0600.
	Socket string
	// State is the file the rotation is kept in, so that a restarted
	// front serves the same backends; "" keeps no state. The
	// directories of Socket and State are created (0700) if missing.
	State string
	// Logf, when set, is told what the front does: backends restored
	// and failing their health check, state not written, the HTTP
	// server's errors.
	Logf func(format string, args ...any)
	// ShutdownTimeout is how long requests in flight may take once ctx
	// is done (default 10s).
	ShutdownTimeout time.Duration
}

// Serve runs a front until ctx is done: it answers on cfg.Listen, takes
// add, drain, stats and list requests on cfg.Socket, and keeps the
// rotation in cfg.State, written after each add and drain.
//
// At start, the backends recorded in cfg.State are added again, each
// once it passes its recorded health check, in the background: the
// public address answers at once (503 until a backend is back), and a
// backend whose check fails is checked again until it passes, is drained
// or added anew through the socket, or the front stops. A stale socket
// file (no process answers on it) is replaced; Serve refuses to start
// when another process answers on it, or when cfg.Listen is taken.
//
// When ctx is done, Serve stops taking connections and control
// requests, lets the requests in flight finish (at most
// cfg.ShutdownTimeout), removes its socket, and returns nil.
func Serve(ctx context.Context, cfg Config) error {
	if cfg.Listen == "" || cfg.Socket == "" {
		return errors.New("front: Config needs Listen and Socket")
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	recorded, err := readState(cfg.State)
	var damaged *damagedError
	if errors.As(err, &damaged) {
		// The public address must answer: the front starts with no
		// backend, and an updater's recover adds them back.
		aside := cfg.State + ".damaged"
		if rerr := os.Rename(cfg.State, aside); rerr != nil {
			return errors.Join(err, rerr)
		}
		logf("front: %v: starting with no backend (the file is now %s; module-update recover adds the backends back)", err, aside)
		recorded, err = state{}, nil
	}
	if err != nil {
		return err
	}
	for _, dir := range []string{filepath.Dir(cfg.Socket), filepath.Dir(cmp.Or(cfg.State, cfg.Socket))} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("front: %w", err)
		}
	}
	if err := checkSocket(ctx, cfg.Socket); err != nil {
		return err
	}
	var lc net.ListenConfig
	pub, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("front: public address %s: %w", cfg.Listen, err)
	}
	defer pub.Close()
	ctl, ctlInfo, err := listenSocket(ctx, cfg.Socket)
	if err != nil {
		return err
	}
	defer removeSocket(cfg.Socket, ctlInfo)
	defer ctl.Close()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	s := &server{
		p:       New(),
		state:   cfg.State,
		logf:    logf,
		health:  map[string]Health{},
		pending: map[string]*restore{},
	}
	errorLog := log.New(logWriter(logf), "", 0)
	s.p.rp.ErrorLog = errorLog // bodies cut short, by the backend or the client
	for _, r := range recorded.Backends {
		s.restore(runCtx, r.Backend(), r.Health.Health())
	}
	hs := &http.Server{
		Handler:           s.p,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          errorLog,
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(pub) }()
	controlled := make(chan error, 1)
	go func() { controlled <- serveControl(runCtx, ctl, s.do) }()
	logf("front: answering on %s, control socket %s, %d backends to restore", pub.Addr(), cfg.Socket, len(recorded.Backends))

	var failed error
	select {
	case <-ctx.Done():
	case err := <-served:
		failed = fmt.Errorf("front: serving %s: %w", cfg.Listen, err)
	case err := <-controlled:
		failed = fmt.Errorf("front: control socket %s: %w", cfg.Socket, err)
		controlled <- nil
	}
	stop()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmp.Or(cfg.ShutdownTimeout, 10*time.Second))
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		if failed == nil {
			failed = fmt.Errorf("front: shutting down %s: %w", cfg.Listen, err)
		}
	}
	<-controlled
	s.wg.Wait()
	logf("front: %s stopped", pub.Addr())
	return failed
}

// server is a front run by Serve: the proxy, and what the state file
// records besides its rotation.
type server struct {
	p     *Proxy
	state string
	logf  func(string, ...any)
	wg    sync.WaitGroup // restores

	mu      sync.Mutex          // the maps and the state file
	health  map[string]Health   // of the backends in rotation
	pending map[string]*restore // recorded backends not in rotation yet
}

// restore is a recorded backend being added again.
type restore struct {
	b      Backend
	h      Health
	cancel context.CancelFunc
	done   chan struct{}
}

// restore adds a recorded backend again in the background, once it
// passes its health check.
func (s *server) restore(ctx context.Context, b Backend, h Health) {
	ctx, cancel := context.WithCancel(ctx)
	r := &restore{b: b, h: h, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.pending[b.Name] = r
	s.mu.Unlock()
	s.wg.Go(func() {
		defer close(r.done)
		defer cancel()
		for {
			err := s.p.Add(ctx, b, h)
			if _, in := s.p.Stats(b.Name); err == nil || in {
				s.mu.Lock()
				if s.pending[b.Name] == r {
					delete(s.pending, b.Name)
				}
				s.health[b.Name] = h
				s.mu.Unlock()
				s.logf("front: backend %s (%s) restored", b.Name, b.Addr)
				return
			}
			if ctx.Err() != nil {
				return
			}
			s.logf("front: restoring %v; checking again", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(cmp.Or(h.Interval, time.Second)):
			}
		}
	})
}

// settle stops restoring name, if it is being restored, and tells
// whether it was.
func (s *server) settle(name string) bool {
	s.mu.Lock()
	r, ok := s.pending[name]
	delete(s.pending, name)
	s.mu.Unlock()
	if ok {
		r.cancel()
		<-r.done
	}
	return ok
}

// do answers a control request, and records the rotation after an add
// or a drain.
func (s *server) do(ctx context.Context, req request, resp *response) error {
	switch req.Op {
	case "add":
		// An add replaces a recorded backend of that name not back yet.
		settled := s.settle(req.Backend.Name)
		if err := s.p.Add(ctx, req.Backend, req.Health); err != nil {
			if settled {
				s.save()
			}
			return err
		}
		s.mu.Lock()
		s.health[req.Backend.Name] = req.Health
		s.mu.Unlock()
		if err := s.save(); err != nil {
			return fmt.Errorf("backend %s added, but not recorded: %w", req.Backend.Name, err)
		}
		return nil
	case "drain":
		wasPending := s.settle(req.Name)
		var err error
		if _, in := s.p.Stats(req.Name); in || !wasPending {
			// Drain takes the backend out of the rotation even when its
			// requests outlast the timeout: record that too.
			err = s.p.Drain(ctx, req.Name, req.Timeout.Duration)
		}
		s.mu.Lock()
		delete(s.health, req.Name)
		s.mu.Unlock()
		if serr := s.save(); serr != nil {
			return errors.Join(err, fmt.Errorf("backend %s drained, but not recorded: %w", req.Name, serr))
		}
		return err
	case "list":
		// The backends being restored are listed too, so that an
		// updater drains those whose containers are gone.
		resp.Backends = s.p.Backends()
		s.mu.Lock()
		for _, name := range slices.Sorted(maps.Keys(s.pending)) {
			resp.Backends = append(resp.Backends, s.pending[name].b)
		}
		s.mu.Unlock()
		return nil
	}
	return s.p.do(ctx, req, resp)
}

// state is the state file's content.
type state struct {
	Version  int            `json:"version"`
	Backends []stateBackend `json:"backends"`
}

type stateBackend struct {
	Name   string      `json:"name"`
	Addr   string      `json:"addr"`
	Health stateHealth `json:"health"`
}

type stateHealth struct {
	Path     string   `json:"path,omitempty"`
	Expect   string   `json:"expect,omitempty"`
	Interval Duration `json:"interval"`
	Timeout  Duration `json:"timeout"`
}

func (b stateBackend) Backend() Backend { return Backend{Name: b.Name, Addr: b.Addr} }

func (h stateHealth) Health() Health {
	return Health{Path: h.Path, Expect: h.Expect, Interval: h.Interval.Duration, Timeout: h.Timeout.Duration}
}

func recordOf(b Backend, h Health) stateBackend {
	return stateBackend{Name: b.Name, Addr: b.Addr, Health: stateHealth{
		Path: h.Path, Expect: h.Expect, Interval: Duration{h.Interval}, Timeout: Duration{h.Timeout}}}
}

const statePrefix = ".front-state."

// damagedError is readState's for a state file it cannot read.
type damagedError struct{ error }

func (e *damagedError) Unwrap() error { return e.error }

// readState reads a state file; a missing one (or none) holds no
// backend.
func readState(path string) (state, error) {
	var st state
	if path == "" {
		return st, nil
	}
	_ = tempfile.Sweep(filepath.Dir(path), statePrefix)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("front: state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return state{}, &damagedError{fmt.Errorf("front: state %s: %w", path, err)}
	}
	if st.Version != 1 {
		return state{}, &damagedError{fmt.Errorf("front: state %s: version %d, not 1", path, st.Version)}
	}
	return st, nil
}

// save writes the rotation and the backends being restored to the state
// file, atomically (a temporary file renamed over it), and logs a
// failure.
func (s *server) save() error {
	if s.state == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := state{Version: 1, Backends: []stateBackend{}}
	for _, b := range s.p.Backends() {
		st.Backends = append(st.Backends, recordOf(b, s.health[b.Name]))
	}
	for _, name := range slices.Sorted(maps.Keys(s.pending)) {
		r := s.pending[name]
		st.Backends = append(st.Backends, recordOf(r.b, r.h))
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err == nil {
		if err = tempfile.WriteFile(s.state, append(data, '\n'), statePrefix); err != nil {
			err = fmt.Errorf("state %s: %w", s.state, err)
		}
	}
	if err != nil {
		s.logf("front: %v", err)
	}
	return err
}

// checkSocket refuses a socket another process answers on, and removes
// a stale one.
func checkSocket(ctx context.Context, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("front: control socket: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("front: control socket %s: exists and is not a socket", path)
	}
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "unix", path)
	if err == nil {
		c.Close()
		return fmt.Errorf("front: control socket %s: another front answers on it", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		// Not known to be stale (another user's front, say): left alone.
		return fmt.Errorf("front: control socket %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("front: stale control socket: %w", err)
	}
	return nil
}

// listenSocket listens on a Unix socket at path, mode 0600 from the
// start: it is created under a temporary name, restricted, then renamed.
func listenSocket(ctx context.Context, path string) (net.Listener, fs.FileInfo, error) {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+strconv.Itoa(os.Getpid()))
	os.Remove(tmp)
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "unix", tmp)
	if err != nil {
		return nil, nil, fmt.Errorf("front: control socket %s: %w", path, err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false) // it is renamed: removeSocket removes it
	err = os.Chmod(tmp, 0o600)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	var fi fs.FileInfo
	if err == nil {
		fi, err = os.Lstat(path)
	}
	if err != nil {
		l.Close()
		os.Remove(tmp)
		return nil, nil, fmt.Errorf("front: control socket %s: %w", path, err)
	}
	return l, fi, nil
}

// removeSocket removes the socket at path if it is still the one
// listenSocket made.
func removeSocket(path string, ours fs.FileInfo) {
	if fi, err := os.Lstat(path); err == nil && os.SameFile(fi, ours) {
		os.Remove(path)
	}
}

// logWriter turns the HTTP server's log lines into logf calls.
type logWriter func(string, ...any)

func (w logWriter) Write(p []byte) (int, error) {
	w("front: %s", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
