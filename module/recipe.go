package module

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Build is a module's recipe: how its image is composed from RPMs (and
// optional Containerfile layers) and where it is published. A module
// without one is only reported and rolled out, never rebuilt.
type Build struct {
	// Packages are installed, with their dependencies, by dnf into an
	// empty root: the image's rpm database owns every RPM file.
	Packages []string `toml:"packages"`
	// Repos are the repositories packages and advisories come from:
	// base URLs (file://, http://, https://) or .repo files.
	Repos []string `toml:"repos"`
	// Releasever is dnf's $releasever for the repositories ("" when they
	// do not use it).
	Releasever string `toml:"releasever"`
	// Publish is the repository the image is pushed to
	// (docker://HOST/REPO), Tag the moving tag the module's image names.
	Publish string `toml:"publish"`
	Tag     string `toml:"tag"`
	// Containerfile, when set, builds layers on top of the composed
	// image with podman (FROM the composed image).
	Containerfile string `toml:"containerfile"`
	// SignKey, when set, is the sigstore private key every push is
	// signed with.
	SignKey string `toml:"sign-key"`
	// GPGKeys are files of OpenPGP public keys (ASCII-armored, as rpm
	// imports them): with any, from here or from the gpgkey= of .repo
	// files that set gpgcheck, every package must be signed by one.
	GPGKeys []string `toml:"gpgkeys"`
	// What the image runs: as in an OCI image configuration. Ports are
	// "PORT/PROTO" ("80/tcp"; "80" means tcp).
	Entrypoint []string          `toml:"entrypoint"`
	Cmd        []string          `toml:"cmd"`
	Ports      []string          `toml:"ports"`
	Labels     map[string]string `toml:"labels"`
	StopSignal string            `toml:"stop-signal"`
	WorkingDir string            `toml:"working-dir"`
}

// Test is how a candidate image is tested before it is published: every
// file under Content, mounted at Mount, must come out over HTTP byte for
// byte, then Command, if any, must succeed in the container.
type Test struct {
	Content string   `toml:"content"`
	Mount   string   `toml:"mount"`
	Command []string `toml:"command"`
}

// Reference returns the image the recipe publishes under its moving tag,
// as the module's image names it: docker://HOST/REPO:TAG.
func (b *Build) Reference() string { return b.Publish + ":" + b.Tag }

// Repository returns Publish without its transport: HOST/REPO.
func (b *Build) Repository() string { return strings.TrimPrefix(b.Publish, "docker://") }

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

func (b *Build) empty() bool {
	return len(b.Packages) == 0 && len(b.Repos) == 0 && b.Publish == "" && b.Tag == "" && b.Containerfile == "" &&
		b.SignKey == "" && len(b.Entrypoint) == 0 && len(b.Cmd) == 0 && len(b.Ports) == 0 && len(b.Labels) == 0 &&
		b.StopSignal == "" && b.WorkingDir == "" && b.Releasever == "" && len(b.GPGKeys) == 0
}

// validate checks a recipe; image is the module's image, which must be
// the one the recipe publishes.
func (b *Build) validate(image string) error {
	if len(b.Packages) == 0 {
		return fmt.Errorf("[build] names no packages")
	}
	for _, p := range b.Packages {
		if p == "" || strings.ContainsAny(p, " \t\n'\"") || strings.HasPrefix(p, "-") {
			return fmt.Errorf("[build] package %q: a package name or spec, without spaces", p)
		}
	}
	if len(b.Repos) == 0 {
		return fmt.Errorf("[build] names no repos (base URLs or .repo files)")
	}
	for _, r := range b.Repos {
		if err := checkRepo(r); err != nil {
			return fmt.Errorf("[build] repo %q: %w", r, err)
		}
	}
	repo, ok := strings.CutPrefix(b.Publish, "docker://")
	if !ok {
		return fmt.Errorf("[build] publish %q: a registry repository, docker://HOST/REPO", b.Publish)
	}
	if _, err := name.NewRepository(repo, name.StrictValidation); err != nil || strings.Contains(repo, "@") {
		return fmt.Errorf("[build] publish %q: a registry repository, docker://HOST/REPO, without tag or digest", b.Publish)
	}
	if !tagRE.MatchString(b.Tag) {
		return fmt.Errorf("[build] tag %q: letters, digits, '_', '.' and '-', up to 128", b.Tag)
	}
	if image != b.Reference() {
		return fmt.Errorf("[build] publishes %s, but the module's image is %s", b.Reference(), image)
	}
	for _, p := range b.Ports {
		port, proto, _ := strings.Cut(p, "/")
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || proto != "" && proto != "tcp" && proto != "udp" {
			return fmt.Errorf("[build] port %q: PORT or PORT/tcp or PORT/udp", p)
		}
	}
	if b.WorkingDir != "" && !path.IsAbs(b.WorkingDir) {
		return fmt.Errorf("[build] working-dir %q must be absolute", b.WorkingDir)
	}
	return nil
}

// checkRepo accepts a base URL or a .repo file's path.
func checkRepo(r string) error {
	if strings.HasSuffix(r, ".repo") && !strings.Contains(r, "://") {
		return nil
	}
	u, err := url.Parse(r)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "file", "http", "https":
		if u.Scheme != "file" && u.Host == "" || u.Scheme == "file" && u.Path == "" {
			return fmt.Errorf("a URL without a host or path")
		}
		return nil
	}
	return fmt.Errorf("a file://, http:// or https:// base URL, or a .repo file")
}

func (t *Test) empty() bool { return t.Content == "" && t.Mount == "" && len(t.Command) == 0 }

func (t *Test) validate() error {
	if t.Content == "" && len(t.Command) == 0 {
		return fmt.Errorf("[test] has neither content nor command")
	}
	if t.Content != "" && !path.IsAbs(t.Mount) {
		return fmt.Errorf("[test] mount %q: the absolute path the content is mounted at", t.Mount)
	}
	return nil
}

// resolve makes the recipe's and test's relative paths relative to dir,
// the module file's directory.
func (m *Module) resolve(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&m.Build.Containerfile)
	abs(&m.Build.SignKey)
	abs(&m.Test.Content)
	for i := range m.Build.GPGKeys {
		abs(&m.Build.GPGKeys[i])
	}
	for i := range m.Build.Repos {
		if !strings.Contains(m.Build.Repos[i], "://") {
			abs(&m.Build.Repos[i])
		}
	}
	for i := range m.OSV {
		abs(&m.OSV[i])
	}
}
