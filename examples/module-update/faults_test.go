package main

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/rollouttest"
	"github.com/alicorn-dev/alicorn/internal/webimage"
)

// TestFaults publishes images that fail on this host in each of the ways
// an update must survive, each twice, and applies them under load: every
// one is rolled back by itself, with no failed request, every container
// back on the old digest, none left over.
func TestFaults(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, ctx, "rolling")
	d1 := s.deploy(t, ctx)

	l := rollouttest.StartLoad(t, s.URL)
	rolledBack := 0
	for round := 0; round < 2; round++ {
		for _, f := range webimage.Faults() {
			// Each round another release: another digest.
			bad := rollouttest.Publish(t, ctx, s.Registry, s.Name, "stable", s.Images.Release(t, ctx, []string{"1", "2"}[round], f), d1, fix)
			start := time.Now()
			code, _, stderr := s.cli(t, ctx, "apply", "-y")
			t.Logf("%s: %v", f, time.Since(start).Round(time.Millisecond))
			assert.Equal(t, 1, code, f)
			if assert.Contains(t, stderr, "rolled back:", f) {
				rolledBack++
			}
			s.on(t, ctx, d1)
			st := s.status(t, ctx)
			assert.Equal(t, bad, st.Newest)
			if assert.NotNil(t, st.Failed, f) {
				assert.Equal(t, bad, st.Failed.Digest)
			}
		}
	}
	// A rolled back image is not taken again, unless asked for.
	code, out, _ := s.cli(t, ctx, "apply", "-y")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "was rolled back on this host")
	assert.Contains(t, out, "Nothing to do.")
	l.End(t)
	assert.Equal(t, 10, rolledBack)
}

// TestKill kills the updater (SIGKILL) at random moments of updates
// under load; recover then leaves every container on one committed
// digest, nothing left over, and no request failed.
func TestKill(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, ctx, "rolling")
	bin := filepath.Join(t.TempDir(), "module-update")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	s.deploy(t, ctx)

	l := rollouttest.StartLoad(t, s.URL)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	for i := 0; i < 10; i++ {
		// Publish the other image, start the update, kill it.
		before := s.status(t, ctx).Deployed.Current.Digest
		img := s.Images.Release(t, ctx, []string{"2", "1"}[i%2], "")
		target := rollouttest.Publish(t, ctx, s.Registry, s.Name, "stable", img, "", fix)
		cmd := exec.Command(bin, "--modules-dir", s.Mods, "--state", s.State, "--tls-verify=false",
			"--containers-conf", s.Podman.ContainersConf, "apply", "-y")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		after := time.Duration(rng.Int64N(int64(12 * time.Second)))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-time.After(after):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			t.Logf("round %d: killed after %v:\n%s", i, after.Round(time.Millisecond), out.String())
		case err := <-done:
			t.Logf("round %d: finished before %v (%v):\n%s", i, after.Round(time.Millisecond), err, out.String())
		}
		code, _, _ := s.cli(t, ctx, "recover")
		require.Equal(t, 0, code)
		st := s.status(t, ctx)
		require.NotNil(t, st.Deployed)
		s.on(t, ctx, st.Deployed.Current.Digest)
		assert.Contains(t, []string{target, before}, st.Deployed.Current.Digest)
	}
	l.End(t)
}
