package loadgen

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what a load met.
type Result struct {
	// Phases are the run's phases in order: "before", then one per
	// Mark.
	Phases []Phase
	// Failures are the first failed or wrong requests due, at most
	// Config.KeepFailures.
	Failures []Failure
	// Elapsed is the time from Start to the last answer.
	Elapsed time.Duration
	total   Phase
}

// Phase counts the requests due in one phase of a run. Latencies are of
// the requests sent, failed ones included, from the time each was due
// to its end.
type Phase struct {
	// Name is the phase's, given to Mark.
	Name string
	// Start is when it began, since the run's start.
	Start time.Duration
	// Requests are the requests due; Failed those that failed (a
	// transport error or timeout, an answer other than 200, or not sent
	// because of MaxInFlight, counted in Overflow too); Wrong the 200
	// answers with a wrong body.
	Requests, Failed, Overflow, Wrong int
	// Reasons counts the failures by reason ("status 500", "connection
	// refused", "timeout", "overflow", "wrong body"…).
	Reasons map[string]int
	// Latency percentiles (nearest rank) and maximum.
	P50, P90, P99, Max time.Duration
}

// Failure is a failed or wrong request.
type Failure struct {
	// At is when it was due, since the run's start; Phase the phase it
	// was counted in.
	At    time.Duration
	Phase string
	// Path is the path it requested, Conn "new" or "kept-alive".
	Path, Conn string
	// Wrong is set for a 200 answer with a wrong body.
	Wrong bool
	// Reason says what failed.
	Reason string
}

// String says when the failure was due, in which phase, on which
// connection, for which path, and why.
func (f Failure) String() string {
	return fmt.Sprintf("at %s (%s, %s): %s", fmtDur(f.At), f.Phase, strings.TrimSpace(f.Conn+" "+f.Path), f.Reason)
}

// Total sums up all phases.
func (r *Result) Total() Phase { return r.total }

// Phase returns the phase of that name.
func (r *Result) Phase(name string) (Phase, bool) {
	for _, p := range r.Phases {
		if p.Name == name {
			return p, true
		}
	}
	return Phase{}, false
}

// Err is nil when every request was answered right, else an error with
// the counts and the first failure.
func (r *Result) Err() error {
	t := r.total
	if t.Failed == 0 && t.Wrong == 0 {
		return nil
	}
	first := ""
	if len(r.Failures) > 0 {
		f := r.Failures[0]
		first = "; first " + f.String()
	}
	return fmt.Errorf("%d of %d requests failed, %d wrong%s", t.Failed, t.Requests, t.Wrong, first)
}

// String prints the phases and total as a table, the failures by reason
// and the first failures.
func (r *Result) String() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "phase\tstart\trequests\tfailed\twrong\tp50\tp90\tp99\tmax\t")
	row := func(p Phase, start string) {
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t\n", p.Name, start, p.Requests, p.Failed, p.Wrong,
			fmtDur(p.P50), fmtDur(p.P90), fmtDur(p.P99), fmtDur(p.Max))
	}
	for _, p := range r.Phases {
		row(p, fmtDur(p.Start))
	}
	if len(r.Phases) > 1 {
		row(r.total, "")
	}
	w.Flush()
	for _, k := range slices.Sorted(maps.Keys(r.total.Reasons)) {
		fmt.Fprintf(&b, "  %6d  %s\n", r.total.Reasons[k], k)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	return b.String()
}

// fmtDur rounds d to three significant digits or so.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}
