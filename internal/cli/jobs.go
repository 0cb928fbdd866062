package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/sfbatch/sfbatch/salesforce"
)

type jobsOptions struct {
	auth      authOptions
	json      bool
	outputDir string
	limit     int
}

// newJobsCmd assembles `sfbatch jobs`: the shared auth and --json flags, and
// one subcommand per action (list, show, abort, results).
func newJobsCmd(ios *IOStreams) *cobra.Command {
	o := &jobsOptions{}
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List, inspect, abort and fetch the results of Bulk API jobs",
		Long: `Work with Bulk API 2.0 ingest and query jobs and Bulk API 1.0 jobs, including
jobs created by other tools. A job id is looked up as a Bulk API 2.0 ingest
job, then a Bulk API 2.0 query job, then a Bulk API 1.0 job.`,
		Example: `  sfbatch jobs list
  sfbatch jobs show 7505g00000AbCdEAAV
  sfbatch jobs results 7505g00000AbCdEAAV -o results/
  sfbatch jobs abort 7505g00000AbCdEAAV`,
	}
	o.auth.bind(cmd.PersistentFlags())
	cmd.PersistentFlags().BoolVar(&o.json, "json", false, "print JSON")

	cmd.AddCommand(
		newJobsListCmd(ios, o),
		newJobsShowCmd(ios, o),
		newJobsAbortCmd(ios, o),
		newJobsResultsCmd(ios, o),
	)
	return cmd
}

// newJobsListCmd is `sfbatch jobs list`.
func newJobsListCmd(ios *IOStreams, o *jobsOptions) *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Short:   "List Bulk API 2.0 ingest and query jobs",
		Example: "  sfbatch jobs list --limit 20",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runJobsList(cmd.Context(), ios, o)
		},
	}
	list.Flags().IntVar(&o.limit, "limit", 50, "at most this many jobs of each kind (0 = all)")
	return list
}

// jobListRow is one line of `sfbatch jobs list`.
type jobListRow struct {
	ID, Kind, Object, Operation, State string
	Processed, Failed                  int64
	Created                            string
}

// runJobsList lists up to o.limit ingest and o.limit query jobs, reads each
// job's record counts, and prints them as a table or JSON.
func runJobsList(ctx context.Context, ios *IOStreams, o *jobsOptions) error {
	c, err := o.auth.client(ctx)
	if err != nil {
		return err
	}
	rows, err := listJobRows(ctx, c, o.limit)
	if err != nil {
		return err
	}
	if err := fillJobCounts(ctx, c, rows); err != nil {
		return err
	}
	if o.json {
		return writeJSON(ios, rows)
	}
	tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tOBJECT\tOPERATION\tSTATE\tPROCESSED\tFAILED\tCREATED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", r.ID, r.Kind, r.Object, r.Operation, r.State, r.Processed, r.Failed, r.Created)
	}
	return tw.Flush()
}

// listJobRows reads the Bulk API 2.0 ingest jobs, then the query jobs, at
// most limit of each kind (0 = all).
func listJobRows(ctx context.Context, c *salesforce.Client, limit int) ([]jobListRow, error) {
	var rows []jobListRow
	for j, err := range c.Bulk2.ListIngestJobs(ctx) {
		if err != nil {
			return nil, err
		}
		kind := "ingest"
		if j.JobType == "Classic" {
			kind = "bulk1" // the list includes Bulk API 1.0 jobs, as Salesforce's does
		}
		rows = append(rows, jobListRow{j.ID, kind, j.Object, j.Operation, j.State, j.NumberRecordsProcessed, j.NumberRecordsFailed, j.CreatedDate})
		if limit > 0 && len(rows) >= limit {
			break
		}
	}
	n := len(rows)
	for j, err := range c.Bulk2.ListQueryJobs(ctx) {
		if err != nil {
			return nil, err
		}
		rows = append(rows, jobListRow{j.ID, "query", j.Object, j.Operation, j.State, j.NumberRecordsProcessed, 0, j.CreatedDate})
		if limit > 0 && len(rows)-n >= limit {
			break
		}
	}
	return rows, nil
}

