package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
	"github.com/sfbatch/sfbatch/soql"
)

// runPipeExport is pipe --export: with --plan or --commit the driver's steps of a
// distributed read (runPipePlan); otherwise one partition of a query (the whole query, the id
// range --id-range LO,HI of it, a page or batch of a planned job) written to standard output as an Arrow IPC stream whose schema is
// fixed before any row arrives, from the query's field list and the objects' describes, so
// every partition of one read has the same schema, empty ones included.
func runPipeExport(ctx context.Context, ios *IOStreams, ev *pipeEvents, o *pipeOptions, args []string) int {
	if o.export.Plan || o.export.Commit {
		return runPipePlan(ctx, ios, ev, o, args)
	}
	fail := pipeFail(ctx, ev)
	usage := func(err error) int { return fail(ExitUsage, "UsageError", err) }
	switch flag := o.export.planOnly(); {
	case flag != "":
		return usage(fmt.Errorf("%s belongs to --plan (a planned read)", flag))
	case len(args) != 0:
		return usage(errors.New("--export takes no OPERATION"))
	case o.Query == "":
		return usage(errors.New("--export needs --query"))
	case strings.ToLower(o.Format) != pipeArrow:
		return usage(errors.New("--export writes --format arrow"))
	case o.RunID != "":
		return usage(errors.New("--export is read-only: it takes no --run-id"))
	case o.Job != "" && o.IDRange != "":
		return usage(errors.New("--job and --id-range name different partitions: give one"))
	case o.Job == "" && (o.Locator != "" || o.MaxRecords != 0 || o.Batch != ""):
		return usage(errors.New("--locator, --max-records and --batch read a part of --job"))
	case o.Batch != "" && (o.Locator != "" || o.MaxRecords != 0):
		return usage(errors.New("--batch (a Bulk API 1.0 batch) and --locator/--max-records (a Bulk API 2.0 page) exclude each other"))
	}
	object, _, err := extract.QueryColumns(o.Query)
	if err != nil {
		return usage(fmt.Errorf("--query: %w", err))
	}
	lo, hi, ok := strings.Cut(o.IDRange, ",")
	if o.IDRange != "" && !ok {
		return usage(errors.New("--id-range: want LO,HI (either may be empty)"))
	}
	if o.IDRange != "" {
		if _, err := soql.WithIDRange(o.Query, strings.TrimSpace(lo), strings.TrimSpace(hi)); err != nil {
			return usage(fmt.Errorf("--id-range: %w", err))
		}
	}
	cfg := &pipeConfig{}
	cfg.opts.Object = object
	if o.Handshake {
		if cfg.hs, err = readHandshake(bufioReader(ios)); err != nil {
			return usage(err)
		}
	}
	c, pf := o.connect(ctx, cfg)
	if pf != nil {
		return fail(pf.code, pf.name, pf.err)
	}
	// Compound fields read as their components, as the plan's query already does.
	query, err := extract.ExpandQuery(ctx, c, o.Query)
	if err != nil {
		return fail(ExitError, "ExportError", err)
	}
	_, columns, err := extract.QueryColumns(query)
	if err != nil {
		return usage(fmt.Errorf("--query: %w", err))
	}
	if o.IDRange != "" {
		if query, err = soql.WithIDRange(query, strings.TrimSpace(lo), strings.TrimSpace(hi)); err != nil {
			return usage(fmt.Errorf("--id-range: %w", err))
		}
	}
	kinds, err := extract.ColumnKinds(ctx, c, object, columns)
	if err != nil {
		return fail(ExitUsage, "UsageError", fmt.Errorf("--query: %w", err))
	}
	w := extract.NewArrowWriter(ios.Out, columns, kinds)
	if o.Batch != "" {
		err := exportBatch(ctx, c, w, columns, o.Job, o.Batch)
		if cerr := w.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing results: %w", cerr)
		}
		ev.emit(map[string]any{"event": "summary", "rows": w.Rows(), "job": o.Job, "batch": o.Batch, "runId": nil})
		if err != nil {
			return fail(ExitError, "ExportError", err)
		}
		return ExitOK
	}
	if o.Job != "" {
		next, err := exportPage(ctx, c, w, columns, o.Job, o.Locator, o.MaxRecords)
		if cerr := w.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing results: %w", cerr)
		}
		ev.emit(map[string]any{"event": "summary", "rows": w.Rows(), "job": o.Job, "nextLocator": nullable(next), "runId": nil})
		if err != nil {
			return fail(ExitError, "ExportError", err)
		}
		if o.export.DoneDir != "" {
			deleted, err := pageDone(ctx, c, o.export.DoneDir, o.Job, o.Locator)
			if err != nil {
				// Every row is written; a job left behind expires in Salesforce.
				ev.emit(map[string]any{"event": "log", "level": "WARN", "msg": err.Error()})
			}
			if deleted {
				ev.emit(map[string]any{"event": "log", "level": "INFO", "msg": "every page was read: deleted the query job", "jobs": []string{o.Job}})
			}
		}
		return ExitOK
	}
	xo := extract.Options{Query: query, All: o.export.AllRows, Logger: newPipeLogger(ev)}
	rctx, stopShare, err := exportShare(ctx, c, float64(o.load.MaxAPIShare), xo)
	if err != nil {
		code := exitCode(err)
		return fail(code, exitName(code), err)
	}
	defer stopShare(nil)
	var idx []int // result column -> schema column
	var runErr error
	for row, err := range extract.Rows(rctx, c, xo) {
		if err != nil {
			runErr = err
			break
		}
		if idx == nil {
			if idx, runErr = columnIndex(columns, row.Columns); runErr != nil {
				break
			}
		}
		vals := make([]string, len(columns))
		for i, j := range idx {
			vals[j] = row.Values[i]
		}
		if runErr = w.Write(vals); runErr != nil {
			break
		}
	}
	if err := w.Close(); runErr == nil && err != nil {
		runErr = fmt.Errorf("writing results: %w", err)
	}
	ev.emit(map[string]any{"event": "summary", "rows": w.Rows(), "runId": nil})
	if runErr != nil && errors.Is(context.Cause(rctx), errExportShare) {
		return fail(ExitRowsFailed, exitName(ExitRowsFailed), fmt.Errorf("%w: the read stopped after %d rows (%v)", errExportShare, w.Rows(), runErr))
	}
	if runErr != nil {
		return fail(ExitError, "ExportError", runErr)
	}
	return ExitOK
}

