package dnfcompat

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/modularity"
	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/report"
)

// unit is a module with the packages of its image.
type unit struct {
	mod  module.Module
	root string // the image's extracted root (rpmdb and configuration)
	snap *snapshot
	// other are the image's non-RPM packages no RPM owns, owned those an
	// RPM owns (read only when OSV feeds apply to the module); warn holds
	// the files that could not be read.
	other []inventory.Package
	owned []inventory.Owned
	warn  error
}

// loadModules reads the modules to report on: INSTALLROOT/etc/alicorn/
// modules.d, every --modules-dir, and with --podman-modules podman's
// labelled containers. A module defined twice is an error.
func loadModules(ctx context.Context, c *command) ([]module.Module, error) {
	dirs := append([]string{filepath.Join(c.installroot, "etc/alicorn/modules.d")}, c.modulesDirs...)
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
	if c.podmanMods {
		ms, err := module.FromPodman(ctx)
		if err != nil {
			return nil, err
		}
		if err := add(ms); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// loadUnits opens every module's image, at once, and reads its packages.
// The returned function removes the extracted roots.
func loadUnits(ctx context.Context, c *command) ([]*unit, func(), error) {
	mods, err := loadModules(ctx, c)
	if err != nil || len(mods) == 0 {
		return nil, func() {}, err
	}
	units := make([]*unit, len(mods))
	cleanups := make([]func(), len(mods))
	errs := make([]error, len(mods))
	var wg sync.WaitGroup
	for i, m := range mods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var extractors []inventory.Extractor
			if len(c.osv) > 0 || len(m.OSV) > 0 {
				extractors = c.ecosystems.Extractors()
			}
			root, found, cleanup, err := imageRoot(ctx, m.Image, extractors)
			if err != nil {
				errs[i] = fmt.Errorf("module %s (%s): %w", m.Name, m.Source, err)
				return
			}
			cleanups[i] = cleanup
			path, err := rpmdb.Find(root)
			if err != nil {
				errs[i] = fmt.Errorf("module %s: image %s: %w", m.Name, m.Image, err)
				return
			}
			snap, err := readRPMDB(ctx, path, "")
			if err != nil {
				errs[i] = fmt.Errorf("module %s: image %s: %w", m.Name, m.Image, err)
				return
			}
			u := &unit{mod: m, root: root, snap: snap}
			if found != nil {
				u.warn = found.err
				if u.other, u.owned, err = splitOwned(ctx, path, found.pkgs, c.rpmOwned); err != nil {
					errs[i] = fmt.Errorf("module %s: image %s: %w", m.Name, m.Image, err)
					return
				}
			}
			units[i] = u
		}()
	}
	wg.Wait()
	cleanup := func() {
		for _, f := range cleanups {
			if f != nil {
				f()
			}
		}
	}
	for _, err := range errs {
		if err != nil {
			cleanup()
			return nil, func() {}, err
		}
	}
	return units, cleanup, nil
}

// matchUnit finds what a module's image needs, as dnf would for
// --installroot=<the image's root> with the host's repositories. An error
// wrapping match.ErrRange comes with the findings: warnings.
func matchUnit(ctx context.Context, c *command, u *unit, candidates []*advisory.Advisory, avail []available,
	arch string, repoModules *modularity.Metadata) (report.ModuleFindings, error) {
	rpms, _ := withoutExcluded(u.snap.rpms, c.excl, -1)
	active, modular, err := activeModules(u.root, arch, repoModules)
	if err != nil {
		return report.ModuleFindings{}, fmt.Errorf("module %s: %w", u.mod.Name, err)
	}
	opts := match.DNFOptions{Mode: c.mode, ActiveModules: active}
	if c.mode == match.Updates {
		opts.Upgradable = upgradable(rpms, avail, c.excl, modular)
	}
	findings, err := match.DNF(ctx, rpms, candidates, opts)
	if err != nil {
		return report.ModuleFindings{}, err
	}
	kept := findings[:0]
	for i := range findings {
		if c.filter.Keep(&findings[i]) {
			kept = append(kept, findings[i])
		}
	}
	installed := make([]report.Installed, len(rpms))
	for i, r := range rpms {
		installed[i] = report.Installed{Name: r.Name, EVR: r.EVR, Arch: r.Arch}
	}
	mf := report.ModuleFindings{Name: u.mod.Name, Image: u.mod.Image, Findings: kept, Installed: installed,
		Packages: u.other, Owned: u.owned}
	if len(u.other) > 0 {
		feeds, err := c.feeds.load(ctx, append(append([]string{}, c.osv...), u.mod.OSV...))
		if err != nil {
			return report.ModuleFindings{}, fmt.Errorf("module %s: %w", u.mod.Name, err)
		}
		// Ranges that could not be evaluated come back beside the pairs
		// found (match.ErrRange): the caller warns of them.
		vulns, err := match.OSV(ctx, u.other, feeds, c.ecosystems, match.OSVOptions{})
		if err != nil && !errors.Is(err, match.ErrRange) {
			return report.ModuleFindings{}, err
		}
		for _, v := range vulns {
			if c.filter.KeepAdvisory(v.Advisory, u.other[v.Package].Name) {
				mf.Vulnerable = append(mf.Vulnerable, v)
			}
		}
		return mf, err
	}
	return mf, nil
}
