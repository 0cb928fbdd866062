package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sfbatch/sfbatch/internal/soql"
	"github.com/sfbatch/sfbatch/salesforce"
)

// runBulk1 runs a Bulk API 1.0 query job (with PK chunking when enabled)
// and streams every result file of every batch. A batch that fails with
// QUERY_TIMEOUT without PK chunking is run again once with PK chunking,
// unless NoPKChunkingFallback is set.
func (e *engine) runBulk1(ctx context.Context) error {
	if _, err := soql.Parse(e.s.query); err != nil {
		// Bulk 1.0 needs the object before Salesforce sees the query: report
		// a syntax error here, in Salesforce's words.
		var se *soql.Error
		if errors.As(err, &se) && !se.Unsupported {
			return fmt.Errorf("extract: %w", err)
		}
	}
	object := fromObject(e.s.query)
	if object == "" {
		return fmt.Errorf("extract: Bulk 1.0 needs the FROM object; cannot find it in the query %q", e.s.query)
	}
	err := e.bulk1Job(ctx, object, e.s.PKChunking)
	var je *JobError
	if e.s.PKChunking == nil && !e.s.NoPKChunkingFallback && errors.As(err, &je) && isQueryTimeout(je.Message) && e.sum.Rows == 0 {
		e.s.log.Warn("extract: Bulk 1.0 query timed out; running it again with PK chunking", "job", je.JobID)
		return e.bulk1Job(ctx, object, &salesforce.PKChunking{})
	}
	return err
}

func isQueryTimeout(msg string) bool {
	return strings.Contains(strings.ToUpper(msg), "QUERY_TIMEOUT")
}

// fromObject returns the FROM object of a query, also for queries this
// package does not parse fully.
func fromObject(query string) string {
	if q, err := soql.Parse(query); err == nil {
		return q.From
	}
	fields := strings.Fields(query)
	for i, f := range fields {
		if strings.EqualFold(f, "FROM") && i+1 < len(fields) {
			return strings.TrimRight(fields[i+1], ")")
		}
	}
	return ""
}

func (e *engine) bulk1Job(ctx context.Context, object string, pk *salesforce.PKChunking) error {
	job, err := e.c.Bulk1.CreateJob(ctx, salesforce.JobRequest{
		Object:      object,
		Operation:   e.s.operation,
		ContentType: "CSV",
		PKChunking:  pk,
	})
	if err != nil {
		return fmt.Errorf("extract: creating Bulk 1.0 query job: %w", err)
	}
	e.sum.JobIDs = append(e.sum.JobIDs, job.ID)
	err = e.bulk1Run(ctx, job.ID)
	if cerr := e.closeBulk1(ctx, job.ID); err == nil && cerr != nil {
		e.s.log.Warn("extract: could not close the Bulk 1.0 job", "job", job.ID, "err", cerr)
	}
	return err
}

func (e *engine) closeBulk1(ctx context.Context, jobID string) error {
	if ctx.Err() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	_, err := e.c.Bulk1.CloseJob(ctx, jobID)
	return err
}

func (e *engine) bulk1Run(ctx context.Context, jobID string) error {
	_, err := e.c.Bulk1.AddQueryBatch(ctx, jobID, "CSV", e.s.query)
	if err != nil {
		return fmt.Errorf("extract: adding the query batch to Bulk 1.0 job %s: %w", jobID, err)
	}
	var batches []*salesforce.Batch
	err = e.poll(ctx, func() (bool, error) {
		bs, err := e.c.Bulk1.ListBatches(ctx, jobID)
		if err != nil {
			return false, fmt.Errorf("extract: Bulk 1.0 job %s: %w", jobID, err)
		}
		for _, b := range bs {
			if b.State == salesforce.BatchStateFailed {
				return false, &JobError{API: APIBulk1, JobID: jobID, BatchID: b.ID, State: b.State, Message: b.StateMessage}
			}
		}
		if len(bs) == 0 {
			return false, nil
		}
		for _, b := range bs {
			if !b.Terminal() {
				return false, nil
			}
		}
		batches = bs
		return true, nil
	})
	if err != nil {
		return err
	}
	var tasks []task
	for _, b := range batches {
		if b.State != salesforce.BatchStateCompleted {
			continue // the original batch of a PK-chunked job (NotProcessed)
		}
		ids, err := e.c.Bulk1.QueryResultList(ctx, jobID, b.ID)
		if err != nil {
			return fmt.Errorf("extract: Bulk 1.0 job %s: %w", jobID, err)
		}
		for _, rid := range ids {
			name := fmt.Sprintf("result %s of batch %s of job %s", rid, b.ID, jobID)
			tasks = append(tasks, task{name: name, prepare: func(ctx context.Context) (prepared, error) {
				sp, err := e.spoolDownload(ctx, name, func(ctx context.Context) (io.ReadCloser, error) {
					return e.c.Bulk1.QueryResult(ctx, jobID, b.ID, rid)
				})
				if err != nil {
					return nil, err
				}
				return &spooledPage{e: e, sp: sp, name: name, jobID: jobID}, nil
			}})
		}
	}
	if err := e.pipeline(ctx, sliceSource(tasks), !e.s.Unordered); err != nil {
		return unwrapSink(err)
	}
	return nil
}
