package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/match"
)

// stdSortProgram sorts, for each input line "mode n k1 k2 … kn", the
// indices 0…n-1 by key with std::sort (mode 0) or std::partial_sort over
// the whole range (mode 1, the heap sort introsort falls back to), and
// prints the resulting order.
const stdSortProgram = `#include <algorithm>
#include <iostream>
#include <vector>
int main() {
  int mode, n;
  while (std::cin >> mode >> n) {
    std::vector<int> key(n), v(n);
    for (int i = 0; i < n; i++) { std::cin >> key[i]; v[i] = i; }
    auto less = [&](int a, int b) { return key[a] < key[b]; };
    if (mode == 0) std::sort(v.begin(), v.end(), less);
    else std::partial_sort(v.begin(), v.end(), v.end(), less);
    for (int i = 0; i < n; i++) std::cout << v[i] << (i + 1 < n ? " " : "\n");
  }
}
`

// TestIntrosortMatchesLibstdcxx compares introsort and heapSort with
// libstdc++'s std::sort and std::partial_sort on arrays full of equal
// keys, where an unstable sort's order shows.
func TestIntrosortMatchesLibstdcxx(t *testing.T) {
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("g++ is needed to compare with libstdc++'s std::sort")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "sort.cc")
	require.NoError(t, os.WriteFile(src, []byte(stdSortProgram), 0o644))
	bin := filepath.Join(dir, "sort")
	out, err := exec.Command(cxx, "-O1", "-o", bin, src).CombinedOutput()
	require.NoError(t, err, string(out))

	r := rand.New(rand.NewPCG(1, 2))
	type tcase struct {
		mode int
		keys []int32
	}
	var cases []tcase
	for _, n := range []int{1, 2, 3, 15, 16, 17, 33, 100, 1000, 5000} {
		for _, distinct := range []int{1, 2, 5, 50, 1 << 20} {
			for mode := range 2 {
				keys := make([]int32, n)
				for i := range keys {
					keys[i] = int32(r.IntN(distinct))
				}
				cases = append(cases, tcase{mode, keys})
			}
		}
	}
	// Sorted, reversed and organ-pipe inputs.
	for _, n := range []int{40, 1000} {
		asc, desc, pipe := make([]int32, n), make([]int32, n), make([]int32, n)
		for i := range n {
			asc[i], desc[i], pipe[i] = int32(i/3), int32((n-i)/3), int32(min(i, n-i))
		}
		cases = append(cases, tcase{0, asc}, tcase{0, desc}, tcase{0, pipe})
	}
	// McIlroy's adversary drives introsort to its depth limit; halved
	// or thirded, its keys tie and the heap sort's order shows.
	for _, n := range []int{64, 200, 1000} {
		kill := killer(n)
		for _, div := range []int32{2, 3} {
			keys := make([]int32, n)
			for i := range keys {
				keys[i] = kill[i] / div
			}
			cases = append(cases, tcase{0, keys})
		}
	}
	require.True(t, heapSortShows(cases[len(cases)-1].keys), "the adversary's input reaches the heap sort")
	var in bytes.Buffer
	for _, c := range cases {
		fmt.Fprintf(&in, "%d %d", c.mode, len(c.keys))
		for _, k := range c.keys {
			fmt.Fprintf(&in, " %d", k)
		}
		in.WriteByte('\n')
	}
	cmd := exec.Command(bin)
	cmd.Stdin = &in
	got, err := cmd.Output()
	require.NoError(t, err)
	lines := strings.Split(string(got), "\n")
	for i, c := range cases {
		v := make([]int32, len(c.keys))
		for j := range v {
			v[j] = int32(j)
		}
		less := func(a, b int32) bool { return c.keys[a] < c.keys[b] }
		if c.mode == 0 {
			introsort(v, less)
		} else {
			heapSort(v, less)
		}
		want := lines[i]
		var b strings.Builder
		for j, x := range v {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Itoa(int(x)))
		}
		require.Equal(t, want, b.String(), "case %d: mode %d, %d keys", i, c.mode, len(c.keys))
	}
}

