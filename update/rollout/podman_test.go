package rollout_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/loadgen"
	"github.com/alicorn-dev/alicorn/internal/podman"
	"github.com/alicorn-dev/alicorn/internal/rollouttest"
	"github.com/alicorn-dev/alicorn/internal/webimage"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/front"
	upodman "github.com/alicorn-dev/alicorn/update/podman"
	"github.com/alicorn-dev/alicorn/update/rollout"
)

// env is the web module under podman behind an in-process built-in
// front.
type env struct {
	rt     *upodman.Runtime
	pm     podman.Podman
	front  front.Client
	url    string
	m      module.Module
	ro     *rollout.Rollout
	dir    string
	images *rollouttest.Images
	mu     sync.Mutex
	events []rollout.Event
}

func newEnv(t *testing.T, ctx context.Context, policy string) *env {
	rollouttest.Needs(t)
	dir := t.TempDir()
	pm := rollouttest.Podman(t, dir)
	e := &env{pm: pm, rt: &upodman.Runtime{ContainersConf: pm.ContainersConf}, dir: dir, images: rollouttest.NewImages(t, ctx, dir)}
	sock := filepath.Join(dir, "front.sock")
	listen := rollouttest.Front(t, sock)
	e.front = front.Client{Socket: sock}
	e.url = "http://" + listen + "/index.html"
	name := fmt.Sprintf("ro%d", time.Now().UnixNano()%1e8)
	m, err := module.Parse([]byte(rollouttest.ModuleFile(name, "oci-archive:unused", listen, sock, policy)), name+".toml")
	require.NoError(t, err)
	e.m = m
	rollouttest.Clean(t, pm, name)
	e.ro = &rollout.Rollout{Runtime: e.rt, Front: e.front, State: rollout.State{Dir: dir},
		StopTimeout: 3 * time.Second,
		Log: func(ev rollout.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
			t.Logf("%s %s %s %s", ev.Step, ev.Container, ev.ID, ev.Detail)
		}}
	return e
}

// image composes an image of release (with fault, when not "") and
// pulls it into podman.
func (e *env) image(t *testing.T, ctx context.Context, release string, fault webimage.Fault) update.Image {
	t.Helper()
	img := e.images.Release(t, ctx, release, fault)
	tag := release + string(fault)
	file := filepath.Join(e.dir, tag+".tar")
	ref := "localhost/alicorn-rollout-test:" + e.m.Name + "-" + tag
	require.NoError(t, webimage.WriteArchive(img, ref, filepath.Join(e.dir, "arch-"+tag), file))
	pulled, err := e.rt.Pull(ctx, "oci-archive:"+file)
	require.NoError(t, err)
	t.Cleanup(func() { e.pm.Run(context.Background(), "rmi", "--force", ref) })
	return pulled
}

// on asserts that every container of the module runs img, under its
// name, and that the front serves exactly the web replicas.
func (e *env) on(t *testing.T, ctx context.Context, img update.Image) {
	t.Helper()
	ins, err := e.rt.Instances(ctx, e.m)
	require.NoError(t, err)
	var names []string
	served := map[string]bool{}
	for _, in := range ins {
		names = append(names, in.Name)
		assert.Equal(t, img.Digest, in.Image.Digest, in.Name)
		assert.True(t, in.Running, in.Name)
		if in.Addr != "" {
			served[in.ID] = true
		}
	}
	assert.ElementsMatch(t, rollouttest.Names(e.m.Name), names)
	bs, err := e.front.Backends(ctx)
	require.NoError(t, err)
	assert.Len(t, bs, 3)
	for _, b := range bs {
		assert.True(t, served[b.Name], "front backend %s is no web replica", b.Name)
	}
	_, err = os.Stat(filepath.Join(e.dir, e.m.Name+".journal"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the journal is finished")
}

// TestRolling deploys the module, updates it under load with no failed
// request, and rolls back a faulty image by itself, also with none.
func TestRolling(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, ctx, "rolling")
	v1 := e.image(t, ctx, "1", "")
	require.NoError(t, e.ro.Apply(ctx, e.m, v1))
	e.on(t, ctx, v1)

	v2 := e.image(t, ctx, "2", "")
	l := rollouttest.StartLoad(t, e.url)
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, e.ro.Apply(ctx, e.m, v2))
	l.End(t)
	e.on(t, ctx, v2)
	d, ok, err := e.ro.State.Deployed(e.m.Name)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, v2, d.Current)
	assert.Equal(t, &v1, d.Previous)

	bad := e.image(t, ctx, "2", webimage.ServesErrors)
	l = rollouttest.StartLoad(t, e.url)
	err = e.ro.Apply(ctx, e.m, bad)
	l.End(t)
	var rb *rollout.RolledBackError
	require.ErrorAs(t, err, &rb, "%v", err)
	assert.NoError(t, rb.Err)
	t.Log(err)
	e.on(t, ctx, v2)
}

// TestBlueGreen switches a whole new set at once under load with no
// failed request, and rolls a faulty set back.
func TestBlueGreen(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, ctx, "blue-green")
	v1 := e.image(t, ctx, "1", "")
	require.NoError(t, e.ro.Apply(ctx, e.m, v1))
	e.on(t, ctx, v1)
	v2 := e.image(t, ctx, "2", "")
	l := rollouttest.StartLoad(t, e.url)
	require.NoError(t, e.ro.Apply(ctx, e.m, v2))
	l.End(t)
	e.on(t, ctx, v2)
	// Every new container was added before any old one was drained.
	e.mu.Lock()
	var steps []string
	for _, ev := range e.events {
		if ev.Step == "add" || ev.Step == "drain" {
			steps = append(steps, ev.Step)
		}
	}
	e.mu.Unlock()
	assert.Equal(t, []string{"add", "add", "add", "add", "add", "add", "drain", "drain", "drain"}, steps[len(steps)-9:])

	bad := e.image(t, ctx, "2", webimage.ExitsAtStart)
	err := e.ro.Apply(ctx, e.m, bad)
	var rb *rollout.RolledBackError
	require.ErrorAs(t, err, &rb)
	e.on(t, ctx, v2)
}

// TestRecreate stops the old containers, then starts the new ones: the
// documented downtime, measured.
func TestRecreate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, ctx, "recreate")
	v1 := e.image(t, ctx, "1", "")
	require.NoError(t, e.ro.Apply(ctx, e.m, v1))
	v2 := e.image(t, ctx, "2", "")
	g, err := loadgen.Start(ctx, loadgen.Config{URL: e.url, Expect: webimage.Page(), Rate: 100})
	require.NoError(t, err)
	require.NoError(t, e.ro.Apply(ctx, e.m, v2))
	res := g.Stop()
	t.Logf("recreate: %d of %d requests failed while the module was down", res.Total().Failed, res.Total().Requests)
	assert.NotZero(t, res.Total().Failed, "recreate has downtime")
	e.on(t, ctx, v2)
}
