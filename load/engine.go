package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// Loader loads rows into one org. Create it with New. A Loader is safe for concurrent use:
// each Load call is independent.
type Loader struct {
	bulk2 bulk2API
	bulk1 bulk1API
	coll  collectionsAPI
	desc  describeAPI
	// limits reads the org's limits for Options.MaxAPIShare.
	limits limitsAPI

	sortRun int // rows per in-memory sorted run (0 = sortRunRows); tests lower it
}

// Load sends every row of src to Salesforce as opts describe and delivers one RowResult per
// input row to sink (which may be nil). It returns when every row has an outcome.
//
// Failed rows are data, not errors: the Summary counts them and sink receives them. A non-nil
// error means the load could not go on: an *InputError for a bad header or a structural
// input error (rows read before it were still loaded; a row the reader rejects alone is a
// Failed row with StatusInvalidRow, not an error), a *PreflightError before anything was
// sent, or an *Error (cancellation, deadline, a sink error, a request Salesforce refused, an
// org that cannot be used: see OrgUnusable) that names every job left open.
// The Summary is valid in every case.
func (l *Loader) Load(ctx context.Context, src Source, sink Sink, opts Options) (*Summary, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return &Summary{}, err
	}
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	start := time.Now()
	if cfg.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Deadline)
		defer cancel()
	}
	dir, err := os.MkdirTemp(cfg.TempDir, "sfbatch-load-")
	if err != nil {
		return &Summary{}, fmt.Errorf("load: temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	r := &run{
		l:    l,
		cfg:  cfg,
		dir:  dir,
		sink: sink,
		seed: rand.Uint64(),
		tag:  strconv.FormatUint(rand.Uint64()&0xffffffff, 36),
		open: make(map[string]*OpenJob),
		live: make(map[*chunk]struct{}),
		sum:  Summary{ErrorCodes: make(map[string]int64)},
	}
	r.journal = newStepJournal(cfg, r.syncSink)
	ctx = salesforce.WithSignals(ctx, func(s salesforce.Signal) { r.budget.observe(nil, s) })
	err = r.execute(ctx, src)
	r.sum.Duration = time.Since(start)
	return &r.sum, err
}

// run is the state of one Load call.
type run struct {
	l       *Loader
	cfg     *config
	dir     string
	api     API
	header  []string
	seed    uint64 // seeds the rows' join hash (rowHash)
	sink    Sink
	types   map[string]string // field name (lower case) -> describe type, when described
	check   *checker          // row checks of the preflight, when described
	tag     string            // distinguishes this Load call's made-up journal ids
	creates atomic.Int64      // numbers the job create requests' journal placeholders
	resume  *resumeState      // Options.Resume: what the interrupted run left
	journal stepJournal       // Options.Journal, or noJournal
	lost    []lostCreate      // create requests whose answers were lost (guarded by mu)
	ctrl    *controller       // adaptive concurrency, made by the first pass
	budget  *budget           // Options.MaxAPIShare, or nil

	// mu guards everything below it.
	mu       sync.Mutex
	sum      Summary
	done     rowSet // row numbers that have an outcome
	read     rowSet // row numbers read from the input
	sinkErr  error
	open     map[string]*OpenJob // job id -> job, while open or running
	input    *inputSource        // the caller's rows, for draining when the load stops early
	live     map[*chunk]struct{} // chunks whose rows may still lack an outcome
	retry    *spool              // rows to resubmit in the next pass
	nextTmp  int
	reported int64 // final outcomes reported in RowsDone events
}

