// Command probes runs the reliability probes of issue 9 against one or
// more builds of the reporter, examples/dnf-security, and prints a
// Markdown table: for every probe and binary, the exit status (or
// "killed at N s" when the run reached the cap), the wall time, the
// reporter's peak RSS, the most bytes its TMPDIR held at once (sampled
// every 10 ms), the bytes left there after it ended, and the first line
// of its stderr.
//
//	go build -o /tmp/new/dnf-security ./examples/dnf-security   # and the old one, at its commit
//	go run ./bench/probes -bin before=/tmp/old/dnf-security -bin after=/tmp/new/dnf-security \
//	    [-cap 120s] [-dir DIR] [-run REGEXP] [-scale N]
//
// The inputs are hostile images from internal/hostile, each on a base
// layer holding an rpm database (alpha installed); an rpm root for the
// host (the modules' and the stalled mirror's); a repository on disk with
// one advisory for alpha (without a repository the reporter stops before
// it reads an image); an OSV feed of one advisory; a mirror that accepts
// and never answers. A child process generates them under DIR (about
// 30 MB, a minute): on Linux a process keeps the peak RSS of the memory
// exec replaced, and Go starts commands with vfork, so a reporter started
// by a process that had grown large while generating would report that
// process's peak. This one stays small. With -dir the inputs are kept and
// reused by later runs; without, they are made in a temporary directory,
// removed at the end. Every run has a fresh TMPDIR, cache and HOME. Two
// binaries take about 10 minutes, the cap bounding the slow ones. -run
// selects probes by name; -scale divides every size, for a quick try of
// the command. It needs rpm, rpmbuild and createrepo_c.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/alicorn-dev/alicorn/internal/hostile"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

func main() {
	var bins []binary
	flag.Func("bin", "NAME=PATH of a reporter to probe (repeat it)", func(s string) error {
		name, path, ok := strings.Cut(s, "=")
		if !ok || name == "" || path == "" {
			return fmt.Errorf("want NAME=PATH, got %q", s)
		}
		bins = append(bins, binary{name, path})
		return nil
	})
	limit := flag.Duration("cap", 120*time.Second, "longest run: a run still going is killed")
	dir := flag.String("dir", "", "input directory, kept and reused (default: a temporary one)")
	only := flag.String("run", "", "run only the probes whose name matches this regular expression")
	scale := flag.Int("scale", 1, "divide every size by this (a quick try)")
	gen := flag.String("gen", "", "internal: generate the inputs under this directory and exit")
	flag.Parse()
	sel, err := regexp.Compile(*only)
	if err == nil && *scale < 1 {
		err = errors.New("-scale must be at least 1")
	}
	if err == nil {
		ps := selected(probes(*scale), sel)
		if *gen != "" {
			err = generate(*gen, ps)
		} else {
			err = run(bins, ps, *dir, *limit, *only, *scale)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "probes:", err)
		os.Exit(1)
	}
}

type binary struct{ name, path string }

// probe is one hostile input and how the reporter reads it.
type probe struct {
	name string
	// input names the generated image (a layout directory under the
	// inputs'); gen writes it at dir on the base layer.
	input string
	gen   func(dir, scratch string, base []hostile.Entry) error
	feeds bool // --osv: jars are scanned for
	// modules, when set, reads the image as that many modules' (files
	// in a --modules-dir) on the host root, else through --image.
	modules int
	// stall reads the host root with its only repository on a mirror that
	// accepts and never answers.
	stall bool
}

const (
	mib = 1 << 20
	// feed is the OSV advisory of the probes' feed.
	feed = `{"id":"GHSA-x","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Maven","name":"big:jar"},` +
		`"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2"}]}]}]}`
)

