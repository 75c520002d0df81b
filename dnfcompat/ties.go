package dnfcompat

import (
	"context"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
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
// all advisories and the primary metadata again, so it runs only when
// rows tie.
func tieOrder(ctx context.Context, c *command, env *Env, h *host) (*report.TieOrder, error) {
	// The pool holds excluded packages too: dnf excludes them later.
	all := *c
	all.excl = nil
	full, err := loadHost(ctx, &all, env)
	if err != nil {
		return nil, err
	}
	pool := report.NewSolvPool(h.arch)
	inst := make([]report.SolvPackage, len(full.rpms))
	for i, r := range full.rpms {
		inst[i] = report.SolvPackage{Name: r.Name, Arch: r.Arch, EVR: solvEVR(r.EVR)}
	}
	pool.AddRPMDB(inst)
	var advs, kept []*advisory.Advisory
	for _, l := range c.loaded {
		pkgs, err := primaryPackages(ctx, l.md)
		if err != nil {
			return nil, err
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
		pool.AddPrimary(sp)
		as, err := l.md.Advisories(ctx, repo.AdvisoryOptions{Brief: true, NoReferences: true})
		if err != nil {
			return nil, err
		}
		pool.AddUpdateinfo(as)
		advs = append(advs, as...)
		kept = append(kept, pairKept(as, l.advs)...)
	}
	active := func(col *advisory.Collection) bool {
		if len(col.Modules) == 0 {
			return true
		}
		for _, m := range col.Modules {
			if h.modules[match.ModuleStream{Name: m.Name, Stream: m.Stream, Context: m.Context}] {
				return true
			}
		}
		return false
	}
	return report.NewTieOrder(pool, advs, active, func(i int) *advisory.Advisory { return kept[i] }), nil
}

// pairKept returns, for each advisory of all, the advisory of kept (a
// subsequence of all, in order) that is the same one, or nil.
func pairKept(all, kept []*advisory.Advisory) []*advisory.Advisory {
	out := make([]*advisory.Advisory, len(all))
	k := 0
	for i, a := range all {
		if k < len(kept) && sameAdvisory(a, kept[k]) {
			out[i] = kept[k]
			k++
		}
	}
	return out
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
