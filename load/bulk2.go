package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
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
	if err := r.journalJob(ctx, c, jobstore.JobCreated, ""); err != nil {
		return err
	}
	if err := api.UploadJobData(ctx, id, salesforce.FileBody(c.path)); err != nil {
		return fmt.Errorf("upload data to Bulk API 2.0 job %s: %w", id, err)
	}
	r.progress(Event{Kind: BytesUploaded, API: Bulk2, JobID: id, Bytes: c.bytes})
	if err := r.journalJob(ctx, c, jobstore.JobUploaded, ""); err != nil {
		return err
	}
	if job, err = api.CloseIngestJob(ctx, id); err != nil {
		return fmt.Errorf("close Bulk API 2.0 job %s: %w", id, err)
	}
	if err := r.journalJob(ctx, c, jobstore.JobClosed, ""); err != nil {
		return err
	}
	return b.collect(ctx, c, job)
}

// collect waits for a closed job to finish and joins its result files to the chunk's rows.
func (b *bulk2Runner) collect(ctx context.Context, c *chunk, job *salesforce.IngestJob) error {
	r, api, id := b.r, b.r.l.bulk2, c.jobID
	log := r.logger("job", id, "rows", len(c.rows), "pass", c.pass)
	var err error
	state := job.State
	r.setState(Bulk2, id, "", state)
	processed := int64(-1)
	err = r.poll(ctx, func(ctx context.Context) (bool, bool, error) {
		j, err := api.GetIngestJob(ctx, id)
		if err != nil {
			return false, false, fmt.Errorf("poll Bulk API 2.0 job %s: %w", id, err)
		}
		job = j
		progressed := j.NumberRecordsProcessed != processed
		processed = j.NumberRecordsProcessed
		if j.State != state {
			state = j.State
			progressed = true
			r.setState(Bulk2, id, "", state)
		}
		return j.Terminal(), progressed, nil
	})
	if err != nil {
		return err
	}
	r.untrack(id)
	r.updateJob(c.job, func(j *JobInfo) { j.State, j.Message = job.State, job.ErrorMessage })
	log.Debug("load: Bulk API 2.0 job finished", "state", job.State, "processed", job.NumberRecordsProcessed, "failed", job.NumberRecordsFailed)

	jn := newJoin(c)
	unmatched := 0
	files := []struct {
		kind  string
		fetch func(context.Context, string) (io.ReadCloser, error)
	}{
		{"successfulResults", api.SuccessfulResults},
		{"failedResults", api.FailedResults},
		{"unprocessedrecords", api.UnprocessedRecords},
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
		n, err := b.join(c, jn, job, f.kind, body)
		body.Close()
		if err != nil {
			return err
		}
		unmatched += n
	}
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

// join matches the rows of one result file to the chunk's rows by content: the result files
// echo each row's values after the sf__ columns, in no particular order. Identical rows are
// matched to input rows in input order.
func (b *bulk2Runner) join(c *chunk, jn *join, job *salesforce.IngestJob, kind string, body io.Reader) (int, error) {
	r := b.r
	rd := sfcsv.NewReader(body, sfcsv.ReaderOptions{Delimiter: r.cfg.ColumnDelimiter, Name: job.ID + "/" + kind, ReuseRecord: true})
	hdr, err := rd.Header()
	if errors.Is(err, io.EOF) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s of job %s: %w", kind, job.ID, err)
	}
	idCol, createdCol, errCol := -1, -1, -1
	pos := make([]int, len(r.header))
	for i := range pos {
		pos[i] = -1
	}
	for j, h := range hdr {
		switch h {
		case "sf__Id":
			idCol = j
			continue
		case "sf__Created":
			createdCol = j
			continue
		case "sf__Error":
			errCol = j
			continue
		}
		for i, name := range r.header {
			if pos[i] < 0 && strings.EqualFold(name, h) {
				pos[i] = j
				break
			}
		}
	}
	for i, p := range pos {
		if p < 0 {
			r.cfg.Logger.Warn("load: result file lacks an input column; its rows cannot be matched", "job", job.ID, "file", kind, "column", r.header[i])
		}
	}
	unmatched := 0
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && rec == nil {
			return unmatched, fmt.Errorf("read %s of job %s: %w", kind, job.ID, err)
		}
		vals := make([]string, len(r.header))
		for i, p := range pos {
			if p >= 0 && p < len(rec) {
				vals[i] = rec[p]
			}
		}
		i := jn.take(r.rowHash(vals))
		if i < 0 {
			unmatched++
			continue
		}
		get := func(col int) string {
			if col >= 0 && col < len(rec) {
				return rec[col]
			}
			return ""
		}
		switch kind {
		case "successfulResults":
			r.resolve(c, i, &RowResult{Outcome: Succeeded, ID: get(idCol), Created: strings.EqualFold(get(createdCol), "true"), Values: vals})
		case "failedResults":
			r.resolve(c, i, &RowResult{Outcome: Failed, ID: get(idCol), Error: parseBulkError(get(errCol)), Values: vals})
		default:
			if job.State == salesforce.JobStateFailed {
				r.resolveJobFailure(c, i, vals, jobError(job), Failed)
			} else {
				r.resolve(c, i, &RowResult{Outcome: NotProcessed, Values: vals,
					Error: &RowError{StatusCode: StatusNoResult, Message: "not processed: job " + job.ID + " ended " + job.State}})
			}
		}
	}
	if unmatched > 0 {
		r.cfg.Logger.Warn("load: result rows that match no input row", "job", job.ID, "file", kind, "rows", unmatched)
	}
	return unmatched, nil
}

// join is an index from row content hash to the chunk's rows, consumed as results arrive.
type join struct {
	head map[uint64]int32 // hash -> first unmatched row index + 1
	next []int32          // row index -> next row index + 1 with the same hash
}

func newJoin(c *chunk) *join {
	j := &join{head: make(map[uint64]int32, len(c.rows)), next: make([]int32, len(c.rows))}
	for i := len(c.rows) - 1; i >= 0; i-- {
		h := c.rows[i].hash
		j.next[i] = j.head[h]
		j.head[h] = int32(i + 1)
	}
	return j
}

// take returns the first unmatched row with hash h, or -1.
func (j *join) take(h uint64) int {
	v := j.head[h]
	if v == 0 {
		return -1
	}
	i := v - 1
	if n := j.next[i]; n == 0 {
		delete(j.head, h)
	} else {
		j.head[h] = n
	}
	return int(i)
}