// fillJobCounts reads each job's own state and record counts, which the list
// resources leave out, jobCountConcurrency requests at a time.
func fillJobCounts(ctx context.Context, c *salesforce.Client, rows []jobListRow) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobCountConcurrency)
	for i := range rows {
		r := &rows[i]
		g.Go(func() error {
			if r.Kind == "bulk1" {
				// Bulk API 2.0 does not answer for Bulk API 1.0 jobs: ask Bulk API 1.0.
				j, err := c.Bulk1.GetJob(gctx, r.ID)
				if err != nil {
					return fmt.Errorf("job %s: %w", r.ID, err)
				}
				r.State, r.Processed, r.Failed = j.State, j.NumberRecordsProcessed, j.NumberRecordsFailed
				return nil
			}
			if r.Kind == "ingest" {
				j, err := c.Bulk2.GetIngestJob(gctx, r.ID)
				if err != nil {
					return fmt.Errorf("job %s: %w", r.ID, err)
				}
				r.State, r.Processed, r.Failed = j.State, j.NumberRecordsProcessed, j.NumberRecordsFailed
				return nil
			}
			j, err := c.Bulk2.GetQueryJob(gctx, r.ID)
			if err != nil {
				return fmt.Errorf("job %s: %w", r.ID, err)
			}
			r.State, r.Processed = j.State, j.NumberRecordsProcessed
			return nil
		})
	}
	return g.Wait()
}

// newJobsShowCmd is `sfbatch jobs show`.
func newJobsShowCmd(ios *IOStreams, o *jobsOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "show JOB_ID",
		Short:   "Show a job's state and counters (and Bulk API 1.0 batches)",
		Example: "  sfbatch jobs show 7505g00000AbCdE",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.auth.client(cmd.Context())
			if err != nil {
				return err
			}
			j, err := findJob(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if o.json {
				return writeJSON(ios, j)
			}
			return printJob(ios, j)
		},
	}
}

// newJobsAbortCmd is `sfbatch jobs abort`.
func newJobsAbortCmd(ios *IOStreams, o *jobsOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "abort JOB_ID",
		Short:   "Abort a job",
		Example: "  sfbatch jobs abort 7505g00000AbCdE",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.auth.client(cmd.Context())
			if err != nil {
				return err
			}
			j, err := findJob(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			state, err := abortJob(cmd.Context(), c, j)
			if err != nil {
				return err
			}
			if o.json {
				return writeJSON(ios, map[string]string{"id": j.ID, "state": state})
			}
			fmt.Fprintf(ios.Out, "%s %s\n", j.ID, state)
			return nil
		},
	}
}

// abortJob aborts j through the API of its kind and returns its new state.
func abortJob(ctx context.Context, c *salesforce.Client, j *foundJob) (string, error) {
	switch {
	case j.Ingest != nil:
		r, err := c.Bulk2.AbortIngestJob(ctx, j.ID)
		if err != nil {
			return "", err
		}
		return r.State, nil
	case j.Query != nil:
		r, err := c.Bulk2.AbortQueryJob(ctx, j.ID)
		if err != nil {
			return "", err
		}
		return r.State, nil
	default:
		r, err := c.Bulk1.AbortJob(ctx, j.ID)
		if err != nil {
			return "", err
		}
		return r.State, nil
	}
}

