//go:build ignore

// Command testlog reads `go test -json` on stdin and prints what plain
// `go test` prints: the output of failed tests, build errors, and each
// package's summary line (ok, FAIL, no test files). It then lists every
// test that skipped, with its reason, and fails when one is not on the
// allow-list: a file of "PACKAGE TEST" lines (PACKAGE relative to the
// module, TEST a test or subtest name, which also allows its subtests),
// each after a comment saying why it may skip.
//
//	go test -json ./... | go run .ci/testlog.go -allow .ci/skips -module github.com/alicorn-dev/alicorn
//
// Exit status: 0 when every test passed and every skip is allowed, 1
// otherwise (a failed test or package, or a skip not on the list).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json's TestEvent).
type event struct {
	Action      string
	Package     string
	ImportPath  string // build-output, build-fail
	Test        string
	Output      string
	FailedBuild string
}

// skip is a test that skipped.
type skip struct {
	pkg, test, reason string
}

func main() {
	allowFile := flag.String("allow", ".ci/skips", "allow-list of tests that may skip")
	module := flag.String("module", "", "module path, trimmed from package names")
	flag.Parse()
	allowed, err := readAllowList(*allowFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testlog:", err)
		os.Exit(1)
	}
	skips, failed, err := summarize(os.Stdin, os.Stdout, *module)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testlog:", err)
		os.Exit(1)
	}
	var bad []skip
	used := map[string]bool{}
	fmt.Printf("\nskipped tests: %d\n", len(skips))
	for _, s := range skips {
		entry, ok := allows(allowed, s)
		mark := "allowed"
		if ok {
			used[entry] = true
		} else {
			mark = "NOT ALLOWED"
			bad = append(bad, s)
		}
		fmt.Printf("  %-12s %s %s: %s\n", mark, s.pkg, s.test, s.reason)
	}
	for _, entry := range sortedKeys(allowed) {
		if !used[entry] {
			fmt.Printf("note: %s (%s) is allowed to skip and did not\n", entry, *allowFile)
		}
	}
	if len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "testlog: %d test(s) skipped that %s does not allow: make them run here, or list each with the reason it cannot\n",
			len(bad), *allowFile)
	}
	if failed || len(bad) > 0 {
		os.Exit(1)
	}
}

// readAllowList reads "PACKAGE TEST" lines; "#" starts a comment, and
// every entry must follow one (its reason).
func readAllowList(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	commented := false
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			commented = false
		case strings.HasPrefix(line, "#"):
			commented = true
		default:
			f := strings.Fields(line)
			if len(f) != 2 {
				return nil, fmt.Errorf("%s:%d: want PACKAGE TEST, got %q", path, i+1, line)
			}
			if !commented {
				return nil, fmt.Errorf("%s:%d: %s %s has no comment above it saying why it may skip", path, i+1, f[0], f[1])
			}
			out[f[0]+" "+f[1]] = true
		}
	}
	return out, nil
}

// allows finds the entry that allows s: its test or a parent test.
func allows(allowed map[string]bool, s skip) (string, bool) {
	name := s.test
	for {
		if k := s.pkg + " " + name; allowed[k] {
			return k, true
		}
		i := strings.LastIndex(name, "/")
		if i < 0 {
			return "", false
		}
		name = name[:i]
	}
}

// summarize prints the plain output of the events read and returns the
// tests that skipped, and whether anything failed.
func summarize(r io.Reader, w io.Writer, module string) ([]skip, bool, error) {
	short := func(pkg string) string {
		if pkg == module {
			return "."
		}
		return strings.TrimPrefix(pkg, module+"/")
	}
	var skips []skip
	failed := false
	// The output of each running test, printed if it fails.
	outputs := map[string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			// Not an event (go test's own errors): as it is.
			fmt.Fprintln(w, string(line))
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Action == "build-fail":
			failed = true
		case e.Test == "":
			// Package-level: its summary line, and what no test printed
			// (a panic, a timeout).
			if e.Action == "fail" {
				failed = true
			}
			if e.Action == "output" && e.Output != "PASS\n" && !strings.HasPrefix(e.Output, "=== ") {
				fmt.Fprint(w, e.Output)
			}
		case e.Action == "output":
			outputs[key] = append(outputs[key], e.Output)
		case e.Action == "fail":
			failed = true
			for _, o := range outputs[key] {
				if !strings.HasPrefix(o, "=== ") {
					fmt.Fprint(w, o)
				}
			}
			delete(outputs, key)
		case e.Action == "skip":
			skips = append(skips, skip{pkg: short(e.Package), test: e.Test, reason: skipReason(outputs[key])})
			delete(outputs, key)
		case e.Action == "pass":
			delete(outputs, key)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, true, err
	}
	sort.SliceStable(skips, func(i, j int) bool {
		if skips[i].pkg != skips[j].pkg {
			return skips[i].pkg < skips[j].pkg
		}
		return skips[i].test < skips[j].test
	})
	return skips, failed, nil
}

// skipReason is what a skipped test logged, on one line.
func skipReason(out []string) string {
	var parts []string
	for _, o := range out {
		o = strings.TrimSpace(o)
		if o == "" || strings.HasPrefix(o, "=== ") || strings.HasPrefix(o, "--- SKIP") {
			continue
		}
		parts = append(parts, o)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
