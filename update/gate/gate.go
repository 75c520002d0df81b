package gate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
)

// Steps of a check, in order. Clean and Remove are housekeeping: their
// failure is reported but is not the candidate's.
const (
	StepClean   = "clean"   // remove leftovers of killed runs
	StepLoad    = "load"    // load the image into podman's storage
	StepRun     = "run"     // start the test container
	StepHealth  = "health"  // the module's [health] check passes
	StepContent = "content" // every test content file comes out as it is
	StepCommand = "command" // the test command succeeds in the container
	StepRemove  = "remove"  // remove the container and the image
)

// Defaults of a module's health check and of the gate.
const (
	DefaultHealthPath     = "/"
	DefaultHealthInterval = time.Second
	DefaultHealthTimeout  = 30 * time.Second
	DefaultPort           = 80
	DefaultLogLines       = 200
	DefaultLogBytes       = 64 << 10
	DefaultStopTimeout    = 2 * time.Second
	DefaultMaxAge         = 10 * time.Minute
	cleanupTimeout        = time.Minute
)

// ErrFailed is wrapped by the error of a candidate that fails its test
// (health, content or command), as opposed to a fault of podman or of
// the host.
var ErrFailed = errors.New("candidate failed its test")

// StepError is the error of a failed step: "content: /index.html: …".
type StepError struct {
	Step string
	Err  error
	// candidate: the candidate failed, rather than podman, the host or
	// the caller's context.
	candidate bool
}

// Error says which step failed and why.
func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// Is makes the candidate's own failures (health, content, command, while
// the caller's context was live) match ErrFailed.
func (e *StepError) Is(target error) bool { return target == ErrFailed && e.candidate }

// Report is what a check did.
type Report struct {
	// Module is the module's name.
	Module string `json:"module"`
	// Image and Container are the temporary names the candidate was
	// loaded and run under; URL is where it answered.
	Image     string `json:"image"`
	Container string `json:"container"`
	URL       string `json:"url,omitempty"`
	// Steps are the steps run, in order.
	Steps []Step `json:"steps"`
	// Files are the content files compared, in path order.
	Files []File `json:"files,omitempty"`
	// Output is the test command's output (stdout and stderr, bounded).
	Output string `json:"output,omitempty"`
	// Logs is the tail of the container's logs (bounded).
	Logs string `json:"logs,omitempty"`
}

// Step is one step of a check.
type Step struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration"`
	// Err is why it failed; "" when it passed.
	Err string `json:"error,omitempty"`
}

// File is one content file compared.
type File struct {
	// Path is the URL path it was fetched at ("/index.html").
	Path string `json:"path"`
	// Size is the file's size, Served how many bytes came back (up to
	// Size+1).
	Size   int64 `json:"size"`
	Served int64 `json:"served"`
	// Err is how it differs; "" when it came out byte for byte.
	Err string `json:"error,omitempty"`
}

// String writes the report for people: one line per step, the files
// that differ, the command's output and, when a step failed, the logs.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "module %s: image %s, container %s\n", r.Module, r.Image, r.Container)
	for _, s := range r.Steps {
		outcome := "ok"
		if s.Err != "" {
			outcome = "FAILED: " + s.Err
		}
		fmt.Fprintf(&b, "  %-8s %8s  %s\n", s.Name, s.Duration.Round(time.Millisecond), outcome)
	}
	ok := 0
	for _, f := range r.Files {
		if f.Err == "" {
			ok++
			continue
		}
		fmt.Fprintf(&b, "  file %s: %s\n", f.Path, f.Err)
	}
	if len(r.Files) > 0 {
		fmt.Fprintf(&b, "  files: %d of %d came out byte for byte\n", ok, len(r.Files))
	}
	if r.Output != "" {
		fmt.Fprintf(&b, "command output:\n%s", indent(r.Output))
	}
	if !r.Passed() && r.Logs != "" {
		fmt.Fprintf(&b, "container logs:\n%s", indent(r.Logs))
	}
	return b.String()
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "  " + strings.ReplaceAll(s, "\n", "\n  ") + "\n"
}

