package modularity

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Stream is one modulemd document: a build of a module stream.
type Stream struct {
	Name    string
	Stream  string
	Version uint64
	Context string
	Arch    string
	// Dependencies are alternatives: the stream can be active when the
	// requirements of any one of them are met.
	Dependencies []Requires
	// Artifacts are the build's packages, as "name-epoch:version-release.arch".
	Artifacts []string
	// Demodularized names packages that left the module: they are no
	// longer filtered as modular.
	Demodularized []string
}

// Requires maps a module name to the streams that satisfy it; an empty
// list accepts any stream, a stream written "-x" excludes x.
type Requires map[string][]string

// Defaults names a module's default stream.
type Defaults struct {
	Module string
	Stream string
}

// Metadata is what modules.yaml files hold.
type Metadata struct {
	Streams  []Stream
	Defaults []Defaults
}

type document struct {
	Document string    `yaml:"document"`
	Version  int       `yaml:"version"`
	Data     yaml.Node `yaml:"data"`
}

type streamData struct {
	Name         string `yaml:"name"`
	Stream       string `yaml:"stream"`
	Version      uint64 `yaml:"version"`
	Context      string `yaml:"context"`
	Arch         string `yaml:"arch"`
	Dependencies []struct {
		Requires map[string][]string `yaml:"requires"`
	} `yaml:"dependencies"`
	Artifacts struct {
		RPMs []string `yaml:"rpms"`
	} `yaml:"artifacts"`
	Demodularized struct {
		RPMs []string `yaml:"rpms"`
	} `yaml:"demodularized"`
}

type defaultsData struct {
	Module string `yaml:"module"`
	Stream string `yaml:"stream"`
}

// Parse reads a modules.yaml stream of documents, keeping modulemd (v2)
// and modulemd-defaults (v1) documents and skipping the others
// (translations, obsoletes). name labels errors.
func Parse(r io.Reader, name string) (*Metadata, error) {
	md := &Metadata{}
	dec := yaml.NewDecoder(io.LimitReader(r, 1<<30))
	for n := 1; ; n++ {
		var doc document
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return md, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, n, err)
		}
		switch doc.Document {
		case "modulemd":
			var s streamData
			if err := doc.Data.Decode(&s); err != nil {
				return nil, fmt.Errorf("%s: document %d (modulemd): %w", name, n, err)
			}
			st := Stream{Name: s.Name, Stream: s.Stream, Version: s.Version, Context: s.Context, Arch: s.Arch,
				Artifacts: s.Artifacts.RPMs, Demodularized: s.Demodularized.RPMs}
			for _, d := range s.Dependencies {
				st.Dependencies = append(st.Dependencies, Requires(d.Requires))
			}
			md.Streams = append(md.Streams, st)
		case "modulemd-defaults":
			var d defaultsData
			if err := doc.Data.Decode(&d); err != nil {
				return nil, fmt.Errorf("%s: document %d (modulemd-defaults): %w", name, n, err)
			}
			md.Defaults = append(md.Defaults, Defaults(d))
		}
	}
}

// Merge appends other's documents.
func (m *Metadata) Merge(other *Metadata) {
	if other != nil {
		m.Streams = append(m.Streams, other.Streams...)
		m.Defaults = append(m.Defaults, other.Defaults...)
	}
}

// State is a module's line in /etc/dnf/modules.d.
type State struct {
	Name   string
	Stream string
	// State is "enabled", "disabled" or "" (use the default stream).
	State string
}

// ReadStates reads the *.module files of dir (a missing dir has none).
func ReadStates(dir string) (map[string]State, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.module"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := map[string]State{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		cur := ""
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			switch {
			case line == "" || line[0] == '#' || line[0] == ';':
			case line[0] == '[' && strings.HasSuffix(line, "]"):
				cur = strings.TrimSpace(line[1 : len(line)-1])
				out[cur] = State{Name: cur}
			case cur != "":
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					continue
				}
				s := out[cur]
				switch strings.TrimSpace(k) {
				case "stream":
					s.Stream = strings.TrimSpace(v)
				case "state":
					s.State = strings.TrimSpace(v)
				}
				out[cur] = s
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	return out, nil
}

