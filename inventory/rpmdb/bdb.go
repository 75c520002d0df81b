package rpmdb

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
)

// Berkeley DB hash format, as rpm up to 4.15 wrote /var/lib/rpm/Packages.
// Written here because no maintained Go library reads it without leaking a
// goroutine per database and without trusting the sizes it finds; this
// reader checks every page number and length against the file first.
const (
	bdbHashMagic    = 0x061561
	bdbPageHeader   = 26
	bdbHashUnsorted = 2
	bdbOverflow     = 7
	bdbHashMeta     = 8
	bdbHash         = 13
	bdbKeyData      = 1
	bdbOffPage      = 3
)

type bdb struct {
	r        io.ReaderAt
	size     int64
	budget   readBudget
	order    binary.ByteOrder
	pageSize uint32
	lastPage uint32
}

func sniffBDB(head []byte) binary.ByteOrder {
	if len(head) < 16 {
		return nil
	}
	switch {
	case binary.LittleEndian.Uint32(head[12:]) == bdbHashMagic:
		return binary.LittleEndian
	case binary.BigEndian.Uint32(head[12:]) == bdbHashMagic:
		return binary.BigEndian
	}
	return nil
}

func openBDB(r io.ReaderAt, size int64) (*bdb, error) {
	meta := make([]byte, 512)
	if _, err := r.ReadAt(meta, 0); err != nil {
		return nil, fmt.Errorf("reading the Berkeley DB meta page: %w", err)
	}
	order := sniffBDB(meta)
	if order == nil {
		return nil, fmt.Errorf("not a Berkeley DB hash database")
	}
	db := &bdb{r: r, size: size, order: order, budget: newBudget(size)}
	db.pageSize = order.Uint32(meta[20:])
	if meta[25] != bdbHashMeta {
		return nil, fmt.Errorf("the Berkeley DB meta page has type %d, not a hash meta page", meta[25])
	}
	if db.pageSize < 512 || db.pageSize > 65536 || db.pageSize&(db.pageSize-1) != 0 {
		return nil, fmt.Errorf("the Berkeley DB page size %d is not a power of two from 512 to 65536", db.pageSize)
	}
	db.lastPage = order.Uint32(meta[32:])
	if int64(db.lastPage+1)*int64(db.pageSize) > size {
		return nil, fmt.Errorf("the Berkeley DB claims %d pages of %d bytes but the file has %d bytes (truncated?)",
			db.lastPage+1, db.pageSize, size)
	}
	return db, nil
}

func (db *bdb) page(n uint32, buf []byte) error {
	if n == 0 || n > db.lastPage {
		return fmt.Errorf("page %d is outside the database (last page %d)", n, db.lastPage)
	}
	_, err := db.r.ReadAt(buf, int64(n)*int64(db.pageSize))
	if err != nil {
		return fmt.Errorf("reading page %d: %w", n, err)
	}
	return nil
}

// each calls fn with every record's key and value, in page order.
func (db *bdb) each(ctx context.Context, fn func(key uint32, blob []byte) error) error {
	buf := make([]byte, db.pageSize)
	for n := uint32(1); n <= db.lastPage; n++ {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := db.page(n, buf); err != nil {
			return err
		}
		if t := buf[25]; t != bdbHash && t != bdbHashUnsorted {
			continue
		}
		entries := int(db.order.Uint16(buf[20:]))
		if bdbPageHeader+2*entries > len(buf) {
			return fmt.Errorf("page %d claims %d entries, more than fit in a page", n, entries)
		}
		offset := func(i int) int { return int(db.order.Uint16(buf[bdbPageHeader+2*i:])) }
		for i := 0; i+1 < entries; i += 2 {
			ko, vo := offset(i), offset(i+1)
			// An item runs from its offset to the start of the item before it.
			kend := len(buf)
			if i > 0 {
				kend = offset(i - 1)
			}
			if ko >= kend || vo >= ko || ko >= len(buf) || kend > len(buf) {
				return fmt.Errorf("page %d has overlapping items %d and %d", n, i, i+1)
			}
			if buf[ko] != bdbKeyData {
				continue
			}
			key := buf[ko+1 : kend]
			var k uint32
			if len(key) == 4 {
				k = db.order.Uint32(key)
			}
			switch buf[vo] {
			case bdbKeyData:
				if err := fn(k, buf[vo+1:ko]); err != nil {
					return err
				}
			case bdbOffPage:
				if vo+12 > ko {
					return fmt.Errorf("page %d item %d is too short for an overflow reference", n, i+1)
				}
				blob, err := db.overflow(db.order.Uint32(buf[vo+4:]), db.order.Uint32(buf[vo+8:]))
				if err != nil {
					return fmt.Errorf("record %d (page %d): %w", k, n, err)
				}
				if err := fn(k, blob); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// overflow reads a value of total length tlen stored on a chain of
// overflow pages starting at pgno.
func (db *bdb) overflow(pgno, tlen uint32) ([]byte, error) {
	if int64(tlen) > db.size {
		return nil, fmt.Errorf("value claims %d bytes, more than the %d-byte file", tlen, db.size)
	}
	out := make([]byte, 0, tlen)
	buf := make([]byte, db.pageSize)
	for seen := uint32(0); uint32(len(out)) < tlen; seen++ {
		if seen > db.lastPage {
			return nil, fmt.Errorf("overflow chain loops")
		}
		if err := db.budget.spend(len(buf)); err != nil {
			return nil, err
		}
		if err := db.page(pgno, buf); err != nil {
			return nil, err
		}
		if buf[25] != bdbOverflow {
			return nil, fmt.Errorf("page %d in an overflow chain has type %d", pgno, buf[25])
		}
		n := uint32(db.order.Uint16(buf[22:])) // hf_offset holds the length used
		if bdbPageHeader+n > db.pageSize || n == 0 {
			return nil, fmt.Errorf("overflow page %d claims %d bytes", pgno, n)
		}
		n = min(n, tlen-uint32(len(out)))
		out = append(out, buf[bdbPageHeader:bdbPageHeader+n]...)
		pgno = db.order.Uint32(buf[16:])
	}
	return out, nil
}
