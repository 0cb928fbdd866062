package load

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// Names of the files CSVFiles writes.
const (
	SuccessFile     = "success.csv"     // sf__Row, sf__Id, sf__Created, then the input columns
	FailureFile     = "failure.csv"     // sf__Row, sf__Id, sf__Error, then the input columns
	UnprocessedFile = "unprocessed.csv" // the input columns only, ready to load again
	ResultsFile     = "results.csv"     // every row: sf__Row, sf__Outcome, sf__Id, sf__Created, sf__Error, then the input columns
)

// sinkRunRows is how many results CSVFiles sorts in memory before spilling a sorted run.
const sinkRunRows = 20_000

// CSVFiles is a Sink that writes the outcome of every row to CSV files in a directory: one
// file per outcome and one merged file, all ordered by input row number. Results are spilled
// to sorted temporary runs as they arrive and merged by Close, so memory stays bounded. Error
// text in sf__Error has Salesforce's "CODE:message:fields --" form.
// Safe for concurrent use; call Close once after the load.
type CSVFiles struct {
	dir string
	// Delimiter of the output files. Zero means comma.
	Delimiter sfcsv.Delimiter

	mu     sync.Mutex
	header []string
	tmp    string
	buf    []sinkRec
	runs   []string
	runMax int
	closed bool
}

type sinkRec struct {
	row int64
	rec []string // outcome, id, created, error, values...
}

// CSVSinks returns a CSVFiles sink writing into dir (created if needed).
func CSVSinks(dir string) (*CSVFiles, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("load: results dir: %w", err)
	}
	tmp, err := os.MkdirTemp("", "sfbatch-results-")
	if err != nil {
		return nil, fmt.Errorf("load: results temp dir: %w", err)
	}
	return &CSVFiles{dir: dir, tmp: tmp, runMax: sinkRunRows}, nil
}

// Start records the input header.
func (s *CSVFiles) Start(header []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = slices.Clone(header)
	return nil
}

// Write records one result.
func (s *CSVFiles) Write(r *RowResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := make([]string, 0, 4+len(s.header))
	errText := ""
	if r.Error != nil {
		errText = r.Error.Error()
	}
	rec = append(rec, strconv.Itoa(int(r.Outcome)), r.ID, strconv.FormatBool(r.Created), errText)
	vals := r.Values
	for i := range s.header {
		v := ""
		if i < len(vals) {
			v = vals[i]
		}
		rec = append(rec, v)
	}
	if s.closed {
		return errors.New("load: CSVFiles: write after Close")
	}
	s.buf = append(s.buf, sinkRec{row: r.Row, rec: rec})
	if len(s.buf) >= s.runMax {
		return s.spill()
	}
	return nil
}

func (s *CSVFiles) spill() error {
	slices.SortFunc(s.buf, func(a, b sinkRec) int { return cmp.Compare(a.row, b.row) })
	path := filepath.Join(s.tmp, fmt.Sprintf("run-%05d.csv", len(s.runs)))
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("load: CSVFiles: %w", err)
	}
	w := sfcsv.NewWriter(f, sfcsv.WriterOptions{})
	for _, r := range s.buf {
		if _, err := w.Write(append([]string{strconv.FormatInt(r.row, 10)}, r.rec...)); err != nil {
			f.Close()
			return fmt.Errorf("load: CSVFiles: %w", err)
		}
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("load: CSVFiles: %w", err)
	}
	s.runs = append(s.runs, path)
	s.buf = s.buf[:0]
	return nil
}

