package inventory

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func zipOf(t testing.TB, n int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range n {
		_, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("%06d", i), Method: zip.Store})
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestZipDirectory(t *testing.T) {
	small := zipOf(t, 3)
	n, size, err := zipDirectory(bytes.NewReader(small), int64(len(small)))
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
	assert.Equal(t, int64(3*(46+6)+22), size, "the directory and the end record")

	// More than 65,535 entries: zip64 end records.
	big := zipOf(t, 70_000)
	n, _, err = zipDirectory(bytes.NewReader(big), int64(len(big)))
	require.NoError(t, err)
	assert.Equal(t, int64(70_000), n)

	// A count that lies by 65,536, which archive/zip accepts (it checks
	// the count modulo 65,536): the bound still covers every record.
	end := bytes.LastIndex(big, []byte("PK\x06\x06"))
	require.Positive(t, end)
	liar := bytes.Clone(big)
	binary.LittleEndian.PutUint64(liar[end+24:], 70_000-65_536)
	binary.LittleEndian.PutUint64(liar[end+32:], 70_000-65_536)
	zr, err := zip.NewReader(bytes.NewReader(liar), int64(len(liar)))
	require.NoError(t, err)
	require.Len(t, zr.File, 70_000, "archive/zip reads every record")
	n, _, err = zipDirectory(bytes.NewReader(liar), int64(len(liar)))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, int64(70_000))

	// Not a zip: bounded by the size.
	n, size, err = zipDirectory(bytes.NewReader(make([]byte, 4600)), 4600)
	require.NoError(t, err)
	assert.Equal(t, int64(100), n)
	assert.Equal(t, int64(4600), size)
}

func TestNewZipReaderBudget(t *testing.T) {
	big := zipOf(t, 70_000)
	mem := NewBudget("memory", 8<<20)
	_, _, err := NewZipReader(bytes.NewReader(big), int64(len(big)), mem)
	require.ErrorIs(t, err, ErrBudget)
	assert.ErrorContains(t, err, "a zip directory of 70000 entries: 16.3 MiB more would pass the memory budget of 8 MiB (0 B in use)")
	assert.Zero(t, mem.Used())

	mem = NewBudget("memory", 32<<20)
	zr, release, err := NewZipReader(bytes.NewReader(big), int64(len(big)), mem)
	require.NoError(t, err)
	assert.Len(t, zr.File, 70_000)
	assert.Positive(t, mem.Used())
	release()
	assert.Zero(t, mem.Used())
}

func TestBudget(t *testing.T) {
	b := NewBudget("disk", 10)
	require.NoError(t, b.Take(6))
	err := b.Take(5)
	require.ErrorIs(t, err, ErrBudget)
	assert.EqualError(t, err, "5 B more would pass the disk budget of 10 B (6 B in use): over budget")
	b.Give(6)
	require.NoError(t, b.Take(10))
	var none *Budget
	require.NoError(t, none.Take(1<<62), "a nil budget allows anything")
	none.Give(1)
	for n, s := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 16 << 30: "16 GiB"} {
		assert.Equal(t, s, Size(n))
	}
}

// FuzzZipDirectory checks that the bound read from the end records is
// never below what archive/zip then reads, whatever the bytes.
func FuzzZipDirectory(f *testing.F) {
	f.Add(zipOf(f, 3))
	f.Add(zipOf(f, 0))
	f.Add([]byte("PK\x05\x06"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, size, err := zipDirectory(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		require.LessOrEqual(t, size, int64(len(b)))
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		require.LessOrEqual(t, int64(len(zr.File)), n, "the bound is below the records read")
	})
}

// oneEach finds one package in every file.
type oneEach struct{}

func (oneEach) Name() string                      { return "one" }
func (oneEach) Required(string, fs.FileInfo) bool { return true }
func (oneEach) Extract(_ context.Context, in *Input) ([]Package, error) {
	return []Package{{Name: in.Path, Version: "1"}}, nil
}

// TestScanChargesFindings: what a scan finds stays in memory for the run
// and is charged: an image of a million tiny package files cannot pass
// the budget.
func TestScanChargesFindings(t *testing.T) {
	fsys := fstest.MapFS{}
	for i := range 1000 {
		fsys[fmt.Sprintf("d/%d.gemspec", i)] = &fstest.MapFile{Data: []byte("x")}
	}
	mem := NewBudget("memory", 100*PackageCost)
	pkgs, err := ScanWithin(context.Background(), fsys, []Extractor{oneEach{}}, Limits{Memory: mem})
	require.ErrorIs(t, err, ErrBudget)
	assert.ErrorContains(t, err, "the packages and warnings found, at d/")
	assert.NotEmpty(t, pkgs)
	assert.Less(t, len(pkgs), 100)

	mem = NewBudget("memory", 1<<20)
	pkgs, err = ScanWithin(context.Background(), fsys, []Extractor{oneEach{}}, Limits{Memory: mem})
	require.NoError(t, err)
	assert.Len(t, pkgs, 1000)
	assert.Greater(t, mem.Used(), int64(1000*PackageCost))
}
