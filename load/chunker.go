package load

import (
	"bytes"
	"fmt"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// chunker turns one pass's rows into uploads (chunks) under the API's limits: records, bytes
// and characters per upload, the header counted in each. It owns the pass's encoder and the
// chunk being filled; it sends nothing.
type chunker struct {
	r       *run
	api     API
	pass    int
	lim     limits
	enc     *encoder
	hdr     []byte        // the encoded header, written at the top of every chunk file
	hdrSize sfcsv.RowSize // its size, counted in every chunk
	cur     *chunk        // the chunk being filled, nil between chunks
	index   int           // index of the next chunk in the pass
	delim   byte          // the job's column delimiter
	eol     string        // the job's line ending
	// lastRows is the number of rows of the last chunk filled (0 before the first).
	lastRows int
	hbuf     []byte // scratch of the rows' join hash (appendRowHash)
}

func newChunker(r *run, api API, pass int) (*chunker, error) {
	enc := newEncoder(r.cfg)
	hdr, size, err := enc.encode(r.header)
	if err != nil {
		return nil, err
	}
	delim := r.cfg.ColumnDelimiter
	if delim == 0 {
		delim = sfcsv.Comma
	}
	return &chunker{r: r, api: api, pass: pass, lim: r.cfg.limitsFor(api), enc: enc, hdr: bytes.Clone(hdr), hdrSize: size,
		delim: byte(delim), eol: r.cfg.LineEnding.Terminator()}, nil
}

// add encodes row p and adds it to the chunk being filled. When p does not fit there, that
// chunk is returned as full (to be sent) and p starts the next one. A row that can never be
// sent (its value cannot be encoded, it exceeds a limit on its own) is not added: reject says
// why. err is a failure of the chunk file.
func (k *chunker) add(p prow) (full *chunk, reject *RowError, err error) {
	var b []byte
	var text string
	var size sfcsv.RowSize
	if k.api != Collections && p.text.delim == k.delim && p.text.intact(p.vals) {
		// The row as read, unchanged: its text is what the encoder would write, up to
		// quoting Salesforce reads the same way, and the job's line ending.
		text = p.text.s
		size = sfcsv.RowSize{Bytes: len(text) + len(k.eol), Chars: p.text.chars + len(k.eol)}
	} else if b, size, err = k.enc.encode(p.vals); err != nil {
		return nil, &RowError{StatusCode: StatusInvalidRow, Message: err.Error()}, nil
	}
	if msg := tooLarge(k.api, k.lim, k.hdrSize, size); msg != "" {
		return nil, &RowError{StatusCode: StatusRowTooLarge, Message: msg}, nil
	}
	if k.cur != nil && !k.cur.fits(k.lim.chunk(k.cur.index), size) {
		full, k.cur = k.cur, nil
		k.lastRows = len(full.rows)
	}
	if k.cur == nil {
		if k.cur, err = k.r.newChunk(k.api, k.pass, k.index, k.hdr, k.hdrSize); err != nil {
			return full, nil, err
		}
		// The previous chunk's rows are the best guess of this one's: its row list is made
		// that large at once rather than grown by doubling.
		k.cur.rows = make([]rowMeta, 0, k.lastRows)
		k.index++
	}
	batch := p.batch
	if k.pass == 0 {
		batch = k.cur.index
	}
	m := rowMeta{num: p.num, batch: int32(batch), attempts: int16(p.attempts),
		resent: p.lastErr != nil && p.lastErr.StatusCode == StatusOutcomeUnknown}
	if k.api == Bulk2 {
		m.hash, k.hbuf = appendRowHash(k.hbuf, k.r.seed, p.vals)
	}
	if text != "" {
		return full, nil, k.cur.addText(m, text, k.eol, size)
	}
	return full, nil, k.cur.add(m, p.vals, b, size)
}

// flush returns the chunk being filled, nil when there is none.
func (k *chunker) flush() *chunk {
	c := k.cur
	k.cur = nil
	return c
}

// tooLarge says why a row cannot be sent at all, or "".
func tooLarge(api API, lim limits, hdr, row sfcsv.RowSize) string {
	if row.Chars > MaxRecordChars {
		return fmt.Sprintf("row has %d characters; a record may have at most %d", row.Chars, MaxRecordChars)
	}
	if lim.bytes > 0 && int64(hdr.Bytes+row.Bytes) > lim.bytes {
		return fmt.Sprintf("row is %d bytes; with the header it exceeds the %s limit of %d bytes per upload", row.Bytes, api, lim.bytes)
	}
	if lim.chars > 0 && int64(hdr.Chars+row.Chars) > lim.chars {
		return fmt.Sprintf("row has %d characters; with the header it exceeds the %s limit of %d characters per batch", row.Chars, api, lim.chars)
	}
	return ""
}

// encoder encodes rows to CSV bytes and measures them.
type encoder struct {
	buf  []byte
	opts sfcsv.WriterOptions
}

func newEncoder(cfg *config) *encoder {
	return &encoder{opts: sfcsv.WriterOptions{Delimiter: cfg.ColumnDelimiter, LineEnding: cfg.LineEnding}}
}

// encode returns the encoded row (valid until the next call) and its size.
func (e *encoder) encode(vals []string) ([]byte, sfcsv.RowSize, error) {
	var size sfcsv.RowSize
	var err error
	e.buf, size, err = sfcsv.AppendRecord(e.buf[:0], vals, e.opts)
	return e.buf, size, err
}