// newJobsResultsCmd is `sfbatch jobs results`.
func newJobsResultsCmd(ios *IOStreams, o *jobsOptions) *cobra.Command {
	results := &cobra.Command{
		Use:   "results JOB_ID",
		Short: "Download a job's result files",
		Long: `Write a job's results as files in a directory: for a Bulk API 2.0 ingest job
success.csv, failure.csv and unprocessed.csv as Salesforce returns them; for a
query job results.csv (every page); for a Bulk API 1.0 job one file per batch
(batch-<id>-results.csv, or batch-<id>-<result>.csv for queries).`,
		Example: "  sfbatch jobs results 7505g00000AbCdE -o results/",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.auth.client(cmd.Context())
			if err != nil {
				return err
			}
			j, err := findJob(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			dir := o.outputDir
			if dir == "" {
				dir = "job-" + j.ID
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			files, err := downloadJobResults(cmd.Context(), c, j, dir)
			if o.json {
				if files == nil {
					files = []string{}
				}
				if jerr := writeJSON(ios, map[string]any{"id": j.ID, "files": files}); jerr != nil {
					return jerr
				}
				return err
			}
			for _, f := range files {
				fmt.Fprintln(ios.Out, f)
			}
			return err
		},
	}
	results.Flags().StringVarP(&o.outputDir, "output-dir", "o", "", "directory for the files (default job-<id>)")
	return results
}

// jobCountConcurrency is how many job-info requests `jobs list` has in flight
// to read the record counts the list resources leave out.
const jobCountConcurrency = 8

// foundJob is a job of any of the three kinds.
type foundJob struct {
	ID      string                `json:"id"`
	Kind    string                `json:"kind"` // bulk2-ingest, bulk2-query, bulk1
	Ingest  *salesforce.IngestJob `json:"ingest,omitempty"`
	Query   *salesforce.QueryJob  `json:"query,omitempty"`
	Bulk1   *salesforce.Job       `json:"bulk1,omitempty"`
	Batches []*salesforce.Batch   `json:"batches,omitempty"`
}

// notFound reports whether err is a client error that means "not this kind
// of job".
func notFound(err error) bool {
	var ae *salesforce.APIError
	return errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 && ae.StatusCode != 401
}

func findJob(ctx context.Context, c *salesforce.Client, id string) (*foundJob, error) {
	ing, err := c.Bulk2.GetIngestJob(ctx, id)
	if err == nil {
		return &foundJob{ID: ing.ID, Kind: "bulk2-ingest", Ingest: ing}, nil
	}
	if !notFound(err) {
		return nil, err
	}
	q, err := c.Bulk2.GetQueryJob(ctx, id)
	if err == nil {
		return &foundJob{ID: q.ID, Kind: "bulk2-query", Query: q}, nil
	}
	if !notFound(err) {
		return nil, err
	}
	j, err := c.Bulk1.GetJob(ctx, id)
	if err != nil {
		if notFound(err) {
			return nil, usageError{fmt.Errorf("no Bulk API job with id %s", id)}
		}
		return nil, err
	}
	batches, err := c.Bulk1.ListBatches(ctx, id)
	if err != nil {
		return nil, err
	}
	return &foundJob{ID: j.ID, Kind: "bulk1", Bulk1: j, Batches: batches}, nil
}

func printJob(ios *IOStreams, j *foundJob) error {
	tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
	kv := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	kv("id", j.ID)
	kv("api", j.Kind)
	switch {
	case j.Ingest != nil:
		x := j.Ingest
		kv("object", x.Object)
		kv("operation", x.Operation)
		kv("state", x.State)
		kv("records processed", x.NumberRecordsProcessed)
		kv("records failed", x.NumberRecordsFailed)
		kv("retries", x.Retries)
		kv("created", x.CreatedDate)
		if x.ErrorMessage != "" {
			kv("error", x.ErrorMessage)
		}
	case j.Query != nil:
		x := j.Query
		kv("object", x.Object)
		kv("operation", x.Operation)
		kv("state", x.State)
		kv("records processed", x.NumberRecordsProcessed)
		kv("created", x.CreatedDate)
		if x.ErrorMessage != "" {
			kv("error", x.ErrorMessage)
		}
	default:
		x := j.Bulk1
		kv("object", x.Object)
		kv("operation", x.Operation)
		kv("state", x.State)
		kv("concurrency", x.ConcurrencyMode)
		kv("batches", fmt.Sprintf("%d total, %d queued, %d in progress, %d completed, %d failed", x.NumberBatchesTotal, x.NumberBatchesQueued, x.NumberBatchesInProgress, x.NumberBatchesCompleted, x.NumberBatchesFailed))
		kv("records processed", x.NumberRecordsProcessed)
		kv("records failed", x.NumberRecordsFailed)
		kv("created", x.CreatedDate)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(j.Batches) > 0 {
		tw = tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "\nBATCH\tSTATE\tPROCESSED\tFAILED\tMESSAGE")
		for _, b := range j.Batches {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", b.ID, b.State, b.NumberRecordsProcessed, b.NumberRecordsFailed, b.StateMessage)
		}
		return tw.Flush()
	}
	return nil
}

// saveStream copies a result stream into dir/name.
func saveStream(dir, name string, open func() (io.ReadCloser, error)) (string, error) {
	rc, err := open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return "", fmt.Errorf("downloading %s: %w", name, err)
	}
	return p, f.Close()
}

