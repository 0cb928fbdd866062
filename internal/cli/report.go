package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/report"
	"github.com/sfbatch/sfbatch/salesforce"
)

// reportOptions are the flags of sfbatch report, and of --report on the load commands.
type reportOptions struct {
	Values bool     // --report-values: example rows per error code
	Mask   []string // --mask FIELD: values masked in examples
	Out    string   // -o FILE (sfbatch report only)
}

// bindValues adds --report-values and --mask.
func (o *reportOptions) bindValues(f *pflag.FlagSet) {
	f.BoolVar(&o.Values, "report-values", false, "add a few example rows (cell values and messages) per error code to the report")
	f.StringSliceVar(&o.Mask, "mask", nil, "with --report-values: replace this field's values in the report by "+report.MaskText+" (repeatable)")
}

func (o *reportOptions) options() report.Options {
	return report.Options{Values: o.Values, Mask: o.Mask}
}

func newReportCmd(ios *IOStreams) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report DIR",
		Short: "Write the HTML report of a run folder",
		Long: `Write one self-contained HTML file (DIR/report.html, or -o FILE) that shows a
run: its command, version, org, start and end; rows by outcome; rows not
succeeded by error code and by field; a timeline of every job and batch with
retries and throttling; throughput and concurrency over time; and links to the
result files. The page needs no network and no server: open it from disk.

It is made only from the run folder (run.db, events.jsonl, results.csv,
summary.json), so it can be made later, elsewhere, for a run that crashed or
was resumed. It holds no cell values unless --report-values, which adds a few
example rows per error code (with --mask FIELD to hide a field's values).
The load commands, export and run make it at the end of a run with --report.

An export's folder gives the rows, pages and bytes written, its query jobs and
the files written. A plan's folder (sfbatch run) gives the plan's object graph
with each object's rows by outcome and every step's counts, and writes each
step's own page in its folder (NN-Object/report.html).`,
		Example: `  sfbatch report sfbatch-runs/20260101T020000.000000Z-a1b2c3
  sfbatch insert -s Contact contacts.csv -o run1 --report
  sfbatch report run1 --report-values --mask Email -o /tmp/run1.html
  sfbatch run migration.yaml -o mig1 --report`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := report.WriteFile(cmd.Context(), args[0], o.Out, "sfbatch "+versionString(), o.options())
			if err != nil {
				return err
			}
			if ios.json != nil {
				return writeJSON(ios, map[string]string{"report": path})
			}
			fmt.Fprintln(ios.Out, path)
			return nil
		},
	}
	o.bindValues(cmd.Flags())
	cmd.Flags().StringVarP(&o.Out, "output", "o", "", "file to write (default DIR/"+report.FileName+")")
	return cmd
}

// writeRunReport writes the report of a finished run folder (--report) and says where.
// A report that cannot be written is a warning: the run's outcome stands.
func writeRunReport(ctx context.Context, ios *IOStreams, dir string, o *reportOptions, quiet bool) {
	path, err := report.WriteFile(ctx, dir, "", "sfbatch "+versionString(), o.options())
	if err != nil {
		fmt.Fprintf(ios.ErrOut, "sfbatch: --report: %v\n", err)
		return
	}
	if !quiet {
		fmt.Fprintf(ios.ErrOut, "report: %s\n", path)
	}
}

// maxJobTimeLookups caps the requests recordJobTimes makes at the end of a run: one per
// Bulk API 2.0 job, one per Bulk API 1.0 job (its batch list holds every batch's times), for
// the jobs whose final status the engine did not read itself (jobs collected on --resume).
const maxJobTimeLookups = 100

// jobTimeLookups is how many of recordJobTimes's requests are in flight at once, so that
// the lookups of a run with many jobs cost about one round trip of wall time.
const jobTimeLookups = 8

