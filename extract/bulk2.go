package extract

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sfbatch/sfbatch/salesforce"
)

// runBulk2 runs one Bulk API 2.0 query job (or resumes one) and downloads
// its results.
func (e *engine) runBulk2(ctx context.Context) error {
	jobID, locator, skip := "", "", int64(0)
	if r := e.s.Resume; r != nil {
		jobID, locator, skip = r.JobID, r.Locator, r.Skip
		e.sum.JobIDs = append(e.sum.JobIDs, jobID)
	} else {
		var err error
		if jobID, err = e.startBulk2(ctx, e.s.query); err != nil {
			return err
		}
	}
	if err := e.waitBulk2(ctx, jobID); err != nil {
		var je *JobError
		if errors.As(err, &je) {
			return err
		}
		// The job exists and may still complete: it can be resumed.
		return &DownloadError{Resume: Resume{JobID: jobID, Locator: locator, Skip: skip}, Resumable: true, Err: err}
	}
	if err := e.downloadBulk2(ctx, jobID, locator, skip); err != nil {
		return err
	}
	e.deleteBulk2(ctx, jobID)
	return nil
}

// startBulk2 creates a query job for query. Results are always requested
// as comma-separated LF CSV; the output dialect is applied when writing.
func (e *engine) startBulk2(ctx context.Context, query string) (string, error) {
	job, err := e.c.bulk2.CreateQueryJob(ctx, bulk2Request(e.s, query))
	if err != nil {
		return "", fmt.Errorf("extract: creating Bulk 2.0 query job: %w", err)
	}
	e.sum.JobIDs = append(e.sum.JobIDs, job.ID)
	e.jobEvent(APIBulk2, job.ID, "", job.State)
	e.s.log.Debug("extract: Bulk 2.0 query job created", "job", job.ID)
	return job.ID, nil
}

func bulk2Request(s *settings, query string) salesforce.QueryJobRequest {
	return salesforce.QueryJobRequest{Query: query, Operation: s.operation, ColumnDelimiter: "COMMA", LineEnding: "LF"}
}

// waitBulk2 polls a query job until it is JobComplete.
func (e *engine) waitBulk2(ctx context.Context, jobID string) error {
	job, err := salesforce.NewQueryJobWaiter(e.c.bulk2, jobID, e.jobWaiterOptions(APIBulk2, jobID)).Wait(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("extract: Bulk 2.0 job %s: %w", jobID, err)
	}
	if job.State != salesforce.JobStateJobComplete {
		return &JobError{API: APIBulk2, JobID: jobID, State: job.State, Message: job.ErrorMessage}
	}
	return nil
}

// deleteBulk2 deletes a downloaded job unless KeepJobs; a failure is only
// logged because every row has been written.
func (e *engine) deleteBulk2(ctx context.Context, jobID string) {
	if e.s.KeepJobs {
		return
	}
	if err := e.c.bulk2.DeleteQueryJob(ctx, jobID); err != nil {
		e.s.log.Warn("extract: could not delete the completed query job", "job", jobID, "err", err)
	}
}

// downloadBulk2 downloads a completed job's results from locator on: with
// concurrent pages through resultPages when the API version allows it,
// Concurrency > 1 and the download starts at the first page; else page by
// page following the locators.
func (e *engine) downloadBulk2(ctx context.Context, jobID, locator string, skip int64) error {
	if e.s.concurrency > 1 && locator == "" && skip == 0 && e.c.apiVersion() >= salesforce.MinResultPagesAPIVersion {
		pages, err := e.c.bulk2.QueryResultPages(ctx, jobID, e.s.PageSize)
		if err == nil {
			return e.downloadPages(ctx, jobID, pages)
		}
		var ve *salesforce.APIVersionError
		if !errors.As(err, &ve) && !salesforce.IsErrorCode(err, "NOT_FOUND") {
			return &DownloadError{Resume: Resume{JobID: jobID}, Rows: e.sum.Rows, Err: err}
		}
		e.s.log.Debug("extract: resultPages unavailable, reading pages in sequence", "job", jobID, "err", err)
	}
	return e.downloadSequential(ctx, jobID, locator, skip)
}

// downloadSequential follows Sforce-Locator page after page, streaming each
// page to the output. A page whose download fails is fetched again with the
// same locator and its rows already written are skipped.
//
// skip rows from locator on are read but not written (they were written by
// an earlier run).
func (e *engine) downloadSequential(ctx context.Context, jobID, locator string, skip int64) error {
	for {
		next, done, err := e.fetchPage(ctx, jobID, locator, skip)
		if err != nil {
			return &DownloadError{Resume: Resume{JobID: jobID, Locator: locator, Skip: max(done, skip)}, Resumable: true, Rows: e.sum.Rows, Err: err}
		}
		skip = max(0, skip-done)
		e.sum.Pages++
		e.progress(jobID, next)
		if next == "" {
			return nil
		}
		if next == locator {
			return &DownloadError{Resume: Resume{JobID: jobID, Locator: locator}, Rows: e.sum.Rows,
				Err: fmt.Errorf("extract: Salesforce returned the same locator %q again", locator)}
		}
		locator = next
	}
}

