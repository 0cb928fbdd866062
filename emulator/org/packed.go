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
//	n     uint16, little endian; its top bit (packWide) says the ends
//	      take 4 bytes rather than 2
//	kinds n bytes: the kind of each value (packNil, packString...)
//	ends  n uint16 or uint32, little endian: where each value ends in data
//	data  the values one after the other: strings as they are, float64 as
//	      its 8 IEEE bits, time.Time and Date as 8 bytes of Unix seconds
//	      then 4 of nanoseconds (UTC); packSame, a value equal to an
//	      earlier one (the audit fields of a new record repeat one time
//	      and one user id), as that value's position in 2 bytes;
//	      packJoin, a Name of FirstName and LastName (nameJoin), as their
//	      positions in 2 bytes each
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
	packSame
	packJoin
)

const (
	// packWide flags the 4-byte ends in a packed record's n.
	packWide = 1 << 15
	// packMaxValues is the most values a packed record holds.
	packMaxValues = packWide - 1
	// packedTimeLen is the data length of a packed time.Time or Date.
	packedTimeLen = 12
	// packedIDLen is the length of the string values packSame looks for
	// among earlier ones: ids.
	packedIDLen = 18
)

// packedData is a record's values, packed (d) or not (x, when not nil).
type packedData struct {
	d string
	x []any
}

// packer packs records, reusing its buffer.
type packer struct {
	buf []byte // the packed record
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
	if len(vals) > packMaxValues {
		return false
	}
	ok, tooBig := pk.encodeEnds(vals, 2)
	if tooBig {
		ok, _ = pk.encodeEnds(vals, 4)
	}
	return ok
}

// encodeEnds is encode with ends of width bytes (2 or 4); tooBig reports
// data too large for them.
func (pk *packer) encodeEnds(vals []any, width int) (ok, tooBig bool) {
	n := len(vals)
	hdr := 2 + (1+width)*n
	if cap(pk.buf) < hdr {
		pk.buf = make([]byte, 0, 2*hdr+256)
	}
	b := pk.buf[:hdr]
	h := n
	if width == 4 {
		h |= packWide
	}
	b[0], b[1] = byte(h), byte(h>>8)
	// Earlier values a value may repeat: times, and ids.
	var times, ids [4]int
	nt, ni := 0, 0
	for i, v := range vals {
		if v == nil { // most fields of most records
			e := len(b) - hdr
			b[2+i] = packNil
			if o := 2 + n + width*i; width == 2 {
				b[o], b[o+1] = byte(e), byte(e>>8)
			} else {
				b[o], b[o+1], b[o+2], b[o+3] = byte(e), byte(e>>8), byte(e>>16), byte(e>>24)
			}
			continue
		}
		var k byte
		switch x := v.(type) {
		case *string: // staged by convertInput
			k = packString
			b = append(b, *x...)
		case *[packedIDLen]byte: // a new record's id, minted in place
			k = packString
			b = append(b, x[:]...)
		case *nameJoin:
			fn, _ := textValue(vals[x.first])
			ln, _ := textValue(vals[x.last])
			switch {
			case fn == "" && ln == "":
				k = packNil
			case fn == "":
				k = packSame
				b = append(b, byte(x.last), byte(x.last>>8))
			case ln == "":
				k = packSame
				b = append(b, byte(x.first), byte(x.first>>8))
			default:
				k = packJoin
				b = append(b, byte(x.first), byte(x.first>>8), byte(x.last), byte(x.last>>8))
			}
		case string:
			k = packString
			if len(x) == packedIDLen {
				if j := sameString(vals, ids[:ni], x); j >= 0 {
					k = packSame
					b = append(b, byte(j), byte(j>>8))
					break
				}
				if ni < len(ids) {
					ids[ni] = i
					ni++
				}
			}
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
				return false, false
			}
			k = packTime
			if j := sameTime(vals, times[:nt], x); j >= 0 {
				k = packSame
				b = append(b, byte(j), byte(j>>8))
				break
			}
			if nt < len(times) {
				times[nt] = i
				nt++
			}
			b = appendTime(b, x)
		case Date:
			if !packableTime(x.Time) {
				return false, false
			}
			k = packDate
			b = appendTime(b, x.Time)
		default:
			return false, false
		}
		b[2+i] = k
		e := len(b) - hdr
		if o := 2 + n + width*i; width == 2 {
			if e > math.MaxUint16 {
				return false, true
			}
			b[o], b[o+1] = byte(e), byte(e>>8)
		} else {
			if uint64(e) > math.MaxUint32 {
				return false, false
			}
			b[o], b[o+1], b[o+2], b[o+3] = byte(e), byte(e>>8), byte(e>>16), byte(e>>24)
		}
	}
	pk.buf = b
	return true, false
}

