package gate

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicorn-dev/alicorn/internal/rollouttest"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/webimage"
	"github.com/alicorn-dev/alicorn/module"
)

// needs skips the test unless it can run podman as root and build RPMs
// (and waits for the other podman tests of the rollout).
func needs(t *testing.T) { rollouttest.Needs(t) }

// images are the candidates: the demo web module's image, and broken
// variants composed from the same RPMs.
type images struct {
	good, ownPage, neverServes, exits v1.Image
}

func buildImages(t *testing.T, ctx context.Context, dir string) images {
	t.Helper()
	rpms, err := webimage.RPMs(ctx, dir)
	require.NoError(t, err)
	compose := func(name string, entrypoint ...string) v1.Image {
		cfg := webimage.Config()
		if entrypoint != nil {
			cfg.Entrypoint = entrypoint
		}
		img, err := webimage.Compose(ctx, filepath.Join(dir, name), rpms, cfg)
		require.NoError(t, err)
		return img
	}
	sh := func(script string) []string { return []string{"/usr/sbin/busybox", "sh", "-c", script} }
	return images{
		good: compose("good"),
		// Serves a page of its own instead of the mounted content; it
		// passes the health check ("It works").
		ownPage: compose("own-page", sh(`echo serving its own page from /tmp/www
/usr/sbin/busybox mkdir -p /tmp/www && echo '<h1>It works</h1> but not the test page' >/tmp/www/index.html &&
exec /usr/sbin/httpd -f -v -p 80 -h /tmp/www`)...),
		neverServes: compose("never-serves", sh("echo starting, and never serving; exec /usr/sbin/busybox sleep 600")...),
		exits:       compose("exits", sh("echo cannot start: no configuration >&2; exit 3")...),
	}
}

func testModule(content string) module.Module {
	return module.Module{
		Name:  "web",
		Image: "docker://127.0.0.1:5000/web:1",
		Health: module.Health{Path: "/", Expect: webimage.Expect,
			Interval: module.Duration{Duration: 200 * time.Millisecond}, Timeout: module.Duration{Duration: 5 * time.Second}},
		Build: module.Build{Ports: []string{"80/tcp"}},
		Test:  module.Test{Content: content, Mount: webimage.DocRoot},
	}
}

// gone asserts that nothing of the check is left in podman.
func gone(t *testing.T, ctx context.Context, g *Podman, rep *Report) {
	t.Helper()
	require.NotEmpty(t, rep.Container)
	_, err := g.podman(ctx, "container", "exists", rep.Container)
	assert.Error(t, err, "container %s is left", rep.Container)
	_, err = g.podman(ctx, "image", "exists", rep.Image)
	assert.Error(t, err, "image %s is left", rep.Image)
	out, err := g.podman(ctx, "ps", "--all", "--quiet", "--filter", "label="+Label+"="+strings.TrimPrefix(rep.Container, containerPrefix))
	require.NoError(t, err)
	assert.Empty(t, strings.TrimSpace(out))
	last := rep.Steps[len(rep.Steps)-1]
	assert.Equal(t, StepRemove, last.Name)
	assert.Empty(t, last.Err)
}

func stepNames(rep *Report) []string {
	var names []string
	for _, s := range rep.Steps {
		names = append(names, s.Name)
	}
	return names
}

