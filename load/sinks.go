package load

import (
	"bufio"
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
	UnknownFile     = "unknown.csv"     // sf__Row, sf__Job, sf__Batch, sf__Error, then the input columns: rows that may have been saved
	ResultsFile     = "results.csv"     // every row: ResultColumns, then the input columns
)

// ResultColumns are the columns results.csv starts with, in order, before the input columns:
// the 1-based data row, the outcome (succeeded, failed, not_processed, unknown), the record
// id, whether it was created, the error code, message and fields, and the job and batch that
// carried the row's last attempt.
var ResultColumns = []string{"sf__Row", "sf__Outcome", "sf__Id", "sf__Created", "sf__ErrorCode", "sf__Error", "sf__Fields", "sf__Job", "sf__Batch"}

// sinkFixed is the number of fields of a part file record before the input values: outcome,
// id, created, error text, code, message, fields, job, batch.
const sinkFixed = 9

// sinkRunRows is how many results CSVFiles sorts in memory before spilling a sorted run.
const sinkRunRows = 20_000

// PartsDir is the directory, inside the results directory, where CSVFiles keeps what makes
// an unfinished load resumable: the marker of how much of results.csv is durable and the
// sorted runs of rows waiting for earlier ones (a fresh load), or the sorted part files that
// Close merges (a resumed one). Everything in it is written durably (fsync), so results
// delivered before a crash survive it; see ResumeCSVSinks. Close removes it unless Keep.
const PartsDir = ".sfbatch-parts"

// maxMergeParts is how many part files one merge reads at once; more are first compacted in
// groups, so the number of open files stays bounded.
const maxMergeParts = 128

// mergeReadBuffer is the read buffer of each part file during a merge: with
// maxMergeParts parts open at once, the merge holds at most 2 MiB of buffers,
// so memory does not grow with the number of rows.
const mergeReadBuffer = 16 << 10

// Syncer is implemented by sinks that can make the results they received durable. When
// Options.Journal is set, the engine calls Sync before it records rows as done, so that a
// resumed load never skips a row whose outcome was lost.
type Syncer interface {
	Sync() error
}

// CSVFiles is a Sink that writes the outcome of every row to CSV files in a directory: one
// file per outcome and one merged file, all ordered by input row number.
//
// A fresh load (CSVSinks) writes the files once, in row order, as results arrive: a result
// for the next row goes straight to the files; one for a later row waits (in memory up to a
// bound, then in sorted run files in PartsDir) until the rows before it have arrived, so
// that Close has nothing left to merge but rows that came out of order. Sync makes
// results.csv durable up to the results received (fsync) and records how far in PartsDir.
//
// A resumed load (ResumeCSVSinks) starts from what the interrupted one left: results.csv up
// to its durable length and its run files, or the part files of an earlier resumed load.
// It spills results to sorted part files (fsync'd) as they arrive and Close merges them.
// When a row has several outcomes across an interrupted load and its resumption, the latest
// one wins, so the files hold each row exactly once. Error text in sf__Error has
// Salesforce's "CODE:message:fields --" form.
// Safe for concurrent use; call Close once after the load.
type CSVFiles struct {
	dir   string
	parts string
	// Delimiter of the output files. Zero means comma.
	Delimiter sfcsv.Delimiter
	// Keep leaves the part files in place after Close, so that a resumed load (see
	// ResumeCSVSinks) adds to them and its Close writes files covering both. Set it when the
	// load stopped before every row had its final outcome and may be resumed.
	Keep bool
	// Spill makes a fresh load keep its results in sorted part files in PartsDir, merged by
	// Close, instead of writing the result files in row order as they arrive. Set it before
	// the load for a run that ends before its results exist (Options.Submit, --async): such a
	// run leaves no result files, only the part files a later resume or settle merges.
	Spill bool

	mu      sync.Mutex
	header  []string
	started bool
	merge   bool          // a resumed load: part files merged by Close
	ord     *orderedFiles // a fresh load: files written in row order
	buf     []sinkRec
	runs    []string
	next    int // index of the next part file
	runMax  int
	closed  bool
}

type sinkRec struct {
	row int64
	rec []string // outcome, id, created, error text, code, message, fields, job, batch, values...
}

// CSVSinks returns a CSVFiles sink writing into dir (created if needed). Part files left in
// dir by an earlier, interrupted load are removed: the load starts afresh.
func CSVSinks(dir string) (*CSVFiles, error) {
	return openCSVSinks(dir, false)
}

// ResumeCSVSinks returns a CSVFiles sink writing into dir that keeps the part files an
// interrupted load left there (Keep, or a crash), so that Close writes files covering the
// rows delivered before the interruption and after it. Use it with Options.Resume.
func ResumeCSVSinks(dir string) (*CSVFiles, error) {
	return openCSVSinks(dir, true)
}

