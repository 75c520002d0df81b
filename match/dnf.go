package match

import (
	"context"
	"fmt"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/inventory"
)

// Mode chooses which (advisory, installed package) pairs apply, as dnf's
// updateinfo availability options do.
type Mode int

// The modes.
const (
	// Available: the advisory's package is newer than the latest installed
	// package of its name and arch (or than a package of the running
	// kernel). dnf's default.
	Available Mode = iota
	// Installed: the advisory's package is older than or equal to an
	// installed one.
	Installed
	// Updates: like Available, for installed packages that have a newer
	// package in the enabled repositories.
	Updates
	// All: any version.
	All
)

// String names the mode as dnf's summary heading does.
func (m Mode) String() string {
	switch m {
	case Installed:
		return "installed"
	case Updates:
		return "updates"
	case All:
		return "all"
	}
	return "available"
}

// installedRPM is an installed package as the matcher reads it: its
// purl's EVR and arch, parsed once.
type installedRPM struct {
	Name      string
	EVR       rpm.EVR
	Arch      string
	SourceRPM string
}

func installedRPMs(pkgs []inventory.Package) []installedRPM {
	out := make([]installedRPM, len(pkgs))
	for i := range pkgs {
		p := &pkgs[i]
		evr, arch := rpm.Installed(p)
		out[i] = installedRPM{Name: p.Name, EVR: evr, Arch: arch, SourceRPM: p.Source}
	}
	return out
}

// ModuleStream identifies an active module stream.
type ModuleStream struct {
	Name, Stream, Context string
}

// DNFOptions tune DNF.
type DNFOptions struct {
	Mode Mode
	// RunningKernelSource is the source RPM of the running kernel's
	// package, or empty. In Available mode, every installed package
	// built from it is considered too.
	RunningKernelSource string
	// Upgradable, for Updates mode, reports whether the installed package
	// at an index has a newer package available.
	Upgradable func(i int) bool
	// ActiveModules are the enabled or default module streams; a
	// collection naming modules applies only when one of them is active
	// (matched on name, stream and context).
	ActiveModules map[ModuleStream]bool
}

// Finding is one applicable (advisory package, installed package) pair.
type Finding struct {
	// Installed is the index of the installed package in the list given.
	Installed int
	Advisory  *advisory.Advisory
	// Fixed is the advisory's package entry.
	Fixed *advisory.Package
	// NewerOrEqualInstalled is dnf's "installed" mark: some installed
	// package of the same name (any arch) is at least the fixed version.
	NewerOrEqualInstalled bool
}

// entry is an advisory package in the index, linked to the next one of
// the same installed name and arch.
type entry struct {
	adv  *advisory.Advisory
	pkg  *advisory.Package
	next int32
}

type nameArch struct{ name, arch string }

// DNF returns the findings for installed packages in the order dnf 4
// produces them: installed packages in database order, and for each the
// advisory packages of its name and arch in advisory order.
//
// The installed packages are rpm packages (their purls' versions and
// qualifiers give EVR and arch; see rpm.Installed).
func DNF(ctx context.Context, pkgs []inventory.Package, advisories []*advisory.Advisory, opts DNFOptions) ([]Finding, error) {
	installed := installedRPMs(pkgs)
	// newest[name] is the installed package of that name (any arch) with
	// the highest EVR: an advisory package is "installed" in dnf's sense
	// when that one is at least as new.
	newest := make(map[string]int32, len(installed))
	for i := range installed {
		if j, ok := newest[installed[i].Name]; !ok || rpm.Compare(installed[i].EVR, installed[j].EVR) > 0 {
			newest[installed[i].Name] = int32(i)
		}
	}
	// Index the advisory packages of the installed names and arches
	// only: one list per (name, arch) slot, kept in advisory order, all
	// in one slice (most advisories name few packages, and a map of
	// slices would cost an allocation per list).
	slot := make(map[nameArch]int32, len(installed))
	slotOf := make([]int32, len(installed))
	for i := range installed {
		k := nameArch{installed[i].Name, installed[i].Arch}
		s, ok := slot[k]
		if !ok {
			s = int32(len(slot))
			slot[k] = s
		}
		slotOf[i] = s
	}
	head := make([]int32, 2*len(slot))
	tail := head[len(slot):]
	head = head[:len(slot)]
	for i := range head {
		head[i] = -1
	}
	var entries []entry
	for n, a := range advisories {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		for c := range a.Collections {
			coll := &a.Collections[c]
			if !moduleActive(coll, opts.ActiveModules) {
				continue
			}
			for p := range coll.Packages {
				pk := &coll.Packages[p]
				if !pk.HasArch {
					continue
				}
				sl, ok := slot[nameArch{pk.Name, pk.Arch}]
				if !ok {
					continue
				}
				e := int32(len(entries))
				if entries == nil {
					entries = make([]entry, 0, len(advisories))
				}
				entries = append(entries, entry{adv: a, pkg: pk, next: -1})
				if head[sl] < 0 {
					head[sl] = e
				} else {
					entries[tail[sl]].next = e
				}
				tail[sl] = e
			}
		}
	}

	considered, err := consideredSet(installed, slotOf, len(slot), opts)
	if err != nil {
		return nil, err
	}
	out := make([]Finding, 0, len(entries))
	for i, ok := range considered {
		if !ok {
			continue
		}
		inst := &installed[i]
		for x := head[slotOf[i]]; x >= 0; x = entries[x].next {
			e := &entries[x]
			evr := rpm.ParseEVR(e.pkg.EVR)
			c := rpm.Compare(evr, inst.EVR)
			var applies bool
			switch opts.Mode {
			case Installed:
				applies = c <= 0
			case All:
				applies = true
			default:
				applies = c > 0
			}
			if !applies {
				continue
			}
			f := Finding{Installed: i, Advisory: e.adv, Fixed: e.pkg}
			f.NewerOrEqualInstalled = rpm.Compare(installed[newest[inst.Name]].EVR, evr) >= 0
			out = append(out, f)
		}
	}
	return out, nil
}

func moduleActive(c *advisory.Collection, active map[ModuleStream]bool) bool {
	if len(c.Modules) == 0 {
		return true
	}
	for _, m := range c.Modules {
		if active[ModuleStream{m.Name, m.Stream, m.Context}] {
			return true
		}
	}
	return false
}

// consideredSet marks the installed packages each mode looks at; slotOf
// numbers each package's name and arch (nslots in all).
func consideredSet(installed []installedRPM, slotOf []int32, nslots int, opts DNFOptions) ([]bool, error) {
	out := make([]bool, len(installed))
	switch opts.Mode {
	case Installed, All:
		for i := range out {
			out[i] = true
		}
	case Updates:
		if opts.Upgradable == nil {
			return nil, fmt.Errorf("updates mode needs the available packages")
		}
		for i := range out {
			out[i] = opts.Upgradable(i)
		}
	default:
		// The latest installed package of each name and arch.
		latest := make([]int32, nslots)
		for i := range latest {
			latest[i] = -1
		}
		for i := range installed {
			if j := latest[slotOf[i]]; j < 0 || rpm.Compare(installed[i].EVR, installed[j].EVR) > 0 {
				latest[slotOf[i]] = int32(i)
			}
		}
		for i := range installed {
			if rpm.Compare(installed[i].EVR, installed[latest[slotOf[i]]].EVR) == 0 {
				out[i] = true
			}
		}
		if src := opts.RunningKernelSource; src != "" {
			for i := range installed {
				if installed[i].SourceRPM == src {
					out[i] = true
				}
			}
		}
	}
	return out, nil
}