// probes are the probes of the issue, every size divided by scale.
func probes(scale int) []probe {
	n := func(v int) int { return max(v/scale, 1) }
	b := func(v int64) int64 { return max(v/int64(scale), 1) }
	layout := func(more ...hostile.Entry) func(string, string, []hostile.Entry) error {
		return func(dir, _ string, base []hostile.Entry) error {
			_, err := hostile.WriteLayout(dir, base, more)
			return err
		}
	}
	// fromFile writes a file with write, then the image of it at name.
	fromFile := func(name string, write func(io.Writer) error) func(string, string, []hostile.Entry) error {
		return func(dir, scratch string, base []hostile.Entry) error {
			p := filepath.Join(scratch, filepath.Base(name))
			if err := writeFile(p, write); err != nil {
				return err
			}
			defer os.Remove(p)
			_, err := hostile.WriteLayout(dir, base, []hostile.Entry{{Name: name, File: p}})
			return err
		}
	}
	deep := func(parts int) func(string, string, []hostile.Entry) error {
		return layout(hostile.Entry{Name: hostile.DeepName(parts), Data: []byte("deep")})
	}
	bomb := hostile.Bomb{Depth: 1, Fanout: 4, Size: b(256 * mib)}
	dirBomb := hostile.Bomb{Fanout: 2, Entries: n(2_000_000)}
	dirBombImage := fromFile("opt/app/dirs.jar", dirBomb.Write)
	many := func(dir, _ string, base []hostile.Entry) error {
		files := make([]hostile.Entry, n(2_000_000))
		for i := range files {
			files[i] = hostile.Entry{Name: fmt.Sprintf("usr/share/many/%d", i)}
		}
		_, err := hostile.WriteLayout(dir, base, files)
		return err
	}
	return []probe{
		{name: fmt.Sprintf("1a deep path, %d parts, no feeds", n(100_000)), input: "deep-100k", gen: deep(n(100_000))},
		{name: fmt.Sprintf("1b deep path, %d parts, no feeds", n(500_000)), input: "deep-500k", gen: deep(n(500_000))},
		{name: fmt.Sprintf("2 deep path, %d parts, --osv", n(20_000)), input: "deep-20k", gen: deep(n(20_000)), feeds: true},
		{name: fmt.Sprintf("3 real jar of %d MiB, --osv", b(300*mib)>>20), input: "large-jar", feeds: true,
			gen: fromFile("usr/share/app/big.jar", func(w io.Writer) error { return hostile.LargeJar(w, b(300*mib)) })},
		{name: fmt.Sprintf("4 zeros named big.jar, %d MiB, --osv", b(300*mib)>>20), input: "zero-jar", feeds: true,
			gen: layout(hostile.Entry{Name: "usr/share/app/big.jar", Zeros: b(300 * mib)})},
		{name: fmt.Sprintf("5a nested-jar bomb (%d MiB inflated), --osv", bomb.Inflated()>>20), input: "bomb", feeds: true,
			gen: fromFile("opt/app/bomb.jar", bomb.Write)},
		{name: fmt.Sprintf("5b directory bomb (2 × %d entries), --osv", dirBomb.Entries), input: "dir-bomb", feeds: true,
			gen: dirBombImage},
		{name: "5c four modules of the directory bomb, --osv", input: "dir-bomb", feeds: true, modules: 4,
			gen: dirBombImage},
		{name: fmt.Sprintf("6 three zero-filled rpm databases of %d MiB", b(256*mib)>>20), input: "zero-rpmdbs",
			gen: layout(hostile.Entry{Name: "usr/lib/sysimage/rpm/rpmdb.sqlite", Zeros: b(256 * mib)},
				hostile.Entry{Name: "var/lib/rpm/Packages", Zeros: b(256 * mib)},
				hostile.Entry{Name: "var/lib/rpm/Packages.db", Zeros: b(256 * mib)})},
		{name: fmt.Sprintf("7 fifteen zero-filled jars of %d MiB, --osv", b(256*mib)>>20), input: "zero-jars", feeds: true,
			gen: layout(hostile.ZeroJars("usr/share/app", 15, b(256*mib))...)},
		{name: fmt.Sprintf("8 %d empty files, no feeds", n(2_000_000)), input: "many-files", gen: many},
		{name: "9 stalled mirror (accepts, never answers)", stall: true},
	}
}