func openCSVSinks(dir string, resume bool) (*CSVFiles, error) {
	parts := filepath.Join(dir, PartsDir)
	if !resume {
		if err := os.RemoveAll(parts); err != nil {
			return nil, fmt.Errorf("load: results dir: %w", err)
		}
	}
	if err := os.MkdirAll(parts, 0o755); err != nil {
		return nil, fmt.Errorf("load: results dir: %w", err)
	}
	s := &CSVFiles{dir: dir, parts: parts, runMax: sinkRunRows}
	if resume {
		if _, err := convertOrdered(dir, parts); err != nil {
			return nil, fmt.Errorf("load: results dir: %w", err)
		}
	}
	ents, err := os.ReadDir(parts)
	if err != nil {
		return nil, fmt.Errorf("load: results dir: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".csv") { // a part or merge interrupted while being written
			os.Remove(filepath.Join(parts, name))
			continue
		}
		var n int
		if _, err := fmt.Sscanf(name, "part-%d.csv", &n); err != nil {
			continue
		}
		s.runs = append(s.runs, filepath.Join(parts, name))
		s.next = max(s.next, n+1)
	}
	slices.Sort(s.runs) // names are zero-padded: lexical order is part order
	s.merge = len(s.runs) > 0
	return s, nil
}

// Start records the input header.
func (s *CSVFiles) Start(header []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.header = slices.Clone(header)
	return s.start()
}

// start opens the files of a fresh load, once.
func (s *CSVFiles) start() error {
	if s.Spill {
		s.merge = true
	}
	if s.started || s.merge {
		return nil
	}
	s.started = true
	o, err := newOrderedFiles(s.dir, s.parts, s.Delimiter, s.header)
	if err != nil {
		return fmt.Errorf("load: CSVFiles: %w", err)
	}
	s.ord = o
	return nil
}

// Write records one result.
func (s *CSVFiles) Write(r *RowResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("load: CSVFiles: write after Close")
	}
	if s.Spill {
		s.merge = true
	}
	if !s.merge {
		if err := s.start(); err != nil {
			return err
		}
		if err := s.ord.add(r); err != nil {
			return fmt.Errorf("load: CSVFiles: %w", err)
		}
		return nil
	}
	rec := make([]string, 0, sinkFixed+len(s.header))
	errText, code, msg, fields := "", "", "", ""
	if r.Error != nil {
		errText, code, msg, fields = r.Error.Error(), r.Error.StatusCode, r.Error.Message, strings.Join(r.Error.Fields, ",")
	}
	rec = append(rec, strconv.Itoa(int(r.Outcome)), r.ID, strconv.FormatBool(r.Created), errText, code, msg, fields, r.JobID, r.BatchID)
	vals := r.Values
	for i := range s.header {
		v := ""
		if i < len(vals) {
			v = vals[i]
		}
		rec = append(rec, v)
	}
	s.buf = append(s.buf, sinkRec{row: r.Row, rec: rec})
	if len(s.buf) >= s.runMax {
		return s.spill()
	}
	return nil
}

// Sync writes the results received so far to a part file and flushes it to stable storage.
func (s *CSVFiles) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("load: CSVFiles: sync after Close")
	}
	if !s.merge {
		if s.ord == nil {
			return nil
		}
		if err := s.ord.sync(); err != nil {
			return fmt.Errorf("load: CSVFiles: %w", err)
		}
		return nil
	}
	if len(s.buf) == 0 {
		return nil
	}
	return s.spill()
}

func (s *CSVFiles) partPath(n int) string {
	return filepath.Join(s.parts, fmt.Sprintf("part-%08d.csv", n))
}

