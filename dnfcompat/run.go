package dnfcompat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/alicorn-dev/alicorn"
	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/repo"
	"github.com/alicorn-dev/alicorn/report"
)

// Env is what the command takes from its surroundings; tests set it.
type Env struct {
	Stdout, Stderr io.Writer
	// Client fetches http(s) metadata; nil means http.DefaultClient.
	Client *http.Client
	// Location is the local time zone for dates; nil means time.Local.
	Location *time.Location
	// KernelRelease is `uname -r`, used to find the running kernel's
	// package; empty means ask the system.
	KernelRelease string
	// Arch is the machine architecture; empty means ask the system.
	Arch string
	// StderrWidth is the width of the terminal stderr writes to, 0 when
	// it is not a terminal (download progress is then one line per
	// repository, 80 columns wide).
	StderrWidth int
	// Prog names the program in error messages.
	Prog string
}

// Exit statuses.
const (
	ExitOK    = 0
	ExitError = 1
	// ExitFound is returned with --fail-on when a security advisory of
	// at least the given severity applies.
	ExitFound = 100
)

// Run executes one command line (without the program name) and returns
// the exit status. Nothing is written to stdout unless the whole report
// could be made.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Prog == "" {
		env.Prog = "dnf-security"
	}
	if p, err := parseArgs(args); err == nil && (p.flags["help"] || p.flags["version"]) {
		if p.flags["help"] {
			writeHelp(env.Stdout, env.Prog)
		} else {
			fmt.Fprintf(env.Stdout, "%s %s (alicorn; dnf 4.14 updateinfo compatible)\n", env.Prog, version())
		}
		return ExitOK
	}
	render, err := run(ctx, args, &env)
	if err != nil {
		// One line, even when several repositories failed.
		msg := strings.ReplaceAll(err.Error(), "\n", "; ")
		var ue *usageError
		if errors.As(err, &ue) {
			msg = "command line error: " + ue.msg
		}
		fmt.Fprintf(env.Stderr, "%s: %s\n", env.Prog, msg)
		return ExitError
	}
	// Everything is known; only writing can fail from here on.
	out := bufio.NewWriterSize(env.Stdout, 64<<10)
	status, err := render(out)
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %s\n", env.Prog, err)
		return ExitError
	}
	return status
}

// command is a parsed updateinfo invocation: what to ask the library and
// how to render its answer.
type command struct {
	opts  alicorn.Options
	query alicorn.Query

	action     string // summary, list, info
	verbose    bool
	links      bool
	json       bool
	failOn     alicorn.Severity // None: not asked
	modulePkgs bool
	quiet      bool
	autoKernel bool
	mainOpts   map[string]string
}

var commandAction = map[string]string{
	"updateinfo": "", "upif": "",
	"list-updateinfo": "list", "list-security": "list", "list-sec": "list",
	"info-updateinfo": "info", "info-security": "info", "info-sec": "info",
	"summary-updateinfo": "summary",
}

var exclusive = [][]string{{"available", "installed", "updates", "all"}, {"summary", "list", "info"}}

