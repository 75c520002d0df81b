// Command module-update applies module updates on this host with no
// downtime, and rolls them back by itself when the new image fails here.
//
//	module-update [options] status [MODULE...]
//	module-update [options] apply [--security] [--advisory=ID] [--cve=ID] [--bz=ID] [--sec-severity=S] [-y|--assumeno] [MODULE...]
//	module-update [options] rollback [-y] MODULE
//	module-update [options] recover [MODULE...]
//	module-update [options] front MODULE
//	module-update [options] export --kube [--namespace NS | --podman] [--to DIGEST] MODULE
//
// With --kube, status, apply, rollback and recover work on the modules'
// Deployments in a Kubernetes cluster (--kubeconfig, --namespace)
// instead of this host's containers.
//
// It only parses flags and prints: the work is github.com/alicorn-dev/
// alicorn/update/updater's (and update/rollout's or update/kube's
// beneath it).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/update"
	"github.com/alicorn-dev/alicorn/update/front"
	"github.com/alicorn-dev/alicorn/update/kube"
	upodman "github.com/alicorn-dev/alicorn/update/podman"
	"github.com/alicorn-dev/alicorn/update/rollout"
	"github.com/alicorn-dev/alicorn/update/trust"
	"github.com/alicorn-dev/alicorn/update/updater"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// list is a repeatable flag of comma-separated values, as dnf's
// --advisory=ID[,ID].
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }
func (l *list) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

const usage = `usage: module-update [options] status [MODULE...]
       module-update [options] apply [--security] [--advisory=ID] [--cve=ID] [--bz=ID]
                     [--sec-severity=SEV] [-y|--assumeno] [MODULE...]
       module-update [options] rollback [-y] MODULE
       module-update [options] recover [MODULE...]
       module-update [options] front MODULE
       module-update [options] export --kube [--namespace NS | --podman] [--to DIGEST] MODULE

status:   the digest each module runs, the newest published one and the advisories it fixes.
apply:    pull the newest image by digest, verify it, roll it out (start new, health check, add to
          the front, drain and stop old, next), watch it, commit; a failure rolls back by itself.
          Filters choose updates as dnf's do (combined with OR).
rollback: return a module to the image committed before the current one.
recover:  finish or undo an interrupted update; restore containers to the committed digest.
front:    run the module's built-in front (its public address, [front] listen) until SIGTERM.
--kube:   status, apply, rollback and recover work on the module's Deployment in a Kubernetes
          cluster (--kubeconfig, else $KUBECONFIG, else ~/.kube/config; --namespace, else the
          context's): apply takes the module's lease, server-side applies the image by digest,
          watches the rollout and puts the old image's pod template back when a new pod never
          gets ready, crashes, or fails within [update] watch, or the progress deadline
          (ready-timeout) passes. Journals, locks and committed digests are kept in
          --state/kube/NAMESPACE@SERVER.
export:   print the module's Kubernetes Deployment and Service (YAML), its image by digest.
          --podman: the Deployment for podman kube play (podman 4.3) on this host: one replica
          (podman plays each replica as a pod, all on one host port), helpers as plain
          containers (podman waits for sidecars to exit: the served one never starts), the
          served port published at [front] listen's IP and port only (podman publishes a bare
          containerPort on 0.0.0.0). Podman honours command, args, env, labels, hostPath and
          emptyDir (a volume of that name shared by the containers, removed by kube down unless
          it was there before); it ignores the strategy, the readiness probe, the grace period,
          the annotations, the namespace and the Service (not printed).
Exit status: 0 success or nothing to do, 1 error or rolled back, 2 usage, 100 status with updates.
Options (anywhere):
`