// fetchPage downloads and emits one page, skipping its first skip rows,
// retrying failed attempts, and returns the next locator. done is the number
// of the page's rows read so far (written or skipped).
func (e *engine) fetchPage(ctx context.Context, jobID, locator string, skip int64) (next string, done int64, err error) {
	name := "results of job " + jobID
	if locator != "" {
		name += " at locator " + locator
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := salesforce.Sleep(ctx, e.backoff(attempt)); err != nil {
				return "", done, err
			}
		}
		res, err := e.c.bulk2.QueryResults(ctx, jobID, locator, e.s.PageSize)
		if err == nil {
			var n int64
			n, err = e.readPage(res.Body, name, max(done, skip))
			res.Body.Close()
			done = max(done, n)
			if err == nil && res.NumberOfRecords >= 0 && n < int64(res.NumberOfRecords) {
				// A body cut short at a row boundary reads as a clean end.
				err = fmt.Errorf("extract: %s: page ended after %d of %d rows (Sforce-NumberOfRecords)", name, n, res.NumberOfRecords)
			}
			if err == nil {
				if res.NumberOfRecords >= 0 && n > int64(res.NumberOfRecords) {
					e.s.log.Warn("extract: page has more rows than Sforce-NumberOfRecords",
						"job", jobID, "locator", locator, "rows", n, "header", res.NumberOfRecords)
				}
				return res.Locator, done, nil
			}
		}
		if !retryable(err) || attempt >= e.s.retries {
			return "", done, err
		}
		e.s.log.Warn("extract: page download failed, retrying", "job", jobID, "locator", locator, "attempt", attempt+1, "err", err)
	}
}

// downloadPages downloads the pages listed by resultPages concurrently into
// spools and writes them in order (or as they complete when Unordered).
func (e *engine) downloadPages(ctx context.Context, jobID string, pages []salesforce.ResultPage) error {
	tasks := make([]task, len(pages))
	for i, p := range pages {
		name := fmt.Sprintf("result page %d of job %s", i+1, jobID)
		tasks[i] = task{name: name, prepare: func(ctx context.Context) (prepared, error) {
			open := func(ctx context.Context) (io.ReadCloser, int, error) {
				res, err := e.c.bulk2.QueryResultPage(ctx, p)
				if err != nil {
					return nil, 0, err
				}
				return res.Body, res.NumberOfRecords, nil
			}
			sp, want, err := e.spoolDownload(ctx, name, open)
			if err != nil {
				return nil, err
			}
			return &spooledPage{e: e, sp: sp, name: name, jobID: jobID, want: want, open: open}, nil
		}}
	}
	if err := e.pipeline(ctx, sliceSource(tasks), !e.s.Unordered); err != nil {
		var se *sinkError
		if errors.As(err, &se) {
			return se.err
		}
		// In order, the rows written are exactly the first e.sum.Rows rows
		// of the job; out of order, the resume point is unknown.
		return &DownloadError{Resume: Resume{JobID: jobID, Skip: e.sum.Rows}, Resumable: !e.s.Unordered, Rows: e.sum.Rows, Err: err}
	}
	return nil
}

// opener starts a download; rows is the number of rows the server says the
// file holds, or -1 when it does not say.
type opener func(ctx context.Context) (body io.ReadCloser, rows int, err error)

// spoolDownload copies a download into a spool, retrying failed attempts
// from the start. It returns the server's row count (-1 = unknown).
func (e *engine) spoolDownload(ctx context.Context, name string, open opener) (*spool, int, error) {
	sp := newSpool(e.s.TempDir, e.s.spool)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := salesforce.Sleep(ctx, e.backoff(attempt)); err != nil {
				sp.close()
				return nil, 0, err
			}
			if err := sp.reset(); err != nil {
				sp.close()
				return nil, 0, err
			}
		}
		body, rows, err := open(ctx)
		if err == nil {
			_, err = io.Copy(sp, body)
			body.Close()
			if err == nil {
				return sp, rows, nil
			}
			err = fmt.Errorf("extract: downloading %s: %w", name, err)
		}
		if !retryable(err) || attempt >= e.s.retries {
			sp.close()
			return nil, 0, err
		}
		e.s.log.Warn("extract: download failed, retrying", "what", name, "attempt", attempt+1, "err", err)
	}
}

// spooledPage is a downloaded result file waiting to be written.
type spooledPage struct {
	e     *engine
	sp    *spool
	name  string
	jobID string
	want  int    // rows the server announced, -1 = unknown
	open  opener // to fetch the file again if it proves short
}

// consume writes the spooled rows. A file with fewer rows than the server
// announced (a body cut short at a row boundary) is downloaded again and
// its missing rows written.
func (p *spooledPage) consume(ctx context.Context) error {
	r, err := p.sp.reader()
	if err != nil {
		return err
	}
	n, err := p.e.readPage(r, p.name, 0)
	for attempt := 1; err == nil && p.want >= 0 && n < int64(p.want); attempt++ {
		if attempt > p.e.s.retries {
			return fmt.Errorf("extract: %s: file ended after %d of %d rows", p.name, n, p.want)
		}
		p.e.s.log.Warn("extract: result file short, downloading it again", "what", p.name, "rows", n, "want", p.want)
		if err := salesforce.Sleep(ctx, p.e.backoff(attempt)); err != nil {
			return err
		}
		sp, _, derr := p.e.spoolDownload(ctx, p.name, p.open)
		if derr != nil {
			return derr
		}
		var m int64
		if r, err = sp.reader(); err == nil {
			m, err = p.e.readPage(r, p.name, n)
		}
		sp.close()
		n = max(n, m)
	}
	if err != nil {
		return err
	}
	p.e.sum.Pages++
	p.e.progress(p.jobID, "")
	return nil
}

func (p *spooledPage) discard() { p.sp.close() }
