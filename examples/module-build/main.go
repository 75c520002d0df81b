// Command module-build is alicorn's module build service: for every
// module with a [build] recipe it checks whether the image published
// under the recipe's tag needs a rebuild (a security fix in the recipe's
// repositories, a changed recipe), and if so rebuilds it with dnf (and
// the recipe's Containerfile with podman), tests it under podman (the
// test content must come out over HTTP), signs and publishes it, moving
// the tag last.
//
//	module-build [options] check [MODULE...]            what needs a rebuild, and why (exit 100 if any)
//	module-build [options] build [--force] [MODULE...]  check, then rebuild, test and publish what needs it
//	module-build [options] watch [--interval=10m]       build every interval until SIGTERM
//
// It only parses flags and prints: the work is github.com/alicorn-dev/
// alicorn/update/service's. Every step is printed with its reason, one
// line each (--json: one JSON object each). systemd units are in
// systemd/.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/gate"
	"github.com/alicorn-dev/alicorn/update/publish"
	"github.com/alicorn-dev/alicorn/update/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("module-build", flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("modules-dir", "/etc/alicorn/modules.d", "the directory of module files (*.toml)")
	work := fl.String("work", "/var/lib/alicorn/build", "builds and locks")
	cache := fl.String("cache-dir", "", "the recipe repositories' metadata cache (default: alicorn's)")
	asJSON := fl.Bool("json", false, "print each step as a JSON object")
	insecure := fl.Bool("insecure-registry", false, "push over plain HTTP (loopback registries)")
	pass := fl.String("sign-passphrase-file", "", "the first line of this file opens the recipes' sign-key")
	conf := fl.String("containers-conf", os.Getenv("CONTAINERS_CONF"), "containers.conf for podman")
	fl.Usage = func() {
		fmt.Fprint(stderr, `usage: module-build [options] check [MODULE...]
       module-build [options] build [--force] [MODULE...]
       module-build [options] watch [--interval=10m]

check: what needs a rebuild and why (exit 100 if anything does, 1 on errors).
build: check, then rebuild, test, sign and publish what needs it (exit 1 if any fails).
watch: build every interval until SIGTERM.
Options (before the command):
`)
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() == 0 {
		fl.Usage()
		return 2
	}
	cmd, rest := fl.Arg(0), fl.Args()[1:]
	sub := flag.NewFlagSet(cmd, flag.ContinueOnError)
	sub.SetOutput(stderr)
	force := sub.Bool("force", false, "rebuild even when nothing asks for it")
	interval := sub.Duration("interval", 10*time.Minute, "time between rounds (watch)")
	if err := sub.Parse(rest); err != nil {
		return 2
	}
	mods, err := modules(*dir, sub.Args())
	if err != nil {
		fmt.Fprintln(stderr, "module-build:", err)
		return 1
	}
	emit := func(e service.Event) {
		if *asJSON {
			b, _ := json.Marshal(e)
			fmt.Fprintln(stdout, string(b))
			return
		}
		fmt.Fprintln(stdout, line(e))
	}
	pub := &publish.Publisher{Insecure: *insecure}
	s := &service.Service{
		Work:  *work,
		Check: update.CheckOptions{CacheDir: *cache},
		Gate:  &gate.Podman{ContainersConf: *conf},
		PublisherFor: func(m module.Module) (update.Publisher, error) {
			return pub.ForModule(m, *pass)
		},
		Log: emit,
	}
	s.Layers.ContainersConf = *conf
	switch cmd {
	case "check":
		code := 0
		for _, m := range mods {
			p, err := update.Check(ctx, m, s.Check)
			if err != nil {
				fmt.Fprintln(stderr, "module-build:", err)
				code = 1
				continue
			}
			emit(service.Event{Time: time.Now().UTC(), Module: m.Name, Step: "check", Outcome: outcome(p),
				Reasons: p.Reasons, Fixes: p.Fixes, Digest: p.Digest})
			if p.Rebuild() && code == 0 {
				code = 100
			}
		}
		return code
	case "build":
		code := 0
		for _, m := range mods {
			// Another run building it is no failure of this one.
			if _, err := s.Run(ctx, m, *force); err != nil && !errors.Is(err, service.ErrBusy) {
				code = 1 // logged as an event
			}
		}
		return code
	case "watch":
		if err := s.Watch(ctx, mods, *interval); err != nil {
			fmt.Fprintln(stderr, "module-build:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "module-build: unknown command %q: check, build or watch\n", cmd)
	return 2
}

// modules reads the module files of dir that have a recipe, those named
// only when names are given.
func modules(dir string, names []string) ([]module.Module, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("modules directory %s: not a directory", dir)
	}
	all, err := module.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []module.Module
	for _, m := range all {
		if m.Buildable() && (len(names) == 0 || slices.Contains(names, m.Name)) {
			out = append(out, m)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(out, func(m module.Module) bool { return m.Name == n }) {
			return nil, fmt.Errorf("no module %s with a [build] recipe in %s", n, dir)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no module with a [build] recipe in %s", dir)
	}
	return out, nil
}

func outcome(p *update.Plan) string {
	if p.Rebuild() {
		return "rebuild"
	}
	return "current"
}

// line prints an event for people: time, module, step, outcome, then
// why.
func line(e service.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %s", e.Time.Format(time.RFC3339), e.Module, e.Step, e.Outcome)
	if len(e.Reasons) > 0 {
		var rs []string
		for _, r := range e.Reasons {
			rs = append(rs, string(r))
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(rs, ", "))
	}
	for _, f := range e.Fixes {
		fmt.Fprintf(&b, " %s %s: %s;", f.Advisory, f.Severity, strings.Join(f.Packages, ", "))
	}
	if e.Digest != "" {
		fmt.Fprintf(&b, " %s", e.Digest)
	}
	if e.Error != "" {
		// A failed test's report follows its first line, indented.
		first, rest, _ := strings.Cut(strings.TrimRight(e.Error, "\n"), "\n")
		fmt.Fprintf(&b, ": %s", first)
		for _, l := range strings.Split(rest, "\n") {
			if l != "" {
				fmt.Fprintf(&b, "\n    %s", l)
			}
		}
	}
	return b.String()
}
