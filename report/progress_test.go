package report

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/alicorn-dev/alicorn/repo"
)

// speed returns how long size bytes take at perSec bytes a second.
func speed(size int64, perSec float64) time.Duration {
	return time.Duration(float64(size) / perSec * float64(time.Second))
}

const (
	kB       = 1024
	MB       = 1024 * 1024
	longName = "A repository with a rather long name that goes on and on and on forever"
)

// The lines real dnf 4.14 printed on stdout (not a terminal, so 80
// columns) for `dnf makecache` and `dnf updateinfo list` against local
// repositories served over HTTP: 812 bytes of primary, filelists and
// updateinfo; 2.1 MB of them; 335 bytes, the body of a 404 for
// repomd.xml (dnf prints the line of a failed download too).
func TestProgressLineDNF(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int64
		elapsed time.Duration
		want    string
	}{
		{"t", 812, speed(812, 104*kB), "t                                               104 kB/s | 812  B     00:00    \n"},
		{"t", 812, speed(812, 143*kB), "t                                               143 kB/s | 812  B     00:00    \n"},
		{longName, 335, speed(335, 64*kB), "A repository with a rather long name that goes   64 kB/s | 335  B     00:00    \n"},
		{"Small é repo", 812, speed(812, 493*kB), "Small é repo                                    493 kB/s | 812  B     00:00    \n"},
		{longName, 2193979, speed(2193979, 76*MB), "A repository with a rather long name that goes   76 MB/s | 2.1 MB     00:00    \n"},
		{"Small é repo", 812, speed(812, 55*kB), "Small é repo                                     55 kB/s | 812  B     00:00    \n"},
	} {
		assert.Equal(t, tc.want, ProgressLine(tc.name, tc.size, tc.elapsed, 0), tc.want)
	}
}

// What dnf 4.14 wrote to a terminal of 120 and of 20 columns (`script`,
// `stty cols N`) for `dnf makecache` of the same two repositories: the
// bar at the first progress report (nothing received yet, size not
// known), then the repository's line over it.
func TestProgressWriterTerminalDNF(t *testing.T) {
	type repoRun struct {
		name    string
		size    int64
		elapsed time.Duration
	}
	for _, tc := range []struct {
		width int
		runs  []repoRun
		want  string
	}{
		{120, []repoRun{{longName, 2193979, speed(2193979, 35*MB)}, {"Small é repo", 812, speed(812, 25*kB)}},
			"A repository with a rather long name tha     [===                                     ] ---  B/s |   0  B     --:-- ETA\r" +
				"A repository with a rather long name that goes on and on and on forever                  35 MB/s | 2.1 MB     00:00    \n" +
				"Small é repo                                 [===                                     ] ---  B/s |   0  B     --:-- ETA\r" +
				"Small é repo                                                                             25 kB/s | 812  B     00:00    \n"},
		{20, []repoRun{{longName, 2193979, speed(2193979, 33*MB)}, {"Small é repo", 812, speed(812, 50*kB)}},
			"              ---  B/s |   0  B     --:-- ETA\r" +
				"               33 MB/s | 2.1 MB     00:00    \n" +
				"              ---  B/s |   0  B     --:-- ETA\r" +
				"               50 kB/s | 812  B     00:00    \n"},
	} {
		var out strings.Builder
		pw := NewProgressWriter(&out, tc.width, true)
		now := time.Unix(1000, 0)
		pw.now = func() time.Time { return now }
		for _, r := range tc.runs {
			pw.Update(repo.Progress{ID: r.name, Name: r.name})
			now = now.Add(r.elapsed)
			pw.Update(repo.Progress{ID: r.name, Name: r.name, Downloaded: r.size, Elapsed: r.elapsed, Done: true})
		}
		assert.Equal(t, tc.want, out.String(), tc.width)
	}
}

