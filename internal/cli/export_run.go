package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/soql"
)

// exportKind is the "kind" of an export's summary.json and run_started event, which tells
// sfbatch report to draw an export's page.
const exportKind = "export"

// exportRun is an export's run folder: run.db (the run and its query jobs), events.jsonl
// (query job transitions, result pages, request retries with their cause, API usage) and
// summary.json (rows, bytes, files written, timings, state). An export is never resumed
// from its run folder (--resume takes the token it printed), so every export gets a new one.
type exportRun struct {
	*runFolder
	mu   sync.Mutex
	jobs map[string]bool // query jobs recorded in run.db
	last int64           // rows at the last page event
}

// openExportRun creates the run folder (--run-dir, or a new default one), records the run
// and starts events.jsonl. It prints the folder.
func openExportRun(ctx context.Context, ios *IOStreams, o *exportOptions, opts extract.Options) (*exportRun, error) {
	dir, err := freshRunDir(o.RunDir, "--run-dir")
	if err != nil {
		return nil, err
	}
	store, err := openRunJournal(ctx, dir)
	if err != nil {
		return nil, err
	}
	output := o.Output
	if output != "-" {
		if abs, err := filepath.Abs(output); err == nil {
			output = abs
		}
	}
	rf := &runFolder{dir: dir, store: store, ios: ios, quiet: o.Quiet || o.JSON, start: time.Now(),
		run: jobstore.Run{ID: jobstore.NewRunID(time.Now()), Object: first(opts.Object, queryObject(opts.Query)), Operation: exportKind, InputPath: output}}
	if err := store.CreateRun(ctx, rf.run); err != nil {
		store.Close()
		return nil, err
	}
	if rf.events, err = openEventLog(dir); err != nil {
		store.Close()
		return nil, err
	}
	query := opts.Query
	if query == "" {
		query = "(--sobject " + opts.Object + ")"
	}
	rf.events.write("run_started", map[string]any{"run_id": rf.run.ID, "kind": exportKind, "operation": exportKind,
		"object": rf.run.Object, "query": query, "output": output, "api": string(opts.API), "format": string(opts.Format),
		"command": o.command, "version": versionString()})
	if !rf.quiet {
		fmt.Fprintf(ios.ErrOut, "run folder: %s (run %s)\n", dir, rf.run.ID)
	}
	return &exportRun{runFolder: rf, jobs: map[string]bool{}}, nil
}

// queryObject is the FROM object of a query, "(query)" when it cannot be found.
func queryObject(q string) string {
	if pq, err := soql.Parse(q); err == nil && pq.From != "" {
		return pq.From
	}
	fields := strings.Fields(q)
	for i, f := range fields {
		if strings.EqualFold(f, "FROM") && i+1 < len(fields) {
			return strings.TrimRight(fields[i+1], ")")
		}
	}
	return "(query)"
}

// onJob records a query job's (or batch's) state: an event, and the job in run.db when
// first seen. Safe for concurrent use (extract calls it from several goroutines).
func (r *exportRun) onJob(e extract.JobEvent) {
	kind, f := "job", map[string]any{"api": string(e.API), "job": e.JobID, "state": e.State}
	if e.BatchID != "" {
		kind, f["batch"] = "batch", e.BatchID
	}
	r.events.write(kind, f)
	r.mu.Lock()
	seen := r.jobs[e.JobID]
	r.jobs[e.JobID] = true
	r.mu.Unlock()
	if !seen {
		api := jobstore.APIBulk2
		if e.API == extract.APIBulk1 {
			api = jobstore.APIBulk1
		}
		r.store.RecordJob(context.Background(), jobstore.JobRecord{RunID: r.run.ID, JobID: e.JobID, API: api})
	}
}

// onPage records a result page written: its rows, and the running totals.
func (r *exportRun) onPage(p extract.Progress) {
	r.mu.Lock()
	n := p.Rows - r.last
	r.last = p.Rows
	r.mu.Unlock()
	r.events.write("page", map[string]any{"api": string(p.API), "job": p.JobID, "rows": n, "total_rows": p.Rows, "pages": p.Pages})
}

// exportFile is one file an export wrote.
type exportFile struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

// exportSummaryDoc is an export's summary.json.
type exportSummaryDoc struct {
	RunID      string       `json:"run_id"`
	Kind       string       `json:"kind"`
	State      string       `json:"state"`
	ExitCode   int          `json:"exit_code"`
	Object     string       `json:"object"`
	Operation  string       `json:"operation"`
	API        string       `json:"api"`
	Query      string       `json:"query"`
	Jobs       []string     `json:"jobs"`
	Columns    []string     `json:"columns"`
	Rows       int64        `json:"rows"`
	Pages      int          `json:"pages"`
	Bytes      int64        `json:"bytes"`
	Files      []exportFile `json:"files"`
	Started    time.Time    `json:"started"`
	Finished   time.Time    `json:"finished"`
	Seconds    float64      `json:"seconds"`
	RowsPerSec float64      `json:"rows_per_second"`
	Error      string       `json:"error,omitempty"`
	// Input.Path is the output file (what the run is about), where a load's summary.json
	// names its input, so that tools reading any run folder find it in one place.
	Input struct {
		Path string `json:"path"`
	} `json:"input"`
}

// end records how the export ended: the jobs' states, summary.json and the last event.
func (r *exportRun) end(sum *extract.Summary, bytes int64, files []exportFile, err error, code int) {
	state, msg := jobstore.RunCompleted, ""
	if err != nil {
		state, msg = jobstore.RunFailed, err.Error()
		if errors.Is(err, context.Canceled) {
			state = jobstore.RunAborted
		}
	}
	now := time.Now()
	doc := exportSummaryDoc{RunID: r.run.ID, Kind: exportKind, State: string(state), ExitCode: code, Object: r.run.Object,
		Operation: exportKind, Jobs: []string{}, Columns: []string{}, Bytes: bytes, Files: files, Started: r.start.UTC(),
		Finished: now.UTC(), Seconds: now.Sub(r.start).Seconds(), Error: msg}
	doc.Input.Path = r.run.InputPath
	if doc.Files == nil {
		doc.Files = []exportFile{}
	}
	if sum != nil {
		doc.API, doc.Query, doc.Rows, doc.Pages = string(sum.API), sum.Query, sum.Rows, sum.Pages
		if sum.JobIDs != nil {
			doc.Jobs = sum.JobIDs
		}
		if sum.Columns != nil {
			doc.Columns = sum.Columns
		}
		if doc.Seconds > 0 {
			doc.RowsPerSec = float64(sum.Rows) / doc.Seconds
		}
		jobState := jobstore.JobResultsFetched
		if err != nil {
			jobState = jobstore.JobFailed
		}
		for _, id := range sum.JobIDs {
			r.store.UpdateJobState(context.Background(), r.run.ID, id, jobState)
		}
	}
	r.finish(state, msg, code, doc)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileSize is the size of path, 0 when it cannot be read.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
