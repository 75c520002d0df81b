package main

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/dnfcompat"
	"github.com/alicorn-dev/alicorn/internal/hostile"
)

// asMain makes the test binary run main with the arguments it is given,
// for the tests that run the command in a subprocess.
const asMain = "DNF_SECURITY_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestSIGTERMRemovesTempFiles sends SIGTERM to a run in the middle of
// downloading updateinfo from a server that stops halfway: the run ends
// by itself, its cleanups having removed its temporary files from the
// cache directory.
func TestSIGTERMRemovesTempFiles(t *testing.T) {
	example, err := filepath.Abs("../../internal/testdata/example")
	require.NoError(t, err)
	files := http.FileServer(http.Dir(filepath.Join(example, "repo")))
	started := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "updateinfo") {
			files.ServeHTTP(w, r)
			return
		}
		// Half of the file, then nothing until the client leaves.
		b, err := os.ReadFile(filepath.Join(example, "repo", filepath.FromSlash(r.URL.Path)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush()
		once.Do(func() { close(started) })
		<-r.Context().Done()
	}))
	defer srv.Close()

	cache := t.TempDir()
	cmd := exec.Command(os.Args[0], "-q", "--installroot="+filepath.Join(example, "root"), "--releasever=40",
		"--setopt=reposdir=/nonexistent", "--repofrompath=updates,"+srv.URL+"/", "--setopt=cachedir="+cache,
		"updateinfo", "list")
	cmd.Env = append(os.Environ(), asMain+"=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	<-started
	assert.NotEmpty(t, tempFiles(t, cache), "a download in progress")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err = cmd.Wait()
	st := cmd.ProcessState.Sys().(syscall.WaitStatus)
	assert.False(t, st.Signaled(), "the run ends by itself, not killed by the signal (%v; %s)", err, stderr.String())
	assert.Empty(t, tempFiles(t, cache))
}

// tempFiles lists the temporary files under dir: names the program's
// temporary files begin with, beside the lock file.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, prefix := range []string{".download-", ".index-", ".tmp-", ".host-"} {
			if strings.HasPrefix(d.Name(), prefix) {
				out = append(out, p)
			}
		}
		return nil
	}))
	return out
}

// TestDamagedCacheReport damages the cache a run leaves: the next run
// prints exactly the report of an undamaged cache, having rebuilt what
// was damaged; with -C, a damaged download is a clear error naming the
// file (exit 1), never a crash.
func TestDamagedCacheReport(t *testing.T) {
	example, err := filepath.Abs("../../internal/testdata/example")
	require.NoError(t, err)
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(example, "repo"))))
	defer srv.Close()
	cache := t.TempDir()
	run := func(cacheOnly bool) (code int, stdout, stderr string) {
		args := []string{"-q", "--installroot=" + filepath.Join(example, "root"), "--releasever=40",
			"--setopt=reposdir=/nonexistent", "--repofrompath=updates," + srv.URL + "/", "--setopt=cachedir=" + cache}
		if cacheOnly {
			args = append(args, "-C")
		}
		var out, errs strings.Builder
		code = dnfcompat.Run(t.Context(), append(args, "updateinfo", "info"), dnfcompat.Env{Stdout: &out, Stderr: &errs})
		return code, out.String(), errs.String()
	}
	code, want, stderr := run(false)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, want, "FEDORA-2024-d2f1b9ac14")
	find := func(pattern string) string {
		m, err := filepath.Glob(filepath.Join(cache, "updates-*", pattern))
		require.NoError(t, err)
		require.Len(t, m, 1, pattern)
		return m[0]
	}
	idx, ui := find("*-updateinfo.idx"), find("*-updateinfo.xml*")
	for _, tt := range []struct {
		name   string
		damage func(path string) error
	}{
		{"index details", func(p string) error { return hostile.Flip(p, 80) }},
		{"index core", func(p string) error { return hostile.Flip(p, -20) }},
		{"index header", func(p string) error { return hostile.Flip(p, 2) }},
		{"index truncated", func(p string) error { return hostile.Truncate(p, 0.5) }},
	} {
		for _, cacheOnly := range []bool{false, true} {
			require.NoError(t, tt.damage(idx))
			code, got, stderr := run(cacheOnly)
			assert.Equal(t, 0, code, "%s -C=%v: %s", tt.name, cacheOnly, stderr)
			assert.Equal(t, want, got, "%s -C=%v", tt.name, cacheOnly)
		}
	}

	require.NoError(t, hostile.FlipAt(ui, 0.5))
	require.NoError(t, hostile.Truncate(idx, 0.5))
	code, _, stderr = run(true)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, ui)
	assert.Contains(t, stderr, "run without -C")
	assert.NotContains(t, stderr, "panic")
	code, got, stderr := run(false)
	assert.Equal(t, 0, code, stderr)
	assert.Equal(t, want, got, "downloaded again")
}
