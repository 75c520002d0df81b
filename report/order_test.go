package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