type options struct {
	dir, state, conf, policy string
	tlsVerify, asJSON        bool
	yes, no                  bool
	to, namespace            string
	kube, podman             bool
	kubeconfig               string
	filter                   updater.Filter
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	fl := flag.NewFlagSet("module-update", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&o.dir, "modules-dir", "/etc/alicorn/modules.d", "the directory of module files (*.toml)")
	fl.StringVar(&o.state, "state", "/var/lib/alicorn/updates", "journals, locks, deployed digests, fronts' sockets")
	fl.StringVar(&o.conf, "containers-conf", os.Getenv("CONTAINERS_CONF"), "containers.conf for podman")
	fl.StringVar(&o.policy, "policy", "/etc/containers/policy.json", "the signature policy images must satisfy before they run (none: no check; a missing file at the default path: no check)")
	fl.BoolVar(&o.tlsVerify, "tls-verify", true, "require HTTPS with verified certificates from registries (false for loopback ones)")
	fl.BoolVar(&o.asJSON, "json", false, "status: print JSON; others: each step as a JSON object")
	fl.BoolVar(&o.filter.Security, "security", false, "only updates fixing security advisories")
	fl.Var((*list)(&o.filter.Advisories), "advisory", "only updates fixing these advisories (ID[,ID])")
	fl.Var((*list)(&o.filter.Advisories), "advisories", "same as --advisory")
	fl.Var((*list)(&o.filter.CVEs), "cve", "only updates fixing these CVEs")
	fl.Var((*list)(&o.filter.CVEs), "cves", "same as --cve")
	fl.Var((*list)(&o.filter.Bugs), "bz", "only updates fixing these Bugzilla IDs")
	fl.Var((*list)(&o.filter.Bugs), "bzs", "same as --bz")
	fl.Var((*list)(&o.filter.Severities), "sec-severity", "only updates fixing security advisories of these severities")
	fl.Var((*list)(&o.filter.Severities), "secseverity", "same as --sec-severity")
	fl.StringVar(&o.to, "to", "", "apply: this digest (sha256:…) instead of the newest published")
	fl.BoolVar(&o.kube, "kube", false, "the modules run on Kubernetes (export: print their manifests)")
	fl.StringVar(&o.kubeconfig, "kubeconfig", "", "--kube: the cluster's kubeconfig (default $KUBECONFIG, else ~/.kube/config)")
	fl.StringVar(&o.namespace, "namespace", "", "--kube: the modules' namespace (default the kubeconfig context's; export: none)")
	fl.BoolVar(&o.podman, "podman", false, "export --kube: the Deployment podman kube play runs on this host")
	fl.BoolVar(&o.yes, "y", false, "answer yes")
	fl.BoolVar(&o.yes, "assumeyes", false, "answer yes")
	fl.BoolVar(&o.no, "assumeno", false, "answer no: show what would be done, do nothing")
	fl.Usage = func() {
		fmt.Fprint(stderr, usage)
		fl.PrintDefaults()
	}
	pos, err := parse(fl, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if o.kubeconfig != "" {
		o.kube = true
	}
	if o.yes && o.no {
		fmt.Fprintln(stderr, "module-update: -y and --assumeno contradict each other")
		return 2
	}
	if o.to != "" {
		if _, err := v1.NewHash(o.to); err != nil {
			fmt.Fprintf(stderr, "module-update: --to %q: not a digest (sha256:…): %v\n", o.to, err)
			return 2
		}
	}
	if len(pos) == 0 {
		fl.Usage()
		return 2
	}
	cmd, names := pos[0], pos[1:]
	mods, err := load(o.dir, names)
	if err != nil {
		fmt.Fprintln(stderr, "module-update:", err)
		return 1
	}
	u, err := o.updater(cmd, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "module-update:", err)
		return 1
	}
	switch cmd {
	case "status":
		return status(ctx, u, mods, o, stdout, stderr)
	case "apply", "upgrade", "update":
		return apply(ctx, u, mods, o, stdin, stdout, stderr)
	case "rollback":
		if len(names) != 1 {
			fmt.Fprintln(stderr, "module-update: rollback takes one module")
			return 2
		}
		return rollback(ctx, u, mods[0], o, stdin, stdout, stderr)
	case "front":
		if o.kube {
			fmt.Fprintln(stderr, "module-update: front: a Kubernetes module's front is its Service")
			return 2
		}
		if len(mods) != 1 || len(names) != 1 {
			fmt.Fprintln(stderr, "module-update: front takes one module")
			return 2
		}
		if err := serveFront(ctx, mods[0], o, stderr); err != nil {
			fmt.Fprintln(stderr, "module-update:", err)
			return 1
		}
		return 0
	case "export":
		if len(mods) != 1 || len(names) != 1 || !o.kube {
			fmt.Fprintln(stderr, "module-update: export takes --kube and one module")
			return 2
		}
		if o.podman && o.namespace != "" {
			fmt.Fprintln(stderr, "module-update: export --podman: podman has no namespaces")
			return 2
		}
		return export(ctx, u, mods[0], o, stdout, stderr)
	case "recover":
		code := 0
		for _, m := range mods {
			if err := u.Recover(ctx, m); err != nil {
				fmt.Fprintln(stderr, "module-update:", err)
				code = 1
			}
		}
		return code
	}
	fmt.Fprintf(stderr, "module-update: unknown command %q\n", cmd)
	fl.Usage()
	return 2
}

