package rpmdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// sqliteFile reads the Packages table of an rpmdb.sqlite straight from
// the file format (sqlite.org/fileformat2.html): a read-only walk of one
// table b-tree, one pread per page. Written by hand because it reads a
// 2,000-package rpmdb in a fifth of the time the SQLite engine takes
// (measured in BenchmarkReadBench); the engine (modernc.org/sqlite) is
// still used when a write-ahead log holds changes this reader would miss.
// Every page number, offset and length is checked against the file.
type sqliteFile struct {
	r        io.ReaderAt
	pageSize int
	usable   int
	pages    uint32
	root     uint32
	page     []byte
	// A read-ahead window of whole pages: rpm writes rows in order, so
	// the next pages needed are mostly the next pages of the file.
	win      []byte
	winFirst uint32 // page number of win's first page
	winPages uint32
	budget   readBudget
}

const windowPages = 16

var errNotTable = errors.New("no Packages table")

func openSQLiteFile(r io.ReaderAt, size int64) (*sqliteFile, error) {
	hdr := make([]byte, 100)
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("reading the SQLite header: %w", err)
	}
	if string(hdr[:16]) != sqliteMagic {
		return nil, errors.New("not an SQLite database")
	}
	ps := int(binary.BigEndian.Uint16(hdr[16:]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps&(ps-1) != 0 {
		return nil, fmt.Errorf("SQLite page size %d is invalid", ps)
	}
	f := &sqliteFile{r: r, pageSize: ps, usable: ps - int(hdr[20]), page: make([]byte, ps), budget: newBudget(size)}
	if f.usable < 480 {
		return nil, fmt.Errorf("SQLite usable page size %d is invalid", f.usable)
	}
	if size%int64(ps) != 0 || size/int64(ps) > 1<<31 {
		return nil, fmt.Errorf("SQLite file of %d bytes is not a whole number of %d-byte pages (truncated?)", size, ps)
	}
	f.pages = uint32(size / int64(ps))
	root, err := f.findTable("Packages")
	if err != nil {
		return nil, err
	}
	f.root = root
	return f, nil
}

// readPage reads page n (1-based) into buf and returns where its b-tree
// header starts (page 1 begins with the 100-byte file header).
func (f *sqliteFile) readPage(n uint32, buf []byte) (int, error) {
	if n == 0 || n > f.pages {
		return 0, fmt.Errorf("page %d is outside the database (%d pages)", n, f.pages)
	}
	if n < f.winFirst || n >= f.winFirst+f.winPages {
		if f.win == nil {
			f.win = make([]byte, windowPages*f.pageSize)
		}
		count := min(windowPages, f.pages-n+1)
		if _, err := f.r.ReadAt(f.win[:int(count)*f.pageSize], int64(n-1)*int64(f.pageSize)); err != nil {
			return 0, fmt.Errorf("reading page %d: %w", n, err)
		}
		f.winFirst, f.winPages = n, count
	}
	off := int(n-f.winFirst) * f.pageSize
	copy(buf[:f.pageSize], f.win[off:off+f.pageSize])
	if n == 1 {
		return 100, nil
	}
	return 0, nil
}

// varint reads a SQLite varint (big-endian, 7 bits a byte, the ninth byte
// whole).
func varint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 8; i++ {
		if i >= len(b) {
			return 0, 0
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	if len(b) < 9 {
		return 0, 0
	}
	return v<<8 | uint64(b[8]), 9
}

// walk visits the rows of the table b-tree rooted at root in rowid order,
// giving fn each row's record (valid only during the call).
func (f *sqliteFile) walk(ctx context.Context, root uint32, fn func(rowid int64, record []byte) error) error {
	seen := map[uint32]bool{}
	var payload []byte
	var pages [][]byte // one buffer per depth
	var visit func(n uint32, depth int) error
	visit = func(n uint32, depth int) error {
		if depth > 40 {
			return fmt.Errorf("b-tree deeper than 40 levels at page %d", n)
		}
		if seen[n] {
			return fmt.Errorf("page %d is reached twice (a loop)", n)
		}
		seen[n] = true
		if len(seen)%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		for len(pages) <= depth {
			pages = append(pages, make([]byte, f.pageSize))
		}
		page := pages[depth]
		h, err := f.readPage(n, page)
		if err != nil {
			return err
		}
		kind := page[h]
		ncell := int(binary.BigEndian.Uint16(page[h+3:]))
		hdrLen := 8
		if kind == 0x05 {
			hdrLen = 12
		} else if kind != 0x0d {
			return fmt.Errorf("page %d has b-tree type %#x, not a table page", n, kind)
		}
		if h+hdrLen+2*ncell > f.usable {
			return fmt.Errorf("page %d claims %d cells, more than fit", n, ncell)
		}
		for i := 0; i < ncell; i++ {
			off := int(binary.BigEndian.Uint16(page[h+hdrLen+2*i:]))
			if off < h+hdrLen || off >= f.usable {
				return fmt.Errorf("page %d cell %d is at offset %d, outside the page", n, i, off)
			}
			cell := page[off:f.usable]
			if kind == 0x05 {
				if len(cell) < 4 {
					return fmt.Errorf("page %d cell %d is cut short", n, i)
				}
				if err := visit(binary.BigEndian.Uint32(cell), depth+1); err != nil {
					return err
				}
				continue
			}
			size, k := varint(cell)
			if k == 0 {
				return fmt.Errorf("page %d cell %d has a bad length", n, i)
			}
			cell = cell[k:]
			rowid, k := varint(cell)
			if k == 0 {
				return fmt.Errorf("page %d cell %d has a bad rowid", n, i)
			}
			cell = cell[k:]
			if size > uint64(f.pages)*uint64(f.pageSize) {
				return fmt.Errorf("row %d claims %d bytes, more than the file holds", rowid, size)
			}
			payload, err = f.payload(payload[:0], cell, int(size))
			if err != nil {
				return fmt.Errorf("row %d: %w", rowid, err)
			}
			if err := fn(int64(rowid), payload); err != nil {
				return err
			}
		}
		if kind == 0x05 {
			return visit(binary.BigEndian.Uint32(page[h+8:]), depth+1)
		}
		return nil
	}
	return visit(root, 0)
}

// payload gathers a cell's payload of size bytes: the part on the page
// and, past the local limit, the chain of overflow pages.
func (f *sqliteFile) payload(dst, cell []byte, size int) ([]byte, error) {
	u := f.usable
	x := u - 35
	local := size
	if size > x {
		m := (u-12)*32/255 - 23
		local = m + (size-m)%(u-4)
		if local > x {
			local = m
		}
	}
	if local > len(cell) || (local < size && local+4 > len(cell)) {
		return nil, errors.New("payload runs past its page")
	}
	dst = append(dst, cell[:local]...)
	if local == size {
		return dst, nil
	}
	next := binary.BigEndian.Uint32(cell[local:])
	for hops := uint32(0); len(dst) < size; hops++ {
		if hops > f.pages {
			return nil, errors.New("overflow chain loops")
		}
		if err := f.budget.spend(f.pageSize); err != nil {
			return nil, err
		}
		if _, err := f.readPage(next, f.page); err != nil {
			return nil, fmt.Errorf("overflow: %w", err)
		}
		chunk := min(u-4, size-len(dst))
		dst = append(dst, f.page[4:4+chunk]...)
		next = binary.BigEndian.Uint32(f.page)
	}
	return dst, nil
}

// column returns the value of column i of a record as bytes (text or
// blob) or an integer.
func column(record []byte, i int) (b []byte, n int64, err error) {
	hlen, k := varint(record)
	if k == 0 || hlen > uint64(len(record)) || hlen < uint64(k) {
		return nil, 0, errors.New("bad record header")
	}
	types := record[k:hlen]
	body := record[hlen:]
	for c := 0; ; c++ {
		t, k := varint(types)
		if k == 0 {
			return nil, 0, fmt.Errorf("record has no column %d", i)
		}
		types = types[k:]
		var width uint64
		switch {
		case t <= 4:
			width = t
		case t == 5:
			width = 6
		case t == 6 || t == 7:
			width = 8
		case t == 8 || t == 9 || t == 10 || t == 11:
			width = 0
		default:
			width = (t - 12) / 2
		}
		if width > uint64(len(body)) {
			return nil, 0, errors.New("record value runs past its end")
		}
		if c < i {
			body = body[width:]
			continue
		}
		v := body[:width]
		switch {
		case t >= 1 && t <= 6:
			var x int64
			if len(v) > 0 && v[0]&0x80 != 0 {
				x = -1
			}
			for _, b := range v {
				x = x<<8 | int64(b)
			}
			return nil, x, nil
		case t == 8:
			return nil, 0, nil
		case t == 9:
			return nil, 1, nil
		}
		return v, 0, nil
	}
}

// findTable returns the root page of a table, from the schema table.
func (f *sqliteFile) findTable(name string) (uint32, error) {
	var root uint32
	found := false
	err := f.walk(context.Background(), 1, func(_ int64, rec []byte) error {
		typ, _, err := column(rec, 0)
		if err != nil || string(typ) != "table" {
			return err
		}
		n, _, err := column(rec, 1)
		if err != nil || string(n) != name {
			return err
		}
		_, r, err := column(rec, 3)
		if err != nil {
			return err
		}
		if r <= 0 || r > int64(f.pages) {
			return fmt.Errorf("table %s has root page %d, outside the database", name, r)
		}
		root, found = uint32(r), true
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reading the schema: %w", err)
	}
	if !found {
		return 0, errNotTable
	}
	return root, nil
}

func (f *sqliteFile) each(ctx context.Context, fn func(key uint32, blob []byte) error) error {
	return f.walk(ctx, f.root, func(rowid int64, rec []byte) error {
		blob, _, err := column(rec, 1)
		if err != nil {
			return fmt.Errorf("row %d: %w", rowid, err)
		}
		return fn(uint32(rowid), blob)
	})
}
