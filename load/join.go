package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/zeebo/xxh3"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// Result kinds of a Bulk API 2.0 ingest job: its three result files.
const (
	resultsSuccessful  = "successfulResults"
	resultsFailed      = "failedResults"
	resultsUnprocessed = "unprocessedrecords"
)

// resultJoiner joins the result files of one Bulk API 2.0 job to its chunk's rows by content:
// the files echo each row's values after the sf__ columns, in no particular order. Identical
// rows are matched to input rows in input order. Each matched row's result goes to
// run.resolve.
type resultJoiner struct {
	r         *run
	c         *chunk
	job       *salesforce.IngestJob
	idx       *join
	unmatched int // result rows that matched no input row

	// Values and results are carved from slabs of joinSlabRows rows, the rows' strings
	// from blocks of joinTextBlock bytes: one allocation for many rows rather than three
	// per row. A sink may keep them (Batches does); a row kept keeps its slabs and block.
	vals    []string
	results []RowResult
	text    []byte // the block the rows' strings are carved from (see str)

	buf   []byte  // scratch: a record's input values, then its id
	ends  []int32 // scratch: where each value ends in buf
	quote []bool  // scratch: the values that need quotes
	rec   []byte  // scratch: the values as a record with quotes, then the id
	spans []int32 // scratch: where each value's text is in rec, -1 for none
}

// joinSlabRows is how many rows' values and results one allocation of the join holds.
const joinSlabRows = 128

// joinTextBlock is the size of one block of bytes the join carves its rows' strings from.
const joinTextBlock = 64 << 10

// str returns a string holding b. It is carved from j.text, whose bytes are never written
// again once handed out: one allocation for many rows rather than one per row.
func (j *resultJoiner) str(b []byte) string {
	if len(b) == 0 || len(b) > joinTextBlock/16 {
		return string(b)
	}
	if cap(j.text)-len(j.text) < len(b) {
		j.text = make([]byte, 0, joinTextBlock)
	}
	n := len(j.text)
	j.text = append(j.text, b...)
	return unsafe.String(&j.text[n], len(b))
}

// newValues returns a slice of n values for one row.
func (j *resultJoiner) newValues(n int) []string {
	if len(j.vals) < n {
		j.vals = make([]string, n*joinSlabRows)
	}
	v := j.vals[:n:n]
	j.vals = j.vals[n:]
	return v
}

// newResult returns a zero RowResult for one row.
func (j *resultJoiner) newResult() *RowResult {
	if len(j.results) == 0 {
		j.results = make([]RowResult, joinSlabRows)
	}
	res := &j.results[0]
	j.results = j.results[1:]
	return res
}

func newResultJoiner(r *run, c *chunk, job *salesforce.IngestJob) *resultJoiner {
	return &resultJoiner{r: r, c: c, job: job, idx: newJoin(c)}
}

// joinFile reads one result file of kind resultsSuccessful, resultsFailed or
// resultsUnprocessed and resolves every row it matches.
//
// Each record is split in place (a quoted field without doubled quotes is a slice of the
// read buffer), hashed over its input values and matched: result files list rows in upload
// order in practice, so join.take first tries the row after the one matched last and only a
// row that does not verify there goes through the hash index. A matched row's input values
// become one string holding them as one CSV record, as the result files write them
// (RowResult.raw): the sink copies it rather than encoding the values again.
func (j *resultJoiner) joinFile(kind string, body io.Reader) error {
	r, id := j.r, j.job.ID
	sc := newResultScanner(body, r.cfg.ColumnDelimiter, id+"/"+kind)
	hdr, err := sc.header()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s of job %s: %w", kind, id, err)
	}
	cols := newResultColumns(r.header, hdr)
	for _, name := range cols.missing() {
		r.cfg.Logger.Warn("load: result file lacks an input column; its rows cannot be matched", "job", id, "file", kind, "column", name)
	}
	unmatched := 0
	for {
		rec, err := sc.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s of job %s: %w", kind, id, err)
		}
		i := j.idx.take(j.gather(cols, rec))
		if i < 0 {
			unmatched++
			continue
		}
		j.resolve(kind, i, cols, rec)
	}
	if unmatched > 0 {
		r.cfg.Logger.Warn("load: result rows that match no input row", "job", id, "file", kind, "rows", unmatched)
	}
	j.unmatched += unmatched
	return nil
}

// gather copies a result record's input values, in input column order and each followed by
// a zero byte, to j.buf and returns their hash: run.rowHash of the values, which hashes the
// same bytes.
func (j *resultJoiner) gather(cols *resultColumns, rec [][]byte) xxh3.Uint128 {
	b := j.buf[:0]
	ends := j.ends[:0]
	for _, p := range cols.pos {
		if p >= 0 && p < len(rec) {
			b = append(b, rec[p]...)
		}
		ends = append(ends, int32(len(b)))
		b = append(b, 0)
	}
	j.buf, j.ends = b, ends
	return xxh3.Hash128Seed(b, j.r.seed)
}