// Longer downloads on a terminal, the expected output produced by dnf
// 4.14's own MultiFileProgressMeter (dnf/cli/progress.py, run with its
// clock and terminal width replaced) fed the same reports: the bar
// redrawn at most every 0.3 s, with the percentage when the size is
// known and a moving bar when not, the speed averaged over 5 s, the ETA.
func TestProgressWriterBarDNF(t *testing.T) {
	type step struct {
		at          time.Duration // since the first report
		done, total int64
	}
	for _, tc := range []struct {
		name  string
		width int
		steps []step
		end   time.Duration
		want  string
	}{
		{"updates", 80, []step{{0, 0, 100000}, {100 * time.Millisecond, 20000, 100000}, {500 * time.Millisecond, 40000, 100000},
			{time.Second, 70000, 100000}, {3250 * time.Millisecond, 99000, 100000}}, 3500 * time.Millisecond,
			"updates               0% [                    ] ---  B/s |   0  B     --:-- ETA\r" +
				"updates              40% [========            ]  78 kB/s |  39 kB     00:00 ETA\r" +
				"updates              70% [==============      ]  76 kB/s |  68 kB     00:00 ETA\r" +
				"updates              99% [===================-]  48 kB/s |  97 kB     00:00 ETA\r" +
				"updates                                          28 kB/s |  97 kB     00:03    \n"},
		{"Fedora 40 - x86_64 - Updates", 100, []step{{0, 0, 0}, {400 * time.Millisecond, 1500, 0}, {800 * time.Millisecond, 3000000, 0},
			{1200 * time.Millisecond, 3100000, 0}, {1600 * time.Millisecond, 3200000, 0}}, 2 * time.Second,
			"Fedora 40 - x86_64 - Updates       [===                           ] ---  B/s |   0  B     --:-- ETA\r" +
				"Fedora 40 - x86_64 - Updates       [===                           ] 3.7 kB/s | 1.5 kB     --:-- ETA\r" +
				"Fedora 40 - x86_64 - Updates       [   ===                        ] 589 kB/s | 2.9 MB     --:-- ETA\r" +
				"Fedora 40 - x86_64 - Updates       [      ===                     ] 561 kB/s | 3.0 MB     --:-- ETA\r" +
				"Fedora 40 - x86_64 - Updates       [         ===                  ] 536 kB/s | 3.1 MB     --:-- ETA\r" +
				"Fedora 40 - x86_64 - Updates                                        1.5 MB/s | 3.1 MB     00:02    \n"},
		{"tiny", 30, []step{{0, 0, 500}, {500 * time.Millisecond, 250, 500}}, time.Second,
			"    ---  B/s |   0  B     --:-- ETA\r" +
				"    500  B/s | 250  B     00:00 ETA\r" +
				"    250  B/s | 250  B     00:01    \n"},
	} {
		for _, terminal := range []bool{true, false} {
			var out strings.Builder
			pw := NewProgressWriter(&out, tc.width, terminal)
			start := time.Unix(1000, 0)
			var now time.Time
			pw.now = func() time.Time { return now }
			var last int64
			for _, s := range tc.steps {
				now = start.Add(s.at)
				pw.Update(repo.Progress{ID: "r", Name: tc.name, Downloaded: s.done, Total: s.total, Elapsed: s.at})
				last = s.done
			}
			now = start.Add(tc.end)
			pw.Update(repo.Progress{ID: "r", Name: tc.name, Downloaded: last, Elapsed: tc.end, Done: true})
			want := tc.want
			if !terminal {
				want = want[strings.LastIndexByte(want, '\r')+1:] // the line alone
			}
			assert.Equal(t, want, out.String(), "%s, terminal %v", tc.name, terminal)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	// dnf's format_number on the same numbers (whole ones as ints).
	for _, tc := range []struct {
		x     float64
		whole bool
		want  string
	}{
		{0, true, "0  "}, {812, true, "812  "}, {999, true, "999  "}, {1000, true, "1.0 k"}, {1023, true, "1.0 k"},
		{10188, true, "9.9 k"}, {2193979, true, "2.1 M"}, {106496, false, "104 k"}, {0, false, "0.0  "},
		{10199.04, false, "10 k"}, {1e15, false, "909 T"},
	} {
		assert.Equal(t, tc.want, formatNumber(tc.x, tc.whole), "%v", tc.x)
	}
	assert.Equal(t, "100:00", formatTime(6000.5))
}

func TestMetadataCheckLine(t *testing.T) {
	at := time.Date(2026, 11, 30, 5, 26, 17, 0, time.UTC)
	// As dnf 4.14 printed it, and as Python prints longer ages.
	assert.Equal(t, "Last metadata expiration check: 0:00:04 ago on Mon Nov 30 05:26:17 2026.\n",
		MetadataCheckLine(4*time.Second+300*time.Millisecond, at))
	assert.Equal(t, "Last metadata expiration check: 1 day, 1:01:01 ago on Wed Nov  5 05:26:17 2025.\n",
		MetadataCheckLine(90061*time.Second, time.Date(2025, 11, 5, 5, 26, 17, 0, time.UTC)))
	assert.Contains(t, MetadataCheckLine(2*24*time.Hour+5*time.Second, at), " 2 days, 0:00:05 ago ")
}

// A Fetcher reports each repository's download to a ProgressWriter,
// which prints dnf's line when it is done.
func ExampleProgressWriter() {
	pw := NewProgressWriter(os.Stdout, 0, false) // on a terminal: its width, true
	f := &repo.Fetcher{Prefetch: []string{"updateinfo", "modules"}, Progress: pw.Update}
	_ = f // f.Fetch(ctx, config) reports as below
	pw.Update(repo.Progress{ID: "updates", Name: "Fedora 40 - x86_64 - Updates", Downloaded: 3 << 20})
	pw.Update(repo.Progress{ID: "updates", Name: "Fedora 40 - x86_64 - Updates", Downloaded: 6 << 20,
		Elapsed: 1500 * time.Millisecond, Done: true})
	// Output:
	// Fedora 40 - x86_64 - Updates                    4.0 MB/s | 6.0 MB     00:01
}
