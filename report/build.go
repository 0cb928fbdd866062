package report

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// Files of a run folder the report reads, and the report's own name.
const (
	FileName     = "report.html"  // where Write puts the report by default
	SummaryFile  = "summary.json" // the run's counts and state
	EventsFile   = "events.jsonl" // timestamped job transitions and retries
	JournalFile  = "run.db"       // the journal (jobstore)
	ResultsFile  = "results.csv"  // every row's outcome
	otherGroup   = "(other)"      // where groups past MaxGroups are counted
	unknownField = "(no field)"   // failures that name no field
)

// Limits that keep a report's size independent of the input's.
const (
	// MaxGroups is how many distinct error codes (and fields) are counted one by one; the
	// rest are counted together under "(other)".
	MaxGroups = 500
	// MaxJobs is how many jobs and batches the timeline draws; the rest are counted.
	MaxJobs = 20000
	// MaxRetryMarks is how many request retries the timeline marks one by one; all are
	// counted by cause.
	MaxRetryMarks = 5000
	// DefaultExamples is how many example rows per error code Options.Values shows.
	DefaultExamples = 3
	// MaxExamples caps Options.Examples.
	MaxExamples = 50
	// MaxBuckets is how many time buckets the throughput and concurrency charts have.
	MaxBuckets = 240
	// MaxPoints caps the API usage points and concurrency changes a report keeps.
	MaxPoints = 5000
	// maxEventLine is the longest events.jsonl line read; longer lines are skipped.
	maxEventLine = 1 << 20
	// MaskText replaces a masked value.
	MaskText = "****"
)

// Options control what a report shows.
type Options struct {
	// Values adds example rows (their cells and Salesforce's message) to each error code.
	// Off by default: a report then holds no cell values.
	Values bool
	// Mask names fields (columns, case-insensitive) whose values are replaced by MaskText
	// in examples, also where a message repeats them.
	Mask []string
	// Examples is how many example rows per error code Values shows (zero: DefaultExamples).
	Examples int
}

// Data is everything a report shows, aggregated from a run folder.
type Data struct {
	Run        Run        `json:"run"`
	Outcomes   []Count    `json:"outcomes"`    // rows by sf__Outcome, in a fixed order
	Rows       int64      `json:"rows"`        // rows in results.csv
	Created    int64      `json:"created"`     // succeeded rows that created a record
	ByCode     []Group    `json:"by_code"`     // rows not succeeded, by error code
	ByField    []Group    `json:"by_field"`    // rows not succeeded, by field named in the error
	Columns    []string   `json:"columns"`     // input columns (with Values)
	Jobs       []Job      `json:"jobs"`        // timeline, in order of first event
	JobsLeft   int        `json:"jobs_left"`   // jobs past MaxJobs, not drawn
	Retries    []Retry    `json:"retries"`     // request retries (up to MaxRetryMarks)
	Causes     []Cause    `json:"causes"`      // request retries by cause
	RowRetries []RowRetry `json:"row_retries"` // rows resubmitted in retry passes
	Series     Series     `json:"series"`      // throughput and concurrency over time
	Usage      *Usage     `json:"usage,omitempty"`
	Files      []File     `json:"files"`
	Notes      []string   `json:"notes"` // what the folder lacked or what was capped

	// Kind is what ran: KindLoad, KindExport or KindPlan.
	Kind string `json:"kind"`
	// Export is an export's figures (Kind KindExport).
	Export *Export `json:"export,omitempty"`
	// Plan is a plan's object graph and steps (Kind KindPlan).
	Plan *Plan `json:"plan,omitempty"`
	// RetryCodes counts the rows resubmitted in retry passes by the error code that sent
	// them there (UNABLE_TO_LOCK_ROW, ...).
	RetryCodes []Count `json:"retry_codes"`
	// UsageSeries is the org's API usage as recorded during the run (Sforce-Limit-Info),
	// up to MaxPoints points.
	UsageSeries []UsagePoint `json:"usage_series"`
	// ConcurrencyChanges are the engine's changes of its concurrency limit, up to MaxPoints.
	ConcurrencyChanges []ConcurrencyChange `json:"concurrency_changes"`
}

// Kinds of run (Data.Kind).
const (
	KindLoad   = "load"
	KindExport = "export"
	KindPlan   = "plan"
)

// Export is what an export wrote, from its summary.json and events.jsonl.
type Export struct {
	Query  string       `json:"query"`
	Output string       `json:"output"`
	Rows   int64        `json:"rows"`
	Pages  int64        `json:"pages"`
	Bytes  int64        `json:"bytes"`
	Files  []ExportFile `json:"files"`
}

