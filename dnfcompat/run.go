package dnfcompat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/modularity"
	"github.com/alicorn-dev/alicorn/repo"
	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
	"github.com/alicorn-dev/alicorn/match"
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
	if env.Arch == "" {
		env.Arch, _ = uname()
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

// command is a parsed updateinfo invocation.
type command struct {
	action  string // summary, list, info
	mode    match.Mode
	filter  match.Filter
	verbose bool
	links   bool
	json    bool
	failOn  string

	installroot string
	releasever  string
	cacheDir    string
	image       string // --image: the root is this image's, extracted
	modulesDirs []string
	modulePkgs  bool
	podmanMods  bool
	osv         []string        // --osv feeds, for every module
	rpmOwned    bool            // --osv-rpm-owned: match RPM-owned packages against OSV too
	ecosystems  *ecosystems.Set // the non-RPM ecosystems modules are scanned for
	feeds       *feedCache
	noHostCache bool     // the root is temporary: caching its rpmdb is no use
	extraNames  []string // installed in modules: their advisories are kept too
	cacheOnly   bool
	reposdirs   []string
	reposdirSet bool
	repoOpts    map[string]map[string]string // setopt repo.option=value
	mainOpts    map[string]string
	repoFrom    []repo.Config
	repoEdits   []repoEdit
	repoOnly    []string
	autoKernel  bool
	// excludes are package name globs (or NEVRAs) left out of the
	// installed and the available packages, as dnf's excludepkgs.
	excludes        []string
	disableExcludes bool
	// excl is excludes with dnf.conf's, resolved once per run.
	excl []string
	// loaded are the repositories read, in dnf's order, with the
	// advisories kept of each (for the order of tied list rows).
	loaded []loadedRepo
}

type repoEdit struct {
	glob   string
	enable bool
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
		verbose:     p.flags["verbose"],
		links:       p.flags["with-links"],
		json:        p.flags["json"],
		installroot: "/",
		cacheOnly:   p.flags["cacheonly"],
		repoOpts:    map[string]map[string]string{},
		mainOpts:    map[string]string{},
		autoKernel:  true,
	}
	if v := p.values["installroot"]; len(v) > 0 {
		c.installroot = v[len(v)-1]
		if !filepath.IsAbs(c.installroot) {
			return nil, usagef("--installroot must be an absolute path: %s", c.installroot)
		}
	}
	if v := p.values["image"]; len(v) > 0 {
		if len(p.values["installroot"]) > 0 {
			return nil, usagef("--image and --installroot cannot be combined")
		}
		c.image = v[len(v)-1]
	}
	c.modulesDirs = p.values["modules-dir"]
	c.modulePkgs = p.flags["module-packages"]
	c.podmanMods = p.flags["podman-modules"]
	c.osv = p.values["osv"]
	c.rpmOwned = p.flags["osv-rpm-owned"]
	c.feeds = &feedCache{}
	if c.ecosystems, err = defaultEcosystems(); err != nil {
		return nil, err
	}
	if v := p.values["releasever"]; len(v) > 0 {
		c.releasever = v[len(v)-1]
	}
	if v := p.values["fail-on"]; len(v) > 0 {
		c.failOn = v[len(v)-1]
		if _, ok := severityRank[c.failOn]; !ok {
			return nil, usagef("argument --fail-on: invalid choice: '%s' (choose from 'Critical', 'Important', 'Moderate', 'Low')", c.failOn)
		}
	}
	for _, s := range p.values["setopt"] {
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.Contains(v, "=") {
			continue // dnf warns and ignores
		}
		if i := strings.LastIndexByte(k, '.'); i >= 0 {
			r := k[:i]
			if c.repoOpts[r] == nil {
				c.repoOpts[r] = map[string]string{}
			}
			c.repoOpts[r][k[i+1:]] = v
			continue
		}
		c.mainOpts[k] = v
	}
	if v, ok := c.mainOpts["cachedir"]; ok {
		c.cacheDir = v
	}
	if v, ok := c.mainOpts["reposdir"]; ok {
		c.reposdirs = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
		c.reposdirSet = true
	}
	if v, ok := c.mainOpts["autocheck_running_kernel"]; ok {
		c.autoKernel = v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "yes") || strings.EqualFold(v, "on")
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
			c.repoFrom[i] = rc // a dict: the last one wins, in first place
			continue
		}
		seen[id] = len(c.repoFrom)
		c.repoFrom = append(c.repoFrom, rc)
	}
	// --enablerepo and --disablerepo in order; --repo replaces the set.
	for _, a := range rawRepoArgs(args) {
		for _, g := range splitter.Split(a.value, -1) {
			c.repoEdits = append(c.repoEdits, repoEdit{glob: g, enable: a.enable})
		}
	}
	c.repoOnly = p.values["repo"]
	for _, d := range p.values["disableexcludes"] {
		if d == "all" || d == "main" || d == "*" {
			c.disableExcludes = true
		}
	}
	for _, k := range []string{"excludepkgs", "exclude"} {
		if v, ok := c.mainOpts[k]; ok {
			c.excludes = append(c.excludes, splitter.Split(v, -1)...)
		}
	}
	c.excludes = append(c.excludes, p.values["exclude"]...)

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
	c.mode = map[string]match.Mode{"": match.Available, "available": match.Available, "installed": match.Installed,
		"updates": match.Updates, "all": match.All}[mode]

	f := &c.filter
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