func (s *CSVFiles) spill() error {
	slices.SortFunc(s.buf, func(a, b sinkRec) int { return cmp.Compare(a.row, b.row) })
	path := s.partPath(s.next)
	err := writeDurably(path, func(w *sfcsv.Writer) error {
		for _, r := range s.buf {
			if _, err := w.Write(append([]string{strconv.FormatInt(r.row, 10)}, r.rec...)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load: CSVFiles: %w", err)
	}
	s.next++
	s.runs = append(s.runs, path)
	s.buf = s.buf[:0]
	return nil
}

// writeDurably writes a part file under a temporary name, syncs it, renames it into place and
// syncs the directory, so that after a crash the part is either whole or absent.
func writeDurably(path string, fill func(*sfcsv.Writer) error) error {
	return writeFileDurably(path, func(bw *bufio.Writer) error {
		w := sfcsv.NewWriter(bw, sfcsv.WriterOptions{})
		if err := fill(w); err != nil {
			return err
		}
		return w.Flush()
	})
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// compact merges groups of part files until at most maxMergeParts remain. A group's merge
// replaces its newest part, so later parts still win over it.
func (s *CSVFiles) compact() error {
	for len(s.runs) > maxMergeParts {
		group := s.runs[:maxMergeParts]
		last := group[len(group)-1]
		tmp := last + ".merge"
		err := writeDurably(tmp, func(w *sfcsv.Writer) error {
			return mergeParts(group, func(row int64, rec []string) error {
				_, err := w.Write(append([]string{strconv.FormatInt(row, 10)}, rec...))
				return err
			})
		})
		if err == nil {
			err = os.Rename(tmp, last)
		}
		if err != nil {
			return fmt.Errorf("load: CSVFiles: compact parts: %w", err)
		}
		for _, p := range group[:len(group)-1] {
			os.Remove(p)
		}
		s.runs = append([]string{last}, s.runs[maxMergeParts:]...)
	}
	return nil
}

// Close merges everything received (and, after ResumeCSVSinks, every part an interrupted load
// left) into the five files and removes the part files unless Keep is set.
func (s *CSVFiles) Close() (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if !s.merge {
		if err := s.start(); err != nil {
			return err
		}
		if err := s.ord.close(s.Keep); err != nil {
			return fmt.Errorf("load: CSVFiles: %w", err)
		}
		if !s.Keep {
			os.RemoveAll(s.parts)
		}
		return nil
	}
	if len(s.buf) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	if err := s.compact(); err != nil {
		return err
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
		UnknownFile:     append([]string{"sf__Row", "sf__Job", "sf__Batch", "sf__Error"}, s.header...),
		ResultsFile:     append(slices.Clone(ResultColumns), s.header...),
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
	err = mergeParts(s.runs, func(row int64, rec []string) error {
		oc, _ := strconv.Atoi(rec[0])
		num := strconv.FormatInt(row, 10)
		if len(rec) < sinkFixed {
			return fmt.Errorf("part record of row %d has %d fields", row, len(rec))
		}
		vals := rec[sinkFixed:]
		var werr error
		switch Outcome(oc) {
		case Succeeded:
			_, werr = files[SuccessFile].w.Write(append([]string{num, rec[1], rec[2]}, vals...))
		case Failed:
			_, werr = files[FailureFile].w.Write(append([]string{num, rec[1], rec[3]}, vals...))
		case Unknown:
			_, werr = files[UnknownFile].w.Write(append([]string{num, rec[7], rec[8], rec[3]}, vals...))
		default:
			if len(vals) > 0 {
				_, werr = files[UnprocessedFile].w.Write(vals)
			}
		}
		if werr == nil {
			created := rec[2]
			if Outcome(oc) != Succeeded {
				created = ""
			}
			_, werr = files[ResultsFile].w.Write(append([]string{num, Outcome(oc).String(), rec[1], created, rec[4], rec[5], rec[6], rec[7], rec[8]}, vals...))
		}
		return werr
	})
	if err != nil {
		return fmt.Errorf("load: CSVFiles: %w", err)
	}
	if !s.Keep {
		defer os.RemoveAll(s.parts)
	}
	return nil
}

// mergeParts merges sorted part files in row order. When a row appears in several parts, only
// its record from the latest part (the last in paths) is passed to emit.
func mergeParts(paths []string, emit func(row int64, rec []string) error) error {
	m := &sinkMerge{}
	for i, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rd := sfcsv.NewReader(f, sfcsv.ReaderOptions{BufferSize: mergeReadBuffer})
		if it, ok, err := readSinkRec(rd); err != nil {
			return err
		} else if ok {
			it.rd, it.part = rd, i
			m.h = append(m.h, it)
		}
	}
	heap.Init(m)
	last := int64(-1)
	for m.Len() > 0 {
		top := m.h[0]
		row, rec := top.row, top.rec
		next, ok, err := readSinkRec(top.rd)
		if err != nil {
			return err
		}
		if ok {
			next.rd, next.part = top.rd, top.part
			m.h[0] = next
			heap.Fix(m, 0)
		} else {
			heap.Pop(m)
		}
		if row == last {
			continue // an older outcome of a row already written
		}
		last = row
		if err := emit(row, rec); err != nil {
			return err
		}
	}
	return nil
}

type sinkItem struct {
	row  int64
	rec  []string
	rd   *sfcsv.Reader
	part int
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

func (m *sinkMerge) Len() int { return len(m.h) }
func (m *sinkMerge) Less(i, j int) bool {
	if m.h[i].row != m.h[j].row {
		return m.h[i].row < m.h[j].row
	}
	return m.h[i].part > m.h[j].part // the latest part first
}
func (m *sinkMerge) Swap(i, j int) { m.h[i], m.h[j] = m.h[j], m.h[i] }
func (m *sinkMerge) Push(x any)    { m.h = append(m.h, x.(sinkItem)) }
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

// Sync syncs every sink that is a Syncer.
func (m multiSink) Sync() error {
	for _, s := range m {
		if sy, ok := s.(Syncer); ok {
			if err := sy.Sync(); err != nil {
				return err
			}
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