// values returns the input values gathered last, slices of one string carved by str (but
// for a value holding a quote), that string's first part: the values as one record the way sfcsv writes
// it (each value that holds the delimiter, a quote, CR or LF or starts with a byte order
// mark quoted, its quotes doubled), and the record's id, the string's last part.
func (j *resultJoiner) values(cols *resultColumns, rec [][]byte) (vals []string, raw, id string) {
	d := delimByte(j.r.cfg.ColumnDelimiter)
	b, ends := j.buf, j.ends
	n := 0
	if len(ends) > 0 {
		n = int(ends[len(ends)-1])
	}
	// Mark the values that need quotes: those holding a byte found by one scan per special
	// byte, and those starting with a byte order mark. Most records have none.
	quote := j.quote[:0]
	for range ends {
		quote = append(quote, false)
	}
	j.quote = quote
	special := false
	vb := b[:n]
	for _, c := range [...]byte{d, '"', '\n', '\r'} {
		for off := 0; off < n; {
			k := bytes.IndexByte(vb[off:], c)
			if k < 0 {
				break
			}
			i := 0
			for int(ends[i]) < off+k {
				i++
			}
			quote[i], special = true, true
			off = int(ends[i]) + 1
		}
	}
	start := 0
	for i, e := range ends {
		if int(e) > start && b[start] == bomLead {
			quote[i], special = true, true
		}
		start = int(e) + 1
	}
	vals = j.newValues(len(ends))
	if !special {
		// The values joined by the delimiter are the record: one copy serves both.
		for _, e := range ends[:max(len(ends)-1, 0)] {
			b[e] = d
		}
		b = append(b[:n], cols.get(rec, cols.id)...)
		s := j.str(b)
		j.buf = b
		start := 0
		for i, e := range ends {
			vals[i] = s[start:e]
			start = int(e) + 1
		}
		return vals, s[:n], s[n:]
	}
	// The record with quotes, then the id; a value is the text inside its quotes unless it
	// holds a quote (doubled in the record): that one is a string of its own.
	o := j.rec[:0]
	spans := j.spans[:0]
	start = 0
	for i, e := range ends {
		if i > 0 {
			o = append(o, d)
		}
		v := b[start:e]
		start = int(e) + 1
		if !quote[i] {
			spans = append(spans, int32(len(o)), int32(len(o)+len(v)))
			o = append(o, v...)
			continue
		}
		o = append(o, '"')
		if bytes.IndexByte(v, '"') < 0 {
			spans = append(spans, int32(len(o)), int32(len(o)+len(v)))
			o = append(o, v...)
		} else {
			vals[i] = string(v)
			spans = append(spans, -1, -1)
			for len(v) > 0 {
				k := bytes.IndexByte(v, '"')
				if k < 0 {
					o = append(o, v...)
					break
				}
				o = append(o, v[:k+1]...)
				o = append(o, '"')
				v = v[k+1:]
			}
		}
		o = append(o, '"')
	}
	m := len(o)
	o = append(o, cols.get(rec, cols.id)...)
	s := j.str(o)
	j.rec, j.spans = o, spans
	for i := range ends {
		if a := spans[2*i]; a >= 0 {
			vals[i] = s[a:spans[2*i+1]]
		}
	}
	return vals, s[:m], s[m:]
}

// bomLead is the first byte of a UTF-8 byte order mark: a value starting with one is quoted.
const bomLead = 0xEF

// resolve gives row i the result one record of a result file of kind says.
func (j *resultJoiner) resolve(kind string, i int, cols *resultColumns, rec [][]byte) {
	r, c, job := j.r, j.c, j.job
	vals, raw, id := j.values(cols, rec)
	switch kind {
	case resultsSuccessful, resultsFailed:
		res := j.newResult()
		*res = RowResult{Outcome: Succeeded, ID: id, Values: vals}
		if kind == resultsSuccessful {
			res.Created = bytes.EqualFold(cols.get(rec, cols.created), []byte("true"))
		} else {
			res.Outcome, res.Error = Failed, parseBulkError(string(cols.get(rec, cols.err)))
		}
		res.raw, res.rawDelim = raw, delimByte(r.cfg.ColumnDelimiter)
		r.resolve(c, i, res)
	default:
		if job.State == salesforce.JobStateFailed {
			r.resolveJobFailure(c, i, vals, jobError(job), Failed)
		} else {
			r.resolve(c, i, &RowResult{Outcome: NotProcessed, Values: vals,
				Error: &RowError{StatusCode: StatusNoResult, Message: "not processed: job " + job.ID + " ended " + job.State}})
		}
	}
}

