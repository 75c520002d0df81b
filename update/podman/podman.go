package podman

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/alicorn-dev/alicorn/internal/podman"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
)

// Runtime runs modules' containers with podman; it implements
// update.Runtime.
type Runtime struct {
	// Binary is podman's path ("" for podman on PATH) and ContainersConf
	// the containers.conf it runs with ("" for podman's own choice).
	Binary, ContainersConf string
	// TLSVerify false pulls from registries over plain HTTP or with
	// certificates nobody vouches for (loopback test registries).
	TLSVerify bool
}

func (r *Runtime) podman() podman.Podman {
	return podman.Podman{Binary: r.Binary, ContainersConf: r.ContainersConf}
}

// ErrNoSuchInstance is wrapped by Inspect's error for a container that
// does not exist.
var ErrNoSuchInstance = errors.New("no such container")

// Pull fetches ref into podman's storage and returns its image ID and
// manifest digest. ref carries its transport (docker://…, oci-archive:…,
// containers-storage:…); podman checks it under the host's policy.json.
func (r *Runtime) Pull(ctx context.Context, ref string) (update.Image, error) {
	args := []string{"pull", "--quiet"}
	if strings.HasPrefix(ref, "docker://") {
		args = append(args, "--tls-verify="+strconv.FormatBool(r.TLSVerify))
	}
	var id string
	if name, ok := strings.CutPrefix(ref, "containers-storage:"); ok {
		id = name
	} else {
		out, err := r.podman().Run(ctx, append(args, ref)...)
		if err != nil {
			return update.Image{}, fmt.Errorf("pulling %s: %w", ref, err)
		}
		lines := strings.Fields(out)
		if len(lines) == 0 {
			return update.Image{}, fmt.Errorf("pulling %s: podman printed no image ID", ref)
		}
		id = lines[len(lines)-1]
	}
	out, err := r.podman().Run(ctx, "image", "inspect", "--format", "{{.ID}} {{.Digest}}", id)
	if err != nil {
		return update.Image{}, fmt.Errorf("image %s: %w", ref, err)
	}
	f := strings.Fields(out)
	if len(f) != 2 {
		return update.Image{}, fmt.Errorf("image %s: podman image inspect printed %q", ref, out)
	}
	img := update.Image{ID: f[0], Digest: f[1]}
	if _, want, ok := strings.Cut(ref, "@"); ok && want != img.Digest {
		return update.Image{}, fmt.Errorf("image %s: podman holds it with digest %s", ref, img.Digest)
	}
	return img, nil
}

// container is what podman ps --format json prints of a container.
type container struct {
	ID       string            `json:"Id"`
	Names    []string          `json:"Names"`
	ImageID  string            `json:"ImageID"`
	Labels   map[string]string `json:"Labels"`
	State    string            `json:"State"`
	ExitCode int               `json:"ExitCode"`
	Ports    []struct {
		HostIP        string `json:"host_ip"`
		HostPort      int    `json:"host_port"`
		ContainerPort int    `json:"container_port"`
		Range         int    `json:"range"`
	} `json:"Ports"`
}

func (c container) instance(serve int) update.Instance {
	in := update.Instance{
		ID:        c.ID,
		Container: c.Labels[update.LabelContainer],
		Image:     update.Image{ID: c.ImageID, Digest: c.Labels[update.LabelDigest]},
		Running:   c.State == "running",
		Exit:      c.ExitCode,
	}
	if len(c.Names) > 0 {
		in.Name = c.Names[0]
	}
	for _, p := range c.Ports {
		if serve > 0 && p.ContainerPort <= serve && serve < p.ContainerPort+max(p.Range, 1) {
			host := p.HostIP
			if host == "" || host == "0.0.0.0" {
				host = "127.0.0.1"
			}
			in.Addr = fmt.Sprintf("%s:%d", host, p.HostPort+serve-p.ContainerPort)
		}
	}
	return in
}

func (r *Runtime) list(ctx context.Context, filter string) ([]container, error) {
	out, err := r.podman().Run(ctx, "ps", "--all", "--filter", filter, "--format", "json")
	if err != nil {
		return nil, err
	}
	return parseList([]byte(out))
}

// parseList reads podman ps --format json.
func parseList(out []byte) ([]container, error) {
	var cs []container
	if err := json.Unmarshal(out, &cs); err != nil {
		return nil, fmt.Errorf("podman ps: %w", err)
	}
	return cs, nil
}

// serves maps the module's containers to their serve ports.
func serves(m module.Module) map[string]int {
	out := map[string]int{}
	for _, c := range m.Deployment() {
		out[c.Name] = c.Serve
	}
	return out
}

