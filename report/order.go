package report

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/match"
)

// dnf lists rows that tie on (NEVRA, installed, updated) in the order
// libdnf's Query::getAdvisoryPkgs leaves the advisory packages: it
// gathers every package of every advisory (repositories in load order,
// advisories in document order, collections whose modules are active)
// and sorts them with libstdc++'s std::sort, an unstable introsort,
// comparing only libsolv's pool ids of name, arch and EVR. Equal
// packages of different advisories then come out in an order that
// depends on every element and on the ids, so both are modelled here:
// TieSorter numbers strings as libsolv's pool does, and introsort is
// libstdc++'s algorithm step for step.

// TieSorter gathers what libdnf's sort of advisory packages sees and
// sorts it as libdnf does. Feed it in dnf's load order: AddRPMDB, then
// for each repository AddPrimary, AddAdvisory for each advisory and
// EndRepository; then Sort.
//
// Its string ids follow libsolv's pool as dnf 4.14 fills it with a warm
// cache: the predefined strings and the machine's architectures, the
// rpmdb's strings in database order, then each repository's primary and
// updateinfo solv files, whose new strings come in the order libsolv's
// repowriter stores them: the most referred to first, then bytewise.
// Only strings that can be compared (names, EVRs, architectures, and
// the module and severity strings that may equal them) are counted.
type TieSorter struct {
	pool    map[string]int32 // libsolv's ids, in order of creation
	local   map[string]int32 // strings of the packages sorted, copied
	strs    []string         // local id -> string
	need    []int            // local id -> references in the current solv file
	touched []int32          // local ids with a need
	rels    map[[4]int32]bool
	ents    []tieEntry
}