// resultColumns maps a result file's header: where the sf__ columns are and where each input
// column is (-1 when absent).
type resultColumns struct {
	input            []string
	id, created, err int
	pos              []int // input column -> result column
}

func newResultColumns(input, hdr []string) *resultColumns {
	rc := &resultColumns{input: input, id: -1, created: -1, err: -1, pos: make([]int, len(input))}
	for i := range rc.pos {
		rc.pos[i] = -1
	}
	for j, h := range hdr {
		switch h {
		case "sf__Id":
			rc.id = j
			continue
		case "sf__Created":
			rc.created = j
			continue
		case "sf__Error":
			rc.err = j
			continue
		}
		for i, name := range input {
			if rc.pos[i] < 0 && strings.EqualFold(name, h) {
				rc.pos[i] = j
				break
			}
		}
	}
	return rc
}

// missing lists the input columns the result file lacks.
func (rc *resultColumns) missing() []string {
	var out []string
	for i, p := range rc.pos {
		if p < 0 {
			out = append(out, rc.input[i])
		}
	}
	return out
}

// get returns column col of rec, empty when absent.
func (rc *resultColumns) get(rec [][]byte, col int) []byte {
	if col >= 0 && col < len(rec) {
		return rec[col]
	}
	return nil
}

// join matches result rows to the chunk's rows by content hash, consumed as results arrive.
// Identical rows are matched in input order. Result files usually list rows in upload
// order, so a result is first tried against the row after the one matched last; only a
// result out of order needs the hash index, which is built the first time one comes.
type join struct {
	rows  []rowMeta
	taken []bool
	low   int // every row before low is taken
	last  int // the row taken last, -1 before the first

	head map[xxh3.Uint128]int32 // hash -> first row index + 1 that may be untaken (lazily skipped)
	next []int32                // row index -> next row index + 1 with the same hash
	dup  []bool                 // an earlier row has the same hash
}

func newJoin(c *chunk) *join {
	return &join{rows: c.rows, taken: make([]bool, len(c.rows)), last: -1}
}

// index builds the hash index over every row.
func (j *join) index() {
	n := len(j.rows)
	j.head, j.next, j.dup = make(map[xxh3.Uint128]int32, n), make([]int32, n), make([]bool, n)
	for i := n - 1; i >= 0; i-- {
		h := j.rows[i].hash
		if v := j.head[h]; v != 0 {
			j.dup[v-1] = true
			j.next[i] = v
		}
		j.head[h] = int32(i + 1)
	}
}

// take returns the first untaken row with hash h, or -1.
func (j *join) take(h xxh3.Uint128) int {
	// The next row in order, when no earlier untaken row can have the same content.
	if p := j.last + 1; p < len(j.rows) && !j.taken[p] && j.rows[p].hash == h && (p == j.low || (j.head != nil && !j.dup[p])) {
		return j.takeAt(p)
	}
	if j.head == nil {
		j.index()
	}
	v := j.head[h]
	for v != 0 && j.taken[v-1] {
		v = j.next[v-1]
	}
	if v == 0 {
		delete(j.head, h)
		return -1
	}
	i := int(v - 1)
	if n := j.next[i]; n == 0 {
		delete(j.head, h)
	} else {
		j.head[h] = n
	}
	return j.takeAt(i)
}

func (j *join) takeAt(i int) int {
	j.taken[i] = true
	j.last = i
	for j.low < len(j.rows) && j.taken[j.low] {
		j.low++
	}
	return i
}

// delimByte returns the byte of delimiter d (zero means comma).
func delimByte(d sfcsv.Delimiter) byte {
	if d == 0 {
		return ','
	}
	return byte(d)
}

// resultScanner splits a Bulk API 2.0 result file into records of fields, reading it as
// sfcsv.Reader does (Salesforce's dialect: a byte order mark skipped, LF or CRLF, quoted
// fields with doubled quotes that may span lines, blank lines skipped, strict quoting,
// UTF-8) but without copying: a field is a slice of the read buffer unless it holds a
// doubled quote. The fields are valid until the next call.
type resultScanner struct {
	br     *bufio.Reader
	delim  byte
	name   string
	row    int    // records read, the header included
	buf    []byte // a record longer than the read buffer, or spanning lines
	dec    []byte // fields with doubled quotes, unescaped
	fields [][]byte
	eof    bool
}

func newResultScanner(body io.Reader, d sfcsv.Delimiter, name string) *resultScanner {
	br := bufio.NewReaderSize(body, resultDownloadBuffer)
	if b, _ := br.Peek(len(sfcsv.BOM)); string(b) == sfcsv.BOM {
		br.Discard(len(sfcsv.BOM))
	}
	return &resultScanner{br: br, delim: delimByte(d), name: name}
}

