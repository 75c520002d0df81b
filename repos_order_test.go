package alicorn

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/alicorn-dev/alicorn/repo"
)

// TestInOrder: the last reports of repositories fetched out of order come
// out in dnf's order; reports in progress pass at once.
func TestInOrder(t *testing.T) {
	var got []string
	o := newInOrder([]repo.Config{{ID: "a"}, {ID: "b"}, {ID: "c"}}, func(p repo.Progress) {
		s := p.ID
		if p.Done {
			s += " done"
		}
		got = append(got, s)
	})
	o.progress(repo.Progress{ID: "c"})
	o.progress(repo.Progress{ID: "c", Done: true})
	o.finish(2)
	o.progress(repo.Progress{ID: "b", Done: true})
	o.finish(1)
	assert.Equal(t, []string{"c"}, got, "c and b wait for a")
	o.finish(0) // a was a cache hit: nothing to report
	assert.Equal(t, []string{"c", "b done", "c done"}, got)
}
