package load

import (
	"context"
	"errors"
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

// run sends chunk c as one job and joins its results. When Salesforce refuses the upload as a
// second one ("Found multiple contents": a retried PUT whose first attempt got through), the
// job processed nothing: it is aborted and the rows go into a new job.
func (b *bulk2Runner) run(ctx context.Context, c *chunk) error {
	for n := 1; ; n++ {
		job, again, err := b.send(ctx, c)
		if err != nil {
			return err
		}
		if !again && b.r.cfg.Submit {
			b.r.untrack(c.jobID)
			b.r.submitted(c, c.jobID, job.State)
			return nil
		}
		if !again {
			return b.collect(ctx, c, job)
		}
		if n >= MaxStepAttempts {
			return fmt.Errorf("upload data to Bulk API 2.0 jobs: refused %d times as multiple contents", n)
		}
	}
}

// send creates a job for c, uploads its rows and closes it. again reports a job that refused
// the upload and was aborted: send c again in a new job.
func (b *bulk2Runner) send(ctx context.Context, c *chunk) (job *salesforce.IngestJob, again bool, err error) {
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
	tmpl := jobTemplate{jobType: "V2Ingest", object: cfg.Object, operation: string(cfg.Operation)}
	// Recorded before the request: a load killed before it records the job leaves this
	// placeholder open, and its resume may then claim the job (see resumeOrphans).
	intent := fmt.Sprintf("%s%s-%d", creatingPrefix, r.tag, r.creates.Add(1))
	if err := r.journal.creating(ctx, intent, Bulk2); err != nil {
		return nil, false, err
	}
	id, err := r.createJob(ctx, tmpl, func(ctx context.Context) (string, error) {
		j, err := api.CreateIngestJob(ctx, req)
		if err != nil {
			return "", err
		}
		job = j
		return j.ID, nil
	}, func(ctx context.Context, id string) error {
		_, err := api.AbortIngestJob(ctx, id)
		return err
	})
	if err != nil {
		if notApplied(err) { // no job was made; one a lost answer made is resolved by resolveOrphans
			if jerr := r.journal.creatingDone(ctx, intent); jerr != nil {
				return nil, false, jerr
			}
		}
		return nil, false, fmt.Errorf("create Bulk API 2.0 %s job on %s: %w", cfg.Operation, cfg.Object, err)
	}
	c.jobID = id
	r.trackOpen(Bulk2, id, job.State)
	c.job = r.addJob(JobInfo{API: Bulk2, JobID: id, Batch: c.index, Pass: c.pass, Rows: len(c.rows), Bytes: c.bytes, State: job.State})
	r.logger("job", id, "rows", len(c.rows), "pass", c.pass).Debug("load: Bulk API 2.0 job created")
	if err := r.journal.recordStep(ctx, c, jobstore.JobCreated, ""); err != nil {
		return nil, false, err
	}
	if err := r.journal.creatingDone(ctx, intent); err != nil {
		return nil, false, err
	}
	c.sent = true
	err = r.retryStep(ctx, "upload", func(ctx context.Context) error { return api.UploadJobData(ctx, id, salesforce.FileBody(c.path)) })
	if multipleContents(err) {
		return nil, true, b.discard(ctx, c, err)
	}
	if err != nil {
		return nil, false, fmt.Errorf("upload data to Bulk API 2.0 job %s: %w", id, err)
	}
	r.progress(Event{Kind: BytesUploaded, API: Bulk2, JobID: id, Bytes: c.bytes})
	if err := r.journal.recordStep(ctx, c, jobstore.JobUploaded, ""); err != nil {
		return nil, false, err
	}
	if job, err = b.close(ctx, id); err != nil {
		return nil, false, err
	}
	if err := r.journal.recordStep(ctx, c, jobstore.JobClosed, ""); err != nil {
		return nil, false, err
	}
	return job, false, nil
}

// discard aborts c's job after Salesforce refused its upload as multiple contents (the job
// processed nothing) and readies c for a new job.
func (b *bulk2Runner) discard(ctx context.Context, c *chunk, cause error) error {
	r, id := b.r, c.jobID
	r.cfg.Logger.Warn("load: upload refused as a second one; sending the rows in a new job", "job", id, "err", cause)
	_, err := r.setJobState(ctx, "abort", func(ctx context.Context) (jobStatus, error) {
		job, err := r.l.bulk2.AbortIngestJob(ctx, id)
		if err != nil {
			if salesforce.IsErrorCode(err, "INVALIDJOBSTATE") {
				return jobStatus{}, nil // already failed or aborted: it processed nothing either way
			}
			return jobStatus{}, err
		}
		return jobStatus{job.State, true}, nil
	})
	if err != nil {
		return fmt.Errorf("abort Bulk API 2.0 job %s after its upload was refused: %w", id, err)
	}
	r.untrack(id)
	r.updateJob(c.job, func(j *JobInfo) { j.State, j.Message = salesforce.JobStateAborted, cause.Error() })
	if err := r.journal.aborted(ctx, id); err != nil {
		return err
	}
	c.jobID, c.journaled, c.sent = "", false, false
	return nil
}

// close closes job id (UploadComplete). When every close attempt failed transiently, the job's
// state says whether one got through.
func (b *bulk2Runner) close(ctx context.Context, id string) (*salesforce.IngestJob, error) {
	r, api := b.r, b.r.l.bulk2
	var job *salesforce.IngestJob
	err := r.retryStep(ctx, "close", func(ctx context.Context) error {
		var err error
		job, err = api.CloseIngestJob(ctx, id)
		return err
	})
	if err == nil {
		return job, nil
	}
	if transient(ctx, err) || salesforce.IsErrorCode(err, "INVALIDJOBSTATE") {
		if j, gerr := b.get(ctx, id); gerr == nil && j.State != salesforce.JobStateOpen {
			return j, nil
		}
	}
	return nil, fmt.Errorf("close Bulk API 2.0 job %s: %w", id, err)
}

// get reads job id, retrying transient failures.
func (b *bulk2Runner) get(ctx context.Context, id string) (*salesforce.IngestJob, error) {
	var job *salesforce.IngestJob
	err := b.r.retryStep(ctx, "get job", func(ctx context.Context) error {
		var err error
		job, err = b.r.l.bulk2.GetIngestJob(ctx, id)
		return err
	})
	return job, err
}

// wait waits for job id, of records records, to finish. A poll that fails transiently is tried
// again (a running job is never abandoned because of one failed poll).
func (b *bulk2Runner) wait(ctx context.Context, id, state string, records int) (*salesforce.IngestJob, error) {
	r := b.r
	var job *salesforce.IngestJob
	err := r.retryStep(ctx, "poll", func(ctx context.Context) error {
		var err error
		job, err = salesforce.NewIngestJobWaiter(r.l.bulk2, id, r.waiterOptions(func(p salesforce.JobProgress) {
			if p.State != state {
				state = p.State
				r.setState(Bulk2, id, "", state)
			}
		}), func(o *salesforce.WaiterOptions) { o.Records = int64(records) }).Wait(ctx)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("poll Bulk API 2.0 job %s: %w", id, err)
	}
	return job, nil
}

// collect waits for a closed job to finish and joins its result files to the chunk's rows. A
// result file that cannot be downloaded leaves its rows Unknown (the job id tells where to
// look again).
func (b *bulk2Runner) collect(ctx context.Context, c *chunk, job *salesforce.IngestJob) error {
	r, api, id := b.r, b.r.l.bulk2, c.jobID
	log := r.logger("job", id, "rows", len(c.rows), "pass", c.pass)
	r.setState(Bulk2, id, "", job.State)
	job, err := b.wait(ctx, id, job.State, len(c.rows))
	if err != nil {
		return err
	}
	r.untrack(id)
	r.updateJob(c.job, func(j *JobInfo) {
		j.State, j.Message = job.State, job.ErrorMessage
		j.Times = &ProcessingTimes{TotalMS: job.TotalProcessingTime, APIActiveMS: job.APIActiveProcessingTime,
			ApexMS: job.ApexProcessingTime, RecordsProcessed: job.NumberRecordsProcessed, RecordsFailed: job.NumberRecordsFailed}
	})
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
	// The three files are requested at once (a job's result tail is one round trip, not
	// three) and joined one after the other, in the order above. The successful results,
	// the large file, are joined as they arrive (resumed where they broke off when their
	// response breaks); the other two are downloaded meanwhile (see spoolResult).
	type fetched struct {
		body io.ReadCloser
		err  error
	}
	dctx, cancel := context.WithCancel(ctx)
	got := make([]chan fetched, len(files))
	for i, f := range files {
		got[i] = make(chan fetched, 1)
		go func() {
			what := f.kind + " of job " + id
			fetch := func(ctx context.Context) (io.ReadCloser, error) { return f.fetch(ctx, id) }
			var g fetched
			if f.kind == resultsSuccessful {
				var b *resumableBody
				if b, g.err = r.openResult(dctx, what, fetch); g.err == nil {
					g.body = b
				}
			} else {
				g.body, g.err = r.spoolResult(dctx, what, fetch)
			}
			got[i] <- g
		}()
	}
	next := 0
	defer func() {
		// On an early return: stop the downloads not yet joined and remove their files.
		cancel()
		for ; next < len(got); next++ {
			if g := <-got[next]; g.body != nil {
				g.body.Close()
			}
		}
	}()
	var lost error
	for _, f := range files {
		g := <-got[next]
		next++
		err := g.err
		if err == nil {
			err = jn.joinFile(f.kind, g.body)
			g.body.Close()
			var le *resultLostError
			if err != nil && ctx.Err() == nil && !errors.As(err, &le) {
				return err
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if job.State != salesforce.JobStateJobComplete {
				// A failed or aborted job may have no result files; its rows are handled below.
				log.Warn("load: no result file for an unfinished job", "file", f.kind, "state", job.State, "err", err)
				continue
			}
			log.Warn("load: result file could not be downloaded; its rows' outcomes are unknown", "file", f.kind, "err", err)
			lost = fmt.Errorf("%s of Bulk API 2.0 job %s: %w", f.kind, id, err)
			continue
		}
	}
	if lost != nil {
		r.unknownResult(c, "processed by job "+id+", but its results could not be downloaded ("+lost.Error()+")")
		r.reportDone(Bulk2, id, "")
		return nil
	}
	b.missing(c, job, jn.unmatched)
	r.reportDone(Bulk2, id, "")
	return nil
}

// missing gives the rows of c that appear in no result file of job their outcome.
func (b *bulk2Runner) missing(c *chunk, job *salesforce.IngestJob, unmatched int) {
	r, id := b.r, job.ID
	if unmatched > 0 {
		r.updateJob(c.job, func(j *JobInfo) { j.Unmatched = unmatched })
	}
	n := 0
	c.forEach(r, func(i int, vals []string) {
		n++
		e := jobError(job)
		switch {
		case job.State == salesforce.JobStateFailed && (permanentJobFailure(e.Message) || permanentJobFailure(e.StatusCode)):
			// Salesforce refused the job before processing any row.
			r.resolveJobFailure(c, i, vals, e, NotProcessed)
		case job.State == salesforce.JobStateFailed:
			// The row may or may not have been saved: say so rather than guess.
			r.resolveJobFailure(c, i, vals, &RowError{StatusCode: StatusOutcomeUnknown,
				Message: "job " + id + " failed (" + e.StatusCode + ": " + e.Message + ") without a result for this row; whether it was saved is unknown"}, Unknown)
		default:
			msg := "job " + id + " (" + job.State + ") returned no result for this row; whether it was saved is unknown"
			if unmatched > 0 {
				msg += fmt.Sprintf(" (%d result rows matched no input row)", unmatched)
			}
			r.resolve(c, i, &RowResult{Outcome: Unknown, Values: vals, Error: &RowError{StatusCode: StatusNoResult, Message: msg}})
		}
	})
	if n > 0 {
		r.logger("job", id).Warn("load: rows missing from every result file", "rows", n, "state", job.State)
	}
}

func jobError(job *salesforce.IngestJob) *RowError {
	msg := job.ErrorMessage
	if msg == "" {
		msg = "job " + job.ID + " failed"
	}
	return parseStateMessage(msg)
}