func parseCommand(args []string) (*command, error) {
	p, err := parseArgs(args)
	if err != nil {
		return nil, err
	}
	for _, group := range exclusive {
		var first string
		for _, o := range p.order {
			for _, g := range group {
				if o != g {
					continue
				}
				if first != "" && first != o {
					return nil, usagef("argument --%s: not allowed with argument --%s", o, first)
				}
				first = o
			}
		}
	}
	if len(p.positional) == 0 {
		return nil, usagef("no command given: try 'updateinfo list --security'")
	}
	name := p.positional[0]
	direct, ok := commandAction[name]
	if !ok {
		return nil, usagef("no such command: %s (this program runs updateinfo and its aliases)", name)
	}
	c := &command{
		verbose:    p.flags["verbose"],
		quiet:      p.flags["quiet"],
		links:      p.flags["with-links"],
		json:       p.flags["json"],
		mainOpts:   map[string]string{},
		autoKernel: true,
	}
	o := &c.opts
	o.Root, o.CacheOnly = "/", p.flags["cacheonly"]
	o.Repos.Set = map[string]map[string]string{}
	if v := p.values["installroot"]; len(v) > 0 {
		o.Root = v[len(v)-1]
		if !filepath.IsAbs(o.Root) {
			return nil, usagef("--installroot must be an absolute path: %s", o.Root)
		}
	}
	if v := p.values["image"]; len(v) > 0 {
		if len(p.values["installroot"]) > 0 {
			return nil, usagef("--image and --installroot cannot be combined")
		}
		o.Image, o.Root = v[len(v)-1], ""
	}
	o.ImageRepos = p.flags["image-repos"]
	o.ModuleDirs = p.values["modules-dir"]
	c.modulePkgs = p.flags["module-packages"]
	o.PodmanModules = p.flags["podman-modules"]
	o.KubeModules = p.flags["kube-modules"]
	for _, k := range []struct {
		flag string
		dst  *string
	}{{"kubeconfig", &o.Kubeconfig}, {"kube-namespace", &o.KubeNamespace}} {
		v := p.values[k.flag]
		if len(v) == 0 {
			continue
		}
		if !o.KubeModules {
			return nil, usagef("argument --%s: needs --kube-modules", k.flag)
		}
		if *k.dst = v[len(v)-1]; *k.dst == "" {
			return nil, usagef("argument --%s: empty", k.flag)
		}
	}
	o.OSV = p.values["osv"]
	o.OSVRPMOwned = p.flags["osv-rpm-owned"]
	if v := p.values["releasever"]; len(v) > 0 {
		o.Releasever = v[len(v)-1]
	}
	for _, l := range []struct {
		flag string
		dst  *int64
	}{{"max-memory", &o.Limits.Memory}, {"max-disk", &o.Limits.Disk}} {
		v := p.values[l.flag]
		if len(v) == 0 {
			continue
		}
		if v[len(v)-1] == "none" {
			*l.dst = -1
			continue
		}
		n, err := repo.ParseSize(v[len(v)-1])
		if err != nil || n == 0 {
			return nil, usagef("argument --%s: %q is not a size (a number of bytes, with k, M or G; or none)", l.flag, v[len(v)-1])
		}
		*l.dst = n
	}
	if v := p.values["tempdir"]; len(v) > 0 {
		o.Limits.TempDir = v[len(v)-1]
	}
	if v := p.values["fail-on"]; len(v) > 0 {
		if c.failOn, err = alicorn.ParseSeverity(v[len(v)-1]); err != nil {
			return nil, usagef("argument --fail-on: invalid choice: '%s' (choose from 'Critical', 'Important', 'Moderate', 'Low')", v[len(v)-1])
		}
	}
	for _, s := range p.values["setopt"] {
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.Contains(v, "=") {
			continue // dnf warns and ignores
		}
		if i := strings.LastIndexByte(k, '.'); i >= 0 {
			r := k[:i]
			if o.Repos.Set[r] == nil {
				o.Repos.Set[r] = map[string]string{}
			}
			o.Repos.Set[r][k[i+1:]] = v
			continue
		}
		c.mainOpts[k] = v
	}
	if v, ok := c.mainOpts["cachedir"]; ok {
		o.CacheDir = v
	}
	if v, ok := c.mainOpts["reposdir"]; ok {
		o.Repos.Dirs = append([]string{}, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })...)
	}
	for _, k := range []string{"timeout", "minrate", "retries", "throttle", "bandwidth"} {
		if v, ok := c.mainOpts[k]; ok {
			if _, err := o.Network.Set(k, v); err != nil {
				return nil, usagef("--setopt %s: %s", k, err)
			}
		}
	}
	if v, ok := c.mainOpts["autocheck_running_kernel"]; ok {
		if c.autoKernel, err = repo.ParseBool(v); err != nil {
			return nil, usagef("--setopt autocheck_running_kernel: %s", err)
		}
	}
	seen := map[string]int{}
	for _, spec := range p.values["repofrompath"] {
		id, u, ok := strings.Cut(spec, ",")
		if !ok || id == "" || u == "" || strings.Contains(u, ",") {
			return nil, usagef("argument --repofrompath: bad format: %s", spec)
		}
		rc, err := repo.FromPath(spec)
		if err != nil {
			return nil, usagef("%s", err)
		}
		if i, dup := seen[id]; dup {
			o.Repos.FromPath[i] = rc // a dict: the last one wins, in first place
			continue
		}
		seen[id] = len(o.Repos.FromPath)
		o.Repos.FromPath = append(o.Repos.FromPath, rc)
	}
	// --enablerepo and --disablerepo in order; --repo replaces the set.
	for _, a := range rawRepoArgs(args) {
		for _, g := range splitter.Split(a.value, -1) {
			o.Repos.Edits = append(o.Repos.Edits, alicorn.RepoEdit{Glob: g, Enable: a.enable})
		}
	}
	o.Repos.Only = p.values["repo"]
	for _, d := range p.values["disableexcludes"] {
		if d == "all" || d == "main" || d == "*" {
			o.DisableExcludes = true
		}
	}
	for _, k := range []string{"excludepkgs", "exclude"} {
		if v, ok := c.mainOpts[k]; ok {
			o.Excludes = append(o.Excludes, splitter.Split(v, -1)...)
		}
	}
	o.Excludes = append(o.Excludes, p.values["exclude"]...)

	// updateinfo's positional words.
	spec := p.positional[1:]
	c.action = "summary"
	if len(spec) > 0 {
		switch spec[0] {
		case "summary", "list", "info":
			c.action, spec = spec[0], spec[1:]
		}
	}
	if direct != "" {
		c.action = direct
	} else {
		for _, o := range p.order {
			switch o {
			case "summary", "list", "info":
				c.action = o
			}
		}
	}
	mode := ""
	for _, o := range p.order {
		switch o {
		case "available", "installed", "updates", "all":
			mode = o
		}
	}
	if mode == "" && len(spec) > 0 {
		switch spec[0] {
		case "available", "installed", "updates", "all":
			mode, spec = spec[0], spec[1:]
		}
	}
	c.query.Mode = map[string]match.Mode{"": match.Available, "available": match.Available, "installed": match.Installed,
		"updates": match.Updates, "all": match.All}[mode]

	f := &c.query.Filter
	for _, t := range []string{"bugfix", "enhancement", "newpackage", "security"} {
		if p.flags[t] {
			f.Types = append(f.Types, t)
		}
	}
	f.WithCVE, f.WithBZ = p.flags["with-cve"], p.flags["with-bz"]
	if len(spec) > 0 {
		switch spec[0] {
		case "bugfix", "enhancement", "newpackage":
			f.Types, spec = append(f.Types, spec[0]), spec[1:]
		case "security", "sec":
			f.Types, spec = append(f.Types, "security"), spec[1:]
		case "bugzillas", "bzs":
			f.WithBZ, spec = true, spec[1:]
		case "cves":
			f.WithCVE, spec = true, spec[1:]
		}
	}
	f.Specs = append(spec, p.values["advisory"]...)
	f.Severities = p.values["severity"]
	f.Bugzillas = p.values["bz"]
	f.CVEs = p.values["cve"]
	c.query.Details = c.json || c.links || c.action == "info"
	return c, nil
}

