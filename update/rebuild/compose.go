package rebuild

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DBPath is where composed images keep their rpm database, as Fedora does.
const DBPath = "/usr/lib/sysimage/rpm"

// Config is what the image runs.
type Config struct {
	Entrypoint []string
	Cmd        []string
	// ExposedPorts are "PORT/PROTO", as "80/tcp".
	ExposedPorts []string
	Labels       map[string]string
	WorkingDir   string
	// StopSignal is the signal that asks the image's process to stop
	// ("SIGTERM"; empty leaves the runtime's default, SIGTERM too). The
	// process must handle it: as PID 1, a process without a handler for
	// it ignores it, and every stop waits for the runtime's timeout.
	StopSignal string
}

// Compose installs rpms (package files) with rpm into an empty root under
// work and returns the image of that root: one deterministic layer (see
// FromRecipe), with cfg. Each file is verified first (header and payload
// digests). The layer's file stays in work, which must outlive the image.
func Compose(ctx context.Context, work string, rpms []string, cfg Config) (v1.Image, error) {
	var pkgs []Package
	for _, f := range rpms {
		p, err := verifyRPM(f, nil)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
	}
	img, _, err := installImage(ctx, work, pkgs, "rpm -i "+strings.Join(nevras(pkgs), " "), cfg)
	return img, err
}

// installImage installs pkgs with rpm, in one transaction, into an empty
// root under work, and returns the image of that root, created at the
// newest build time of pkgs, and that time.
func installImage(ctx context.Context, work string, pkgs []Package, createdBy string, cfg Config) (v1.Image, time.Time, error) {
	if len(pkgs) == 0 {
		return nil, time.Time{}, fmt.Errorf("no packages to install")
	}
	var clamp time.Time
	files := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		if p.BuildTime.After(clamp) {
			clamp = p.BuildTime
		}
		files = append(files, p.File)
	}
	sort.Strings(files)
	root, err := os.MkdirTemp(work, "root-")
	if err != nil {
		return nil, clamp, err
	}
	defer os.RemoveAll(root)
	home := root + ".home"
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, clamp, err
	}
	defer os.RemoveAll(home)
	rpmCmd := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "rpm", append([]string{"--root", root, "--dbpath", DBPath}, args...)...)
		// rpm (4.18 here: rpmtsCreate reads SOURCE_DATE_EPOCH into the
		// transaction's time) takes the transaction's INSTALLTID and the
		// packages' INSTALLTIME from SOURCE_DATE_EPOCH (the first package
		// gets it, each next one a second more), so that rpmdb.sqlite is
		// the same from run to run. Without it, two installs a second
		// apart differ in rpmdb.sqlite only, by those times: 4 bytes of
		// big-endian INSTALLTIME and INSTALLTID in each package's header
		// blob (table Packages) and the key of each row of the Installtid
		// index. rpmdb.sqlite-shm differs always and is left out of the
		// layer (rpmdbScratch). HOME without .rpmmacros: the user's macros
		// stay out.
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LC_ALL=C.UTF-8",
			"SOURCE_DATE_EPOCH=" + strconv.FormatInt(clamp.Unix(), 10)}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("rpm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
		}
		return nil
	}
	if err := rpmCmd("--initdb"); err != nil {
		return nil, clamp, err
	}
	// What rpm installs must not depend on the host's macro files
	// (/etc/rpm/macros*): the macros that choose files are set here.
	install := []string{"-i", "--nosignature", "--define", "_excludedocs 0", "--define", "_install_langs all",
		"--define", "_netsharedpath %{nil}"}
	if err := rpmCmd(append(install, files...)...); err != nil {
		return nil, clamp, err
	}
	layerPath := filepath.Join(work, "layer.tar.gz")
	if err := tarRoot(root, layerPath, clamp, rpmdbScratch); err != nil {
		return nil, clamp, err
	}
	img, err := image(layerPath, clamp, createdBy, cfg)
	return img, clamp, err
}

// nevras returns the packages' NEVRAs, sorted.
func nevras(pkgs []Package) []string {
	out := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, p.NEVRA)
	}
	sort.Strings(out)
	return out
}
