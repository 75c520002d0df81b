package report

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"

	"github.com/alicorn-dev/alicorn/advisory"
)

// dnf lists rows that tie on (NEVRA, installed, updated) in the order
// libdnf's Query::getAdvisoryPkgs leaves the advisory packages: it
// gathers every package of every advisory (repositories in load order,
// advisories in document order, collections whose modules are active)
// and sorts them with libstdc++'s std::sort, an unstable introsort,
// comparing only libsolv's pool ids of name, arch and EVR. Equal
// packages of different advisories then come out in an order that
// depends on every element and on the ids, so both are modelled here:
// SolvPool numbers strings as libsolv's pool does, and introsort is
// libstdc++'s algorithm step for step.

// SolvPool numbers strings in the order libsolv's string pool gives
// them ids: its predefined strings, the architectures of the machine's
// policy, then whatever each loaded repository adds, in load order.
type SolvPool struct {
	ids map[string]int32
}

// archPolicies are libsolv's architecture policies (poolarch.c) for the
// machines dnf runs on: pool_setarch interns them left to right.
var archPolicies = map[string][]string{
	"x86_64":  {"x86_64", "i686", "i586", "i486", "i386"},
	"i686":    {"i686", "i586", "i486", "i386"},
	"aarch64": {"aarch64"},
	"ppc64le": {"ppc64le"},
	"s390x":   {"s390x"},
}

// NewSolvPool returns a pool holding libsolv's predefined strings that
// can name an architecture and the policy of arch (dnf's basearch
// machine).
func NewSolvPool(arch string) *SolvPool {
	p := &SolvPool{ids: make(map[string]int32, 1024)}
	for _, s := range []string{"", "src", "nosrc", "noarch", "all", "any"} {
		p.Add(s)
	}
	policy, ok := archPolicies[arch]
	if !ok {
		policy = []string{arch}
	}
	for _, s := range policy {
		p.Add(s)
	}
	return p
}

// Add interns s, as pool_str2id(pool, s, 1) does.
func (p *SolvPool) Add(s string) {
	if _, ok := p.ids[s]; !ok {
		p.ids[s] = int32(len(p.ids) + 1)
	}
}

// ID returns the id of s, or 0 (libsolv's "no value") if s was never
// added.
func (p *SolvPool) ID(s string) int32 { return p.ids[s] }

// SolvPackage is a package as the pool sees it: name, arch, EVR and the
// versioned provides (provides without a version leave EVR empty).
type SolvPackage struct {
	Name, Arch, EVR string
	Provides        []SolvDep
}

// SolvDep is a dependency: a name and, for a versioned one, an EVR.
type SolvDep struct{ Name, EVR string }

// AddRPMDB adds the installed packages, given in rpm database order, as
// libsolv's repo_add_rpmdb reads them (dnf 4.14 keeps no cache of the
// rpmdb): in that order, each package's name, arch and EVR, then its
// provides.
func (p *SolvPool) AddRPMDB(pkgs []SolvPackage) {
	for i := range pkgs {
		s := &pkgs[i]
		p.Add(s.Name)
		p.Add(s.Arch)
		p.Add(s.EVR)
		for _, d := range s.Provides {
			p.Add(d.Name)
			if d.EVR != "" {
				p.Add(d.EVR)
			}
		}
	}
}

// needs counts how often a repository's solv file refers to each
// string, as libsolv's repowriter does to order its string table.
type needs map[string]int

// rel counts a relation between strings a and b (either "" when it is
// itself a relation) once per distinct relation, as repowriter counts
// the components of the relations it writes.
func (n needs) rel(seen map[[3]string]bool, a, b, op string) {
	k := [3]string{a, b, op}
	if seen[k] {
		return
	}
	seen[k] = true
	if op[0] != '^' {
		n[a]++
	}
	n[b]++
}

// AddPrimary adds a repository's packages as dnf's cached solv file of
// its primary metadata holds them: new strings ordered by how often the
// file refers to them (most first), then bytewise.
func (p *SolvPool) AddPrimary(pkgs []SolvPackage) {
	n := needs{}
	seen := map[[3]string]bool{}
	for i := range pkgs {
		s := &pkgs[i]
		n[s.Name]++
		n[s.Arch]++
		n[s.EVR]++
		for _, d := range s.Provides {
			if d.EVR == "" {
				n[d.Name]++
				continue
			}
			n.rel(seen, d.Name, d.EVR, "=")
		}
	}
	p.addSolv(n)
}

