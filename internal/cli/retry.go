package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/plan"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// Files a retry writes in its run folder before the load.
const (
	retryInputFile = "retry-input.csv" // the rows sent again
	retryLinkFile  = "retry.json"      // the run it retries, and each row's row there
)

// retryOptions are the flags of sfbatch retry.
type retryOptions struct {
	load                loadOptions
	fromSource          bool
	includeNotProcessed bool
	dir                 string
}

func newRetryCmd(ios *IOStreams) *cobra.Command {
	opts := &retryOptions{}
	cmd := &cobra.Command{
		Use:   "retry DIR",
		Short: "Load again exactly the rows that failed in an earlier run, as edited in its failure.csv",
		Long: `Load again the rows that failed in the run whose folder is DIR, into a new run
folder linked to it (retry.json names DIR and, for every row, its row there).

By default the rows are read from DIR/failure.csv, as you edited them (the
sf__ columns are ignored; delete a line to leave that row out). With
--from-source the rows are read again from the run's original input by their
sf__Row (fix them there; --mapping and --map apply as for the first run).
--include-not-processed adds the rows that never reached Salesforce. Rows whose
outcome is unknown are never sent again: settle them with --resume first.
The object and operation are the first run's; an upsert needs -i again.
A retry's folder can be retried in turn. Each retry also writes merged.csv:
every row of the first run's input (sf__Row as there) with its latest outcome
across the chain of retries. For a plan run, retry a step folder
(DIR/NN-Object, in step order): lookups holding source ids go through the
plan's id map again (edit failure.csv; --from-source is for load runs).

Exit status as for the load commands.`,
		Example: `  sfbatch insert -s Contact contacts.csv -o first
  # fix first/failure.csv, then
  sfbatch retry first -o second
  sfbatch retry first --from-source --include-not-processed`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.dir = args[0]
			limitMemory()
			return runRetry(cmd, ios, opts)
		},
	}
	f := cmd.Flags()
	o := &opts.load
	o.auth.bind(f)
	f.BoolVar(&opts.fromSource, "from-source", false, "read the failed rows again from the first run's input, by sf__Row")
	f.BoolVar(&opts.includeNotProcessed, "include-not-processed", false, "also load the rows that were not processed")
	f.StringVarP(&o.ExternalID, "external-id", "i", "", "external id field (required when the first run was an upsert)")
	f.StringVar(&o.API, "api", "auto", "API: auto, bulk2, bulk1 or collections")
	f.IntVar(&o.Concurrency, "concurrency", 0, "jobs, batches or calls in flight")
	f.IntVar(&o.BatchSize, "batch-size", 0, "records per batch, job or call")
	f.BoolVar(&o.WriteNulls, "write-nulls", false, "empty cells set fields to null")
	f.StringVar(&o.MappingFile, "mapping", "", "with --from-source: the first run's .sdl mapping file")
	f.StringArrayVar(&o.Maps, "map", nil, "with --from-source: the first run's --map values")
	f.StringVarP(&o.OutputDir, "output-dir", "o", "", "run folder of the retry (default a new sfbatch-runs/UTCTIME-SUFFIX)")
	f.BoolVar(&o.JSON, "json", false, "print a machine-readable summary")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print nothing but errors")
	return cmd
}

// retryLink is retry.json.
type retryLink struct {
	RetryOf   string  `json:"retry_of"`     // the earlier run's folder
	RunID     string  `json:"retry_of_run"` // its run id
	FromSrc   bool    `json:"from_source"`
	Rows      []int64 `json:"rows"` // row i+1 of this run is row Rows[i] of the earlier run
	CreatedAt string  `json:"created_at"`
}

