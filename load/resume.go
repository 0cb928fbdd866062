package load

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// ErrRunFinished is returned (wrapped) when Options.Resume names a run that already completed.
var ErrRunFinished = errors.New("load: the run already completed; nothing to resume")

// resumeState is what Options.Resume learned from the journal: rows to skip and the rows of
// jobs in flight, which are re-read from the input to join their results.
type resumeState struct {
	// pendingJobs holds, per Bulk API 1.0 job with a batch that was being added when the load
	// was interrupted, a runner whose claimed batches are those the journal knows, so that
	// each such batch is found by its content (findBatch) and claimed once.
	pendingJobs map[string]*bulk1Runner
	done        jobstore.Ranges
	slots       map[int64]resumeSlot // row -> its job and position, for rows of jobs in flight
	jobs        []*resumeJob
	ready       []*resumeJob // jobs whose rows have all been read (guarded by run.mu)
	bulk1       []string     // Bulk API 1.0 jobs of the interrupted load, closed once their batches are in
}

type resumeSlot struct{ job, pos int32 }

// resumeJob is a job (or batch, or collections call) of the interrupted load whose results were
// not fetched.
type resumeJob struct {
	rec     jobstore.JobRecord
	nums    []int64    // row numbers in upload order
	vals    [][]string // their values, as they are read
	got     int
	unknown bool // an interrupted collections insert: the outcome cannot be learned
}

// prepareResume reads the journal of the interrupted run: which rows are done, which jobs are
// in flight. Bulk API 2.0 jobs that were created but never received data are aborted (they
// have no effect), and their rows are sent again.
func (r *run) prepareResume(ctx context.Context) error {
	j, id := r.cfg.Journal, r.cfg.RunID
	run, err := j.GetRun(ctx, id)
	if err != nil {
		return fmt.Errorf("load: resume run %s: %w", id, err)
	}
	if run.State == jobstore.RunCompleted {
		return fmt.Errorf("%w (run %s)", ErrRunFinished, id)
	}
	if !strings.EqualFold(run.Object, r.cfg.Object) || !strings.EqualFold(run.Operation, string(r.cfg.Operation)) {
		return fmt.Errorf("load: resume run %s: it loaded %s with %s, not %s with %s", id, run.Object, run.Operation, r.cfg.Object, r.cfg.Operation)
	}
	jobs, err := j.Jobs(ctx, id)
	if err != nil {
		return fmt.Errorf("load: resume run %s: %w", id, err)
	}
	done, err := j.DoneRanges(ctx, id)
	if err != nil {
		return fmt.Errorf("load: resume run %s: %w", id, err)
	}
	rs := &resumeState{done: done, slots: make(map[int64]resumeSlot)}
	jobs, intents := splitIntents(jobs)
	if r.cfg.API == Auto && len(jobs) > 0 {
		r.cfg.API = apiOfJournal(jobs[0].API) // keep the API the interrupted load chose
	}
	if !r.cfg.Settle { // settling aborts nothing
		if err := r.resumeOrphans(ctx, run, jobs, intents); err != nil {
			return err
		}
	}
	seenBulk1 := map[string]bool{}
	if err := r.resolvePending(ctx, jobs); err != nil {
		return err
	}
	for _, rec := range jobs {
		if rec.API == jobstore.APIBulk1 && !seenBulk1[rec.JobID] {
			// Closed once its batches are in, even when none of them is left in flight: the
			// load may have been killed between batches, its job still Open.
			seenBulk1[rec.JobID] = true
			rs.bulk1 = append(rs.bulk1, rec.JobID)
		}
		if rec.State.Final() {
			continue
		}
		unknown := false
		if rec.API == jobstore.APIBulk1 && strings.HasPrefix(rec.BatchID, pendingPrefix) {
			if rec.State == jobstore.JobAborted { // resolvePending decided: send again
				continue
			}
			unknown = true
		}
		switch rec.API {
		case jobstore.APIBulk2:
			if rec.State == jobstore.JobCreated && !r.cfg.Settle {
				// The job never received data: it can have no effect. Abort it; its rows go again.
				if r.l.bulk2 != nil {
					if _, err := r.l.bulk2.AbortIngestJob(ctx, rec.JobID); err != nil {
						r.cfg.Logger.Warn("load: resume: abort of an empty job failed", "job", rec.JobID, "err", err)
					}
				}
				if err := j.UpdateJobState(ctx, id, rec.JobID, jobstore.JobAborted); err != nil {
					return fmt.Errorf("load: resume run %s: %w", id, err)
				}
				continue
			}
		case jobstore.APICollections:
			if r.cfg.Operation.idempotent() && !r.cfg.Settle {
				if err := j.UpdateBatchState(ctx, id, rec.JobID, rec.BatchID, jobstore.JobAborted, "interrupted; rows sent again"); err != nil {
					return fmt.Errorf("load: resume run %s: %w", id, err)
				}
				continue
			}
			unknown = true
		}
		if unknown && rec.API == jobstore.APIBulk1 && rs.pendingJobs[rec.JobID] == nil {
			b := &bulk1Runner{r: r, pass: rec.Pass, jobID: rec.JobID, added: map[string]bool{}}
			for _, k := range jobs {
				if k.JobID == rec.JobID && !strings.HasPrefix(k.BatchID, pendingPrefix) {
					b.added[k.BatchID] = true
				}
			}
			if rs.pendingJobs == nil {
				rs.pendingJobs = map[string]*bulk1Runner{}
			}
			rs.pendingJobs[rec.JobID] = b
		}
		rj := &resumeJob{rec: rec, unknown: unknown}
		seq := rec.Rows
		if seq == nil {
			seq = []jobstore.Range{{First: rec.FirstRow, Last: rec.LastRow}}
		}
		k := int32(len(rs.jobs))
		for _, rg := range seq {
			for n := rg.First; n <= rg.Last; n++ {
				rs.slots[n] = resumeSlot{job: k, pos: int32(len(rj.nums))}
				rj.nums = append(rj.nums, n)
			}
		}
		rj.vals = make([][]string, len(rj.nums))
		rs.jobs = append(rs.jobs, rj)
	}
	r.resume = rs
	r.cfg.Logger.Info("load: resuming", "run", id, "rows_done", done.Rows(), "jobs_in_flight", len(rs.jobs))
	return nil
}