// columnIndex maps the columns of the result rows to the fixed schema's, by name (ignoring
// case, as Salesforce does).
func columnIndex(schema, got []string) ([]int, error) {
	idx := make([]int, len(got))
	for i, g := range got {
		idx[i] = -1
		for j, s := range schema {
			if strings.EqualFold(g, s) {
				idx[i] = j
				break
			}
		}
		if idx[i] < 0 {
			return nil, fmt.Errorf("the query returned a column %s that its field list does not name", g)
		}
	}
	return idx, nil
}

// exportPage writes one result page of the finished Bulk API 2.0 query job (the page at
// locator, "" for the first, of at most maxRecords rows, 0 letting Salesforce choose) and
// returns the next page's locator ("" after the last page).
func exportPage(ctx context.Context, c *salesforce.Client, w *extract.ArrowWriter, columns []string, jobID, locator string, maxRecords int) (string, error) {
	job, err := c.Bulk2.GetQueryJob(ctx, jobID)
	if err != nil {
		return "", err
	}
	if job.State != salesforce.JobStateJobComplete {
		return "", fmt.Errorf("query job %s is %s, not JobComplete: its result pages cannot be read yet", jobID, job.State)
	}
	delim := sfcsv.Comma
	if job.ColumnDelimiter != "" {
		if delim, err = sfcsv.ParseDelimiter(job.ColumnDelimiter); err != nil {
			return "", fmt.Errorf("query job %s: %w", jobID, err)
		}
	}
	page, err := c.Bulk2.QueryResults(ctx, jobID, locator, maxRecords)
	if err != nil {
		return "", err
	}
	defer page.Body.Close()
	if err := copyCSVResult(page.Body, delim, "job "+jobID, w, columns); err != nil {
		return "", err
	}
	return page.Locator, nil
}

// exportBatch writes the results of one completed batch of a Bulk API 1.0 CSV query job (one
// PK-chunk batch when the job was created with PK chunking).
func exportBatch(ctx context.Context, c *salesforce.Client, w *extract.ArrowWriter, columns []string, jobID, batchID string) error {
	job, err := c.Bulk1.GetJob(ctx, jobID)
	if err != nil {
		return err
	}
	if !strings.EqualFold(job.ContentType, "CSV") {
		return fmt.Errorf("job %s has content type %s: only CSV query jobs are read", jobID, job.ContentType)
	}
	b, err := c.Bulk1.GetBatch(ctx, jobID, batchID)
	if err != nil {
		return err
	}
	if b.State != salesforce.BatchStateCompleted {
		return fmt.Errorf("batch %s of job %s is %s, not Completed", batchID, jobID, b.State)
	}
	results, err := c.Bulk1.QueryResultList(ctx, jobID, batchID)
	if err != nil {
		return err
	}
	for _, id := range results {
		body, err := c.Bulk1.QueryResult(ctx, jobID, batchID, id)
		if err != nil {
			return err
		}
		err = copyCSVResult(body, sfcsv.Comma, "batch "+batchID, w, columns)
		body.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// copyCSVResult writes the rows of one Salesforce CSV result file (with its header) to w,
// placing each column where the fixed schema has it.
func copyCSVResult(r io.Reader, delim sfcsv.Delimiter, name string, w *extract.ArrowWriter, columns []string) error {
	rd := sfcsv.NewReader(r, sfcsv.ReaderOptions{Delimiter: delim, Name: name, ReuseRecord: true})
	header, err := rd.Header()
	if errors.Is(err, io.EOF) {
		return nil // an empty result
	}
	if err != nil {
		return err
	}
	idx, err := columnIndex(columns, header)
	if err != nil {
		return err
	}
	vals := make([]string, len(columns))
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		clear(vals)
		for i, j := range idx {
			vals[j] = rec[i]
		}
		if err := w.Write(vals); err != nil {
			return err
		}
	}
}
