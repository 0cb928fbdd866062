package load

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// prow is a row on its way into a pass.
type prow struct {
	num      int64
	batch    int
	attempts int       // times already sent
	lastErr  *RowError // the error of the last attempt (retry passes)
	vals     []string
	text     recordText // the input record, sent as is while vals are intact
}

// passSource yields the rows of one pass; io.EOF at the end.
type passSource interface {
	next() (prow, error)
}

// inputSource adapts the caller's Source: it checks every row and records it as read.
type inputSource struct {
	src  Source
	r    *run
	last int64
	name string
}

// maxRowNumber bounds row numbers so the engine's per-row bookkeeping stays small.
const maxRowNumber = 1 << 36

func (s *inputSource) next() (prow, error) {
	for {
		p, again, err := s.read()
		if !again {
			return p, err
		}
	}
}

// read reads one row; again reports a row taken by Options.Resume (done before, or part of a
// job in flight), which the pass does not see.
func (s *inputSource) read() (p prow, again bool, err error) {
	row, err := s.src.Next()
	if s.name == "" {
		s.name = sourceName(s.src)
	}
	if err != nil {
		// Only io.EOF itself ends the input: an error that merely wraps it (a truncated
		// record) is an input error.
		if err == io.EOF {
			return prow{}, false, io.EOF
		}
		var ie *InputError
		if !errors.As(err, &ie) || ie.Row <= 0 {
			return prow{}, false, err
		}
		// The reader delimited the row but rejected it: it fails alone, unsent. A structural
		// error fails its row too (it was read) and then ends the input.
		if ierr := s.invalid(ie); ierr != nil {
			return prow{}, false, ierr
		}
		if ie.Structural {
			return prow{}, false, err
		}
		return prow{}, true, nil
	}
	if row.Number <= s.last || row.Number > maxRowNumber {
		return prow{}, false, &InputError{File: s.name, Row: row.Number, Structural: true,
			Err: fmt.Errorf("row numbers must increase (previous %d) and stay under %d", s.last, int64(maxRowNumber))}
	}
	if ie := s.check(row); ie != nil {
		if ierr := s.invalid(ie); ierr != nil {
			return prow{}, false, ierr
		}
		return prow{}, true, nil
	}
	s.last = row.Number
	var kept bool
	if rs := s.r.resume; rs != nil {
		var skip bool
		if skip, kept = rs.capture(s.r, row.Number, row.Values); skip {
			return prow{}, true, nil
		}
	}
	s.r.mu.Lock()
	s.r.read.set(row.Number)
	s.r.sum.Rows++
	n := s.r.sum.Rows
	s.r.mu.Unlock()
	if n%1000 == 0 {
		s.r.progress(Event{Kind: RowsRead, Rows: 1000, Total: n})
	}
	if kept {
		return prow{}, true, nil
	}
	return prow{num: row.Number, vals: row.Values, text: row.text}, false, nil
}

// check applies the input rule every source shares to a row its reader accepted: as many
// cells as the header, valid UTF-8, no NUL byte. It returns the row's error, or nil.
func (s *inputSource) check(row Row) *InputError {
	if len(row.Values) != len(s.r.header) {
		col := fmt.Sprint(len(row.Values))
		if len(row.Values) < len(s.r.header) {
			col = s.r.header[len(row.Values)]
		}
		return &InputError{File: s.name, Row: row.Number, Line: row.Line, Column: col, Values: row.Values,
			Err: fmt.Errorf("row has %d values, header has %d", len(row.Values), len(s.r.header))}
	}
	if row.text.intact(row.Values) {
		return nil // the CSV reader checked the text: valid UTF-8, without a NUL byte
	}
	for i, v := range row.Values {
		var cause error
		switch {
		case strings.IndexByte(v, 0) >= 0:
			cause = errNUL
		case !utf8.ValidString(v):
			cause = sfcsv.ErrInvalidUTF8
		default:
			continue
		}
		return &InputError{File: s.name, Row: row.Number, Line: row.Line, Column: s.r.header[i], Values: row.Values, Err: cause}
	}
	return nil
}

// errNUL is the cause of a row holding a NUL byte, which no Salesforce text field accepts
// (it usually means a UTF-16 or binary file).
var errNUL = errors.New("NUL byte in value (is the file UTF-16 or binary?)")