// execute runs every pass and turns failures into the documented error types.
func (r *run) execute(ctx context.Context, src Source) error {
	header := src.Header()
	if err := r.checkHeader(src, header); err != nil {
		return err
	}
	r.header = header
	if r.sink != nil {
		if err := r.sink.Start(header); err != nil {
			return fmt.Errorf("load: sink: %w", err)
		}
	}
	if r.cfg.Resume && !r.cfg.DryRun {
		if err := r.prepareResume(ctx); err != nil {
			return err
		}
	}
	first := &inputSource{src: src, r: r}
	r.input = first
	api, in, err := r.chooseAPI(first)
	if err != nil {
		return r.fail(ctx, err)
	}
	r.api, r.sum.API = api, api
	in, err = r.preflight(ctx, in)
	if r.cfg.DryRun {
		return err
	}
	if err != nil {
		if _, ok := err.(*PreflightError); ok {
			return err
		}
		return r.fail(ctx, err)
	}
	if r.budget, err = r.newBudget(ctx); err != nil {
		return r.fail(ctx, err)
	}
	r.checkEstimate(in)
	var pass passSource = in
	if r.cfg.GroupBy != "" {
		pass, err = r.sorted(ctx, in)
		if err != nil {
			return r.fail(ctx, err)
		}
	}
	var inputErr error
	backoff := r.cfg.RetryBackoff
	for p := 0; ; p++ {
		r.retry = nil
		err := r.runPass(ctx, p, pass)
		var ie *InputError
		if errors.As(err, &ie) || isParseError(err) {
			inputErr, err = err, nil
		}
		if err != nil {
			return r.fail(ctx, err)
		}
		sp := r.retry
		if sp == nil || sp.n == 0 {
			break
		}
		if err := sp.finish(); err != nil {
			return r.fail(ctx, err)
		}
		r.progress(Event{Kind: RowsRetried, API: api, Rows: sp.n, Pass: p + 1, Wait: backoff})
		codes := make([]string, 0, len(sp.codes))
		for code := range sp.codes {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		for _, code := range codes {
			r.progress(Event{Kind: RowsRetriedCode, API: api, Rows: sp.codes[code], Pass: p + 1, Code: code, Wait: backoff})
		}
		r.cfg.Logger.Info("load: resubmitting retryable rows", "rows", sp.n, "pass", p+1, "after", backoff)
		if err := salesforce.Sleep(ctx, backoff); err != nil {
			r.retry = sp
			return r.fail(ctx, err)
		}
		backoff *= 2
		pass, err = sp.source()
		if err != nil {
			return r.fail(ctx, err)
		}
		if r.cfg.GroupBy != "" {
			if pass, err = r.sorted(ctx, pass); err != nil {
				return r.fail(ctx, err)
			}
		}
	}
	r.sweep(StatusNoResult, "Salesforce returned no result for this row")
	r.reportDone(api, "", "")
	if r.sinkErr != nil {
		return &Error{Err: fmt.Errorf("sink: %w", r.sinkErr)}
	}
	return inputErr
}

func isParseError(err error) bool {
	var pe *sfcsv.ParseError
	return errors.As(err, &pe)
}

// checkHeader rejects headers Salesforce would reject as a whole.
func (r *run) checkHeader(src Source, header []string) error {
	name := ""
	if cs, ok := src.(*csvSource); ok {
		if cs.err != nil {
			return cs.err
		}
		name = cs.name
	}
	if len(header) == 0 {
		return &InputError{File: name, Err: errors.New("empty header")}
	}
	seen := make(map[string]bool, len(header))
	for i, h := range header {
		k := strings.ToLower(h)
		if h == "" {
			return &InputError{File: name, Column: fmt.Sprint(i + 1), Err: errors.New("empty column name in header")}
		}
		if seen[k] {
			return &InputError{File: name, Column: h, Err: errors.New("duplicate column in header")}
		}
		seen[k] = true
	}
	if r.cfg.GroupBy != "" && !seen[strings.ToLower(r.cfg.GroupBy)] {
		return fmt.Errorf("load: Options.GroupBy: column %q is not in the header", r.cfg.GroupBy)
	}
	for _, f := range r.cfg.MatchBy {
		if !seen[strings.ToLower(f)] {
			return fmt.Errorf("load: Options.MatchBy: column %q is not in the header", f)
		}
	}
	if r.cfg.Operation == Delete || r.cfg.Operation == HardDelete || r.cfg.Operation == Update {
		if !seen["id"] {
			return &InputError{File: name, Column: "Id", Err: fmt.Errorf("%s needs an Id column", r.cfg.Operation)}
		}
	}
	return nil
}

// chooseAPI resolves API Auto by peeking at up to CollectionsThreshold+1 rows.
func (r *run) chooseAPI(in *inputSource) (API, passSource, error) {
	api := r.cfg.API
	if api != Auto {
		return api, in, nil
	}
	if r.cfg.CollectionsThreshold < 0 || r.l.coll == nil || r.cfg.Operation == HardDelete {
		return Bulk2, in, nil
	}
	var buf []prow
	for len(buf) <= r.cfg.CollectionsThreshold {
		p, err := in.next()
		if errors.Is(err, io.EOF) {
			return Collections, &sliceSource{rows: buf}, nil
		}
		if err != nil {
			// Load what was read, then report the input error.
			return Collections, &sliceSource{rows: buf, err: err}, nil
		}
		buf = append(buf, p)
	}
	return Bulk2, &sliceSource{rows: buf, rest: in}, nil
}

// fail aborts open jobs (unless asked not to), gives every row without an outcome a final one
// and wraps err in *Error (unless it already is one of the documented types).
func (r *run) fail(ctx context.Context, err error) error {
	var pf *PreflightError
	if errors.As(err, &pf) {
		return err
	}
	r.resolveOrphans(ctx)
	jobs := r.abortOpen(ctx)
	msg := "the load stopped before this row's outcome was known: " + err.Error()
	if r.cfg.LeaveJobsOpen && len(jobs) > 0 {
		msg = "the load stopped while this row's job was left open; check the job for its outcome"
	}
	r.flushRetries()
	r.sweep(StatusAborted, msg)
	var ie *InputError
	if !errors.As(err, &ie) && !isParseError(err) && !r.cfg.Settle { // settling sends nothing: no row to label unsent
		r.drain("not sent: the load stopped before this row was read: " + err.Error())
		r.sweep(StatusAborted, msg) // rows of jobs in flight that a resumed load read while draining
	}
	r.reportDone(r.api, "", "")
	var e *Error
	if errors.As(err, &e) {
		e.Jobs = append(e.Jobs, jobs...)
		return e
	}
	left := r.cfg.LeaveJobsOpen
	for _, j := range jobs {
		left = left || j.Left
	}
	return &Error{Err: err, Jobs: jobs, Left: left}
}

// drain reads the rest of the input after the load stopped early and gives
// every remaining row the outcome NotProcessed, so that every input row ends
// with exactly one outcome. Reading stops at the end of the input or at the
// first input error (the rows after a broken one cannot be trusted).
func (r *run) drain(msg string) {
	if r.input == nil {
		return
	}
	for {
		row, err := r.input.next()
		if err != nil {
			return
		}
		r.emit(&RowResult{Row: row.num, Outcome: NotProcessed, Values: row.vals, Batch: -1,
			Error: &RowError{StatusCode: StatusAborted, Message: msg}})
	}
}

// abortOpen settles every job the load abandons, so that none stays Open: a Bulk API 2.0 job
// still Open (nothing processed) is aborted and its chunk marked emptied; with a journal, a
// Bulk API 2.0 job already closed is left processing and a Bulk API 1.0 job is closed (its
// batches run on), so that a resumed load collects their results; without a journal they are
// aborted. With LeaveJobsOpen every job is only listed.
func (r *run) abortOpen(ctx context.Context) []OpenJob {
	r.mu.Lock()
	var jobs []OpenJob
	for _, j := range r.open {
		jobs = append(jobs, *j)
	}
	r.mu.Unlock()
	slicesSortJobs(jobs)
	if r.cfg.LeaveJobsOpen {
		for i := range jobs {
			jobs[i].Left = true
		}
		return jobs
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for i := range jobs {
		r.abandon(actx, &jobs[i])
	}
	return jobs
}

// abandon settles one job of a load that stops; see abortOpen. A job aborted before it
// processed any record (and with no batch still running) leaves its rows not processed.
func (r *run) abandon(ctx context.Context, j *OpenJob) {
	empty := j.API == Bulk2 && r.stillOpen(ctx, j)
	var st jobStatus
	var err error
	switch {
	case j.API == Bulk2 && !empty && r.journal.resumable():
		// Rows of this job may be processed: leave it for a resumed load to collect.
		j.Left, j.resumable = true, true
		return
	case j.API == Bulk1 && r.journal.resumable():
		st, err = r.setJobState(ctx, "close", func(ctx context.Context) (jobStatus, error) {
			job, err := r.l.bulk1.CloseJob(ctx, j.ID)
			if err != nil {
				return jobStatus{}, err
			}
			return jobStatus{job.State, false}, nil
		})
		j.resumable = true
	case j.API == Bulk2:
		st, err = r.setJobState(ctx, "abort", func(ctx context.Context) (jobStatus, error) {
			job, err := r.l.bulk2.AbortIngestJob(ctx, j.ID)
			if err != nil {
				return jobStatus{}, err
			}
			return jobStatus{job.State, job.NumberRecordsProcessed == 0}, nil
		})
	default:
		st, err = r.setJobState(ctx, "abort", func(ctx context.Context) (jobStatus, error) {
			job, err := r.l.bulk1.AbortJob(ctx, j.ID)
			if err != nil {
				return jobStatus{}, err
			}
			return jobStatus{job.State, job.NumberRecordsProcessed == 0 && job.NumberBatchesInProgress == 0}, nil
		})
	}
	if err != nil {
		j.AbortErr = err
		r.cfg.Logger.Warn("load: abort failed", "job", j.ID, "err", err)
		return
	}
	j.State = st.state
	r.progress(Event{Kind: JobState, API: j.API, JobID: j.ID, State: st.state})
	if empty || st.empty {
		r.markEmptied(j.ID)
		if jerr := r.journal.aborted(ctx, j.ID); jerr != nil {
			r.cfg.Logger.Warn("load: journal: abort not recorded", "job", j.ID, "err", jerr)
		}
	}
}

// jobStatus is a job's state after a close or abort, and whether it provably processed nothing.
type jobStatus struct {
	state string
	empty bool
}

// setJobState runs a close or abort with retries.
func (r *run) setJobState(ctx context.Context, what string, f func(context.Context) (jobStatus, error)) (jobStatus, error) {
	var st jobStatus
	err := r.retryStep(ctx, what+" job", func(ctx context.Context) error {
		var err error
		st, err = f(ctx)
		return err
	})
	return st, err
}

// stillOpen reports whether a Bulk API 2.0 job is still Open, so that aborting it leaves none
// of its rows processed.
func (r *run) stillOpen(ctx context.Context, j *OpenJob) bool {
	var job *salesforce.IngestJob
	err := r.retryStep(ctx, "get Bulk API 2.0 job", func(ctx context.Context) error {
		var err error
		job, err = r.l.bulk2.GetIngestJob(ctx, j.ID)
		return err
	})
	if err != nil {
		return false
	}
	j.State = job.State
	return job.State == salesforce.JobStateOpen
}

// markEmptied records that the chunks of job id were aborted before processing anything.
func (r *run) markEmptied(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.live {
		if c.jobID == id {
			c.emptied = true
		}
	}
}

// flushRetries delivers rows waiting in the retry spool as Failed with their last error.
func (r *run) flushRetries() {
	sp := r.retry
	r.retry = nil
	if sp == nil || sp.n == 0 {
		return
	}
	if err := sp.finish(); err != nil {
		return
	}
	src, err := sp.source()
	if err != nil {
		return
	}
	for {
		p, err := src.next()
		if err != nil {
			return
		}
		res := &RowResult{Row: p.num, Outcome: Failed, Error: p.lastErr, Values: p.vals, Batch: p.batch, Attempts: p.attempts}
		r.emit(res)
	}
}

// sweep gives every read row that still has no outcome a final one, with its values when its
// chunk still has them: Unknown when a request carrying it may have been applied (its chunk
// was sent and its job not aborted while Open), else NotProcessed with code and msg.
func (r *run) sweep(code, msg string) {
	r.mu.Lock()
	live := make([]*chunk, 0, len(r.live))
	for c := range r.live {
		live = append(live, c)
	}
	r.mu.Unlock()
	for _, c := range live {
		outcome, e := NotProcessed, &RowError{StatusCode: code, Message: msg}
		if c.sent && !c.emptied {
			outcome = Unknown
			e = &RowError{StatusCode: StatusOutcomeUnknown, Message: "sent, but the load stopped before this row's result was read (" + msg + "); see its job"}
		}
		c.forEach(r, func(i int, vals []string) {
			m := c.rows[i]
			r.emit(&RowResult{Row: m.num, Outcome: outcome, Values: vals, Batch: int(m.batch), Attempts: int(m.attempts),
				JobID: c.jobID, BatchID: c.batchID, Error: e})
		})
		r.dropChunk(c)
	}
	r.mu.Lock()
	missing := r.read.andNot(&r.done)
	r.mu.Unlock()
	for _, n := range missing {
		r.emit(&RowResult{Row: n, Outcome: NotProcessed, Batch: -1, Error: &RowError{StatusCode: code, Message: msg}})
	}
}

// emit records a final outcome. A row that already has one is ignored (and logged): every
// input row gets exactly one outcome.
func (r *run) emit(res *RowResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done.has(res.Row) {
		r.cfg.Logger.Error("load: second outcome for a row ignored", "row", res.Row, "outcome", res.Outcome.String())
		return
	}
	r.done.set(res.Row)
	s := &r.sum
	switch res.Outcome {
	case Succeeded:
		s.Succeeded++
		if res.Created {
			s.Created++
		}
	case Failed:
		s.Failed++
	case NotProcessed:
		s.NotProcessed++
	case Unknown:
		s.Unknown++
	}
	if res.Error != nil {
		s.ErrorCodes[res.Error.StatusCode]++
	}
	if r.sink != nil && r.sinkErr == nil {
		if err := r.sink.Write(res); err != nil {
			r.sinkErr = err
		}
	}
}

func (r *run) sinkFailed() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sinkErr != nil {
		return fmt.Errorf("sink: %w", r.sinkErr)
	}
	return nil
}

// reportDone sends a RowsDone event for the rows that reached a final outcome since the last
// report (Total is the running count).
func (r *run) reportDone(api API, jobID, batchID string) {
	if r.cfg.Progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	total := r.sum.Succeeded + r.sum.Failed + r.sum.NotProcessed + r.sum.Unknown
	if total == r.reported {
		return
	}
	e := Event{Kind: RowsDone, API: api, JobID: jobID, BatchID: batchID, Rows: total - r.reported, Total: total}
	r.reported = total
	r.cfg.Progress.Event(e)
}

func (r *run) progress(e Event) {
	if r.cfg.Progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cfg.Progress.Event(e)
}

// resolve decides what a row's attempt result means: a final outcome, or another attempt.
func (r *run) resolve(c *chunk, i int, res *RowResult) {
	c.markResolved(i)
	m := c.rows[i]
	res.Row, res.Batch, res.Attempts = m.num, int(m.batch), int(m.attempts)+1
	res.JobID, res.BatchID = c.jobID, c.batchID
	if m.resent {
		r.settle(res)
	}
	if res.Outcome == Succeeded && r.cfg.Operation == Insert {
		res.Created = true // a successful insert is a creation, whatever the API reports
	}
	if res.Outcome == Unknown {
		c.unknown++
	}
	if res.Outcome == Failed && res.Error != nil && lockContention(res.Error.StatusCode) {
		c.ticket.congestion(CauseLockContention)
	}
	if res.Outcome == Failed && res.Error != nil && r.cfg.retryCodes[res.Error.StatusCode] && c.pass < r.cfg.maxRetries {
		if err := r.requeue(res); err == nil {
			c.markRequeued(i)
			return
		}
	}
	r.emit(res)
}

// resolveJobFailure resubmits a row whose whole job failed when that is safe, else fails it.
func (r *run) resolveJobFailure(c *chunk, i int, vals []string, e *RowError, outcome Outcome) {
	c.markResolved(i)
	res := &RowResult{Outcome: outcome, Values: vals, Error: e}
	m := c.rows[i]
	res.Row, res.Batch, res.Attempts = m.num, int(m.batch), int(m.attempts)+1
	res.JobID, res.BatchID = c.jobID, c.batchID
	if r.cfg.Operation.idempotent() && !permanentJobFailure(e.Message) && !permanentJobFailure(e.StatusCode) && c.pass < r.cfg.maxRetries {
		if err := r.requeue(res); err == nil {
			c.markRequeued(i)
			return
		}
	}
	if res.Outcome == Unknown {
		c.unknown++
	}
	r.emit(res)
}

func (r *run) requeue(res *RowResult) error {
	path := r.tempPath("retry")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retry == nil {
		sp, err := newSpool(path, len(r.header))
		if err != nil {
			r.cfg.Logger.Warn("load: cannot spool retry rows", "err", err)
			return err
		}
		r.retry = sp
	}
	if err := r.retry.add(res); err != nil {
		return err
	}
	r.sum.Retried++
	return nil
}

func (r *run) tempPath(kind string) string {
	r.mu.Lock()
	r.nextTmp++
	n := r.nextTmp
	r.mu.Unlock()
	return filepath.Join(r.dir, fmt.Sprintf("%s-%06d.csv", kind, n))
}

func (r *run) addJob(j JobInfo) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Jobs = append(r.sum.Jobs, j)
	return len(r.sum.Jobs) - 1
}

