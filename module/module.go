package module

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Module is one container-based module.
type Module struct {
	// Name identifies the module (letters, digits, '-', '_', '.').
	Name string `toml:"name"`
	// Image is the reference of the image the module runs, with its
	// transport (docker://HOST/REPO:TAG, oci:DIR, containers-storage:NAME…).
	Image      string      `toml:"image"`
	Containers []Container `toml:"containers"`
	Health     Health      `toml:"health"`
	Update     Update      `toml:"update"`
	// Front holds the module's public address across updates; its
	// served containers listen on loopback ports behind it.
	Front Front `toml:"front"`
	// Build is the recipe of the module's image, and Test how a rebuilt
	// image is tested, for the build service (update/…); both optional.
	Build Build `toml:"build"`
	Test  Test  `toml:"test"`
	// OSV are OSV feeds (JSON files, directories of them, all.zip files)
	// for the image's non-RPM packages, checked besides the reporter's
	// own; LoadDir makes relative paths relative to the module file.
	OSV []string `toml:"osv"`
	// Source is the file (or podman container) the module was read from.
	Source string `toml:"-"`
}

// Container is one container running the module's image.
type Container struct {
	Name string `toml:"name"`
	// Ports are published as podman writes them: [IP:]HOST:CONTAINER.
	// A container that publishes ports cannot run twice at once: an
	// update replaces it stopped, then started.
	Ports []string `toml:"ports"`
	// Volumes are mounted as podman writes them: SRC:DEST[:OPTIONS].
	Volumes []string `toml:"volumes"`
	// Serve is the container port the front sends requests to (80 for
	// the web server); the runtime publishes it on a free loopback port.
	// 0: the front does not serve this container (a helper).
	Serve int `toml:"serve"`
	// Replicas runs that many copies, named NAME-1…NAME-N (default 1:
	// NAME).
	Replicas int `toml:"replicas"`
	// Requires names containers started, and updated, before this one.
	Requires []string `toml:"requires"`
	// Entrypoint and Command replace the image's; Env adds KEY=VALUE
	// variables.
	Entrypoint []string `toml:"entrypoint"`
	Command    []string `toml:"command"`
	Env        []string `toml:"env"`
}

// Health is how to tell a container of the module works: an HTTP GET of
// Path on the first published port answers 200 with Expect in the body.
type Health struct {
	Path     string   `toml:"path"`
	Expect   string   `toml:"expect"`
	Interval Duration `toml:"interval"`
	Timeout  Duration `toml:"timeout"`
}

// Update is the module's update policy.
type Update struct {
	// Policy is "rolling" (one container at a time, default),
	// "blue-green" (a whole new set, then one switch), "recreate" (stop,
	// then start: downtime) or "manual" (report only).
	Policy string `toml:"policy"`
	// ReadyTimeout is how long a new container has to pass the health
	// check (default: [health] timeout, else 30s).
	ReadyTimeout Duration `toml:"ready-timeout"`
	// Drain is how long a removed container's requests in flight may
	// take (default 10s).
	Drain Duration `toml:"drain"`
	// Pause is how long a rolling update waits after each container,
	// checking the ones already replaced as the watch window does, so
	// that an image that fails a while after it starts is found while
	// the other containers still run the old one (default 2s).
	Pause Duration `toml:"pause"`
	// Watch is how long the new containers must stay up and healthy,
	// with an error rate under MaxErrorRate, before the update is
	// committed (default 10s; the old image is kept until then).
	Watch Duration `toml:"watch"`
	// MaxErrorRate is the share of the new containers' requests that may
	// fail (5xx or transport errors) in the watch window (default 0.01;
	// 0 allows none).
	MaxErrorRate *float64 `toml:"max-error-rate"`
}

// Front is where the module answers: the public address and the proxy
// that holds it.
type Front struct {
	// Listen is the public address (HOST:PORT).
	Listen string `toml:"listen"`
	// Kind is "builtin" (default: alicorn's own front, a process of its
	// own) or "haproxy" (an HAProxy driven through its runtime API).
	Kind string `toml:"kind"`
	// Socket is the front's control socket: the built-in front's
	// (default: front-NAME.sock in the state directory) or HAProxy's
	// runtime API ("stats socket … level admin").
	Socket string `toml:"socket"`
	// Backend is HAProxy's backend the containers are servers of
	// (default: the module's name).
	Backend string `toml:"backend"`
}

// Duration is a time.Duration written as Go writes it ("2s", "1m30s").
type Duration struct{ time.Duration }

// UnmarshalText reads a duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes a duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// ErrInvalid is wrapped by errors for modules that parse but make no sense.
var ErrInvalid = errors.New("invalid module")