// sameString returns the position among at of the string equal to s, or -1.
func sameString(vals []any, at []int, s string) int {
	for _, j := range at {
		if vals[j].(string) == s {
			return j
		}
	}
	return -1
}

// sameTime returns the position among at of the time equal to t, or -1.
func sameTime(vals []any, at []int, t time.Time) int {
	for _, j := range at {
		if vals[j].(time.Time) == t {
			return j
		}
	}
	return -1
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

// cloneVals copies vals for a record that keeps them unpacked, replacing
// the pointers a writer stages (see encodeEnds) by the strings they point to.
func cloneVals(vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case *string:
			out[i] = *x
		case *[packedIDLen]byte:
			out[i] = string(x[:])
		case *nameJoin:
			out[i] = x.value(vals)
		default:
			out[i] = v
		}
	}
	return out
}

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

// packedNum is the number of values in packed d, and whether its ends
// take 4 bytes.
func packedNum(d string) (n int, wide bool) {
	h := int(d[0]) | int(d[1])<<8
	return h &^ packWide, h&packWide != 0
}

// slot returns the kind and the data of value p of packed d.
func slot(d string, p int) (kind byte, v string) {
	n, wide := packedNum(d)
	kind = d[2+p]
	if kind == packNil || kind == packFalse || kind == packTrue {
		return kind, ""
	}
	var start, end, hdr int
	if wide {
		hdr = 2 + 5*n
		if p > 0 {
			start = int(uint32At(d, 2+n+4*(p-1)))
		}
		end = int(uint32At(d, 2+n+4*p))
	} else {
		hdr = 2 + 3*n
		if p > 0 {
			start = int(uint16At(d, 2+n+2*(p-1)))
		}
		end = int(uint16At(d, 2+n+2*p))
	}
	v = d[hdr+start : hdr+end]
	switch kind {
	case packSame:
		return slot(d, int(uint16At(v, 0)))
	case packJoin:
		_, first := slot(d, int(uint16At(v, 0)))
		_, last := slot(d, int(uint16At(v, 2)))
		return packString, first + " " + last
	}
	return kind, v
}

// nameJoin stands, in the values of a record being inserted, for a Name of
// FirstName and LastName (see Object.nameJoin): packed as a reference to
// them, it costs the insert no string.
type nameJoin struct{ first, last int }

// value is the Name nameJoin stands for, as Object.nameFn computes it.
func (nj *nameJoin) value(vals []any) any { return fullName(vals[nj.first], vals[nj.last]) }

func uint16At(s string, i int) uint16 { return uint16(s[i]) | uint16(s[i+1])<<8 }

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

// null reports whether pd stands for no record at all (a query's null
// parent; see Result).
func (pd *packedData) null() bool { return pd.d == "" && pd.x == nil }

// get returns value p.
func (pd *packedData) get(p int) any {
	if pd.x != nil {
		return pd.x[p]
	}
	return unpack(slot(pd.d, p))
}

// isNil reports whether value p is null.
func (pd *packedData) isNil(p int) bool {
	if pd.x != nil {
		return pd.x[p] == nil
	}
	return pd.d[2+p] == packNil
}

// str returns value p when it is a string, without boxing it: for a
// packed record, a substring of its packed values.
func (pd *packedData) str(p int) (string, bool) {
	if pd.x != nil {
		s, ok := pd.x[p].(string)
		return s, ok
	}
	k, v := slot(pd.d, p)
	return v, k == packString
}

// text returns value p as FormatCSV does.
func (pd *packedData) text(p int) string {
	if pd.x != nil {
		return FormatCSV(pd.x[p])
	}
	k, v := slot(pd.d, p)
	switch k {
	case packString:
		return v
	case packNil:
		return ""
	case packFalse:
		return "false"
	case packTrue:
		return "true"
	}
	return FormatCSV(unpack(k, v))
}

// values returns a new slice of the values.
func (pd *packedData) values() []any {
	if pd.x != nil {
		return cloneVals(pd.x)
	}
	n, _ := packedNum(pd.d)
	vals := make([]any, n)
	for p := range n {
		if pd.d[2+p] != packNil {
			vals[p] = unpack(slot(pd.d, p))
		}
	}
	return vals
}

// data returns the record's values as stored, for an undo log.
func (r *record) data() packedData { return r.packedData }

// setData replaces the record's values by ones data returned.
func (r *record) setData(pd packedData) { r.packedData = pd }

// newRecord returns a record of vals (packed; vals is not kept).
func newRecord(vals []any) *record {
	var pk packer
	r := &record{}
	r.setData(pk.pack(vals))
	return r
}