func selected(ps []probe, sel *regexp.Regexp) []probe {
	var out []probe
	for _, p := range ps {
		if sel.MatchString(p.name) {
			out = append(out, p)
		}
	}
	return out
}

func writeFile(p string, write func(io.Writer) error) (err error) {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	return write(f)
}

// Where generate puts the inputs under its directory.
const (
	hostRoot  = "host"   // the host's root: alpha installed
	imageRoot = "image"  // the base layer's root: alpha installed, os-release
	osvDir    = "osv"    // the feed
	repoDir   = "repo"   // the repository: rpmtest.OneAdvisory, for alpha
	inputsDir = "inputs" // the images, each with NAME.done beside it when whole
	rpmsDir   = "rpms"   // rpmtest's cache of built RPMs
)

// generate writes the inputs of ps under dir, those not written already.
func generate(dir string, ps []probe) error {
	b, err := rpmtest.NewBuilder(filepath.Join(dir, rpmsDir))
	if err != nil {
		return err
	}
	alpha := []rpmtest.Pkg{{Name: "alpha", Version: "1.0", Release: "1", Arch: "x86_64"}}
	for _, root := range []string{hostRoot, imageRoot} {
		p := filepath.Join(dir, root)
		if _, err := os.Stat(filepath.Join(p, rpmtest.DBPath, "rpmdb.sqlite")); err == nil {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return err
		}
		if err := b.Root(p, alpha); err != nil {
			return fmt.Errorf("the root %s: %w", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, repoDir, "repodata", "repomd.xml")); err != nil {
		if err := os.RemoveAll(filepath.Join(dir, repoDir)); err != nil {
			return err
		}
		if err := b.Repo(filepath.Join(dir, repoDir), nil, []byte(rpmtest.OneAdvisory), "gz"); err != nil {
			return fmt.Errorf("the repository: %w", err)
		}
	}
	osRelease := filepath.Join(dir, imageRoot, "usr/lib/os-release")
	if err := os.MkdirAll(filepath.Dir(osRelease), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(osRelease, []byte("NAME=Fedora\nID=fedora\nVERSION_ID=40\nPLATFORM_ID=\"platform:f40\"\n"), 0o644); err != nil {
		return err
	}
	base, err := hostile.FromDir(filepath.Join(dir, imageRoot))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, osvDir), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, osvDir, "GHSA-x.json"), []byte(feed), 0o644); err != nil {
		return err
	}
	inputs := filepath.Join(dir, inputsDir)
	if err := os.MkdirAll(inputs, 0o755); err != nil {
		return err
	}
	for _, p := range ps {
		if p.input == "" {
			continue
		}
		at := filepath.Join(inputs, p.input)
		if _, err := os.Stat(at + ".done"); err == nil {
			continue
		}
		fmt.Fprintf(os.Stderr, "generating %s...\n", p.input)
		began := time.Now()
		if err := os.RemoveAll(at); err != nil {
			return err
		}
		if err := p.gen(at, inputs, base); err != nil {
			return fmt.Errorf("%s: %w", p.input, err)
		}
		if err := os.WriteFile(at+".done", nil, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "  %s in %v, %s on disk\n", p.input, time.Since(began).Round(time.Second), size(dirBytes(at)))
	}
	return nil
}

