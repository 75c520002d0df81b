package rpmdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func header(il, dl uint32, rest []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, il)
	b = binary.BigEndian.AppendUint32(b, dl)
	return append(b, rest...)
}

func TestParseHeaderHostile(t *testing.T) {
	cases := map[string][]byte{
		"short":         {0, 0, 0},
		"no tags":       header(0, 0, nil),
		"2 GiB of data": header(1, 0x80000000, make([]byte, 16)),
		"too many tags": header(0x10000, 0, nil),
		"truncated":     header(2, 100, make([]byte, 40)),
		"bad type":      header(1, 4, append([]byte{0, 0, 3, 232, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0, 1}, 0, 0, 0, 0)),
		"bad offset":    header(1, 4, append([]byte{0, 0, 3, 232, 0, 0, 0, 6, 0, 0, 1, 0, 0, 0, 0, 1}, 0, 0, 0, 0)),
		"huge count":    header(1, 4, append([]byte{0, 0, 3, 232, 0, 0, 0, 8, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, 0, 0, 0, 0)),
	}
	for name, blob := range cases {
		_, err := ParseHeader(blob)
		assert.Error(t, err, name)
	}
}

// A string value without its terminating NUL reads as missing, never
// past the data.
// TestHeaderLongNames: a name longer than a file name can be is refused,
// not held (a database of such headers would fill memory).
func TestHeaderLongNames(t *testing.T) {
	h, err := ParseHeader(headerNamed(strings.Repeat("n", 255)))
	require.NoError(t, err)
	_, err = Decode(1, h, Options{Brief: true})
	require.NoError(t, err)
	h, err = ParseHeader(headerNamed(strings.Repeat("n", 1400000)))
	require.NoError(t, err)
	_, err = Decode(1, h, Options{Brief: true})
	assert.EqualError(t, err, "header's name has 1400000 bytes, more than a file name can (255)")
}

func TestHeaderUnterminatedString(t *testing.T) {
	blob := header(1, 4, append([]byte{0, 0, 3, 232, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1}, 'a', 'b', 'c', 'd'))
	h, err := ParseHeader(blob)
	require.NoError(t, err)
	_, ok := h.String(TagName)
	assert.False(t, ok)
	_, err = Decode(0, h, Options{Files: true})
	assert.Error(t, err)
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

func TestOpenGarbage(t *testing.T) {
	for _, name := range []string{"rpmdb.sqlite", "Packages", "Packages.db"} {
		p := writeTemp(t, name, bytes.Repeat([]byte("garbage!"), 1000))
		_, err := Open(p)
		require.Error(t, err)
		assert.Contains(t, err.Error(), p)
	}
}

func TestTruncatedDatabases(t *testing.T) {
	for _, src := range []string{"cbl-mariner-2.0/rpmdb.sqlite", "sle15-bci/Packages.db", "libuuid/Packages"} {
		data, err := os.ReadFile(filepath.Join(sharedDir(t), src))
		require.NoError(t, err)
		for _, cut := range []int{len(data) / 3, len(data) / 2, len(data) - 100} {
			p := writeTemp(t, filepath.Base(src), data[:cut])
			db, err := Open(p)
			if err != nil {
				assert.Contains(t, err.Error(), p)
				continue
			}
			_, err = db.Packages(context.Background(), Options{Files: true})
			db.Close()
			if assert.Error(t, err, "%s cut at %d", src, cut) {
				assert.Contains(t, err.Error(), p)
			}
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(header(1, 4, append([]byte{0, 0, 3, 232, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1}, 'a', 'b', 'c', 0)))
	f.Fuzz(func(t *testing.T, blob []byte) {
		h, err := ParseHeader(blob)
		if err != nil {
			return
		}
		for _, tag := range []int32{TagName, TagVersion, TagEpoch, TagBasenames, TagDirnames, TagDirIndexes, TagSize, TagSigMD5} {
			h.String(tag)
			h.Strings(tag)
			h.Uint32(tag)
			h.Uint32s(tag)
			h.Uint64(tag)
			h.Binary(tag)
		}
		h.Provides()
		h.Owns("/lib/modules/x")
		Decode(1, h, Options{Files: true})
	})
}

// FuzzDatabase feeds mutated databases to each backend: small synthetic
// ones (the real databases are too large to mutate quickly).
func FuzzDatabase(f *testing.F) {
	f.Add(tinyBDB())
	f.Add(tinyNDB())
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		if n, err := openNDB(r, int64(len(data))); err == nil {
			n.each(context.Background(), func(k uint32, b []byte) error {
				if h, err := ParseHeader(b); err == nil {
					Decode(k, h, Options{Files: true})
				}
				return nil
			})
		}
		if b, err := openBDB(r, int64(len(data))); err == nil {
			b.each(context.Background(), func(k uint32, blob []byte) error {
				if h, err := ParseHeader(blob); err == nil {
					Decode(k, h, Options{Files: true})
				}
				return nil
			})
		}
	})
}
