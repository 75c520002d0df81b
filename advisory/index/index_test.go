package index

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alicorn-dev/alicorn/advisory"
	"github.com/alicorn-dev/alicorn/advisory/updateinfo"
	"github.com/alicorn-dev/alicorn/internal/rpmtest"
)

func sample(t testing.TB, n int) []*advisory.Advisory {
	var buf bytes.Buffer
	require.NoError(t, rpmtest.WriteUpdateinfo(&buf, n, []string{"alpha", "beta", "gamma"}, 3))
	advs, err := updateinfo.ParseAll(context.Background(), &buf)
	require.NoError(t, err)
	return advs
}

func TestRoundTrip(t *testing.T) {
	advs := sample(t, 200)
	f, err := os.Open("../updateinfo/testdata/fedora.xml")
	require.NoError(t, err)
	more, err := updateinfo.ParseAll(context.Background(), f)
	f.Close()
	require.NoError(t, err)
	advs = append(advs, more...)
	path := filepath.Join(t.TempDir(), "x.idx")
	require.NoError(t, Write(path, advs))
	got, err := Read(path, Options{})
	require.NoError(t, err)
	assert.Equal(t, advs, got)

	brief, err := Read(path, Options{Brief: true})
	require.NoError(t, err)
	require.Len(t, brief, len(advs))
	for i, a := range brief {
		assert.Equal(t, advs[i].ID, a.ID)
		assert.Equal(t, advs[i].Severity, a.Severity)
		assert.Equal(t, advs[i].LastUpdated(), a.LastUpdated())
		assert.Empty(t, a.Description)
		assert.Len(t, a.References, len(advs[i].References))
	}
}

func TestCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.idx")
	require.NoError(t, Write(path, sample(t, 20)))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, bad := range [][]byte{nil, data[:len(data)/2], append(append([]byte{}, data[:100]...), 0xff)} {
		_, err := Decode(bad)
		assert.ErrorIs(t, err, ErrCorrupt)
	}
	flipped := append([]byte{}, data...)
	flipped[len(flipped)/2] ^= 1
	_, err = Decode(flipped)
	assert.ErrorIs(t, err, ErrCorrupt)
}

func FuzzDecode(f *testing.F) {
	path := filepath.Join(f.TempDir(), "x.idx")
	require.NoError(f, Write(path, sample(f, 3)))
	data, err := os.ReadFile(path)
	require.NoError(f, err)
	f.Add(data)
	f.Fuzz(func(t *testing.T, b []byte) {
		// Fix the checksums so that mutations reach the decoder.
		b = fixSums(b)
		full, err := Decode(b)
		// The two-pass brief decode must agree with the full one.
		n := 0
		keep := func(*advisory.Advisory) bool { n++; return n%2 == 1 }
		brief, berr := read(bytes.NewReader(b), int64(len(b)), Options{Brief: true, NoReferences: true, Keep: keep})
		if (err == nil) != (berr == nil) {
			// A damaged details section fails only the full read.
			if !(err != nil && berr == nil) {
				t.Fatalf("full read: %v, brief read: %v", err, berr)
			}
			return
		}
		if err != nil {
			return
		}
		if len(brief) != (len(full)+1)/2 {
			t.Fatalf("kept %d of %d", len(brief), len(full))
		}
		for i, a := range brief {
			if a.ID != full[2*i].ID || len(a.Collections) != len(full[2*i].Collections) || a.References != nil {
				t.Fatalf("advisory %d: brief %+v, full %+v", i, a, full[2*i])
			}
		}
	})
}

// indexOf writes 300 sample advisories to an index and returns its path,
// with those of type typ.
func indexOf(t *testing.T, typ string) (string, []*advisory.Advisory) {
	advs := sample(t, 300)
	path := filepath.Join(t.TempDir(), "x.idx")
	require.NoError(t, Write(path, advs))
	var want []*advisory.Advisory
	for _, a := range advs {
		if a.Type == typ {
			want = append(want, a)
		}
	}
	return path, want
}

func TestKeep(t *testing.T) {
	path, want := indexOf(t, advisory.Security)
	keep := func(a *advisory.Advisory) bool { return a.Type == advisory.Security }
	got, err := Read(path, Options{Keep: keep})
	require.NoError(t, err)
	assert.Equal(t, want, got)
	brief, err := Read(path, Options{Keep: keep, Brief: true})
	require.NoError(t, err)
	require.Len(t, brief, len(want))
	for i := range brief {
		assert.Equal(t, want[i].ID, brief[i].ID)
		assert.Equal(t, want[i].Collections[0].Packages[0].EVR, brief[i].Collections[0].Packages[0].EVR)
		assert.Empty(t, brief[i].Title)
	}
}

func TestPrefilter(t *testing.T) {
	path, want := indexOf(t, advisory.Bugfix)
	got, err := Read(path, Options{Prefilter: func(typ string) bool { return typ == advisory.Bugfix }})
	require.NoError(t, err)
	assert.Equal(t, want, got, "skipped records leave the details of the others in place")
}

func TestNoReferences(t *testing.T) {
	path, want := indexOf(t, advisory.Security)
	sawRefs := false
	keep := func(a *advisory.Advisory) bool {
		sawRefs = sawRefs || len(a.References) > 0
		return a.Type == advisory.Security
	}
	got, err := Read(path, Options{Keep: keep, Brief: true, NoReferences: true})
	require.NoError(t, err)
	assert.True(t, sawRefs, "Keep still sees the references")
	require.Len(t, got, len(want))
	for i, a := range got {
		assert.Nil(t, a.References)
		assert.Equal(t, want[i].ID, a.ID)
		assert.Equal(t, want[i].LastUpdated(), a.LastUpdated())
		require.Len(t, a.Collections, len(want[i].Collections))
		for j, c := range a.Collections {
			require.Len(t, c.Packages, len(want[i].Collections[j].Packages))
			for k, p := range c.Packages {
				w := want[i].Collections[j].Packages[k]
				assert.Equal(t, [3]string{w.Name, w.EVR, w.Arch}, [3]string{p.Name, p.EVR, p.Arch})
			}
		}
	}
}