// Passed reports whether every step passed.
func (r *Report) Passed() bool {
	for _, s := range r.Steps {
		if s.Err != "" && s.Name != StepClean && s.Name != StepRemove {
			return false
		}
	}
	return len(r.Steps) > 0
}

// Podman is a gate that runs candidates under podman. Its zero value runs
// "podman" from PATH with podman's own configuration; it is safe for
// concurrent checks (each has its own names).
type Podman struct {
	// Binary is the podman program ("" is "podman", found in PATH).
	Binary string
	// ContainersConf, when set, is the containers.conf file podman runs
	// with (CONTAINERS_CONF): some hosts need runc, cgroupfs or modest
	// ulimits.
	ContainersConf string
	// TempDir holds the image archive while it is loaded, in a directory
	// alicorn-gate-ID ("" is the system's temporary directory).
	TempDir string
	// LogLines and LogBytes bound the container logs kept in the report
	// (0 is DefaultLogLines, DefaultLogBytes); the command's output is
	// bounded by LogBytes too.
	LogLines int
	LogBytes int
	// StopTimeout is how long a test container may take to stop before it
	// is killed (0 is DefaultStopTimeout).
	StopTimeout time.Duration
	// MaxAge is the age past which a leftover test container or image is
	// removed even though its creating process still runs (0 is
	// DefaultMaxAge); see Clean.
	MaxAge time.Duration
	// Client fetches the health path and the content (nil: a client that
	// uses no proxy and no keep-alive).
	Client *http.Client
}