type tieEntry struct {
	name, arch, evr int32 // local ids, -1 for none
	pkg             *advisory.Package
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

// NewTieSorter returns a sorter for a machine of architecture arch.
func NewTieSorter(arch string) *TieSorter {
	t := &TieSorter{pool: make(map[string]int32, 1024), local: map[string]int32{}, rels: map[[4]int32]bool{}}
	for _, s := range []string{"", "src", "nosrc", "noarch", "all", "any"} {
		t.add(s)
	}
	policy, ok := archPolicies[arch]
	if !ok {
		policy = []string{arch}
	}
	for _, s := range policy {
		t.add(s)
	}
	return t
}

// add interns s in the pool, as pool_str2id(pool, s, 1) does.
func (t *TieSorter) add(s string) {
	if _, ok := t.pool[s]; !ok {
		t.pool[s] = int32(len(t.pool) + 1)
	}
}

// SolvPackage is a package as the pool sees it: name, arch, EVR
// ([epoch:]version-release, no epoch when it is 0) and the provides.
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
func (t *TieSorter) AddRPMDB(pkgs []SolvPackage) {
	for i := range pkgs {
		s := &pkgs[i]
		t.add(s.Name)
		t.add(s.Arch)
		t.add(s.EVR)
		for _, d := range s.Provides {
			t.add(d.Name)
			if d.EVR != "" {
				t.add(d.EVR)
			}
		}
	}
}

// intern returns the local id of s, copying s the first time: the
// advisories AddAdvisory sees are only lent.
func (t *TieSorter) intern(s string) int32 {
	if id, ok := t.local[s]; ok {
		return id
	}
	s = strings.Clone(s)
	id := int32(len(t.strs))
	t.local[s] = id
	t.strs = append(t.strs, s)
	t.need = append(t.need, 0)
	return id
}

// ref counts a reference of the current solv file to the string id.
func (t *TieSorter) ref(id int32, n int) {
	if t.need[id] == 0 {
		t.touched = append(t.touched, id)
	}
	t.need[id] += n
}

// rel counts the relation "a op b": repowriter counts the string parts
// of each distinct relation once.
func (t *TieSorter) rel(a, b, op int32) {
	k := [4]int32{a, b, -1, op}
	if t.rels[k] {
		return
	}
	t.rels[k] = true
	t.ref(a, 1)
	t.ref(b, 1)
}

// archRel counts "name.arch < evr", a relation whose first part is the
// relation "name.arch" (counted by rel): only evr is a string part.
func (t *TieSorter) archRel(name, arch, evr int32) {
	k := [4]int32{name, arch, evr, relArchLT}
	if t.rels[k] {
		return
	}
	t.rels[k] = true
	t.ref(evr, 1)
}

// Relation kinds, for rel.
const (
	relEQ = iota
	relLT
	relArch
	relArchLT
)

// AddPrimary adds a repository's packages as dnf's cached solv file of
// its primary metadata holds them.
func (t *TieSorter) AddPrimary(pkgs []SolvPackage) {
	for i := range pkgs {
		s := &pkgs[i]
		t.ref(t.intern(s.Name), 1)
		t.ref(t.intern(s.Arch), 1)
		t.ref(t.intern(s.EVR), 1)
		for _, d := range s.Provides {
			if d.EVR == "" {
				t.ref(t.intern(d.Name), 1)
				continue
			}
			t.rel(t.intern(d.Name), t.intern(d.EVR), relEQ)
		}
	}
	t.endSolv()
}

// AddAdvisory adds an advisory of the current repository. Its packages
// join the sort unless applicable says their collection's modules are
// not active; kept is the advisory the report's findings point to
// (nil when none does), whose packages get the positions.
func (t *TieSorter) AddAdvisory(a *advisory.Advisory, applicable func(*advisory.Collection) bool, kept *advisory.Advisory) {
	if a.Has(advisory.HasSeverity) {
		t.ref(t.intern(a.Severity), 1)
	}
	for c := range a.Collections {
		coll := &a.Collections[c]
		// Each package entry (and module) is stored twice: under the
		// advisory and under its collection.
		for _, m := range coll.Modules {
			for _, s := range [...]string{m.Name, m.Stream, m.Version, m.Context, m.Arch} {
				t.ref(t.intern(s), 2)
			}
		}
		on := applicable(coll)
		for j := range coll.Packages {
			pk := &coll.Packages[j]
			e := tieEntry{name: t.intern(pk.Name), arch: -1, evr: t.intern(pk.EVR)}
			t.ref(e.name, 2)
			t.ref(e.evr, 2)
			if pk.HasArch {
				e.arch = t.intern(pk.Arch)
				t.ref(e.arch, 2)
			}
			// libsolv adds the conflicts "name.arch < evr" and
			// "name.noarch < evr", or "name < evr" for noarch.
			if pk.HasArch && pk.Arch != "noarch" {
				noarch := t.intern("noarch")
				t.rel(e.name, e.arch, relArch)
				t.archRel(e.name, e.arch, e.evr)
				t.rel(e.name, noarch, relArch)
				t.archRel(e.name, noarch, e.evr)
			} else {
				t.rel(e.name, e.evr, relLT)
			}
			if !on {
				continue
			}
			if kept != nil && c < len(kept.Collections) && j < len(kept.Collections[c].Packages) {
				e.pkg = &kept.Collections[c].Packages[j]
			}
			t.ents = append(t.ents, e)
		}
	}
}

// EndRepository ends the current repository's advisories: the strings
// of its updateinfo solv file join the pool.
func (t *TieSorter) EndRepository() { t.endSolv() }

// endSolv interns the strings of the current solv file not yet in the
// pool, in the file's order: by need, most first, then bytewise
// (repo_write.c).
func (t *TieSorter) endSolv() {
	var fresh []int32
	for _, id := range t.touched {
		if _, ok := t.pool[t.strs[id]]; !ok {
			fresh = append(fresh, id)
		}
	}
	slices.SortFunc(fresh, func(a, b int32) int {
		if c := cmp.Compare(t.need[b], t.need[a]); c != 0 {
			return c
		}
		return strings.Compare(t.strs[a], t.strs[b])
	})
	for _, id := range fresh {
		t.add(t.strs[id])
	}
	for _, id := range t.touched {
		t.need[id] = 0
	}
	t.touched = t.touched[:0]
	clear(t.rels)
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

// Sort sorts the advisory packages added as libdnf does.
func (t *TieSorter) Sort() *TieOrder {
	ids := make([]int32, len(t.strs))
	for i, s := range t.strs {
		if s != "" {
			ids[i] = t.pool[s]
		}
	}
	keys := make([]solvKey, len(t.ents))
	v := make([]int32, len(t.ents))
	for i, e := range t.ents {
		keys[i] = solvKey{name: ids[e.name], evr: ids[e.evr]}
		if e.arch >= 0 {
			keys[i].arch = ids[e.arch]
		}
		v[i] = int32(i)
	}
	introsort(v, func(a, b int32) bool { return keys[a].less(keys[b]) })
	o := &TieOrder{pos: make(map[*advisory.Package]int32, len(v))}
	for at, i := range v {
		if pk := t.ents[i].pkg; pk != nil {
			if _, dup := o.pos[pk]; !dup {
				o.pos[pk] = int32(at)
			}
		}
	}
	return o
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
func orderTies(entries []listEntry, findings []match.Finding, ties func() (*TieOrder, error)) error {
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
				pa, oka := t.Position(findings[a.fi].Fixed)
				pb, okb := t.Position(findings[b.fi].Fixed)
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
