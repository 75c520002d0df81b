package alicorn

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/ecosystems/rpm"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

func TestHostCache(t *testing.T) {
	root, repoDir := fixture(t)
	cache := t.TempDir()
	opts := fixtureOptions(t, root, repoDir, cache)
	want := []string{"ADV-1 alpha-1.0-1.x86_64"}
	for range 2 {
		assert.Equal(t, want, findings(t, opts))
	}
	hosts, _ := filepath.Glob(filepath.Join(cache, "host-*"))
	require.Len(t, hosts, 1, "one cached host")

	// A damaged cache is rebuilt.
	require.NoError(t, os.WriteFile(hosts[0], []byte("garbage"), 0o644))
	assert.Equal(t, want, findings(t, opts))

	// An rpm transaction makes the cache stale: the upgrade is seen.
	b := testBuilder(t)
	require.NoError(t, os.RemoveAll(root))
	require.NoError(t, b.Root(root, []rpmtest.Pkg{{Name: "alpha", Version: "2.0", Release: "1", Arch: "x86_64"}}))
	assert.Empty(t, findings(t, opts), "alpha 2.0 is installed now")
}

func TestSnapshotEncoding(t *testing.T) {
	s := &snapshot{rpms: []snapRPM{
		{name: "kernel", evr: rpm.EVR{Version: "6.8", Release: "1"}, arch: "x86_64", source: "kernel-6.8-1.src.rpm"},
		{name: "bash", evr: rpm.EVR{Epoch: "1", Version: "5.2", Release: "3.fc40"}, arch: "x86_64"},
	}, releasever: "40", kernel: 0}
	b := s.encode()
	got, err := decodeSnapshot(b)
	require.NoError(t, err)
	assert.Equal(t, s, got)
	for i := range b {
		bad := append([]byte{}, b...)
		bad[i] ^= 0x40
		_, err := decodeSnapshot(bad)
		assert.ErrorIs(t, err, errHostCache, "byte %d flipped", i)
	}
	_, err = decodeSnapshot(b[:len(b)-1])
	assert.ErrorIs(t, err, errHostCache)
}

func FuzzSnapshot(f *testing.F) {
	f.Add((&snapshot{rpms: []snapRPM{{name: "a", arch: "noarch"}}, kernel: -1}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		// Fix the checksum so that mutations reach the decoder.
		if len(b) >= len(hostMagic)+4 {
			b = binary.LittleEndian.AppendUint32(append([]byte{}, b[:len(b)-4]...), crc32.Checksum(b[:len(b)-4], castagnoli))
		}
		s, err := decodeSnapshot(b)
		if err == nil {
			if _, err := decodeSnapshot(s.encode()); err != nil {
				t.Fatalf("re-encoded snapshot unreadable: %v", err)
			}
		}
	})
}
