package rpmdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// Header tags read by this package (rpmtag.h).
const (
	TagName            = 1000
	TagVersion         = 1001
	TagRelease         = 1002
	TagEpoch           = 1003
	TagSummary         = 1004
	TagInstallTime     = 1008
	TagSize            = 1009
	TagVendor          = 1011
	TagLicense         = 1014
	TagArch            = 1022
	TagOldFilenames    = 1027
	TagSourceRPM       = 1044
	TagDirIndexes      = 1116
	TagBasenames       = 1117
	TagDirnames        = 1118
	TagModularityLabel = 5096
	TagSigMD5          = 261
	TagProvideName     = 1047
	TagProvideFlags    = 1112
	TagProvideVersion  = 1113
)

// Header entry types (rpmtag.h rpmTagType).
const (
	typeNull        = 0
	typeChar        = 1
	typeInt8        = 2
	typeInt16       = 3
	typeInt32       = 4
	typeInt64       = 5
	typeString      = 6
	typeBin         = 7
	typeStringArray = 8
	typeI18NString  = 9
)

// Limits rpm itself enforces on headers (header.c hdrchkTags, hdrchkData).
const (
	maxTags = 0xffff
	maxData = 0x0fffffff
)

// Header is an rpm header blob as an rpmdb stores it: no lead and no magic,
// only the entry count, the data size, the index and the data. Values are
// read on demand, so a reader pays only for the tags it asks for.
type Header struct {
	index []byte // il entries of 16 bytes
	data  []byte
}

// ParseHeader checks the blob's sizes and every index entry against the
// blob itself (so a hostile count never causes a large allocation) and
// returns a Header that reads values from it. The blob is not copied.
func ParseHeader(blob []byte) (*Header, error) {
	if len(blob) < 8 {
		return nil, fmt.Errorf("header of %d bytes is shorter than its 8-byte preamble", len(blob))
	}
	il := binary.BigEndian.Uint32(blob[0:])
	dl := binary.BigEndian.Uint32(blob[4:])
	if il == 0 || il > maxTags {
		return nil, fmt.Errorf("header claims %d tags (rpm allows 1 to %d)", il, maxTags)
	}
	if dl > maxData {
		return nil, fmt.Errorf("header claims %d bytes of data (rpm allows up to %d)", dl, maxData)
	}
	want := 8 + 16*uint64(il) + uint64(dl)
	if uint64(len(blob)) < want {
		return nil, fmt.Errorf("header claims %d bytes but the record has %d", want, len(blob))
	}
	h := &Header{index: blob[8 : 8+16*int(il)], data: blob[8+16*int(il) : want]}
	for i := 0; i < int(il); i++ {
		e := h.entry(i)
		if e.typ > typeI18NString {
			return nil, fmt.Errorf("header entry %d (tag %d) has unknown type %d", i, e.tag, e.typ)
		}
		if e.off < 0 || int64(e.off) > int64(len(h.data)) {
			return nil, fmt.Errorf("header entry %d (tag %d) points at offset %d outside its %d bytes of data", i, e.tag, e.off, len(h.data))
		}
		if e.count == 0 || uint64(e.count) > uint64(len(h.data))+1 {
			return nil, fmt.Errorf("header entry %d (tag %d) has bad count %d", i, e.tag, e.count)
		}
	}
	return h, nil
}

type entry struct {
	tag   int32
	typ   uint32
	off   int32
	count uint32
}

func (h *Header) entry(i int) entry {
	b := h.index[16*i:]
	return entry{
		tag:   int32(binary.BigEndian.Uint32(b[0:])),
		typ:   binary.BigEndian.Uint32(b[4:]),
		off:   int32(binary.BigEndian.Uint32(b[8:])),
		count: binary.BigEndian.Uint32(b[12:]),
	}
}

// find returns the last entry for tag: entries appended after the
// immutable region replace the region's own, as rpm's headerImport does.
func (h *Header) find(tag int32) (entry, bool) {
	var found entry
	ok := false
	n := len(h.index) / 16
	for i := 0; i < n; i++ {
		if int32(binary.BigEndian.Uint32(h.index[16*i:])) == tag {
			found, ok = h.entry(i), true
		}
	}
	return found, ok
}

// stringOf reads a STRING, I18NSTRING or first STRING_ARRAY value.
func (h *Header) stringOf(e entry) (string, bool) {
	if e.typ != typeString && e.typ != typeI18NString && e.typ != typeStringArray {
		return "", false
	}
	rest := h.data[e.off:]
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		return "", false
	}
	return string(rest[:end]), true
}

