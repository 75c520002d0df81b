package faults

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/internal/hostile"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

// bombFeed is an OSV advisory about the artifact the outer jar of a
// hostile.Bomb names (bomb:l0 1).
const bombFeed = `{"id": "GHSA-bomb", "modified": "2024-01-01T00:00:00Z",
  "affected": [{"package": {"ecosystem": "Maven", "name": "bomb:l0"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2"}]}]}],
  "database_specific": {"severity": "HIGH"}}`

// Sizes of the hostile images: each case takes seconds.
const (
	deepParts = 100_000
	bigJar    = 300 << 20 // past oci's 256 MiB a file in memory: spilled
	zeroJars  = 8         // of 64 MiB each
	zeroJar   = 64 << 20
)

// imageCase is a hostile image: its layers, built from the plain image's
// (rpm is the layer of a root with an rpm database), and what a run on
// it must print.
type imageCase struct {
	name    string
	archive bool // an oci-archive, else a layout directory
	layers  func(t *testing.T, rpm []hostile.Entry, rpmdb string) [][]hostile.Entry
	// exact: the report is the plain image's, byte for byte; else the
	// run must exit with code and say want.
	exact bool
	// warn, when set, must be in the warnings of an exact run.
	warn string
	// noFeeds leaves out the OSV feed: no jar is scanned for.
	noFeeds bool
	// args are more options; code the exit status of a run that is not
	// exact, and want what its stderr must hold.
	args []string
	code int
	want string
	// What the temporary directory may hold at once: at least minTmp,
	// at most maxTmp (when set). Every run stays under maxRSS.
	minTmp, maxTmp int64
}

// maxRSS is the peak resident set size no run may pass, KiB: the issue's
// bound for the default limits, whatever the input.
const maxRSS = 400 << 10

func imageCases() []imageCase {
	extra := func(more ...hostile.Entry) func(*testing.T, []hostile.Entry, string) [][]hostile.Entry {
		return func(_ *testing.T, rpm []hostile.Entry, _ string) [][]hostile.Entry {
			return [][]hostile.Entry{rpm, more}
		}
	}
	return []imageCase{
		{name: "deep path", exact: true, noFeeds: true,
			layers: extra(hostile.Entry{Name: hostile.DeepName(deepParts), Data: []byte("deep")})},
		{name: "deep path, scanned", exact: true, warn: "path longer than 4096 bytes: not scanned",
			layers: extra(hostile.Entry{Name: hostile.DeepName(deepParts), Data: []byte("deep")})},
		{name: "large jar", exact: true, minTmp: bigJar / 2,
			layers: func(t *testing.T, rpm []hostile.Entry, _ string) [][]hostile.Entry {
				p := filepath.Join(t.TempDir(), "big.jar")
				f, err := os.Create(p)
				require.NoError(t, err)
				require.NoError(t, hostile.LargeJar(f, bigJar))
				require.NoError(t, f.Close())
				return [][]hostile.Entry{rpm, {{Name: "usr/share/app/big.jar", File: p}}}
			}},
		{name: "large file of zeros named like a jar", exact: true, maxTmp: 16 << 20,
			warn:   "usr/share/app/big.jar: contents not kept: not in a format its readers read",
			layers: extra(hostile.Entry{Name: "usr/share/app/big.jar", Zeros: bigJar})},
		{name: "rpm database hard-linked into a lower layer", exact: true, archive: true,
			layers: func(t *testing.T, rpm []hostile.Entry, rpmdb string) [][]hostile.Entry {
				var lower []hostile.Entry
				for _, e := range rpm {
					if e.Name == rpmdb {
						lower = append(lower, hostile.Entry{Name: "var/other/db", File: e.File})
						continue
					}
					lower = append(lower, e)
				}
				require.Len(t, lower, len(rpm))
				return [][]hostile.Entry{lower, {{Name: rpmdb, Hard: "var/other/db"}}}
			}},
		{name: "nested-jar bomb", want: "opt/app/bomb.jar!/l1-0.jar!/zero-0.jar: not a zip archive",
			layers: func(t *testing.T, rpm []hostile.Entry, _ string) [][]hostile.Entry {
				var bomb bytes.Buffer
				b := hostile.Bomb{Depth: 1, Fanout: 4, Size: 64 << 20}
				require.NoError(t, b.Write(&bomb))
				t.Logf("bomb: %d bytes inflating to %d MiB", bomb.Len(), b.Inflated()>>20)
				return [][]hostile.Entry{rpm, {{Name: "opt/app/bomb.jar", Data: bomb.Bytes()}}}
			}},
		{name: "nested-jar directory bomb", maxTmp: 256 << 20,
			want: "opt/app/dirs.jar!/dir-0.jar: a zip directory of 1131072 entries: ",
			layers: func(t *testing.T, rpm []hostile.Entry, _ string) [][]hostile.Entry {
				var bomb bytes.Buffer
				require.NoError(t, hostile.Bomb{Fanout: 2, Entries: 1_000_000}.Write(&bomb))
				t.Logf("directory bomb: %d bytes", bomb.Len())
				return [][]hostile.Entry{rpm, {{Name: "opt/app/dirs.jar", Data: bomb.Bytes()}}}
			}},
		{name: "zero-filled jars", maxTmp: 16 << 20,
			want:   "usr/share/app/zero-7.jar: contents not kept: not in a format its readers read",
			layers: extra(hostile.ZeroJars("usr/share/app", zeroJars, zeroJar)...)},
		{name: "image of too many files for the memory budget", code: 1, args: []string{"--max-memory=16M"},
			want: "the image's list of",
			layers: func(t *testing.T, rpm []hostile.Entry, _ string) [][]hostile.Entry {
				many := make([]hostile.Entry, 100_000)
				for i := range many {
					many[i] = hostile.Entry{Name: fmt.Sprintf("usr/share/many/%d", i)}
				}
				return [][]hostile.Entry{rpm, many}
			}},
	}
}