// resumeOrphanSlack is how long after the interrupted run's last journal write a job it was
// creating may have been created.
const resumeOrphanSlack = time.Minute

// splitIntents separates the placeholders of job create requests (creatingPrefix) from the
// journal's jobs.
func splitIntents(all []jobstore.JobRecord) (jobs, intents []jobstore.JobRecord) {
	for _, rec := range all {
		if strings.HasPrefix(rec.JobID, creatingPrefix) {
			intents = append(intents, rec)
		} else {
			jobs = append(jobs, rec)
		}
	}
	return jobs, intents
}

// resumeOrphans finds the jobs the interrupted run created but never recorded (it died
// between a create request and the journal write): Open jobs of the run's type, object and
// operation, created while the run was alive by the user the load runs as (when the login
// says who that is) and not in its journal. Such a job received no
// data the run recorded, and an Open Bulk API 2.0 job, or an Open Bulk API 1.0 job without
// batches, processes nothing: they are aborted when there are no more of them than create
// requests the run left unanswered (placeholders still open in intents; both Bulk APIs
// record them); a journal without placeholders (written before they were recorded) allows
// one. More cannot be told apart from other clients'
// jobs and are left alone, their ids in Summary.UnclaimedJobs. The unanswered placeholders
// are then closed.
func (r *run) resumeOrphans(ctx context.Context, run jobstore.Run, jobs, intents []jobstore.JobRecord) error {
	claim := 1
	var open []jobstore.JobRecord
	if len(intents) > 0 {
		for _, rec := range intents {
			if !rec.State.Final() {
				open = append(open, rec)
			}
		}
		claim = len(open)
	}
	r.claimOrphans(ctx, run, append(jobs, intents...), claim)
	for _, rec := range open {
		if err := r.cfg.Journal.UpdateJobState(ctx, r.cfg.RunID, rec.JobID, jobstore.JobAborted); err != nil {
			return fmt.Errorf("load: resume run %s: %w", r.cfg.RunID, err)
		}
	}
	return nil
}

