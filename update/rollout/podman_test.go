package rollout_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/podman"
	"github.com/alicorn-dev/alicorn/internal/webimage"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/front"
	upodman "github.com/alicorn-dev/alicorn/update/podman"
	"github.com/alicorn-dev/alicorn/update/rollout"
)

func needs(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: podman runs the module's containers as root here")
	}
	for _, tool := range []string{"podman", "runc", "rpm", "rpmbuild"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (apt-get install podman runc rpm busybox-static)", tool)
		}
	}
	if _, _, err := webimage.Busybox(); err != nil {
		t.Skip(err)
	}
}

// env is a module under podman behind an in-process built-in front.
type env struct {
	rt     *upodman.Runtime
	front  front.Client
	url    string
	m      module.Module
	ro     *rollout.Rollout
	dir    string
	rpms   []string
	mu     sync.Mutex
	events []rollout.Event
}

func newEnv(t *testing.T, ctx context.Context, policy string) *env {
	needs(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "containers.conf")
	require.NoError(t, os.WriteFile(conf, []byte(podman.ContainersConf), 0o644))
	e := &env{rt: &upodman.Runtime{Podman: podman.Podman{ContainersConf: conf}}, dir: dir}
	rpms, err := webimage.RPMs(ctx, dir)
	require.NoError(t, err)
	e.rpms = rpms

	p := front.New()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: p}
	go srv.Serve(l)
	sock := filepath.Join(dir, "front.sock")
	cl, err := net.Listen("unix", sock)
	require.NoError(t, err)
	fctx, cancel := context.WithCancel(context.Background())
	go p.ServeControl(fctx, cl)
	t.Cleanup(func() { cancel(); srv.Close() })
	e.front = front.Client{Socket: sock}
	e.url = "http://" + l.Addr().String() + "/index.html"

	name := fmt.Sprintf("rt%d", time.Now().UnixNano()%1e9)
	vol := name + "-content"
	e.m = module.Module{
		Name:  name,
		Image: "oci-archive:unused",
		Containers: []module.Container{
			{Name: "web", Serve: webimage.Port, Replicas: 3, Requires: []string{"content"},
				Volumes: []string{vol + ":" + webimage.DocRoot + ":ro"}},
			{Name: "content", Volumes: []string{vol + ":/srv/content"},
				Entrypoint: []string{"/usr/sbin/busybox", "sh", "-c",
					`trap 'exit 0' TERM; /usr/sbin/busybox cp -a ` + webimage.DocRoot + `/. /srv/content/ && while :; do /usr/sbin/busybox sleep 1; done`}},
		},
		Health: module.Health{Path: "/", Expect: webimage.Expect,
			Interval: module.Duration{Duration: 200 * time.Millisecond}, Timeout: module.Duration{Duration: 5 * time.Second}},
		Update: module.Update{Policy: policy, ReadyTimeout: module.Duration{Duration: 5 * time.Second},
			Drain: module.Duration{Duration: 5 * time.Second}, Watch: module.Duration{Duration: 4 * time.Second}},
		Front: module.Front{Listen: l.Addr().String()},
	}
	e.ro = &rollout.Rollout{Runtime: e.rt, Front: e.front, State: rollout.State{Dir: dir},
		StopTimeout: 3 * time.Second,
		Log: func(ev rollout.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
			t.Logf("%s %s %s %s", ev.Step, ev.Container, ev.ID, ev.Detail)
		}}
	t.Cleanup(func() {
		ctx := context.Background()
		ins, _ := e.rt.Instances(ctx, e.m)
		for _, in := range ins {
			e.rt.Remove(ctx, in.ID, time.Second)
		}
		e.rt.Podman.Run(ctx, "volume", "rm", "--force", vol)
	})
	return e
}

// image composes an image of the module from rpms (with fault, when
// not "") and pulls it into podman.
func (e *env) image(t *testing.T, ctx context.Context, tag string, rpms []string, fault webimage.Fault) update.Image {
	t.Helper()
	work := filepath.Join(e.dir, "img-"+tag)
	var img v1.Image
	var err error
	if fault == "" {
		img, err = webimage.Compose(ctx, work, rpms, webimage.Config())
	} else {
		img, err = webimage.Faulty(ctx, work, rpms, fault, 2*time.Second)
	}
	require.NoError(t, err)
	file := filepath.Join(e.dir, tag+".tar")
	ref := "localhost/alicorn-rollout-test:" + e.m.Name + "-" + tag
	require.NoError(t, webimage.WriteArchive(img, ref, filepath.Join(e.dir, "arch-"+tag), file))
	pulled, err := e.rt.Pull(ctx, "oci-archive:"+file)
	require.NoError(t, err)
	t.Cleanup(func() { e.rt.Podman.Run(context.Background(), "rmi", "--force", pulled.ID) })
	return pulled
}

// load sends GETs through the front until stopped, on new and kept-alive
// connections, and counts failures and wrong bodies.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       []string
	stop       chan struct{}
	wg         sync.WaitGroup
}

func startLoad(url string, want []byte) *load {
	l := &load{stop: make(chan struct{})}
	for i := 0; i < 4; i++ {
		tr := &http.Transport{DisableKeepAlives: i%2 == 0}
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				err := get(c, url, want)
				if err == nil {
					l.ok.Add(1)
					continue
				}
				l.failed.Add(1)
				l.mu.Lock()
				if len(l.errs) < 5 {
					l.errs = append(l.errs, err.Error())
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func get(c *http.Client, url string, want []byte) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s", resp.Status)
	}
	if !bytes.Equal(b, want) {
		return errors.New("wrong body")
	}
	return nil
}

func (l *load) end(t *testing.T) {
	close(l.stop)
	l.wg.Wait()
	t.Logf("load: %d ok, %d failed %v", l.ok.Load(), l.failed.Load(), l.errs)
	assert.Zero(t, l.failed.Load(), "failed requests: %v", l.errs)
	assert.NotZero(t, l.ok.Load())
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
		if in.Container != "content" {
			served[in.ID] = true
		}
	}
	assert.ElementsMatch(t, []string{"content", "web-1", "web-2", "web-3"}, names)
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
	v1img := e.image(t, ctx, "1", e.rpms, "")
	require.NoError(t, e.ro.Apply(ctx, e.m, v1img))
	e.on(t, ctx, v1img)

	fixed, err := webimage.HTTPD(ctx, e.dir, "2", false)
	require.NoError(t, err)
	rpms2 := append([]string{fixed}, e.rpms[0], e.rpms[2])
	v2img := e.image(t, ctx, "2", rpms2, "")
	l := startLoad(e.url, webimage.Page())
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, e.ro.Apply(ctx, e.m, v2img))
	l.end(t)
	e.on(t, ctx, v2img)
	d, ok, err := e.ro.State.Deployed(e.m.Name)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, v2img, d.Current)
	assert.Equal(t, &v1img, d.Previous)

	bad := e.image(t, ctx, "bad", e.rpms, webimage.ServesErrors)
	l = startLoad(e.url, webimage.Page())
	err = e.ro.Apply(ctx, e.m, bad)
	l.end(t)
	var rb *rollout.RolledBackError
	require.ErrorAs(t, err, &rb, "%v", err)
	assert.NoError(t, rb.Err)
	t.Log(err)
	e.on(t, ctx, v2img)
}
