package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/hostile"
)

// TestKills kills runs on a cold cache at random moments: each run is sent
// SIGKILL (or, one time in four, SIGTERM) after a delay drawn from the
// duration of a normal run. SIGTERM ends a run as ^C does, its cleanups
// done: it leaves nothing behind. After each kill a normal run prints
// exactly the reference report, and no temporary file of either run is
// left in the cache or the temporary directory (the next run sweeps those
// of dead runs).
//
// The run reports a host whose repository is served over HTTP and a
// module whose image holds an rpm database and a 64 MiB jar (spilled to
// the temporary directory), with an OSV feed: downloads, indexes, the
// host snapshot, image roots and spill files are all in progress at some
// moment. ALICORN_FAULTS_SEED replays a seed the log gives;
// ALICORN_FAULTS_KILLS sets the number of kills (20).
func TestKills(t *testing.T) {
	kills := 20
	if s := os.Getenv("ALICORN_FAULTS_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "ALICORN_FAULTS_KILLS")
		kills = n
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ALICORN_FAULTS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ALICORN_FAULTS_SEED")
		seed = n
	}
	t.Logf("seed %d (ALICORN_FAULTS_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	f := newFixture(t, 3000)
	imgRoot := filepath.Join(f.dir, "image-root")
	require.NoError(t, f.b.Root(imgRoot, hostPkgs()[1:]))
	rpm, err := hostile.FromDir(imgRoot)
	require.NoError(t, err)
	ref, err := hostile.WriteLayout(filepath.Join(f.dir, "image"), rpm,
		[]hostile.Entry{{Name: "opt/app/app.jar", Zeros: 64 << 20}})
	require.NoError(t, err)
	mods := filepath.Join(f.dir, "mods")
	require.NoError(t, os.MkdirAll(mods, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(mods, "web.toml"),
		[]byte(fmt.Sprintf("name = \"web\"\nimage = %q\n", ref)), 0o644))
	feed := filepath.Join(f.dir, "osv")
	require.NoError(t, os.MkdirAll(feed, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(feed, "GHSA-bomb.json"), []byte(bombFeed), 0o644))
	args := func(cache string) []string {
		return f.args("", cache, "--modules-dir="+mods, "--osv="+feed, "updateinfo", "list", "--all")
	}
	// fresh returns an empty cache and temporary directory.
	fresh := func(t *testing.T) (cache, tmp string) {
		t.Helper()
		return filepath.Join(t.TempDir(), "cache"), t.TempDir()
	}

	// The reference, and how long a normal run on a cold cache takes.
	var want string
	var walls []time.Duration
	for range 3 {
		cache, tmp := fresh(t)
		r := run(t, tmp, args(cache)...)
		require.Equal(t, 0, r.code, r.stderr)
		if want == "" {
			want = r.stdout
			require.Contains(t, want, "module web "+ref)
		}
		require.Equal(t, want, r.stdout, "normal runs agree")
		assertClean(t, "a normal run", cache, tmp)
		walls = append(walls, r.wall)
	}
	slices.Sort(walls)
	span := walls[len(walls)-1]
	t.Logf("a normal cold run takes %v to %v; kills within %v", walls[0].Round(time.Millisecond),
		span.Round(time.Millisecond), span.Round(time.Millisecond))

	for i := range kills {
		sig := syscall.SIGKILL
		if rng.IntN(4) == 0 {
			sig = syscall.SIGTERM
		}
		delay := time.Duration(rng.Int64N(int64(span)))
		t.Run(fmt.Sprintf("%d %v after %v", i, sig, delay.Round(time.Millisecond)), func(t *testing.T) {
			cache, tmp := fresh(t)
			p := start(t, tmp, args(cache)...)
			time.Sleep(delay)
			// The run may have ended already: then there is nothing to
			// signal, and it must have ended well.
			_ = p.cmd.Process.Signal(sig)
			r := p.wait(t)
			left := leftovers(t, cache, tmp)
			switch {
			case r.signaled != 0:
				assert.Equal(t, sig, r.signaled)
			case sig == syscall.SIGTERM && r.code != 0:
				// Ended by itself, as ^C: canceled, cleanups done.
				assert.Equal(t, 1, r.code, r.stderr)
			default:
				assert.Equal(t, 0, r.code, "ended before the signal: %s", r.stderr)
				assert.Equal(t, want, r.stdout)
			}
			if r.signaled == 0 {
				assert.Empty(t, left, "a run that ended by itself leaves nothing")
			}
			how := fmt.Sprintf("exited %d", r.code)
			if r.signaled != 0 {
				how = "killed by " + r.signaled.String()
			}
			t.Logf("the run %s after %v, leaving %d temporary files: %v", how, r.wall.Round(time.Millisecond),
				len(left), left)

			r = run(t, tmp, args(cache)...)
			assert.Equal(t, 0, r.code, r.stderr)
			assert.Equal(t, want, r.stdout, "the next run prints the reference report")
			assertClean(t, "the next run", cache, tmp)
		})
	}
}
