package tempfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DeadPID returns the ID of a process that has exited: a child of the
// test, run and waited for.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	require.NoError(t, cmd.Run())
	return cmd.ProcessState.Pid()
}

func TestOwner(t *testing.T) {
	for _, tt := range []struct {
		name, prefix string
		want         int
	}{
		{".index-123-abc", ".index-", 123},
		{".index-core-123-abc", ".index-core-", 123},
		{".index-core-123-abc", ".index-", 0},
		{".index-123-", ".index-", 0},
		{".index-123", ".index-", 0},
		{".index--abc", ".index-", 0},
		{".index-0123-abc", ".index-", 0},
		{".index-abc", ".index-", 0},
		{".download-99999999999999999999-x", ".download-", 0},
		{"host-123-abc", ".host-", 0},
		{".index-123n4fzk2-abc", ".index-", 123},
		{".index-123n-abc", ".index-", 0},
		{".index-123nA-abc", ".index-", 0},
		{".index-n4f-abc", ".index-", 0},
	} {
		assert.Equal(t, tt.want, Owner(tt.name, tt.prefix), tt.name)
	}
	name := filepath.Base(Pattern(".index-"))
	assert.Equal(t, os.Getpid(), Owner(name[:len(name)-1]+"random", ".index-"))
}

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	dead, live := strconv.Itoa(deadPID(t)), strconv.Itoa(os.Getpid())
	stale := []string{".index-" + dead + "-1", ".index-core-" + dead + "-2", ".download-" + dead + "-3"}
	kept := []string{".index-" + live + "-4", ".download-" + live + "-5", ".other-" + dead + "-6", "x-updateinfo.idx",
		Lock}
	for _, n := range append(append([]string{}, stale...), kept...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644))
	}
	staleDir := "alicorn-image-" + dead + "-7"
	require.NoError(t, os.MkdirAll(filepath.Join(dir, staleDir, "var", "lib"), 0o755))
	stale = append(stale, staleDir)

	require.NoError(t, Sweep(dir, ".index-", ".index-core-", ".download-", "alicorn-image-"))
	for _, n := range stale {
		assert.NoFileExists(t, filepath.Join(dir, n))
		assert.NoDirExists(t, filepath.Join(dir, n))
	}
	for _, n := range kept {
		assert.FileExists(t, filepath.Join(dir, n))
	}

	assert.NoError(t, Sweep(filepath.Join(dir, "missing"), ".index-"))
}

// TestSweepNamespaces: the files of processes of another PID namespace
// (a cache shared with containers) are left until they are a day old;
// those of this namespace go as soon as their process is gone.
func TestSweepNamespaces(t *testing.T) {
	ours := pidNamespace()
	if ours == "" {
		t.Skip("no /proc/self/ns/pid here")
	}
	dir := t.TempDir()
	dead, live := strconv.Itoa(deadPID(t)), strconv.Itoa(os.Getpid())
	other := "zzzzzz"
	if other == ours {
		other = "yyyyyy"
	}
	files := map[string]bool{ // name: swept
		".index-" + dead + "n" + ours + "-1":  true,
		".index-" + live + "n" + ours + "-2":  false,
		".index-" + dead + "n" + other + "-3": false, // another namespace's, young
		".index-" + live + "n" + other + "-4": false,
		".index-" + dead + "n" + other + "-5": true, // another namespace's, two days old
	}
	for n := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
	}
	old := time.Now().Add(-48 * time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, ".index-"+dead+"n"+other+"-5"), old, old))
	require.NoError(t, Sweep(dir, ".index-"))
	for n, swept := range files {
		_, err := os.Stat(filepath.Join(dir, n))
		assert.Equal(t, swept, os.IsNotExist(err), n)
	}
	// This process's own names carry its namespace.
	assert.Contains(t, Pattern(".index-"), live+"n"+ours+"-")
}

// TestSweepBusy: a directory another sweep holds is left alone.
func TestSweepBusy(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, ".index-"+strconv.Itoa(deadPID(t))+"-1")
	require.NoError(t, os.WriteFile(name, nil, 0o644))
	unlock, err := lock(filepath.Join(dir, Lock))
	require.NoError(t, err)
	assert.ErrorIs(t, Sweep(dir, ".index-"), ErrBusy)
	assert.FileExists(t, name)
	unlock()
	require.NoError(t, Sweep(dir, ".index-"))
	assert.NoFileExists(t, name)
}

// BenchmarkSweep sweeps a cache directory as a warm run finds it: a few
// metadata files and an index, nothing stale.
func BenchmarkSweep(b *testing.B) {
	dir := b.TempDir()
	for _, n := range []string{"repomd.xml", "baseurl", "x-updateinfo.xml.zst", "x-updateinfo.idx", "x-modules.yaml.gz"} {
		require.NoError(b, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Sweep(dir, ".index-", ".index-core-", ".download-", ".tmp-"); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzOwner: a name made by Pattern is always read back; no name panics.
func FuzzOwner(f *testing.F) {
	f.Add(".index-123n4f-abc", ".index-")
	f.Add(".index-core-1-x", ".index-")
	f.Fuzz(func(t *testing.T, name, prefix string) {
		pid, ns := owner(name, prefix)
		if pid < 0 || pid == 0 && ns != "" {
			t.Fatalf("owner(%q, %q) = %d, %q", name, prefix, pid, ns)
		}
		made := strings.TrimSuffix(Pattern(prefix), "*") + "r" // as os.CreateTemp fills the last *
		if prefix != "" && !strings.ContainsAny(prefix, "/") && Owner(made, prefix) != os.Getpid() {
			t.Fatalf("Pattern(%q) = %q is not read back", prefix, made)
		}
	})
}