func run(bins []binary, ps []probe, dir string, limit time.Duration, only string, scale int) error {
	if len(bins) == 0 {
		return errors.New("no reporter to probe: give -bin NAME=PATH, once or more")
	}
	for i, b := range bins {
		abs, err := filepath.Abs(b.path)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("-bin %s: %w", b.name, err)
		}
		bins[i].path = abs
	}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "alicorn-probes-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	gen := exec.Command(self, "-gen", dir, "-run", only, "-scale", fmt.Sprint(scale))
	gen.Stdout, gen.Stderr = os.Stderr, os.Stderr
	if err := gen.Run(); err != nil {
		return fmt.Errorf("generating the inputs: %w", err)
	}
	var stall *hostile.Server
	for _, p := range ps {
		if p.stall && stall == nil {
			if stall, err = hostile.NewServer(hostile.NoAnswer, nil, ""); err != nil {
				return err
			}
			defer stall.Close()
		}
	}
	runs := filepath.Join(dir, "runs")
	var rows []row
	for _, p := range ps {
		args, err := argsOf(p, dir, stall)
		if err != nil {
			return err
		}
		for _, b := range bins {
			runDir := filepath.Join(runs, fmt.Sprintf("%d", len(rows)))
			r, err := measure(b.path, args, runDir, limit)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", p.name, b.name, err)
			}
			if err := os.RemoveAll(runDir); err != nil {
				return err
			}
			r.stderr = shorten(r.stderr, dir)
			rw := row{probe: p.name, bin: b.name, result: r}
			fmt.Fprintln(os.Stderr, rw.String())
			rows = append(rows, rw)
		}
	}
	fmt.Printf("issue-9 probes, cap %v a run, %d CPUs, %s\n\n", limit, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	fmt.Print(table(rows))
	fmt.Println("\nstderr: \"dnf-security: \" left out, paths relative to the input directory, digests cut to 12 hex digits")
	return nil
}

// shorten leaves out of a reporter's stderr what takes the room of what
// it says: the program's name, the input directory (paths are relative
// to it), all but 12 hex digits of digests.
func shorten(stderr, dir string) string {
	stderr = strings.ReplaceAll(stderr, "dnf-security: ", "")
	stderr = strings.ReplaceAll(stderr, dir+"/", "")
	digest := regexp.MustCompile(`(sha256:[0-9a-f]{12})[0-9a-f]{52}`)
	return digest.ReplaceAllString(stderr, "$1")
}

// argsOf returns the reporter's arguments for p (before the common ones
// measure adds), writing its module files.
func argsOf(p probe, dir string, stall *hostile.Server) ([]string, error) {
	host := "--installroot=" + filepath.Join(dir, hostRoot)
	// The reporter checks images only when it has a repository.
	args := []string{"--repofrompath=local,file://" + filepath.Join(dir, repoDir)}
	ref := "oci:" + filepath.Join(dir, inputsDir, p.input)
	switch {
	case p.stall:
		args = []string{host, "--repofrompath=stall," + stall.URL + "/"}
	case p.modules > 0:
		mods := filepath.Join(dir, "modules", fmt.Sprintf("%s-%d", p.input, p.modules))
		if err := os.MkdirAll(mods, 0o755); err != nil {
			return nil, err
		}
		for i := range p.modules {
			toml := fmt.Sprintf("name = \"m%d\"\nimage = %q\n", i, ref)
			if err := os.WriteFile(filepath.Join(mods, fmt.Sprintf("m%d.toml", i)), []byte(toml), 0o644); err != nil {
				return nil, err
			}
		}
		args = append(args, host, "--modules-dir="+mods)
	default:
		args = append(args, "--image="+ref)
	}
	if p.feeds {
		args = append(args, "--osv="+filepath.Join(dir, osvDir))
	}
	return args, nil
}

// result is how one run of a reporter went.
type result struct {
	code   int
	signal string        // the signal that ended it, if one did
	killed time.Duration // the cap, when the run reached it and was killed
	wall   time.Duration
	rss    int64 // peak resident set size, KiB
	// The most bytes the run's TMPDIR held at once, and what it held
	// after the run.
	tmpPeak, tmpLeft int64
	stderr           string
}

