package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/soql"
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
	job, err := e.c.bulk1.CreateJob(ctx, salesforce.JobRequest{
		Object:      object,
		Operation:   e.s.operation,
		ContentType: "CSV",
		PKChunking:  pk,
	})
	if err != nil {
		return fmt.Errorf("extract: creating Bulk 1.0 query job: %w", err)
	}
	e.sum.JobIDs = append(e.sum.JobIDs, job.ID)
	e.jobEvent(APIBulk1, job.ID, "", job.State)
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
	_, err := e.c.bulk1.CloseJob(ctx, jobID)
	return err
}

// bulk1Run adds the query batch and streams result files as batches
// complete: batches are taken in the order Salesforce lists them (for PK
// chunking, id-range order) and the results of a completed batch are
// downloaded while later batches still run.
func (e *engine) bulk1Run(ctx context.Context, jobID string) error {
	if _, err := e.c.bulk1.AddQueryBatch(ctx, jobID, "CSV", e.s.query); err != nil {
		return fmt.Errorf("extract: adding the query batch to Bulk 1.0 job %s: %w", jobID, err)
	}
	return unwrapSink(e.pipeline(ctx, e.bulk1Source(jobID), !e.s.Unordered))
}

// bulk1Source yields one download task per result file of each completed
// batch, waiting on the batch list until every batch has finished. In order,
// a completed batch waits for the batches listed before it.
func (e *engine) bulk1Source(jobID string) source {
	seen := map[string]bool{}
	states := map[string]string{} // each batch's last state passed to OnJob
	var pending []task
	finished := false
	waiter := salesforce.NewBatchListWaiter(e.c.bulk1, jobID, e.waiterOptions)
	return func(ctx context.Context) (task, bool, error) {
		for len(pending) == 0 {
			if finished {
				return task{}, false, nil
			}
			listed, err := waiter.WaitFor(ctx, func(bs []*salesforce.Batch) bool {
				for _, b := range bs {
					if states[b.ID] != b.State {
						states[b.ID] = b.State
						e.jobEvent(APIBulk1, jobID, b.ID, b.State)
					}
				}
				return e.scanBatches(bs, seen).ready()
			})
			if err != nil {
				if ctx.Err() != nil {
					return task{}, false, err
				}
				return task{}, false, fmt.Errorf("extract: Bulk 1.0 job %s: %w", jobID, err)
			}
			sc := e.scanBatches(listed, seen)
			if b := sc.failed; b != nil {
				return task{}, false, &JobError{API: APIBulk1, JobID: jobID, BatchID: b.ID, State: b.State, Message: b.StateMessage}
			}
			for _, b := range sc.skipped {
				seen[b.ID] = true // the original batch of a PK-chunked job
			}
			for _, b := range sc.completed {
				seen[b.ID] = true
				ids, err := e.c.bulk1.QueryResultList(ctx, jobID, b.ID)
				if err != nil {
					return task{}, false, fmt.Errorf("extract: Bulk 1.0 job %s: %w", jobID, err)
				}
				for _, rid := range ids {
					pending = append(pending, e.bulk1Task(jobID, b.ID, rid))
				}
			}
			finished = !sc.unfinished
		}
		t := pending[0]
		pending = pending[1:]
		return t, true, nil
	}
}

// batchScan is what a Bulk API 1.0 query job's batch list holds for the reader.
type batchScan struct {
	listed     int
	failed     *salesforce.Batch   // the first failed batch not yet read
	completed  []*salesforce.Batch // completed batches whose results can be read now
	skipped    []*salesforce.Batch // NotProcessed batches (a PK-chunked job's original)
	unfinished bool                // some batch is still queued or running
}

// ready reports whether the reader has something to do: a failure to report, results to
// read, or the end of the job.
func (sc batchScan) ready() bool {
	return sc.failed != nil || len(sc.completed) > 0 || (!sc.unfinished && sc.listed > 0)
}

// scanBatches sorts the batches not yet read. In order, a completed batch listed after an
// unfinished one waits.
func (e *engine) scanBatches(listed []*salesforce.Batch, seen map[string]bool) batchScan {
	sc := batchScan{listed: len(listed)}
	blocked := false
	for _, b := range listed {
		if seen[b.ID] {
			continue
		}
		switch b.State {
		case salesforce.BatchStateFailed:
			if sc.failed == nil {
				sc.failed = b
			}
		case salesforce.BatchStateNotProcessed:
			sc.skipped = append(sc.skipped, b)
		case salesforce.BatchStateCompleted:
			if !blocked {
				sc.completed = append(sc.completed, b)
			}
		default:
			sc.unfinished = true
			blocked = !e.s.Unordered
		}
	}
	return sc
}

func (e *engine) bulk1Task(jobID, batchID, resultID string) task {
	name := fmt.Sprintf("result %s of batch %s of job %s", resultID, batchID, jobID)
	return task{name: name, prepare: func(ctx context.Context) (prepared, error) {
		open := func(ctx context.Context) (io.ReadCloser, int, error) {
			body, err := e.c.bulk1.QueryResult(ctx, jobID, batchID, resultID)
			return body, -1, err
		}
		sp, _, err := e.spoolDownload(ctx, name, open)
		if err != nil {
			return nil, err
		}
		return &spooledPage{e: e, sp: sp, name: name, jobID: jobID, want: -1, open: open}, nil
	}}
}
