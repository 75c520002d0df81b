package rpmdb

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallSQLite writes an rpmdb.sqlite holding a small header three times,
// once padded past a page so that it spills to overflow pages.
func smallSQLite(t testing.TB) []byte {
	t.Helper()
	blob := tinyHeader()
	path := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	// Small pages keep the file small (a fuzz seed) and still spill the
	// big row to overflow pages.
	_, err = db.Exec("PRAGMA page_size=512")
	require.NoError(t, err)
	_, err = db.Exec("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
	require.NoError(t, err)
	big := append(append([]byte{}, blob...), bytes.Repeat([]byte{0}, 2000)...)
	for _, b := range [][]byte{blob, big, blob} {
		_, err = db.Exec("INSERT INTO Packages (blob) VALUES (?)", b)
		require.NoError(t, err)
	}
	require.NoError(t, db.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// The file reader and the SQLite engine read the same rows.
func TestSQLiteFileMatchesEngine(t *testing.T) {
	data := smallSQLite(t)
	path := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	var viaFile, viaEngine [][]byte
	f, err := openSQLiteFile(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	require.NoError(t, f.each(context.Background(), func(k uint32, b []byte) error {
		viaFile = append(viaFile, append([]byte{byte(k)}, b...))
		return nil
	}))
	e, err := openSQLite(path)
	require.NoError(t, err)
	require.NoError(t, e.each(context.Background(), func(k uint32, b []byte) error {
		viaEngine = append(viaEngine, append([]byte{byte(k)}, b...))
		return nil
	}))
	e.Close()
	require.Len(t, viaFile, 3)
	assert.Equal(t, viaEngine, viaFile)
	assert.Greater(t, len(viaFile[1]), 2000, "the overflow chain is followed")
	assert.Less(t, len(data), 16<<10, "a small seed")
}

func FuzzSQLiteFile(f *testing.F) {
	f.Add(smallSQLite(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := openSQLiteFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		db.each(context.Background(), func(k uint32, b []byte) error {
			if h, err := ParseHeader(b); err == nil {
				Decode(k, h, Options{Files: true})
			}
			return nil
		})
	})
}