var severityRank = map[string]int{"Low": 1, "Moderate": 2, "Important": 3, "Critical": 4}

// run loads and matches everything and returns the function that
// writes the report and decides the exit status.
func run(ctx context.Context, args []string, env *Env) (func(io.Writer) (int, error), error) {
	c, err := parseCommand(args)
	if err != nil {
		return nil, err
	}
	if c.image != "" {
		root, _, cleanup, err := imageRoot(ctx, c.image, nil)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		c.installroot, c.noHostCache = root, true
	}
	c.excl = excludes(c)
	units, cleanup, err := loadUnits(ctx, c)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	for _, u := range units {
		for _, r := range u.snap.rpms {
			c.extraNames = append(c.extraNames, r.Name)
		}
		if u.warn != nil {
			// Files that could not be read are named, and the rest reported.
			for _, line := range strings.Split(u.warn.Error(), "\n") {
				fmt.Fprintf(env.Stderr, "%s: warning: module %s: %s\n", env.Prog, u.mod.Name, line)
			}
		}
	}
	host, advs, avail, mods, err := load(ctx, c, env)
	if err != nil {
		return nil, err
	}
	var modular *modularity.Filter
	if host.modules, modular, err = activeModules(c.installroot, host.arch, mods); err != nil {
		return nil, err
	}
	// Advisories the filter rejects whatever they fix need not be
	// matched (the running-kernel notice looks at all of them).
	candidates := advs
	if len(c.filter.Specs) == 0 {
		candidates = make([]*advisory.Advisory, 0, len(advs))
		for _, a := range advs {
			if c.filter.Advisory(a) {
				candidates = append(candidates, a)
			}
		}
	}
	opts := match.DNFOptions{Mode: c.mode, RunningKernelSource: host.kernelSource, ActiveModules: host.modules}
	if c.mode == match.Updates {
		opts.Upgradable = upgradable(host.rpms, avail, c.excl, modular)
	}
	findings, err := match.DNF(ctx, host.rpms, candidates, opts)
	if err != nil {
		return nil, err
	}
	kept := findings[:0]
	for i := range findings {
		if c.filter.Keep(&findings[i]) {
			kept = append(kept, findings[i])
		}
	}
	ropts := report.Options{Mode: c.mode, Verbose: c.verbose, WithCVE: c.filter.WithCVE, WithBZ: c.filter.WithBZ,
		Location: env.Location, Arches: compatibleArches(host.arch), Links: c.links,
		Ties: func() (*report.TieOrder, error) { return tieOrder(ctx, c, host) }}
	var modFindings []report.ModuleFindings
	for _, u := range units {
		mf, err := matchUnit(ctx, c, u, candidates, avail, host.arch, mods)
		if err != nil {
			return nil, err
		}
		modFindings = append(modFindings, mf)
	}
	return func(out io.Writer) (int, error) {
		return writeReport(out, c, host, advs, kept, ropts, modFindings)
	}, nil
}

// writeReport writes the report of the chosen action and returns the exit
// status.
func writeReport(out io.Writer, c *command, host *host, advs []*advisory.Advisory, kept []match.Finding, ropts report.Options,
	mods []report.ModuleFindings) (int, error) {
	var err error
	switch {
	case c.json:
		err = report.JSON(out, kept, host.installed(), ropts, mods...)
	case c.action == "list":
		if err = report.List(out, kept, ropts); err == nil {
			err = report.ModuleList(out, mods, ropts, c.modulePkgs)
		}
	case c.action == "info":
		if err = report.Info(out, kept, ropts); err == nil {
			err = report.ModuleInfo(out, mods, ropts)
		}
	default:
		err = report.Summary(out, kept, ropts)
		if err == nil && c.autoKernel {
			report.RunningKernelNotice(out, host.kernel, host.rpms, advs)
		}
		if err == nil {
			err = report.ModuleSummary(out, mods)
		}
	}
	if err != nil {
		return ExitError, err
	}
	if c.failOn != "" {
		var applied []*advisory.Advisory
		for _, f := range kept {
			applied = append(applied, f.Advisory)
		}
		for _, m := range mods {
			for _, f := range m.Findings {
				applied = append(applied, f.Advisory)
			}
			for _, v := range m.Vulnerable {
				applied = append(applied, v.Advisory)
			}
		}
		for _, a := range applied {
			if a.Type == advisory.Security && a.Has(advisory.HasSeverity) && severityRank[a.Severity] >= severityRank[c.failOn] {
				return ExitFound, nil
			}
		}
	}
	return ExitOK, nil
}

