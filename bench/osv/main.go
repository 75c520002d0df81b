// Command osv compares alicorn's non-RPM scan with osv-scanner's on the
// same files and OSV data, and times both.
//
// It generates, from a seed, an image tree of installed Python
// distributions (dist-info), Ruby gems (gemspecs and a Gemfile.lock) and
// Maven jars (plain, shaded and nested in a Spring Boot jar), and an OSV
// database for them (per-ecosystem all.zip files as osv.dev publishes
// them) whose ranges mix ECOSYSTEM and SEMVER types, introduced, fixed
// and last_affected events, versions lists, withdrawn entries and
// prerelease versions. The tree becomes a docker-archive with an
// /etc/os-release; then both scanners run on it, offline, alternately:
//
//	go run ./bench/osv [-n 20000] [-runs 3] [-seed 1] [-dir DIR]
//
// It prints each side's (package, advisory) pairs count, the pairs only
// one side found, grouped by cause, and the median wall times and peak
// RSS. osv-scanner: see ../shared/docs/peers.md (on PATH, or -osv-scanner).
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/advisory/osv"
	"github.com/alicorn-dev/alicorn/ecosystems"
	"github.com/alicorn-dev/alicorn/ecosystems/gem"
	"github.com/alicorn-dev/alicorn/ecosystems/maven"
	"github.com/alicorn-dev/alicorn/ecosystems/pypi"
	"github.com/alicorn-dev/alicorn/internal/archivetest"
	"github.com/alicorn-dev/alicorn/internal/benchutil"
	"github.com/alicorn-dev/alicorn/inventory"
	"github.com/alicorn-dev/alicorn/inventory/oci"
	"github.com/alicorn-dev/alicorn/match"
)

func main() {
	n := flag.Int("n", 20000, "packages in the tree")
	runs := flag.Int("runs", 3, "runs of each scanner")
	seed := flag.Uint64("seed", 1, "generator seed")
	dir := flag.String("dir", "", "fixture directory (default: the user cache directory)")
	scanner := flag.String("osv-scanner", "osv-scanner", "the osv-scanner binary")
	scan := flag.String("scan", "", "internal: scan this docker-archive against -db and print the pairs")
	db := flag.String("db", "", "internal: the OSV database directory for -scan")
	memprofile := flag.String("memprofile", "", "with -scan: write a heap profile here at the end")
	flag.Parse()
	var err error
	if *scan != "" {
		err = scanArchive(context.Background(), *scan, *db, os.Stdout)
		if *memprofile != "" && err == nil {
			err = writeHeap(*memprofile)
		}
	} else {
		err = run(*n, *runs, *seed, *dir, *scanner)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "osv:", err)
		os.Exit(1)
	}
}

func run(n, runs int, seed uint64, dir, scanner string) error {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return err
		}
		dir = filepath.Join(base, "alicorn-bench", fmt.Sprintf("osv-%d-%d", n, seed))
	}
	archive, dbDir := filepath.Join(dir, "image.tar"), filepath.Join(dir, "db")
	if _, err := os.Stat(archive); err != nil {
		fmt.Fprintf(os.Stderr, "generating %d packages in %s\n", n, dir)
		if err := generate(dir, n, seed); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	env := append(os.Environ(), "OSV_SCALIBR_LOCAL_DB_CACHE_DIRECTORY="+dbDir)
	ours := benchutil.Side{Name: self, Args: []string{"-scan", archive, "-db", dbDir}}
	theirs := benchutil.Side{Name: scanner, Args: []string{"scan", "image", "--archive", archive, "--offline",
		"--format", "json", "--allow-no-lockfiles"}, OK: []int{1}}
	rt, ro, speedup, err := benchutil.Paired(runs, env, theirs, ours)
	if err != nil {
		return err
	}
	mine := map[string]string{} // pair → location
	for l := range lines(ro.Out) {
		k, loc, _ := strings.Cut(l, "\t")
		mine[k] = loc
	}
	theirsPairs, err := scannerPairs(rt.Out)
	if err != nil {
		return err
	}
	// osv-scanner reads no gems in images: its lockfile scan of the same
	// Gemfile.lock stands in for them.
	m, err := benchutil.Run(env, scanner, "scan", "source", "--lockfile", "Gemfile.lock:"+filepath.Join(dir, "Gemfile.lock"),
		"--offline", "--format", "json")
	if err != nil && !strings.Contains(err.Error(), "exit status 1") {
		return err
	}
	gems, err := scannerPairs(m.Out)
	if err != nil {
		return err
	}
	for k := range gems {
		theirsPairs[k] = true
	}
	advs, err := loadAdvisories(dbDir)
	if err != nil {
		return err
	}
	report(os.Stdout, mine, theirsPairs, advs)
	fmt.Printf("\n%d packages, %d runs each, alternating\n", n, runs)
	fmt.Printf("osv-scanner: %v, peak RSS %d MB\n", rt.Wall.Round(1e6), rt.RSS/1024)
	fmt.Printf("alicorn:     %v, peak RSS %d MB\n", ro.Wall.Round(1e6), ro.RSS/1024)
	fmt.Printf("speed-up (median of pairs): %.1fx\n", speedup)
	return nil
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}

