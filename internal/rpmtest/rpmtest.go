package rpmtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Tools lists the programs Builder runs.
var Tools = []string{"rpm", "rpmbuild", "createrepo_c", "modifyrepo_c", "setarch"}

// Missing returns the tools that are not installed.
func Missing() []string {
	var out []string
	for _, t := range Tools {
		if _, err := exec.LookPath(t); err != nil {
			out = append(out, t)
		}
	}
	return out
}

// DBPath is where the roots' rpm database lives, as on Fedora.
const DBPath = "/usr/lib/sysimage/rpm"

// Pkg describes an RPM to build.
type Pkg struct {
	Name, Epoch, Version, Release, Arch string
	// Dirs are directories the package owns (for a kernel:
	// /lib/modules/<release>).
	Dirs []string
	// Provides are extra "name = version" provides.
	Provides []string
	// Requires are dependencies ("name" or "name >= version").
	Requires []string
	// Files are files the package installs, by absolute path.
	Files map[string]string
}

// NEVRA names the package as rpm -q prints it.
func (p Pkg) NEVRA() string {
	evr := p.Version + "-" + p.Release
	if p.Epoch != "" {
		evr = p.Epoch + ":" + evr
	}
	return p.Name + "-" + evr + "." + p.Arch
}

func (p Pkg) key() string {
	// Without Requires, the key is what it was before Requires existed,
	// so that cached packages stay valid.
	s := fmt.Sprintf("%q", struct {
		Name, Epoch, Version, Release, Arch string
		Dirs, Provides                      []string
		Files                               map[string]string
	}{p.Name, p.Epoch, p.Version, p.Release, p.Arch, p.Dirs, p.Provides, p.Files})
	if len(p.Requires) > 0 {
		s += fmt.Sprintf("%q", p.Requires)
	}
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// Builder builds RPMs into Dir, once per distinct Pkg.
type Builder struct {
	// Dir caches built RPMs; it may outlive the test run.
	Dir string
	// Home holds the .rpmmacros that points rpm at DBPath; commands run
	// by the builder, and dnf in tests, use it as HOME.
	Home string
	mu   sync.Mutex
}

// NewBuilder prepares a builder caching RPMs under dir.
func NewBuilder(dir string) (*Builder, error) {
	b := &Builder{Dir: dir, Home: filepath.Join(dir, "home")}
	if err := os.MkdirAll(b.Home, 0o755); err != nil {
		return nil, err
	}
	macros := "%_dbpath " + DBPath + "\n"
	if err := os.WriteFile(filepath.Join(b.Home, ".rpmmacros"), []byte(macros), 0o644); err != nil {
		return nil, err
	}
	return b, nil
}

// Env is the environment for rpm tools and dnf.
func (b *Builder) Env() []string {
	env := []string{"HOME=" + b.Home, "LC_ALL=C.UTF-8", "PATH=" + os.Getenv("PATH")}
	return env
}

// RPM runs rpm on the database of the root at dir (rpm --root dir
// --dbpath DBPath args...), for upgrades and erasures after Root.
func (b *Builder) RPM(dir string, args ...string) error {
	return b.run(dir, "rpm", append([]string{"--root", dir, "--dbpath", DBPath}, args...)...)
}

func (b *Builder) run(dir string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = b.Env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return nil
}

const spec = `Name: %{pname}
Version: %{pver}
Release: %{prel}
%{?pepoch:Epoch: %{pepoch}}
Summary: alicorn test package %{pname}
License: MIT
Vendor: alicorn tests
BuildArch: %{parch}
%{?pprovides:Provides: %{pprovides}}
%{?prequires:Requires: %{prequires}}
%description
A package built for alicorn's tests.
%install
mkdir -p %{buildroot}
%{?pdirs:for d in %{pdirs}; do mkdir -p %{buildroot}$d; done}
%{?psrc:cp -a %{psrc}/. %{buildroot}/}
%files %{?pfilelist:-f %{pfilelist}}
%{?pdirs:%{pdirfiles}}
`

// Build returns the path of the RPM for p, building it if needed.
func (b *Builder) Build(p Pkg) (string, error) {
	out := filepath.Join(b.Dir, "rpms", p.key()+"-"+p.NEVRA()+".rpm")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	top, err := os.MkdirTemp(b.Dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(top)
	specFile := filepath.Join(top, "pkg.spec")
	if err := os.WriteFile(specFile, []byte(spec), 0o644); err != nil {
		return "", err
	}
	args := []string{"rpmbuild", "-bb", "--quiet", "--define", "_topdir " + top,
		"--define", "pname " + p.Name, "--define", "pver " + p.Version, "--define", "prel " + p.Release,
		"--define", "parch " + p.Arch, "--target", p.Arch, "--define", "_build_id_links none",
		"--define", "__os_install_post %{nil}"}
	if p.Epoch != "" {
		args = append(args, "--define", "pepoch "+p.Epoch)
	}
	if len(p.Provides) > 0 {
		args = append(args, "--define", "pprovides "+strings.Join(p.Provides, ", "))
	}
	if len(p.Requires) > 0 {
		args = append(args, "--define", "prequires "+strings.Join(p.Requires, ", "))
	}
	if len(p.Dirs) > 0 {
		var files []string
		for _, d := range p.Dirs {
			files = append(files, "%dir "+d)
		}
		args = append(args, "--define", "pdirs "+strings.Join(p.Dirs, " "),
			"--define", "pdirfiles "+strings.Join(files, "\n"))
	}
	if len(p.Files) > 0 {
		src := filepath.Join(top, "src")
		var names []string
		for name, data := range p.Files {
			f := filepath.Join(src, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				return "", err
			}
			if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
				return "", err
			}
			names = append(names, name)
		}
		sort.Strings(names)
		// One path a line in a file list: a macro holds one line only.
		list := filepath.Join(top, "files.list")
		if err := os.WriteFile(list, []byte(strings.Join(names, "\n")+"\n"), 0o644); err != nil {
			return "", err
		}
		args = append(args, "--define", "psrc "+src, "--define", "pfilelist "+list)
	}
	args = append(args, specFile)
	name, rest := args[0], args[1:]
	if p.Arch == "i686" || p.Arch == "i586" || p.Arch == "i386" {
		name, rest = "setarch", append([]string{"i686"}, args...)
	}
	if err := b.run(top, name, rest...); err != nil {
		return "", err
	}
	built, err := filepath.Glob(filepath.Join(top, "RPMS", "*", "*.rpm"))
	if err != nil || len(built) != 1 {
		return "", fmt.Errorf("rpmbuild of %s made %v", p.NEVRA(), built)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	return out, os.Rename(built[0], out)
}

// Root makes an install root at dir whose rpm database records pkgs
// (installed with --justdb: no files are written).
func (b *Builder) Root(dir string, pkgs []Pkg) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := b.run(dir, "rpm", "--root", dir, "--dbpath", DBPath, "--initdb"); err != nil {
		return err
	}
	if len(pkgs) == 0 {
		return nil
	}
	args := []string{"--root", dir, "--dbpath", DBPath, "-i", "--justdb", "--nodeps", "--nosignature",
		"--ignorearch", "--ignoreos", "--replacefiles", "--replacepkgs", "--oldpackage"}
	for _, p := range pkgs {
		f, err := b.Build(p)
		if err != nil {
			return err
		}
		args = append(args, f)
	}
	return b.run(dir, "rpm", args...)
}

// Repo makes a repository at dir holding pkgs and, when updateinfo is not
// nil, that updateinfo.xml compressed as compress (gz, bz2 or xz).
func (b *Builder) Repo(dir string, pkgs []Pkg, updateinfo []byte, compress string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, p := range pkgs {
		f, err := b.Build(p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, p.NEVRA()+".rpm"), data, 0o644); err != nil {
			return err
		}
	}
	if err := b.run(dir, "createrepo_c", "--quiet", "--no-database", dir); err != nil {
		return err
	}
	if updateinfo == nil {
		return nil
	}
	tmp, err := os.MkdirTemp(b.Dir, "ui-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ui := filepath.Join(tmp, "updateinfo.xml")
	if err := os.WriteFile(ui, updateinfo, 0o644); err != nil {
		return err
	}
	if compress == "" {
		compress = "gz"
	}
	return b.run(dir, "modifyrepo_c", "--mdtype=updateinfo", "--compress-type="+compress, ui, filepath.Join(dir, "repodata"))
}

// AddMetadata adds a metadata file of type mdtype (such as "modules",
// named modules.yaml) to a repository made by Repo.
func (b *Builder) AddMetadata(dir, mdtype, name string, data []byte, compress string) error {
	tmp, err := os.MkdirTemp(b.Dir, "md-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	f := filepath.Join(tmp, name)
	if err := os.WriteFile(f, data, 0o644); err != nil {
		return err
	}
	if compress == "" {
		compress = "gz"
	}
	return b.run(dir, "modifyrepo_c", "--mdtype="+mdtype, "--compress-type="+compress, f, filepath.Join(dir, "repodata"))
}
