package alicorn

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/ecosystems/gem"
	"github.com/alicorn-dev/alicorn/ecosystems/maven"
	"github.com/alicorn-dev/alicorn/ecosystems/pypi"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/repo"
)

// ErrNoRepository is returned by Report when no repository is enabled
// while there are installed RPMs to check: a report made from no
// advisories would wrongly say that nothing needs an update.
var ErrNoRepository = errors.New("no repository is enabled: there are no advisories to check the installed packages against")

// ErrNoRPMDB is joined into the warnings of an image (the host's or a
// module's) that has no rpm database: only its other packages are checked.
var ErrNoRPMDB = errors.New("no rpm database found; only packages not installed by RPM are checked")

// Options say what Open reads. The zero value reads the running host as
// dnf would.
type Options struct {
	// Root is the installroot: the directory, an absolute path, whose rpm
	// database and dnf configuration are read ("" means "/").
	Root string
	// Image, instead of Root, reads a container image as if its root
	// filesystem were the installroot: oci:DIR[:TAG],
	// oci-archive:FILE[:TAG], docker-archive:FILE[:REF],
	// docker://HOST/REPO:TAG or containers-storage:NAME.
	Image string
	// ImageRepos reads the repositories an Image's own configuration
	// names (as dnf --installroot would), instead of the host's; their
	// file:// URLs are refused, so that an image cannot make the scan read
	// files of this machine.
	ImageRepos bool
	// Arch is the machine architecture ("" asks the system).
	Arch string
	// KernelRelease is `uname -r`, used to find the running kernel's
	// package on the live system ("" asks the system). It is not looked
	// for under another root.
	KernelRelease string
	// Releasever is dnf's $releasever ("" reads it from the root's
	// release package provides, as dnf does).
	Releasever string
	// CacheDir holds repository metadata, parsed advisories and installed
	// package snapshots ("" means the user cache directory's alicorn).
	CacheDir string
	// CacheOnly reads repository metadata from the cache only (dnf -C).
	CacheOnly bool
	// Client fetches http(s) metadata (nil means http.DefaultClient).
	Client *http.Client
	// Network holds dnf's download options for every repository (dnf's
	// timeout, minrate, retries, throttle and bandwidth, as --setopt sets
	// them): those left unset (repo.Network.IsSet; Set sets one to zero)
	// are read from the root's dnf.conf [main], else dnf's defaults
	// (timeout 30 s, minrate 1000 bytes/s, retries 10, no throttle). A
	// repository's own values win, zero included.
	Network repo.Network
	// Progress, when set, is told how each repository's metadata download
	// goes, as dnf shows it (not called for cache hits).
	Progress func(repo.Progress)
	// Repos chooses the repositories, as dnf's repository options do.
	Repos Repos
	// Excludes are package globs (name, name.arch or NEVRA forms) left out
	// of the installed and the available packages, as dnf's excludepkgs;
	// the root's dnf.conf excludepkgs are added unless DisableExcludes.
	Excludes        []string
	DisableExcludes bool
	// ModuleDirs are directories of module files read besides the root's
	// etc/alicorn/modules.d; PodmanModules also discovers modules from
	// podman containers labelled io.alicorn.module. Every directory named
	// must exist.
	ModuleDirs    []string
	PodmanModules bool
	// KubeModules also discovers modules from the Deployments labelled
	// io.alicorn.module of a Kubernetes cluster (module/kubemodules),
	// their images read from the registry: the cluster of Kubeconfig
	// ("": kubectl's, $KUBECONFIG else ~/.kube/config), in KubeNamespace
	// ("": all namespaces).
	KubeModules   bool
	Kubeconfig    string
	KubeNamespace string
	// OSV are OSV feeds (JSON files, directories or all.zip files) the
	// root's and every module's non-RPM packages are checked against;
	// each must exist. A module file may name more.
	OSV []string
	// ScanRoot, when feeds apply, scans the root directory for packages
	// not installed by RPM too (an image always is), leaving out /proc,
	// /sys, /dev and /run; a root without an rpm database is then a
	// warning, not an error.
	ScanRoot bool
	// OSVRPMOwned checks packages whose files an RPM owns against OSV too
	// (by default they are left to that RPM's advisories).
	OSVRPMOwned bool
	// Feeds are more advisory feeds (a vendor's CSAF or VEX, say) matched
	// like the OSV feeds, by Matcher.
	Feeds []advisory.Feed
	// Matcher matches the non-RPM packages against the OSV feeds and
	// Feeds (nil means match.AffectedMatcher over Ecosystems).
	Matcher match.Matcher
	// Ecosystems are the non-RPM ecosystems scanned for when feeds apply
	// (nil means PyPI, RubyGems and Maven).
	Ecosystems *ecosystems.Set
	// Limits bound the memory and temporary disk the run's readers of
	// images and archives use, all together.
	Limits Limits
}

