package repo

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

// generatedRepo writes a repository holding only an updateinfo.xml.gz of
// n generated advisories.
func generatedRepo(t *testing.T, n int) string {
	t.Helper()
	var xml bytes.Buffer
	require.NoError(t, rpmtest.WriteUpdateinfo(&xml, n, []string{"alpha", "beta", "gamma"}, 5))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(xml.Bytes())
	require.NoError(t, zw.Close())
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "repodata"), 0o755))
	sum := sha256.Sum256(gz.Bytes())
	name := fmt.Sprintf("repodata/%x-updateinfo.xml.gz", sum)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), gz.Bytes(), 0o644))
	repomd := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo">
  <data type="updateinfo">
    <checksum type="sha256">%x</checksum>
    <location href="%s"/>
    <size>%d</size>
  </data>
</repomd>
`, sum, name, gz.Len())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "repodata/repomd.xml"), []byte(repomd), 0o644))
	return dir
}

func TestKeepReady(t *testing.T) {
	for _, concurrently := range []bool{false, true} {
		t.Run(fmt.Sprint("concurrently=", concurrently), func(t *testing.T) { testKeepReady(t, concurrently) })
	}
}

func testKeepReady(t *testing.T, concurrently bool) {
	dir := generatedRepo(t, 300)
	c := Config{ID: "gen", BaseURLs: []string{"file://" + dir}, Enabled: true}
	ctx := context.Background()
	read := func(opts AdvisoryOptions) []*advisory.Advisory {
		md, err := (&Fetcher{}).Fetch(ctx, c)
		require.NoError(t, err)
		opts.KeepConcurrently = concurrently
		as, err := md.Advisories(ctx, opts)
		require.NoError(t, err)
		return as
	}
	keep := func(a *advisory.Advisory) bool { return a.Type == advisory.Security }
	want := read(AdvisoryOptions{Keep: keep})
	require.NotEmpty(t, want)

	// Keep and Prefilter are called from the goroutines parsing parts of
	// the document at once.
	ready := make(chan struct{})
	var early atomic.Bool
	late := func(a *advisory.Advisory) bool {
		select {
		case <-ready:
		default:
			early.Store(true)
		}
		return keep(a)
	}
	// Close ready while parsing: after the 50th advisory reaches the
	// prefilter.
	var seen atomic.Int64
	prefilter := func(string) bool {
		if seen.Add(1) == 50 {
			close(ready)
		}
		return true
	}
	got := read(AdvisoryOptions{Keep: late, KeepReady: ready, Prefilter: prefilter})
	assert.False(t, early.Load(), "Keep is not asked before KeepReady closes")
	assert.Equal(t, want, got, "the same advisories, in the same order")

	// Closed only after the whole document: everything is held, then kept.
	ready2 := make(chan struct{})
	done := make(chan []*advisory.Advisory)
	go func() { done <- read(AdvisoryOptions{Keep: keep, KeepReady: ready2, Brief: true}) }()
	close(ready2)
	brief := <-done
	require.Len(t, brief, len(want))
	for i := range brief {
		assert.Equal(t, want[i].ID, brief[i].ID)
		assert.Empty(t, brief[i].Description)
	}
}

// TestKeepInOrder: without KeepConcurrently, Keep sees every advisory once,
// in document order, whether they are parsed or read from the index, and
// both ways return the same advisories.
func TestKeepInOrder(t *testing.T) {
	dir := generatedRepo(t, 400)
	c := Config{ID: "gen", BaseURLs: []string{"file://" + dir}, Enabled: true}
	ctx := context.Background()
	f := &Fetcher{CacheDir: t.TempDir()}
	var all []string
	require.NoError(t, func() error {
		md, err := f.Fetch(ctx, c)
		require.NoError(t, err)
		as, err := md.Advisories(ctx, AdvisoryOptions{})
		for _, a := range as {
			all = append(all, a.ID)
		}
		return err
	}())
	// The first read above wrote the index; a fresh cache parses again.
	for _, cache := range []string{t.TempDir(), f.CacheDir} {
		md, err := (&Fetcher{CacheDir: cache}).Fetch(ctx, c)
		require.NoError(t, err)
		var seen []string
		as, err := md.Advisories(ctx, AdvisoryOptions{Brief: true, Keep: func(a *advisory.Advisory) bool {
			seen = append(seen, strings.Clone(a.ID)) // lent when parsed
			return len(seen)%2 == 0
		}})
		require.NoError(t, err)
		assert.Equal(t, all, seen)
		require.Len(t, as, len(all)/2)
		for i, a := range as {
			assert.Equal(t, all[2*i+1], a.ID)
		}
	}
}