func runRetry(cmd *cobra.Command, ios *IOStreams, opts *retryOptions) error {
	ctx := cmd.Context()
	if _, err := os.Stat(filepath.Join(opts.dir, plan.PlanFile)); err == nil {
		return usageError{fmt.Errorf("%s is a plan run: retry one of its step folders (%s/NN-Object), in step order", opts.dir, opts.dir)}
	}
	prev, ok, err := recordedRun(ctx, opts.dir)
	if err != nil {
		return err
	}
	var retryRows []int64      // row i+1 of the retry is row retryRows[i] of the earlier run
	var rawRows map[int64]bool // rows of the earlier run that failed before conversion
	o := &opts.load
	if !ok {
		// A step of a plan run: its rows go through the plan's id map again.
		step, serr := plan.OpenStep(ctx, opts.dir)
		if serr != nil {
			return usageError{fmt.Errorf("%s holds no run (no %s) and is not a step of a plan run", opts.dir, runJournalFile)}
		}
		defer step.Close()
		if opts.fromSource {
			return usageError{errors.New("--from-source: not available for a step of a plan (its rows went through the plan's mapping and conversions); edit failure.csv")}
		}
		prev = jobstore.Run{ID: step.RunID, Object: step.Step.Object, Operation: step.Step.Operation, InputPath: step.Step.Source}
		if o.ExternalID == "" {
			o.ExternalID = step.Step.ExternalID
		}
		// Rows that failed before conversion hold their source values: the step's
		// conversions apply to them again (rows are numbered as in the retry's input).
		o.wrap = func(src load.Source) load.Source {
			conv, err := step.Convert(src, func(n int64) bool { return n >= 1 && int(n) <= len(retryRows) && rawRows[retryRows[n-1]] })
			if err != nil {
				return errSource{src, err}
			}
			return step.Source(ctx, conv)
		}
		if rawRows, err = unconvertedRows(opts.dir); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(opts.dir, load.FailureFile)); err != nil {
		return usageError{fmt.Errorf("%s: %w (did the run finish? resume it first)", opts.dir, err)}
	}
	o.Object, o.Operation = prev.Object, load.Operation(prev.Operation)
	if o.Operation == load.Upsert && o.ExternalID == "" {
		return usageError{errors.New("--external-id is required: the first run was an upsert")}
	}
	if !opts.fromSource && (o.MappingFile != "" || len(o.Maps) > 0) {
		return usageError{errors.New("--mapping and --map apply only with --from-source: failure.csv holds mapped columns")}
	}
	o.ColumnDelimiter, o.LineEnding = "COMMA", "LF"
	dir := o.OutputDir
	if dir == "" {
		if dir, err = newRunDir(time.Now()); err != nil {
			return err
		}
	} else if holdsRun(dir) {
		return usageError{fmt.Errorf("%s holds an earlier run; choose another --output-dir", dir)}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	o.OutputDir = dir
	input := filepath.Join(dir, retryInputFile)
	var rows []int64
	if opts.fromSource {
		rows, err = retryFromSource(opts, prev.InputPath, input)
	} else {
		rows, err = retryFromFailures(opts, input)
	}
	if err != nil {
		return err
	}
	retryRows = rows
	abs, _ := filepath.Abs(opts.dir)
	if err := writeJSONFile(filepath.Join(dir, retryLinkFile), retryLink{RetryOf: abs, RunID: prev.ID, FromSrc: opts.fromSource,
		Rows: rows, CreatedAt: time.Now().UTC().Format(time.RFC3339)}); err != nil {
		return err
	}
	if len(rows) == 0 {
		fmt.Fprintf(ios.ErrOut, "retry: %s has no failed rows to load\n", opts.dir)
		return nil
	}
	if !o.Quiet && !o.JSON {
		fmt.Fprintf(ios.ErrOut, "retry: %d row(s) of %s\n", len(rows), opts.dir)
	}
	o.input = input
	if opts.fromSource {
		o.Format = formatOf("", prev.InputPath)
		if o.Format == "jsonl" || o.Format == "parquet" {
			o.Format = "csv" // retryFromSource writes the rows it picked as CSV
		}
	}
	p, err := o.auth.resolve()
	if err != nil {
		return err
	}
	_, err = runLoadWith(loadCmdFor(cmd, ios, o), ios, func(ctx context.Context, log *slog.Logger) (*salesforce.Client, error) {
		if log == nil {
			return p.client(ctx)
		}
		return p.client(ctx, salesforce.WithLogger(log))
	}, o)
	if _, serr := os.Stat(filepath.Join(dir, load.ResultsFile)); serr == nil {
		if merr := writeMerged(dir); merr != nil {
			fmt.Fprintf(ios.ErrOut, "retry: %s not written: %v\n", mergedFile, merr)
		} else if !o.Quiet && !o.JSON {
			fmt.Fprintf(ios.ErrOut, "retry: %s: every row of the first run with its latest outcome\n", filepath.Join(dir, mergedFile))
		}
	}
	return err
}

// retryFromFailures writes the rows of failure.csv (and with --include-not-processed the
// not processed rows of results.csv) to path, input columns only, in row order.
func retryFromFailures(opts *retryOptions, path string) ([]int64, error) {
	hdr, picked, err := readFailed(opts)
	if err != nil {
		return nil, err
	}
	return writeRetryInput(path, hdr, picked)
}

// readFailed reads the rows to retry, by their row in the earlier run: failure.csv's, and
// with --include-not-processed the not processed rows of results.csv. hdr is the input
// columns.
func readFailed(opts *retryOptions) (hdr []string, picked map[int64][]string, err error) {
	picked = map[int64][]string{}
	read := func(name string, keep func(outcome, errText string) bool) error {
		f, err := os.Open(filepath.Join(opts.dir, name))
		if err != nil {
			return err
		}
		defer f.Close()
		rd := sfcsv.NewReader(f, sfcsv.ReaderOptions{Name: name})
		h, err := rd.Header()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		first := 0
		for first < len(h) && strings.HasPrefix(h[first], "sf__") {
			first++
		}
		cRow, cOut, cErr := slices.Index(h, "sf__Row"), slices.Index(h, "sf__Outcome"), slices.Index(h, "sf__Error")
		if cRow < 0 {
			return fmt.Errorf("%s: no sf__Row column", name)
		}
		if hdr == nil {
			hdr = slices.Clone(h[first:])
		} else if !slices.Equal(hdr, h[first:]) {
			return fmt.Errorf("%s: its input columns differ from failure.csv's", name)
		}
		for {
			rec, err := rd.Read()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if cOut >= 0 && !keep(rec[cOut], field(rec, cErr)) {
				continue
			}
			n, err := strconv.ParseInt(rec[cRow], 10, 64)
			if err != nil {
				return fmt.Errorf("%s: sf__Row %q", name, rec[cRow])
			}
			vals := rec[first:]
			if name == load.ResultsFile && !opts.fromSource && len(vals) > 0 &&
				!slices.ContainsFunc(vals, func(v string) bool { return v != "" }) {
				return fmt.Errorf("%s: not processed row %d has no values (the load stopped before reading it): use --from-source", name, n)
			}
			picked[n] = slices.Clone(vals)
		}
	}
	if err := read(load.FailureFile, nil); err != nil {
		return nil, nil, usageError{err}
	}
	if opts.includeNotProcessed {
		if err := read(load.ResultsFile, notProcessed); err != nil {
			return nil, nil, usageError{err}
		}
	}
	return hdr, picked, nil
}

// retryFromSource writes the rows of the first run's input named by failure.csv (and the
// not processed rows) to path, as CSV under the input's own header.
func retryFromSource(opts *retryOptions, source, path string) ([]int64, error) {
	if source == "" || source == "-" {
		return nil, usageError{errors.New("--from-source: the first run read standard input, which cannot be read again")}
	}
	_, failed, err := readFailed(opts)
	if err != nil {
		return nil, err
	}
	want := map[int64]bool{}
	for n := range failed {
		want[n] = true
	}
	// The source is read without the mapping: runLoadWith applies it to the retry input.
	src := loadOptions{input: source, Format: formatOf("", source), ColumnDelimiter: "COMMA", LineEnding: "LF"}
	lo, err := src.engineOptionsLoose()
	if err != nil {
		return nil, err
	}
	s, _, closeSrc, err := src.openSource(&IOStreams{In: nil}, lo, func(r io.Reader) io.Reader { return r })
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	picked := map[int64][]string{}
	for len(picked) < len(want) {
		row, err := s.Next()
		var ie *load.InputError
		if errors.As(err, &ie) && ie.Row > 0 && !ie.Structural {
			if want[ie.Row] {
				return nil, usageError{fmt.Errorf("--from-source: row %d of %s still cannot be read: %w", ie.Row, source, err)}
			}
			continue
		}
		if err == io.EOF {
			return nil, usageError{fmt.Errorf("--from-source: %s ends before every failed row: it changed", source)}
		}
		if err != nil {
			return nil, err
		}
		if want[row.Number] {
			picked[row.Number] = slices.Clone(row.Values)
		}
	}
	return writeRetryInput(path, slices.Clone(s.Header()), picked)
}

// engineOptionsLoose is engineOptions without the checks a source read does not need.
func (o *loadOptions) engineOptionsLoose() (load.Options, error) {
	var opts load.Options
	var err error
	if opts.ColumnDelimiter, err = sfcsv.ParseDelimiter(o.ColumnDelimiter); err != nil {
		return opts, usageError{err}
	}
	return opts, nil
}

func writeRetryInput(path string, hdr []string, picked map[int64][]string) ([]int64, error) {
	rows := make([]int64, 0, len(picked))
	for n := range picked {
		rows = append(rows, n)
	}
	slices.Sort(rows)
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := sfcsv.NewWriter(f, sfcsv.WriterOptions{})
	if _, err := w.Write(hdr); err != nil {
		f.Close()
		return nil, err
	}
	for _, n := range rows {
		if _, err := w.Write(picked[n]); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return rows, f.Close()
}

// notProcessed keeps the rows that never reached Salesforce, and never those whose outcome
// is unknown (the engine labels them not processed with a message saying so): they may
// have been saved, and are settled by --resume, not sent again.
// results.csv spells the outcome not_processed.
func notProcessed(outcome, errText string) bool {
	np := load.NotProcessed.String()
	return (outcome == np || outcome == strings.ReplaceAll(np, " ", "_")) && !strings.Contains(errText, "unknown")
}

func field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return rec[i]
}

// loadCmdFor is the load command a retry runs as (for the resume hint it prints): the
// first run's operation with the retry's object, external id and API flags set.
func loadCmdFor(cmd *cobra.Command, ios *IOStreams, o *loadOptions) *cobra.Command {
	use := map[load.Operation]string{load.Insert: "insert", load.Update: "update", load.Upsert: "upsert",
		load.Delete: "delete", load.HardDelete: "hard-delete"}[o.Operation]
	for _, lc := range newLoadCmds(ios) {
		if lc.Name() != use {
			continue
		}
		root := &cobra.Command{Use: cmd.Root().Name()}
		root.AddCommand(lc)
		lc.Flags().Set("sobject", o.Object)
		if o.ExternalID != "" {
			lc.Flags().Set("external-id", o.ExternalID)
		}
		if o.API != "" && o.API != "auto" {
			lc.Flags().Set("api", o.API)
		}
		lc.SetContext(cmd.Context())
		return lc
	}
	return cmd
}

// unconvertedRows returns the rows of a step's failure.csv that failed because a value
// could not be converted: they hold the values as the source had them.
func unconvertedRows(dir string) (map[int64]bool, error) {
	out := map[int64]bool{}
	f, err := os.Open(filepath.Join(dir, load.FailureFile))
	if err != nil {
		return nil, usageError{err}
	}
	defer f.Close()
	rd := sfcsv.NewReader(f, sfcsv.ReaderOptions{Name: load.FailureFile})
	h, err := rd.Header()
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", load.FailureFile, err)}
	}
	cRow, cErr := slices.Index(h, "sf__Row"), slices.Index(h, "sf__Error")
	if cRow < 0 || cErr < 0 {
		return out, nil
	}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, usageError{fmt.Errorf("%s: %w", load.FailureFile, err)}
		}
		e := field(rec, cErr)
		if strings.HasPrefix(e, load.StatusInvalidRow+":") && strings.Contains(e, load.ErrValue.Error()) {
			if n, err := strconv.ParseInt(rec[cRow], 10, 64); err == nil {
				out[n] = true
			}
		}
	}
}

// errSource is a Source whose every read fails with err.
type errSource struct {
	load.Source
	err error
}

func (s errSource) Next() (load.Row, error) { return load.Row{}, s.err }
