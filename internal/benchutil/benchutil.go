// Package benchutil runs the commands that benchmark scripts compare:
// whole processes, timed, with their peak RSS, in alternating pairs so
// that a machine that speeds up or slows down affects both sides alike.
package benchutil

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Measure is one run of a command.
type Measure struct {
	Wall time.Duration
	RSS  int64 // peak, KiB
	Out  []byte
}

// Run runs a command with env and measures it.
func Run(env []string, name string, args ...string) (Measure, error) {
	return run(env, nil, name, args...)
}

func run(env []string, okCodes []int, name string, args ...string) (Measure, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	m := Measure{Wall: time.Since(start), Out: out.Bytes()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.RSS = ru.Maxrss
	}
	if ee, ok := err.(*exec.ExitError); ok && slices.Contains(okCodes, ee.ExitCode()) {
		err = nil
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, errb.String())
	}
	return m, nil
}

// Side is one of the two commands of a pair; Before, when set, runs
// ahead of every run (to empty a cache, say).
type Side struct {
	Before func()
	Name   string
	Args   []string
	// OK are exit statuses besides 0 that are not failures (osv-scanner
	// exits 1 when it finds vulnerabilities).
	OK []int
}

// Result sums up the runs of one side: the median wall time, the largest
// peak RSS and the last output.
type Result struct {
	Wall time.Duration
	RSS  int64
	Out  []byte
}

// Paired runs a and b alternately, runs times each, and returns their
// results and the median of the per-pair ratios a/b (b's speed-up).
func Paired(runs int, env []string, a, b Side) (ra, rb Result, speedup float64, err error) {
	var wa, wb []time.Duration
	var ratios []float64
	for range runs {
		var m [2]Measure
		for i, s := range []Side{a, b} {
			if s.Before != nil {
				s.Before()
			}
			if m[i], err = run(env, s.OK, s.Name, s.Args...); err != nil {
				return ra, rb, 0, err
			}
		}
		wa, wb = append(wa, m[0].Wall), append(wb, m[1].Wall)
		ra.RSS, rb.RSS = max(ra.RSS, m[0].RSS), max(rb.RSS, m[1].RSS)
		ra.Out, rb.Out = m[0].Out, m[1].Out
		ratios = append(ratios, float64(m[0].Wall)/float64(m[1].Wall))
	}
	slices.Sort(wa)
	slices.Sort(wb)
	slices.Sort(ratios)
	ra.Wall, rb.Wall = wa[len(wa)/2], wb[len(wb)/2]
	return ra, rb, ratios[len(ratios)/2], nil
}
