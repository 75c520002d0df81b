package oci

import (
	"hash/maphash"
	"iter"
	"strings"
)

// names maps clean slash-separated paths to values. Its keys are the
// paths' seeded hashes, so that the ancestors of a name can be looked up
// with hashes computed incrementally along the name (ancestors): walking
// the parents of a path of a hundred thousand parts costs its length, not
// its length times its depth as hashing every parent's whole name would.
type names[V any] struct {
	seed maphash.Seed
	m    map[uint64]named[V]
	over map[string]V // names whose hash a different name took first
}

type named[V any] struct {
	name string
	v    V
}

func newNames[V any](seed maphash.Seed) *names[V] {
	return &names[V]{seed: seed, m: map[uint64]named[V]{}}
}

func (n *names[V]) hash(name string) uint64 { return maphash.String(n.seed, name) }

func (n *names[V]) get(name string) (V, bool) { return n.getHashed(name, n.hash(name)) }

// getHashed looks name up by its hash h (from hash or ancestors).
func (n *names[V]) getHashed(name string, h uint64) (V, bool) {
	if it, ok := n.m[h]; ok {
		if it.name == name {
			return it.v, true
		}
		if v, ok := n.over[name]; ok {
			return v, true
		}
	}
	var zero V
	return zero, false
}

func (n *names[V]) has(name string) bool { _, ok := n.get(name); return ok }

func (n *names[V]) put(name string, v V) { n.putHashed(name, n.hash(name), v) }

func (n *names[V]) putHashed(name string, h uint64, v V) {
	if it, ok := n.m[h]; ok && it.name != name {
		if n.over == nil {
			n.over = map[string]V{}
		}
		n.over[name] = v
		return
	}
	n.m[h] = named[V]{name, v}
}

func (n *names[V]) len() int { return len(n.m) + len(n.over) }

func (n *names[V]) all() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for _, it := range n.m {
			if !yield(it.name, it.v) {
				return
			}
		}
		for name, v := range n.over {
			if !yield(name, v) {
				return
			}
		}
	}
}

// ancestors yields the parent directories of a clean name other than the
// root, shallowest first, each with its hash for names.getHashed; each
// byte of name is hashed once.
func ancestors(seed maphash.Seed, name string) iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		var h maphash.Hash
		h.SetSeed(seed)
		from := 0
		for i := 0; i < len(name); i++ {
			if name[i] != '/' {
				continue
			}
			h.WriteString(name[from:i])
			from = i
			if !yield(name[:i], h.Sum64()) {
				return
			}
		}
	}
}

// base is path.Base for a clean name, scanning only its last part.
func base(name string) string {
	return name[strings.LastIndexByte(name, '/')+1:]
}
