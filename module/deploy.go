package module

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults of [update] when the file leaves them out.
const (
	DefaultReadyTimeout = 30 * time.Second
	DefaultDrain        = 10 * time.Second
	DefaultWatch        = 10 * time.Second
	DefaultPause        = 2 * time.Second
	DefaultMaxErrorRate = 0.01
)

func (m *Module) validateDeploy() error {
	seen := map[string]bool{}
	for _, c := range m.Containers {
		if c.Name == "" || strings.Trim(c.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" ||
			strings.Contains(c.Name, "--") {
			return fmt.Errorf("container name %q: use letters, digits, '-' (not \"--\"), '_' and '.'", c.Name)
		}
		if seen[c.Name] {
			return fmt.Errorf("container %s is defined twice", c.Name)
		}
		seen[c.Name] = true
		if c.Replicas < 0 || c.Replicas > 100 {
			return fmt.Errorf("container %s: replicas %d (1 to 100)", c.Name, c.Replicas)
		}
		if c.Serve < 0 || c.Serve > 65535 {
			return fmt.Errorf("container %s: serve %d is not a port", c.Name, c.Serve)
		}
		if len(c.Ports) > 0 && c.Replicas > 1 {
			return fmt.Errorf("container %s: %d replicas cannot all publish the fixed ports %v (serve publishes a free loopback port for each)", c.Name, c.Replicas, c.Ports)
		}
		for _, e := range c.Env {
			if !strings.Contains(e, "=") {
				return fmt.Errorf("container %s: env %q is not KEY=VALUE", c.Name, e)
			}
		}
	}
	for _, c := range m.Containers {
		for _, r := range c.Requires {
			if !seen[r] {
				return fmt.Errorf("container %s requires %s, which the module does not define", c.Name, r)
			}
		}
	}
	if _, err := m.order(); err != nil {
		return err
	}
	names := map[string]bool{}
	for _, c := range m.Deployment() {
		if names[c.Name] {
			return fmt.Errorf("container %s: two containers would be named so (replicas are NAME-1…NAME-N)", c.Name)
		}
		names[c.Name] = true
	}
	u := m.Update
	for _, d := range []struct {
		name string
		v    Duration
	}{{"ready-timeout", u.ReadyTimeout}, {"drain", u.Drain}, {"watch", u.Watch}, {"pause", u.Pause}} {
		if d.v.Duration < 0 {
			return fmt.Errorf("[update] %s %v is negative", d.name, d.v.Duration)
		}
	}
	if r := u.MaxErrorRate; r != nil && (*r < 0 || *r > 1) {
		return fmt.Errorf("[update] max-error-rate %v: a share from 0 to 1", *r)
	}
	f := m.Front
	switch f.Kind {
	case "", "builtin", "haproxy":
	default:
		return fmt.Errorf("[front] kind %q (builtin or haproxy)", f.Kind)
	}
	if f.Listen == "" {
		if f.Kind != "" || f.Socket != "" || f.Backend != "" {
			return fmt.Errorf("[front] has no listen address")
		}
		return nil
	}
	if _, port, err := net.SplitHostPort(f.Listen); err != nil || port == "" {
		return fmt.Errorf("[front] listen %q: HOST:PORT", f.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("[front] listen %q: port %s is not a port", f.Listen, port)
	}
	if f.Kind == "haproxy" && f.Socket == "" {
		return fmt.Errorf("[front] kind haproxy needs the socket of its runtime API")
	}
	served := false
	for _, c := range m.Containers {
		served = served || c.Serve > 0
	}
	if !served {
		return fmt.Errorf("[front] listens on %s but no container has a serve port", f.Listen)
	}
	return nil
}

// order returns the module file's containers with every container after
// those it requires (else in file order); a cycle is an error.
func (m *Module) order() ([]Container, error) {
	byName := map[string]Container{}
	for _, c := range m.Containers {
		byName[c.Name] = c
	}
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var out []Container
	var visit func(c Container, path []string) error
	visit = func(c Container, path []string) error {
		switch state[c.Name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("containers require each other: %s", strings.Join(append(path, c.Name), " → "))
		}
		state[c.Name] = visiting
		for _, r := range c.Requires {
			if err := visit(byName[r], append(path, c.Name)); err != nil {
				return err
			}
		}
		state[c.Name] = done
		out = append(out, c)
		return nil
	}
	for _, c := range m.Containers {
		if err := visit(c, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Deployment returns the containers that run, in the order they start
// and are updated in (each after those it requires), with replicas
// expanded: a container with Replicas 3 is NAME-1, NAME-2 and NAME-3,
// each with Replicas 0 and Of naming the file's container.
func (m *Module) Deployment() []Replica {
	cs, err := m.order()
	if err != nil {
		cs = m.Containers
	}
	var out []Replica
	for _, c := range cs {
		if c.Replicas <= 1 {
			out = append(out, Replica{Container: c, Of: c.Name})
			continue
		}
		for i := 1; i <= c.Replicas; i++ {
			r := Replica{Container: c, Of: c.Name}
			r.Name = fmt.Sprintf("%s-%d", c.Name, i)
			r.Replicas = 0
			out = append(out, r)
		}
	}
	return out
}

// Replica is one running copy of a module file's container.
type Replica struct {
	Container
	// Of is the module file's container it is a copy of.
	Of string
}

// ReadyTimeoutOr is how long a new container has to become healthy:
// ReadyTimeout, else the health check's timeout, else
// DefaultReadyTimeout.
func (u Update) ReadyTimeoutOr(h Health) time.Duration {
	switch {
	case u.ReadyTimeout.Duration > 0:
		return u.ReadyTimeout.Duration
	case h.Timeout.Duration > 0:
		return h.Timeout.Duration
	}
	return DefaultReadyTimeout
}

// DrainOr returns Drain, or DefaultDrain when unset.
func (u Update) DrainOr() time.Duration {
	if u.Drain.Duration > 0 {
		return u.Drain.Duration
	}
	return DefaultDrain
}

// WatchOr returns Watch, or DefaultWatch when unset.
func (u Update) WatchOr() time.Duration {
	if u.Watch.Duration > 0 {
		return u.Watch.Duration
	}
	return DefaultWatch
}

// PauseOr returns Pause, or DefaultPause when unset.
func (u Update) PauseOr() time.Duration {
	if u.Pause.Duration > 0 {
		return u.Pause.Duration
	}
	return DefaultPause
}

// MaxErrorRateOr returns MaxErrorRate, or DefaultMaxErrorRate when unset.
func (u Update) MaxErrorRateOr() float64 {
	if u.MaxErrorRate != nil {
		return *u.MaxErrorRate
	}
	return DefaultMaxErrorRate
}

// SocketIn returns the front's control socket: Socket, else
// front-NAME.sock in stateDir.
func (f Front) SocketIn(stateDir, module string) string {
	if f.Socket != "" {
		return f.Socket
	}
	return filepath.Join(stateDir, "front-"+module+".sock")
}
