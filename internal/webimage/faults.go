package webimage

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Fault is how a faulty image of the module fails, for the rollout's
// tests: each is the web module's image from the same RPMs, with an
// entrypoint that misbehaves.
type Fault string

// The faults an update must roll back from.
const (
	// ExitsAtStart ends at once with code 3.
	ExitsAtStart Fault = "exits-at-start"
	// NeverHealthy runs and never answers.
	NeverHealthy Fault = "never-healthy"
	// ServesErrors serves the pages for a while, then answers every
	// request with 500.
	ServesErrors Fault = "serves-errors"
	// CrashesLater serves the pages for a while, then exits with code 1.
	CrashesLater Fault = "crashes-later"
	// SlowStart answers only after a while (longer than the ready
	// timeout).
	SlowStart Fault = "slow-start"
)

// Faults lists every Fault.
func Faults() []Fault {
	return []Fault{ExitsAtStart, NeverHealthy, ServesErrors, CrashesLater, SlowStart}
}

// Faulty composes the module's image from rpms (see RPMs) with fault f,
// which strikes after (ServesErrors, CrashesLater, SlowStart). work is
// emptied first and must outlive the image.
func Faulty(ctx context.Context, work string, rpms []string, f Fault, after time.Duration) (v1.Image, error) {
	secs := strconv.Itoa(max(1, int(after.Round(time.Second)/time.Second)))
	httpd := fmt.Sprintf("/usr/sbin/httpd -f -p %d -h %s", Port, DocRoot)
	// sh is PID 1: it ends its children and exits on SIGTERM.
	trap := `trap 'kill $child 2>/dev/null; exit 143' TERM; `
	var script string
	switch f {
	case ExitsAtStart:
		script = `echo "cannot start: no configuration" >&2; exit 3`
	case NeverHealthy:
		script = trap + `echo starting, never serving; while :; do /usr/sbin/busybox sleep 1; done`
	case ServesErrors:
		// After a while httpd is started again with every page handed
		// to an interpreter that answers 500 (httpd forks per request:
		// the errors come as fast as pages did).
		script = trap + httpd + ` & child=$!; /usr/sbin/busybox sleep ` + secs + `; kill $child; wait $child
printf '#!/usr/sbin/busybox sh\necho "Status: 500 Internal Server Error"\necho "Content-Type: text/plain"\necho\necho broken\n' >/tmp/500
/usr/sbin/busybox chmod +x /tmp/500
echo '*.html:/tmp/500' >/tmp/httpd.conf
echo serving errors now
` + httpd + ` -c /tmp/httpd.conf & child=$!; wait $child`
	case CrashesLater:
		script = trap + httpd + ` & child=$!; /usr/sbin/busybox sleep ` + secs + `; echo crashing >&2; kill -9 $child; exit 1`
	case SlowStart:
		script = trap + `/usr/sbin/busybox sleep ` + secs + ` & child=$!; wait $child; ` + httpd + ` & child=$!; wait $child`
	default:
		return nil, fmt.Errorf("unknown fault %q", f)
	}
	cfg := Config()
	cfg.Entrypoint = []string{"/usr/sbin/busybox", "sh", "-c", script}
	return Compose(ctx, filepath.Join(work), rpms, cfg)
}
