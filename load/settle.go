package load

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/sfbatch/sfbatch/salesforce"
)

// This file holds what Options.Settle (settle an interrupted or submitted run without sending
// anything) and Options.Submit (fill the jobs and return without waiting) add to a load.

// settleUnsent gives a row that is neither done nor in a job in flight, read while settling,
// the outcome NotProcessed: no request carrying it was recorded, so none was sent. A row whose
// final outcome the sink already holds (Options.Kept) keeps it.
func (r *run) settleUnsent(num int64, vals []string) {
	if r.resume.done.Contains(num) || (r.cfg.Kept != nil && r.cfg.Kept(num)) {
		return
	}
	r.mu.Lock()
	r.sum.Rows++
	r.mu.Unlock()
	r.emit(&RowResult{Row: num, Outcome: NotProcessed, Values: vals, Batch: -1,
		Error: &RowError{StatusCode: StatusAborted, Message: "not sent: the run stopped before this row was sent"}})
}

// stillRunning leaves the rows of c that have no outcome Unknown because their job (or
// batch) has not finished at Salesforce, or was never closed, and lists it in
// Summary.Running.
func (r *run) stillRunning(c *chunk, id, state string) {
	msg := "job " + id + " is " + state + " at Salesforce: its results are not ready yet; settle again later"
	if state == salesforce.JobStateOpen {
		msg = "job " + id + " received its rows but was never closed: Salesforce processes nothing until a resumed load (--resume) closes it"
	}
	c.forEach(r, func(i int, vals []string) {
		r.resolve(c, i, &RowResult{Outcome: Unknown, Values: vals, Error: &RowError{StatusCode: StatusOutcomeUnknown, Message: msg}})
	})
	r.untrack(c.jobID)
	r.mu.Lock()
	r.sum.Running = append(r.sum.Running, id)
	r.mu.Unlock()
}

// settle reads a Bulk API 2.0 job of the interrupted run: a finished job's results are
// joined to its rows; a job still processing, or never closed, leaves them Unknown. Nothing
// is sent, closed or aborted.
func (b *bulk2Runner) settle(ctx context.Context, c *chunk) error {
	r := b.r
	if r.l.bulk2 == nil {
		return errors.New("load: no Bulk API 2.0 client")
	}
	job, err := b.get(ctx, c.jobID)
	if err != nil {
		return fmt.Errorf("read Bulk API 2.0 job %s: %w", c.jobID, err)
	}
	c.job = r.addJob(JobInfo{API: Bulk2, JobID: c.jobID, Batch: -1, Pass: c.pass, Rows: len(c.rows), Bytes: c.bytes, State: job.State})
	switch job.State {
	case salesforce.JobStateJobComplete, salesforce.JobStateFailed, salesforce.JobStateAborted:
		r.cfg.Logger.Info("load: settle: collecting the results of a job of the run", "job", c.jobID, "rows", len(c.rows))
		return b.collect(ctx, c, job)
	}
	r.stillRunning(c, c.jobID, job.State)
	return nil
}

// settle reads a Bulk API 1.0 batch of the interrupted run: a finished batch's results are
// joined to its rows; a batch still queued or processing leaves them Unknown.
func (b *bulk1Runner) settle(ctx context.Context, c *chunk) error {
	r, api := b.r, b.r.l.bulk1
	if api == nil {
		return errors.New("load: no Bulk API 1.0 client")
	}
	var batch *salesforce.Batch
	err := r.retryStep(ctx, "get batch", func(ctx context.Context) error {
		var err error
		batch, err = api.GetBatch(ctx, c.jobID, c.batchID)
		return err
	})
	if err != nil {
		return fmt.Errorf("read batch %s of Bulk API 1.0 job %s: %w", c.batchID, c.jobID, err)
	}
	c.job = r.addJob(JobInfo{API: Bulk1, JobID: c.jobID, BatchID: c.batchID, Batch: -1, Pass: c.pass, Rows: len(c.rows), Bytes: c.bytes, State: batch.State})
	if !batch.Terminal() {
		r.stillRunning(c, c.jobID+"/"+c.batchID, batch.State)
		return nil
	}
	return b.collect(ctx, c, batch)
}

// submitted records that chunk c's job (Bulk API 1.0: batch) was filled and left for
// Salesforce to process (Options.Submit): its rows get no outcome here (the journal keeps
// the job in flight for a resumed or settling load) and count as done for this call.
func (r *run) submitted(c *chunk, id, state string) {
	c.leave = true
	r.updateJob(c.job, func(j *JobInfo) { j.State = state })
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range c.rows {
		r.done.set(m.num)
	}
	r.sum.Submitted += int64(len(c.rows))
	r.sum.Running = append(r.sum.Running, id)
}

// Held reads the part files an interrupted load left in the sink's directory (see
// ResumeCSVSinks) and returns whether they hold a final outcome, not Unknown, for a row: the
// Options.Kept of a settling load. Call it before the load writes to s.
func (s *CSVFiles) Held() (func(row int64) bool, error) {
	s.mu.Lock()
	runs := slices.Clone(s.runs)
	s.mu.Unlock()
	var set rowSet
	err := mergeParts(runs, func(row int64, rec []string) error {
		if oc, _ := strconv.Atoi(rec[0]); Outcome(oc) != Unknown {
			set.set(row)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load: CSVFiles: %w", err)
	}
	return set.has, nil
}
