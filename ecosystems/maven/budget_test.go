package maven

import (
	"archive/zip"
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/inventory"
)

// storedZip is a zip whose entries are stored, not deflated (as Spring
// Boot stores its nested jars).
func storedZip(t testing.TB, files ...[]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(files); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: string(files[i]), Method: zip.Store})
		require.NoError(t, err)
		_, err = w.Write(files[i+1])
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestNestedBudgets checks where nested archives are held: a stored one
// is read in place, a small deflated one in memory and a large one in a
// temporary file, each charged to its budget while it is read and given
// back after; contents that are not a zip archive are refused before
// anything is inflated.
func TestNestedBudgets(t *testing.T) {
	p, c := pom("g", "a", "1")
	lib := makeZip(t, p, c)
	// A deflated jar of more than inMemory bytes: a pom and padding that
	// does not compress away to nothing.
	pad := bytes.Repeat([]byte("0123456789abcdef"), (inMemory+1<<20)/16)
	large := storedZip(t, []byte(p), []byte(c), []byte("pad.bin"), pad)
	require.Greater(t, len(large), inMemory)

	run := func(t *testing.T, data []byte, lim inventory.Limits) ([]string, error) {
		fsys := fstest.MapFS{"app.jar": {Data: data}}
		info, err := fsys.Stat("app.jar")
		require.NoError(t, err)
		pkgs, err := Archive{}.Extract(context.Background(), &inventory.Input{FS: fsys, Path: "app.jar", Info: info, Limits: lim})
		var out []string
		for _, p := range pkgs {
			out = append(out, p.Locations[0].Path)
		}
		return out, err
	}
	// A spy budget records the most taken at once.
	type spy struct{ mem, disk *inventory.Budget }
	newLimits := func(t *testing.T, mem, disk int64) (inventory.Limits, spy) {
		s := spy{inventory.NewBudget("memory", mem), inventory.NewBudget("disk", disk)}
		return inventory.Limits{Memory: s.mem, Disk: s.disk, TempDir: t.TempDir()}, s
	}

	t.Run("stored, in place", func(t *testing.T) {
		// The outer directory and the nested one's: a few hundred bytes.
		lim, s := newLimits(t, 4<<10, 0)
		got, err := run(t, storedZip(t, []byte("BOOT-INF/lib/big.jar"), large), lim)
		require.NoError(t, err)
		assert.Equal(t, []string{"app.jar!/BOOT-INF/lib/big.jar"}, got)
		assert.Zero(t, s.mem.Used())
	})
	t.Run("deflated, in memory", func(t *testing.T) {
		lim, _ := newLimits(t, 64<<10, 0)
		got, err := run(t, makeZip(t, "WEB-INF/lib/a.jar", lib), lim)
		require.NoError(t, err)
		assert.Equal(t, []string{"app.jar!/WEB-INF/lib/a.jar"}, got)

		// Not enough memory for a 4 KiB one: the error names it and the
		// budget.
		noise := make([]byte, 4<<10)
		_, _ = rand.NewChaCha8([32]byte{1}).Read(noise)
		lim, s := newLimits(t, 1<<10, 0)
		_, err = run(t, makeZip(t, "WEB-INF/lib/a.jar", storedZip(t, []byte(p), []byte(c), []byte("noise"), noise)), lim)
		require.ErrorIs(t, err, inventory.ErrBudget)
		assert.ErrorContains(t, err, "app.jar!/WEB-INF/lib/a.jar: ")
		assert.ErrorContains(t, err, "would pass the memory budget of 1 KiB")
		assert.Zero(t, s.mem.Used())
	})
	t.Run("deflated and large, on disk", func(t *testing.T) {
		lim, s := newLimits(t, 64<<10, 64<<20)
		got, err := run(t, makeZip(t, "lib/big.jar", large), lim)
		require.NoError(t, err)
		assert.Equal(t, []string{"app.jar!/lib/big.jar"}, got)
		assert.Zero(t, s.disk.Used())
		left, err := os.ReadDir(lim.TempDir)
		require.NoError(t, err)
		assert.Empty(t, left, "the temporary file is removed")

		lim, _ = newLimits(t, 64<<10, 1<<20)
		_, err = run(t, makeZip(t, "lib/big.jar", large), lim)
		require.ErrorIs(t, err, inventory.ErrBudget)
		assert.ErrorContains(t, err, "app.jar!/lib/big.jar: ")
		assert.ErrorContains(t, err, "would pass the disk budget of 1 MiB")
	})
	t.Run("not a zip", func(t *testing.T) {
		// 32 MiB of zeros: refused from its first bytes, with no budget
		// taken (the disk budget here could not hold it).
		lim, _ := newLimits(t, 64<<10, 1<<20)
		_, err := run(t, makeZip(t, "lib/zeros.jar", make([]byte, 32<<20)), lim)
		assert.ErrorContains(t, err, "app.jar!/lib/zeros.jar: not a zip archive")
		assert.NotErrorIs(t, err, inventory.ErrBudget)
		_, err = run(t, storedZip(t, []byte("lib/zeros.jar"), make([]byte, 1<<10)), lim)
		assert.ErrorContains(t, err, "app.jar!/lib/zeros.jar: not a zip archive")
	})
}

func TestWantsHead(t *testing.T) {
	x := Archive{}
	assert.True(t, x.WantsHead("a.jar", []byte("PK\x03\x04")))
	assert.True(t, x.WantsHead("a.jar", []byte("#!/bin/bash\n")), "a fully executable Spring Boot jar")
	assert.False(t, x.WantsHead("a.jar", make([]byte, 512)))
	assert.False(t, x.WantsHead("a.jar", nil))
}