// AddUpdateinfo adds a repository's advisories as dnf's cached solv
// file of its updateinfo holds them. Each package entry is stored
// twice (under the advisory and under its collection), and each adds
// the conflicts "name.arch < evr" and "name.noarch < evr" (or
// "name < evr" for a noarch package) to its advisory.
func (p *SolvPool) AddUpdateinfo(advs []*advisory.Advisory) {
	n := needs{}
	seen := map[[3]string]bool{}
	for _, a := range advs {
		n["patch:"+a.ID] += 2 // name and provides "patch:ID = version"
		n["noarch"]++
		for _, s := range []string{a.Version, a.From, a.Status} {
			n[s]++
		}
		if a.Has(advisory.HasSeverity) {
			n[a.Severity]++
		}
		if a.Has(advisory.HasRights) {
			n[a.Rights]++
		}
		for _, c := range a.Collections {
			for _, m := range c.Modules {
				for _, s := range []string{m.Name, m.Stream, m.Version, m.Context, m.Arch} {
					n[s] += 2
				}
			}
			for _, pk := range c.Packages {
				n[pk.Name] += 2
				n[pk.EVR] += 2
				if pk.HasArch {
					n[pk.Arch] += 2
				}
				if pk.HasArch && pk.Arch != "noarch" {
					n.rel(seen, pk.Name, pk.Arch, ".")
					n.rel(seen, pk.Name+"\x00"+pk.Arch, pk.EVR, "^<")
					n.rel(seen, pk.Name, "noarch", ".")
					n.rel(seen, pk.Name+"\x00noarch", pk.EVR, "^<")
				} else {
					n.rel(seen, pk.Name, pk.EVR, "<")
				}
			}
		}
	}
	p.addSolv(n)
}

// addSolv interns the strings of a solv file not yet in the pool, in
// the file's order: by need, most first, then bytewise (repo_write.c).
func (p *SolvPool) addSolv(n needs) {
	type sn struct {
		s string
		n int
	}
	var fresh []sn
	for s, c := range n {
		if _, ok := p.ids[s]; !ok && s != "" {
			fresh = append(fresh, sn{s, c})
		}
	}
	slices.SortFunc(fresh, func(a, b sn) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return strings.Compare(a.s, b.s)
	})
	for _, f := range fresh {
		p.Add(f.s)
	}
}

// solvKey is an advisory package as libdnf's advisoryPkgSort compares
// it: pool ids of name, arch and EVR.
type solvKey struct{ name, arch, evr int32 }

func (a solvKey) less(b solvKey) bool {
	if a.name != b.name {
		return a.name < b.name
	}
	if a.arch != b.arch {
		return a.arch < b.arch
	}
	return a.evr < b.evr
}

// TieOrder is the position of advisory packages in the list libdnf's
// getAdvisoryPkgs sorts; rows that tie in dnf's list come out in this
// order.
type TieOrder struct {
	pos map[*advisory.Package]int32
}

// NewTieOrder sorts the packages of advisories (every advisory of every
// repository, in dnf's load order) as libdnf does, with ids from pool.
// Collections for which applicable is false (modules not active) are
// left out, as libdnf leaves them out. kept maps an advisory of the
// list to the one the report's findings point to (nil when none does).
func NewTieOrder(pool *SolvPool, advisories []*advisory.Advisory, applicable func(*advisory.Collection) bool,
	kept func(i int) *advisory.Advisory) *TieOrder {
	var keys []solvKey
	var pkgs []*advisory.Package
	for i, a := range advisories {
		k := kept(i)
		for c := range a.Collections {
			coll := &a.Collections[c]
			if !applicable(coll) {
				continue
			}
			for j := range coll.Packages {
				pk := &coll.Packages[j]
				key := solvKey{name: pool.ID(pk.Name), evr: pool.ID(pk.EVR)}
				if pk.HasArch {
					key.arch = pool.ID(pk.Arch)
				}
				keys = append(keys, key)
				var target *advisory.Package
				if k != nil && c < len(k.Collections) && j < len(k.Collections[c].Packages) {
					target = &k.Collections[c].Packages[j]
				}
				pkgs = append(pkgs, target)
			}
		}
	}
	v := make([]int32, len(keys))
	for i := range v {
		v[i] = int32(i)
	}
	introsort(v, func(a, b int32) bool { return keys[a].less(keys[b]) })
	t := &TieOrder{pos: make(map[*advisory.Package]int32, len(v))}
	for at, i := range v {
		if pk := pkgs[i]; pk != nil {
			if _, dup := t.pos[pk]; !dup {
				t.pos[pk] = int32(at)
			}
		}
	}
	return t
}

// Position returns where libdnf's sort put the advisory package, and
// false for a package it did not see.
func (t *TieOrder) Position(p *advisory.Package) (int32, bool) {
	at, ok := t.pos[p]
	return at, ok
}

// The rest is libstdc++'s std::sort (bits/stl_algo.h, bits/stl_heap.h),
// written from its description: introsort with the median of the
// second, middle and last elements moved to the front as the pivot, an
// unguarded Hoare partition, a depth limit of 2*floor(log2(n)) after
// which a range is heap sorted, and ranges of at most 16 elements left
// to one insertion sort at the end.

const sortThreshold = 16

