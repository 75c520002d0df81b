package alicorn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/modularity"
	"github.com/alicorn-dev/alicorn/repo"
)

var defaultReposdirs = []string{"/etc/yum.repos.d", "/etc/yum/repos.d", "/etc/distro.repos.d"}
var defaultVarsdirs = []string{"/etc/dnf/vars", "/etc/yum/vars"}

// insideRoot returns dirs under root when any of them exists there, as
// dnf searches configuration inside the installroot first.
func insideRoot(root string, dirs []string) []string {
	if root == "/" {
		return dirs
	}
	for _, d := range dirs {
		if st, err := os.Stat(filepath.Join(root, d)); err == nil && st.IsDir() {
			out := make([]string, len(dirs))
			for i, d := range dirs {
				out[i] = filepath.Join(root, d)
			}
			return out
		}
	}
	return dirs
}

// configs returns the enabled repositories in dnf's order, and the
// warnings dnf gives on reading them (UnknownOptionError).
func (s *System) configs(arch, releasever string) ([]repo.Config, []error, error) {
	ro := &s.opts.Repos
	vars := repo.Vars{"basearch": repo.BaseArch(arch), "arch": arch}
	if releasever != "" {
		vars["releasever"] = releasever
		major, minor, _ := strings.Cut(releasever, ".")
		vars["releasever_major"], vars["releasever_minor"] = major, minor
	}
	// An image is untrusted: its own repositories (which it could point
	// anywhere, file:// on this machine included) are read only when asked
	// for; otherwise the host's configuration is.
	root := s.root
	imageRepos := s.opts.Image != "" && s.opts.ImageRepos
	if s.opts.Image != "" && !s.opts.ImageRepos {
		root = "/"
	}
	varsdirs := insideRoot(root, defaultVarsdirs)
	if ro.Dirs != nil {
		varsdirs = make([]string, len(defaultVarsdirs))
		for i, d := range defaultVarsdirs {
			varsdirs[i] = filepath.Join(root, d)
		}
	}
	if err := repo.LoadVars(vars, varsdirs...); err != nil {
		return nil, nil, err
	}
	dirs := ro.Dirs
	if dirs == nil {
		dirs = insideRoot(root, defaultReposdirs)
	}
	var all []repo.Config
	for _, d := range dirs {
		cs, err := repo.LoadDir(d, vars)
		if err != nil {
			return nil, nil, s.named(err)
		}
		if imageRepos && ro.Dirs == nil {
			for _, c := range cs {
				if err := localURL(c); err != nil {
					return nil, nil, fmt.Errorf("image %s: repository %s: %w", s.opts.Image, c.ID, err)
				}
			}
		}
		all = append(all, cs...)
	}
	for _, rc := range ro.FromPath {
		replaced := false
		for i := range all {
			if all[i].ID == rc.ID {
				all[i], replaced = rc, true
			}
		}
		if !replaced {
			all = append(all, rc)
		}
	}
	// Per-repository --setopt: dnf warns of an option its repositories
	// do not have, for each repository the glob matches, and goes on.
	warns := unknownOptions(all, ro.Set)
	for glob, opts := range ro.Set {
		for i := range all {
			if !match.Glob(glob, all[i].ID) {
				continue
			}
			for k, v := range opts {
				var flag *bool
				switch k {
				case "enabled":
					flag = &all[i].Enabled
				case "skip_if_unavailable":
					flag = &all[i].SkipIfUnavailable
				case "module_hotfixes":
					flag = &all[i].ModuleHotfixes
				}
				if flag != nil {
					b, err := repo.ParseBool(v)
					if err != nil {
						return nil, nil, fmt.Errorf("--setopt %s.%s: %w", glob, k, err)
					}
					*flag = b
					continue
				}
				switch k {
				case "baseurl":
					all[i].BaseURLs = strings.Fields(strings.ReplaceAll(v, ",", " "))
				default:
					if _, err := all[i].Network.Set(k, v); err != nil {
						return nil, nil, fmt.Errorf("--setopt %s.%s: %w", glob, k, err)
					}
				}
			}
		}
	}
	// Download options: the repository's own, else Options.Network's,
	// else dnf.conf's [main].
	if s.mainErr != nil {
		return nil, nil, s.named(s.mainErr)
	}
	for i := range all {
		all[i].Network = all[i].Network.Or(s.mainNet)
	}
	edits := ro.Edits
	if len(ro.Only) > 0 {
		edits = append([]RepoEdit{{Glob: "*", Enable: false}}, edits...)
		for _, r := range ro.Only {
			edits = append(edits, RepoEdit{Glob: r, Enable: true})
		}
	}
	for _, rc := range ro.FromPath {
		edits = append(edits, RepoEdit{Glob: rc.ID, Enable: true})
	}
	for _, e := range edits {
		hit := false
		for i := range all {
			if match.Glob(e.Glob, all[i].ID) {
				all[i].Enabled, hit = e.Enable, true
			}
		}
		if !hit && e.Enable {
			return nil, nil, fmt.Errorf("unknown repo: '%s'", e.Glob)
		}
	}
	var enabled []repo.Config
	for _, r := range all {
		if r.Enabled {
			enabled = append(enabled, r)
		}
	}
	// dnf loads repositories by priority, then cost, else in the order
	// they were defined.
	sort.SliceStable(enabled, func(i, j int) bool {
		if enabled[i].Priority != enabled[j].Priority {
			return enabled[i].Priority < enabled[j].Priority
		}
		return enabled[i].Cost < enabled[j].Cost
	})
	return enabled, warns, nil
}