// header returns the first record as strings; io.EOF for an empty file.
func (s *resultScanner) header() ([]string, error) {
	rec, err := s.next()
	if err != nil {
		return nil, err
	}
	hdr := make([]string, len(rec))
	for i, f := range rec {
		hdr[i] = string(f)
	}
	return hdr, nil
}

// next returns the next record's fields, io.EOF at the end.
func (s *resultScanner) next() ([][]byte, error) {
	for {
		line, err := s.record()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			continue // a blank line is not a record
		}
		s.row++
		if !utf8.Valid(line) {
			return nil, s.errorf("%w", sfcsv.ErrInvalidUTF8)
		}
		return s.split(line)
	}
}

func (s *resultScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: record %d: "+format, append([]any{s.name, s.row}, args...)...)
}

// record returns the next record's bytes without its line ending: physical lines are joined
// while a quoted field is open (an odd number of quotes so far).
func (s *resultScanner) record() ([]byte, error) {
	if s.eof {
		return nil, io.EOF
	}
	line, err := s.br.ReadSlice('\n')
	if err == nil && bytes.Count(line, []byte{'"'})%2 == 0 {
		return trimLineEnd(line), nil
	}
	if err != nil && err != bufio.ErrBufferFull {
		if err != io.EOF {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		s.eof = true
		if len(line) == 0 {
			return nil, io.EOF
		}
		if bytes.Count(line, []byte{'"'})%2 == 0 {
			return trimLineEnd(line), nil
		}
	}
	// Longer than the buffer, or a quoted field goes on: gather the record.
	s.buf = append(s.buf[:0], line...)
	quotes := bytes.Count(line, []byte{'"'})
	for !s.eof && (err == bufio.ErrBufferFull || quotes%2 != 0) {
		if len(s.buf) > sfcsv.DefaultMaxRecordBytes {
			return nil, s.errorf("%w", sfcsv.ErrRecordTooLarge)
		}
		line, err = s.br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			if err != io.EOF {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			s.eof = true
		}
		s.buf = append(s.buf, line...)
		quotes += bytes.Count(line, []byte{'"'})
	}
	if quotes%2 != 0 {
		s.row++
		return nil, s.errorf("%w: %w", sfcsv.ErrQuote, sfcsv.ErrUnclosedQuote)
	}
	return trimLineEnd(s.buf), nil
}

// trimLineEnd drops a final LF or CRLF.
func trimLineEnd(b []byte) []byte {
	n := len(b)
	if n > 0 && b[n-1] == '\n' {
		n--
		if n > 0 && b[n-1] == '\r' {
			n--
		}
	}
	return b[:n]
}

// split splits one record (its quotes balanced) into fields.
func (s *resultScanner) split(line []byte) ([][]byte, error) {
	d := s.delim
	s.fields, s.dec = s.fields[:0], s.dec[:0]
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, d)
			f := line
			if i >= 0 {
				f = line[:i]
			}
			if bytes.IndexByte(f, '"') >= 0 {
				return nil, s.errorf("field %d: %w", len(s.fields)+1, sfcsv.ErrBareQuote)
			}
			s.fields = append(s.fields, f)
			if i < 0 {
				return s.fields, nil
			}
			line = line[i+1:]
			continue
		}
		// A quoted field: up to a quote not followed by another.
		line = line[1:]
		i := quoteIndex(line)
		var f []byte
		if i+1 < len(line) && line[i+1] == '"' {
			start := len(s.dec)
			for {
				s.dec = append(s.dec, line[:i+1]...) // the text and one quote
				line = line[i+2:]
				i = bytes.IndexByte(line, '"')
				if i < 0 || i+1 >= len(line) || line[i+1] != '"' {
					break
				}
			}
			if i >= 0 {
				s.dec = append(s.dec, line[:i]...)
			}
			f = s.dec[start:len(s.dec):len(s.dec)]
		} else if i >= 0 {
			f = line[:i]
		}
		if i < 0 {
			return nil, s.errorf("field %d: %w", len(s.fields)+1, sfcsv.ErrQuote)
		}
		s.fields = append(s.fields, f)
		line = line[i+1:]
		switch {
		case len(line) == 0:
			return s.fields, nil
		case line[0] == d:
			line = line[1:]
		default:
			return nil, s.errorf("field %d: %w", len(s.fields), sfcsv.ErrQuote)
		}
	}
}

// quoteIndex returns the index of the first double quote in b, or -1: bytes.IndexByte for
// the short fields of a result record, where a plain loop beats its setup, then for the rest.
func quoteIndex(b []byte) int {
	n := min(len(b), 32)
	for i, c := range b[:n] {
		if c == '"' {
			return i
		}
	}
	if i := bytes.IndexByte(b[n:], '"'); i >= 0 {
		return n + i
	}
	return -1
}