type repoArg struct {
	value  string
	enable bool
}

// rawRepoArgs returns --enablerepo and --disablerepo values in order.
func rawRepoArgs(args []string) []repoArg {
	var out []repoArg
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, v, hasValue := strings.Cut(a, "=")
		if !strings.HasPrefix(name, "--") {
			continue
		}
		o, err := lookupOption(name)
		if err != nil || (o.dest != "enablerepo" && o.dest != "disablerepo") {
			if err == nil && o.value && !hasValue {
				i++
			}
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++
			v = args[i]
		}
		out = append(out, repoArg{value: v, enable: o.dest == "enablerepo"})
	}
	return out
}

// run reads everything through the library and returns the function that
// writes the report and decides the exit status.
func run(ctx context.Context, args []string, env *Env) (func(io.Writer) (int, error), error) {
	c, err := parseCommand(args)
	if err != nil {
		return nil, err
	}
	c.opts.Client, c.opts.Arch, c.opts.KernelRelease = env.Client, env.Arch, env.KernelRelease
	if !c.quiet {
		// dnf's lines about repositories, on stderr: stdout stays the
		// report.
		for _, rc := range c.opts.Repos.FromPath {
			fmt.Fprintf(env.Stderr, "Added %s repo from %s\n", rc.ID, strings.Join(rc.BaseURLs, ", "))
		}
		c.opts.Progress = report.NewProgressWriter(env.Stderr, env.StderrWidth, env.StderrWidth > 0).Update
	}
	sys, err := alicorn.Open(ctx, c.opts)
	if err != nil {
		return nil, err
	}
	defer sys.Close()
	rep, err := sys.Report(ctx, c.query)
	if err != nil {
		return nil, kubeNamespaceHint(err, &c.opts)
	}
	for _, w := range rep.Warnings {
		var unknown *alicorn.UnknownOptionError
		if errors.As(w, &unknown) {
			// dnf's warning, which -q silences.
			if !c.quiet {
				fmt.Fprintf(env.Stderr, "Repo %s did not have a %s attr. before setopt\n", unknown.Repo, unknown.Option)
			}
			continue
		}
		// Files that could not be read are named, and the rest reported.
		for _, line := range strings.Split(w.Error(), "\n") {
			fmt.Fprintf(env.Stderr, "%s: warning: %s\n", env.Prog, line)
		}
	}
	return func(out io.Writer) (int, error) { return writeReport(ctx, out, c, rep, env) }, nil
}