// UnknownOptionError is a warning of Report: a per-repository option
// (Repos.Set, dnf's --setopt=ID.option=value) that dnf's repositories do
// not have. dnf warns, once for each repository the glob matches, and
// goes on; the option is ignored.
type UnknownOptionError struct {
	// Repo is the repository's ID, Glob the Repos.Set glob that matched
	// it, Option and Value what was set.
	Repo, Glob, Option, Value string
}

func (e *UnknownOptionError) Error() string {
	return fmt.Sprintf("--setopt %s.%s=%s: repository %s has no option %s: ignored", e.Glob, e.Option, e.Value,
		e.Repo, e.Option)
}

// unknownOptions returns the warnings for the options of set (by ID glob)
// that dnf's repositories do not have, in the repositories' order, then
// the globs' and the options' (sorted: set has no order).
func unknownOptions(all []repo.Config, set map[string]map[string]string) []error {
	var globs []string
	for g, opts := range set {
		for k := range opts {
			if !repoOption(k) {
				globs = append(globs, g)
				break
			}
		}
	}
	if len(globs) == 0 {
		return nil
	}
	sort.Strings(globs)
	var out []error
	for _, c := range all {
		for _, g := range globs {
			if !match.Glob(g, c.ID) {
				continue
			}
			keys := make([]string, 0, len(set[g]))
			for k := range set[g] {
				if !repoOption(k) {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				out = append(out, &UnknownOptionError{Repo: c.ID, Glob: g, Option: k, Value: set[g][k]})
			}
		}
	}
	return out
}

// repoOption reports whether dnf 4.14's repositories have the option key
// (libdnf's ConfigRepo, less cachedir, which dnf's --setopt does not
// find there either). Names are in dnf's case.
func repoOption(key string) bool {
	switch key {
	case "bandwidth", "baseurl", "cost", "countme", "deltarpm", "deltarpm_percentage", "enabled",
		"enabled_metadata", "enablegroups", "exclude", "excludepkgs", "fastestmirror", "gpgcheck", "gpgkey",
		"includepkgs", "ip_resolve", "max_downloads_per_mirror", "max_parallel_downloads", "mediaid",
		"metadata_expire", "metalink", "minrate", "mirrorlist", "module_hotfixes", "name", "password",
		"priority", "protected_packages", "proxy", "proxy_auth_method", "proxy_password", "proxy_sslcacert",
		"proxy_sslclientcert", "proxy_sslclientkey", "proxy_sslverify", "proxy_username", "repo_gpgcheck",
		"retries", "skip_if_unavailable", "sslcacert", "sslclientcert", "sslclientkey", "sslverify",
		"sslverifystatus", "throttle", "timeout", "type", "user_agent", "username":
		return true
	}
	return false
}

// dnfConf is the dnf.conf dnf reads for root: inside it first, else the
// host's.
func dnfConf(root string) string {
	conf := filepath.Join(root, "etc/dnf/dnf.conf")
	if _, err := os.Stat(conf); err != nil {
		conf = "/etc/dnf/dnf.conf"
	}
	return conf
}

// readMain reads the [main] section of the dnf.conf file conf; a missing
// file sets nothing. On a bad value it returns what it read with the
// error.
func readMain(conf string) (repo.Main, error) {
	fh, err := os.Open(conf)
	if errors.Is(err, os.ErrNotExist) {
		return repo.Main{}, nil
	}
	if err != nil {
		return repo.Main{}, err // names the file
	}
	defer fh.Close()
	return repo.ParseMain(fh, conf)
}

// readDNFConf reads, once for the run, the dnf.conf [main] sections the
// run needs, each file once: the root's (or the image's) for the
// excludes, and for the download options the same file, but the host's
// when an image's own repositories are not read (an image's dnf.conf
// does not tune the host's repositories). It sets s.excl (Options.Excludes
// and the excludepkgs, unless DisableExcludes) and s.mainNet
// (Options.Network over [main]'s), or s.mainErr, which configs returns:
// a dnf.conf that cannot be read leaves the excludes alone, as dnf's
// bad values do.
func (s *System) readDNFConf() {
	exclConf := dnfConf(s.root)
	netConf := exclConf
	if s.opts.Image != "" && !s.opts.ImageRepos {
		netConf = dnfConf("/")
	}
	m, err := readMain(exclConf)
	if !s.opts.DisableExcludes {
		s.excl = nil
		for _, x := range append(append([]string{}, s.opts.Excludes...), m.Excludes...) {
			if x != "" {
				s.excl = append(s.excl, x)
			}
		}
	}
	if netConf != exclConf {
		m, err = readMain(netConf)
	}
	s.mainNet, s.mainErr = s.opts.Network.Or(m.Network), err
}

// available is a package offered by a repository.
type available struct {
	name, arch string
	evr        rpm.EVR
	provides   []string
	// provideEVRs are the provides' versions ("" for none), for the
	// order of tied rows.
	provideEVRs []string
	// hotfix is set for packages of module_hotfixes repositories, which
	// modular filtering leaves alone.
	hotfix bool
}

// repoData is what the enabled repositories hold for a report.
type repoData struct {
	enabled int // how many repositories are enabled
	advs    []*advisory.Advisory
	avail   []available
	streams *modularity.Metadata
	// warnings are those of reading the configuration (configs).
	warnings []error
	// skipped are the repositories left out (skip_if_unavailable).
	skipped []error
	// loaded are the repositories read, in dnf's order, with the
	// advisories kept of each (for the order of tied list rows).
	loaded []loadedRepo
}

// loadRepos fetches every enabled repository at once and returns their
// advisories in repository order and, for the Updates mode, their packages.
func (s *System) loadRepos(ctx context.Context, q *Query, arch, releasever string, keep func(*advisory.Advisory) bool,
	keepReady <-chan struct{}) (*repoData, error) {
	cfgs, warns, err := s.configs(arch, releasever)
	if err != nil {
		return nil, err
	}
	f := &repo.Fetcher{Client: s.opts.Client, CacheDir: s.opts.CacheDir, CacheOnly: s.opts.CacheOnly}
	var order *inOrder
	if s.opts.Progress != nil {
		order = newInOrder(cfgs, s.opts.Progress)
		f.Progress = order.progress
		// What the report reads is downloaded with repomd.xml, so that the
		// progress counts it, as dnf's does.
		f.Prefetch = []string{"updateinfo", "modules"}
		if q.Mode == match.Updates {
			f.Prefetch = append(f.Prefetch, "primary")
		}
	}
	type result struct {
		mods  *modularity.Metadata
		advs  []*advisory.Advisory
		pkgs  []available
		err   error
		skip  bool
		cfgID string
		md    *repo.Metadata
	}
	results := make([]result, len(cfgs))
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			r.cfgID = cfg.ID
			md, err := f.Fetch(ctx, cfg)
			if order != nil {
				order.finish(i)
			}
			if err != nil {
				r.err, r.skip = err, cfg.SkipIfUnavailable
				return
			}
			r.md = md
			if r.mods, err = md.Modules(ctx); err != nil {
				r.err = err
				return
			}
			// keep and the prefilter are pure: updateinfo may be parsed
			// on every core.
			opts := repo.AdvisoryOptions{Brief: !q.Details, Keep: keep, KeepReady: keepReady, KeepConcurrently: true}
			// Lists without --with-cve/--with-bz and summaries never
			// look at references unless the filter does.
			opts.NoReferences = opts.Brief && !q.Filter.NeedsReferences()
			if types, ok := q.Filter.TypesOnly(); ok {
				// Security advisories always pass: the running-kernel
				// notice looks at them.
				opts.Prefilter = func(typ string) bool {
					return typ == advisory.Security || slices.Contains(types, typ)
				}
			}
			if r.advs, err = md.Advisories(ctx, opts); err != nil {
				r.err = err
				return
			}
			if q.Mode == match.Updates {
				r.pkgs, r.err = primaryPackages(ctx, md)
				for i := range r.pkgs {
					r.pkgs[i].hotfix = cfg.ModuleHotfixes
				}
			}
		}()
	}
	wg.Wait()
	d := &repoData{enabled: len(cfgs), streams: &modularity.Metadata{}, warnings: warns}
	var errs []error
	for _, r := range results {
		if r.err != nil {
			if r.skip && !errors.Is(r.err, repo.ErrChecksum) {
				d.skipped = append(d.skipped, fmt.Errorf("skipping repository %s: %w", r.cfgID, r.err))
				continue
			}
			errs = append(errs, r.err)
			continue
		}
		d.advs = append(d.advs, r.advs...)
		d.avail = append(d.avail, r.pkgs...)
		d.loaded = append(d.loaded, loadedRepo{md: r.md, advs: r.advs})
		d.streams.Merge(r.mods)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return d, nil
}

