package bulk

import (
	"io"
	"strings"
)

// okRows are the successful rows of a Bulk 2.0 batch kept compactly (the
// service keeps them so without a data file): each row's id and flag, and
// where its cells are, in the segment as uploaded (a plain row: one the
// service split itself, no cell holding a double quote) or rendered in
// cells (a row the CSV reader read). The successfulResults file is rendered
// from them when it is downloaded, byte for byte as appendResultRow writes
// it; the batch does not hold a second copy of its input meanwhile.
type okRows struct {
	rows  []okRow
	ids   []byte // the rows' ids, quoted, one after the other
	cells []byte // rendered cells of the rows that are not plain: a delimiter then a quoted cell, per cell
}

// okRow is one successful row of okRows.
type okRow struct {
	from, to uint32 // the row's cells: seg[from:to] (the row's text) when plain, else cells[from:to]
	idEnd    uint32 // where its quoted id ends in ids
	plain    bool
	created  bool
}

// newOKRows returns okRows with room for n rows.
func newOKRows(n int) okRows {
	return okRows{rows: make([]okRow, 0, n), ids: make([]byte, 0, n*(idLen+2))}
}

// idLen is the length of the ids the org answers with.
const idLen = 18

// add appends the outcome of p, written with id and created, in a batch of
// delimiter delim.
func (o *okRows) add(p pendingRow, delim byte, id string, created bool) {
	o.ids = appendQuoted(o.ids, id)
	r := okRow{idEnd: uint32(len(o.ids)), created: created, plain: p.plain}
	if r.plain {
		r.from, r.to = uint32(p.from), uint32(p.to)
	} else {
		r.from = uint32(len(o.cells))
		for _, c := range p.raw {
			o.cells = append(o.cells, delim)
			o.cells = appendQuoted(o.cells, c)
		}
		r.to = uint32(len(o.cells))
	}
	o.rows = append(o.rows, r)
}

// writeTo writes the rows' result lines to w, for a segment seg of
// delimiter delim and line terminator eol; buf is scratch space.
func (o *okRows) writeTo(w io.Writer, buf []byte, seg string, delim byte, eol string) ([]byte, error) {
	idStart := uint32(0)
	for _, r := range o.rows {
		buf = append(buf, o.ids[idStart:r.idEnd]...)
		buf = append(buf, delim, '"')
		idStart = r.idEnd
		if r.created {
			buf = append(buf, "true"...)
		} else {
			buf = append(buf, "false"...)
		}
		buf = append(buf, '"')
		if r.plain {
			text := seg[r.from:r.to]
			for {
				i := strings.IndexByte(text, delim)
				if i < 0 {
					break
				}
				buf = append(buf, delim, '"')
				buf = append(buf, text[:i]...)
				buf = append(buf, '"')
				text = text[i+1:]
			}
			buf = append(buf, delim, '"')
			buf = append(buf, text...)
			buf = append(buf, '"')
		} else {
			buf = append(buf, o.cells[r.from:r.to]...)
		}
		buf = append(buf, eol...)
		if len(buf) >= 32<<10 {
			if _, err := w.Write(buf); err != nil {
				return buf[:0], err
			}
			buf = buf[:0]
		}
	}
	return buf, nil
}