// kubeNamespaceHint adds the option that names a namespace to the error
// of one who may not list Deployments in all namespaces (kubemodules
// says to name a namespace, not how).
func kubeNamespaceHint(err error, o *alicorn.Options) error {
	if o.KubeModules && o.KubeNamespace == "" && apierrors.IsForbidden(err) {
		return fmt.Errorf("%w: --kube-namespace=NS", err)
	}
	return err
}

// writeReport writes the report of the chosen action and returns the exit
// status.
func writeReport(ctx context.Context, out io.Writer, c *command, rep *alicorn.Report, env *Env) (int, error) {
	ropts := report.Options{Mode: c.query.Mode, Verbose: c.verbose, WithCVE: c.query.Filter.WithCVE,
		WithBZ: c.query.Filter.WithBZ, Location: env.Location, Arches: alicorn.CompatibleArches(rep.Arch), Links: c.links,
		Ties: func() (*report.TieOrder, error) { return rep.TieOrder(ctx) }}
	h := &rep.Host
	mods := rep.Modules
	if h.Other != nil {
		mods = append([]report.ModuleFindings{*h.Other}, mods...)
	}
	var err error
	switch {
	case c.json:
		err = report.JSON(out, h.Findings, h.Installed, ropts, mods...)
	case c.action == "list":
		err = report.ListAll(out, h.Findings, mods, ropts, c.modulePkgs)
	case c.action == "info":
		err = report.InfoAll(out, h.Findings, mods, ropts)
	default:
		err = report.Summary(out, h.Findings, ropts)
		if err == nil && c.autoKernel {
			report.RunningKernelNotice(out, h.RunningKernel, h.Installed, h.Advisories)
		}
		if err == nil {
			err = report.ModuleSummary(out, mods)
		}
	}
	if err != nil {
		return ExitError, err
	}
	if c.failOn != alicorn.None {
		if found := rep.Security(c.failOn); len(found) > 0 {
			counts := map[string]int{}
			for _, a := range found {
				counts[a.Severity]++
			}
			var parts []string
			for _, sev := range []string{"Critical", "Important", "Moderate", "Low"} {
				if n := counts[sev]; n > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", n, sev))
				}
			}
			fmt.Fprintf(env.Stderr, "%s: --fail-on=%s: %s security advisory(ies) apply\n", env.Prog, c.failOn,
				strings.Join(parts, ", "))
			return ExitFound, nil
		}
	}
	return ExitOK, nil
}

// SoftMemoryLimit returns the Go runtime memory limit
// (debug.SetMemoryLimit) that suits a run with these arguments: the
// readers' memory budget (--max-memory, alicorn.DefaultMemory by default)
// plus room for the rest of the run, so that the collector returns
// garbage before the process passes about twice the budget rather than
// at twice the live heap; math.MaxInt64 (no limit) with
// --max-memory=none.
func SoftMemoryLimit(args []string) int64 {
	const rest = 192 << 20 // metadata, indexes, the runtime
	budget := int64(alicorn.DefaultMemory)
	if c, err := parseCommand(args); err == nil && c.opts.Limits.Memory != 0 {
		budget = c.opts.Limits.Memory
	}
	if budget < 0 {
		return math.MaxInt64
	}
	return budget + rest
}
