package rpmdb

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"io"
)

// rpm's own "ndb" format (Packages.db, SUSE and rpm >= 4.16): a 32-byte
// header, slot pages of 16-byte slots, then blobs in 16-byte blocks. See
// rpm's lib/backend/ndb/rpmpkg.c. Hand-written: no Go library reads it.
const (
	ndbMagic       = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic   = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic   = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	ndbBlobEnd     = 'B' | 'l'<<8 | 'b'<<16 | 'E'<<24
	ndbPage        = 4096
	ndbBlock       = 16
	ndbHeaderSize  = 32
	ndbBlobHead    = 16
	ndbBlobTail    = 12
	ndbMaxSlotPage = 1 << 16
)

type ndbSlot struct{ idx, off, cnt uint32 }

type ndb struct {
	r      io.ReaderAt
	size   int64
	slots  []ndbSlot
	budget readBudget
}

func openNDB(r io.ReaderAt, size int64) (*ndb, error) {
	head := make([]byte, ndbHeaderSize)
	if _, err := r.ReadAt(head, 0); err != nil {
		return nil, fmt.Errorf("reading the ndb header: %w", err)
	}
	le := binary.LittleEndian
	if le.Uint32(head) != ndbMagic {
		return nil, fmt.Errorf("not an ndb Packages.db")
	}
	if v := le.Uint32(head[4:]); v != 0 {
		return nil, fmt.Errorf("ndb version %d is not supported", v)
	}
	npages := le.Uint32(head[12:])
	if npages == 0 || npages > ndbMaxSlotPage || int64(npages)*ndbPage > size {
		return nil, fmt.Errorf("ndb claims %d slot pages but the file has %d bytes", npages, size)
	}
	if size%ndbBlock != 0 {
		return nil, fmt.Errorf("ndb file size %d is not a multiple of %d (truncated?)", size, ndbBlock)
	}
	db := &ndb{r: r, size: size, budget: newBudget(size)}
	blocks := uint64(size / ndbBlock)
	minOff := uint64(npages) * ndbPage / ndbBlock
	page := make([]byte, ndbPage)
	for p := uint32(0); p < npages; p++ {
		if _, err := r.ReadAt(page, int64(p)*ndbPage); err != nil {
			return nil, fmt.Errorf("reading ndb slot page %d: %w", p, err)
		}
		start := 0
		if p == 0 {
			start = ndbHeaderSize
		}
		for o := start; o < ndbPage; o += 16 {
			s := page[o:]
			if le.Uint32(s) != ndbSlotMagic {
				return nil, fmt.Errorf("ndb slot at byte %d has a bad magic", int(p)*ndbPage+o)
			}
			off := le.Uint32(s[8:])
			if off == 0 {
				continue // free slot
			}
			sl := ndbSlot{idx: le.Uint32(s[4:]), off: off, cnt: le.Uint32(s[12:])}
			if sl.idx == 0 || sl.cnt == 0 || uint64(sl.off) < minOff || uint64(sl.off)+uint64(sl.cnt) > blocks {
				return nil, fmt.Errorf("ndb slot at byte %d points outside the file", int(p)*ndbPage+o)
			}
			db.slots = append(db.slots, sl)
		}
	}
	return db, nil
}

func (db *ndb) each(ctx context.Context, fn func(key uint32, blob []byte) error) error {
	le := binary.LittleEndian
	for i, sl := range db.slots {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := db.budget.spend(int(sl.cnt) * ndbBlock); err != nil {
			return err
		}
		buf := make([]byte, int(sl.cnt)*ndbBlock) // bounded by the file size in openNDB
		if _, err := db.r.ReadAt(buf, int64(sl.off)*ndbBlock); err != nil {
			return fmt.Errorf("reading ndb blob %d: %w", sl.idx, err)
		}
		if len(buf) < ndbBlobHead+ndbBlobTail || le.Uint32(buf) != ndbBlobMagic || le.Uint32(buf[4:]) != sl.idx {
			return fmt.Errorf("ndb blob %d has a bad head", sl.idx)
		}
		n := le.Uint32(buf[12:])
		if uint64(ndbBlobHead)+uint64(n)+ndbBlobTail > uint64(len(buf)) {
			return fmt.Errorf("ndb blob %d claims %d bytes in %d blocks", sl.idx, n, sl.cnt)
		}
		tail := buf[len(buf)-ndbBlobTail:] // the tail ends the last block
		if le.Uint32(tail[4:]) != n || le.Uint32(tail[8:]) != ndbBlobEnd {
			return fmt.Errorf("ndb blob %d has a bad tail", sl.idx)
		}
		if adler32.Checksum(buf[:len(buf)-ndbBlobTail]) != le.Uint32(tail) {
			return fmt.Errorf("ndb blob %d fails its adler32 checksum", sl.idx)
		}
		if err := fn(sl.idx, buf[ndbBlobHead:ndbBlobHead+n]); err != nil {
			return err
		}
	}
	return nil
}