// TestKeepMayRetain shows that Keep may keep what it is shown: strings it
// retains stay valid and unchanged after Read returns (they used to view
// a mapping of the file that Read unmapped, so reading them crashed).
func TestKeepMayRetain(t *testing.T) {
	advs := sample(t, 300)
	path := filepath.Join(t.TempDir(), "x.idx")
	require.NoError(t, Write(path, advs))
	tests := []struct {
		name string
		opts Options
	}{
		{"full", Options{}},
		{"brief", Options{Brief: true}},
		{"brief without references", Options{Brief: true, NoReferences: true}},
		{"prefiltered", Options{Brief: true, Prefilter: func(typ string) bool { return typ == advisory.Security }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type seen struct {
				id, typ, severity string
				refs, pkgs        []string
			}
			var retained []seen
			n := 0
			tt.opts.Keep = func(a *advisory.Advisory) bool {
				s := seen{id: a.ID, typ: a.Type, severity: a.Severity}
				for _, r := range a.References {
					s.refs = append(s.refs, r.Type, r.ID)
				}
				for _, c := range a.Collections {
					for _, p := range c.Packages {
						s.pkgs = append(s.pkgs, p.Name, p.EVR, p.Arch)
					}
				}
				retained = append(retained, s)
				n++
				return n%3 == 0
			}
			_, err := Read(path, tt.opts)
			require.NoError(t, err)
			runtime.GC()
			// Reuse the freed memory, so that a string left pointing at
			// it would read someone else's bytes.
			junk := make([][]byte, 0, 64)
			for range 64 {
				junk = append(junk, bytes.Repeat([]byte{'#'}, 64<<10))
			}
			want := map[string]*advisory.Advisory{}
			for _, a := range advs {
				want[a.ID] = a
			}
			require.NotEmpty(t, retained)
			for _, s := range retained {
				a, ok := want[s.id]
				require.True(t, ok, "retained ID %q", s.id)
				assert.Equal(t, a.Type, s.typ)
				assert.Equal(t, a.Severity, s.severity)
				var pkgs []string
				for _, c := range a.Collections {
					for _, p := range c.Packages {
						pkgs = append(pkgs, p.Name, p.EVR, p.Arch)
					}
				}
				assert.Equal(t, pkgs, s.pkgs)
				var refs []string
				for _, r := range a.References {
					refs = append(refs, r.Type, r.ID)
				}
				assert.Equal(t, refs, s.refs)
			}
			runtime.KeepAlive(junk)
		})
	}
}

// BenchmarkReadBrief reads the security advisories of an index of 20,000
// as a plain list does (brief, without references).
func BenchmarkReadBrief(b *testing.B) {
	path := filepath.Join(b.TempDir(), "x.idx")
	require.NoError(b, Write(path, sample(b, 20000)))
	opts := Options{Brief: true, NoReferences: true,
		Prefilter: func(typ string) bool { return typ == advisory.Security },
		Keep:      func(a *advisory.Advisory) bool { return len(a.Collections) > 0 }}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(path, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReadDamagedFile damages a mapped index file in each of its parts:
// every read fails with ErrCorrupt naming the file, and none crashes.
// The index is large enough that the core's checksum, computed on
// another goroutine, is still running when a damaged details section is
// found (its mapping was once unmapped under that goroutine).
func TestReadDamagedFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.idx")
	require.NoError(t, Write(good, sample(t, 3000)))
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	ncore := int(binary.LittleEndian.Uint64(data[len(magic)+5*8:]))
	ndetails := int(binary.LittleEndian.Uint64(data[len(magic)+6*8:]))
	detailsAt, coreAt, tailAt := headerLen, headerLen+ndetails, len(data)-8
	require.Equal(t, len(data), coreAt+ncore+8)
	flip := func(off int) []byte {
		b := append([]byte{}, data...)
		b[off] ^= 0xff
		return b
	}
	tests := []struct {
		name string
		data []byte
		// details marks damage only a full read sees: a brief one
		// never reads the details section.
		details bool
	}{
		{"magic", flip(0), false},
		{"counts", flip(len(magic)), false},
		{"lengths", flip(len(magic) + 5*8), false},
		{"details start", flip(detailsAt), true},
		{"details middle", flip(detailsAt + ndetails/2), true},
		{"details end", flip(coreAt - 1), true},
		{"core start", flip(coreAt), false},
		{"core middle", flip(coreAt + ncore/2), false},
		{"core end", flip(tailAt - 1), false},
		{"core sum", flip(tailAt), false},
		{"details sum", flip(tailAt + 4), true},
		{"truncated", data[:len(data)-1], false},
		{"half", data[:len(data)/2], false},
		{"header only", data[:headerLen], false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.idx")
			require.NoError(t, os.WriteFile(path, tt.data, 0o644))
			for _, opts := range []Options{{}, {NoReferences: true}, {Brief: true}} {
				_, err := Read(path, opts)
				if opts.Brief && tt.details {
					require.NoError(t, err)
					continue
				}
				require.ErrorIs(t, err, ErrCorrupt, "%+v", opts)
				assert.Contains(t, err.Error(), path)
			}
		})
	}
}