// claimOrphans aborts the unrecorded Open jobs of the interrupted run (see resumeOrphans)
// when there are at most claim of them, and returns the ids of those it aborted.
func (r *run) claimOrphans(ctx context.Context, run jobstore.Run, jobs []jobstore.JobRecord, claim int) (aborted []string) {
	lister, ok := r.l.bulk2.(ingestJobLister)
	if !ok || r.l.bulk2 == nil || claim == 0 {
		return nil
	}
	jobType := map[API]string{Bulk2: "V2Ingest", Bulk1: "Classic"}[r.cfg.API]
	if jobType == "" {
		return nil
	}
	known := map[string]bool{}
	last := run.CreatedAt
	for _, rec := range jobs {
		known[rec.JobID] = true
		if rec.UpdatedAt.After(last) {
			last = rec.UpdatedAt
		}
	}
	from, to := run.CreatedAt.Add(-orphanWindowSlack), last.Add(resumeOrphanSlack)
	me := r.runAs(ctx)
	var found []string
	for j, err := range lister.ListIngestJobs(ctx) {
		if err != nil {
			r.cfg.Logger.Warn("load: resume: cannot list jobs to find those the interrupted run did not record", "err", err)
			return nil
		}
		if j.State != salesforce.JobStateOpen || known[j.ID] || (j.JobType != "" && j.JobType != jobType) || !r.mine(j, me) ||
			!strings.EqualFold(j.Object, r.cfg.Object) || j.Operation != string(r.cfg.Operation) {
			continue
		}
		created, err := time.Parse("2006-01-02T15:04:05.000-0700", j.CreatedDate)
		if err != nil || created.Before(from) || created.After(to) {
			continue
		}
		found = append(found, j.ID)
	}
	if len(found) > claim {
		for _, id := range found {
			r.unclaimed(id)
		}
		return nil
	}
	for _, id := range found {
		var err error
		if jobType == "Classic" {
			_, err = r.l.bulk1.AbortJob(ctx, id)
		} else {
			_, err = r.l.bulk2.AbortIngestJob(ctx, id)
		}
		if err != nil {
			r.cfg.Logger.Warn("load: resume: could not abort a job the interrupted run created", "job", id, "err", err)
			r.unclaimed(id)
			continue
		}
		r.cfg.Logger.Info("load: resume: aborted an empty job the interrupted run created but did not record", "job", id)
		aborted = append(aborted, id)
	}
	return aborted
}

// resolvePending settles Bulk API 1.0 batches recorded under a placeholder id: the load was
// interrupted while adding them, so a batch may or may not exist for their rows. The job's
// batches are listed: when none is unknown to the journal, the rows go again; when exactly one
// is unknown and one placeholder is pending, they are the same batch and its results are
// collected; otherwise update, upsert and delete send the rows again and an insert gives them
// an unknown outcome (jobs[i].State is updated in place to say which).
func (r *run) resolvePending(ctx context.Context, jobs []jobstore.JobRecord) error {
	j, id := r.cfg.Journal, r.cfg.RunID
	known := map[string]map[string]bool{}
	pending := map[string][]int{}
	for i, rec := range jobs {
		if rec.API != jobstore.APIBulk1 {
			continue
		}
		if known[rec.JobID] == nil {
			known[rec.JobID] = map[string]bool{}
		}
		if strings.HasPrefix(rec.BatchID, pendingPrefix) {
			if !rec.State.Final() {
				pending[rec.JobID] = append(pending[rec.JobID], i)
			}
			continue
		}
		known[rec.JobID][rec.BatchID] = true
	}
	for jobID, idx := range pending {
		if r.l.bulk1 == nil {
			return errors.New("load: no Bulk API 1.0 client")
		}
		batches, err := r.l.bulk1.ListBatches(ctx, jobID)
		if err != nil {
			return fmt.Errorf("load: resume: list the batches of Bulk API 1.0 job %s: %w", jobID, err)
		}
		var unknown []string
		for _, b := range batches {
			if !known[jobID][b.ID] {
				unknown = append(unknown, b.ID)
			}
		}
		switch {
		case len(unknown) == 1 && len(idx) == 1:
			rec := &jobs[idx[0]]
			if err := j.SetBatchID(ctx, id, jobID, rec.BatchID, unknown[0], jobstore.JobUploaded); err != nil {
				return fmt.Errorf("load: resume run %s: %w", id, err)
			}
			rec.BatchID, rec.State = unknown[0], jobstore.JobUploaded
		case len(unknown) == 0 || (r.cfg.Operation.idempotent() && !r.cfg.Settle):
			for _, i := range idx {
				rec := &jobs[i]
				if err := j.UpdateBatchState(ctx, id, jobID, rec.BatchID, jobstore.JobAborted, "interrupted while being added; rows sent again"); err != nil {
					return fmt.Errorf("load: resume run %s: %w", id, err)
				}
				rec.State = jobstore.JobAborted
			}
		default:
			r.cfg.Logger.Warn("load: resume: batches added while the load was interrupted cannot be told apart; their rows get an unknown outcome",
				"job", jobID, "batches", unknown)
		}
	}
	return nil
}

