package gate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/alicorn-dev/alicorn/internal/podman"
	"github.com/alicorn-dev/alicorn/module"
)

// Names and labels of test containers and images. A check's ID is
// PID-UNIXTIME-RANDOM: the process that made it and when.
const (
	// Label marks test containers; its value is the check's ID.
	Label = "io.alicorn.gate"
	// LabelModule names the module a test container tests.
	LabelModule = "io.alicorn.gate.module"
	// containerPrefix + ID names a test container, imagePrefix:ID its
	// image.
	containerPrefix = "alicorn-gate-"
	imagePrefix     = "localhost/alicorn-gate"
)

// newID makes a check's ID.
func newID(now time.Time) (string, error) {
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d-%d-%s", os.Getpid(), now.Unix(), hex.EncodeToString(r[:])), nil
}

// parseID returns the process and time of a check's ID.
func parseID(id string) (pid int, made time.Time, ok bool) {
	f := strings.Split(id, "-")
	if len(f) != 3 {
		return 0, time.Time{}, false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0, time.Time{}, false
	}
	sec, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, time.Time{}, false
	}
	return pid, time.Unix(sec, 0), true
}

// command prepares podman with args.
func (p *Podman) command(ctx context.Context, args ...string) *exec.Cmd {
	return podman.Podman{Binary: p.Binary, ContainersConf: p.ContainersConf}.Command(ctx, args...)
}

// podman runs podman and returns its standard output; its error holds
// the command and podman's standard error.
func (p *Podman) podman(ctx context.Context, args ...string) (string, error) {
	return podman.Podman{Binary: p.Binary, ContainersConf: p.ContainersConf}.Run(ctx, args...)
}

// tempDir is where a check's image archive is written.
func (p *Podman) tempDir() string {
	if p.TempDir != "" {
		return p.TempDir
	}
	return os.TempDir()
}

