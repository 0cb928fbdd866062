package org

import (
	"math"
	"strings"
	"time"
)

// A record's values are packed into one string, so that a stored record is
// one pointer-free allocation rather than a slot of 16 bytes per field
// (most of them empty) plus a boxed value per field set: millions of
// records then cost the garbage collector almost nothing to scan.
//
// Layout, for an object of n fields:
//
//	n     uint16, little endian
//	kinds n bytes: the kind of each value (packNil, packString...)
//	ends  n uint32, little endian: where each value ends in data
//	data  the values one after the other: strings as they are, float64 as
//	      its 8 IEEE bits, time.Time and Date as 8 bytes of Unix seconds
//	      then 4 of nanoseconds (UTC)
//
// Values of other types, and times that are not plain UTC instants, cannot
// be packed: such a record keeps its values unpacked (record.x).
const (
	packNil byte = iota
	packString
	packFalse
	packTrue
	packFloat
	packTime
	packDate
)

// packedTimeLen is the data length of a packed time.Time or Date.
const packedTimeLen = 12

// packedData is a record's values, packed (d) or not (x, when not nil).
type packedData struct {
	d string
	x []any
}

// packer packs records, reusing one buffer.
type packer struct {
	buf []byte
	// arena holds the records packShared packed, one after the other.
	arena strings.Builder
}

// arenaBytes bounds the size of one arena of packShared.
const arenaBytes = 128 << 10

// pack packs vals into a string of their own. The result shares nothing
// with vals.
func (pk *packer) pack(vals []any) packedData {
	if !pk.encode(vals) {
		return packedData{x: cloneVals(vals)}
	}
	return packedData{d: string(pk.buf)}
}

// packShared is pack for a record written with others (the inserts of one
// write, which usually live and die together): their packed values share
// allocations of up to arenaBytes. left is how many records are still to
// come, this one included.
func (pk *packer) packShared(vals []any, left int) packedData {
	if !pk.encode(vals) {
		return packedData{x: cloneVals(vals)}
	}
	n := len(pk.buf)
	if pk.arena.Cap()-pk.arena.Len() < n {
		pk.arena = strings.Builder{}
		pk.arena.Grow(max(n, min(n*max(left, 1), arenaBytes)))
	}
	start := pk.arena.Len()
	pk.arena.Write(pk.buf)
	// What the builder has written it never changes: the string stays valid
	// as the builder grows.
	return packedData{d: pk.arena.String()[start:]}
}

// encode packs vals into pk.buf; false if they cannot be packed.
func (pk *packer) encode(vals []any) bool {
	n := len(vals)
	if n > math.MaxUint16 {
		return false
	}
	hdr := 2 + 5*n
	if cap(pk.buf) < hdr {
		pk.buf = make([]byte, hdr, 2*hdr+256)
	}
	b := pk.buf[:hdr]
	b[0], b[1] = byte(n), byte(n>>8)
	for i, v := range vals {
		var k byte
		switch x := v.(type) {
		case nil:
			k = packNil
		case string:
			k = packString
			b = append(b, x...)
		case bool:
			k = packFalse
			if x {
				k = packTrue
			}
		case float64:
			k = packFloat
			b = appendUint64(b, math.Float64bits(x))
		case time.Time:
			if !packableTime(x) {
				return false
			}
			k = packTime
			b = appendTime(b, x)
		case Date:
			if !packableTime(x.Time) {
				return false
			}
			k = packDate
			b = appendTime(b, x.Time)
		default:
			return false
		}
		if len(b)-hdr > math.MaxUint32 {
			return false
		}
		b[2+i] = k
		e := uint32(len(b) - hdr)
		o := 2 + n + 4*i
		b[o], b[o+1], b[o+2], b[o+3] = byte(e), byte(e>>8), byte(e>>16), byte(e>>24)
	}
	pk.buf = b
	return true
}

// packableTime reports whether t comes back equal (==) from its Unix
// seconds and nanoseconds: a UTC time without a monotonic reading.
func packableTime(t time.Time) bool {
	return t.Location() == time.UTC && t == t.Round(0)
}

func appendUint64(b []byte, v uint64) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

func appendTime(b []byte, t time.Time) []byte {
	b = appendUint64(b, uint64(t.Unix()))
	ns := uint32(t.Nanosecond())
	return append(b, byte(ns), byte(ns>>8), byte(ns>>16), byte(ns>>24))
}

func cloneVals(vals []any) []any { return append([]any(nil), vals...) }

func uint32At(s string, i int) uint32 {
	_ = s[i+3]
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}

func uint64At(s string, i int) uint64 {
	return uint64(uint32At(s, i)) | uint64(uint32At(s, i+4))<<32
}

func timeAt(s string, i int) time.Time {
	return time.Unix(int64(uint64At(s, i)), int64(uint32At(s, i+8))).UTC()
}

// packedNum is the number of values in packed d.
func packedNum(d string) int { return int(d[0]) | int(d[1])<<8 }

// slot returns the kind and the data of value p of packed d.
func slot(d string, p int) (kind byte, v string) {
	n := packedNum(d)
	kind = d[2+p]
	if kind == packNil || kind == packFalse || kind == packTrue {
		return kind, ""
	}
	hdr := 2 + 5*n
	start := 0
	if p > 0 {
		start = int(uint32At(d, 2+n+4*(p-1)))
	}
	end := int(uint32At(d, 2+n+4*p))
	return kind, d[hdr+start : hdr+end]
}

// unpack returns the value of kind k held in v.
func unpack(k byte, v string) any {
	switch k {
	case packString:
		return v
	case packFalse:
		return false
	case packTrue:
		return true
	case packFloat:
		return math.Float64frombits(uint64At(v, 0))
	case packTime:
		return timeAt(v, 0)
	case packDate:
		return Date{timeAt(v, 0)}
	}
	return nil
}

// get returns value p of the record.
func (r *record) get(p int) any {
	if r.x != nil {
		return r.x[p]
	}
	return unpack(slot(r.d, p))
}

// isNil reports whether value p is null.
func (r *record) isNil(p int) bool {
	if r.x != nil {
		return r.x[p] == nil
	}
	return r.d[2+p] == packNil
}

// str returns value p when it is a string, without boxing it.
func (r *record) str(p int) (string, bool) {
	if r.x != nil {
		s, ok := r.x[p].(string)
		return s, ok
	}
	k, v := slot(r.d, p)
	return v, k == packString
}

// text returns value p as FormatCSV does.
func (r *record) text(p int) string {
	if s, ok := r.str(p); ok {
		return s
	}
	return FormatCSV(r.get(p))
}

// values returns a new slice of the record's values.
func (r *record) values() []any {
	if r.x != nil {
		return cloneVals(r.x)
	}
	n := packedNum(r.d)
	vals := make([]any, n)
	for p := range n {
		if r.d[2+p] != packNil {
			vals[p] = unpack(slot(r.d, p))
		}
	}
	return vals
}

// data returns the record's values as stored, for an undo log.
func (r *record) data() packedData { return packedData{d: r.d, x: r.x} }

// setData replaces the record's values by ones data returned.
func (r *record) setData(pd packedData) { r.d, r.x = pd.d, pd.x }

// newRecord returns a record of vals (packed; vals is not kept).
func newRecord(vals []any) *record {
	var pk packer
	r := &record{}
	r.setData(pk.pack(vals))
	return r
}
