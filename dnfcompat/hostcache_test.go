package dnfcompat

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
	"github.com/alicorn-dev/alicorn/match"
)

func TestHostCache(t *testing.T) {
	root, repoDir := fixture(t)
	cache := t.TempDir()
	args := []string{"--installroot=" + root, "--setopt=reposdir=/nonexistent", "--releasever=40",
		"--repofrompath=t,file://" + repoDir, "--setopt=cachedir=" + cache, "-q", "updateinfo", "list"}
	want := "ADV-1 Important/Sec. alpha-2.0-1.x86_64\n"
	for range 2 {
		code, stdout, stderr := runCLI(args...)
		require.Equal(t, 0, code, stderr)
		assert.Equal(t, want, stdout)
	}
	hosts, _ := filepath.Glob(filepath.Join(cache, "host-*"))
	require.Len(t, hosts, 1, "one cached host")

	// A damaged cache is rebuilt.
	require.NoError(t, os.WriteFile(hosts[0], []byte("garbage"), 0o644))
	code, stdout, stderr := runCLI(args...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, want, stdout)

	// An rpm transaction makes the cache stale: the upgrade is seen.
	b := testBuilder(t)
	require.NoError(t, os.RemoveAll(root))
	require.NoError(t, b.Root(root, []rpmtest.Pkg{{Name: "alpha", Version: "2.0", Release: "1", Arch: "x86_64"}}))
	code, stdout, stderr = runCLI(args...)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stdout, "alpha 2.0 is installed now")
}

func TestSnapshotEncoding(t *testing.T) {
	s := &snapshot{rpms: []match.RPM{
		{Name: "kernel", EVR: rpm.EVR{Version: "6.8", Release: "1"}, Arch: "x86_64", SourceRPM: "kernel-6.8-1.src.rpm"},
		{Name: "bash", EVR: rpm.EVR{Epoch: "1", Version: "5.2", Release: "3.fc40"}, Arch: "x86_64"},
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
	f.Add((&snapshot{rpms: []match.RPM{{Name: "a", Arch: "noarch"}}, kernel: -1}).encode())
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
