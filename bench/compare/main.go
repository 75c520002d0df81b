// Command compare times dnf-security against dnf 4.14 (and our rpmdb
// reader against rpm -qa) on the same inputs, side by side, and prints
// ratios: a host with 2,000 installed packages and a repository with
// 20,000 advisories, as updateinfo.xml.zst (Fedora's format since 2025)
// and .xz. Each pair of commands runs -runs times, alternately; the
// median wall times, the median of the per-pair speed-ups and the largest
// peak RSS are reported. "cold" empties the metadata cache before
// every run, "warm" keeps it.
//
//	go run ./bench/compare [-runs 5] [-dir DIR]
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/alicorn-dev/alicorn/internal/benchutil"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
	"github.com/alicorn-dev/alicorn/inventory/rpmdb"
)

const (
	installed  = 2000
	advisories = 20000
)

func main() {
	runs := flag.Int("runs", 5, "runs of each command")
	dir := flag.String("dir", "", "fixture directory (default: the user cache directory)")
	qa := flag.String("rpmqa", "", "internal: print the packages of the rpmdb under this root and exit")
	prep := flag.Bool("prepare", false, "internal: build the fixtures and exit")
	flag.Parse()
	if *qa != "" {
		os.Exit(rpmqa(*qa))
	}
	if *prep {
		if _, err := prepare(*dir); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*runs, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// rpmqa is our side of the rpm -qa comparison.
func rpmqa(root string) int {
	pkgs, err := rpmdb.Read(context.Background(), root, rpmdb.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var b bytes.Buffer
	for _, p := range pkgs {
		b.WriteString(p.NEVRA())
		b.WriteByte('\n')
	}
	os.Stdout.Write(b.Bytes())
	return 0
}

type fixture struct {
	root    string
	repos   map[string]string // "zst", "xz" -> repository directory
	builder *rpmtest.Builder
}

// fixtureOf names the fixture's parts under dir.
func fixtureOf(dir string) (*fixture, error) {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(base, "alicorn-bench")
	}
	b, err := rpmtest.NewBuilder(filepath.Join(dir, "rpms"))
	if err != nil {
		return nil, err
	}
	f := &fixture{root: filepath.Join(dir, "host"), builder: b,
		repos: map[string]string{"xz": filepath.Join(dir, "repo-xz"), "zst": filepath.Join(dir, "repo-zst")}}
	return f, nil
}

func prepare(dir string) (*fixture, error) {
	f, err := fixtureOf(dir)
	if err != nil {
		return nil, err
	}
	b := f.builder
	files, err := b.BuildMany("bpkg", installed)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(f.root, rpmtest.DBPath, "rpmdb.sqlite")); err != nil {
		os.RemoveAll(f.root)
		if err := b.RootFromFiles(f.root, files); err != nil {
			return nil, err
		}
	}
	var names []string
	for i := range installed {
		names = append(names, fmt.Sprintf("bpkg%04d", i))
	}
	var ui bytes.Buffer
	if err := rpmtest.WriteUpdateinfo(&ui, advisories, names, 2026); err != nil {
		return nil, err
	}
	for _, kind := range []string{"xz", "zst"} {
		rd := f.repos[kind]
		if _, err := os.Stat(filepath.Join(rd, "repodata", "repomd.xml")); err == nil {
			continue
		}
		os.RemoveAll(rd)
		if kind == "xz" {
			if err := b.Repo(rd, nil, ui.Bytes(), "xz"); err != nil {
				return nil, err
			}
			continue
		}
		if err := b.Repo(rd, nil, nil, ""); err != nil {
			return nil, err
		}
		if err := addZstd(rd, ui.Bytes()); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// addZstd adds updateinfo.xml.zst to a repository by hand: Debian's
// modifyrepo_c cannot write zstd.
func addZstd(repoDir string, xml []byte) error {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		return err
	}
	z := enc.EncodeAll(xml, nil)
	sum := sha256.Sum256(z)
	open := sha256.Sum256(xml)
	name := hex.EncodeToString(sum[:]) + "-updateinfo.xml.zst"
	if err := os.WriteFile(filepath.Join(repoDir, "repodata", name), z, 0o644); err != nil {
		return err
	}
	mdPath := filepath.Join(repoDir, "repodata", "repomd.xml")
	md, err := os.ReadFile(mdPath)
	if err != nil {
		return err
	}
	entry := fmt.Sprintf(`  <data type="updateinfo">
    <checksum type="sha256">%x</checksum>
    <open-checksum type="sha256">%x</open-checksum>
    <location href="repodata/%s"/>
    <timestamp>%d</timestamp>
    <size>%d</size>
    <open-size>%d</open-size>
  </data>
</repomd>`, sum, open, name, time.Now().Unix(), len(z), len(xml))
	md = bytes.Replace(md, []byte("</repomd>"), []byte(entry), 1)
	return os.WriteFile(mdPath, md, 0o644)
}

func run(runs int, dir string) error {
	for _, t := range append(rpmtest.Tools, "dnf") {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s is missing: apt-get install dnf rpm createrepo-c util-linux", t)
		}
	}
	fmt.Println("preparing fixtures (cached after the first run)...")
	// A child inherits its parent's peak RSS in its own, so the fixtures
	// (25 MB of XML) are made by a child process and this one stays small.
	self, _ := os.Executable()
	prep := exec.Command(self, "-prepare", "-dir", dir)
	prep.Stdout, prep.Stderr = os.Stdout, os.Stderr
	if err := prep.Run(); err != nil {
		return fmt.Errorf("preparing fixtures: %w", err)
	}
	f, err := fixtureOf(dir)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "alicorn-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ours := filepath.Join(tmp, "dnf-security")
	// Built as the README advises: static, which starts 5 ms sooner than
	// a binary that loads libc.
	build := exec.Command("go", "build", "-o", ours, "./examples/dnf-security")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building dnf-security: %w", err)
	}
	env := append(f.builder.Env(), "TZ=UTC")

	fmt.Printf("\nhost: %d installed packages; repository: %d advisories; %d runs each, median wall time, peak RSS\n\n",
		installed, advisories, runs)
	fmt.Printf("%-34s %10s %10s %8s %10s %10s %8s\n", "case", "dnf", "ours", "speedup", "dnf RSS", "our RSS", "RSS %")
	for _, kind := range []string{"zst", "xz"} {
		dnfCache := filepath.Join(tmp, "dnf-cache-"+kind)
		ourCache := filepath.Join(tmp, "our-cache-"+kind)
		args := []string{"--installroot=" + f.root, "--releasever=40", "--setopt=reposdir=/nonexistent",
			"--repofrompath=bench,file://" + f.repos[kind], "--disableplugin=*", "-q"}
		cmd := []string{"updateinfo", "list", "--security"}
		dnfArgs := append(append(append([]string{}, args...), "--setopt=cachedir="+dnfCache), cmd...)
		ourArgs := append(append(append([]string{}, args...), "--setopt=cachedir="+ourCache), cmd...)
		// dnf keeps its cache inside the installroot.
		clearDNF := func() { os.RemoveAll(filepath.Join(f.root, dnfCache)); os.RemoveAll(dnfCache) }
		clearOurs := func() { os.RemoveAll(ourCache) }
		for _, warm := range []bool{false, true} {
			bd, bo := clearDNF, clearOurs
			label := "cold"
			if warm {
				bd, bo, label = nil, nil, "warm"
				// one run to fill the caches
				if _, err := benchutil.Run(env, "dnf", dnfArgs...); err != nil {
					return err
				}
				if _, err := benchutil.Run(env, ours, ourArgs...); err != nil {
					return err
				}
			}
			d, o, speedup, err := benchutil.Paired(runs, env, benchutil.Side{Before: bd, Name: "dnf", Args: dnfArgs}, benchutil.Side{Before: bo, Name: ours, Args: ourArgs})
			if err != nil {
				return err
			}
			same := "same output"
			if !bytes.Equal(d.Out, o.Out) {
				same = "OUTPUT DIFFERS"
			}
			row(fmt.Sprintf("list --security, %s, %s", kind, label), d, o, speedup)
			fmt.Printf("    (%d lines, %s)\n", bytes.Count(o.Out, []byte("\n")), same)
		}
	}
	d, o, speedup, err := benchutil.Paired(runs, env,
		benchutil.Side{Name: "rpm", Args: []string{"--root", f.root, "--dbpath", rpmtest.DBPath, "-qa"}},
		benchutil.Side{Name: self, Args: []string{"-rpmqa", f.root}})
	if err != nil {
		return err
	}
	row("rpmdb read: rpm -qa vs rpmdb.Read", d, o, speedup)
	fmt.Println("\ntargets: zst cold >= 6x, zst warm >= 12x, peak RSS under a third (33%) of dnf's")
	fmt.Println(load())
	return nil
}

// load describes how busy the machine was: dnf-security parses on every
// core and dnf on one, so a machine others keep busy narrows the gap.
func load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return fmt.Sprintf("load average (1, 5, 15 min) at the end: %s %s %s on %d CPUs", f[0], f[1], f[2], runtime.NumCPU())
}

func row(name string, d, o benchutil.Result, speedup float64) {
	fmt.Printf("%-34s %9.3fs %9.3fs %7.1fx %8.1fMB %8.1fMB %7.0f%%\n", name, d.Wall.Seconds(), o.Wall.Seconds(),
		speedup, float64(d.RSS)/1024, float64(o.RSS)/1024, 100*float64(o.RSS)/float64(d.RSS))
}
