package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/internal/tempfile"
)

// reporterEnv names the environment variable through which TestMain
// hands the tests the reporter it built.
const reporterEnv = "ALICORN_FAULTS_REPORTER"

// TestMain builds the reporter, examples/dnf-security, once into a
// temporary directory, for every test to run as a process of its own.
func TestMain(m *testing.M) {
	if out := os.Getenv(measureEnv); out != "" {
		os.Exit(measure(out, os.Args[1:]))
	}
	dir, err := os.MkdirTemp("", "alicorn-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin := filepath.Join(dir, "dnf-security")
	build := exec.Command("go", "build", "-o", bin, "github.com/alicorn-dev/alicorn/examples/dnf-security")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "faults: building the reporter:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	os.Setenv(reporterEnv, bin)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// measureEnv, set to a file name, makes the test binary run the command
// of its arguments and write the command's peak resident set size there
// (see measure).
const measureEnv = "ALICORN_FAULTS_MEASURE"

// measure runs argv with this process's standard streams, passing on
// SIGTERM and SIGINT, writes its peak resident set size (KiB) to out and
// returns its exit status.
//
// It is why runs are measured through a copy of the test binary: on
// Linux a process started by exec keeps the peak RSS of the memory it
// replaced, and Go starts commands with vfork, sharing the parent's
// memory up to the exec, so that the reporter started by the test itself
// would report the test's peak (hundreds of MB while it builds hostile
// images). Started from this small process it reports its own.
func measure(out string, argv []string) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		return 2
	}
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	_ = cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		_ = os.WriteFile(out, []byte(strconv.FormatInt(ru.Maxrss, 10)), 0o644)
	}
	if st := cmd.ProcessState.Sys().(syscall.WaitStatus); st.Signaled() {
		signal.Reset()
		_ = syscall.Kill(os.Getpid(), st.Signal())
	}
	return cmd.ProcessState.ExitCode()
}

// needRPM skips a test when the tools that make the fixtures are
// missing (.ci/run installs them, and fails on a skip).
func needRPM(t *testing.T) {
	t.Helper()
	if m := rpmtest.Missing(); len(m) > 0 {
		t.Skipf("needs %v (apt-get install rpm createrepo-c util-linux)", m)
	}
}

// hostPkgs are the packages installed on the fixture's host; the
// repository's advisories update them.
func hostPkgs() []rpmtest.Pkg {
	return []rpmtest.Pkg{
		{Name: "alpha", Version: "1.0", Release: "1", Arch: "x86_64"},
		{Name: "beta", Version: "1.0", Release: "1", Arch: "x86_64"},
		{Name: "gamma", Version: "1.0", Release: "1", Arch: "x86_64"},
	}
}

// fixture is a host root with hostPkgs installed, and a repository of
// generated advisories for them served over HTTP on 127.0.0.1.
type fixture struct {
	b       *rpmtest.Builder
	dir     string
	root    string
	repoDir string
	url     string
}

// newFixture makes a fixture whose repository holds n advisories.
func newFixture(t *testing.T, n int) *fixture {
	t.Helper()
	needRPM(t)
	f := &fixture{b: rpmtest.Cached(t), dir: t.TempDir()}
	f.root, f.repoDir = filepath.Join(f.dir, "root"), filepath.Join(f.dir, "repo")
	require.NoError(t, f.b.Root(f.root, hostPkgs()))
	var ui bytes.Buffer
	require.NoError(t, rpmtest.WriteUpdateinfo(&ui, n, []string{"alpha", "beta", "gamma"}, 9))
	require.NoError(t, f.b.Repo(f.repoDir, nil, ui.Bytes(), "gz"))
	srv := httptest.NewServer(http.FileServer(http.Dir(f.repoDir)))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// args returns the reporter's arguments for the host (or, with
// --image=… in more, an image) with the fixture's repository at baseurl
// (the fixture's server when ""), the cache in cache, then more.
func (f *fixture) args(baseurl, cache string, more ...string) []string {
	if baseurl == "" {
		baseurl = f.url
	}
	args := []string{"-q", "--releasever=40", "--setopt=reposdir=/nonexistent",
		"--repofrompath=updates," + baseurl + "/", "--setopt=cachedir=" + cache}
	image := false
	for _, a := range more {
		image = image || strings.HasPrefix(a, "--image=")
	}
	if !image {
		args = append(args, "--installroot="+f.root)
	}
	return append(args, more...)
}

// result is how a run of the reporter ended.
type result struct {
	code           int
	stdout, stderr string
	// signaled is the signal that ended the process, if one did.
	signaled syscall.Signal
	// rss is the peak resident set size, KiB (the reporter's own only
	// when run measured it, see measure); blocks the blocks written to
	// file systems (512 bytes each; tmpfs writes are not counted).
	rss, blocks int64
	// tmpPeak is the most bytes the run's TMPDIR held at once (sampled
	// every 10 ms).
	tmpPeak int64
	wall    time.Duration
}

// hangGuard bounds one run of the reporter: a run that has not ended by
// then is killed and the test fails (every case takes seconds).
const hangGuard = 3 * time.Minute

// proc is a run of the reporter in progress.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	ctx            context.Context
	cancel         context.CancelFunc
	began          time.Time
	// The TMPDIR sampler's result, and the signal that stops it.
	tmpPeak chan int64
	done    chan struct{}
	// rssFile receives the peak RSS of a measured run.
	rssFile string
}

