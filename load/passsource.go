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

	"github.com/sfbatch/sfbatch/sfcsv"
)

// prow is a row on its way into a pass.
type prow struct {
	num      int64
	batch    int
	attempts int       // times already sent
	lastErr  *RowError // the error of the last attempt (retry passes)
	vals     []string
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
	if err != nil {
		// Only io.EOF itself ends the input: an error that merely wraps it (a truncated
		// record) is an input error.
		if err == io.EOF {
			return prow{}, false, io.EOF
		}
		return prow{}, false, err
	}
	if cs, ok := s.src.(*csvSource); ok {
		s.name = cs.name
	}
	if row.Number <= s.last || row.Number > maxRowNumber {
		return prow{}, false, &InputError{File: s.name, Row: row.Number,
			Err: fmt.Errorf("row numbers must increase (previous %d) and stay under %d", s.last, int64(maxRowNumber))}
	}
	if len(row.Values) != len(s.r.header) {
		col := fmt.Sprint(len(row.Values))
		if len(row.Values) < len(s.r.header) {
			col = s.r.header[len(row.Values)]
		}
		return prow{}, false, &InputError{File: s.name, Row: row.Number, Column: col,
			Err: fmt.Errorf("row has %d values, header has %d", len(row.Values), len(s.r.header))}
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
	return prow{num: row.Number, vals: row.Values}, false, nil
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