func (r *run) updateJob(i int, f func(*JobInfo)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.sum.Jobs[i])
}

func (r *run) trackOpen(api API, id, state string) {
	r.mu.Lock()
	r.open[id] = &OpenJob{API: api, ID: id, State: state}
	r.mu.Unlock()
	r.progress(Event{Kind: JobState, API: api, JobID: id, State: state})
}

func (r *run) setState(api API, id, batch, state string) {
	r.mu.Lock()
	if j := r.open[id]; j != nil && batch == "" {
		j.State = state
	}
	r.mu.Unlock()
	r.progress(Event{Kind: JobState, API: api, JobID: id, BatchID: batch, State: state})
}

func (r *run) untrack(id string) {
	r.mu.Lock()
	delete(r.open, id)
	r.mu.Unlock()
}

func (r *run) dropChunk(c *chunk) {
	r.mu.Lock()
	delete(r.live, c)
	r.mu.Unlock()
	c.remove()
}

// waiterOptions returns the options of a job waiter with the load's poll intervals, calling
// onPoll after every poll.
func (r *run) waiterOptions(onPoll func(salesforce.JobProgress)) func(*salesforce.WaiterOptions) {
	return func(o *salesforce.WaiterOptions) {
		o.MinDelay, o.MaxDelay, o.OnPoll = r.cfg.MinPollInterval, r.cfg.MaxPollInterval, onPoll
	}
}