// Parse reads one module file; name labels errors. Unknown keys are
// errors, so that a misspelt option is not silently ignored.
func Parse(data []byte, name string) (Module, error) {
	var m Module
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) && len(sm.Errors) > 0 {
			de := sm.Errors[0]
			row, col := de.Position()
			return Module{}, fmt.Errorf("%s:%d:%d: unknown option %s", name, row, col, strings.Join(de.Key(), "."))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return Module{}, fmt.Errorf("%s:%d:%d: %s", name, row, col, de.Error())
		}
		return Module{}, fmt.Errorf("%s: %w", name, err)
	}
	m.Source = name
	if err := m.validate(); err != nil {
		return Module{}, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

func (m *Module) validate() error {
	if m.Name == "" || strings.Trim(m.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
		return fmt.Errorf("%w: name %q: use letters, digits, '-', '_' and '.'", ErrInvalid, m.Name)
	}
	if m.Image == "" {
		return fmt.Errorf("%w: module %s names no image", ErrInvalid, m.Name)
	}
	switch m.Update.Policy {
	case "":
		m.Update.Policy = "rolling"
	case "rolling", "blue-green", "recreate", "manual":
	default:
		return fmt.Errorf("%w: module %s: update policy %q (rolling, blue-green, recreate or manual)", ErrInvalid, m.Name, m.Update.Policy)
	}
	if m.Source == "podman" {
		// A module seen in podman has containers, not a deployment:
		// an update's candidates run beside the containers they
		// replace.
		return nil
	}
	if err := m.validateDeploy(); err != nil {
		return fmt.Errorf("%w: module %s: %w", ErrInvalid, m.Name, err)
	}
	if m.Health.Path != "" && !strings.HasPrefix(m.Health.Path, "/") {
		return fmt.Errorf("%w: module %s: health path %q must start with /", ErrInvalid, m.Name, m.Health.Path)
	}
	if !m.Build.empty() {
		if err := m.Build.validate(m.Image); err != nil {
			return fmt.Errorf("%w: module %s: %w", ErrInvalid, m.Name, err)
		}
	}
	if !m.Test.empty() {
		if err := m.Test.validate(); err != nil {
			return fmt.Errorf("%w: module %s: %w", ErrInvalid, m.Name, err)
		}
	}
	return nil
}

// Buildable reports whether the module has a recipe.
func (m *Module) Buildable() bool { return !m.Build.empty() }

// LoadDir reads every *.toml file in dir, in name order. A missing
// directory holds no modules; two modules of one name are an error.
func LoadDir(dir string) ([]Module, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Module
	seen := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		m, err := Parse(b, f)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[m.Name]; ok {
			return nil, fmt.Errorf("%s: %w: module %s is also defined in %s", f, ErrInvalid, m.Name, prev)
		}
		seen[m.Name] = f
		m.resolve(filepath.Dir(f))
		out = append(out, m)
	}
	if err := distinct(out); err != nil {
		return nil, err
	}
	return out, nil
}

// distinct checks what modules share on one host: podman's container
// names and the fronts' addresses.
func distinct(mods []Module) error {
	containers := map[string]string{}
	listens := map[string]string{}
	for _, m := range mods {
		for _, c := range m.Deployment() {
			if prev, ok := containers[c.Name]; ok {
				return fmt.Errorf("%s: %w: container %s is also module %s's (podman's names are the host's)", m.Source, ErrInvalid, c.Name, prev)
			}
			containers[c.Name] = m.Name
		}
		if l := m.Front.Listen; l != "" {
			if prev, ok := listens[l]; ok {
				return fmt.Errorf("%s: %w: [front] listen %s is also module %s's", m.Source, ErrInvalid, l, prev)
			}
			listens[l] = m.Name
		}
	}
	return nil
}

// Label marks the podman containers of a module: io.alicorn.module=NAME.
const Label = "io.alicorn.module"

// podmanContainer is what podman ps --format json prints of a container.
type podmanContainer struct {
	Names   []string          `json:"Names"`
	Image   string            `json:"Image"`
	ImageID string            `json:"ImageID"`
	Labels  map[string]string `json:"Labels"`
	Ports   []struct {
		HostIP        string `json:"host_ip"`
		HostPort      int    `json:"host_port"`
		ContainerPort int    `json:"container_port"`
		Range         int    `json:"range"`
	} `json:"Ports"`
}

// FromPodman discovers modules from podman's containers (running or not)
// labelled with Label: one module per label value, whose image is the
// containers' image in podman's storage.
func FromPodman(ctx context.Context) ([]Module, error) {
	out, err := exec.CommandContext(ctx, "podman", "ps", "--all", "--filter", "label="+Label, "--format", "json").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("podman ps: %w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("podman ps: %w", err)
	}
	return parsePodman(out)
}

func parsePodman(out []byte) ([]Module, error) {
	var cs []podmanContainer
	if err := json.Unmarshal(out, &cs); err != nil {
		return nil, fmt.Errorf("podman ps: %w", err)
	}
	byName := map[string]*Module{}
	var order []string
	for _, c := range cs {
		name := c.Labels[Label]
		if name == "" {
			continue
		}
		m := byName[name]
		if m == nil {
			image := c.Image
			if c.ImageID != "" {
				image = c.ImageID
			}
			m = &Module{Name: name, Image: "containers-storage:" + image, Source: "podman"}
			byName[name] = m
			order = append(order, name)
		}
		ct := Container{}
		if len(c.Names) > 0 {
			ct.Name = c.Names[0]
		}
		for _, p := range c.Ports {
			for i := 0; i < max(p.Range, 1); i++ {
				port := fmt.Sprintf("%d:%d", p.HostPort+i, p.ContainerPort+i)
				if p.HostIP != "" {
					port = p.HostIP + ":" + port
				}
				ct.Ports = append(ct.Ports, port)
			}
		}
		m.Containers = append(m.Containers, ct)
	}
	sort.Strings(order)
	var mods []Module
	for _, n := range order {
		m := byName[n]
		if err := m.validate(); err != nil {
			return nil, fmt.Errorf("podman containers labelled %s=%s: %w", Label, n, err)
		}
		mods = append(mods, *m)
	}
	return mods, nil
}