// Repos chooses repositories as dnf's options do.
type Repos struct {
	// Dirs are the directories of .repo files (nil means dnf's: /etc/
	// yum.repos.d and the others, inside the root first).
	Dirs []string
	// Set holds per-repository options by repository ID glob (dnf's
	// --setopt=ID.option=value): enabled, skip_if_unavailable,
	// module_hotfixes, baseurl and the download options (repo.Network).
	// The other options of dnf's repositories are accepted and ignored;
	// one they do not have is a warning of Report (UnknownOptionError)
	// for each repository the glob matches, as in dnf.
	Set map[string]map[string]string
	// FromPath are extra repositories (dnf's --repofrompath), enabled.
	FromPath []repo.Config
	// Edits enable or disable repositories by ID glob, in order (dnf's
	// --enablerepo and --disablerepo).
	Edits []RepoEdit
	// Only, when set, enables just these ID globs (dnf's --repo).
	Only []string
}

// RepoEdit enables or disables the repositories whose IDs match Glob.
type RepoEdit struct {
	Glob   string
	Enable bool
}

// System is an opened root: its installed packages, repositories and
// modules. Close removes what Open extracted.
type System struct {
	opts Options
	// root is the directory read: Options.Root, or the image's extracted
	// rpm database and configuration.
	root string
	// rootScan holds the non-RPM packages of Options.Image (or of the root
	// with ScanRoot) when feeds apply.
	rootScan *scanned
	// excl are the exclude globs in force; mainNet the download options
	// of Options.Network and dnf.conf's [main], or mainErr (readDNFConf).
	excl    []string
	mainNet repo.Network
	mainErr error
	units   []*unit
	ecos    *ecosystems.Set
	lim     inventory.Limits
	matcher match.Matcher
	feeds   feedCache

	hostOnce sync.Once
	host     *host
	hostErr  error

	warnings []error
	cleanups []func()
}

// Open reads the root (or image) and the modules deployed on it. Module
// images are opened at once; the root's installed packages are read when
// first needed. The repositories are read by Report.
func Open(ctx context.Context, opts Options) (*System, error) {
	if opts.Root == "" {
		opts.Root = "/"
	}
	if opts.Image != "" && opts.Root != "/" {
		return nil, errors.New("an image and a root cannot both be read")
	}
	if !filepath.IsAbs(opts.Root) {
		return nil, fmt.Errorf("the root must be an absolute path: %s", opts.Root)
	}
	if st, err := os.Stat(opts.Root); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("root %s: not a directory", opts.Root)
	}
	if opts.Arch == "" {
		opts.Arch, _ = uname()
	}
	if opts.CacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			opts.CacheDir = filepath.Join(d, "alicorn")
		}
	}
	s := &System{opts: opts, root: opts.Root, lim: opts.Limits.budgets()}
	var err error
	if s.ecos = opts.Ecosystems; s.ecos == nil {
		if s.ecos, err = ecosystems.NewSet(pypi.Ecosystem{}, gem.Ecosystem{}, maven.Ecosystem{}); err != nil {
			return nil, err
		}
	}
	for _, p := range opts.OSV {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("OSV feed: %w", err)
		}
	}
	if s.matcher = opts.Matcher; s.matcher == nil {
		s.matcher = match.AffectedMatcher{Set: s.ecos}
	}
	if opts.Image != "" {
		var extractors []inventory.Extractor
		if s.hasFeeds() {
			extractors = s.ecos.Extractors()
		}
		root, found, cleanup, err := imageRoot(ctx, opts.Image, extractors, s.lim, opts.CacheDir)
		if err != nil {
			return nil, err
		}
		s.cleanups = append(s.cleanups, cleanup)
		s.root, s.rootScan = root, found
	} else if opts.ScanRoot && s.hasFeeds() {
		pkgs, err := inventory.ScanWithin(ctx, pseudoLess{os.DirFS(opts.Root)}, s.ecos.Extractors(), s.lim)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.rootScan = &scanned{pkgs: pkgs, err: err}
	}
	s.readDNFConf()
	if s.units, err = s.loadUnits(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close removes the files Open extracted from images.
func (s *System) Close() error {
	for _, f := range s.cleanups {
		f()
	}
	s.cleanups = nil
	return nil
}

// Installed returns the root's installed RPMs (less the excluded ones), in
// database order, as dnf sees them: imported gpg-pubkey entries are left out.
func (s *System) Installed(ctx context.Context) ([]inventory.Package, error) {
	h, err := s.loadHost(ctx)
	if err != nil {
		return nil, err
	}
	return h.pkgs, nil
}

// Warnings are the problems Open met that did not stop it: files of module
// images that could not be read, module images without an rpm database.
// Report's warnings hold these and those of the report itself.
func (s *System) Warnings() []error { return s.warnings }

// loadHost reads the root's installed packages once.
func (s *System) loadHost(ctx context.Context) (*host, error) {
	s.hostOnce.Do(func() { s.host, s.hostErr = s.readHost(ctx) })
	return s.host, s.hostErr
}

// pseudoLess is a root directory without its kernel file systems, which
// hold no packages.
type pseudoLess struct{ fs.FS }

// ReadDir lists a directory, less proc, sys, dev and run at the top.
func (p pseudoLess) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(p.FS, name)
	if name != "." {
		return entries, err
	}
	kept := entries[:0]
	for _, e := range entries {
		switch e.Name() {
		case "proc", "sys", "dev", "run":
			continue
		}
		kept = append(kept, e)
	}
	return kept, err
}