// Check tests img as a candidate for module m: it loads img into podman's
// storage under a unique temporary name, runs it detached with m's
// container port published on a free port of 127.0.0.1 and m.Test.Content
// mounted read-only at m.Test.Mount, waits for m.Health (HTTP GET of its
// path answering 200 with Expect in the body, every Interval, within
// Timeout; defaults "/", 1 s, 30 s), fetches every regular file under the
// content by its relative path and compares it byte for byte, then runs
// m.Test.Command with podman exec (within the health timeout too). The
// container port is the first tcp port of m.Build.Ports, else the
// container port of m.Containers[0]'s first mapping, else 80.
//
// Whatever happens, even when ctx is cancelled, the container's logs are
// kept in the report, and the container and the temporary image are
// removed. Before it starts, Check removes leftovers of killed runs
// (Clean); a failure to do so is only reported. The error is a
// *StepError naming the first step that failed; it wraps ErrFailed when
// the candidate failed its test. A failure to remove the container or
// the image is returned too, so that nothing is published on it.
func (p *Podman) Check(ctx context.Context, img v1.Image, m module.Module) (rep *Report, err error) {
	rep = &Report{Module: m.Name}
	start := time.Now()
	cerr := p.Clean(ctx)
	rep.step(ctx, StepClean, start, cerr)

	id, err := newID(time.Now())
	if err != nil {
		return rep, err
	}
	rep.Image = imagePrefix + ":" + id
	rep.Container = containerPrefix + id
	var loaded, created bool
	defer func() {
		// A fresh context: a cancelled ctx must not leave the container
		// and the image behind.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		start := time.Now()
		var errs []error
		if created {
			rep.Logs = p.logs(cctx, rep.Container)
			if _, err := p.podman(cctx, "rm", "--force", "--ignore", "--time", p.stopSeconds(), rep.Container); err != nil {
				errs = append(errs, err)
			}
		}
		if loaded {
			// By name: an image of the same ID under another name stays.
			if _, err := p.podman(cctx, "rmi", "--ignore", rep.Image); err != nil {
				errs = append(errs, err)
			}
		}
		rerr := errors.Join(errs...)
		rep.step(cctx, StepRemove, start, rerr)
		if rerr != nil {
			err = errors.Join(err, &StepError{Step: StepRemove, Err: rerr})
		}
	}()

	start = time.Now()
	loaded = true // a failed load may have stored it
	err = p.load(ctx, img, id)
	if err = rep.step(ctx, StepLoad, start, err); err != nil {
		return rep, err
	}

	start = time.Now()
	created = true // podman run may create the container, then fail
	rep.URL, err = p.start(ctx, rep, id, m)
	if err = rep.step(ctx, StepRun, start, err); err != nil {
		return rep, err
	}

	health := healthOf(m.Health)
	start = time.Now()
	err = p.healthy(ctx, rep, health)
	if err = rep.step(ctx, StepHealth, start, err); err != nil {
		return rep, err
	}

	if m.Test.Content != "" {
		start = time.Now()
		err = p.compare(ctx, rep, m.Test.Content, health.Timeout.Duration)
		if err = rep.step(ctx, StepContent, start, err); err != nil {
			return rep, err
		}
	}

	if len(m.Test.Command) > 0 {
		start = time.Now()
		rep.Output, err = p.exec(ctx, rep.Container, m.Test.Command, health.Timeout.Duration)
		if err = rep.step(ctx, StepCommand, start, err); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// step records a step that began at start and returns its error as a
// *StepError (nil when it passed). A failure of health, content or
// command is the candidate's unless ctx has ended.
func (r *Report) step(ctx context.Context, name string, start time.Time, err error) error {
	s := Step{Name: name, Duration: time.Since(start)}
	if err != nil {
		s.Err = err.Error()
		candidate := ctx.Err() == nil && (name == StepHealth || name == StepContent || name == StepCommand)
		err = &StepError{Step: name, Err: err, candidate: candidate}
	}
	r.Steps = append(r.Steps, s)
	return err
}

// containerPort is the port the module's server listens on in its
// container.
func containerPort(m module.Module) (int, error) {
	for _, p := range m.Build.Ports {
		port, proto, _ := strings.Cut(p, "/")
		if proto == "" || proto == "tcp" {
			return parsePort(port)
		}
	}
	if len(m.Containers) > 0 && len(m.Containers[0].Ports) > 0 {
		spec := m.Containers[0].Ports[0]
		port, proto, _ := strings.Cut(spec[strings.LastIndex(spec, ":")+1:], "/")
		if proto != "" && proto != "tcp" {
			return 0, fmt.Errorf("container port %q: the health check needs a tcp port", spec)
		}
		return parsePort(port)
	}
	return DefaultPort, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("container port %q: not a port number", s)
	}
	return n, nil
}

// healthOf fills in a health check's defaults.
func healthOf(h module.Health) module.Health {
	if h.Path == "" {
		h.Path = DefaultHealthPath
	}
	if h.Interval.Duration <= 0 {
		h.Interval.Duration = DefaultHealthInterval
	}
	if h.Timeout.Duration <= 0 {
		h.Timeout.Duration = DefaultHealthTimeout
	}
	return h
}

func (p *Podman) stopSeconds() string {
	d := p.StopTimeout
	if d <= 0 {
		d = DefaultStopTimeout
	}
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

func (p *Podman) logBytes() int {
	if p.LogBytes > 0 {
		return p.LogBytes
	}
	return DefaultLogBytes
}

func (p *Podman) maxAge() time.Duration {
	if p.MaxAge > 0 {
		return p.MaxAge
	}
	return DefaultMaxAge
}

func (p *Podman) client() *http.Client {
	if p.Client != nil {
		return p.Client
	}
	return &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
}

// tail keeps the last n bytes of b, saying how many were cut.
func tail(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return fmt.Sprintf("[%d bytes cut]\n", len(b)-n) + string(b[len(b)-n:])
}

// ReportError is a failed check with its report (steps, differing files,
// command output, logs), as Test returns it.
type ReportError struct {
	Report *Report
	Err    error
}

func (e *ReportError) Error() string { return e.Err.Error() + "\n" + e.Report.String() }
func (e *ReportError) Unwrap() error { return e.Err }

// Test is Check for the build service (update.Gate): nil when the
// candidate passed; a failure is a *ReportError carrying the report.
func (p *Podman) Test(ctx context.Context, img v1.Image, m module.Module) error {
	r, err := p.Check(ctx, img, m)
	if err != nil && r != nil {
		return &ReportError{Report: r, Err: err}
	}
	return err
}

var _ update.Gate = (*Podman)(nil)