func introsort(v []int32, less func(a, b int32) bool) {
	if len(v) < 2 {
		return
	}
	introsortLoop(v, 0, len(v), 2*(bits.Len(uint(len(v)))-1), less)
	finalInsertionSort(v, 0, len(v), less)
}

func introsortLoop(v []int32, first, last, depth int, less func(a, b int32) bool) {
	for last-first > sortThreshold {
		if depth == 0 {
			heapSort(v[first:last], less)
			return
		}
		depth--
		cut := partitionPivot(v, first, last, less)
		introsortLoop(v, cut, last, depth, less)
		last = cut
	}
}

func partitionPivot(v []int32, first, last int, less func(a, b int32) bool) int {
	mid := first + (last-first)/2
	medianToFirst(v, first, first+1, mid, last-1, less)
	return unguardedPartition(v, first+1, last, first, less)
}

func medianToFirst(v []int32, result, a, b, c int, less func(a, b int32) bool) {
	var m int
	switch {
	case less(v[a], v[b]):
		switch {
		case less(v[b], v[c]):
			m = b
		case less(v[a], v[c]):
			m = c
		default:
			m = a
		}
	case less(v[a], v[c]):
		m = a
	case less(v[b], v[c]):
		m = c
	default:
		m = b
	}
	v[result], v[m] = v[m], v[result]
}

func unguardedPartition(v []int32, first, last, pivot int, less func(a, b int32) bool) int {
	for {
		for less(v[first], v[pivot]) {
			first++
		}
		last--
		for less(v[pivot], v[last]) {
			last--
		}
		if first >= last {
			return first
		}
		v[first], v[last] = v[last], v[first]
		first++
	}
}

func finalInsertionSort(v []int32, first, last int, less func(a, b int32) bool) {
	if last-first > sortThreshold {
		insertionSort(v, first, first+sortThreshold, less)
		for i := first + sortThreshold; i < last; i++ {
			unguardedLinearInsert(v, i, less)
		}
		return
	}
	insertionSort(v, first, last, less)
}

func insertionSort(v []int32, first, last int, less func(a, b int32) bool) {
	if first == last {
		return
	}
	for i := first + 1; i < last; i++ {
		if less(v[i], v[first]) {
			x := v[i]
			copy(v[first+1:i+1], v[first:i])
			v[first] = x
		} else {
			unguardedLinearInsert(v, i, less)
		}
	}
}

func unguardedLinearInsert(v []int32, last int, less func(a, b int32) bool) {
	x := v[last]
	next := last - 1
	for less(x, v[next]) {
		v[last] = v[next]
		last = next
		next--
	}
	v[last] = x
}

// heapSort is std::partial_sort(first, last, last): make_heap, then
// sort_heap.
func heapSort(v []int32, less func(a, b int32) bool) {
	n := len(v)
	if n >= 2 {
		for parent := (n - 2) / 2; ; parent-- {
			adjustHeap(v, parent, n, v[parent], less)
			if parent == 0 {
				break
			}
		}
	}
	for last := n - 1; last > 0; last-- {
		x := v[last]
		v[last] = v[0]
		adjustHeap(v, 0, last, x, less)
	}
}

func adjustHeap(v []int32, hole, n int, x int32, less func(a, b int32) bool) {
	top := hole
	child := hole
	for child < (n-1)/2 {
		child = 2 * (child + 1)
		if less(v[child], v[child-1]) {
			child--
		}
		v[hole] = v[child]
		hole = child
	}
	if n&1 == 0 && child == (n-2)/2 {
		child = 2 * (child + 1)
		v[hole] = v[child-1]
		hole = child - 1
	}
	parent := (hole - 1) / 2
	for hole > top && less(v[parent], x) {
		v[hole] = v[parent]
		hole = parent
		parent = (hole - 1) / 2
	}
	v[hole] = x
}

// orderTies puts the rows of each group of entries (sorted by key, then
// sequence) that come from different advisories in the order of ties,
// when there are such groups and ties is set: dnf prints a group's IDs
// in the order libdnf's sort left their packages, and with a repeated
// ID (--with-cve) the label of the last.
func orderTies(entries []listEntry, ties func() (*TieOrder, error)) error {
	if ties == nil {
		return nil
	}
	var t *TieOrder
	for i := 0; i < len(entries); {
		j := i + 1
		mixed := false
		for j < len(entries) && entries[j].key == entries[i].key {
			mixed = mixed || entries[j].adv != entries[i].adv
			j++
		}
		if mixed {
			if t == nil {
				var err error
				if t, err = ties(); err != nil {
					return err
				}
				if t == nil {
					return nil
				}
			}
			slices.SortStableFunc(entries[i:j], func(a, b listEntry) int {
				pa, oka := t.Position(a.pkg)
				pb, okb := t.Position(b.pkg)
				if oka != okb {
					if oka {
						return -1
					}
					return 1
				}
				return cmp.Compare(pa, pb)
			})
		}
		i = j
	}
	return nil
}
