package load

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
)

// sortRunRows is how many rows one in-memory sorted run holds before it is spilled to disk.
const sortRunRows = 50_000

// sorted returns the rows of in ordered by the GroupBy column (then by row number), using an
// external merge sort so memory stays bounded. An input error is returned after the rows read
// before it.
func (r *run) sorted(ctx context.Context, in passSource) (passSource, error) {
	key := -1
	for i, h := range r.header {
		if strings.EqualFold(h, r.cfg.GroupBy) {
			key = i
		}
	}
	less := func(a, b prow) int {
		if c := cmp.Compare(a.vals[key], b.vals[key]); c != 0 {
			return c
		}
		return cmp.Compare(a.num, b.num)
	}
	runRows := sortRunRows
	if r.l.sortRun > 0 {
		runRows = r.l.sortRun
	}
	var runs []*spoolSource
	var buf []prow
	var inErr error
	flush := func() error {
		slices.SortFunc(buf, less)
		sp, err := newSpool(r.tempPath("sort"), len(r.header))
		if err != nil {
			return err
		}
		for _, p := range buf {
			if err := sp.addRow(p); err != nil {
				return err
			}
		}
		if err := sp.finish(); err != nil {
			return err
		}
		src, err := sp.source()
		if err != nil {
			return err
		}
		runs = append(runs, src)
		buf = buf[:0]
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, err := in.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			inErr = err
			break
		}
		buf = append(buf, p)
		if len(buf) >= runRows {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if len(runs) == 0 {
		slices.SortFunc(buf, less)
		return &sliceSource{rows: buf, err: inErr}, nil
	}
	if len(buf) > 0 {
		if err := flush(); err != nil {
			return nil, err
		}
	}
	m := &mergeSource{less: less, err: inErr}
	for _, s := range runs {
		p, err := s.next()
		if errors.Is(err, io.EOF) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m.h = append(m.h, mergeItem{p: p, src: s})
	}
	heap.Init(m)
	return m, nil
}

type mergeItem struct {
	p   prow
	src *spoolSource
}

// mergeSource merges sorted runs.
type mergeSource struct {
	h    []mergeItem
	less func(a, b prow) int
	err  error
}

func (m *mergeSource) Len() int           { return len(m.h) }
func (m *mergeSource) Less(i, j int) bool { return m.less(m.h[i].p, m.h[j].p) < 0 }
func (m *mergeSource) Swap(i, j int)      { m.h[i], m.h[j] = m.h[j], m.h[i] }
func (m *mergeSource) Push(x any)         { m.h = append(m.h, x.(mergeItem)) }
func (m *mergeSource) Pop() any {
	x := m.h[len(m.h)-1]
	m.h = m.h[:len(m.h)-1]
	return x
}

func (m *mergeSource) next() (prow, error) {
	if len(m.h) == 0 {
		if m.err != nil {
			return prow{}, m.err
		}
		return prow{}, io.EOF
	}
	top := m.h[0]
	p, err := top.src.next()
	switch {
	case err == nil:
		m.h[0].p = p
		heap.Fix(m, 0)
	case errors.Is(err, io.EOF):
		heap.Pop(m)
	default:
		return prow{}, err
	}
	return top.p, nil
}