// capture takes a row read from the input on resume: true when the row is done (skip it) or
// belongs to a job in flight (kept for that job).
func (rs *resumeState) capture(r *run, num int64, vals []string) (skip, kept bool) {
	if rs.done.Contains(num) {
		return true, false
	}
	sl, ok := rs.slots[num]
	if !ok {
		if r.cfg.Settle {
			r.settleUnsent(num, vals)
			return true, false
		}
		return false, false
	}
	delete(rs.slots, num)
	if r.cfg.Nulls == NullsWrite {
		for i, v := range vals {
			if v == "" {
				vals[i] = sfcsv.NullValue
			}
		}
	}
	rj := rs.jobs[sl.job]
	rj.vals[sl.pos] = vals
	rj.got++
	if rj.got == len(rj.nums) {
		r.mu.Lock()
		rs.ready = append(rs.ready, rj)
		r.mu.Unlock()
	}
	return false, true
}

// takeReady returns the jobs in flight whose rows have all been read.
func (r *run) takeReady() []*resumeJob {
	if r.resume == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.resume.ready
	r.resume.ready = nil
	return out
}

// missingResumed reports a job in flight whose rows the input did not have.
func (r *run) missingResumed() error {
	if r.resume == nil {
		return nil
	}
	for _, rj := range r.resume.jobs {
		if rj.got < len(rj.nums) {
			return fmt.Errorf("load: resume: the input lacks %d of the %d rows of job %s (rows %d-%d): it is not the input of the interrupted run",
				len(rj.nums)-rj.got, len(rj.nums), rj.rec.JobID, rj.rec.FirstRow, rj.rec.LastRow)
		}
	}
	return nil
}

// finishResumed closes the Bulk API 1.0 jobs of the interrupted load once their batches are in.
func (r *run) finishResumed(ctx context.Context) {
	if r.resume == nil || r.l.bulk1 == nil || r.cfg.Settle {
		return
	}
	for _, id := range r.resume.bulk1 {
		if _, err := r.l.bulk1.CloseJob(ctx, id); err != nil {
			r.cfg.Logger.Debug("load: resume: closing an earlier Bulk API 1.0 job", "job", id, "err", err)
		}
	}
	r.resume.bulk1 = nil
}

