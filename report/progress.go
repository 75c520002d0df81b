package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/alicorn-dev/alicorn/repo"
)

// Defaults of dnf 4.14's progress meter (dnf/cli/progress.py).
const (
	// DefaultProgressWidth is the width dnf assumes when stdout is not a
	// terminal.
	DefaultProgressWidth = 80
	// minProgressWidth is the narrowest terminal dnf draws for.
	minProgressWidth = 20
	// updatePeriod is how often the bar is redrawn, tickPeriod how long
	// each of several downloads is shown, rateAverage the time constant
	// of the average speed.
	updatePeriod = 300 * time.Millisecond
	tickPeriod   = time.Second
	rateAverage  = 5 * time.Second
)

// ProgressWriter prints repository metadata downloads as dnf 4.14 does
// (its MultiFileProgressMeter): when a repository's download ends, a
// line with its name on the left and the speed, size and time on the
// right, ending at the width's last column but one; on a terminal, while
// downloads run, a bar line redrawn in place (ended by a carriage
// return) at most every 0.3 s. Its Update method is a
// repo.Fetcher.Progress; it is safe for concurrent use.
type ProgressWriter struct {
	w        io.Writer
	width    int
	terminal bool
	now      func() time.Time

	mu       sync.Mutex
	active   []*transfer // in the order they began
	lastTime time.Time   // of the last bar update, zero before the first
	lastSize int64
	rate     float64 // average bytes a second, 0 while unknown
	unknown  int     // position of the bar of a download of unknown size
}

// transfer is one repository's download in progress.
type transfer struct {
	id, name    string
	done, total int64
}

// NewProgressWriter returns a ProgressWriter printing to w (dnf prints
// to stdout). width is the terminal's width in columns: 0 means 80, as
// dnf assumes when stdout is not a terminal, and dnf draws no narrower
// than 20. terminal enables the bar line, which dnf draws only when
// stdout is a terminal.
func NewProgressWriter(w io.Writer, width int, terminal bool) *ProgressWriter {
	return &ProgressWriter{w: w, width: progressWidth(width), terminal: terminal, now: time.Now}
}

func progressWidth(width int) int {
	switch {
	case width <= 0:
		return DefaultProgressWidth
	case width < minProgressWidth:
		return minProgressWidth
	}
	return width
}

// Update records a repository's progress and prints what dnf would: the
// repository's line when its download is done (failed downloads too, as
// dnf does), else, on a terminal, the bar when it is due.
func (p *ProgressWriter) Update(pr repo.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	i := p.find(pr.ID)
	if pr.Done {
		if i >= 0 {
			p.active = append(p.active[:i], p.active[i+1:]...)
		}
		io.WriteString(p.w, ProgressLine(pr.Name, pr.Downloaded, pr.Elapsed, p.width))
		if p.terminal && len(p.active) > 0 {
			p.update(now)
		}
		return
	}
	if i < 0 {
		if len(p.active) == 0 {
			// dnf's meter starts afresh with each repository.
			p.lastTime, p.lastSize, p.rate, p.unknown = time.Time{}, 0, 0, 0
		}
		p.active = append(p.active, &transfer{id: pr.ID, name: pr.Name})
		i = len(p.active) - 1
	}
	t := p.active[i]
	t.done = pr.Downloaded
	if pr.Total > t.total {
		t.total = pr.Total
	}
	if p.lastTime.IsZero() || now.Sub(p.lastTime) > updatePeriod {
		p.update(now)
	}
}

func (p *ProgressWriter) find(id string) int {
	for i, t := range p.active {
		if t.id == id {
			return i
		}
	}
	return -1
}

// update averages the speed and, on a terminal, draws the bar.
func (p *ProgressWriter) update(now time.Time) {
	var done, total int64
	for _, t := range p.active {
		done += t.done
		total += t.total
	}
	if !p.lastTime.IsZero() {
		dt := now.Sub(p.lastTime).Seconds()
		if ds := done - p.lastSize; dt > 0 && ds > 0 {
			rate := float64(ds) / dt
			if p.rate != 0 {
				w := min(dt/rateAverage.Seconds(), 1)
				rate = rate*w + p.rate*(1-w)
			}
			p.rate = rate
		}
	}
	p.lastTime, p.lastSize = now, done
	if !p.terminal || len(p.active) == 0 {
		return
	}
	name := p.active[int(now.UnixNano()/int64(tickPeriod))%len(p.active)].name
	var line string
	line, p.unknown = progressBar(name, done, total, p.rate, p.unknown, p.width)
	io.WriteString(p.w, line)
}

