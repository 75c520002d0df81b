package alicorn

import (
	"context"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/match"
	"github.com/alicorn-dev/alicorn/repo"
	"github.com/alicorn-dev/alicorn/report"
)

// loadedRepo is a repository read for the report and the advisories
// kept of it.
type loadedRepo struct {
	md   *repo.Metadata
	advs []*advisory.Advisory
}

// tieOrder models what libdnf's sort of advisory packages sees, for the
// order of list rows that tie: libsolv's pool as dnf fills it with a
// warm cache (the rpmdb, then each repository's primary and updateinfo
// solv files) and every advisory package of every repository. It reads
// all advisories (lent, none kept) and the primary metadata again, so it
// runs only when rows tie.
func tieOrder(ctx context.Context, arch string, all []inventory.Package, active map[match.ModuleStream]bool,
	loaded []loadedRepo) (*report.TieOrder, error) {
	t := report.NewTieSorter(arch)
	// The pool holds excluded packages too: dnf excludes them later.
	inst := make([]report.SolvPackage, len(all))
	for i := range all {
		evr, arch := rpm.Installed(&all[i])
		inst[i] = report.SolvPackage{Name: all[i].Name, Arch: arch, EVR: solvEVR(evr)}
	}
	t.AddRPMDB(inst)
	isActive := func(col *advisory.Collection) bool {
		if len(col.Modules) == 0 {
			return true
		}
		for _, m := range col.Modules {
			if active[match.ModuleStream{Name: m.Name, Stream: m.Stream, Context: m.Context}] {
				return true
			}
		}
		return false
	}
	for _, l := range loaded {
		// Without primary metadata (dnf -C with a cache that never held
		// it) the order is modelled from the rest: it is a detail of the
		// order, not a reason to fail the report.
		pkgs, err := primaryPackages(ctx, l.md)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			pkgs = nil
		}
		sp := make([]report.SolvPackage, len(pkgs))
		for i, p := range pkgs {
			sp[i] = report.SolvPackage{Name: p.name, Arch: p.arch, EVR: solvEVR(p.evr)}
			for j, name := range p.provides {
				evr := ""
				if j < len(p.provideEVRs) {
					evr = p.provideEVRs[j]
				}
				sp[i].Provides = append(sp[i].Provides, report.SolvDep{Name: name, EVR: evr})
			}
		}
		t.AddPrimary(sp)
		// The advisories kept for the report are a subsequence of all.
		k := 0
		add := func(a *advisory.Advisory) bool {
			var kept *advisory.Advisory
			if k < len(l.advs) && sameAdvisory(a, l.advs[k]) {
				kept = l.advs[k]
				k++
			}
			t.AddAdvisory(a, isActive, kept)
			return false
		}
		if _, err := l.md.Advisories(ctx, repo.AdvisoryOptions{Brief: true, NoReferences: true, Keep: add}); err != nil {
			return nil, err
		}
		t.EndRepository()
	}
	return t.Sort(), nil
}

func sameAdvisory(a, b *advisory.Advisory) bool {
	if a.ID != b.ID || a.Type != b.Type || a.Severity != b.Severity || len(a.Collections) != len(b.Collections) {
		return false
	}
	for i := range a.Collections {
		pa, pb := a.Collections[i].Packages, b.Collections[i].Packages
		if len(pa) != len(pb) {
			return false
		}
		for j := range pa {
			if pa[j].Name != pb[j].Name || pa[j].EVR != pb[j].EVR || pa[j].Arch != pb[j].Arch {
				return false
			}
		}
	}
	return true
}

// solvEVR is an EVR as libsolv writes it: no epoch when it is 0.
func solvEVR(e rpm.EVR) string {
	s := e.Version
	if e.Release != "" {
		s += "-" + e.Release
	}
	if e.Epoch != "" && e.Epoch != "0" {
		s = e.Epoch + ":" + s
	}
	return s
}