// measure runs the reporter bin with args and the common arguments, with
// a fresh TMPDIR, cache and HOME under runDir, killing it after limit.
func measure(bin string, args []string, runDir string, limit time.Duration) (result, error) {
	var r result
	tmp, cache, home := filepath.Join(runDir, "tmp"), filepath.Join(runDir, "cache"), filepath.Join(runDir, "home")
	for _, d := range []string{tmp, cache, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return r, err
		}
	}
	all := append([]string{"-q", "--releasever=40", "--setopt=reposdir=/nonexistent", "--setopt=cachedir=" + cache},
		args...)
	all = append(all, "updateinfo", "list")
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + tmp, "LC_ALL=C.UTF-8", "TZ=UTC"}
	stderr := &head{max: 64 << 10}
	cmd.Stderr = stderr // stdout: /dev/null
	cmd.WaitDelay = 10 * time.Second
	done, peak := make(chan struct{}), make(chan int64, 1)
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("starting %s: %w", bin, err)
	}
	go sample(tmp, done, peak)
	err := cmd.Wait()
	r.wall = time.Since(began)
	close(done)
	r.tmpPeak, r.tmpLeft = <-peak, dirBytes(tmp)
	if cmd.ProcessState == nil {
		return r, fmt.Errorf("%s: %w", bin, err)
	}
	st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return r, fmt.Errorf("%s: no wait status", bin)
	}
	r.code = st.ExitStatus()
	if st.Signaled() {
		r.signal = st.Signal().String()
		if ctx.Err() != nil {
			r.killed = limit
		}
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rss = ru.Maxrss
	}
	r.stderr = stderr.b.String()
	return r, nil
}

// head keeps the first max bytes written to it.
type head struct {
	b   bytes.Buffer
	max int
}

func (h *head) Write(p []byte) (int, error) {
	if room := h.max - h.b.Len(); room > 0 {
		h.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// sample sends the most bytes dir held at once, measured every 10 ms
// and once more after done is closed.
func sample(dir string, done <-chan struct{}, peak chan<- int64) {
	most := int64(0)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		most = max(most, dirBytes(dir))
		select {
		case <-done:
			peak <- max(most, dirBytes(dir))
			return
		case <-tick.C:
		}
	}
}

// dirBytes sums the sizes of the regular files under dir.
func dirBytes(dir string) int64 {
	n := int64(0)
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// row is a line of the table.
type row struct {
	probe, bin string
	result
}

// cells returns the row's cells after the probe's.
func (r row) cells() []string {
	status := fmt.Sprint(r.code)
	switch {
	case r.killed > 0:
		status = fmt.Sprintf("killed at %.0f s", r.killed.Seconds())
	case r.signal != "":
		status = "signal: " + r.signal
	}
	return []string{r.bin, status, fmt.Sprintf("%.2f s", r.wall.Seconds()), size(r.rss << 10),
		size(r.tmpPeak), size(r.tmpLeft), firstLine(r.stderr, 100)}
}

func (r row) String() string {
	return r.probe + ": " + strings.Join(r.cells(), "; ")
}

// table formats rows as a Markdown table.
func table(rows []row) string {
	var b strings.Builder
	b.WriteString("| probe | binary | exit | wall | peak RSS | peak TMPDIR | TMPDIR after | stderr (first line) |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|---|\n")
	for _, r := range rows {
		cells := append([]string{r.probe}, r.cells()...)
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// firstLine returns the first line of s, cut to n characters (an
// ellipsis marking the cut), quoted as code when not empty.
func firstLine(s string, n int) string {
	line, _, _ := strings.Cut(s, "\n")
	line = strings.TrimSpace(line)
	if utf8.RuneCountInString(line) > n {
		line = string([]rune(line)[:n]) + "…"
	}
	if line == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(line, "`", "'") + "`"
}

// size formats a byte count.
func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= mib:
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
