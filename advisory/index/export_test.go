package index

import (
	"encoding/binary"
	"hash/crc32"
)

// fixSums recomputes the section checksums of a mutated file, when its
// lengths still add up, so that fuzzing exercises the decoder.
func fixSums(b []byte) []byte {
	if len(b) < headerLen+8 {
		return b
	}
	core := binary.LittleEndian.Uint64(b[len(magic)+40:])
	details := binary.LittleEndian.Uint64(b[len(magic)+48:])
	if uint64(headerLen)+core+details+8 != uint64(len(b)) {
		return b
	}
	b = append([]byte{}, b...)
	d := b[headerLen : headerLen+int(details)]
	c := b[headerLen+int(details) : headerLen+int(details)+int(core)]
	binary.LittleEndian.PutUint32(b[len(b)-8:], crc32.Checksum(c, castagnoli))
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(d, castagnoli))
	return b
}