// load reads the installed packages and the repositories, at the same
// time when $releasever is given (otherwise it comes from the rpmdb).
// Only advisories that name an installed package and that the filter
// may select (or security advisories, for the running-kernel notice)
// are kept in memory.
func load(ctx context.Context, c *command, env *Env) (*host, []*advisory.Advisory, []available, *modularity.Metadata, error) {
	var h *host
	var herr error
	ready := make(chan struct{})
	names := map[string]bool{}
	keep := func(a *advisory.Advisory) bool {
		<-ready
		if a.Type != advisory.Security && !c.filter.Advisory(a) {
			return false
		}
		for _, col := range a.Collections {
			for _, p := range col.Packages {
				if names[p.Name] {
					return true
				}
			}
		}
		return false
	}
	loadHostAsync := func() {
		defer close(ready)
		h, herr = loadHost(ctx, c, env)
		if herr == nil {
			for _, r := range h.rpms {
				names[r.Name] = true
			}
			for _, n := range c.extraNames {
				names[n] = true
			}
		}
	}
	if c.releasever == "" {
		loadHostAsync()
		if herr != nil {
			return nil, nil, nil, nil, herr
		}
		advs, avail, mods, err := loadRepos(ctx, c, env, h.arch, h.releasever, keep, ready)
		return h, advs, avail, mods, err
	}
	go loadHostAsync()
	advs, avail, mods, err := loadRepos(ctx, c, env, env.Arch, c.releasever, keep, ready)
	<-ready
	if herr != nil {
		return nil, nil, nil, nil, herr
	}
	return h, advs, avail, mods, err
}

// host is the installed side of the report.
type host struct {
	root         string
	arch         string
	rpms         []match.RPM
	all          []match.RPM // rpms with the excluded ones, in database order
	kernel       int         // index of the running kernel's package, or -1
	kernelSource string
	releasever   string
	modules      map[match.ModuleStream]bool
}

func (h *host) installed() []report.Installed {
	out := make([]report.Installed, len(h.rpms))
	for i, r := range h.rpms {
		out[i] = report.Installed{Name: r.Name, EVR: r.EVR, Arch: r.Arch}
	}
	return out
}

// releaseProvides are the provides dnf reads $releasever from, in order.
var releaseProvides = []string{"system-release(releasever)", "system-release", "distribution-release",
	"redhat-release", "suse-release"}

func loadHost(ctx context.Context, c *command, env *Env) (*host, error) {
	h := &host{root: c.installroot, arch: env.Arch, kernel: -1}
	// libdnf looks for the running kernel only on the live system, never
	// under another installroot.
	rel := ""
	if filepath.Clean(c.installroot) == "/" {
		rel = env.KernelRelease
		if rel == "" {
			_, rel = uname()
		}
	}
	path, err := rpmdb.Find(c.installroot)
	if err != nil {
		return nil, err
	}
	cache := ""
	if !c.noHostCache {
		cache = hostCachePath(c.cacheDirectory(), path, rel)
	}
	var s *snapshot
	if cache != "" {
		s, _ = readSnapshot(cache) // a missing or damaged cache is rebuilt
	}
	if s == nil {
		if s, err = readRPMDB(ctx, path, rel); err != nil {
			return nil, err
		}
		if cache != "" {
			writeSnapshot(cache, s)
		}
	}
	var kernel int
	h.all = s.rpms
	h.rpms, kernel = withoutExcluded(s.rpms, c.excl, s.kernel)
	h.releasever = c.releasever
	if h.releasever == "" {
		h.releasever = s.releasever
	}
	if kernel >= 0 {
		h.kernel = kernel
		h.kernelSource = h.rpms[kernel].SourceRPM
	}
	return h, nil
}

// withoutExcluded drops the packages the exclude globs match, and says
// where the package at index keep went (-1 if dropped or absent).
func withoutExcluded(rpms []match.RPM, excl []string, keep int) ([]match.RPM, int) {
	if len(excl) == 0 {
		return rpms, keep
	}
	kept := make([]match.RPM, 0, len(rpms))
	at := -1
	for i, r := range rpms {
		if excluded(excl, r.Name, r.EVR, r.Arch) {
			continue
		}
		if i == keep {
			at = len(kept)
		}
		kept = append(kept, r)
	}
	return kept, at
}