// ProgressLine returns dnf's line for a finished download of size bytes
// that took elapsed, for a terminal of the given width (0 means 80):
// the name, cut or padded to fill the line, then the average speed, the
// size and the time, and a newline, as in
//
//	updates                                          104 kB/s | 812  B     00:00
func ProgressLine(name string, size int64, elapsed time.Duration, width int) string {
	secs := max(elapsed.Seconds(), 0.001)
	msg := fmt.Sprintf(" %5sB/s | %5sB %9s    \n", formatNumber(float64(size)/secs, false),
		formatNumber(float64(size), true), formatTime(secs))
	return fitName(name, progressWidth(width)-len(msg)) + msg
}

// progressBar returns dnf's redrawn line for downloads in progress (done
// of total bytes, total 0 when unknown, at rate bytes a second, 0 when
// not known yet), ended by a carriage return, and the next position of
// the bar of unknown size.
func progressBar(name string, done, total int64, rate float64, unknown, width int) (string, int) {
	speed := "---  "
	if rate != 0 {
		speed = formatNumber(rate, false)
	}
	eta := "--:--"
	if rate != 0 && total != 0 {
		eta = formatTime(float64(total-done) / rate)
	}
	msg := fmt.Sprintf(" %5sB/s | %5sB %9s ETA\r", speed, formatNumber(float64(done), true), eta)
	left := width - len(msg)
	if bl := floorDiv(left-7, 2); bl > 8 {
		if total != 0 {
			pct := done * 100 / total
			n := done * int64(bl) * 2 / total
			bar := strings.Repeat("=", int(n/2)) + strings.Repeat("-", int(n%2))
			msg = fmt.Sprintf("%3d%% [%-*s]%s", pct, bl, bar, msg)
		} else {
			bar := strings.Repeat(" ", max(unknown-3, 0)) + "==="
			msg = fmt.Sprintf("     [%-*s]%s", bl, bar, msg)
			if unknown+3 < bl {
				unknown += 3
			} else {
				unknown = 0
			}
		}
		left -= bl + 7
	}
	return fitName(name, left) + msg, unknown
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// fitName cuts or pads s to n characters, as Python's "%-*.*s" does
// (a negative n pads to -n with nothing of s).
func fitName(s string, n int) string {
	if n < 0 {
		return strings.Repeat(" ", -n)
	}
	if utf8.RuneCountInString(s) > n {
		i, k := 0, 0
		for i = range s {
			if k == n {
				break
			}
			k++
		}
		s = s[:i]
	}
	return s + strings.Repeat(" ", n-utf8.RuneCountInString(s))
}

// formatNumber is dnf's format_number: a number of bytes scaled by 1024
// to at most 999 with a unit prefix, one decimal below 9.95, none above;
// whole numbers that need no scaling are printed as they are.
func formatNumber(x float64, whole bool) string {
	const symbols = " kMGTPEZY"
	depth := 0
	for x > 999 && depth < len(symbols)-1 {
		depth++
		x /= 1024
		whole = false
	}
	var num string
	switch {
	case whole:
		num = strconv.FormatInt(int64(x), 10)
	case x < 9.95:
		num = strconv.FormatFloat(x, 'f', 1, 64)
	default:
		num = strconv.FormatFloat(x, 'f', 0, 64)
	}
	return num + " " + symbols[depth:depth+1]
}

// formatTime is dnf's format_time: minutes and seconds, "MM:SS".
func formatTime(secs float64) string {
	if secs < 0 {
		return "--:--"
	}
	s := int64(secs)
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// MetadataCheckLine returns the line dnf prints (on stdout, without -q)
// when it loads every repository from its cache: how long ago the
// metadata was last checked (age, whole seconds, as Python's timedelta
// prints it) and when (the local time, as C's %c in the C locale), as in
//
//	Last metadata expiration check: 0:00:04 ago on Mon Nov 30 05:26:17 2026.
func MetadataCheckLine(age time.Duration, at time.Time) string {
	s := int64(age / time.Second)
	days, s := s/86400, s%86400
	ago := fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	switch {
	case days == 1:
		ago = "1 day, " + ago
	case days != 0:
		ago = fmt.Sprintf("%d days, %s", days, ago)
	}
	return fmt.Sprintf("Last metadata expiration check: %s ago on %s.\n", ago, at.Format("Mon Jan _2 15:04:05 2006"))
}