// parse parses flags anywhere among the arguments (module-update apply
// web -y), as dnf does; "--" ends them.
func parse(fl *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		args = fl.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// load reads the module files and keeps those named (all when none is).
func load(dir string, names []string) ([]module.Module, error) {
	all, err := module.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return all, nil
	}
	var out []module.Module
	for _, n := range names {
		i := slices.IndexFunc(all, func(m module.Module) bool { return m.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("no module %s in %s", n, dir)
		}
		out = append(out, all[i])
	}
	return out, nil
}

func (o options) updater(cmd string, stdout io.Writer) (*updater.Updater, error) {
	rt := &upodman.Runtime{ContainersConf: o.conf, TLSVerify: o.tlsVerify}
	u := &updater.Updater{State: o.state, Runtime: rt}
	if o.kube && cmd != "export" {
		k, err := kube.Connect(o.kubeconfig, o.namespace)
		if err != nil {
			return nil, err
		}
		u.Kube = k
	}
	if !o.tlsVerify {
		u.Remote = append(u.Remote, remote.WithTransport(insecureTransport()))
	}
	if o.policy != "none" {
		policy, err := trust.LoadPolicy(o.policy)
		switch {
		case errors.Is(err, fs.ErrNotExist) && o.policy == "/etc/containers/policy.json":
			// No policy on this host: podman would not check either.
		case err != nil:
			return nil, err
		default:
			opts := trust.Options{Insecure: !o.tlsVerify}
			u.Verify = func(ctx context.Context, ref string) error {
				_, err := policy.Verify(ctx, ref, opts)
				return err
			}
		}
	}
	enc := json.NewEncoder(stdout)
	u.Log = func(e rollout.Event) {
		if o.asJSON {
			enc.Encode(e)
			return
		}
		line := e.Module + ": " + e.Step
		for _, s := range []string{e.Container, e.ID, e.Detail} {
			if s != "" {
				line += " " + s
			}
		}
		fmt.Fprintln(stdout, line)
	}
	return u, nil
}

func status(ctx context.Context, u *updater.Updater, mods []module.Module, o options, stdout, stderr io.Writer) int {
	code := 0
	var all []*updater.Status
	for _, m := range mods {
		s, err := u.Status(ctx, m)
		if err != nil {
			fmt.Fprintln(stderr, "module-update:", err)
			code = 1
			continue
		}
		all = append(all, s)
		if s.Error != "" {
			fmt.Fprintf(stderr, "module-update: module %s: %s\n", s.Module, s.Error)
			code = 1
		}
		if s.Pending() && s.Failed == nil && code == 0 {
			code = 100
		}
	}
	if o.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if all == nil {
			all = []*updater.Status{}
		}
		enc.Encode(all)
		return code
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODULE\tPOLICY\tCONTAINERS\tRUNNING\tNEWEST\tFIXES")
	for _, s := range all {
		up := 0
		for _, in := range s.Running {
			if in.Running {
				up++
			}
		}
		expected := s.Expected
		newest := short(s.Newest)
		if !s.Pending() && s.Newest != "" {
			newest = "(current)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%s\t%s\t%s\n", s.Module, s.Policy, up, expected, short(s.Runs()), newest, ids(s.Fixes))
	}
	tw.Flush()
	for _, s := range all {
		if s.Unfinished {
			fmt.Fprintf(stdout, "%s: an update was interrupted: run module-update recover %s\n", s.Module, s.Module)
		}
		if s.Updating {
			by := ""
			if s.UpdatingBy != "" {
				by = " (by " + s.UpdatingBy + ")"
			}
			fmt.Fprintf(stdout, "%s: an update is in progress%s\n", s.Module, by)
		}
		if s.Failed != nil && s.Pending() {
			fmt.Fprintf(stdout, "%s: %s was rolled back on this host: %s\n", s.Module, short(s.Newest), firstLine(s.Failed.Reason))
		}
		if s.Pending() {
			for _, f := range s.Fixes {
				fmt.Fprintf(stdout, "%s: %s\n", s.Module, fixLine(f))
			}
		}
	}
	return code
}

func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	if d == "" {
		return "-"
	}
	return d
}