// readRPMDB decodes the database at path: the packages as libsolv sees
// them, $releasever from the release provides, and the package that owns
// the running kernel (release rel; none when rel is empty).
func readRPMDB(ctx context.Context, path, rel string) (*snapshot, error) {
	db, err := rpmdb.Open(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	s := &snapshot{kernel: -1}
	kernelPaths := []string{"/boot/vmlinuz-" + rel, "/lib/modules/" + rel}
	releaseHits := make([]string, len(releaseProvides))
	kernelHit := [2]int{-1, -1}
	err = db.Headers(ctx, func(key uint32, hd *rpmdb.Header) error {
		p, err := rpmdb.Decode(key, hd, rpmdb.Options{Brief: true})
		if err != nil {
			return fmt.Errorf("record %d: %w", key, err)
		}
		for _, pr := range hd.Provides() {
			for i, want := range releaseProvides {
				if pr.Name != want || releaseHits[i] != "" {
					continue
				}
				releaseHits[i] = p.Version
				if pr.Flags&0x0f == 0x08 && pr.Version != "" && p.Name != want { // RPMSENSE_EQUAL
					releaseHits[i] = pr.Version
				}
			}
		}
		if p.Name == "gpg-pubkey" {
			return nil // libsolv leaves imported keys out
		}
		if rel != "" {
			for i, kp := range kernelPaths {
				if kernelHit[i] < 0 && hd.Owns(kp) {
					kernelHit[i] = len(s.rpms)
				}
			}
		}
		arch := p.Arch
		if arch == "" {
			arch = "noarch"
		}
		s.rpms = append(s.rpms, match.RPM{Name: p.Name, EVR: rpm.EVR{Epoch: p.Epoch, Version: p.Version, Release: p.Release},
			Arch: arch, SourceRPM: p.SourceRPM})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, r := range releaseHits {
		if s.releasever == "" && r != "" {
			s.releasever = r
		}
	}
	for _, k := range kernelHit {
		if k >= 0 {
			s.kernel = k
			break
		}
	}
	return s, nil
}

// uname returns the machine architecture and the kernel release.
func uname() (machine, release string) {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "", ""
	}
	return utsString(u.Machine[:]), utsString(u.Release[:])
}

func utsString[T int8 | uint8](b []T) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

// compatibleArches are the package arches libsolv accepts on a machine,
// which info -v lists file names for.
func compatibleArches(arch string) []string {
	switch repo.BaseArch(arch) {
	case "x86_64":
		return []string{"x86_64", "i686", "i586", "i486", "i386", "athlon", "noarch"}
	case "i386":
		return []string{"i686", "i586", "i486", "i386", "athlon", "noarch"}
	case "aarch64":
		return []string{"aarch64", "noarch"}
	case "ppc64le":
		return []string{"ppc64le", "noarch"}
	}
	return []string{arch, "noarch"}
}

// excludes returns the exclude globs in force: the command line's and
// --setopt's, and excludepkgs from the root's dnf.conf [main] section
// (found inside the installroot first, as dnf looks for it).
func excludes(c *command) []string {
	if c.disableExcludes {
		return nil
	}
	out := append([]string{}, c.excludes...)
	conf := filepath.Join(c.installroot, "etc/dnf/dnf.conf")
	if _, err := os.Stat(conf); err != nil {
		conf = "/etc/dnf/dnf.conf"
	}
	if b, err := os.ReadFile(conf); err == nil {
		section := ""
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
				section = strings.TrimSpace(line[1 : len(line)-1])
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			k = strings.TrimSpace(k)
			if ok && section == "main" && (k == "excludepkgs" || k == "exclude") {
				for _, x := range splitter.Split(strings.TrimSpace(v), -1) {
					if x != "" {
						out = append(out, x)
					}
				}
			}
		}
	}
	var clean []string
	for _, x := range out {
		if x != "" {
			clean = append(clean, x)
		}
	}
	return clean
}

// excluded reports whether a package matches an exclude glob in any of
// the forms dnf matches: name, name.arch, name-version,
// name-version-release and name-[epoch:]version-release.arch (with the
// epoch and without).
func excluded(globs []string, name string, evr rpm.EVR, arch string) bool {
	vr := evr.Version + "-" + evr.Release
	forms := []string{name, name + "." + arch, name + "-" + evr.Version, name + "-" + vr, name + "-" + vr + "." + arch}
	if e := evr.Epoch; e != "" {
		forms = append(forms, name+"-"+e+":"+vr, name+"-"+e+":"+vr+"."+arch)
	}
	for _, g := range globs {
		for _, f := range forms {
			if match.Glob(g, f) {
				return true
			}
		}
	}
	return false
}