// recordJobTimes writes a job_info event with Salesforce's processing times
// (totalProcessingTime, apiActiveProcessingTime, apexProcessingTime, in milliseconds) for
// each completed Bulk API 2.0 job and each finished Bulk API 1.0 batch of the run. Most come
// from the engine's final status poll (load.JobInfo.Times) and cost no request; the rest are
// read with at most maxJobTimeLookups requests, up to jobTimeLookups at once. The events are
// written in the order of sum.Jobs. A lookup that fails is skipped.
func recordJobTimes(ctx context.Context, c *salesforce.Client, events *eventLog, sum *load.Summary) {
	if sum == nil {
		return
	}
	// One slot per job (or Bulk API 1.0 job), in the order of sum.Jobs.
	type lookup struct {
		api    load.API
		job    string
		fetch  bool // read with a request; else events are already filled
		events []map[string]any
	}
	timesEvent := func(j load.JobInfo) map[string]any {
		e := map[string]any{"api": j.API.String(), "job": j.JobID}
		if j.API == load.Bulk1 {
			e["batch"] = j.BatchID
		}
		t := j.Times
		e["total_processing_ms"], e["api_active_processing_ms"], e["apex_processing_ms"] = t.TotalMS, t.APIActiveMS, t.ApexMS
		e["records_processed"], e["records_failed"] = t.RecordsProcessed, t.RecordsFailed
		return e
	}
	var lookups []*lookup
	bulk1 := map[string]*lookup{}
	fetches := 0
	for _, j := range sum.Jobs {
		if j.JobID == "" {
			continue
		}
		switch {
		case j.API == load.Bulk2 && j.State == salesforce.JobStateJobComplete:
			if j.Times != nil {
				lookups = append(lookups, &lookup{api: load.Bulk2, job: j.JobID, events: []map[string]any{timesEvent(j)}})
			} else if fetches < maxJobTimeLookups {
				fetches++
				lookups = append(lookups, &lookup{api: load.Bulk2, job: j.JobID, fetch: true})
			}
		case j.API == load.Bulk1:
			l := bulk1[j.JobID]
			if l == nil {
				l = &lookup{api: load.Bulk1, job: j.JobID}
				bulk1[j.JobID] = l
				lookups = append(lookups, l)
			}
			finished := j.State == salesforce.BatchStateCompleted || j.State == salesforce.BatchStateFailed
			switch {
			case l.fetch:
			case j.Times == nil && fetches < maxJobTimeLookups:
				// One request lists every batch of the job: the events read so far are replaced.
				fetches++
				l.fetch, l.events = true, nil
			case j.Times != nil && finished:
				l.events = append(l.events, timesEvent(j))
			}
		}
	}
	if fetches > 0 && (c == nil || ctx.Err() != nil) {
		fetches = 0
	}
	var g errgroup.Group
	g.SetLimit(jobTimeLookups)
	for _, l := range lookups {
		if !l.fetch || fetches == 0 {
			continue
		}
		g.Go(func() error {
			if l.api == load.Bulk2 {
				info, err := c.Bulk2.GetIngestJob(ctx, l.job)
				if err != nil {
					return nil
				}
				l.events = append(l.events, map[string]any{"api": load.Bulk2.String(), "job": l.job,
					"total_processing_ms": info.TotalProcessingTime, "api_active_processing_ms": info.APIActiveProcessingTime,
					"apex_processing_ms": info.ApexProcessingTime, "records_processed": info.NumberRecordsProcessed,
					"records_failed": info.NumberRecordsFailed})
				return nil
			}
			batches, err := c.Bulk1.ListBatches(ctx, l.job)
			if err != nil {
				return nil
			}
			for _, b := range batches {
				if b.State != salesforce.BatchStateCompleted && b.State != salesforce.BatchStateFailed {
					continue
				}
				l.events = append(l.events, map[string]any{"api": load.Bulk1.String(), "job": l.job, "batch": b.ID,
					"total_processing_ms": b.TotalProcessingTime, "api_active_processing_ms": b.APIActiveProcessingTime,
					"apex_processing_ms": b.ApexProcessingTime, "records_processed": b.NumberRecordsProcessed,
					"records_failed": b.NumberRecordsFailed})
			}
			return nil
		})
	}
	_ = g.Wait() // every lookup returns nil: a failed one is skipped
	for _, l := range lookups {
		for _, e := range l.events {
			events.write("job_info", e)
		}
	}
}
