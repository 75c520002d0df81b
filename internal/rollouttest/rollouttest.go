// Package rollouttest sets up what the rollout's tests run: podman with
// this machine's containers.conf, the web module's images (from real
// RPMs; a fixed release; faulty variants), images published to a
// registry with the labels the build service writes, the web module's
// file (three web replicas serving a content container's volume), and a
// built-in front in the test process.
package rollouttest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/alicorn-dev/alicorn/internal/flock"
	"github.com/alicorn-dev/alicorn/internal/podman"
	"github.com/alicorn-dev/alicorn/internal/webimage"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/front"
	"github.com/alicorn-dev/alicorn/update/front/haproxy"
	"github.com/alicorn-dev/alicorn/update/publish"
)

// Needs skips t unless it can run podman as root and build RPMs.
func Needs(t testing.TB) {
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
	Exclusive(t)
}

// Podman returns podman with this machine's containers.conf, written in
// dir.
func Podman(t testing.TB, dir string) podman.Podman {
	t.Helper()
	conf := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(conf, []byte(podman.ContainersConf), 0o644); err != nil {
		t.Fatal(err)
	}
	return podman.Podman{ContainersConf: conf}
}

// Images builds the web module's images in dir.
type Images struct {
	Dir  string
	RPMs []string // web-filesystem, busybox-httpd, web-content
}