// invalid gives a row the reader rejected its outcome: Failed with StatusInvalidRow, the
// position in the message, and its cells fitted to the header (invalid UTF-8 replaced by
// U+FFFD, so that result files stay UTF-8). It returns an error only when
// the row number cannot be trusted (the source broke its numbering).
func (s *inputSource) invalid(ie *InputError) error {
	if ie.File == "" {
		ie.File = s.name
	}
	if ie.Row <= s.last || ie.Row > maxRowNumber {
		return &InputError{File: s.name, Row: ie.Row, Structural: true,
			Err: fmt.Errorf("row numbers must increase (previous %d) and stay under %d", s.last, int64(maxRowNumber))}
	}
	s.last = ie.Row
	vals := make([]string, len(s.r.header))
	for i, v := range ie.Values[:min(len(ie.Values), len(vals))] {
		// Result files are UTF-8: bytes that are not are written as U+FFFD.
		vals[i] = strings.ToValidUTF8(v, "\uFFFD")
	}
	s.r.mu.Lock()
	s.r.read.set(ie.Row)
	s.r.sum.Rows++
	n := s.r.sum.Rows
	s.r.mu.Unlock()
	if n%1000 == 0 {
		s.r.progress(Event{Kind: RowsRead, Rows: 1000, Total: n})
	}
	s.r.emit(&RowResult{Row: ie.Row, Outcome: Failed, Values: vals, Batch: -1,
		Error: &RowError{StatusCode: StatusInvalidRow, Message: ie.Position(), Fields: fieldsOf(ie)}})
	return nil
}

func fieldsOf(ie *InputError) []string {
	if ie.Column == "" {
		return nil
	}
	return []string{ie.Column}
}

// sliceSource yields buffered rows, then an error or the rest of another source.
type sliceSource struct {
	rows []prow
	err  error
	rest passSource
}

func (s *sliceSource) next() (prow, error) {
	if len(s.rows) > 0 {
		p := s.rows[0]
		s.rows[0] = prow{}
		s.rows = s.rows[1:]
		return p, nil
	}
	if s.err != nil {
		return prow{}, s.err
	}
	if s.rest != nil {
		return s.rest.next()
	}
	return prow{}, io.EOF
}

// spool is a temp file of rows: the retry queue between passes, and the runs of a sort.
// Each record is: row, batch, attempts, error code, message, fields, then the row's values.
type spool struct {
	path  string
	f     *os.File
	w     *sfcsv.Writer
	width int
	n     int64
	rec   []string
	codes map[string]int64 // rows by the error code that sent them here
}

func newSpool(path string, width int) (*spool, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("load: spool: %w", err)
	}
	return &spool{path: path, f: f, width: width, w: sfcsv.NewWriter(f, sfcsv.WriterOptions{})}, nil
}

func (s *spool) add(res *RowResult) error {
	return s.addRow(prow{num: res.Row, batch: res.Batch, attempts: res.Attempts, lastErr: res.Error, vals: res.Values})
}

func (s *spool) addRow(p prow) error {
	s.rec = s.rec[:0]
	code, msg, fields := "", "", ""
	if p.lastErr != nil {
		code, msg, fields = p.lastErr.StatusCode, p.lastErr.Message, strings.Join(p.lastErr.Fields, ",")
	}
	if code != "" {
		if s.codes == nil {
			s.codes = map[string]int64{}
		}
		s.codes[code]++
	}
	s.rec = append(s.rec, strconv.FormatInt(p.num, 10), strconv.Itoa(p.batch), strconv.Itoa(p.attempts), code, msg, fields)
	s.rec = append(s.rec, p.vals...)
	for len(s.rec) < 6+s.width {
		s.rec = append(s.rec, "")
	}
	if _, err := s.w.Write(s.rec); err != nil {
		return fmt.Errorf("load: spool: %w", err)
	}
	s.n++
	return nil
}

func (s *spool) finish() error {
	if s.f == nil {
		return nil
	}
	err := flushClose(s.w, s.f)
	s.f = nil
	if err != nil {
		return fmt.Errorf("load: spool: %w", err)
	}
	return nil
}

// source reads the spool back; the file is removed at the end.
func (s *spool) source() (*spoolSource, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("load: spool: %w", err)
	}
	return &spoolSource{f: f, rd: sfcsv.NewReader(f, sfcsv.ReaderOptions{}), path: s.path}, nil
}

type spoolSource struct {
	f    *os.File
	rd   *sfcsv.Reader
	path string
	hdr  bool
}

func (s *spoolSource) next() (prow, error) {
	if s.f == nil {
		return prow{}, io.EOF
	}
	// The spool has no header: sfcsv's first record is read as the header and returned by Read.
	rec, err := s.rd.Read()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			err = fmt.Errorf("load: spool: %w", err)
		}
		s.f.Close()
		os.Remove(s.path)
		s.f = nil
		return prow{}, err
	}
	if len(rec) < 6 {
		return prow{}, fmt.Errorf("load: spool: short record")
	}
	num, _ := strconv.ParseInt(rec[0], 10, 64)
	batch, _ := strconv.Atoi(rec[1])
	att, _ := strconv.Atoi(rec[2])
	p := prow{num: num, batch: batch, attempts: att, vals: slices.Clone(rec[6:])}
	if rec[3] != "" {
		p.lastErr = &RowError{StatusCode: rec[3], Message: rec[4]}
		if rec[5] != "" {
			p.lastErr.Fields = strings.Split(rec[5], ",")
		}
	}
	return p, nil
}

func slicesSortJobs(jobs []OpenJob) {
	slices.SortFunc(jobs, func(a, b OpenJob) int { return cmp.Compare(a.ID, b.ID) })
}