// Instances lists m's containers (podman's labelled io.alicorn.module=NAME
// that carry a container label), sorted by creation as podman lists them.
func (r *Runtime) Instances(ctx context.Context, m module.Module) ([]update.Instance, error) {
	cs, err := r.list(ctx, "label="+module.Label+"="+m.Name)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Name, err)
	}
	ports := serves(m)
	var out []update.Instance
	for _, c := range cs {
		if c.Labels[update.LabelContainer] == "" {
			continue
		}
		out = append(out, c.instance(ports[c.Labels[update.LabelContainer]]))
	}
	return out, nil
}

// Start runs container c of m from img, named name.
func (r *Runtime) Start(ctx context.Context, m module.Module, c module.Replica, name string, img update.Image) (update.Instance, error) {
	args := []string{"run", "--detach", "--pull", "never", "--name", name,
		"--label", module.Label + "=" + m.Name,
		"--label", update.LabelContainer + "=" + c.Name,
		"--label", update.LabelDigest + "=" + img.Digest}
	if c.Serve > 0 {
		args = append(args, "--publish", fmt.Sprintf("127.0.0.1::%d/tcp", c.Serve))
	}
	for _, p := range c.Ports {
		args = append(args, "--publish", p)
	}
	for _, v := range c.Volumes {
		args = append(args, "--volume", v)
	}
	for _, e := range c.Env {
		args = append(args, "--env", e)
	}
	if len(c.Entrypoint) > 0 {
		ep, err := json.Marshal(c.Entrypoint)
		if err != nil {
			return update.Instance{}, err
		}
		args = append(args, "--entrypoint", string(ep))
	}
	args = append(args, img.ID)
	args = append(args, c.Command...)
	out, err := r.podman().Run(ctx, args...)
	if err != nil {
		// A container created but not started is removed: no orphan.
		r.podman().Run(context.WithoutCancel(ctx), "rm", "--force", "--ignore", name)
		return update.Instance{}, fmt.Errorf("module %s: starting %s: %w", m.Name, name, err)
	}
	return r.Inspect(ctx, m, strings.TrimSpace(out))
}

// Inspect returns the instance id of m as it is now.
func (r *Runtime) Inspect(ctx context.Context, m module.Module, id string) (update.Instance, error) {
	cs, err := r.list(ctx, "id="+id)
	if err != nil {
		return update.Instance{}, err
	}
	if len(cs) == 0 {
		return update.Instance{}, fmt.Errorf("container %s: %w", id, ErrNoSuchInstance)
	}
	return cs[0].instance(serves(m)[cs[0].Labels[update.LabelContainer]]), nil
}

// Rename gives container id the name name.
func (r *Runtime) Rename(ctx context.Context, id, name string) error {
	_, err := r.podman().Run(ctx, "rename", id, name)
	return err
}

// Remove stops container id (its stop signal, then SIGKILL after
// timeout) and removes it; a container that is gone is no error.
//
// A container whose podman was killed while it started it may refuse
// removal for a while ("unlinkat …/userdata/shm: device or resource
// busy"): it is cleaned up and removal tried again, 5 times in all.
func (r *Runtime) Remove(ctx context.Context, id string, timeout time.Duration) error {
	secs := strconv.Itoa(int((timeout + time.Second - 1) / time.Second))
	var err error
	for try := 1; ; try++ {
		if _, err = r.podman().Run(ctx, "rm", "--force", "--ignore", "--time", secs, id); err == nil || try == 5 || ctx.Err() != nil {
			return err
		}
		r.podman().Run(ctx, "container", "cleanup", id)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(try) * 500 * time.Millisecond):
		}
	}
}

// RemoveImage removes an image no container uses any more; one still in
// use is left, with no error.
func (r *Runtime) RemoveImage(ctx context.Context, id string) error {
	if _, err := r.podman().Run(ctx, "image", "exists", id); err != nil {
		return nil
	}
	out, err := r.podman().Run(ctx, "ps", "--all", "--quiet", "--filter", "ancestor="+id)
	if err == nil && strings.TrimSpace(out) != "" {
		return nil
	}
	_, err = r.podman().Run(ctx, "rmi", id)
	return err
}

var _ update.Runtime = (*Runtime)(nil)

// Logs returns the last lines a container wrote (standard output and
// error), for the error of one that ended or failed its checks.
func (r *Runtime) Logs(ctx context.Context, id string, lines int) string {
	cmd := r.podman().Command(ctx, "logs", "--tail", strconv.Itoa(lines), id)
	b, _ := cmd.CombinedOutput()
	return strings.TrimSpace(string(b))
}