// Close merges everything received into the four files and removes temporary files.
func (s *CSVFiles) Close() (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	defer os.RemoveAll(s.tmp)
	if len(s.buf) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	d := s.Delimiter
	if d == 0 {
		d = sfcsv.Comma
	}
	type out struct {
		f *os.File
		w *sfcsv.Writer
	}
	files := map[string]*out{}
	for name, hdr := range map[string][]string{
		SuccessFile:     append([]string{"sf__Row", "sf__Id", "sf__Created"}, s.header...),
		FailureFile:     append([]string{"sf__Row", "sf__Id", "sf__Error"}, s.header...),
		UnprocessedFile: s.header,
		ResultsFile:     append([]string{"sf__Row", "sf__Outcome", "sf__Id", "sf__Created", "sf__Error"}, s.header...),
	} {
		f, err := os.Create(filepath.Join(s.dir, name))
		if err != nil {
			return fmt.Errorf("load: CSVFiles: %w", err)
		}
		o := &out{f: f, w: sfcsv.NewWriter(f, sfcsv.WriterOptions{Delimiter: d})}
		files[name] = o
		defer func() {
			ferr := o.w.Flush()
			if cerr := f.Close(); ferr == nil {
				ferr = cerr
			}
			if err == nil && ferr != nil {
				err = fmt.Errorf("load: CSVFiles: %w", ferr)
			}
		}()
		if len(hdr) > 0 {
			if _, err := o.w.Write(hdr); err != nil {
				return fmt.Errorf("load: CSVFiles: %w", err)
			}
		}
	}
	m := &sinkMerge{}
	for _, path := range s.runs {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("load: CSVFiles: %w", err)
		}
		defer f.Close()
		rd := sfcsv.NewReader(f, sfcsv.ReaderOptions{})
		if it, ok, err := readSinkRec(rd); err != nil {
			return err
		} else if ok {
			it.rd = rd
			m.h = append(m.h, it)
		}
	}
	heap.Init(m)
	for m.Len() > 0 {
		top := m.h[0]
		row, rec := top.row, top.rec
		next, ok, err := readSinkRec(top.rd)
		if err != nil {
			return err
		}
		if ok {
			next.rd = top.rd
			m.h[0] = next
			heap.Fix(m, 0)
		} else {
			heap.Pop(m)
		}
		oc, _ := strconv.Atoi(rec[0])
		num := strconv.FormatInt(row, 10)
		vals := rec[4:]
		var werr error
		switch Outcome(oc) {
		case Succeeded:
			_, werr = files[SuccessFile].w.Write(append([]string{num, rec[1], rec[2]}, vals...))
		case Failed:
			_, werr = files[FailureFile].w.Write(append([]string{num, rec[1], rec[3]}, vals...))
		default:
			if len(vals) > 0 {
				_, werr = files[UnprocessedFile].w.Write(vals)
			}
		}
		if werr == nil {
			_, werr = files[ResultsFile].w.Write(append([]string{num, strings.ReplaceAll(Outcome(oc).String(), " ", "_"), rec[1], rec[2], rec[3]}, vals...))
		}
		if werr != nil {
			return fmt.Errorf("load: CSVFiles: %w", werr)
		}
	}
	return nil
}

type sinkItem struct {
	row int64
	rec []string
	rd  *sfcsv.Reader
}

func readSinkRec(rd *sfcsv.Reader) (sinkItem, bool, error) {
	rec, err := rd.Read()
	if errors.Is(err, io.EOF) {
		return sinkItem{}, false, nil
	}
	if err != nil {
		return sinkItem{}, false, fmt.Errorf("load: CSVFiles: %w", err)
	}
	row, err := strconv.ParseInt(rec[0], 10, 64)
	if err != nil {
		return sinkItem{}, false, fmt.Errorf("load: CSVFiles: bad run record: %w", err)
	}
	return sinkItem{row: row, rec: slices.Clone(rec[1:])}, true, nil
}

type sinkMerge struct{ h []sinkItem }

func (m *sinkMerge) Len() int           { return len(m.h) }
func (m *sinkMerge) Less(i, j int) bool { return m.h[i].row < m.h[j].row }
func (m *sinkMerge) Swap(i, j int)      { m.h[i], m.h[j] = m.h[j], m.h[i] }
func (m *sinkMerge) Push(x any)         { m.h = append(m.h, x.(sinkItem)) }
func (m *sinkMerge) Pop() any {
	x := m.h[len(m.h)-1]
	m.h = m.h[:len(m.h)-1]
	return x
}

// MultiSink delivers every result to each sink in order; the first error stops it.
func MultiSink(sinks ...Sink) Sink { return multiSink(sinks) }

type multiSink []Sink

func (m multiSink) Start(h []string) error {
	for _, s := range m {
		if err := s.Start(h); err != nil {
			return err
		}
	}
	return nil
}

func (m multiSink) Write(r *RowResult) error {
	for _, s := range m {
		if err := s.Write(r); err != nil {
			return err
		}
	}
	return nil
}
