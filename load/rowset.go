package load

import (
	"math/bits"
	"slices"
	"sort"
)

// rowSetBlock is how many consecutive row numbers one bitmap block covers.
const rowSetBlock = 4096

const rowSetWords = rowSetBlock / 64

// rowSet is a set of row numbers (1 and up) whose memory is bounded by the
// rows whose neighbours are not yet in the set, not by how many rows it
// holds: a block of rowSetBlock consecutive rows that is complete collapses
// into a span of complete blocks, and only partly filled blocks keep a
// bitmap. A load marks rows read and done roughly in order, so its sets stay
// a few spans plus the blocks of the rows in flight. Not safe for concurrent
// use.
type rowSet struct {
	full    []blockSpan             // complete blocks, sorted, disjoint, not adjacent
	partial map[int64]*rowSetBitmap // incomplete blocks by index
}

type blockSpan struct{ lo, hi int64 } // block indexes [lo, hi)

type rowSetBitmap struct {
	w [rowSetWords]uint64
	n int // bits set
}

func rowSetPos(row int64) (block int64, bit uint) {
	i := row - 1 // rows start at 1; index 0 keeps block 0 completable
	return i / rowSetBlock, uint(i % rowSetBlock)
}

// inFull reports whether block b is complete.
func (s *rowSet) inFull(b int64) bool {
	i := sort.Search(len(s.full), func(i int) bool { return s.full[i].hi > b })
	return i < len(s.full) && s.full[i].lo <= b
}

// set adds row.
func (s *rowSet) set(row int64) {
	b, bit := rowSetPos(row)
	if s.inFull(b) {
		return
	}
	if s.partial == nil {
		s.partial = make(map[int64]*rowSetBitmap)
	}
	m := s.partial[b]
	if m == nil {
		m = &rowSetBitmap{}
		s.partial[b] = m
	}
	w, mask := bit/64, uint64(1)<<(bit%64)
	if m.w[w]&mask != 0 {
		return
	}
	m.w[w] |= mask
	m.n++
	if m.n == rowSetBlock {
		delete(s.partial, b)
		s.addFull(b)
	}
}

// addFull records block b as complete, merging it with adjacent spans.
func (s *rowSet) addFull(b int64) {
	i := sort.Search(len(s.full), func(i int) bool { return s.full[i].lo > b })
	// s.full[i-1] (if any) starts at or before b; s.full[i] starts after b.
	joinPrev := i > 0 && s.full[i-1].hi == b
	joinNext := i < len(s.full) && s.full[i].lo == b+1
	switch {
	case joinPrev && joinNext:
		s.full[i-1].hi = s.full[i].hi
		s.full = slices.Delete(s.full, i, i+1)
	case joinPrev:
		s.full[i-1].hi = b + 1
	case joinNext:
		s.full[i].lo = b
	default:
		s.full = slices.Insert(s.full, i, blockSpan{b, b + 1})
	}
}

// has reports whether row is in the set.
func (s *rowSet) has(row int64) bool {
	b, bit := rowSetPos(row)
	if s.inFull(b) {
		return true
	}
	m := s.partial[b]
	return m != nil && m.w[bit/64]&(1<<(bit%64)) != 0
}

// words returns block b's bitmap words (nil for an empty block).
func (s *rowSet) words(b int64) *[rowSetWords]uint64 {
	if s.inFull(b) {
		var all [rowSetWords]uint64
		for i := range all {
			all[i] = ^uint64(0)
		}
		return &all
	}
	if m := s.partial[b]; m != nil {
		return &m.w
	}
	return nil
}

// andNot returns the rows of s that are not in o, in increasing order.
func (s *rowSet) andNot(o *rowSet) []int64 {
	var blocks []int64
	for _, sp := range s.full {
		for b := sp.lo; b < sp.hi; b++ {
			blocks = append(blocks, b)
		}
	}
	for b := range s.partial {
		blocks = append(blocks, b)
	}
	slices.Sort(blocks)
	var out []int64
	for _, b := range blocks {
		if o.inFull(b) {
			continue
		}
		mine := s.words(b)
		theirs := o.words(b)
		for i, w := range mine {
			if theirs != nil {
				w &^= theirs[i]
			}
			for w != 0 {
				t := bits.TrailingZeros64(w)
				out = append(out, b*rowSetBlock+int64(i)*64+int64(t)+1)
				w &= w - 1
			}
		}
	}
	return out
}