// load writes img as a docker-archive naming it imagePrefix:id, in
// TempDir/alicorn-gate-ID, and loads it.
func (p *Podman) load(ctx context.Context, img v1.Image, id string) error {
	dir := filepath.Join(p.tempDir(), containerPrefix+id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	return podman.Podman{Binary: p.Binary, ContainersConf: p.ContainersConf}.Load(ctx, img, imagePrefix+":"+id, dir)
}

// start runs the test container and returns the URL of its port ("" when
// the container has already ended).
func (p *Podman) start(ctx context.Context, rep *Report, id string, m module.Module) (string, error) {
	port, err := containerPort(m)
	if err != nil {
		return "", err
	}
	args := []string{"run", "--detach", "--pull", "never", "--name", rep.Container,
		"--label", Label + "=" + id, "--label", LabelModule + "=" + m.Name,
		// The image's own io.alicorn.module label would make the test
		// container an instance of the module (module.FromPodman).
		"--label", module.Label + "=",
		"--publish", fmt.Sprintf("127.0.0.1::%d/tcp", port)}
	if m.Test.Content != "" {
		content, err := filepath.Abs(m.Test.Content)
		if err != nil {
			return "", err
		}
		info, err := os.Stat(content)
		if err != nil {
			return "", fmt.Errorf("test content: %w", err)
		}
		if !info.IsDir() {
			return "", fmt.Errorf("test content %s is not a directory", content)
		}
		if strings.ContainsAny(content+m.Test.Mount, ":,") {
			return "", fmt.Errorf("test content %s or mount %s holds ':' or ',', which podman's --volume cannot take", content, m.Test.Mount)
		}
		args = append(args, "--volume", content+":"+m.Test.Mount+":ro")
	}
	if _, err := p.podman(ctx, append(args, rep.Image)...); err != nil {
		return "", err
	}
	out, err := p.podman(ctx, "port", rep.Container, fmt.Sprintf("%d/tcp", port))
	hostPort := strings.TrimSpace(strings.Split(strings.TrimSpace(out), "\n")[0])
	if err != nil || hostPort == "" {
		// A container that has already ended has no ports: the health
		// check says so.
		if p.state(ctx, rep.Container) != "" {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return "", fmt.Errorf("podman port %s %d/tcp: no host port", rep.Container, port)
	}
	return "http://" + hostPort, nil
}

// state returns "" while the container runs, else how it ended.
func (p *Podman) state(ctx context.Context, container string) string {
	out, err := p.podman(ctx, "inspect", "--type", "container", "--format", "{{.State.Status}} {{.State.ExitCode}}", container)
	if err != nil {
		return ""
	}
	status, code, _ := strings.Cut(strings.TrimSpace(out), " ")
	if status == "running" {
		return ""
	}
	return fmt.Sprintf("the container has ended (%s, exit status %s)", status, code)
}

// logs returns the tail of a container's logs, bounded.
func (p *Podman) logs(ctx context.Context, container string) string {
	lines := p.LogLines
	if lines <= 0 {
		lines = DefaultLogLines
	}
	cmd := p.command(ctx, "logs", "--tail", strconv.Itoa(lines), container)
	out, err := cmd.CombinedOutput()
	if err != nil {
		out = append(out, fmt.Sprintf("\n[podman logs: %v]", err)...)
	}
	return tail(out, p.logBytes())
}

// exec runs command in the container within timeout and returns its
// output (bounded); a non-zero exit is an error.
func (p *Podman) exec(ctx context.Context, container string, command []string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := p.command(ctx, append([]string{"exec", container}, command...)...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	output := tail(out, p.logBytes())
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return output, fmt.Errorf("%q did not finish within %s", strings.Join(command, " "), timeout)
	case err != nil:
		return output, fmt.Errorf("%q: %w: %s", strings.Join(command, " "), err, lastLine(output))
	}
	return output, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

// psEntry and imageEntry are what podman ps and podman images print of
// a container and an image as JSON.
type psEntry struct {
	ID     string            `json:"Id"`
	Names  []string          `json:"Names"`
	Labels map[string]string `json:"Labels"`
}

type imageEntry struct {
	Names []string `json:"Names"`
}

// Clean removes the leftovers of checks whose process was killed: test
// containers (labelled Label), images (named localhost/alicorn-gate:ID)
// and image archives (TempDir/alicorn-gate-ID) whose creating process no
// longer runs, or that are older than MaxAge
// (default 10 minutes: far longer than a check, and a bound when the
// process ID was reused), or whose ID does not parse. A check's own
// container and image are removed by the check; Clean leaves those of
// running checks alone.
func (p *Podman) Clean(ctx context.Context) error {
	now := time.Now()
	stale := func(id string) bool {
		pid, made, ok := parseID(id)
		return !ok || now.Sub(made) > p.maxAge() || !running(pid)
	}
	var errs []error
	dirs, _ := filepath.Glob(filepath.Join(p.tempDir(), containerPrefix+"*"))
	for _, d := range dirs {
		if stale(strings.TrimPrefix(filepath.Base(d), containerPrefix)) {
			if err := os.RemoveAll(d); err != nil {
				errs = append(errs, err)
			}
		}
	}
	out, err := p.podman(ctx, "ps", "--all", "--filter", "label="+Label, "--format", "json")
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	var cs []psEntry
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		return errors.Join(append(errs, fmt.Errorf("podman ps: %w", err))...)
	}
	var containers []string
	for _, c := range cs {
		if stale(c.Labels[Label]) {
			containers = append(containers, c.ID)
		}
	}
	if len(containers) > 0 {
		if _, err := p.podman(ctx, append([]string{"rm", "--force", "--ignore", "--time", "0"}, containers...)...); err != nil {
			errs = append(errs, err)
		}
	}
	out, err = p.podman(ctx, "images", "--filter", "reference="+imagePrefix, "--format", "json")
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	var is []imageEntry
	if err := json.Unmarshal([]byte(out), &is); err != nil {
		return errors.Join(append(errs, fmt.Errorf("podman images: %w", err))...)
	}
	// podman images lists an image once per name, each time with all
	// its names: a name given twice to rmi would remove the image, not
	// the name, after the first untagged it.
	var images []string
	seen := map[string]bool{}
	for _, i := range is {
		for _, n := range i.Names {
			if id, ok := strings.CutPrefix(n, imagePrefix+":"); ok && !seen[n] && stale(id) {
				seen[n] = true
				images = append(images, n)
			}
		}
	}
	if len(images) > 0 {
		if _, err := p.podman(ctx, append([]string{"rmi", "--ignore"}, images...)...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// running reports whether process pid exists.
func running(pid int) bool {
	proc, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = proc.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