// TestPodman checks candidates under real podman: the demo web module's
// image passes; images that serve the wrong bytes, never answer or exit
// fail at the right step, with their logs; a failing or hanging test
// command fails; nothing is left behind.
func TestPodman(t *testing.T) {
	needs(t)
	ctx := context.Background()
	dir := t.TempDir()
	conf := filepath.Join(dir, "containers.conf")
	require.NoError(t, os.WriteFile(conf, []byte(webimage.ContainersConf), 0o644))
	g := &Podman{ContainersConf: conf, TempDir: dir}
	imgs := buildImages(t, ctx, filepath.Join(dir, "build"))

	content := filepath.Join(dir, "www")
	page := "<!doctype html><h1>It works</h1><p>the test page</p>\n"
	for name, body := range map[string]string{"index.html": page, "sub/about.txt": "about alicorn\n", "sub/a b.txt": "a file with a space\n"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(content, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(content, name), []byte(body), 0o644))
	}

	// Leftovers of killed checks and of checks older than MaxAge go; a
	// running check's stay. Before the parallel checks, whose Clean
	// would remove them too.
	t.Run("clean", func(t *testing.T) {
		dead := exec.Command("true")
		require.NoError(t, dead.Run())
		now := time.Now()
		ids := map[string]string{
			"killed":  fmt.Sprintf("%d-%d-0000000a", dead.Process.Pid, now.Unix()),
			"old":     fmt.Sprintf("%d-%d-0000000b", os.Getpid(), now.Add(-time.Hour).Unix()),
			"running": fmt.Sprintf("%d-%d-0000000c", os.Getpid(), now.Unix()),
		}
		for _, id := range ids {
			ref := imagePrefix + ":" + id
			require.NoError(t, g.load(ctx, imgs.good, id))
			require.NoError(t, os.Mkdir(filepath.Join(dir, containerPrefix+id), 0o700))
			_, err := g.podman(ctx, "create", "--name", containerPrefix+id, "--label", Label+"="+id, ref)
			require.NoError(t, err)
		}
		defer func() {
			for _, id := range ids {
				g.podman(context.Background(), "rm", "--force", "--ignore", containerPrefix+id)
				g.podman(context.Background(), "rmi", "--ignore", imagePrefix+":"+id)
			}
		}()
		require.NoError(t, g.Clean(ctx))
		for what, id := range ids {
			_, cerr := g.podman(ctx, "container", "exists", containerPrefix+id)
			_, ierr := g.podman(ctx, "image", "exists", imagePrefix+":"+id)
			_, derr := os.Stat(filepath.Join(dir, containerPrefix+id))
			if what == "running" {
				assert.NoError(t, cerr, what)
				assert.NoError(t, ierr, what)
				assert.NoError(t, derr, what)
			} else {
				assert.Error(t, cerr, "%s: container left", what)
				assert.Error(t, ierr, "%s: image left", what)
				assert.ErrorIs(t, derr, os.ErrNotExist, "%s: archive directory left", what)
			}
		}
	})

	// A check whose process is killed (here while its candidate runs)
	// leaves its container and image; the next Clean removes them.
	t.Run("killed", func(t *testing.T) {
		lay := filepath.Join(dir, "killed-layout")
		lp, err := layout.Write(lay, empty.Index)
		require.NoError(t, err)
		require.NoError(t, lp.AppendImage(imgs.neverServes))
		child := exec.Command(os.Args[0], "-test.run=^TestKilledHelper$", "-test.count=1")
		child.Env = append(os.Environ(), "ALICORN_GATE_HELPER="+lay, "ALICORN_GATE_CONF="+conf, "ALICORN_GATE_CONTENT="+content)
		require.NoError(t, child.Start())
		defer child.Process.Kill()
		var name string
		for deadline := time.Now().Add(30 * time.Second); name == "" && time.Now().Before(deadline); {
			out, err := g.podman(ctx, "ps", "--filter", "status=running", "--filter", "label="+Label, "--format", "{{.Names}}")
			require.NoError(t, err)
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, fmt.Sprintf("%s%d-", containerPrefix, child.Process.Pid)) {
					name = line
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		require.NotEmpty(t, name, "the helper started no test container")
		require.NoError(t, child.Process.Kill())
		child.Wait()
		image := imagePrefix + ":" + strings.TrimPrefix(name, containerPrefix)
		_, err = g.podman(ctx, "image", "exists", image)
		require.NoError(t, err, "the killed check's image")
		require.NoError(t, g.Clean(ctx))
		_, err = g.podman(ctx, "container", "exists", name)
		assert.Error(t, err, "container %s is left", name)
		_, err = g.podman(ctx, "image", "exists", image)
		assert.Error(t, err, "image %s is left", image)
	})

	// A test container is no instance of its module, though the image
	// carries the module's label: module.FromPodman does not find it.
	t.Run("not an instance", func(t *testing.T) {
		id, err := newID(time.Now())
		require.NoError(t, err)
		rep := &Report{Image: imagePrefix + ":" + id, Container: containerPrefix + id}
		defer func() {
			g.podman(context.Background(), "rm", "--force", "--ignore", "--time", "0", rep.Container)
			g.podman(context.Background(), "rmi", "--ignore", rep.Image)
		}()
		require.NoError(t, g.load(ctx, imgs.good, id))
		_, err = g.start(ctx, rep, id, testModule(content))
		require.NoError(t, err)
		labels, err := g.podman(ctx, "inspect", "--format", "{{json .Config.Labels}}", rep.Container)
		require.NoError(t, err)
		assert.Contains(t, labels, `"`+Label+`":"`+id+`"`)
		mods, err := module.FromPodman(ctx)
		require.NoError(t, err)
		for _, m := range mods {
			for _, c := range m.Containers {
				assert.NotEqual(t, rep.Container, c.Name, "module %s", m.Name)
			}
		}
	})

	t.Run("pass", func(t *testing.T) {
		t.Parallel()
		m := testModule(content)
		m.Test.Command = []string{"/usr/sbin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1/sub/about.txt"}
		rep, err := g.Check(ctx, imgs.good, m)
		require.NoError(t, err, "%+v", rep)
		assert.True(t, rep.Passed())
		assert.Equal(t, []string{StepClean, StepLoad, StepRun, StepHealth, StepContent, StepCommand, StepRemove}, stepNames(rep))
		require.Len(t, rep.Files, 3)
		assert.Equal(t, File{Path: "/index.html", Size: int64(len(page)), Served: int64(len(page))}, rep.Files[0])
		assert.Equal(t, "/sub/a b.txt", rep.Files[1].Path)
		assert.Equal(t, "about alicorn\n", rep.Output)
		assert.NotContains(t, rep.String(), "container logs:")
		assert.Contains(t, rep.String(), "  files: 3 of 3 came out byte for byte\n")
		assert.True(t, strings.HasPrefix(rep.URL, "http://127.0.0.1:"), rep.URL)
		gone(t, ctx, g, rep)
	})

	t.Run("wrong content", func(t *testing.T) {
		t.Parallel()
		rep, err := g.Check(ctx, imgs.ownPage, testModule(content))
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrFailed)
		var se *StepError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, StepContent, se.Step)
		assert.Contains(t, err.Error(), "content: /index.html: ")
		assert.Contains(t, err.Error(), "differ from "+filepath.Join(content, "index.html"))
		assert.Contains(t, err.Error(), "at byte 1")
		assert.Contains(t, err.Error(), "(and 2 more of 3 files)")
		require.Len(t, rep.Files, 3)
		assert.Equal(t, "404 Not Found", rep.Files[2].Err)
		assert.False(t, rep.Passed())
		assert.Contains(t, rep.Logs, "serving its own page from /tmp/www")
		text := rep.String()
		t.Log(text)
		assert.Contains(t, text, "  content ")
		assert.Contains(t, text, "FAILED: /index.html: ")
		assert.Contains(t, text, "  file /sub/about.txt: 404 Not Found\n")
		assert.Contains(t, text, "  files: 0 of 3 came out byte for byte\n")
		assert.Contains(t, text, "container logs:\n  serving its own page from /tmp/www\n")
		gone(t, ctx, g, rep)
	})

	t.Run("never healthy", func(t *testing.T) {
		t.Parallel()
		m := testModule(content)
		m.Health.Timeout.Duration = 3 * time.Second
		start := time.Now()
		rep, err := g.Check(ctx, imgs.neverServes, m)
		took := time.Since(start)
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrFailed)
		assert.Regexp(t, `^health: no 200 from http://127\.0\.0\.1:[0-9]+/ within 3s: `, err.Error())
		assert.Contains(t, rep.Logs, "starting, and never serving")
		var health Step
		for _, s := range rep.Steps {
			if s.Name == StepHealth {
				health = s
			}
		}
		assert.GreaterOrEqual(t, health.Duration, 3*time.Second)
		assert.Less(t, health.Duration, 5*time.Second)
		assert.Less(t, took, 20*time.Second)
		gone(t, ctx, g, rep)
	})

	t.Run("exits", func(t *testing.T) {
		t.Parallel()
		rep, err := g.Check(ctx, imgs.exits, testModule(content))
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrFailed)
		assert.Regexp(t, `^health: no 200 from \S+: the container has ended \(\w+, exit status 3\)`, err.Error())
		assert.Contains(t, rep.Logs, "cannot start: no configuration")
		gone(t, ctx, g, rep)
	})

	t.Run("command fails", func(t *testing.T) {
		t.Parallel()
		m := testModule(content)
		m.Test.Command = []string{"/usr/sbin/busybox", "sh", "-c", "echo checking the pages; exit 3"}
		rep, err := g.Check(ctx, imgs.good, m)
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrFailed)
		assert.Contains(t, err.Error(), `command: "/usr/sbin/busybox sh -c echo checking the pages; exit 3": exit status 3: checking the pages`)
		assert.Equal(t, "checking the pages\n", rep.Output)
		gone(t, ctx, g, rep)
	})

	t.Run("command hangs", func(t *testing.T) {
		t.Parallel()
		m := testModule(content)
		m.Health.Timeout.Duration = 2 * time.Second
		m.Test.Command = []string{"/usr/sbin/busybox", "sleep", "600"}
		rep, err := g.Check(ctx, imgs.good, m)
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrFailed)
		assert.Contains(t, err.Error(), `command: "/usr/sbin/busybox sleep 600" did not finish within 2s`)
		gone(t, ctx, g, rep)
	})

	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		m := testModule(content)
		m.Health.Timeout.Duration = time.Minute
		rep, err := g.Check(cctx, imgs.neverServes, m)
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrFailed)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		gone(t, ctx, g, rep)
	})
}

