package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// bulk1API is the part of *salesforce.Bulk1Service the engine uses.
type bulk1API interface {
	CreateJob(ctx context.Context, req salesforce.JobRequest) (*salesforce.Job, error)
	CloseJob(ctx context.Context, jobID string) (*salesforce.Job, error)
	AbortJob(ctx context.Context, jobID string) (*salesforce.Job, error)
	AddBatch(ctx context.Context, jobID, contentType string, data salesforce.Body) (*salesforce.Batch, error)
	GetBatch(ctx context.Context, jobID, batchID string) (*salesforce.Batch, error)
	BatchResults(ctx context.Context, jobID, batchID string) (io.ReadCloser, error)
	ListBatches(ctx context.Context, jobID string) ([]*salesforce.Batch, error)
}

// bulk1Runner runs one Bulk API 1.0 job per pass and each chunk as one batch of it.
type bulk1Runner struct {
	r      *run
	pass   int
	serial bool

	mu    sync.Mutex
	jobID string
}

// job creates the pass's job on first use.
func (b *bulk1Runner) job(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.jobID != "" {
		return b.jobID, nil
	}
	cfg := b.r.cfg
	mode := "Parallel"
	if b.serial {
		mode = "Serial"
	}
	job, err := b.r.l.bulk1.CreateJob(ctx, salesforce.JobRequest{
		Object:              cfg.Object,
		Operation:           string(cfg.Operation),
		ExternalIDFieldName: cfg.ExternalIDField,
		ContentType:         "CSV",
		ConcurrencyMode:     mode,
		AssignmentRuleID:    cfg.AssignmentRuleID,
	})
	if err != nil {
		return "", fmt.Errorf("create Bulk API 1.0 %s job on %s: %w", cfg.Operation, cfg.Object, err)
	}
	b.jobID = job.ID
	b.r.trackOpen(Bulk1, job.ID, job.State)
	b.r.cfg.Logger.Debug("load: Bulk API 1.0 job created", "job", job.ID, "mode", mode, "pass", b.pass)
	return job.ID, nil
}

// finish closes the job once every batch is done. After a failure the job stays listed as
// open, so the load's error handling aborts it.
func (b *bulk1Runner) finish(ctx context.Context, failed bool) error {
	b.mu.Lock()
	id := b.jobID
	b.mu.Unlock()
	if id == "" || failed || ctx.Err() != nil {
		return nil
	}
	job, err := b.r.l.bulk1.CloseJob(ctx, id)
	if err != nil {
		return fmt.Errorf("close Bulk API 1.0 job %s: %w", id, err)
	}
	b.r.untrack(id)
	b.r.setState(Bulk1, id, "", job.State)
	return nil
}

func (b *bulk1Runner) run(ctx context.Context, c *chunk) error {
	r, api := b.r, b.r.l.bulk1
	jobID, err := b.job(ctx)
	if err != nil {
		return err
	}
	c.jobID = jobID
	// Salesforce processes a batch as soon as it is added: record it first, under a
	// placeholder id, so that a resumed load knows a batch may exist for these rows.
	pending := fmt.Sprintf("%s%s-p%d-%d", pendingPrefix, r.tag, c.pass, c.index)
	c.batchID = pending
	if err := r.journal.recordStep(ctx, c, jobstore.JobCreated, ""); err != nil {
		return err
	}
	batch, err := api.AddBatch(ctx, jobID, "CSV", salesforce.FileBody(c.path))
	if err != nil {
		return fmt.Errorf("add batch to Bulk API 1.0 job %s: %w", jobID, err)
	}
	bid := batch.ID
	c.batchID = bid
	if err := r.journal.batchAdded(ctx, c, pending); err != nil {
		return err
	}
	c.job = r.addJob(JobInfo{API: Bulk1, JobID: jobID, BatchID: bid, Batch: c.index, Pass: c.pass, Rows: len(c.rows), Bytes: c.bytes, State: batch.State})
	r.progress(Event{Kind: BytesUploaded, API: Bulk1, JobID: jobID, BatchID: bid, Bytes: c.bytes})
	return b.collect(ctx, c, batch)
}