// ExportFile is one file an export wrote (outside the run folder).
type ExportFile struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

// UsagePoint is the org's API usage at one time.
type UsagePoint struct {
	Time time.Time `json:"time"`
	Used int64     `json:"used"`
	Max  int64     `json:"max"`
}

// ConcurrencyChange is one change of the engine's concurrency limit.
type ConcurrencyChange struct {
	Time  time.Time `json:"time"`
	API   string    `json:"api"`
	From  int64     `json:"from"`
	To    int64     `json:"to"`
	Cause string    `json:"cause"`
}

// Run is the run's identity, from summary.json and events.jsonl.
type Run struct {
	ID         string    `json:"id"`
	Command    string    `json:"command"`
	Version    string    `json:"version"`
	Org        string    `json:"org"`
	APIVersion string    `json:"api_version"`
	Object     string    `json:"object"`
	Operation  string    `json:"operation"`
	API        string    `json:"api"`
	Input      string    `json:"input"`
	State      string    `json:"state"`
	ExitCode   *int      `json:"exit_code"`
	Error      string    `json:"error"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Sessions   int       `json:"sessions"` // run_started events: 1, or more after --resume
}

// Duration is End - Start, or zero when either is unknown.
func (r Run) Duration() time.Duration {
	if r.Start.IsZero() || r.End.IsZero() {
		return 0
	}
	return r.End.Sub(r.Start)
}

// Count is a number of rows with one label.
type Count struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// Group counts rows that did not succeed under one error code or one field.
type Group struct {
	Name     string    `json:"name"`
	Rows     int64     `json:"rows"`
	Related  []Count   `json:"related"`  // fields of a code, codes of a field (top few)
	Examples []Example `json:"examples"` // with Options.Values
	related  map[string]int64
}

// Example is one row that failed, with Options.Values.
type Example struct {
	Row     string   `json:"row"`
	Outcome string   `json:"outcome"`
	Message string   `json:"message"`
	Values  []string `json:"values"`
}

// Job is one job, batch or collections call on the timeline.
type Job struct {
	ID      string  `json:"id"`
	Batch   string  `json:"batch,omitempty"`
	API     string  `json:"api"`
	Pass    int     `json:"pass"`
	Rows    int64   `json:"rows"`
	States  []State `json:"states"`
	Final   string  `json:"final"`
	Retries int     `json:"retries"` // request retries whose URL names this job
	// Salesforce's processing times (Bulk API 2.0 jobs, Bulk API 1.0 batches), in
	// milliseconds, when recorded.
	TotalProcessingMs     *int64 `json:"total_processing_ms,omitempty"`
	APIActiveProcessingMs *int64 `json:"api_active_processing_ms,omitempty"`
	ApexProcessingMs      *int64 `json:"apex_processing_ms,omitempty"`
}

// Start is the time of the job's first recorded state.
func (j Job) Start() time.Time {
	if len(j.States) == 0 {
		return time.Time{}
	}
	return j.States[0].Time
}

// End is the time of the job's last recorded state.
func (j Job) End() time.Time {
	if len(j.States) == 0 {
		return time.Time{}
	}
	return j.States[len(j.States)-1].Time
}

// State is one recorded state of a job.
type State struct {
	State string    `json:"state"`
	Time  time.Time `json:"time"`
}

// Retry is one request the client sent again.
type Retry struct {
	Time   time.Time `json:"time"`
	Cause  string    `json:"cause"`
	Method string    `json:"method"`
	Job    string    `json:"job,omitempty"`
	WaitMs float64   `json:"wait_ms"`
}

// Cause counts request retries with one cause, e.g. "429 REQUEST_LIMIT_EXCEEDED".
type Cause struct {
	Cause   string  `json:"cause"`
	Count   int64   `json:"count"`
	WaitSec float64 `json:"wait_sec"`
}

// RowRetry is one retry pass's resubmission of rows that failed with a retryable code.
type RowRetry struct {
	Time   time.Time `json:"time"`
	Pass   int       `json:"pass"`
	Rows   int64     `json:"rows"`
	WaitMs float64   `json:"wait_ms"` // how long the engine waited before the pass
}

// Series are the throughput and concurrency charts' points, one per bucket.
type Series struct {
	BucketSec   float64     `json:"bucket_sec"`
	Times       []time.Time `json:"times"`
	RowsDone    []int64     `json:"rows_done"`   // rows of jobs that finished in the bucket
	Concurrency []int       `json:"concurrency"` // most jobs in flight during the bucket
}

// Usage is the org's API request usage recorded by the run (Sforce-Limit-Info).
type Usage struct {
	Used int64 `json:"used"`
	Max  int64 `json:"max"`
}

// File is one file of the run folder, linked from the report.
type File struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// Build aggregates the run folder dir. It needs results.csv or events.jsonl; every other
// file is optional (a crashed run may lack summary.json), and what was missing is said in
// Data.Notes. A plan's folder (with plan.json) gives Kind KindPlan with its object graph and
// its steps; a plan step's folder (NN-Object) takes its timeline from the plan's
// events.jsonl and run.db.
func Build(ctx context.Context, dir string, opts Options) (*Data, error) {
	if _, err := os.Stat(filepath.Join(dir, PlanFile)); err == nil {
		return buildPlan(ctx, dir, opts)
	}
	src := sources{events: filepath.Join(dir, EventsFile), journal: filepath.Join(dir, JournalFile)}
	if planDir, ok := stepOf(dir); ok {
		src = sources{events: filepath.Join(planDir, EventsFile), journal: filepath.Join(planDir, JournalFile),
			step: filepath.Base(filepath.Clean(dir))}
	}
	return build(ctx, dir, src, opts)
}

// sources are where build reads events and the journal: the run folder's own, or for a
// plan's step, the plan's, limited to the step.
type sources struct {
	events, journal string
	step            string // a plan step's folder name: only events while it ran count
	plan            bool   // a plan's folder: the journal's runs are its steps'
	kind            string // Data.Kind unless summary.json or the events say (default KindLoad)
}

func build(ctx context.Context, dir string, src sources, opts Options) (*Data, error) {
	d := &Data{Kind: first(src.kind, KindLoad)}
	var found int
	if err := readSummary(filepath.Join(dir, SummaryFile), d); err == nil {
		found++
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	} else {
		d.Notes = append(d.Notes, "no summary.json: the run did not finish")
	}
	b := &builder{d: d, tl: &timeline{byKey: map[string]*Job{}}, causes: map[string]*Cause{}, retryCodes: map[string]int64{},
		step: src.step, inStep: src.step == ""}
	if err := b.readEvents(src.events); err == nil {
		found++
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	} else {
		d.Notes = append(d.Notes, "no events.jsonl: no timeline")
	}
	if err := readJournal(ctx, src.journal, d, b.tl, src.plan); err != nil {
		d.Notes = append(d.Notes, "run.db: "+err.Error())
	}
	if d.Kind == KindExport {
		found++ // an export has no results.csv: its rows are in its output file
	} else if err := readResults(filepath.Join(dir, ResultsFile), d, opts); err == nil {
		found++
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	} else if d.Kind != KindPlan {
		d.Notes = append(d.Notes, "no results.csv: no counts by outcome (run `sfbatch results DIR` or --resume to write it)")
	}
	if found == 0 {
		return nil, fmt.Errorf("report: %s holds no run (no %s, %s or %s)", dir, SummaryFile, EventsFile, ResultsFile)
	}
	for _, j := range b.tl.order {
		d.Jobs = append(d.Jobs, *j)
	}
	d.JobsLeft = b.tl.left
	sort.SliceStable(d.Jobs, func(x, y int) bool { return d.Jobs[x].Start().Before(d.Jobs[y].Start()) })
	var pts []point
	if d.Kind == KindExport {
		pts = b.pages
		if d.Export.Rows == 0 {
			for _, p := range pts {
				d.Export.Rows += p.rows
			}
		}
	}
	d.Series = series(d.Jobs, pts)
	d.Files = listFiles(dir)
	for code, n := range b.retryCodes {
		d.RetryCodes = append(d.RetryCodes, Count{Name: code, Rows: n})
	}
	sortCounts(d.RetryCodes)
	b.finish()
	if d.JobsLeft > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("%d more jobs are not drawn on the timeline (limit %d)", d.JobsLeft, MaxJobs))
	}
	return d, nil
}

// readSummary reads the part of summary.json a report reads (a load's, an export's, a
// plan's or a plan step's). Each key is read on its own, exactly as named, so a field of
// another shape (a step's embedded counts) does not stop the others.
func readSummary(path string, d *Data) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("report: reading %s: %w", path, err)
	}
	get := func(k string, v any) {
		if raw, ok := m[k]; ok {
			json.Unmarshal(raw, v)
		}
	}
	r := &d.Run
	var input struct {
		Path string `json:"path"`
	}
	var kind string
	get("run_id", &r.ID)
	get("kind", &kind)
	get("state", &r.State)
	get("input", &input)
	get("exit_code", &r.ExitCode)
	get("object", &r.Object)
	get("operation", &r.Operation)
	get("api", &r.API)
	get("error", &r.Error)
	r.Input = input.Path
	if kind == KindExport {
		d.Kind = KindExport
		x := &Export{Output: input.Path}
		get("query", &x.Query)
		get("rows", &x.Rows)
		get("pages", &x.Pages)
		get("bytes", &x.Bytes)
		get("files", &x.Files)
		d.Export = x
	}
	return nil
}

// event is one line of events.jsonl; fields are read as the writer wrote them (numbers as
// numbers or strings).
type event map[string]any

func (e event) str(k string) string {
	switch v := e[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func (e event) num(k string) (int64, bool) {
	switch v := e[k].(type) {
	case float64:
		return int64(v), true
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

func jobKey(id, batch string) string { return id + "/" + batch }

// builder aggregates events.jsonl into a Data.
type builder struct {
	d          *Data
	tl         *timeline
	causes     map[string]*Cause
	retryCodes map[string]int64
	pages      []point // an export's rows written, page by page
	step       string  // a plan step's folder: only events while it ran count
	inStep     bool
}

// point is a number of rows done at one time.
type point struct {
	t    time.Time
	rows int64
}

// readEvents streams events.jsonl once. Lines that are not JSON (a run killed mid-write)
// are skipped.
func (b *builder) readEvents(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			var e event
			if json.Unmarshal(line, &e) == nil {
				b.add(e)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("report: reading %s: %w", path, err)
		}
	}
	return nil
}

// finish sorts what add collected.
func (b *builder) finish() {
	d := b.d
	for _, c := range b.causes {
		d.Causes = append(d.Causes, *c)
	}
	sort.Slice(d.Causes, func(i, j int) bool {
		a, b := d.Causes[i], d.Causes[j]
		return a.Count > b.Count || a.Count == b.Count && a.Cause < b.Cause
	})
}

// readLine returns the next line without its newline; a line longer than maxEventLine is
// skipped whole (returned empty).
func readLine(br *bufio.Reader) ([]byte, error) {
	var long []byte
	for {
		frag, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(long)+len(frag) <= maxEventLine {
				long = append(long, frag...)
			} else {
				long = long[:0:0]
			}
			continue
		}
		if long != nil && len(long)+len(frag) > maxEventLine {
			return nil, err
		}
		if long != nil {
			frag = append(long, frag...)
		}
		return []byte(strings.TrimRight(string(frag), "\r\n")), err
	}
}

func (b *builder) add(e event) {
	d, tl := b.d, b.tl
	t, _ := time.Parse(time.RFC3339Nano, e.str("time"))
	r := &d.Run
	kind := e.str("event")
	if b.step != "" {
		// A plan's step: the plan's events while the step ran; processing times, read
		// after the last step, for the step's jobs.
		switch kind {
		case "job_info":
			if _, ok := tl.byKey[jobKey(e.str("job"), e.str("batch"))]; !ok {
				return
			}
		case "run_started", "connected":
		case "step_started":
			if e.str("dir") == b.step {
				b.inStep = true
				r.Sessions++
				if r.Start.IsZero() {
					r.Start = t
				}
			}
			return
		case "step_finished", "step_failed":
			if e.str("dir") == b.step && b.inStep {
				b.inStep = false
				r.End = t
			}
			return
		default:
			if !b.inStep {
				return
			}
		}
	}
	switch kind {
	case "run_started":
		if k := e.str("kind"); k == KindExport {
			d.Kind = k
			if d.Export == nil {
				d.Export = &Export{Query: e.str("query"), Output: e.str("output")}
			}
		}
		if b.step != "" {
			r.Command, r.Version = first(e.str("command"), r.Command), first(e.str("version"), r.Version)
			return
		}
		r.Sessions++
		if r.Start.IsZero() {
			r.Start = t
		}
		r.ID = first(r.ID, e.str("run_id"))
		r.Object, r.Operation, r.Input = first(r.Object, e.str("object")), first(r.Operation, e.str("operation")), first(r.Input, e.str("input"), e.str("output"))
		r.Command, r.Version = first(e.str("command"), r.Command), first(e.str("version"), r.Version)
	case "connected":
		r.Org, r.APIVersion = first(e.str("instance_url"), r.Org), first(e.str("api_version"), r.APIVersion)
	case "run_finished":
		r.End = t
		if r.State == "" {
			r.State = e.str("state")
		}
	case "api_usage":
		used, ok1 := e.num("used")
		mx, ok2 := e.num("max")
		if ok1 && ok2 {
			d.Usage = &Usage{Used: used, Max: mx}
			if len(d.UsageSeries) < MaxPoints {
				d.UsageSeries = append(d.UsageSeries, UsagePoint{Time: t, Used: used, Max: mx})
			}
		}
	case "concurrency":
		from, _ := e.num("from")
		to, _ := e.num("to")
		if len(d.ConcurrencyChanges) < MaxPoints {
			d.ConcurrencyChanges = append(d.ConcurrencyChanges, ConcurrencyChange{Time: t, API: e.str("api"), From: from, To: to, Cause: e.str("cause")})
		}
	case "job", "batch":
		j := tl.job(e.str("job"), e.str("batch"), e.str("api"))
		if j == nil {
			return
		}
		st := e.str("state")
		j.States = append(j.States, State{State: st, Time: t})
		j.Final = st
	case "job_info":
		j := tl.job(e.str("job"), e.str("batch"), e.str("api"))
		if j == nil {
			return
		}
		for k, p := range map[string]**int64{"total_processing_ms": &j.TotalProcessingMs,
			"api_active_processing_ms": &j.APIActiveProcessingMs, "apex_processing_ms": &j.ApexProcessingMs} {
			if n, ok := e.num(k); ok {
				*p = &n
			}
		}
	case "page":
		if n, ok := e.num("rows"); ok && !t.IsZero() {
			b.pages = append(b.pages, point{t: t, rows: n})
		}
	case "request_retried":
		cause := retryCause(e.str("error"))
		wait, _ := time.ParseDuration(e.str("wait"))
		c := b.causes[cause]
		if c == nil {
			if len(b.causes) >= MaxGroups {
				cause = otherGroup
				c = b.causes[cause]
			}
			if c == nil {
				c = &Cause{Cause: cause}
				b.causes[cause] = c
			}
		}
		c.Count++
		c.WaitSec += wait.Seconds()
		id := jobInURL(e.str("url"))
		if j := tl.byKey[jobKey(id, "")]; j != nil {
			j.Retries++
		}
		if len(d.Retries) < MaxRetryMarks {
			d.Retries = append(d.Retries, Retry{Time: t, Cause: cause, Method: e.str("method"), Job: id,
				WaitMs: float64(wait.Microseconds()) / 1000})
		}
	case "rows_retried":
		rows, _ := e.num("rows")
		pass, _ := e.num("pass")
		wait, _ := time.ParseDuration(e.str("wait"))
		d.RowRetries = append(d.RowRetries, RowRetry{Time: t, Pass: int(pass), Rows: rows, WaitMs: float64(wait.Microseconds()) / 1000})
	case "rows_retried_code":
		rows, _ := e.num("rows")
		code := first(e.str("code"), "(no code)")
		if _, ok := b.retryCodes[code]; !ok && len(b.retryCodes) >= MaxGroups {
			code = otherGroup
		}
		b.retryCodes[code] += rows
	}
}

// timeline holds the jobs and batches as events and the journal name them.
type timeline struct {
	byKey map[string]*Job // nil value: a job past MaxJobs
	order []*Job
	left  int
}

// job returns the timeline entry of a job or batch, adding it (nil past MaxJobs).
func (tl *timeline) job(id, batch, api string) *Job {
	if id == "" || strings.HasPrefix(id, "creating-") {
		// No job, or the load's placeholder for a job create request (not a job).
		return nil
	}
	k := jobKey(id, batch)
	if j, ok := tl.byKey[k]; ok {
		return j
	}
	if len(tl.order) >= MaxJobs {
		tl.left++
		tl.byKey[k] = nil
		return nil
	}
	j := &Job{ID: id, Batch: batch, API: api}
	tl.byKey[k] = j
	tl.order = append(tl.order, j)
	return j
}

// retryCause names why a request was retried from the client's error text: the HTTP status
// and Salesforce's error code ("503 SERVER_UNAVAILABLE", "429 REQUEST_LIMIT_EXCEEDED"), or
// the kind of network failure.
func retryCause(msg string) string {
	// "salesforce: METHOD URL: 503 SERVER_UNAVAILABLE: message"
	parts := strings.Split(msg, ": ")
	for _, p := range parts {
		f := strings.Fields(p)
		if len(f) >= 1 && len(f[0]) == 3 && f[0][0] >= '1' && f[0][0] <= '5' {
			if _, err := strconv.Atoi(f[0]); err == nil {
				if len(f) >= 2 && isCode(f[1]) {
					return f[0] + " " + f[1]
				}
				return f[0]
			}
		}
	}
	switch low := strings.ToLower(msg); {
	case strings.Contains(low, "timeout") || strings.Contains(low, "deadline"):
		return "timeout"
	case strings.Contains(low, "connection reset") || strings.Contains(low, "eof"):
		return "connection lost"
	case strings.Contains(low, "connection refused"):
		return "connection refused"
	case msg == "":
		return "unknown"
	}
	return "network error"
}

func isCode(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r == '_' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// jobInURL returns the job id a Bulk API URL names, if any.
func jobInURL(u string) string {
	for _, marker := range []string{"/jobs/ingest/", "/jobs/query/", "/job/"} {
		if _, rest, ok := strings.Cut(u, marker); ok {
			id, _, _ := strings.Cut(rest, "/")
			id, _, _ = strings.Cut(id, "?")
			return id
		}
	}
	return ""
}

// readJournal adds each job's rows and retry pass from run.db: of the run's jobs, or with
// plan, of every step's.
func readJournal(ctx context.Context, path string, d *Data, tl *timeline, plan bool) error {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errors.New("no journal")
		}
		return err
	}
	st, err := jobstore.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := st.ListRuns(ctx)
	if err != nil {
		return err
	}
	for _, run := range runs {
		if plan {
			if d.Run.ID != "" && !strings.HasPrefix(run.ID, d.Run.ID+"-") {
				continue
			}
			if err := readJournalJobs(ctx, st, run.ID, tl); err != nil {
				return err
			}
			continue
		}
		if d.Run.ID != "" && run.ID != d.Run.ID {
			continue
		}
		if d.Run.Start.IsZero() {
			d.Run.Start = run.CreatedAt
		}
		d.Run.ID, d.Run.Object, d.Run.Operation = first(d.Run.ID, run.ID), first(d.Run.Object, run.Object), first(d.Run.Operation, run.Operation)
		d.Run.State = first(d.Run.State, string(run.State))
		if err := readJournalJobs(ctx, st, run.ID, tl); err != nil {
			return err
		}
	}
	return nil
}

// readJournalJobs adds the rows and pass of the jobs of one run of the journal.
func readJournalJobs(ctx context.Context, st *jobstore.Store, runID string, tl *timeline) error {
	recs, err := st.Jobs(ctx, runID)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		j := tl.byKey[jobKey(rec.JobID, rec.BatchID)]
		if j == nil {
			// A job the events do not show (no events.jsonl, or a collections call):
			// its journal times stand in.
			j = tl.job(rec.JobID, rec.BatchID, string(rec.API))
			if j == nil {
				continue
			}
			j.States = []State{{State: string(jobstore.JobCreated), Time: rec.CreatedAt}}
			if rec.UpdatedAt.After(rec.CreatedAt) {
				j.States = append(j.States, State{State: string(rec.State), Time: rec.UpdatedAt})
			}
			j.Final = string(rec.State)
		}
		j.Pass = rec.Pass
		j.Rows = rowsOf(rec)
	}
	return nil
}

func rowsOf(rec jobstore.JobRecord) int64 {
	if len(rec.Rows) == 0 {
		if rec.LastRow >= rec.FirstRow && rec.FirstRow > 0 {
			return rec.LastRow - rec.FirstRow + 1
		}
		return 0
	}
	var n int64
	for _, r := range rec.Rows {
		n += r.Last - r.First + 1
	}
	return n
}

// Outcome names in results.csv, in the order a report lists them.
var outcomeOrder = []string{"succeeded", "failed", "not_processed", "unknown"}

// readResults streams results.csv once: counts by outcome, by error code and by field, and
// (with opts.Values) a few example rows per code.
func readResults(path string, d *Data, opts Options) error {
	t := newTally()
	if err := t.read(path, opts); err != nil {
		return err
	}
	t.into(d)
	return nil
}

// tally is what results files add up to.
type tally struct {
	rows, created int64
	outcomes      map[string]int64
	codes, fields map[string]*Group
	columns       []string
}

func newTally() *tally {
	return &tally{outcomes: map[string]int64{}, codes: map[string]*Group{}, fields: map[string]*Group{}}
}

// read adds one results.csv.
func (t *tally) read(path string, opts Options) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := sfcsv.NewReader(bufio.NewReaderSize(f, 256<<10), sfcsv.ReaderOptions{ReuseRecord: true})
	hdr, err := rd.Header()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("report: reading %s: %w", path, err)
	}
	hdr = slices.Clone(hdr)
	col := func(name string) int { return slices.Index(hdr, name) }
	cRow, cOutcome, cCreated, cCode, cError := col("sf__Row"), col("sf__Outcome"), col("sf__Created"), col("sf__ErrorCode"), col("sf__Error")
	if cOutcome < 0 {
		return fmt.Errorf("report: reading %s: no sf__Outcome column", path)
	}
	var dataCols []int
	for i, h := range hdr {
		if !strings.HasPrefix(h, "sf__") {
			dataCols = append(dataCols, i)
			if opts.Values {
				t.columns = append(t.columns, h)
			}
		}
	}
	masked := make([]bool, len(hdr))
	for i, h := range hdr {
		for _, m := range opts.Mask {
			if strings.EqualFold(strings.TrimSpace(m), h) {
				masked[i] = true
			}
		}
	}
	examples := opts.Examples
	if examples <= 0 {
		examples = DefaultExamples
	}
	examples = min(examples, MaxExamples)
	outcomes, codes, fields := t.outcomes, t.codes, t.fields
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("report: reading %s: %w", path, err)
		}
		t.rows++
		oc := rec[cOutcome]
		if len(outcomes) < MaxGroups || outcomes[oc] > 0 {
			outcomes[oc]++
		} else {
			outcomes[otherGroup]++
		}
		if oc == "succeeded" {
			if cCreated >= 0 && rec[cCreated] == "true" {
				t.created++
			}
			continue
		}
		msg := ""
		if cError >= 0 {
			msg = rec[cError]
		}
		code, fs := parseError(msg)
		if cCode >= 0 && rec[cCode] != "" {
			code = rec[cCode]
		}
		if code == "" {
			code = "(no code)"
		}
		if len(fs) == 0 {
			fs = []string{unknownField}
		}
		g := addGroup(codes, code, 1)
		for _, fl := range fs {
			g.relate(fl, 1)
			addGroup(fields, fl, 1).relate(g.Name, 1)
		}
		if opts.Values && len(g.Examples) < examples {
			ex := Example{Outcome: oc, Message: msg}
			if cRow >= 0 {
				ex.Row = rec[cRow]
			}
			for _, i := range dataCols {
				v := rec[i]
				if masked[i] {
					if v != "" {
						ex.Message = strings.ReplaceAll(ex.Message, v, MaskText)
					}
					v = MaskText
				}
				ex.Values = append(ex.Values, v)
			}
			g.Examples = append(g.Examples, ex)
		}
	}
	return nil
}

// merge adds another tally's counts (not its examples).
func (t *tally) merge(o *tally) {
	t.rows += o.rows
	t.created += o.created
	for k, n := range o.outcomes {
		if _, ok := t.outcomes[k]; !ok && len(t.outcomes) >= MaxGroups {
			k = otherGroup
		}
		t.outcomes[k] += n
	}
	for _, pair := range []struct{ into, from map[string]*Group }{{t.codes, o.codes}, {t.fields, o.fields}} {
		for name, g := range pair.from {
			mg := addGroup(pair.into, name, g.Rows)
			for r, n := range g.related {
				mg.relate(r, n)
			}
		}
	}
}

// into sets d's counts from the tally.
func (t *tally) into(d *Data) {
	d.Rows, d.Created, d.Columns = t.rows, t.created, t.columns
	d.Outcomes = t.outcomeList()
	d.ByCode, d.ByField = groups(t.codes), groups(t.fields)
}

// outcomeList lists the outcomes in outcomeOrder, then the others by name.
func (t *tally) outcomeList() []Count {
	var out []Count
	for _, name := range outcomeOrder {
		if n, ok := t.outcomes[name]; ok || name != "unknown" {
			out = append(out, Count{Name: name, Rows: n})
		}
	}
	var rest []string
	for name := range t.outcomes {
		if !slices.Contains(outcomeOrder, name) {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	for _, name := range rest {
		out = append(out, Count{Name: name, Rows: t.outcomes[name]})
	}
	return out
}

// parseError splits Salesforce's "CODE:message:field,field --" (several errors may follow
// each other) into the first code and every field named.
func parseError(s string) (string, []string) {
	var code string
	var fields []string
	for _, e := range strings.Split(s, " --") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		c, rest, ok := strings.Cut(e, ":")
		if !ok {
			continue
		}
		if code == "" {
			code = c
		}
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			continue
		}
		for _, fl := range strings.Split(rest[i+1:], ",") {
			if fl = strings.TrimSpace(fl); fl != "" && !slices.Contains(fields, fl) && isFieldName(fl) {
				fields = append(fields, fl)
			}
		}
	}
	return code, fields
}

// isFieldName reports whether s can be a field's API name (so message text after a colon is
// not taken for one).
func isFieldName(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// addGroup adds n rows to the group name of m (to "(other)" past MaxGroups).
func addGroup(m map[string]*Group, name string, n int64) *Group {
	g := m[name]
	if g == nil {
		if len(m) >= MaxGroups {
			name = otherGroup
			if g = m[name]; g != nil {
				g.Rows += n
				return g
			}
		}
		g = &Group{Name: name, related: map[string]int64{}}
		m[name] = g
	}
	g.Rows += n
	return g
}

// relate counts n rows of a related name (a field of a code, a code of a field), within
// MaxGroups.
func (g *Group) relate(name string, n int64) {
	if _, ok := g.related[name]; !ok && len(g.related) >= MaxGroups {
		name = otherGroup
	}
	g.related[name] += n
}

// maxRelated is how many related names a group lists.
const maxRelated = 5

func groups(m map[string]*Group) []Group {
	out := make([]Group, 0, len(m))
	for _, g := range m {
		for k, n := range g.related {
			g.Related = append(g.Related, Count{Name: k, Rows: n})
		}
		sortCounts(g.Related)
		if len(g.Related) > maxRelated {
			g.Related = g.Related[:maxRelated]
		}
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Rows > out[j].Rows || out[i].Rows == out[j].Rows && out[i].Name < out[j].Name
	})
	return out
}

func sortCounts(cs []Count) {
	sort.Slice(cs, func(i, j int) bool {
		return cs[i].Rows > cs[j].Rows || cs[i].Rows == cs[j].Rows && cs[i].Name < cs[j].Name
	})
}

// series buckets the rows done and the jobs in flight. Rows are those of pts when given (an
// export's pages), else the jobs' rows at each job's last state.
func series(jobs []Job, pts []point) Series {
	var lo, hi time.Time
	for _, j := range jobs {
		if s := j.Start(); !s.IsZero() && (lo.IsZero() || s.Before(lo)) {
			lo = s
		}
		if e := j.End(); e.After(hi) {
			hi = e
		}
	}
	for _, p := range pts {
		if lo.IsZero() || p.t.Before(lo) {
			lo = p.t
		}
		if p.t.After(hi) {
			hi = p.t
		}
	}
	if lo.IsZero() {
		return Series{}
	}
	span := hi.Sub(lo)
	width := bucketWidth(span)
	n := max(int(span/width)+1, 2) // a time axis needs two points
	s := Series{BucketSec: width.Seconds(), Times: make([]time.Time, n), RowsDone: make([]int64, n), Concurrency: make([]int, n)}
	for i := range n {
		s.Times[i] = lo.Add(time.Duration(i) * width)
	}
	idx := func(t time.Time) int { return min(int(t.Sub(lo)/width), n-1) }
	// Jobs in flight: +1 at start, -1 after end, swept in time order.
	type edge struct {
		t time.Time
		d int
	}
	edges := make([]edge, 0, 2*len(jobs))
	for _, j := range jobs {
		if len(j.States) == 0 {
			continue
		}
		if pts == nil {
			s.RowsDone[idx(j.End())] += j.Rows
		}
		edges = append(edges, edge{j.Start(), 1}, edge{j.End(), -1})
	}
	for _, p := range pts {
		s.RowsDone[idx(p.t)] += p.rows
	}
	sort.SliceStable(edges, func(a, b int) bool {
		return edges[a].t.Before(edges[b].t) || edges[a].t.Equal(edges[b].t) && edges[a].d > edges[b].d
	})
	cur := 0
	last := -1
	for _, e := range edges {
		i := idx(e.t)
		// A bucket with no edge keeps the count of the bucket before.
		for k := last + 1; k < i; k++ {
			s.Concurrency[k] = max(s.Concurrency[k], cur)
		}
		cur += e.d
		s.Concurrency[i] = max(s.Concurrency[i], cur)
		last = i
	}
	return s
}

// bucketWidth is the smallest of a few round widths that divides span into at most
// MaxBuckets buckets.
func bucketWidth(span time.Duration) time.Duration {
	for _, w := range []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
		250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second,
		10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour} {
		if span/w < MaxBuckets {
			return w
		}
	}
	return span/MaxBuckets + time.Second
}

// listFiles lists the run folder's data files for links.
func listFiles(dir string) []File {
	var out []File
	for _, name := range []string{"results.csv", "success.csv", "failure.csv", "unprocessed.csv", "unknown.csv",
		SummaryFile, EventsFile, JournalFile} {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
			out = append(out, File{Name: name, Size: st.Size()})
		}
	}
	return out
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