func TestContainerPort(t *testing.T) {
	for _, tc := range []struct {
		m    module.Module
		want int
		err  string
	}{
		{module.Module{}, 80, ""},
		{module.Module{Build: module.Build{Ports: []string{"53/udp", "8080/tcp"}}}, 8080, ""},
		{module.Module{Build: module.Build{Ports: []string{"8081"}}}, 8081, ""},
		{module.Module{Containers: []module.Container{{Ports: []string{"127.0.0.1:8080:3000"}}}}, 3000, ""},
		{module.Module{Containers: []module.Container{{Ports: []string{"8080:3000/tcp"}}}}, 3000, ""},
		{module.Module{Containers: []module.Container{{Ports: []string{"5353:53/udp"}}}}, 0, "needs a tcp port"},
		{module.Module{Containers: []module.Container{{Ports: []string{"x"}}}}, 0, "not a port number"},
	} {
		got, err := containerPort(tc.m)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
}

func TestDiffer(t *testing.T) {
	assert.Equal(t, "", differ([]byte("abc"), []byte("abc"), "f"))
	assert.Equal(t, "3 bytes served differ from f (3 bytes) at byte 1", differ([]byte("axc"), []byte("abc"), "f"))
	assert.Equal(t, "2 bytes served differ from f (3 bytes) at byte 2", differ([]byte("ab"), []byte("abc"), "f"))
	assert.Equal(t, "more than 3 bytes served differ from f (3 bytes) at byte 3", differ([]byte("abcd"), []byte("abc"), "f"))
}

func TestParseID(t *testing.T) {
	id, err := newID(time.Unix(1700000000, 0))
	require.NoError(t, err)
	pid, made, ok := parseID(id)
	require.True(t, ok)
	assert.Equal(t, os.Getpid(), pid)
	assert.Equal(t, int64(1700000000), made.Unix())
	for _, bad := range []string{"", "x-1-a", "1-x-a", "1-2", "-1-2-a"} {
		_, _, ok := parseID(bad)
		assert.False(t, ok, bad)
	}
}

// TestKilledHelper is the process TestPodman/killed kills: it checks the
// image of the OCI layout $ALICORN_GATE_HELPER, which never answers.
func TestKilledHelper(t *testing.T) {
	lay := os.Getenv("ALICORN_GATE_HELPER")
	if lay == "" {
		return // only as TestPodman/killed's helper
	}
	idx, err := layout.ImageIndexFromPath(lay)
	require.NoError(t, err)
	man, err := idx.IndexManifest()
	require.NoError(t, err)
	img, err := idx.Image(man.Manifests[0].Digest)
	require.NoError(t, err)
	m := testModule(os.Getenv("ALICORN_GATE_CONTENT"))
	m.Health.Timeout.Duration = time.Minute
	g := &Podman{ContainersConf: os.Getenv("ALICORN_GATE_CONF")}
	g.Check(context.Background(), img, m)
}