// runResumed finishes one job of the interrupted load: it waits for the job, fetches its
// results and joins them to the job's rows as re-read from the input.
func (r *run) runResumed(ctx context.Context, rj *resumeJob) error {
	rec := rj.rec
	c := &chunk{api: apiOfJournal(rec.API), pass: rec.Pass, index: -1, jobID: rec.JobID, batchID: rec.BatchID, journaled: true}
	if c.api == Collections {
		c.jobID, c.resumedID = "", rec.JobID
	}
	pendingBulk1 := rj.unknown && c.api == Bulk1 && r.resume.pendingJobs[rec.JobID] != nil && r.l.bulk1 != nil
	if rj.unknown && !pendingBulk1 {
		c.api = Collections // rows kept in memory; nothing is sent
	}
	for i, n := range rj.nums {
		m := rowMeta{num: n, batch: -1, attempts: int16(rec.Pass)}
		if c.api == Bulk2 {
			m.hash = r.rowHash(rj.vals[i])
		}
		c.rows = append(c.rows, m)
	}
	if c.api == Collections {
		c.vals = rj.vals
	} else if err := r.writeChunk(c, rj.vals); err != nil {
		return err
	}
	rj.vals = nil
	c.sent = true // the interrupted load sent it: rows left without an outcome are Unknown
	r.mu.Lock()
	r.live[c] = struct{}{}
	r.mu.Unlock()
	var err error
	if pendingBulk1 {
		if done, ferr := r.findPending(ctx, c, rj); ferr != nil {
			return ferr
		} else if done {
			return r.finishChunk(ctx, c)
		}
	}
	switch {
	case rj.unknown:
		if apiOfJournal(rec.API) == Collections || strings.HasPrefix(rec.BatchID, pendingPrefix) {
			why := "sent while the load was interrupted (" + rec.JobID + ")"
			r.lookupInserted(ctx, c, why, !r.cfg.Settle)
			r.matchInserted(ctx, c, why, !r.cfg.Settle)
		}
		c.forEach(r, func(i int, vals []string) {
			r.resolve(c, i, &RowResult{Outcome: Unknown, Values: vals, Error: &RowError{StatusCode: StatusOutcomeUnknown,
				Message: "sent while the load was interrupted (" + rec.JobID + "); whether it was saved is unknown"}})
		})
	case c.api == Bulk2 && r.cfg.Settle:
		err = (&bulk2Runner{r: r}).settle(ctx, c)
	case c.api == Bulk1 && r.cfg.Settle:
		err = (&bulk1Runner{r: r, pass: c.pass}).settle(ctx, c)
	case c.api == Bulk2:
		err = (&bulk2Runner{r: r}).resume(ctx, c)
	case c.api == Bulk1:
		err = (&bulk1Runner{r: r, pass: c.pass}).resume(ctx, c)
	}
	if err != nil {
		return err
	}
	return r.finishChunk(ctx, c)
}

// findPending looks for the batch an interrupted load was adding for chunk c (recorded under a
// placeholder id) among its job's batches, by content. Found, the batch is renamed in the
// journal and its results collected; not found, it was never added and c's rows are sent
// again. done reports that c's rows all have their attempt's outcome; on false (the batches
// could not be read) the caller treats them as unknown.
func (r *run) findPending(ctx context.Context, c *chunk, rj *resumeJob) (done bool, err error) {
	b := r.resume.pendingJobs[rj.rec.JobID]
	found, err := b.findBatch(ctx, c)
	if err != nil {
		r.cfg.Logger.Warn("load: resume: cannot look for a batch that was being added", "job", c.jobID, "err", err)
		return false, nil
	}
	if found == nil {
		// Never added: the rows go again. Settling records nothing, so that a resumed load
		// still sends them.
		if r.cfg.Settle {
			c.leave = true
		} else if err := r.cfg.Journal.UpdateBatchState(ctx, r.cfg.RunID, c.jobID, c.batchID, jobstore.JobAborted, "interrupted before it was added; rows sent again"); err != nil {
			return false, fmt.Errorf("load: resume run %s: %w", r.cfg.RunID, err)
		}
		c.journaled = c.leave
		c.forEach(r, func(i int, vals []string) {
			c.markResolved(i)
			m := c.rows[i]
			res := &RowResult{Row: m.num, Outcome: NotProcessed, Values: vals, Batch: -1, Attempts: int(m.attempts),
				Error: &RowError{StatusCode: StatusAborted, Message: "its batch was never added; sent again"}}
			if r.cfg.Settle {
				res.Error.Message = "its batch was never added: it was not sent"
			} else if rerr := r.requeue(res); rerr == nil {
				c.markRequeued(i)
				return
			}
			r.emit(res)
		})
		return true, nil
	}
	if err := r.cfg.Journal.SetBatchID(ctx, r.cfg.RunID, c.jobID, c.batchID, found.ID, jobstore.JobUploaded); err != nil {
		return false, fmt.Errorf("load: resume run %s: %w", r.cfg.RunID, err)
	}
	r.cfg.Logger.Info("load: resume: found the batch that was being added by its content", "job", c.jobID, "batch", found.ID)
	c.batchID = found.ID
	c.job = r.addJob(JobInfo{API: Bulk1, JobID: c.jobID, BatchID: found.ID, Batch: -1, Pass: c.pass, Rows: len(c.rows), Bytes: c.bytes, State: found.State})
	if r.cfg.Settle && !found.Terminal() {
		r.stillRunning(c, c.jobID+"/"+found.ID, found.State)
		return true, nil
	}
	return true, b.collect(ctx, c, found)
}