// upgradable marks installed packages that an available package would
// upgrade, as libdnf's what_upgrades decides: the newest installed
// package of the same name and a compatible arch (equal, or either
// noarch), when every such installed package is older.
func upgradable(pkgs []inventory.Package, avail []available, excl []string, modular *modularity.Filter) func(int) bool {
	type view struct {
		evr  rpm.EVR
		arch string
	}
	installed := make([]view, len(pkgs))
	byName := map[string][]int{}
	for i := range pkgs {
		installed[i].evr, installed[i].arch = rpm.Installed(&pkgs[i])
		byName[pkgs[i].Name] = append(byName[pkgs[i].Name], i)
	}
	marked := make([]bool, len(installed))
	for _, a := range avail {
		if len(excl) > 0 && excluded(excl, a.name, a.evr, a.arch) {
			continue
		}
		if !a.hotfix && modular != nil && modular.Hidden(a.name, evrString(a.evr), a.arch, a.provides) {
			continue
		}
		best := -1
		for _, i := range byName[a.name] {
			p := &installed[i]
			if p.arch != a.arch && p.arch != "noarch" && a.arch != "noarch" {
				continue
			}
			if rpm.Compare(p.evr, a.evr) >= 0 {
				best = -1
				break
			}
			if best < 0 || rpm.Compare(p.evr, installed[best].evr) > 0 {
				best = i
			}
		}
		if best >= 0 {
			marked[best] = true
		}
	}
	return func(i int) bool { return marked[i] }
}

