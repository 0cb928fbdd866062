package load

import (
	"bytes"
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

	mu     sync.Mutex
	jobID  string
	intent string          // the job create's placeholder until a batch of the job is recorded (guarded by mu)
	added  map[string]bool // batches this runner added (guarded by mu)
}

// addBatch adds c's rows as a batch of the pass's job. Adding is not idempotent: when an
// attempt fails in a way that may have added the batch anyway, the job's batches are listed
// and each one this runner did not add is compared, by its uploaded content, with c's file;
// a match is c's batch. Otherwise the batch is added again.
func (b *bulk1Runner) addBatch(ctx context.Context, c *chunk) (*salesforce.Batch, error) {
	r, api := b.r, b.r.l.bulk1
	for n := 1; ; n++ {
		batch, err := api.AddBatch(ctx, c.jobID, "CSV", salesforce.FileBody(c.path))
		if err == nil {
			b.claim(batch.ID)
			return batch, nil
		}
		if !transient(ctx, err) {
			return nil, err
		}
		found, ferr := b.findBatch(ctx, c)
		if ferr != nil {
			return nil, fmt.Errorf("%w (looking for the batch it may have added: %w)", err, ferr)
		}
		if found != nil {
			r.cfg.Logger.Info("load: a batch whose answer was lost was added; using it", "job", c.jobID, "batch", found.ID)
			return found, nil
		}
		if n >= MaxStepAttempts {
			return nil, err
		}
		r.cfg.Logger.Warn("load: retrying a batch that was not added", "job", c.jobID, "attempt", n, "err", err)
		if werr := salesforce.Sleep(ctx, r.stepBackoff(n)); werr != nil {
			return nil, err
		}
	}
}

// claim records a batch as this runner's.
func (b *bulk1Runner) claim(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.added == nil {
		b.added = map[string]bool{}
	}
	b.added[id] = true
}

// findBatch returns the batch of the pass's job whose uploaded content is c's file, among the
// batches no chunk of this runner claimed, or nil.
func (b *bulk1Runner) findBatch(ctx context.Context, c *chunk) (*salesforce.Batch, error) {
	r, api := b.r, b.r.l.bulk1
	lister, ok := api.(batchRequester)
	if !ok {
		return nil, nil
	}
	var batches []*salesforce.Batch
	err := r.retryStep(ctx, "list batches", func(ctx context.Context) error {
		var err error
		batches, err = api.ListBatches(ctx, c.jobID)
		return err
	})
	if err != nil {
		return nil, err
	}
	want, err := os.ReadFile(c.path)
	if err != nil {
		return nil, fmt.Errorf("load: chunk file: %w", err)
	}
	for _, bt := range batches {
		b.mu.Lock()
		mine := b.added[bt.ID]
		b.mu.Unlock()
		if mine {
			continue
		}
		var got []byte
		err := r.retryStep(ctx, "read batch request", func(ctx context.Context) error {
			body, err := lister.BatchRequest(ctx, c.jobID, bt.ID)
			if err != nil {
				return err
			}
			defer body.Close()
			got, err = io.ReadAll(body)
			return err
		})
		if err != nil {
			return nil, err
		}
		if sameUpload(got, want) {
			b.mu.Lock()
			taken := b.added[bt.ID]
			if !taken {
				if b.added == nil {
					b.added = map[string]bool{}
				}
				b.added[bt.ID] = true
			}
			b.mu.Unlock()
			if !taken {
				return bt, nil
			}
		}
	}
	return nil, nil
}

// batchRequester reads the data a Bulk API 1.0 batch was added with (*salesforce.Bulk1Service).
type batchRequester interface {
	BatchRequest(ctx context.Context, jobID, batchID string) (io.ReadCloser, error)
}

// sameUpload reports whether a batch's stored request is the data uploaded, allowing for line
// endings and a trailing newline rewritten on the way.
func sameUpload(got, want []byte) bool {
	if bytes.Equal(got, want) {
		return true
	}
	norm := func(b []byte) []byte { return bytes.TrimRight(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), "\n") }
	return bytes.Equal(norm(got), norm(want))
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
	var job *salesforce.Job
	tmpl := jobTemplate{jobType: "Classic", object: cfg.Object, operation: string(cfg.Operation)}
	// Recorded before the request, as for Bulk API 2.0: a load killed before the job is in
	// its journal (under its first batch) leaves this placeholder open, and its resume may
	// then claim the job (see resumeOrphans).
	r := b.r
	intent := fmt.Sprintf("%s%s-%d", creatingPrefix, r.tag, r.creates.Add(1))
	if err := r.journal.creating(ctx, intent, Bulk1); err != nil {
		return "", err
	}
	_, err := b.r.createJob(ctx, tmpl, func(ctx context.Context) (string, error) {
		j, err := b.r.l.bulk1.CreateJob(ctx, salesforce.JobRequest{
			Object:              cfg.Object,
			Operation:           string(cfg.Operation),
			ExternalIDFieldName: cfg.ExternalIDField,
			ContentType:         "CSV",
			ConcurrencyMode:     mode,
			AssignmentRuleID:    cfg.AssignmentRuleID,
		})
		if err != nil {
			return "", err
		}
		job = j
		return j.ID, nil
	}, func(ctx context.Context, id string) error {
		_, err := b.r.l.bulk1.AbortJob(ctx, id)
		return err
	})
	if err != nil {
		if notApplied(err) { // no job was made; one a lost answer made is resolved by resolveOrphans
			if jerr := r.journal.creatingDone(ctx, intent); jerr != nil {
				return "", jerr
			}
		}
		return "", fmt.Errorf("create Bulk API 1.0 %s job on %s: %w", cfg.Operation, cfg.Object, err)
	}
	b.jobID, b.intent = job.ID, intent
	b.r.trackOpen(Bulk1, job.ID, job.State)
	b.r.cfg.Logger.Debug("load: Bulk API 1.0 job created", "job", job.ID, "mode", mode, "pass", b.pass)
	return job.ID, nil
}

