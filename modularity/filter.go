package modularity

import "strings"

// Filter is dnf's modular filtering of repository packages (libdnf's
// dnf_sack_filter_modules_v2): a package that is an artifact of an
// inactive module build is hidden, and so is a package that is not an
// artifact of an active build but has (or provides) the name of one,
// unless that name was demodularized. Installed packages and those of
// module_hotfixes repositories are never filtered; callers leave them
// out.
type Filter struct {
	include, exclude map[nevra]bool
	names, srcNames  map[string]bool
}

// nevra is a package as libsolv keys it: the epoch left out when zero.
type nevra struct{ name, evr, arch string }

// NewFilter builds the filter for the given metadata, the active builds
// (Active) and the machine's base arch.
func NewFilter(md *Metadata, active map[Key]bool, arch string) *Filter {
	f := &Filter{include: map[nevra]bool{}, exclude: map[nevra]bool{}, names: map[string]bool{}, srcNames: map[string]bool{}}
	if md == nil {
		return f
	}
	isActive := func(s *Stream) bool {
		return active[Key{s.Name, s.Stream, s.Context}] && (s.Arch == "" || s.Arch == arch || s.Arch == "noarch")
	}
	// Demodularized names come from the latest active build of each
	// name, stream, context and arch, gathered per name, stream and arch.
	type nsca struct{ name, stream, context, arch string }
	latest := map[nsca]*Stream{}
	for i := range md.Streams {
		s := &md.Streams[i]
		if !isActive(s) {
			continue
		}
		k := nsca{s.Name, s.Stream, s.Context, s.Arch}
		if l, ok := latest[k]; !ok || s.Version > l.Version {
			latest[k] = s
		}
	}
	demod := map[string]map[string]bool{} // name:stream.arch -> names
	for _, s := range latest {
		if len(s.Demodularized) == 0 {
			continue
		}
		k := s.Name + ":" + s.Stream + "." + s.Arch
		if demod[k] == nil {
			demod[k] = map[string]bool{}
		}
		for _, n := range s.Demodularized {
			demod[k][n] = true
		}
	}
	for i := range md.Streams {
		s := &md.Streams[i]
		if !isActive(s) {
			for _, a := range s.Artifacts {
				if n, ok := parseNEVRA(a); ok {
					f.exclude[n] = true
				}
			}
			continue
		}
		gone := demod[s.Name+":"+s.Stream+"."+s.Arch]
		for _, a := range s.Artifacts {
			n, ok := parseNEVRA(a)
			if !ok {
				continue
			}
			f.include[n] = true
			if gone[n.name] {
				continue
			}
			if n.arch == "src" || n.arch == "nosrc" {
				f.srcNames[n.name] = true
			} else {
				f.names[n.name] = true
			}
		}
	}
	return f
}

// Empty reports whether the filter hides nothing.
func (f *Filter) Empty() bool {
	return len(f.exclude) == 0 && len(f.names) == 0 && len(f.srcNames) == 0
}

// Hidden reports whether a repository package is filtered out. evr is
// "[epoch:]version-release"; provides are the names the package
// provides (its own name included or not).
func (f *Filter) Hidden(name, evr, arch string, provides []string) bool {
	k := nevra{name, stripZeroEpoch(evr), arch}
	if f.include[k] {
		return false
	}
	if f.exclude[k] || f.names[name] || (arch == "src" || arch == "nosrc") && f.srcNames[name] {
		return true
	}
	for _, p := range provides {
		if f.names[p] {
			return true
		}
	}
	return false
}

// parseNEVRA splits "name-[epoch:]version-release.arch" as libdnf does.
func parseNEVRA(s string) (nevra, bool) {
	dot := strings.LastIndexByte(s, '.')
	if dot < 0 {
		return nevra{}, false
	}
	arch := s[dot+1:]
	rest := s[:dot]
	rel := strings.LastIndexByte(rest, '-')
	if rel <= 0 {
		return nevra{}, false
	}
	ver := strings.LastIndexByte(rest[:rel], '-')
	if ver <= 0 || rel-ver <= 1 || arch == "" || dot-rel <= 1 {
		return nevra{}, false
	}
	return nevra{rest[:ver], stripZeroEpoch(rest[ver+1:]), arch}, true
}

// stripZeroEpoch drops an epoch made only of zeros, as libsolv does.
func stripZeroEpoch(evr string) string {
	e, rest, ok := strings.Cut(evr, ":")
	if ok && strings.Trim(e, "0") == "" && e != "" {
		return rest
	}
	return evr
}