// uint32Of reads the first value of an INT32 entry.
func (h *Header) uint32Of(e entry) (uint32, bool) {
	if e.typ != typeInt32 || int(e.off)+4 > len(h.data) {
		return 0, false
	}
	return binary.BigEndian.Uint32(h.data[e.off:]), true
}

// String returns a STRING or the first I18NSTRING value of tag.
func (h *Header) String(tag int32) (string, bool) {
	e, ok := h.find(tag)
	if !ok {
		return "", false
	}
	return h.stringOf(e)
}

// Strings returns the values of a STRING_ARRAY (or STRING) tag. It returns
// false when the tag is missing or its strings run past the data.
func (h *Header) Strings(tag int32) ([]string, bool) {
	e, ok := h.find(tag)
	if !ok || (e.typ != typeStringArray && e.typ != typeString && e.typ != typeI18NString) {
		return nil, false
	}
	if e.typ != typeStringArray {
		e.count = 1
	}
	rest := h.data[e.off:]
	out := make([]string, 0, min(int(e.count), len(rest)+1))
	for range e.count {
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			return nil, false
		}
		out = append(out, string(rest[:end]))
		rest = rest[end+1:]
	}
	return out, true
}

// Uint32s returns the values of an INT32 tag.
func (h *Header) Uint32s(tag int32) ([]uint32, bool) {
	e, ok := h.find(tag)
	if !ok || e.typ != typeInt32 {
		return nil, false
	}
	if uint64(e.off)+4*uint64(e.count) > uint64(len(h.data)) {
		return nil, false
	}
	out := make([]uint32, e.count)
	for i := range out {
		out[i] = binary.BigEndian.Uint32(h.data[int(e.off)+4*i:])
	}
	return out, true
}

// Uint32 returns the first value of an INT32 tag.
func (h *Header) Uint32(tag int32) (uint32, bool) {
	e, ok := h.find(tag)
	if !ok {
		return 0, false
	}
	return h.uint32Of(e)
}

// Uint64 returns the first value of an INT32 or INT64 tag.
func (h *Header) Uint64(tag int32) (uint64, bool) {
	e, ok := h.find(tag)
	if !ok {
		return 0, false
	}
	return h.uint64Of(e)
}

func (h *Header) uint64Of(e entry) (uint64, bool) {
	switch {
	case e.typ == typeInt64 && int(e.off)+8 <= len(h.data):
		return binary.BigEndian.Uint64(h.data[e.off:]), true
	case e.typ == typeInt32:
		v, ok := h.uint32Of(e)
		return uint64(v), ok
	}
	return 0, false
}

// Binary returns the value of a BIN tag.
func (h *Header) Binary(tag int32) ([]byte, bool) {
	e, ok := h.find(tag)
	if !ok {
		return nil, false
	}
	return h.binaryOf(e)
}

func (h *Header) binaryOf(e entry) ([]byte, bool) {
	if e.typ != typeBin || uint64(e.off)+uint64(e.count) > uint64(len(h.data)) {
		return nil, false
	}
	return h.data[e.off : int(e.off)+int(e.count)], true
}

// Owns reports whether the package's file list holds path, without
// building the list.
func (h *Header) Owns(path string) bool {
	dir, base := path, ""
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir, base = path[:i+1], path[i+1:]
	}
	e, ok := h.find(TagBasenames)
	if !ok || e.typ != typeStringArray {
		old, _ := h.Strings(TagOldFilenames)
		for _, f := range old {
			if f == path {
				return true
			}
		}
		return false
	}
	var dirs []string
	var idx []uint32
	rest := h.data[e.off:]
	for i := 0; i < int(e.count); i++ {
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			return false
		}
		if string(rest[:end]) == base {
			if dirs == nil {
				dirs, _ = h.Strings(TagDirnames)
				idx, _ = h.Uint32s(TagDirIndexes)
			}
			if i < len(idx) && int(idx[i]) < len(dirs) && dirs[idx[i]] == dir {
				return true
			}
		}
		rest = rest[end+1:]
	}
	return false
}

// Provide is one entry of a package's provides.
type Provide struct {
	Name    string
	Flags   uint32
	Version string
}

// Provides returns the package's provides.
func (h *Header) Provides() []Provide {
	names, _ := h.Strings(TagProvideName)
	flags, _ := h.Uint32s(TagProvideFlags)
	vers, _ := h.Strings(TagProvideVersion)
	out := make([]Provide, len(names))
	for i, n := range names {
		out[i].Name = n
		if i < len(flags) {
			out[i].Flags = flags[i]
		}
		if i < len(vers) {
			out[i].Version = vers[i]
		}
	}
	return out
}
