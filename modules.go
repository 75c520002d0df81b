package alicorn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/module/kubemodules"
	"github.com/alicorn-dev/alicorn/report"
)

// unit is a module with the packages of its image.
type unit struct {
	mod    module.Module
	root   string              // the image's extracted root (rpmdb and configuration)
	dbPath string              // its rpm database, "" when it has none
	pkgs   []inventory.Package // its RPMs
	// other are the image's non-RPM packages no RPM owns, owned those an
	// RPM owns (read only when OSV feeds apply to the module); warn holds
	// the files that could not be read.
	other []inventory.Package
	owned []inventory.Owned
	warn  []error
}

// loadModules reads the modules to report on: INSTALLROOT/etc/alicorn/
// modules.d, every --modules-dir, with --podman-modules podman's
// labelled containers and with --kube-modules a cluster's labelled
// Deployments. A module defined twice is an error.
func (s *System) loadModules(ctx context.Context) ([]module.Module, error) {
	for _, d := range s.opts.ModuleDirs {
		st, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("modules directory: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("modules directory %s: not a directory", d)
		}
	}
	dirs := append([]string{filepath.Join(s.root, "etc/alicorn/modules.d")}, s.opts.ModuleDirs...)
	var out []module.Module
	seen := map[string]string{}
	add := func(ms []module.Module) error {
		for _, m := range ms {
			if prev, ok := seen[m.Name]; ok {
				return fmt.Errorf("%s: module %s is also defined in %s", m.Source, m.Name, prev)
			}
			seen[m.Name] = m.Source
			out = append(out, m)
		}
		return nil
	}
	for _, d := range dirs {
		ms, err := module.LoadDir(d)
		if err != nil {
			return nil, err
		}
		if err := add(ms); err != nil {
			return nil, err
		}
	}
	if s.opts.PodmanModules {
		ms, err := module.FromPodman(ctx)
		if err != nil {
			return nil, err
		}
		if err := add(ms); err != nil {
			return nil, err
		}
	}
	if s.opts.KubeModules {
		ms, err := kubemodules.Discover(ctx, kubemodules.Config{Kubeconfig: s.opts.Kubeconfig, Namespace: s.opts.KubeNamespace})
		if err != nil {
			return nil, err
		}
		if err := add(ms); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// loadUnits opens every module's image, as many at once as there are
// cores, and reads its packages. An image that hit a budget (Limits)
// while others were read beside it is read again alone, so that what a
// module reports does not depend on which images happened to be read at
// the same time.
func (s *System) loadUnits(ctx context.Context) ([]*unit, error) {
	mods, err := s.loadModules(ctx)
	if err != nil || len(mods) == 0 {
		return nil, err
	}
	units := make([]*unit, len(mods))
	cleanups := make([]func(), len(mods))
	errs := make([]error, len(mods))
	var wg sync.WaitGroup
	// As many images at once as there are cores: more would only hold
	// more of the memory budget at a time.
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, m := range mods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			units[i], cleanups[i], errs[i] = s.loadUnit(ctx, m)
		}()
	}
	wg.Wait()
	if len(mods) > 1 {
		for i, m := range mods {
			if !errors.Is(errs[i], inventory.ErrBudget) && (units[i] == nil || !errors.Is(errors.Join(units[i].warn...), inventory.ErrBudget)) {
				continue
			}
			if cleanups[i] != nil {
				cleanups[i]()
			}
			units[i], cleanups[i], errs[i] = s.loadUnit(ctx, m)
		}
	}
	for _, f := range cleanups {
		if f != nil {
			s.cleanups = append(s.cleanups, f)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, u := range units {
		for _, w := range u.warn {
			s.warnings = append(s.warnings, fmt.Errorf("module %s: %w", u.mod.Name, w))
		}
	}
	return units, nil
}

// loadUnit opens a module's image and reads its packages; cleanup
// removes its extracted root.
func (s *System) loadUnit(ctx context.Context, m module.Module) (*unit, func(), error) {
	var extractors []inventory.Extractor
	if s.hasFeeds() || len(m.OSV) > 0 {
		extractors = s.ecos.Extractors()
	}
	root, found, cleanup, err := imageRoot(ctx, m.Image, extractors, s.lim, s.opts.CacheDir)
	if err != nil {
		return nil, nil, fmt.Errorf("module %s (%s): %w", m.Name, m.Source, err)
	}
	u := &unit{mod: m, root: root}
	if err := u.read(ctx, root, found, s.opts.OSVRPMOwned); err != nil {
		return nil, cleanup, fmt.Errorf("module %s: %w", m.Name, &imageError{err: err, root: root, ref: m.Image})
	}
	return u, cleanup, nil
}

// read reads the installed packages of the image extracted at root: its
// RPMs and, when found holds them, its other packages (less those an RPM
// owns, unless keepOwned). An image without an rpm database has only the
// others, with a warning.
func (u *unit) read(ctx context.Context, root string, found *scanned, keepOwned bool) error {
	path, err := rpmdb.Find(root)
	switch {
	case errors.Is(err, rpmdb.ErrNoDatabase):
		u.warn = append(u.warn, ErrNoRPMDB)
	case err != nil:
		return err
	default:
		snap, err := readRPMDB(ctx, path, "")
		if err != nil {
			return err
		}
		u.dbPath, u.pkgs = path, snap.packages(inventory.ReadOSRelease(root), path)
	}
	if found == nil {
		return nil
	}
	if found.err != nil {
		u.warn = append(u.warn, inventory.Leaves(found.err)...)
	}
	u.other, u.owned, err = splitOwned(ctx, u.dbPath, found.pkgs, keepOwned)
	return err
}

// matchUnit finds what a module's image needs, as dnf would for
// --installroot=<the image's root> with the host's repositories, and what
// the OSV feeds say of its other packages.
func (s *System) matchUnit(ctx context.Context, q *Query, u *unit, candidates []*advisory.Advisory, d *repoData,
	arch string) (report.ModuleFindings, []error, error) {
	rpms, _ := withoutExcluded(u.pkgs, s.excl, -1)
	active, modular, err := activeModules(u.root, arch, d.streams)
	if err != nil {
		return report.ModuleFindings{}, nil, fmt.Errorf("module %s: %w", u.mod.Name, err)
	}
	opts := match.DNFOptions{Mode: q.Mode, ActiveModules: active}
	if q.Mode == match.Updates {
		opts.Upgradable = upgradable(rpms, d.avail, s.excl, modular)
	}
	findings, err := match.DNF(ctx, rpms, candidates, opts)
	if err != nil {
		return report.ModuleFindings{}, nil, err
	}
	mf := report.ModuleFindings{Name: u.mod.Name, Image: u.mod.Image, Findings: q.keep(findings), Installed: rpms,
		Packages: u.other, Owned: u.owned}
	var warns []error
	mf.Vulnerable, warns, err = s.matchOSV(ctx, q, u.other, u.mod.OSV)
	if err != nil {
		return report.ModuleFindings{}, nil, fmt.Errorf("module %s: %w", u.mod.Name, err)
	}
	for i, w := range warns {
		warns[i] = fmt.Errorf("module %s: %w", u.mod.Name, w)
	}
	return mf, warns, nil
}
