package oci

import (
	"context"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/inventory"
)

// manyFiles is an image of n empty files d/0 … d/n-1.
func manyFiles(t testing.TB, n int) []ent {
	ents := make([]ent, n)
	for i := range ents {
		ents[i] = ent{Name: fmt.Sprintf("d/%d", i)}
	}
	return ents
}

// TestEntryCost checks that EntryCost (plus the name) is at least what an
// entry really takes on the heap, so that the memory budget bounds the
// list of an image of millions of tiny files.
func TestEntryCost(t *testing.T) {
	const n = 100_000
	img := imageOf(t, layerOf(t, manyFiles(t, n)...))
	f, err := Flatten(context.Background(), img, Options{})
	require.NoError(t, err)
	var with, without runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&with)
	runtime.KeepAlive(f)
	f = nil
	runtime.GC()
	runtime.ReadMemStats(&without)
	per := (float64(with.HeapAlloc) - float64(without.HeapAlloc)) / n
	t.Logf("%.0f bytes an entry on the heap (EntryCost %d + the name, about 7 bytes here)", per, EntryCost)
	assert.Less(t, per, float64(EntryCost+7))
}

func TestMemoryBudget(t *testing.T) {
	ctx := context.Background()
	t.Run("entries", func(t *testing.T) {
		img := imageOf(t, layerOf(t, manyFiles(t, 10_000)...))
		mem := inventory.NewBudget("memory", 1<<20)
		_, err := Flatten(ctx, img, Options{Memory: mem})
		require.ErrorIs(t, err, inventory.ErrBudget)
		assert.ErrorContains(t, err, "the image's list of")
		assert.Zero(t, mem.Used(), "a failed Flatten gives back what it took")

		mem = inventory.NewBudget("memory", 64<<20)
		f, err := Flatten(ctx, img, Options{Memory: mem})
		require.NoError(t, err)
		assert.Greater(t, mem.Used(), int64(10_000*EntryCost))
		require.NoError(t, f.Close())
		assert.Zero(t, mem.Used(), "Close gives back what Flatten took")
	})
	t.Run("contents", func(t *testing.T) {
		img := imageOf(t, layerOf(t,
			ent{Name: "a.jar", Body: strings.Repeat("a", 600<<10)},
			ent{Name: "b.jar", Body: strings.Repeat("b", 600<<10)},
		))
		mem := inventory.NewBudget("memory", 1<<20)
		f, err := Flatten(ctx, img, Options{Want: all, Memory: mem})
		require.NoError(t, err)
		defer f.Close()
		_, errA := fs.ReadFile(f, "a.jar")
		_, errB := fs.ReadFile(f, "b.jar")
		// The layer is read top first, in tar order: the second file
		// does not fit.
		require.NoError(t, errA)
		require.ErrorIs(t, errB, ErrTooLarge)
		require.ErrorIs(t, errB, inventory.ErrBudget)
		assert.ErrorContains(t, errB, "read b.jar: 600 KiB: too large to keep: 600 KiB more would pass the memory budget of 1 MiB")
	})
}

func TestDiskBudget(t *testing.T) {
	ctx := context.Background()
	big := strings.Repeat("PK", 1<<20) // 2 MiB: spilled
	img := imageOf(t, layerOf(t,
		ent{Name: "a.jar", Body: big},
		ent{Name: "b.jar", Body: big},
		ent{Name: "zeros.jar", Body: strings.Repeat("\x00", 2<<20)},
	))
	disk := inventory.NewBudget("disk", 3<<20)
	var heads []string
	f, err := Flatten(ctx, img, Options{Want: all, SpillDir: t.TempDir(), Disk: disk,
		WantHead: func(name string, _ fs.FileInfo, head []byte) bool {
			heads = append(heads, name)
			assert.Len(t, head, inventory.HeadLen)
			return strings.HasPrefix(string(head), "PK")
		}})
	require.NoError(t, err)
	assert.Equal(t, []string{"a.jar", "b.jar", "zeros.jar"}, heads)
	assert.Equal(t, int64(2<<20), disk.Used(), "one file spilled; the zeros were not")
	b, err := fs.ReadFile(f, "a.jar")
	require.NoError(t, err)
	assert.Equal(t, big, string(b), "the head is kept with the rest")
	_, err = fs.ReadFile(f, "b.jar")
	require.ErrorIs(t, err, inventory.ErrBudget)
	assert.ErrorContains(t, err, "read b.jar: 2 MiB: too large to keep: 2 MiB more would pass the disk budget of 3 MiB (2 MiB in use)")
	_, err = fs.ReadFile(f, "zeros.jar")
	require.ErrorIs(t, err, ErrUnreadable)
	require.NoError(t, f.Close())
	assert.Zero(t, disk.Used())
}

// TestLinksAndLayersCharged: symbolic link targets and layers count
// against the memory budget, and a target longer than PATH_MAX is refused.
func TestLinksAndLayersCharged(t *testing.T) {
	ctx := context.Background()
	var links []ent
	for i := range 100 {
		links = append(links, ent{Name: fmt.Sprintf("l%d", i), Link: strings.Repeat("t/", 2000)})
	}
	mem := inventory.NewBudget("memory", 256<<10)
	_, err := Flatten(ctx, imageOf(t, layerOf(t, links...)), Options{Memory: mem})
	require.ErrorIs(t, err, inventory.ErrBudget, "100 targets of 4,000 bytes")
	assert.Zero(t, mem.Used())

	_, err = Flatten(ctx, imageOf(t, layerOf(t, ent{Name: "l", Link: strings.Repeat("t", 4097)})), Options{})
	assert.ErrorContains(t, err, "symbolic link l: a target of 4097 bytes, longer than 4096")

	var layers []v1.Layer
	for i := range 10 {
		layers = append(layers, layerOf(t, ent{Name: fmt.Sprintf("f%d", i)}))
	}
	mem = inventory.NewBudget("memory", 10*LayerCost-1)
	_, err = Flatten(ctx, imageOf(t, layers...), Options{Memory: mem})
	require.ErrorIs(t, err, inventory.ErrBudget)
	assert.ErrorContains(t, err, "the image's list of 10 layers")
}

// TestSmallFilesSpillUnderPressure: with a spill directory, files the
// memory budget cannot hold go to disk instead of not being read (an
// image of many 1 MB jars must not fail for want of memory).
func TestSmallFilesSpillUnderPressure(t *testing.T) {
	var files []ent
	for i := range 8 {
		files = append(files, ent{Name: fmt.Sprintf("f%d.jar", i), Body: "PK" + strings.Repeat("x", 32<<10)})
	}
	mem, disk := inventory.NewBudget("memory", 96<<10), inventory.NewBudget("disk", 1<<20)
	f, err := Flatten(context.Background(), imageOf(t, layerOf(t, files...)), Options{Want: all, SpillDir: t.TempDir(),
		Memory: mem, Disk: disk})
	require.NoError(t, err)
	defer f.Close()
	for _, e := range files {
		b, err := fs.ReadFile(f, e.Name)
		require.NoError(t, err, e.Name)
		assert.Equal(t, e.Body, string(b))
	}
	assert.Positive(t, disk.Used(), "some went to disk")
	assert.LessOrEqual(t, mem.Used(), int64(96<<10))
}