// sample reports the most bytes dir held at once until done is closed.
func sample(dir string, done <-chan struct{}, peak chan<- int64) {
	most := int64(0)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		n := int64(0)
		_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					n += info.Size()
				}
			}
			return nil
		})
		most = max(most, n)
		select {
		case <-done:
			peak <- most
			return
		case <-tick.C:
		}
	}
}

// start starts the reporter with args, TMPDIR set to tmp.
func start(t *testing.T, tmp string, args ...string) *proc {
	return startProc(t, tmp, false, args...)
}

// startProc starts the reporter with args, TMPDIR set to tmp; measured,
// through measure, so that its peak RSS is its own (then the process is
// measure's, which passes SIGTERM on but not SIGKILL).
func startProc(t *testing.T, tmp string, measured bool, args ...string) *proc {
	t.Helper()
	p := &proc{began: time.Now(), tmpPeak: make(chan int64, 1), done: make(chan struct{})}
	p.ctx, p.cancel = context.WithTimeout(context.Background(), hangGuard)
	env := append(os.Environ(), "TMPDIR="+tmp, "LC_ALL=C.UTF-8")
	if measured {
		p.rssFile = filepath.Join(t.TempDir(), "rss")
		p.cmd = exec.CommandContext(p.ctx, os.Args[0], append([]string{os.Getenv(reporterEnv)}, args...)...)
		env = append(env, measureEnv+"="+p.rssFile)
	} else {
		p.cmd = exec.CommandContext(p.ctx, os.Getenv(reporterEnv), args...)
	}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.WaitDelay = 10 * time.Second
	require.NoError(t, p.cmd.Start())
	go sample(tmp, p.done, p.tmpPeak)
	return p
}

// wait waits for the end of the run.
func (p *proc) wait(t *testing.T) result {
	t.Helper()
	defer p.cancel()
	err := p.cmd.Wait()
	close(p.done)
	r := result{stdout: p.stdout.String(), stderr: p.stderr.String(), wall: time.Since(p.began), tmpPeak: <-p.tmpPeak}
	if p.cmd.ProcessState == nil {
		t.Fatalf("%v: %v", p.cmd.Args, err)
	}
	st := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	r.code = st.ExitStatus()
	if st.Signaled() {
		r.signaled = st.Signal()
	}
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rss, r.blocks = ru.Maxrss, ru.Oublock
	}
	if p.rssFile != "" {
		b, err := os.ReadFile(p.rssFile)
		require.NoError(t, err, "the measured run's peak RSS")
		r.rss, err = strconv.ParseInt(string(b), 10, 64)
		require.NoError(t, err)
	}
	if p.ctx.Err() != nil {
		t.Fatalf("the run did not end within %v and was killed: %v\nstderr: %s", hangGuard, p.cmd.Args, r.stderr)
	}
	assertNoCrash(t, r)
	return r
}

// run runs the reporter with args to its end, TMPDIR set to tmp, and
// measures its peak RSS.
func run(t *testing.T, tmp string, args ...string) result {
	t.Helper()
	return startProc(t, tmp, true, args...).wait(t)
}

// assertNoCrash checks that the run did not panic or fault.
func assertNoCrash(t *testing.T, r result) {
	t.Helper()
	for _, s := range []string{"panic", "goroutine ", "SIGSEGV", "fatal error", "unexpected fault address"} {
		assert.NotContains(t, r.stderr, s, "a crash")
	}
	assert.Contains(t, []int{0, 1, -1}, r.code, "exit status 0 or 1 (or a signal the test sent); stderr: %s", r.stderr)
}

// leftovers lists the temporary files and directories under dirs: names
// that begin with a dot or alicorn- (all those the reporter's temporary
// files take), the sweep's lock file aside.
func leftovers(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return nil // not made yet: nothing in it
			}
			if err != nil {
				return err
			}
			if p == dir || d.Name() == tempfile.Lock {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "alicorn-") {
				out = append(out, p)
				if d.IsDir() {
					return fs.SkipDir
				}
			}
			return nil
		})
		require.NoError(t, err)
	}
	return out
}

// assertClean checks that nothing temporary is left in the cache
// directory and that the run's temporary directory holds nothing (but
// the sweep's lock file), listing what is left.
func assertClean(t *testing.T, what, cache, tmp string) {
	t.Helper()
	left := leftovers(t, cache)
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() != tempfile.Lock {
			left = append(left, filepath.Join(tmp, e.Name()))
		}
	}
	assert.Empty(t, left, "%s: temporary files left behind", what)
}