// writeChunk writes a resumed chunk's rows to its upload file, in upload order.
func (r *run) writeChunk(c *chunk, vals [][]string) error {
	c.path = r.tempPath(fmt.Sprintf("resume-%s", c.jobID+c.batchID))
	f, err := os.Create(c.path)
	if err != nil {
		return fmt.Errorf("load: chunk file: %w", err)
	}
	enc := newEncoder(r.cfg)
	w := f
	b, _, err := enc.encode(r.header)
	if err == nil {
		_, err = w.Write(b)
	}
	for _, v := range vals {
		if err != nil {
			break
		}
		var size sfcsv.RowSize
		if b, size, err = enc.encode(v); err == nil {
			_, err = w.Write(b)
			c.bytes += int64(size.Bytes)
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("load: chunk file: %w", err)
	}
	return nil
}

// resume finishes a Bulk API 2.0 job of the interrupted load: closes it when its data was
// uploaded but it was never closed, then waits for it and joins its results.
func (b *bulk2Runner) resume(ctx context.Context, c *chunk) error {
	r, api := b.r, b.r.l.bulk2
	if api == nil {
		return errors.New("load: no Bulk API 2.0 client")
	}
	id := c.jobID
	job, err := api.GetIngestJob(ctx, id)
	if err != nil {
		return fmt.Errorf("resume Bulk API 2.0 job %s: %w", id, err)
	}
	r.trackOpen(Bulk2, id, job.State)
	c.job = r.addJob(JobInfo{API: Bulk2, JobID: id, Batch: -1, Pass: c.pass, Rows: len(c.rows), Bytes: c.bytes, State: job.State})
	if job.State == salesforce.JobStateOpen {
		// The journal says the upload completed: closing the job lets Salesforce process it.
		// A close the interrupted process had in flight may land after the read above; close
		// reads the job again when Salesforce says it is no longer Open.
		if job, err = b.close(ctx, id); err != nil {
			return err
		}
		if err := r.journal.recordStep(ctx, c, jobstore.JobClosed, ""); err != nil {
			return err
		}
	}
	r.cfg.Logger.Info("load: resume: collecting the results of a job of the interrupted load", "job", id, "rows", len(c.rows))
	return b.collect(ctx, c, job)
}

// resume finishes a Bulk API 1.0 batch of the interrupted load: Salesforce processes a batch
// as soon as it is added, so it waits for it and joins its results.
func (b *bulk1Runner) resume(ctx context.Context, c *chunk) error {
	r, api := b.r, b.r.l.bulk1
	if api == nil {
		return errors.New("load: no Bulk API 1.0 client")
	}
	batch, err := api.GetBatch(ctx, c.jobID, c.batchID)
	if err != nil {
		return fmt.Errorf("resume batch %s of Bulk API 1.0 job %s: %w", c.batchID, c.jobID, err)
	}
	c.job = r.addJob(JobInfo{API: Bulk1, JobID: c.jobID, BatchID: c.batchID, Batch: -1, Pass: c.pass, Rows: len(c.rows), Bytes: c.bytes, State: batch.State})
	r.cfg.Logger.Info("load: resume: collecting the results of a batch of the interrupted load", "job", c.jobID, "batch", c.batchID, "rows", len(c.rows))
	return b.collect(ctx, c, batch)
}