// PlatformStream returns the stream of an os-release PLATFORM_ID
// ("platform:f40" gives "f40").
func PlatformStream(platformID string) string {
	_, stream, _ := strings.Cut(platformID, ":")
	return stream
}

// Key identifies an active module build as advisories name it.
type Key struct {
	Name, Stream, Context string
}

// Active returns the module builds dnf treats as active. A module's
// active stream is its enabled stream, or its default stream unless the
// module is disabled. Of that stream's builds for arch (or noarch), dnf
// picks the highest version whose requirements the platform and the
// other active streams meet. Like libdnf, which names v2 builds by their
// requirements without the platform (a "dynamic context"), every build
// of the stream with the same non-platform requirements as the chosen
// one is active with it.
//
// A default stream (one not enabled in the root's module state) is
// installed by libdnf as an optional job that must take the best
// candidate: when the newest build of some dynamic context cannot be
// installed and no other context's newest can, the job is dropped and
// nothing of the stream is active.
func Active(md *Metadata, states map[string]State, platform, arch string) map[Key]bool {
	streamOf := map[string]string{}
	for _, d := range md.Defaults {
		streamOf[d.Module] = d.Stream
	}
	enabled := map[string]bool{}
	for name, s := range states {
		switch s.State {
		case "enabled":
			streamOf[name] = s.Stream
			enabled[name] = true
		case "disabled":
			delete(streamOf, name)
		}
	}
	type nameStream [2]string
	type group struct {
		name    nameStream
		dynamic string
	}
	var builds []Stream
	newest := map[group]uint64{} // the newest version of each dynamic context
	for _, s := range md.Streams {
		if streamOf[s.Name] != s.Stream || (s.Arch != "" && s.Arch != arch && s.Arch != "noarch") {
			continue
		}
		builds = append(builds, s)
		g := group{nameStream{s.Name, s.Stream}, dynamicContext(s)}
		newest[g] = max(newest[g], s.Version)
	}
	chosen := map[nameStream]Stream{}
	for _, s := range builds {
		if !satisfied(s.Dependencies, streamOf, platform) {
			continue
		}
		k := nameStream{s.Name, s.Stream}
		if !enabled[s.Name] && s.Version != newest[group{k, dynamicContext(s)}] {
			continue // not the best candidate of its context
		}
		if c, ok := chosen[k]; !ok || s.Version > c.Version {
			chosen[k] = s
		}
	}
	out := map[Key]bool{}
	for _, s := range builds {
		c, ok := chosen[nameStream{s.Name, s.Stream}]
		if ok && dynamicContext(s) == dynamicContext(c) {
			out[Key{s.Name, s.Stream, s.Context}] = true
		}
	}
	return out
}

// dynamicContext is what libdnf names a v2 build by: its requirements
// without the platform, sorted.
func dynamicContext(s Stream) string {
	var reqs []string
	for _, d := range s.Dependencies {
		for module, streams := range d {
			if module == "platform" {
				continue
			}
			st := append([]string{}, streams...)
			sort.Strings(st)
			reqs = append(reqs, module+":["+strings.Join(st, ",")+"]")
		}
	}
	sort.Strings(reqs)
	return strings.Join(reqs, ";")
}

func satisfied(deps []Requires, streamOf map[string]string, platform string) bool {
	if len(deps) == 0 {
		return true
	}
	for _, d := range deps {
		ok := true
		for module, streams := range d {
			have := streamOf[module]
			if module == "platform" {
				have = platform
			}
			if have == "" || !accepts(streams, have) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// accepts reports whether a modulemd stream list accepts stream.
func accepts(list []string, stream string) bool {
	if len(list) == 0 {
		return true
	}
	positive := false
	for _, s := range list {
		if strings.HasPrefix(s, "-") {
			if s[1:] == stream {
				return false
			}
			continue
		}
		positive = true
		if s == stream {
			return true
		}
	}
	return !positive
}
