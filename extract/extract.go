package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
	"github.com/sfbatch/sfbatch/soql"
)

// Summary describes a finished extraction.
type Summary struct {
	// API is the API that was used (never APIAuto).
	API API
	// Query is the SOQL that was run (before any id-range rewriting).
	Query string
	// JobIDs are the Bulk query jobs that were run, in order.
	JobIDs []string
	// Columns are the result columns, as in the CSV header.
	Columns []string
	// Rows is the number of rows written; Pages the number of result pages
	// or files read.
	Rows  int64
	Pages int
}

// Row is one result row: Values[i] is the value of Columns[i] as
// Salesforce's Bulk CSV text ("" for null: Salesforce stores no empty
// strings). Columns is shared by all rows; Values is valid only until the
// iteration continues (copy it to keep it).
type Row struct {
	Columns []string
	Values  []string
}

// Get returns the value of the named column (case-insensitive).
func (r Row) Get(column string) (string, bool) {
	for i, c := range r.Columns {
		if strings.EqualFold(c, column) {
			return r.Values[i], true
		}
	}
	return "", false
}

// JobError is a Bulk query job or batch that Salesforce failed or aborted.
type JobError struct {
	API     API
	JobID   string
	BatchID string // Bulk 1.0 only
	State   string
	Message string
}

// Error names the API, job, batch, state and Salesforce's message.
func (e *JobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "extract: %s job %s", e.API, e.JobID)
	if e.BatchID != "" {
		fmt.Fprintf(&b, " batch %s", e.BatchID)
	}
	fmt.Fprintf(&b, " %s", e.State)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// DownloadError is a Bulk API 2.0 extraction that failed (or was
// cancelled) after its query job was created: while waiting for the job or
// while downloading its results. When Resumable, Resume holds what Options.Resume needs to
// continue exactly where the output stopped (not so for Unordered pages or
// IDChunks, whose written rows are not a prefix of one job's results). Rows
// is the number of rows written by this run.
type DownloadError struct {
	Resume    Resume
	Resumable bool
	Rows      int64
	Err       error
}

// Error names the job, the resume point and the cause.
func (e *DownloadError) Error() string {
	return fmt.Sprintf("extract: Bulk 2.0 job %s (resume at locator %q skipping %d rows; %d rows written): %v",
		e.Resume.JobID, e.Resume.Locator, e.Resume.Skip, e.Rows, e.Err)
}

// Unwrap returns the cause.
func (e *DownloadError) Unwrap() error { return e.Err }

// Run pulls every row of the query into opts.Output in opts.Format. On
// error the Summary still reports what was written.
func Run(ctx context.Context, c *salesforce.Client, opts Options) (*Summary, error) {
	if _, err := opts.resolve(true); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("extract: nil client")
	}
	s, err := opts.resolveWith(ctx, c, true)
	if err != nil {
		return nil, err
	}
	var w rowWriter
	switch s.Format {
	case FormatJSONL:
		w = newJSONLWriter(s.Output)
	case FormatParquet:
		w = newParquetWriter(s.Output)
	case FormatArrow:
		w = &arrowRowWriter{out: s.Output}
	default:
		w = newCSVWriter(s.Output, s.CSV, s.Resume != nil && (s.Resume.Locator != "" || s.Resume.Skip > 0))
	}
	e := &engine{s: s, c: newClient(c), sum: &Summary{Query: s.query}}
	if cw, ok := w.(*csvWriter); ok && cw.rawOK {
		e.raw, e.eol = cw.raw, cw.eol
	}
	e.begin = func(cols []string) error {
		kinds := make([]Kind, len(cols))
		if s.Format != FormatCSV {
			if obj := queryObject(s.query); obj != "" {
				k, err := columnKinds(ctx, e.c.rest, obj, cols)
				if err != nil {
					return fmt.Errorf("extract: describing %s for column types: %w", obj, err)
				}
				kinds = k
			}
		}
		return w.header(cols, kinds)
	}
	e.row = func(vals []string) error { return w.row(vals, e.sum.Rows+1) }
	err = e.run(ctx)
	if cerr := w.close(); err == nil && cerr != nil {
		err = fmt.Errorf("extract: writing output: %w", cerr)
	}
	return e.sum, err
}

// Rows returns an iterator over the query's rows. Iteration stops at the
// first error, which is yielded with a zero Row. Breaking out of the loop
// stops the extraction (Bulk jobs are left for Salesforce to expire).
//
//	for row, err := range extract.Rows(ctx, client, extract.Options{Query: q}) {
//		if err != nil { return err }
//		id, _ := row.Get("Id")
//	}
func Rows(ctx context.Context, c *salesforce.Client, opts Options) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		_, err := opts.resolve(false)
		if err == nil && c == nil {
			err = errors.New("extract: nil client")
		}
		var s *settings
		if err == nil {
			s, err = opts.resolveWith(ctx, c, false)
		}
		if err != nil {
			yield(Row{}, err)
			return
		}
		e := &engine{s: s, c: newClient(c), sum: &Summary{Query: s.query}}
		var cols []string
		e.begin = func(c []string) error { cols = c; return nil }
		e.row = func(vals []string) error {
			if !yield(Row{Columns: cols, Values: vals}, nil) {
				return errStop
			}
			return nil
		}
		if err := e.run(ctx); err != nil && !errors.Is(err, errStop) {
			yield(Row{}, err)
		}
	}
}