// rowHash returns the hash that joins a Bulk API 2.0 result record to its row (see join):
// XXH3-128, seeded by the run, of the row's values each followed by a zero byte, the bytes
// resultJoiner.gather hashes. 128 bits, so that two different rows of a job never share one
// (the join matches by hash alone; with 64 bits a 100,000-row job would mix up two rows'
// results once in a few billion jobs). It lives in memory only; the journal records none.
func (r *run) rowHash(vals []string) xxh3.Uint128 {
	var a [256]byte
	h, _ := appendRowHash(a[:0], r.seed, vals)
	return h
}

// appendRowHash is rowHash with a scratch buffer: it writes the hashed bytes to buf[:0] and
// returns the hash and the buffer, to be passed again for the next row.
func appendRowHash(buf []byte, seed uint64, vals []string) (xxh3.Uint128, []byte) {
	b := buf[:0]
	for _, v := range vals {
		b = append(b, v...)
		b = append(b, 0)
	}
	return xxh3.Hash128Seed(b, seed), b
}

// runner carries chunks to one API.
type runner interface {
	run(ctx context.Context, c *chunk) error
	finish(ctx context.Context, failed bool) error
}

func (r *run) newRunner(api API, pass int) (runner, error) {
	switch api {
	case Bulk2:
		if r.l.bulk2 == nil {
			return nil, errors.New("load: no Bulk API 2.0 client")
		}
		return &bulk2Runner{r: r}, nil
	case Bulk1:
		if r.l.bulk1 == nil {
			return nil, errors.New("load: no Bulk API 1.0 client")
		}
		serial := r.cfg.Serial || (pass > 0 && r.cfg.RetrySerial)
		return &bulk1Runner{r: r, pass: pass, serial: serial}, nil
	case Collections:
		if r.l.coll == nil {
			return nil, errors.New("load: no sObject Collections client")
		}
		return &collectionsRunner{r: r}, nil
	}
	return nil, fmt.Errorf("load: unknown API %v", api)
}

// logger returns the run's logger with job attributes.
func (r *run) logger(args ...any) *slog.Logger { return r.cfg.Logger.With(args...) }