// activeModules returns the module streams dnf treats as active in the
// root, from the repositories' modules.yaml, the root's module state and
// defaults, and its platform (PLATFORM_ID).
func activeModules(root, arch string, repos *modularity.Metadata) (map[match.ModuleStream]bool, *modularity.Filter, error) {
	out := map[match.ModuleStream]bool{}
	if repos == nil || len(repos.Streams) == 0 {
		return out, nil, nil
	}
	states, err := modularity.ReadStates(filepath.Join(root, "etc/dnf/modules.d"))
	if err != nil {
		return nil, nil, err
	}
	md := &modularity.Metadata{}
	// System defaults first: a repository's defaults override them.
	files, _ := filepath.Glob(filepath.Join(root, "etc/dnf/modules.defaults.d", "*.yaml"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, nil, err
		}
		d, err := modularity.Parse(fh, f)
		fh.Close()
		if err != nil {
			return nil, nil, err
		}
		md.Merge(d)
	}
	md.Merge(repos)
	platform := modularity.PlatformStream(inventory.ReadOSRelease(root).PlatformID)
	base := repo.BaseArch(arch)
	active := modularity.Active(md, states, platform, base)
	for k := range active {
		out[match.ModuleStream{Name: k.Name, Stream: k.Stream, Context: k.Context}] = true
	}
	return out, modularity.NewFilter(repos, active, base), nil
}