// NewImages builds the module's RPMs.
func NewImages(t testing.TB, ctx context.Context, dir string) *Images {
	t.Helper()
	rpms, err := webimage.RPMs(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	return &Images{Dir: dir, RPMs: rpms}
}

// Release composes the module's image with busybox-httpd of release
// ("1" is the RPMs' own), faulty when fault is not "" (striking after 2s,
// or answering after 8s for webimage.SlowStart: longer than ModuleFile's
// ready-timeout).
func (im *Images) Release(t testing.TB, ctx context.Context, release string, fault webimage.Fault) v1.Image {
	t.Helper()
	rpms := im.RPMs
	if release != "1" {
		httpd, err := webimage.HTTPD(ctx, im.Dir, release, false)
		if err != nil {
			t.Fatal(err)
		}
		rpms = []string{im.RPMs[0], httpd, im.RPMs[2]}
	}
	work := filepath.Join(im.Dir, "image-"+release+"-"+string(fault))
	var img v1.Image
	var err error
	if fault == "" {
		img, err = webimage.Compose(ctx, work, rpms, webimage.Config())
	} else {
		after := 2 * time.Second
		if fault == webimage.SlowStart {
			after = 8 * time.Second
		}
		img, err = webimage.Faulty(ctx, work, rpms, fault, after)
	}
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Publish pushes img to the registry at addr as REPO:TAG with the labels
// of a build fixing fixes after previous, and returns its digest.
func Publish(t testing.TB, ctx context.Context, addr, repo, tag string, img v1.Image, previous string, fixes ...update.Fix) string {
	t.Helper()
	return PublishSigned(t, ctx, addr, repo, tag, img, previous, nil, fixes...)
}

// PublishSigned is Publish, signing with signer (none when nil).
func PublishSigned(t testing.TB, ctx context.Context, addr, repo, tag string, img v1.Image, previous string, signer *publish.Signer, fixes ...update.Fix) string {
	t.Helper()
	var ids []string
	for _, f := range fixes {
		ids = append(ids, f.Advisory)
	}
	img, err := publish.Annotate(img, publish.Record{Fixes: ids, Advisories: fixes, Previous: previous})
	if err != nil {
		t.Fatal(err)
	}
	p := &publish.Publisher{Insecure: true, Signer: signer}
	ref, _, err := p.Publish(ctx, img, addr+"/"+repo, tag)
	if err != nil {
		t.Fatal(err)
	}
	_, digest, _ := strings.Cut(ref, "@")
	return digest
}

// ModuleFile is the web module's file: three web replicas (NAME-web-1…3)
// serving the volume a content container (NAME-content) fills from the
// image's pages, behind a front on listen with its control socket at
// socket ("" for the state directory's), rolled with policy. Podman's
// container names are the host's: the module's name in them keeps tests
// apart.
func ModuleFile(name, image, listen, socket, policy string) string {
	vol := name + "-content"
	s := fmt.Sprintf(`name = %q
image = %q

[front]
listen = %q
`, name, image, listen)
	if socket != "" {
		s += fmt.Sprintf("socket = %q\n", socket)
	}
	s += fmt.Sprintf(`
[[containers]]
name = "%[6]s-content"
volumes = ["%[1]s:/srv/content"]
entrypoint = ["/usr/sbin/busybox", "sh", "-c", """
trap 'exit 0' TERM
# Each page is copied beside its old version, then renamed over it: the
# web servers never read half a page.
cd %[2]s && /usr/sbin/busybox find . -type f | while read -r f; do
  /usr/sbin/busybox mkdir -p "/srv/content/${f%%/*}" &&
  /usr/sbin/busybox cp -a "$f" "/srv/content/$f.new" && /usr/sbin/busybox mv -f "/srv/content/$f.new" "/srv/content/$f" || exit 1
done
while :; do /usr/sbin/busybox sleep 1; done
"""]

[[containers]]
name = "%[6]s-web"
serve = %[3]d
replicas = 3
requires = ["%[6]s-content"]
volumes = ["%[1]s:%[2]s:ro"]

[health]
path = "/"
expect = %[4]q
interval = "200ms"
timeout = "5s"

[update]
policy = %[5]q
ready-timeout = "5s"
drain = "5s"
pause = "3s"
watch = "4s"
`, vol, webimage.DocRoot, webimage.Port, webimage.Expect, policy, name)
	return s
}

// Front runs the built-in front (front.Serve, as module-update front
// does) in the test process until the test ends, with its control
// socket at socket and its state beside it, and returns its public
// address.
func Front(t testing.TB, socket string) (addr string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- front.Serve(ctx, front.Config{Listen: addr, Socket: socket, State: socket + ".json",
			Logf: func(format string, args ...any) { t.Logf("front: "+format, args...) }})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("front: %v", err)
		}
	})
	c := front.Client{Socket: socket}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := c.Backends(context.Background()); err == nil {
			return addr
		} else if time.Now().After(deadline) {
			t.Fatalf("front at %s: %v", socket, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Names are the podman names of the module's containers in ModuleFile.
func Names(module string) []string {
	return []string{module + "-content", module + "-web-1", module + "-web-2", module + "-web-3"}
}

// Clean removes the module's containers and volume at the end of t.
func Clean(t testing.TB, pm podman.Podman, moduleName string) {
	t.Cleanup(func() {
		ctx := context.Background()
		out, _ := pm.Run(ctx, "ps", "--all", "--quiet", "--filter", "label=io.alicorn.module="+moduleName)
		for _, id := range strings.Fields(out) {
			pm.Run(ctx, "rm", "--force", "--time", "1", id)
		}
		pm.Run(ctx, "volume", "rm", "--force", moduleName+"-content")
	})
}

// HAProxy runs Debian's haproxy with haproxy.Config for backend until
// the test ends, and returns its public address and its runtime API's
// socket; it skips t when haproxy is missing.
func HAProxy(t testing.TB, dir, backend string) (listen, socket string) {
	t.Helper()
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("needs haproxy (apt-get install haproxy)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen = l.Addr().String()
	l.Close()
	socket = filepath.Join(dir, "haproxy.sock")
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(haproxy.Config(listen, backend, socket)), 0o600); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	cmd := exec.Command("haproxy", "-f", cfg, "-db")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	f := haproxy.Front{Socket: socket, Backend: backend}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := f.Backends(context.Background()); err == nil {
			return listen, socket
		} else if time.Now().After(deadline) {
			t.Fatalf("haproxy's runtime API at %s: %v\n%s", socket, err, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Exclusive makes t wait until no other test of the rollout (in any
// package's test process) runs, and holds the others off until it ends:
// on two cores, two of them at once time each other out.
func Exclusive(t testing.TB) {
	t.Helper()
	unlock, err := flock.Wait(filepath.Join(os.TempDir(), "alicorn-rollout-tests.lock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
}