// collect waits for an added batch to finish and joins its results to the chunk's rows.
func (b *bulk1Runner) collect(ctx context.Context, c *chunk, batch *salesforce.Batch) error {
	r, api := b.r, b.r.l.bulk1
	jobID, bid := c.jobID, c.batchID
	r.setState(Bulk1, jobID, bid, batch.State)
	state := batch.State
	if !batch.Terminal() {
		var err error
		batch, err = salesforce.NewBatchWaiter(api, jobID, bid, r.waiterOptions(func(p salesforce.JobProgress) {
			if p.State != state {
				state = p.State
				r.setState(Bulk1, jobID, bid, state)
			}
		})).Wait(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			return fmt.Errorf("poll batch %s of Bulk API 1.0 job %s: %w", bid, jobID, err)
		}
	}
	r.updateJob(c.job, func(j *JobInfo) { j.State, j.Message = batch.State, batch.StateMessage })
	switch batch.State {
	case salesforce.BatchStateCompleted:
		if err := b.results(ctx, c); err != nil {
			return err
		}
	case salesforce.BatchStateFailed:
		e := parseStateMessage(batch.StateMessage)
		if batch.StateMessage == "" {
			e = &RowError{StatusCode: StatusJobFailed, Message: "batch " + bid + " failed"}
		}
		// A batch that failed part way (for example after too many processing attempts) may
		// have results for the rows it processed; use them when there are any.
		if err := b.results(ctx, c); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.cfg.Logger.Debug("load: no results for a failed batch", "job", jobID, "batch", bid, "err", err)
		}
		permanent := permanentJobFailure(batch.StateMessage)
		c.forEach(r, func(i int, vals []string) {
			if permanent || r.cfg.Operation.idempotent() {
				r.resolveJobFailure(c, i, vals, e, Failed)
				return
			}
			r.resolve(c, i, &RowResult{Outcome: NotProcessed, Values: vals, Error: &RowError{StatusCode: StatusNoResult,
				Message: "batch " + bid + " failed (" + e.StatusCode + ": " + e.Message + ") without a result for this row; whether it was inserted is unknown"}})
		})
	default: // NotProcessed
		c.forEach(r, func(i int, vals []string) {
			r.resolve(c, i, &RowResult{Outcome: NotProcessed, Values: vals,
				Error: &RowError{StatusCode: StatusNoResult, Message: "batch " + bid + " was not processed: " + batch.StateMessage}})
		})
	}
	r.reportDone(Bulk1, jobID, bid)
	return nil
}

// results joins a completed batch's results to its rows by position: the results file has one
// row per input row, in input order.
func (b *bulk1Runner) results(ctx context.Context, c *chunk) error {
	r := b.r
	body, err := r.l.bulk1.BatchResults(ctx, c.jobID, c.batchID)
	if err != nil {
		return fmt.Errorf("results of batch %s of Bulk API 1.0 job %s: %w", c.batchID, c.jobID, err)
	}
	defer body.Close()
	f, err := os.Open(c.path)
	if err != nil {
		return fmt.Errorf("load: chunk file: %w", err)
	}
	defer f.Close()
	data := sfcsv.NewReader(f, sfcsv.ReaderOptions{Delimiter: r.cfg.ColumnDelimiter})
	if _, err := data.Header(); err != nil {
		return fmt.Errorf("load: chunk file: %w", err)
	}
	i := 0
	for sr, err := range salesforce.ReadBatchResults(body, "CSV") {
		if err != nil {
			return fmt.Errorf("results of batch %s of Bulk API 1.0 job %s: %w", c.batchID, c.jobID, err)
		}
		if i >= len(c.rows) {
			r.cfg.Logger.Warn("load: batch has more results than rows", "job", c.jobID, "batch", c.batchID)
			break
		}
		vals, err := data.Read()
		if err != nil && vals == nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("load: chunk file: %w", err)
		}
		r.resolve(c, i, saveResult(sr, vals))
		i++
	}
	if i < len(c.rows) {
		r.cfg.Logger.Warn("load: batch has fewer results than rows", "job", c.jobID, "batch", c.batchID, "results", i, "rows", len(c.rows))
	}
	return nil
}

// saveResult turns a per-record result into a RowResult.
func saveResult(sr salesforce.SaveResult, vals []string) *RowResult {
	if sr.Success {
		return &RowResult{Outcome: Succeeded, ID: sr.ID, Created: sr.Created, Values: vals}
	}
	res := &RowResult{Outcome: Failed, ID: sr.ID, Values: vals}
	if len(sr.Errors) == 0 {
		res.Error = &RowError{StatusCode: "UNKNOWN_EXCEPTION", Message: "Salesforce reported a failure without an error"}
		return res
	}
	e := sr.Errors[0]
	res.Error = &RowError{StatusCode: e.StatusCode, Message: e.Message, Fields: e.Fields}
	for _, more := range sr.Errors[1:] {
		res.Error.Message += "; " + more.StatusCode + ": " + more.Message
	}
	return res
}