// TestListTies checks that List asks for libdnf's order only when rows
// tie, and prints tied rows (and, for a repeated ID, the last label) in
// that order.
func TestListTies(t *testing.T) {
	a1, a2, a3 := adv("A-1", "security", "Low", 5), adv("A-2", "bugfix", "-", 5), adv("A-3", "security", "Critical", 5)
	other := adv("B-1", "security", "Low", 9)
	tied := []match.Finding{finding(a1, "p", "1-2", "x86_64", false), finding(a2, "p", "1-2", "x86_64", false),
		finding(a3, "p", "1-2", "x86_64", false), finding(other, "p", "1-2", "x86_64", false)}
	for _, f := range []struct{ a *advisory.Advisory }{{a1}, {a3}} {
		f.a.References = []advisory.Reference{{Type: advisory.RefCVE, ID: "CVE-1", Present: advisory.RefHasID}}
	}
	order := func(fs ...match.Finding) *TieOrder {
		o := &TieOrder{pos: map[*advisory.Package]int32{}}
		for i, f := range fs {
			o.pos[f.Fixed] = int32(i)
		}
		return o
	}
	tests := []struct {
		name     string
		findings []match.Finding
		ties     *TieOrder
		opts     Options
		want     string
		asked    int
	}{
		{"no order: document order", tied, nil, Options{}, "A-1 Low/Sec.      p-1-2.x86_64\nA-2 bugfix        p-1-2.x86_64\n" +
			"A-3 Critical/Sec. p-1-2.x86_64\nB-1 Low/Sec.      p-1-2.x86_64\n", 0},
		{"libdnf's order", tied, order(tied[2], tied[0], tied[3], tied[1]), Options{},
			"A-3 Critical/Sec. p-1-2.x86_64\nA-1 Low/Sec.      p-1-2.x86_64\nA-2 bugfix        p-1-2.x86_64\n" +
				"B-1 Low/Sec.      p-1-2.x86_64\n", 1},
		{"repeated ID: the last label", tied[:3], order(tied[2], tied[1], tied[0]), Options{WithCVE: true},
			"CVE-1 Low/Sec. p-1-2.x86_64\n", 1},
		{"no ties: not asked", tied[2:], order(), Options{}, "A-3 Critical/Sec. p-1-2.x86_64\nB-1 Low/Sec.      p-1-2.x86_64\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked := 0
			opts := tt.opts
			if tt.ties != nil {
				opts.Ties = func() (*TieOrder, error) { asked++; return tt.ties, nil }
			}
			var b bytes.Buffer
			require.NoError(t, List(&b, tt.findings, opts))
			assert.Equal(t, tt.want, b.String())
			assert.Equal(t, tt.asked, asked)
		})
	}
}

// TestTieSorterPool checks the string ids the sorter models on a small
// case: rpmdb strings in database order, then a primary solv file's new
// strings by need (most first) and bytewise, then an updateinfo's.
func TestTieSorterPool(t *testing.T) {
	s := NewTieSorter("x86_64")
	s.AddRPMDB([]SolvPackage{{Name: "zlib", Arch: "x86_64", EVR: "1.0-1"}, {Name: "bash", Arch: "noarch", EVR: "2.0-1"}})
	s.AddPrimary([]SolvPackage{
		{Name: "zlib", Arch: "x86_64", EVR: "1.1-1", Provides: []SolvDep{{"zlib", "1.1-1"}, {"zlib(x86-64)", "1.1-1"}}},
		{Name: "bash", Arch: "noarch", EVR: "1.0-9", Provides: []SolvDep{{"bash", "1.0-9"}}},
	})
	a := &advisory.Advisory{ID: "A", Collections: []advisory.Collection{{Packages: []advisory.Package{
		{Name: "curl", EVR: "0.5-1", Arch: "x86_64", HasArch: true}, {Name: "bash", EVR: "0.1-1", Arch: "noarch", HasArch: true},
		{Name: "bash", EVR: "0.5-1", Arch: "noarch", HasArch: true}}}}}
	s.AddAdvisory(a, func(*advisory.Collection) bool { return true }, nil)
	s.EndRepository()
	id := func(str string) int32 { return s.pool[str] }
	assert.Less(t, id("x86_64"), id("i686"))
	assert.Less(t, id("zlib"), id("bash"), "database order, not name order")
	assert.Less(t, id("1.0-1"), id("2.0-1"))
	assert.Less(t, id("1.1-1"), id("1.0-9"), "need 3 before need 2")
	assert.Less(t, id("1.0-9"), id("0.5-1"), "primary before updateinfo")
	assert.Less(t, id("0.5-1"), id("curl"), "need 7 before 4")
	assert.Less(t, id("curl"), id("0.1-1"), "need 4 before 3")
}

// killer returns McIlroy's adversarial input for introsort ("A Killer
// Adversary for Quicksort"): values fixed lazily as the sort compares
// them, so that partitions come out as unbalanced as possible.
func killer(n int) []int32 {
	gas := int32(n)
	val := make([]int32, n)
	for i := range val {
		val[i] = gas
	}
	solid := int32(0)
	candidate := int32(-1)
	v := iota32(n)
	introsort(v, func(x, y int32) bool {
		if val[x] == gas && val[y] == gas {
			if x == candidate {
				val[x] = solid
			} else {
				val[y] = solid
			}
			solid++
		}
		if val[x] == gas {
			candidate = x
		} else if val[y] == gas {
			candidate = y
		}
		return val[x] < val[y]
	})
	return val
}

func iota32(n int) []int32 {
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(i)
	}
	return v
}

// heapSortShows reports whether introsort orders keys otherwise than it
// would without a depth limit, that is whether its heap sort ran and
// left ties in another order.
func heapSortShows(keys []int32) bool {
	less := func(a, b int32) bool { return keys[a] < keys[b] }
	limited, unlimited := iota32(len(keys)), iota32(len(keys))
	introsort(limited, less)
	introsortLoop(unlimited, 0, len(keys), 1<<30, less)
	finalInsertionSort(unlimited, 0, len(keys), less)
	return !slices.Equal(limited, unlimited)
}
