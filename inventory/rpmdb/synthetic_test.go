package rpmdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/adler32"
	"testing"

	"github.com/stretchr/testify/require"
)

// tinyHeader is a valid header blob naming one package.
func tinyHeader() []byte { return headerNamed("tiny") }

// headerNamed is a valid header blob naming one package name-1.0-1.x86_64.
func headerNamed(name string) []byte {
	type ent struct {
		tag  int32
		data string
	}
	ents := []ent{{TagName, name + "\x00"}, {TagVersion, "1.0\x00"}, {TagRelease, "1\x00"}, {TagArch, "x86_64\x00"}}
	var idx, data []byte
	for _, e := range ents {
		idx = binary.BigEndian.AppendUint32(idx, uint32(e.tag))
		idx = binary.BigEndian.AppendUint32(idx, typeString)
		idx = binary.BigEndian.AppendUint32(idx, uint32(len(data)))
		idx = binary.BigEndian.AppendUint32(idx, 1)
		data = append(data, e.data...)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(len(ents)))
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(append(b, idx...), data...)
}

// tinyBDB is a Berkeley DB hash file of 512-byte pages: the meta page, a
// hash page with one record whose value is on an overflow page. It is
// enough for this reader, not a database rpm itself would open (no
// buckets); a seed for fuzzing, which the real databases are too large
// to be.
func tinyBDB() []byte {
	const ps = 512
	le := binary.LittleEndian
	f := make([]byte, 3*ps)
	meta := f[:ps]
	le.PutUint32(meta[12:], bdbHashMagic)
	le.PutUint32(meta[20:], ps)
	meta[25] = bdbHashMeta
	le.PutUint32(meta[32:], 2) // last page
	hp := f[ps : 2*ps]
	hp[25] = bdbHash
	le.PutUint16(hp[20:], 2) // two items: key, value
	key := []byte{bdbKeyData, 1, 0, 0, 0}
	val := make([]byte, 12)
	val[0] = bdbOffPage
	blob := tinyHeader()
	le.PutUint32(val[4:], 2) // overflow page
	le.PutUint32(val[8:], uint32(len(blob)))
	ko := ps - len(key)
	vo := ko - len(val)
	copy(hp[ko:], key)
	copy(hp[vo:], val)
	le.PutUint16(hp[bdbPageHeader:], uint16(ko))
	le.PutUint16(hp[bdbPageHeader+2:], uint16(vo))
	op := f[2*ps:]
	op[25] = bdbOverflow
	le.PutUint16(op[22:], uint16(len(blob)))
	copy(op[bdbPageHeader:], blob)
	return f
}

// tinyNDB is an ndb Packages.db: the header and one slot page, then one
// blob.
func tinyNDB() []byte {
	le := binary.LittleEndian
	blob := tinyHeader()
	f := make([]byte, ndbPage)
	le.PutUint32(f, ndbMagic)
	le.PutUint32(f[12:], 1) // slot pages
	for o := ndbHeaderSize; o < ndbPage; o += 16 {
		le.PutUint32(f[o:], ndbSlotMagic)
	}
	cnt := (ndbBlobHead + len(blob) + ndbBlobTail + ndbBlock - 1) / ndbBlock
	slot := f[ndbHeaderSize:]
	le.PutUint32(slot[4:], 1)                        // package index
	le.PutUint32(slot[8:], uint32(ndbPage/ndbBlock)) // block offset
	le.PutUint32(slot[12:], uint32(cnt))
	b := make([]byte, cnt*ndbBlock)
	le.PutUint32(b, ndbBlobMagic)
	le.PutUint32(b[4:], 1)
	le.PutUint32(b[12:], uint32(len(blob)))
	copy(b[ndbBlobHead:], blob)
	tail := b[len(b)-ndbBlobTail:]
	le.PutUint32(tail[4:], uint32(len(blob)))
	le.PutUint32(tail[8:], ndbBlobEnd)
	le.PutUint32(tail, adler32.Checksum(b[:len(b)-ndbBlobTail]))
	return append(f, b...)
}

func TestTinyDatabases(t *testing.T) {
	for name, data := range map[string][]byte{"bdb": tinyBDB(), "ndb": tinyNDB()} {
		each, _, err := openReader(bytes.NewReader(data), int64(len(data)))
		require.NoError(t, err, name)
		var names []string
		require.NoError(t, each(context.Background(), func(k uint32, b []byte) error {
			h, err := ParseHeader(b)
			require.NoError(t, err)
			p, err := Decode(k, h, Options{})
			require.NoError(t, err)
			names = append(names, p.NEVRA())
			return nil
		}), name)
		require.Equal(t, []string{"tiny-1.0-1.x86_64"}, names, name)
	}
}
