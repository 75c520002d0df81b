package main

import (
	"strings"
	"testing"
	"time"
)

func TestTable(t *testing.T) {
	rows := []row{
		{probe: "deep | path", bin: "before", result: result{code: 1, wall: 1500 * time.Millisecond, rss: 300 << 10,
			tmpPeak: 3 << 30, tmpLeft: 2048, stderr: "dnf-security: a|b `c`\nsecond line\n"}},
		{probe: "stall", bin: "after", result: result{code: -1, signal: "killed", killed: 120 * time.Second,
			wall: 120 * time.Second, rss: 12 << 10, stderr: strings.Repeat("é", 150)}},
	}
	want := "| probe | binary | exit | wall | peak RSS | peak TMPDIR | TMPDIR after | stderr (first line) |\n" +
		"|---|---|---|--:|--:|--:|--:|---|\n" +
		"| deep \\| path | before | 1 | 1.50 s | 300.0 MiB | 3.00 GiB | 2.0 KiB | `dnf-security: a\\|b 'c'` |\n" +
		"| stall | after | killed at 120 s | 120.00 s | 12.0 MiB | 0 B | 0 B | `" + strings.Repeat("é", 100) + "…` |\n"
	if got := table(rows); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestShorten(t *testing.T) {
	in := "dnf-security: image oci:/w/inputs/x: layer 1 (sha256:" + strings.Repeat("ab", 32) + "): /w/inputs/x is bad\n"
	want := "image oci:inputs/x: layer 1 (sha256:abababababab): inputs/x is bad\n"
	if got := shorten(in, "/w"); got != want {
		t.Errorf("shorten = %q, want %q", got, want)
	}
}