// engine runs one extraction. Its begin and row callbacks, and Progress,
// are only called from the goroutine that calls run.
type engine struct {
	s     *settings
	c     client
	sum   *Summary
	begin func(columns []string) error
	row   func(values []string) error
	// raw, when set, writes a row already encoded for the output, ending in eol (the CSV
	// output with commas, no byte order mark and minimal quoting): readPage then copies the
	// rows that need no re-encoding (see plainRow) instead of parsing and writing them.
	raw func(row []byte) error
	eol string

	header []string
}

func (e *engine) run(ctx context.Context) error {
	api := e.s.API
	if api == APIAuto {
		var err error
		if api, err = e.choose(ctx); err != nil {
			return err
		}
	}
	e.sum.API = api
	e.s.log.Debug("extract: starting", "api", api)
	var err error
	switch api {
	case APIREST:
		err = e.runREST(ctx)
	case APIBulk1:
		err = e.runBulk1(ctx)
	case APIBulk2:
		if e.s.IDChunks > 1 {
			err = e.runChunked(ctx)
		} else {
			err = e.runBulk2(ctx)
		}
	}
	if err == nil && e.header == nil {
		// No result file had a header (no records): announce the columns
		// of the SELECT list so that outputs are well formed.
		if q, perr := soql.Parse(e.s.query); perr == nil {
			cols := make([]string, 0, len(q.Fields))
			for _, f := range q.Fields {
				cols = append(cols, f.String())
			}
			err = unwrapSink(e.setHeader(cols, "query"))
		}
	}
	return err
}

// sinkError marks an error from the output side (writer or consumer), which
// must not be retried as a download failure.
type sinkError struct{ err error }

func (e *sinkError) Error() string { return e.err.Error() }
func (e *sinkError) Unwrap() error { return e.err }

// setHeader checks a page's header against the first one and calls begin
// for the first.
func (e *engine) setHeader(h []string, name string) error {
	if e.header == nil {
		e.header = h
		e.sum.Columns = h
		if err := e.begin(h); err != nil {
			return &sinkError{err}
		}
		return nil
	}
	if len(h) != len(e.header) {
		return fmt.Errorf("extract: %s: header has %d columns, the first page had %d", name, len(h), len(e.header))
	}
	for i := range h {
		if !strings.EqualFold(h[i], e.header[i]) {
			return fmt.Errorf("extract: %s: column %d is %q, the first page had %q", name, i+1, h[i], e.header[i])
		}
	}
	return nil
}

// emit passes one row to the output.
func (e *engine) emit(vals []string) error {
	if err := e.row(vals); err != nil {
		return &sinkError{err}
	}
	e.sum.Rows++
	return nil
}

// bulk1NoRecords is the whole body of a Bulk API 1.0 CSV query result
// without records.
const bulk1NoRecords = "Records not found for this query"

// readPage reads one CSV result file (header and rows) and emits its rows,
// skipping the first skip rows (already emitted by an earlier attempt). It
// returns the number of rows read, skipped ones included.
func (e *engine) readPage(r io.Reader, name string, skip int64) (int64, error) {
	if e.raw != nil {
		return e.readPagePlain(r, name, skip)
	}
	return e.readRecords(r, name, skip, 0)
}

// readRecords is readPage with sfcsv's Reader. base rows of r (after its header) were read
// before r by readPagePlain: they count in the rows read and in the rows and lines that
// errors name.
func (e *engine) readRecords(r io.Reader, name string, skip, base int64) (int64, error) {
	rd := sfcsv.NewReader(r, sfcsv.ReaderOptions{Name: name, ReuseRecord: true})
	h, err := rd.Header()
	if err == io.EOF || (err == nil && len(h) == 1 && h[0] == bulk1NoRecords) {
		// An empty file, or Bulk 1.0's text for a batch without records.
		return base, nil
	}
	if err != nil {
		return base, fmt.Errorf("extract: %w", err)
	}
	if err := e.setHeader(h, name); err != nil {
		return base, err
	}
	n := base
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			var pe *sfcsv.ParseError
			if errors.As(err, &pe) {
				pe.Row += int(base)
				if pe.Line > 0 {
					pe.Line += int(base)
				}
			}
			return n, fmt.Errorf("extract: %w", err)
		}
		n++
		if n <= skip {
			continue
		}
		if err := e.emit(rec); err != nil {
			return n, err
		}
	}
}

func (e *engine) progress(jobID, locator string) {
	if e.s.Progress != nil {
		e.s.Progress(Progress{API: e.sum.API, JobID: jobID, Rows: e.sum.Rows, Pages: e.sum.Pages, Locator: locator})
	}
}

// retryable reports whether a download error may succeed when tried again:
// transport and read errors, and server errors (5xx).
func retryable(err error) bool {
	var se *sinkError
	var pe *sfcsv.ParseError
	if errors.As(err, &se) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.As(err, &pe) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return false
	}
	var ae *salesforce.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500
	}
	return true
}