// jobRecorded closes the job create's placeholder once the job is in the journal under a
// batch of it.
func (b *bulk1Runner) jobRecorded(ctx context.Context) error {
	b.mu.Lock()
	intent := b.intent
	b.intent = ""
	b.mu.Unlock()
	if intent == "" {
		return nil
	}
	return b.r.journal.creatingDone(ctx, intent)
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
	var job *salesforce.Job
	err := b.r.retryStep(ctx, "close Bulk API 1.0 job", func(ctx context.Context) error {
		var err error
		job, err = b.r.l.bulk1.CloseJob(ctx, id)
		return err
	})
	if err != nil {
		// A close whose answer was lost may have closed the job: its state says.
		if g, ok := b.r.l.bulk1.(interface {
			GetJob(ctx context.Context, jobID string) (*salesforce.Job, error)
		}); ok {
			if j, gerr := g.GetJob(ctx, id); gerr == nil && j.State == salesforce.JobStateClosed {
				job, err = j, nil
			}
		}
	}
	if err != nil {
		return fmt.Errorf("close Bulk API 1.0 job %s: %w", id, err)
	}
	b.r.untrack(id)
	b.r.setState(Bulk1, id, "", job.State)
	return nil
}

func (b *bulk1Runner) run(ctx context.Context, c *chunk) error {
	r := b.r
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
	if err := b.jobRecorded(ctx); err != nil {
		return err
	}
	c.sent = true
	batch, err := b.addBatch(ctx, c)
	if err != nil {
		if notApplied(err) {
			c.sent = false // Salesforce answered that it did not add the batch
		}
		return fmt.Errorf("add batch to Bulk API 1.0 job %s: %w", jobID, err)
	}
	bid := batch.ID
	c.batchID = bid
	if err := r.journal.batchAdded(ctx, c, pending); err != nil {
		return err
	}
	c.job = r.addJob(JobInfo{API: Bulk1, JobID: jobID, BatchID: bid, Batch: c.index, Pass: c.pass, Rows: len(c.rows), Bytes: c.bytes, State: batch.State})
	r.progress(Event{Kind: BytesUploaded, API: Bulk1, JobID: jobID, BatchID: bid, Bytes: c.bytes})
	if r.cfg.Submit {
		r.submitted(c, jobID+"/"+bid, batch.State)
		return nil
	}
	return b.collect(ctx, c, batch)
}

// collect waits for an added batch to finish and joins its results to the chunk's rows.
func (b *bulk1Runner) collect(ctx context.Context, c *chunk, batch *salesforce.Batch) error {
	r, api := b.r, b.r.l.bulk1
	jobID, bid := c.jobID, c.batchID
	r.setState(Bulk1, jobID, bid, batch.State)
	state := batch.State
	if !batch.Terminal() {
		err := r.retryStep(ctx, "poll", func(ctx context.Context) error {
			var err error
			batch, err = salesforce.NewBatchWaiter(api, jobID, bid, r.waiterOptions(func(p salesforce.JobProgress) {
				if p.State != state {
					state = p.State
					r.setState(Bulk1, jobID, bid, state)
				}
			})).Wait(ctx)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			return fmt.Errorf("poll batch %s of Bulk API 1.0 job %s: %w", bid, jobID, err)
		}
	}
	r.updateJob(c.job, func(j *JobInfo) {
		j.State, j.Message = batch.State, batch.StateMessage
		j.Times = &ProcessingTimes{TotalMS: batch.TotalProcessingTime, APIActiveMS: batch.APIActiveProcessingTime,
			ApexMS: batch.ApexProcessingTime, RecordsProcessed: batch.NumberRecordsProcessed, RecordsFailed: batch.NumberRecordsFailed}
	})
	switch batch.State {
	case salesforce.BatchStateCompleted:
		if err := b.results(ctx, c); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.cfg.Logger.Warn("load: batch results could not be downloaded; their rows' outcomes are unknown", "job", jobID, "batch", bid, "err", err)
			r.unknownResult(c, "processed in batch "+bid+" of job "+jobID+", but its results could not be downloaded ("+err.Error()+")")
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
			if permanent {
				r.resolveJobFailure(c, i, vals, e, Failed)
				return
			}
			// The row may or may not have been saved: say so rather than guess (update, upsert
			// and delete send it again and read the answer through the settlement table).
			r.resolveJobFailure(c, i, vals, &RowError{StatusCode: StatusOutcomeUnknown,
				Message: "batch " + bid + " failed (" + e.StatusCode + ": " + e.Message + ") without a result for this row; whether it was saved is unknown"}, Unknown)
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
// row per input row, in input order. It is read as it arrives (resumed where it broke off when
// its response breaks, see openResult): when it fails part way, the rows before the break
// have their outcome and the caller gives the rest theirs.
func (b *bulk1Runner) results(ctx context.Context, c *chunk) error {
	r := b.r
	body, err := r.openResult(ctx, "results of batch "+c.batchID, func(ctx context.Context) (io.ReadCloser, error) {
		return r.l.bulk1.BatchResults(ctx, c.jobID, c.batchID)
	})
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
