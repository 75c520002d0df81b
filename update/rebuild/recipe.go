package rebuild

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/alicorn-dev/alicorn/module"
	"github.com/alicorn-dev/alicorn/repo"
)

// ErrResolve is wrapped by the errors of recipes dnf cannot resolve: a
// package no repository has, a dependency none provides, a repository
// that cannot be read.
var ErrResolve = errors.New("dnf could not resolve the recipe")

// Result is what a build from a recipe installed.
type Result struct {
	// Packages are the installed packages, the recipe's and their
	// dependencies, in NEVRA order.
	Packages []Package
	// Created is the image's time, the newest build time of Packages:
	// every mtime in the layer is clamped to it.
	Created time.Time
	// DNF is the dnf command line that resolved and downloaded them.
	DNF []string
}

// Unsigned returns the NEVRAs of the installed packages without an
// OpenPGP signature.
func (r *Result) Unsigned() []string {
	var out []string
	for _, p := range r.Packages {
		if len(p.KeyIDs) == 0 {
			out = append(out, p.NEVRA)
		}
	}
	return out
}

// FromRecipe composes the image of the recipe b under work, an empty (or
// missing) directory that must outlive the image: the layer's file,
// work/layer.tar.gz, is the layer's blob, byte for byte.
//
// dnf resolves b.Packages and their dependencies against an empty root,
// from b.Repos only (base URLs become --repofrompath repositories, .repo
// files the only files of its reposdir; no host configuration, repository,
// variable or plugin is read), without weak dependencies, and downloads
// them. Each downloaded file is then verified with go-rpmutils: its header
// and payload digests, and its NEVRA against the one dnf resolved; dnf's
// own signature check is off (--nogpgcheck) and signatures are only
// reported (Result.Unsigned) until the recipe has keys. rpm installs
// exactly those files, in one transaction, into another empty root, so
// that the image's rpm database (at DBPath) owns every file.
//
// The image has one layer and b's configuration (Entrypoint, Cmd, Ports,
// Labels, StopSignal, WorkingDir). It is reproducible: the same packages
// give the same digest. Its time, every mtime in the layer (clamped) and
// the rpm database's install times derive from the newest package build
// time; entries are sorted, owners numeric. b.Containerfile is applied by
// Builder.Layers, and the image published by update/publish.
func FromRecipe(ctx context.Context, work string, b module.Build) (v1.Image, *Result, error) {
	if len(b.Packages) == 0 {
		return nil, nil, fmt.Errorf("%w: the recipe names no packages", ErrResolve)
	}
	// A file left by another build would be taken for a download.
	if entries, err := os.ReadDir(work); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	} else if len(entries) > 0 {
		return nil, nil, fmt.Errorf("work directory %s is not empty", work)
	}
	keys, err := Keys(b, repo.Vars{"releasever": b.Releasever, "basearch": repo.BaseArch(goArchRPM()), "arch": goArchRPM()})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrVerify, err)
	}
	resolved, argv, err := download(ctx, work, b)
	if err != nil {
		return nil, nil, err
	}
	pkgs, err := verifyDownloads(filepath.Join(work, "rpms"), resolved, keys)
	if err != nil {
		return nil, nil, err
	}
	img, created, err := installImage(ctx, work, pkgs, "dnf install "+strings.Join(b.Packages, " "), recipeConfig(b))
	if err != nil {
		return nil, nil, err
	}
	return img, &Result{Packages: pkgs, Created: created, DNF: argv}, nil
}

// recipeConfig is what the recipe's image runs.
func recipeConfig(b module.Build) Config {
	c := Config{Entrypoint: b.Entrypoint, Cmd: b.Cmd, Labels: b.Labels, StopSignal: b.StopSignal, WorkingDir: b.WorkingDir}
	for _, p := range b.Ports {
		if !strings.Contains(p, "/") {
			p += "/tcp"
		}
		c.ExposedPorts = append(c.ExposedPorts, p)
	}
	return c
}

// resolvedRE is dnf's -v line for each package of the transaction.
var resolvedRE = regexp.MustCompile(`^---> Package (\S+)\.([^.\s]+) (?:(\d+):)?(\S+)-(\S+) will be installed$`)