func lines(b []byte) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" {
			out[l] = true
		}
	}
	return out
}

// scannerPairs reads osv-scanner's JSON: "purl-ish advisory" pairs.
func scannerPairs(b []byte) (map[string]bool, error) {
	var doc struct {
		Results []struct {
			Packages []struct {
				Package struct {
					Name, Version, Ecosystem string
				} `json:"package"`
				Vulnerabilities []struct {
					ID string `json:"id"`
				} `json:"vulnerabilities"`
			} `json:"packages"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("osv-scanner output: %w", err)
	}
	out := map[string]bool{}
	for _, r := range doc.Results {
		for _, p := range r.Packages {
			for _, v := range p.Vulnerabilities {
				out[pairKey(p.Package.Ecosystem, p.Package.Name, p.Package.Version, v.ID)] = true
			}
		}
	}
	return out, nil
}

// pairKey names a (package, advisory) pair the same way for both sides:
// the OSV ecosystem, the package name as OSV writes it (PyPI's
// normalised), the version and the advisory.
func pairKey(eco, name, version, id string) string {
	if eco == "PyPI" {
		name = pypi.Normalize(name)
	}
	return eco + " " + name + " " + version + " " + id
}

// loadAdvisories maps each advisory ID of the database to its entry.
func loadAdvisories(dbDir string) (map[string]*advisory.Advisory, error) {
	zips, _ := filepath.Glob(filepath.Join(dbDir, "osv-scalibr", "*", "all.zip"))
	out := map[string]*advisory.Advisory{}
	for _, z := range zips {
		as, err := osv.Load(context.Background(), z)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			out[a.ID] = a
		}
	}
	return out, nil
}

// dotQualifier matches a Maven version with a qualifier after a dot
// ("2.0.a"), which Maven orders as if written "2-a" since 3.8.7.
var dotQualifier = regexp.MustCompile(`[0-9]\.[a-zA-Z]`)

// cause explains a pair only one side finds, when the reason is known.
func cause(k, loc string, advs map[string]*advisory.Advisory) string {
	f := strings.Fields(k)
	a := advs[f[3]]
	switch {
	case f[0] == "RubyGems" && strings.HasSuffix(loc, ".gemspec"):
		return "an installed gem (specifications/*.gemspec): osv-scanner reads no gems in images"
	case f[0] == "PyPI" && a != nil && !slices.ContainsFunc(a.Affected, func(af advisory.Affected) bool { return af.Name == f[1] }):
		return "the OSV entry spells the PyPI name otherwise (PEP 503: the same project); osv-scanner compares names as written"
	case f[0] == "RubyGems" && a != nil && hasEvent(a, func(v string) bool { return strings.Contains(v, "-") }):
		return "a RubyGems version with '-' (3.0.0-1): RubyGems reads it as 3.0.0.pre.1, a pre-release; osv-scanner as 3.0.0 with a build part"
	case f[0] == "Maven" && a != nil && (dotQualifier.MatchString(f[2]) || hasEvent(a, dotQualifier.MatchString)):
		return "a Maven version with a qualifier after a dot (2.0.a): Maven since 3.8.7 orders it as 2-a, below 2-1 (ComparableVersionTest); osv-scanner above, as Maven 3.8.6 did"
	}
	return "unexplained"
}

// hasEvent reports whether any range event's version satisfies is.
func hasEvent(a *advisory.Advisory, is func(string) bool) bool {
	for _, af := range a.Affected {
		for _, r := range af.Ranges {
			for _, e := range r.Events {
				for _, v := range []string{e.Introduced, e.Fixed, e.LastAffected} {
					if v != "" && is(v) {
						return true
					}
				}
			}
		}
	}
	return false
}

func report(w io.Writer, mine map[string]string, theirs map[string]bool, advs map[string]*advisory.Advisory) {
	causes := map[string][]string{}
	only := 0
	for k, loc := range mine {
		if !theirs[k] {
			c := "only alicorn, " + cause(k, loc, advs)
			causes[c] = append(causes[c], k)
			only++
		}
	}
	for k := range theirs {
		if _, ok := mine[k]; !ok {
			c := "only osv-scanner, " + cause(k, "", advs)
			causes[c] = append(causes[c], k)
		}
	}
	fmt.Fprintf(w, "pairs: alicorn %d, osv-scanner %d, both %d\n", len(mine), len(theirs), len(mine)-only)
	show := func(title string, l []string) {
		sort.Strings(l)
		fmt.Fprintf(w, "%s: %d\n", title, len(l))
		for i, k := range l {
			if i == 5 {
				fmt.Fprintf(w, "    …\n")
				break
			}
			fmt.Fprintf(w, "    %s\n", k)
		}
	}
	var cs []string
	for c := range causes {
		cs = append(cs, c)
	}
	sort.Strings(cs)
	for _, c := range cs {
		show(c, causes[c])
	}
}

// scanArchive is alicorn's side: the image's gems, distributions and jars
// matched against the database's all.zip files; one line per pair.
func scanArchive(ctx context.Context, archive, dbDir string, w io.Writer) error {
	set, err := ecosystems.NewSet(pypi.Ecosystem{}, gem.Ecosystem{}, maven.Ecosystem{})
	if err != nil {
		return err
	}
	var advs []*advisory.Advisory
	zips, _ := filepath.Glob(filepath.Join(dbDir, "osv-scalibr", "*", "all.zip"))
	for _, z := range zips {
		as, err := osv.Load(ctx, z)
		if err != nil {
			return err
		}
		advs = append(advs, as...)
	}
	img, err := oci.Open(ctx, "docker-archive:"+archive)
	if err != nil {
		return err
	}
	defer img.Close()
	xs := set.Extractors()
	fsys, err := oci.Flatten(ctx, img, oci.Options{Want: inventory.Required(xs), SpillDir: os.TempDir()})
	if err != nil {
		return err
	}
	defer fsys.Close()
	pkgs, err := inventory.Scan(ctx, fsys, xs)
	if err != nil {
		return err
	}
	vulns, err := match.OSV(ctx, pkgs, advs, set, match.OSVOptions{})
	if err != nil && !errors.Is(err, match.ErrRange) {
		return err
	}
	if err != nil {
		// Ranges that cannot be evaluated are named; the pairs found count.
		fmt.Fprintln(os.Stderr, "warning:", strings.ReplaceAll(err.Error(), "\n", "\nwarning: "))
	}
	seen := map[string]bool{}
	var b strings.Builder
	for _, v := range vulns {
		p := pkgs[v.Package]
		eco, _ := set.ByType(p.PURL.Type)
		name := p.PURL.Name
		if p.PURL.Namespace != "" {
			name = p.PURL.Namespace + ":" + name
		}
		k := pairKey(eco.OSV(), name, p.Version, v.Advisory.ID)
		if !seen[k] {
			seen[k] = true
			b.WriteString(k + "\t" + p.Locations[0].Path + "\n")
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// ---- generation ----

type genPkg struct {
	eco, name, version string // name as OSV writes it
}

var (
	pyVersions = []string{"0.9", "1.0", "1.0.1", "1.2", "1.10", "2.0rc1", "2.0", "2.0.0", "2.0.post1", "2.1.dev3", "3.0a2", "3.0",
		"10.1", "1!0.5"}
	gemVersions = []string{"0.9.0", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0.rc1", "2.0.0", "2.0", "2.0.0.1", "3.0.0.beta2",
		"3.0.0", "3.0.0-1", "10.1.0"}
	mvnVersions = []string{"0.9", "1.0", "1.0.1", "1.2", "1.10", "2.0-beta-1", "2.0-RC1", "2.0", "2.0.Final", "2.0-sp1",
		"2.0.a", "2-1", "2.0.RELEASE", "2.0-ga", "3.0-SNAPSHOT", "3.0", "10.1"}
)

func versionsOf(eco string) []string {
	switch eco {
	case "PyPI":
		return pyVersions
	case "RubyGems":
		return gemVersions
	}
	return mvnVersions
}

func generate(dir string, n int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 42))
	files := map[string][]byte{"etc/os-release": []byte("ID=alicorn-bench\nVERSION_ID=1\n")}
	var pkgs []genPkg
	var lock strings.Builder
	lock.WriteString("GEM\n  remote: https://rubygems.org/\n  specs:\n")
	var fat []string // jars nested in the Spring Boot jar
	shaded := 0
	var shadedJar []string
	for i := range n {
		switch i % 3 {
		case 0:
			v := pyVersions[r.IntN(len(pyVersions))]
			name := fmt.Sprintf("py%s%05d", []string{"-", "_", ".", ""}[r.IntN(4)], i)
			shown := name
			if r.IntN(4) == 0 {
				shown = strings.ToUpper(name[:1]) + name[1:]
			}
			files[fmt.Sprintf("usr/lib/python3.12/site-packages/%s-%s.dist-info/METADATA", strings.ReplaceAll(shown, "-", "_"), v)] =
				[]byte("Metadata-Version: 2.1\nName: " + shown + "\nVersion: " + v + "\n\n")
			pkgs = append(pkgs, genPkg{"PyPI", name, v})
		case 1:
			v := gemVersions[r.IntN(len(gemVersions))]
			name := fmt.Sprintf("gem%05d", i)
			if r.IntN(2) == 0 {
				files[fmt.Sprintf("usr/share/gems/specifications/%s-%s.gemspec", name, v)] =
					[]byte(fmt.Sprintf("# -*- encoding: utf-8 -*-\n# stub: %s %s ruby lib\n", name, v))
			} else {
				fmt.Fprintf(&lock, "    %s (%s)\n", name, v)
			}
			pkgs = append(pkgs, genPkg{"RubyGems", name, v})
		default:
			v := mvnVersions[r.IntN(len(mvnVersions))]
			g, a := fmt.Sprintf("org.gen.g%02d", i%97), fmt.Sprintf("art%05d", i)
			pom := fmt.Sprintf("META-INF/maven/%s/%s/pom.properties", g, a)
			props := fmt.Sprintf("groupId=%s\nartifactId=%s\nversion=%s\n", g, a, v)
			switch r.IntN(10) {
			case 0:
				fat = append(fat, fmt.Sprintf("BOOT-INF/lib/%s-%s.jar", a, v), string(zipOf(pom, props)))
			case 1:
				shaded++
				shadedJar = append(shadedJar, pom, props)
			default:
				files[fmt.Sprintf("opt/lib/%s-%s.jar", a, v)] = zipOf(pom, props)
			}
			pkgs = append(pkgs, genPkg{"Maven", g + ":" + a, v})
		}
	}
	lock.WriteString("\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n")
	files["srv/app/Gemfile.lock"] = []byte(lock.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "Gemfile.lock"), files["srv/app/Gemfile.lock"], 0o644); err != nil {
		return err
	}
	files["opt/app/app.jar"] = zipOf(fat...)
	files["opt/app/shaded.jar"] = zipOf(shadedJar...)
	if err := writeImage(dir, files); err != nil {
		return err
	}
	return writeDB(filepath.Join(dir, "db", "osv-scalibr"), pkgs, r)
}

// zipOf is archivetest.Zip; in-memory writes do not fail.
func zipOf(nameData ...string) []byte {
	b, _ := archivetest.Zip(nameData...)
	return b
}

func writeImage(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := archivetest.Tar(files)
	if err != nil {
		return err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return err
	}
	tag, err := name.NewTag("alicorn.local/bench/osv:latest")
	if err != nil {
		return err
	}
	return tarball.WriteToFile(filepath.Join(dir, "image.tar"), tag, img)
}

// writeDB writes an OSV database for the packages: about half of them get
// an advisory, some two; a few advisories are withdrawn or name packages
// not installed.
func writeDB(dir string, pkgs []genPkg, r *rand.Rand) error {
	byEco := map[string][]map[string]any{}
	for i, p := range pkgs {
		for k := range r.IntN(3) {
			id := fmt.Sprintf("GEN-%s-%05d-%d", p.eco, i, k)
			vs := versionsOf(p.eco)
			lo, hi := r.IntN(len(vs)), r.IntN(len(vs))
			if lo > hi {
				lo, hi = hi, lo
			}
			aff := map[string]any{"package": map[string]any{"ecosystem": p.eco, "name": p.name}}
			var events []map[string]string
			intro := vs[lo]
			if r.IntN(3) == 0 {
				intro = "0"
			}
			events = append(events, map[string]string{"introduced": intro})
			switch r.IntN(4) {
			case 0:
				events = append(events, map[string]string{"last_affected": vs[hi]})
			case 1: // no upper bound
			default:
				if hi > lo {
					events = append(events, map[string]string{"fixed": vs[hi]})
				}
			}
			rng := map[string]any{"type": "ECOSYSTEM", "events": events}
			aff["ranges"] = []any{rng}
			if r.IntN(5) == 0 {
				aff["versions"] = []string{vs[r.IntN(len(vs))], vs[r.IntN(len(vs))]}
			}
			doc := map[string]any{"id": id, "modified": "2025-01-01T00:00:00Z", "summary": "generated",
				"aliases": []string{fmt.Sprintf("CVE-2099-%05d", i*3+k)}, "affected": []any{aff}}
			if r.IntN(20) == 0 {
				doc["withdrawn"] = "2025-02-01T00:00:00Z"
			}
			byEco[p.eco] = append(byEco[p.eco], doc)
		}
	}
	for eco, docs := range byEco {
		d := filepath.Join(dir, eco)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, doc := range docs {
			b, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			w, err := zw.Create(doc["id"].(string) + ".json")
			if err != nil {
				return err
			}
			w.Write(b)
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, "all.zip"), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