// evrString is "[epoch:]version-release" with the epoch as written.
func evrString(e rpm.EVR) string {
	s := e.Version + "-" + e.Release
	if e.Epoch != "" {
		s = e.Epoch + ":" + s
	}
	return s
}

// inOrder passes download progress on with each repository's last report
// held until every repository before it in dnf's order has been fetched,
// so that the lines come out in that order, as dnf's do (it downloads one
// repository after the other; we download them at once).
type inOrder struct {
	mu       sync.Mutex
	next     func(repo.Progress)
	index    map[string]int
	finished []bool
	held     [][]repo.Progress
	at       int // the first repository not fetched yet
}

func newInOrder(cfgs []repo.Config, next func(repo.Progress)) *inOrder {
	o := &inOrder{next: next, index: map[string]int{}, finished: make([]bool, len(cfgs)),
		held: make([][]repo.Progress, len(cfgs))}
	for i, c := range cfgs {
		o.index[c.ID] = i
	}
	return o
}

// progress passes p on, or holds it if it is a last report that must wait.
func (o *inOrder) progress(p repo.Progress) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i, ok := o.index[p.ID]
	if !p.Done || !ok || i == o.at {
		o.next(p)
		return
	}
	o.held[i] = append(o.held[i], p)
}

// finish says that repository i has been fetched: the reports held for it
// and for those after it go out, in order, as far as all before are done.
func (o *inOrder) finish(i int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.finished[i] = true
	for o.at < len(o.finished) && o.finished[o.at] {
		for _, p := range o.held[o.at] {
			o.next(p)
		}
		o.held[o.at] = nil
		o.at++
	}
}

// localURL refuses a repository of an image's own configuration that
// names files on this machine: an image must not make the scan read them.
func localURL(c repo.Config) error {
	for _, u := range append(append([]string{}, c.BaseURLs...), c.Metalink, c.Mirrorlist) {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(u)), "file:") {
			return fmt.Errorf("%s: file:// URLs of an image's own repositories are not read", u)
		}
	}
	return nil
}
