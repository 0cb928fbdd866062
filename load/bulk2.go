package load

import (
	"context"
	"fmt"
	"io"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/salesforce"
)

// bulk2API is the part of *salesforce.Bulk2Service the engine uses.
type bulk2API interface {
	CreateIngestJob(ctx context.Context, req salesforce.IngestJobRequest) (*salesforce.IngestJob, error)
	UploadJobData(ctx context.Context, jobID string, data salesforce.Body) error
	CloseIngestJob(ctx context.Context, jobID string) (*salesforce.IngestJob, error)
	AbortIngestJob(ctx context.Context, jobID string) (*salesforce.IngestJob, error)
	GetIngestJob(ctx context.Context, jobID string) (*salesforce.IngestJob, error)
	SuccessfulResults(ctx context.Context, jobID string) (io.ReadCloser, error)
	FailedResults(ctx context.Context, jobID string) (io.ReadCloser, error)
	UnprocessedRecords(ctx context.Context, jobID string) (io.ReadCloser, error)
}

// bulk2Runner runs each chunk as one Bulk API 2.0 ingest job.
type bulk2Runner struct{ r *run }

func (b *bulk2Runner) finish(context.Context, bool) error { return nil }

func (b *bulk2Runner) run(ctx context.Context, c *chunk) error {
	r, api := b.r, b.r.l.bulk2
	cfg := r.cfg
	req := salesforce.IngestJobRequest{
		Object:              cfg.Object,
		Operation:           string(cfg.Operation),
		ExternalIDFieldName: cfg.ExternalIDField,
		ContentType:         "CSV",
		ColumnDelimiter:     cfg.ColumnDelimiter.Name(),
		LineEnding:          cfg.LineEnding.String(),
		AssignmentRuleID:    cfg.AssignmentRuleID,
	}
	job, err := api.CreateIngestJob(ctx, req)
	if err != nil {
		return fmt.Errorf("create Bulk API 2.0 %s job on %s: %w", cfg.Operation, cfg.Object, err)
	}
	id := job.ID
	c.jobID = id
	r.trackOpen(Bulk2, id, job.State)
	c.job = r.addJob(JobInfo{API: Bulk2, JobID: id, Batch: c.index, Pass: c.pass, Rows: len(c.rows), Bytes: c.bytes, State: job.State})
	log := r.logger("job", id, "rows", len(c.rows), "pass", c.pass)
	log.Debug("load: Bulk API 2.0 job created")
	if err := r.journal.recordStep(ctx, c, jobstore.JobCreated, ""); err != nil {
		return err
	}
	if err := api.UploadJobData(ctx, id, salesforce.FileBody(c.path)); err != nil {
		return fmt.Errorf("upload data to Bulk API 2.0 job %s: %w", id, err)
	}
	r.progress(Event{Kind: BytesUploaded, API: Bulk2, JobID: id, Bytes: c.bytes})
	if err := r.journal.recordStep(ctx, c, jobstore.JobUploaded, ""); err != nil {
		return err
	}
	if job, err = api.CloseIngestJob(ctx, id); err != nil {
		return fmt.Errorf("close Bulk API 2.0 job %s: %w", id, err)
	}
	if err := r.journal.recordStep(ctx, c, jobstore.JobClosed, ""); err != nil {
		return err
	}
	return b.collect(ctx, c, job)
}

// collect waits for a closed job to finish and joins its result files to the chunk's rows.
func (b *bulk2Runner) collect(ctx context.Context, c *chunk, job *salesforce.IngestJob) error {
	r, api, id := b.r, b.r.l.bulk2, c.jobID
	log := r.logger("job", id, "rows", len(c.rows), "pass", c.pass)
	state := job.State
	r.setState(Bulk2, id, "", state)
	job, err := salesforce.NewIngestJobWaiter(api, id, r.waiterOptions(func(p salesforce.JobProgress) {
		if p.State != state {
			state = p.State
			r.setState(Bulk2, id, "", state)
		}
	})).Wait(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("poll Bulk API 2.0 job %s: %w", id, err)
	}
	r.untrack(id)
	r.updateJob(c.job, func(j *JobInfo) { j.State, j.Message = job.State, job.ErrorMessage })
	log.Debug("load: Bulk API 2.0 job finished", "state", job.State, "processed", job.NumberRecordsProcessed, "failed", job.NumberRecordsFailed)

	jn := newResultJoiner(r, c, job)
	files := []struct {
		kind  string
		fetch func(context.Context, string) (io.ReadCloser, error)
	}{
		{resultsSuccessful, api.SuccessfulResults},
		{resultsFailed, api.FailedResults},
		{resultsUnprocessed, api.UnprocessedRecords},
	}
	for _, f := range files {
		body, err := f.fetch(ctx, id)
		if err != nil {
			if ctx.Err() == nil && job.State != salesforce.JobStateJobComplete {
				// A failed or aborted job may have no result files; its rows are handled below.
				log.Warn("load: no result file for an unfinished job", "file", f.kind, "state", job.State, "err", err)
				continue
			}
			return fmt.Errorf("%s of Bulk API 2.0 job %s: %w", f.kind, id, err)
		}
		err = jn.joinFile(f.kind, body)
		body.Close()
		if err != nil {
			return err
		}
	}
	unmatched := jn.unmatched
	if unmatched > 0 {
		r.updateJob(c.job, func(j *JobInfo) { j.Unmatched = unmatched })
	}
	// Rows that appear in no result file.
	missing := 0
	c.forEach(r, func(i int, vals []string) {
		missing++
		switch {
		case job.State == salesforce.JobStateFailed && r.cfg.Operation.idempotent():
			r.resolveJobFailure(c, i, vals, jobError(job), NotProcessed)
		case job.State == salesforce.JobStateFailed:
			// The row may or may not have been inserted: say so rather than guess.
			e := jobError(job)
			r.resolve(c, i, &RowResult{Outcome: NotProcessed, Values: vals, Error: &RowError{StatusCode: StatusNoResult,
				Message: "job " + id + " failed (" + e.StatusCode + ": " + e.Message + ") without a result for this row; whether it was inserted is unknown"}})
		default:
			msg := "job " + id + " (" + job.State + ") returned no result for this row"
			if unmatched > 0 {
				msg += fmt.Sprintf("; %d result rows matched no input row, so its outcome is unknown", unmatched)
			}
			r.resolve(c, i, &RowResult{Outcome: NotProcessed, Values: vals, Error: &RowError{StatusCode: StatusNoResult, Message: msg}})
		}
	})
	if missing > 0 {
		log.Warn("load: rows missing from every result file", "rows", missing, "state", job.State)
	}
	r.reportDone(Bulk2, id, "")
	return nil
}

func jobError(job *salesforce.IngestJob) *RowError {
	msg := job.ErrorMessage
	if msg == "" {
		msg = "job " + job.ID + " failed"
	}
	return parseStateMessage(msg)
}