func downloadJobResults(ctx context.Context, c *salesforce.Client, j *foundJob, dir string) ([]string, error) {
	var files []string
	add := func(name string, open func() (io.ReadCloser, error)) error {
		p, err := saveStream(dir, name, open)
		if err != nil {
			return err
		}
		files = append(files, p)
		return nil
	}
	switch {
	case j.Ingest != nil:
		for _, f := range []struct {
			name string
			open func(context.Context, string) (io.ReadCloser, error)
		}{
			{"success.csv", c.Bulk2.SuccessfulResults},
			{"failure.csv", c.Bulk2.FailedResults},
			{"unprocessed.csv", c.Bulk2.UnprocessedRecords},
		} {
			if err := add(f.name, func() (io.ReadCloser, error) { return f.open(ctx, j.ID) }); err != nil {
				return files, err
			}
		}
	case j.Query != nil:
		p := filepath.Join(dir, "results.csv")
		out, err := os.Create(p)
		if err != nil {
			return files, err
		}
		first := true
		for page, err := range c.Bulk2.IterQueryResults(ctx, j.ID, 0) {
			if err != nil {
				out.Close()
				return files, err
			}
			if err := copyPage(out, page.Body, first); err != nil {
				out.Close()
				return files, err
			}
			first = false
		}
		if err := out.Close(); err != nil {
			return files, err
		}
		files = append(files, p)
	default:
		query := j.Bulk1.Operation == "query" || j.Bulk1.Operation == "queryAll"
		for _, b := range j.Batches {
			if query {
				ids, err := c.Bulk1.QueryResultList(ctx, j.ID, b.ID)
				if err != nil {
					return files, err
				}
				for _, rid := range ids {
					if err := add(fmt.Sprintf("batch-%s-%s.csv", b.ID, rid), func() (io.ReadCloser, error) { return c.Bulk1.QueryResult(ctx, j.ID, b.ID, rid) }); err != nil {
						return files, err
					}
				}
				continue
			}
			if err := add(fmt.Sprintf("batch-%s-results.csv", b.ID), func() (io.ReadCloser, error) { return c.Bulk1.BatchResults(ctx, j.ID, b.ID) }); err != nil {
				return files, err
			}
		}
	}
	return files, nil
}

// copyPage appends one result page to out, dropping the header line of every
// page but the first.
func copyPage(out io.Writer, body io.ReadCloser, first bool) error {
	defer body.Close()
	if first {
		_, err := io.Copy(out, body)
		return err
	}
	buf := make([]byte, 32*1024)
	skipping := true
	inQuote := false
	for {
		n, err := body.Read(buf)
		chunk := buf[:n]
		if skipping {
			for i, ch := range chunk {
				if ch == '"' {
					inQuote = !inQuote
				} else if ch == '\n' && !inQuote {
					chunk = chunk[i+1:]
					skipping = false
					break
				}
			}
			if skipping {
				chunk = nil
			}
		}
		if len(chunk) > 0 {
			if _, werr := out.Write(chunk); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