// download runs dnf for b, downloading into work/rpms, and returns the
// NEVRAs dnf resolved and its command line.
func download(ctx context.Context, work string, b module.Build) (map[string]bool, []string, error) {
	d := func(names ...string) string { return filepath.Join(append([]string{work, "dnf"}, names...)...) }
	rpms := filepath.Join(work, "rpms")
	for _, dir := range []string{d("root"), d("repos.d"), d("vars"), d("log"), d("cache"), d("home"), rpms} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, err
		}
	}
	// dnf reads a configuration file even when told which one; an empty
	// [main] leaves every option at dnf's default but those set below.
	conf := d("dnf.conf")
	if err := os.WriteFile(conf, []byte("[main]\n"), 0o644); err != nil {
		return nil, nil, err
	}
	argv := []string{"dnf", "-v", "-y", "--config=" + conf, "--installroot=" + d("root"), "--noplugins",
		"--setopt=reposdir=" + d("repos.d"), "--setopt=varsdir=" + d("vars"),
		"--setopt=cachedir=" + d("cache"), "--setopt=logdir=" + d("log"),
		"--setopt=install_weak_deps=False", "--nogpgcheck"}
	if b.Releasever != "" {
		argv = append(argv, "--releasever="+b.Releasever)
	}
	for i, r := range b.Repos {
		if strings.Contains(r, "://") {
			argv = append(argv, fmt.Sprintf("--repofrompath=recipe-%d,%s", i, r))
			continue
		}
		data, err := os.ReadFile(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrResolve, err)
		}
		name := fmt.Sprintf("%02d-%s", i, filepath.Base(r))
		if err := os.WriteFile(d("repos.d", name), data, 0o644); err != nil {
			return nil, nil, err
		}
	}
	argv = append(argv, "install", "--downloadonly", "--downloaddir="+rpms, "--")
	argv = append(argv, b.Packages...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// Nothing of the host's: no DNF_VAR_* variables (the environment is
	// new), no aliases from /etc/dnf/aliases.d (which could rewrite the
	// command), no plugins; the configuration, reposdir and varsdir are
	// work's. What dnf writes (its cache, logs, history, an rpm database
	// under HOME) lands in work/dnf.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + d("home"), "LC_ALL=C.UTF-8", "DNF_DISABLE_ALIASES=1"}
	for _, k := range []string{"http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, argv, fmt.Errorf("%w: %w: %s", ErrResolve, err, dnfErrors(stdout.String(), stderr.String()))
	}
	resolved := map[string]bool{}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if m := resolvedRE.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			resolved[nevra(m[1], m[3], m[4], m[5], m[2])] = true
		}
	}
	if len(resolved) == 0 {
		return nil, argv, fmt.Errorf("%w: dnf resolved no packages: %s", ErrResolve, dnfErrors(stdout.String(), stderr.String()))
	}
	return resolved, argv, nil
}

// dnfErrors picks dnf's explanations out of its output: the problems it
// found and its error lines, or else the end of stderr.
func dnfErrors(stdout, stderr string) string {
	var out []string
	for _, l := range strings.Split(stdout+"\n"+stderr, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "No match for argument") || strings.HasPrefix(l, "Error") ||
			strings.HasPrefix(l, "Problem") || strings.HasPrefix(l, "Package \"") || strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "Failed") ||
			strings.HasPrefix(l, "Curl error") || strings.HasPrefix(l, "Status code") {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		s := strings.TrimSpace(stderr)
		if len(s) > 2000 {
			s = s[len(s)-2000:]
		}
		return s
	}
	return strings.Join(out, "; ")
}

// verifyDownloads verifies every package file in dir and checks that they
// are exactly the packages dnf resolved, one file each.
func verifyDownloads(dir string, resolved map[string]bool, keys openpgp.EntityList) ([]Package, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	var pkgs []Package
	var errs []error
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".rpm") {
			continue
		}
		p, err := verifyRPM(filepath.Join(dir, e.Name()), keys)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch {
		case !resolved[p.NEVRA]:
			errs = append(errs, fmt.Errorf("%w: %s: the file holds %s, which dnf did not resolve", ErrVerify, p.File, p.NEVRA))
		case seen[p.NEVRA] != "":
			errs = append(errs, fmt.Errorf("%w: %s and %s both hold %s", ErrVerify, seen[p.NEVRA], p.File, p.NEVRA))
		default:
			seen[p.NEVRA] = p.File
			pkgs = append(pkgs, p)
		}
	}
	var missing []string
	for n := range resolved {
		if seen[n] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 && len(errs) == 0 {
		sort.Strings(missing)
		errs = append(errs, fmt.Errorf("%w: dnf resolved %s but downloaded no file holding it", ErrVerify, strings.Join(missing, ", ")))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].NEVRA < pkgs[j].NEVRA })
	return pkgs, nil
}