func ids(fixes []update.Fix) string {
	var s []string
	for _, f := range fixes {
		s = append(s, f.Advisory)
	}
	if s == nil {
		return "-"
	}
	return strings.Join(s, ",")
}

func fixLine(f update.Fix) string {
	line := f.Advisory
	if f.Severity != "" {
		line += " " + f.Severity
	}
	refs := append(append([]string(nil), f.CVEs...), bugs(f.Bugs)...)
	if len(refs) > 0 {
		line += " (" + strings.Join(refs, ", ") + ")"
	}
	return line
}

func bugs(b []string) []string {
	out := make([]string, len(b))
	for i, id := range b {
		out[i] = "BZ#" + id
	}
	return out
}

// confirm asks as dnf does: yes with -y, no with --assumeno, else the
// answer on stdin.
func confirm(o options, stdin io.Reader, stdout io.Writer) bool {
	if o.no {
		return false
	}
	if o.yes {
		return true
	}
	fmt.Fprint(stdout, "Is this ok [y/N]: ")
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

func apply(ctx context.Context, u *updater.Updater, mods []module.Module, o options, stdin io.Reader, stdout, stderr io.Writer) int {
	type todo struct {
		m module.Module
		s *updater.Status
	}
	var plan []todo
	code := 0
	for _, m := range mods {
		s, err := u.Status(ctx, m)
		if err == nil && s.Error != "" && o.to == "" {
			// With --to, the tag need not be readable.
			err = fmt.Errorf("module %s: %s", s.Module, s.Error)
		}
		if err == nil && s.Unfinished {
			// An interrupted update is finished or undone first, even
			// when there is nothing new to apply.
			if o.no {
				fmt.Fprintf(stdout, "%s: an update was interrupted: apply would finish or undo it first\n", m.Name)
			} else if err = u.Recover(ctx, m); err == nil {
				s, err = u.Status(ctx, m)
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "module-update:", err)
			code = 1
			continue
		}
		if o.to != "" {
			s.Newest, s.Failed = o.to, nil
			if s.Fixes, err = u.FixesTo(ctx, m, s.Current(), o.to); err != nil {
				fmt.Fprintln(stderr, "module-update:", err)
				code = 1
				continue
			}
		}
		if s.Failed != nil && s.Pending() {
			fmt.Fprintf(stdout, "%s: %s was rolled back on this host (%s): apply --to %s to try it again\n",
				m.Name, short(s.Newest), firstLine(s.Failed.Reason), s.Newest)
			continue
		}
		if !o.filter.Wanted(s) {
			continue
		}
		if m.Update.Policy == "manual" {
			fmt.Fprintf(stdout, "%s: update %s → %s not applied: update policy manual\n", m.Name, short(s.Current()), short(s.Newest))
			continue
		}
		plan = append(plan, todo{m, s})
	}
	if len(plan) == 0 {
		if code == 0 {
			fmt.Fprintln(stdout, "Nothing to do.")
		}
		return code
	}
	if o.asJSON {
		// The plan as data: what a dry run (--assumeno) would do.
		type step struct {
			Module string       `json:"module"`
			Policy string       `json:"policy"`
			From   string       `json:"from"`
			To     string       `json:"to"`
			Fixes  []update.Fix `json:"fixes"`
		}
		enc := json.NewEncoder(stdout)
		for _, t := range plan {
			enc.Encode(map[string]step{"plan": {t.m.Name, t.m.Update.Policy, t.s.Current(), t.s.Newest, o.filter.Select(t.s.Fixes)}})
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if o.asJSON {
		tw = tabwriter.NewWriter(io.Discard, 0, 4, 2, ' ', 0)
	}
	fmt.Fprintln(tw, "Module\tPolicy\tFrom\tTo\tFixes")
	for _, t := range plan {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.m.Name, t.m.Update.Policy, short(t.s.Current()), short(t.s.Newest), ids(o.filter.Select(t.s.Fixes)))
	}
	tw.Flush()
	if !confirm(o, stdin, stdout) {
		fmt.Fprintln(stdout, "Operation aborted.")
		return 1
	}
	for _, t := range plan {
		err := u.Apply(ctx, t.m, t.s.Newest)
		var rb *rollout.RolledBackError
		switch {
		case errors.As(err, &rb):
			fmt.Fprintln(stderr, "module-update:", err)
			code = 1
		case err != nil:
			fmt.Fprintln(stderr, "module-update:", err)
			code = 1
		default:
			fmt.Fprintf(stdout, "%s: updated to %s\n", t.m.Name, t.s.Newest)
		}
	}
	if code == 0 {
		fmt.Fprintln(stdout, "Complete!")
	}
	return code
}

func rollback(ctx context.Context, u *updater.Updater, m module.Module, o options, stdin io.Reader, stdout, stderr io.Writer) int {
	d, ok, err := u.Deployed(m)
	if err != nil {
		fmt.Fprintln(stderr, "module-update:", err)
		return 1
	}
	if !ok || d.Previous == nil {
		fmt.Fprintf(stderr, "module-update: module %s: %v\n", m.Name, updater.ErrNoPrevious)
		return 1
	}
	fmt.Fprintf(stdout, "%s: roll back %s → %s\n", m.Name, short(d.Current.Digest), short(d.Previous.Digest))
	if !confirm(o, stdin, stdout) {
		fmt.Fprintln(stdout, "Operation aborted.")
		return 1
	}
	if err := u.Rollback(ctx, m); err != nil {
		fmt.Fprintln(stderr, "module-update:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: rolled back to %s\n", m.Name, d.Previous.Digest)
	return 0
}

// serveFront runs m's built-in front until ctx is done.
func serveFront(ctx context.Context, m module.Module, o options, stderr io.Writer) error {
	f := m.Front
	if f.Listen == "" {
		return fmt.Errorf("module %s has no [front] listen address", m.Name)
	}
	if f.Kind != "" && f.Kind != "builtin" {
		return fmt.Errorf("module %s: its front is %s, not the built-in one", m.Name, f.Kind)
	}
	return front.Serve(ctx, front.Config{
		Listen: f.Listen,
		Socket: f.SocketIn(o.state, m.Name),
		State:  filepath.Join(o.state, "front-"+m.Name+".json"),
		Logf: func(format string, args ...any) {
			fmt.Fprintf(stderr, "front %s: "+format+"\n", append([]any{m.Name}, args...)...)
		},
	})
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSuffix(line, "; its last lines:")
}

// export prints m's Kubernetes manifests, its image by digest (--to, or
// the newest published): the Deployment and Service, or with --podman
// kube.ForPodman's Deployment.
func export(ctx context.Context, u *updater.Updater, m module.Module, o options, stdout, stderr io.Writer) int {
	digest := o.to
	if digest == "" {
		var err error
		if digest, err = u.Newest(ctx, m); err != nil {
			fmt.Fprintln(stderr, "module-update:", err)
			return 1
		}
	}
	ref, err := updater.Ref(m, digest)
	if err != nil {
		fmt.Fprintln(stderr, "module-update:", err)
		return 1
	}
	dep, svc, err := kube.Manifests(m, ref, o.namespace)
	if err == nil && o.podman {
		svc = nil // podman kube play ignores it
		dep, err = kube.ForPodman(m, ref)
	}
	if err != nil {
		fmt.Fprintln(stderr, "module-update:", err)
		return 1
	}
	y, err := kube.YAML(dep, svc)
	if err != nil {
		fmt.Fprintln(stderr, "module-update:", err)
		return 1
	}
	stdout.Write(y)
	return 0
}