// TestHostileImages reads each hostile image through --image and as a
// module's image on the host, with an OSV feed (so that jars are
// scanned): no crash, the report or the error expected, the host's rows
// printed, nothing left in the temporary directory or the cache.
func TestHostileImages(t *testing.T) {
	f := newFixture(t, 200)
	// The image's root: alpha installed, so that the repository's
	// advisories apply to it.
	imgRoot := filepath.Join(f.dir, "image-root")
	require.NoError(t, f.b.Root(imgRoot, hostPkgs()[:1]))
	require.NoError(t, os.MkdirAll(filepath.Join(imgRoot, "usr/lib"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(imgRoot, "usr/lib/os-release"),
		[]byte("NAME=Fedora\nID=fedora\nVERSION_ID=40\nPLATFORM_ID=\"platform:f40\"\n"), 0o644))
	rpm, err := hostile.FromDir(imgRoot)
	require.NoError(t, err)
	rpmdb := strings.TrimPrefix(rpmtest.DBPath, "/") + "/rpmdb.sqlite"
	feed := filepath.Join(f.dir, "osv")
	require.NoError(t, os.MkdirAll(feed, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(feed, "GHSA-bomb.json"), []byte(bombFeed), 0o644))
	mods := filepath.Join(f.dir, "mods")
	require.NoError(t, os.MkdirAll(mods, 0o755))

	// Every image is written at one of two places, so that the rows that
	// name it are the plain image's.
	layoutDir, archive := filepath.Join(f.dir, "image"), filepath.Join(f.dir, "image.tar")
	write := func(t *testing.T, asArchive bool, layers ...[]hostile.Entry) string {
		t.Helper()
		require.NoError(t, os.RemoveAll(layoutDir))
		require.NoError(t, os.RemoveAll(archive))
		var ref string
		var err error
		if asArchive {
			ref, err = hostile.WriteArchive(archive, layers...)
		} else {
			ref, err = hostile.WriteLayout(layoutDir, layers...)
		}
		require.NoError(t, err)
		return ref
	}
	cache := filepath.Join(f.dir, "cache")
	// report runs the reporter on the image ref, through --image or as the
	// module web of the host.
	report := func(t *testing.T, ref string, module, feeds bool, more ...string) result {
		t.Helper()
		tmp := t.TempDir()
		var args []string
		if module {
			require.NoError(t, os.WriteFile(filepath.Join(mods, "web.toml"),
				[]byte(fmt.Sprintf("name = \"web\"\nimage = %q\n", ref)), 0o644))
			args = append(args, "--modules-dir="+mods)
		} else {
			args = append(args, "--image="+ref)
		}
		if feeds {
			args = append(args, "--osv="+feed)
		}
		args = append(args, more...)
		r := run(t, tmp, f.args("", cache, append(args, "updateinfo", "list")...)...)
		assertClean(t, "after the run", cache, tmp)
		return r
	}
	hostOnly := run(t, t.TempDir(), f.args("", cache, "updateinfo", "list")...)
	require.Equal(t, 0, hostOnly.code, hostOnly.stderr)
	require.NotEmpty(t, hostOnly.stdout)
	plain := map[string]result{}
	for _, asArchive := range []bool{false, true} {
		ref := write(t, asArchive, rpm)
		for _, module := range []bool{false, true} {
			r := report(t, ref, module, true)
			require.Equal(t, 0, r.code, r.stderr)
			require.Empty(t, r.stderr)
			require.NotEmpty(t, r.stdout)
			if module {
				require.True(t, strings.HasPrefix(r.stdout, hostOnly.stdout), "the host's rows, then the module's")
				require.Contains(t, r.stdout, "module web "+ref)
			}
			plain[fmt.Sprint(asArchive, module)] = r
		}
	}

	for _, tc := range imageCases() {
		t.Run(tc.name, func(t *testing.T) {
			ref := write(t, tc.archive, tc.layers(t, rpm, rpmdb)...)
			for _, module := range []bool{false, true} {
				how := "--image"
				if module {
					how = "module"
				}
				r := report(t, ref, module, !tc.noFeeds, tc.args...)
				t.Logf("%s: exit %d in %v, peak RSS %d MiB, at most %d MiB in TMPDIR; stderr:\n%s", how, r.code,
					r.wall.Round(1e6), r.rss>>10, r.tmpPeak>>20, r.stderr)
				assert.Less(t, r.rss, int64(maxRSS), "%s: peak RSS, KiB", how)
				assert.GreaterOrEqual(t, r.tmpPeak, tc.minTmp, "%s: bytes in TMPDIR at once", how)
				if tc.maxTmp > 0 {
					assert.LessOrEqual(t, r.tmpPeak, tc.maxTmp, "%s: bytes in TMPDIR at once", how)
				}
				if tc.exact {
					want := plain[fmt.Sprint(tc.archive, module)]
					assert.Equal(t, 0, r.code, "%s: %s", how, r.stderr)
					assert.Equal(t, want.stdout, r.stdout, how)
					if tc.warn != "" {
						assert.Contains(t, r.stderr, "warning: ", how)
						assert.Contains(t, r.stderr, tc.warn, how)
					} else {
						assert.Empty(t, r.stderr, how)
					}
					continue
				}
				assert.Equal(t, tc.code, r.code, how)
				assert.Contains(t, r.stderr, tc.want, how)
				if module && r.code == 0 {
					assert.True(t, strings.HasPrefix(r.stdout, hostOnly.stdout), "%s: the host's rows", how)
				}
			}
		})
	}

	// Four modules of the directory bomb, read at once: the budgets are
	// the run's, not each image's.
	t.Run("four modules of the directory bomb", func(t *testing.T) {
		var bomb bytes.Buffer
		require.NoError(t, hostile.Bomb{Fanout: 2, Entries: 1_000_000}.Write(&bomb))
		ref := write(t, false, rpm, []hostile.Entry{{Name: "opt/app/dirs.jar", Data: bomb.Bytes()}})
		four := filepath.Join(f.dir, "four")
		require.NoError(t, os.MkdirAll(four, 0o755))
		for i := range 4 {
			require.NoError(t, os.WriteFile(filepath.Join(four, fmt.Sprintf("m%d.toml", i)),
				[]byte(fmt.Sprintf("name = \"m%d\"\nimage = %q\n", i, ref)), 0o644))
		}
		tmp := t.TempDir()
		r := run(t, tmp, f.args("", cache, "--modules-dir="+four, "--osv="+feed, "updateinfo", "list")...)
		t.Logf("exit %d in %v, peak RSS %d MiB, at most %d MiB in TMPDIR; stderr:\n%s", r.code,
			r.wall.Round(1e6), r.rss>>10, r.tmpPeak>>20, r.stderr)
		assertClean(t, "after the run", cache, tmp)
		assert.Equal(t, 0, r.code)
		assert.Less(t, r.rss, int64(maxRSS), "peak RSS, KiB")
		assert.True(t, strings.HasPrefix(r.stdout, hostOnly.stdout), "the host's rows")
		for i := range 4 {
			assert.Contains(t, r.stderr, fmt.Sprintf("warning: module m%d: maven/archive: opt/app/dirs.jar!/dir-1.jar: a zip directory of", i))
		}
	})
}
