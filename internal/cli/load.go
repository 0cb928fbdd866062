package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// loadOptions are the flags of insert, update, upsert, delete and hard-delete.
type loadOptions struct {
	auth authOptions

	Operation       load.Operation
	Object          string
	ExternalID      string
	API             string
	Concurrency     int
	BatchSize       int
	Serial          bool
	WriteNulls      bool
	ColumnDelimiter string
	LineEnding      string
	MaxRetries      int
	RetryCodes      []string
	GroupBy         string
	AssignmentRule  string
	Format          string
	MappingFile     string
	Maps            []string
	DryRun          bool
	OutputDir       string
	JSON            bool
	Quiet           bool
	LeaveJobs       bool
	Wait            time.Duration
	NoPreflight     bool
	Resume          string // --resume DIR: the output directory of an interrupted run

	input string // file path or "-"
}

// loadCommands describes each loading command.
var loadCommands = []struct {
	use string
	op  load.Operation
	doc string
	ex  string
}{
	{"insert", load.Insert, "Insert records from a CSV, JSONL or Parquet file",
		`  sfbatch insert --sobject Contact contacts.csv
  sfbatch insert -s Account accounts.jsonl --api bulk1 --serial
  cat leads.csv | sfbatch insert -s Lead - --assignment-rule-id 01Q...`},
	{"update", load.Update, "Update records (the file needs an Id column)",
		`  sfbatch update -s Contact changes.csv --write-nulls
  sfbatch update -s Contact changes.csv --mapping contacts.sdl`},
	{"upsert", load.Upsert, "Insert or update records matched on an external id field",
		`  sfbatch upsert -s Account -i External_Id__c accounts.csv
  # Children point at parents through a relationship column such as Account.External_Id__c
  sfbatch upsert -s Contact -i External_Id__c contacts.csv --group-by Account.External_Id__c`},
	{"delete", load.Delete, "Delete records (to the recycle bin) listed by Id",
		`  sfbatch delete -s Contact ids.csv`},
	{"hard-delete", load.HardDelete, "Delete records permanently, bypassing the recycle bin",
		`  sfbatch hard-delete -s Contact ids.csv --api bulk2`},
}

func newLoadCmds(ios *IOStreams) []*cobra.Command {
	var cmds []*cobra.Command
	for _, lc := range loadCommands {
		opts := &loadOptions{Operation: lc.op}
		cmd := &cobra.Command{
			Use:   lc.use + " --sobject OBJECT FILE|-",
			Short: lc.doc,
			Long: lc.doc + `.

Rows stream from the file (or standard input with -) through sObject
Collections for small inputs and Bulk API 2.0 for large ones (or the API you
choose), split under every Salesforce limit, and run concurrently. Every input
row ends in exactly one outcome, written to an output directory:

  success.csv      rows that succeeded, with their record ids
  failure.csv      rows that failed, with Salesforce's error
  unprocessed.csv  rows that were never processed (ready to load again)
  results.csv      every row in input order with its outcome

With -o DIR the run is journaled in DIR/run.db; if it is interrupted or
killed, the same command with --resume DIR finishes it without losing or
duplicating a row.

Exit status: 0 when every row succeeded, 3 when some rows failed or were not
processed, 2 for usage errors, 4 for authentication errors, 130 when cancelled.
Ctrl-C aborts jobs that have not started (all open jobs without -o; keep them
with --leave-jobs), and still writes an outcome for every row.`,
			Example: lc.ex,
			Args:    cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				opts.input = args[0]
				limitMemory()
				c, err := opts.auth.client(cmd.Context())
				if err != nil {
					return err
				}
				_, err = runLoad(cmd, ios, c, opts)
				return err
			},
		}
		bindLoadFlags(cmd, opts)
		cmds = append(cmds, cmd)
	}
	return cmds
}

func bindLoadFlags(cmd *cobra.Command, o *loadOptions) {
	f := cmd.Flags()
	o.auth.bind(f)
	f.StringVarP(&o.Object, "sobject", "s", "", "object API name, e.g. Contact (required)")
	if o.Operation == load.Upsert {
		f.StringVarP(&o.ExternalID, "external-id", "i", "", "external id field to match on (required), e.g. External_Id__c or Id")
	}
	f.StringVar(&o.API, "api", "auto", "API: auto (collections up to 2,000 rows, then bulk2), bulk2, bulk1 or collections")
	f.IntVar(&o.Concurrency, "concurrency", 0, fmt.Sprintf("jobs, batches or calls in flight (default %d)", load.DefaultConcurrency))
	f.IntVar(&o.BatchSize, "batch-size", 0, "records per batch (bulk1, max 10000), job (bulk2) or call (collections, max 200)")
	f.BoolVar(&o.Serial, "serial", false, "Bulk API 1.0 serial concurrency mode (one batch at a time; implies --api bulk1)")
	f.BoolVar(&o.WriteNulls, "write-nulls", false, "empty cells set fields to null (#N/A) instead of leaving them unchanged")
	f.StringVar(&o.ColumnDelimiter, "column-delimiter", "COMMA", "CSV delimiter of the input and the upload: COMMA, TAB, PIPE, SEMICOLON, CARET, BACKQUOTE")
	f.StringVar(&o.LineEnding, "line-ending", "LF", "line ending of the upload: LF or CRLF")
	f.IntVar(&o.MaxRetries, "max-retries", 0, fmt.Sprintf("resubmissions of rows that failed with a retryable code (default %d, -1 never)", load.DefaultMaxRetries))
	f.StringSliceVar(&o.RetryCodes, "retry-codes", nil, "status codes to retry (default "+strings.Join(load.DefaultRetryCodes, ",")+")")
	f.StringVar(&o.GroupBy, "group-by", "", "column to sort rows by before batching, e.g. AccountId, to cut lock contention")
	f.StringVar(&o.AssignmentRule, "assignment-rule-id", "", "lead or case assignment rule id")
	f.StringVar(&o.Format, "format", "", "input format: csv, jsonl, parquet or arrow (an Arrow IPC stream) (default: from the file extension, else csv)")
	f.StringVar(&o.MappingFile, "mapping", "", "Data Loader .sdl mapping file (source=Target lines)")
	f.StringArrayVar(&o.Maps, "map", nil, `map a column: --map source=Target, --map source=A,B, --map '"constant"=Field' (repeatable)`)
	f.BoolVar(&o.DryRun, "dry-run", false, "check the input against the object's describe, report every problem, create no job")
	f.StringVarP(&o.OutputDir, "output-dir", "o", "", "directory for result files (default sfbatch-results/OBJECT-OPERATION-TIME)")
	f.BoolVar(&o.JSON, "json", false, "print a machine-readable summary")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print nothing but errors")
	f.BoolVar(&o.LeaveJobs, "leave-jobs", false, "on failure or Ctrl-C leave open jobs running instead of aborting them")
	f.Var((*minutes)(&o.Wait), "wait", "give up (and abort open jobs) after this long: minutes as in the sf CLI (30) or a duration (1h30m); default: wait for every job")
	f.BoolVar(&o.NoPreflight, "no-preflight", false, "skip the describe-based input check")
	f.StringVar(&o.Resume, "resume", "", "resume the interrupted run whose output directory (-o) is DIR: same command, same input")
}

// minutes is a duration flag that also takes a bare number of minutes, the
// way the sf CLI's --wait does.
type minutes time.Duration

func (m *minutes) String() string { return time.Duration(*m).String() }

// Set parses "30" as 30 minutes, or any time.ParseDuration string.
func (m *minutes) Set(s string) error {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n < 0 {
			return errors.New("must not be negative")
		}
		*m = minutes(time.Duration(n * float64(time.Minute)))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is neither minutes nor a duration like 1h30m", s)
	}
	if d < 0 {
		return errors.New("must not be negative")
	}
	*m = minutes(d)
	return nil
}

// Type names the flag's value in help.
func (m *minutes) Type() string { return "minutes|duration" }

// loadOutcome is what a load run produced, for the summary and the demo.
type loadOutcome struct {
	Summary *load.Summary
	Dir     string
	Files   map[string]string
}

// engineOptions turns flags into load.Options. Every flag error is a usage
// error naming the flag.
func (o *loadOptions) engineOptions() (load.Options, error) {
	opts := load.Options{
		Object:           o.Object,
		Operation:        o.Operation,
		ExternalIDField:  o.ExternalID,
		Concurrency:      o.Concurrency,
		BatchSize:        o.BatchSize,
		Serial:           o.Serial,
		AssignmentRuleID: o.AssignmentRule,
		RetryCodes:       o.RetryCodes,
		MaxRetries:       o.MaxRetries,
		GroupBy:          o.GroupBy,
		LeaveJobsOpen:    o.LeaveJobs,
		Deadline:         o.Wait,
	}
	if o.Object == "" {
		return opts, usageError{errors.New("--sobject is required")}
	}
	if o.Operation == load.Upsert && o.ExternalID == "" {
		return opts, usageError{errors.New("--external-id is required for upsert")}
	}
	api, err := load.ParseAPI(o.API)
	if err != nil {
		return opts, usageError{fmt.Errorf("--api: %w", err)}
	}
	if o.Serial {
		if api != load.Auto && api != load.Bulk1 {
			return opts, usageError{errors.New("--serial needs --api bulk1")}
		}
		api = load.Bulk1
	}
	opts.API = api
	if o.WriteNulls {
		opts.Nulls = load.NullsWrite
	}
	if opts.ColumnDelimiter, err = sfcsv.ParseDelimiter(o.ColumnDelimiter); err != nil {
		return opts, usageError{fmt.Errorf("--column-delimiter: %w", err)}
	}
	if opts.LineEnding, err = sfcsv.ParseLineEnding(o.LineEnding); err != nil {
		return opts, usageError{fmt.Errorf("--line-ending: %w", err)}
	}
	if o.NoPreflight {
		opts.Preflight = load.PreflightOff
	}
	return opts, nil
}

// formatOf returns the lower-cased --format flag, or the format the file's
// extension names: jsonl for .jsonl and .ndjson, parquet for .parquet, else csv.
func formatOf(flag, path string) string {
	if flag != "" {
		return strings.ToLower(flag)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return "jsonl"
	case ".parquet":
		return "parquet"
	case ".arrow", ".arrows":
		return "arrow"
	}
	return "csv"
}

// inputFormat picks the input format from --format or the file extension.
func (o *loadOptions) inputFormat() (string, error) {
	f := formatOf(o.Format, o.input)
	switch f {
	case "csv", "jsonl", "parquet", "arrow":
		return f, nil
	}
	return "", usageError{fmt.Errorf("--format: %q is not csv, jsonl, parquet or arrow", o.Format)}
}

// openSource opens the input as a load.Source with the mapping applied. The
// returned closer releases the file (and any spooled copy of stdin).
func (o *loadOptions) openSource(ios *IOStreams, opts load.Options, counted func(io.Reader) io.Reader) (load.Source, int64, func(), error) {
	format, err := o.inputFormat()
	if err != nil {
		return nil, 0, nil, err
	}
	name := o.input
	var f *os.File
	var size int64
	var cleanup []func()
	closeAll := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	if o.input == "-" {
		name = "stdin"
		switch format {
		case "csv":
			src := load.CSVSource(counted(ios.In), name, load.CSVOptions{Delimiter: opts.ColumnDelimiter})
			s, err := o.applyMapping(src)
			return s, 0, closeAll, err
		case "arrow": // streamed, one record batch at a time
			src, err := load.NewArrowSource(counted(ios.In), name, load.ArrowOptions{})
			if err != nil {
				return nil, 0, nil, usageError{err}
			}
			s, err := o.applyMapping(src)
			return s, 0, func() { src.Release() }, err
		}
		// JSONL and Parquet need a seekable file: spool standard input.
		tmp, err := os.CreateTemp("", "sfbatch-stdin-*")
		if err != nil {
			return nil, 0, nil, err
		}
		cleanup = append(cleanup, func() { tmp.Close(); os.Remove(tmp.Name()) })
		if size, err = io.Copy(tmp, ios.In); err != nil {
			closeAll()
			return nil, 0, nil, fmt.Errorf("reading standard input: %w", err)
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			closeAll()
			return nil, 0, nil, err
		}
		f = tmp
	} else {
		f, err = os.Open(o.input)
		if err != nil {
			return nil, 0, nil, usageError{err}
		}
		cleanup = append(cleanup, func() { f.Close() })
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
	}
	var src load.Source
	switch format {
	case "csv":
		src = load.CSVSource(counted(f), name, load.CSVOptions{Delimiter: opts.ColumnDelimiter})
	case "jsonl":
		src, err = load.JSONLSource(f, name, load.JSONLOptions{})
	case "parquet":
		src, err = load.ParquetSource(f, size, name)
	case "arrow":
		var as *load.ArrowSource
		if as, err = load.NewArrowSource(counted(f), name, load.ArrowOptions{}); err == nil {
			cleanup = append(cleanup, as.Release)
			src = as
		}
	}
	if err != nil {
		closeAll()
		return nil, 0, nil, usageError{err}
	}
	s, err := o.applyMapping(src)
	if err != nil {
		closeAll()
		return nil, 0, nil, err
	}
	return s, size, closeAll, nil
}

func (o *loadOptions) applyMapping(src load.Source) (load.Source, error) {
	if o.MappingFile == "" && len(o.Maps) == 0 {
		return src, nil
	}
	m := &load.Mapping{}
	if o.MappingFile != "" {
		f, err := os.Open(o.MappingFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--mapping: %w", err)}
		}
		defer f.Close()
		if m, err = load.ParseMapping(f, o.MappingFile); err != nil {
			return nil, usageError{err}
		}
	}
	for _, spec := range o.Maps {
		if err := m.Add(spec); err != nil {
			return nil, usageError{err}
		}
	}
	s, err := m.Apply(src)
	if err != nil {
		return nil, usageError{err}
	}
	return s, nil
}

// runLoad runs one load with a logged-in client and reports it.
func runLoad(cmd *cobra.Command, ios *IOStreams, c *salesforce.Client, o *loadOptions) (*loadOutcome, error) {
	ctx := cmd.Context()
	opts, err := o.engineOptions()
	if err != nil {
		return nil, err
	}
	prog := &loadProgress{label: o.Object}
	counted := func(r io.Reader) io.Reader { return countingReader{r: r, n: &prog.inputBytes} }
	src, size, closeSrc, err := o.openSource(ios, opts, counted)
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	prog.totalBytes = size
	loader := load.New(c)

	if o.DryRun {
		return nil, runDryRun(cmd, ios, loader, src, opts, o)
	}

	dir := o.OutputDir
	if o.Resume != "" {
		if dir != "" && filepath.Clean(dir) != filepath.Clean(o.Resume) {
			return nil, usageError{errors.New("--resume DIR and --output-dir must name the same directory")}
		}
		dir = o.Resume
	}
	if dir == "" {
		dir = filepath.Join("sfbatch-results", fmt.Sprintf("%s-%s-%s", o.Object, o.Operation, time.Now().Format("20060102-150405")))
	}
	var endRun func(error)
	if dir == o.OutputDir || o.Resume != "" { // -o DIR or --resume DIR: the run is journaled in DIR
		if endRun, err = startRunJournal(cmd, ios, dir, o, &opts); err != nil {
			return nil, err
		}
	}
	openSinks := load.CSVSinks
	if opts.Resume {
		openSinks = load.ResumeCSVSinks
	}
	sinks, err := openSinks(dir)
	if err != nil {
		if endRun != nil {
			endRun(err)
		}
		return nil, err
	}
	sinks.Delimiter = opts.ColumnDelimiter
	opts.Progress = prog
	if !o.Quiet && !o.JSON {
		prog.start(ctx, ios.ErrOut, ios.IsTTY)
	}
	sum, loadErr := loader.Load(ctx, src, sinks, opts)
	prog.finish()
	if endRun != nil {
		// An interrupted run keeps its part files for --resume.
		sinks.Keep = loadErr != nil
		defer endRun(loadErr)
	}
	closeErr := sinks.Close()
	out := &loadOutcome{Summary: sum, Dir: dir, Files: map[string]string{
		"success":     filepath.Join(dir, load.SuccessFile),
		"failure":     filepath.Join(dir, load.FailureFile),
		"unprocessed": filepath.Join(dir, load.UnprocessedFile),
		"results":     filepath.Join(dir, load.ResultsFile),
	}}
	var preErr *load.PreflightError
	if !o.Quiet && !errors.As(loadErr, &preErr) {
		if o.JSON {
			if err := writeJSON(ios, summaryJSON(o, out, loadErr)); err != nil {
				return out, err
			}
		} else {
			printSummary(ios, o, out)
		}
	}
	if loadErr != nil {
		var ie *load.InputError
		var pe *load.PreflightError
		switch {
		case errors.As(loadErr, &ie), errors.As(loadErr, &pe):
			return out, withExit(ExitUsage, loadErr)
		case errors.Is(loadErr, context.Canceled):
			return out, withExit(ExitCancelled, loadErr)
		}
		return out, loadErr
	}
	if closeErr != nil {
		return out, fmt.Errorf("writing result files: %w", closeErr)
	}
	if sum.Failed > 0 || sum.NotProcessed > 0 {
		return out, withExit(ExitRowsFailed, fmt.Errorf("%d of %d rows failed or were not processed; see %s", sum.Failed+sum.NotProcessed, sum.Rows, out.Files["results"]))
	}
	return out, nil
}

// runDryRun checks the whole input against the object's describe and
// reports every problem; no job is created.
func runDryRun(cmd *cobra.Command, ios *IOStreams, loader *load.Loader, src load.Source, opts load.Options, o *loadOptions) error {
	opts.DryRun = true
	opts.Preflight = load.PreflightRequired
	sum, err := loader.Load(cmd.Context(), src, nil, opts)
	var pe *load.PreflightError
	switch {
	case errors.As(err, &pe):
		if o.JSON {
			if jerr := writeJSON(ios, map[string]any{"rows": sum.Rows, "problems": pe.Problems, "more": pe.Truncated}); jerr != nil {
				return jerr
			}
		} else {
			for _, p := range pe.Problems {
				fmt.Fprintf(ios.Out, "%s: %s\n", o.input, p)
			}
			if pe.Truncated > 0 {
				fmt.Fprintf(ios.Out, "... and %d more\n", pe.Truncated)
			}
		}
		return withExit(ExitUsage, fmt.Errorf("dry run: %d problem(s) in %d rows; nothing was loaded", len(pe.Problems)+pe.Truncated, sum.Rows))
	case err != nil:
		return withExit(ExitUsage, err)
	}
	if o.JSON {
		return writeJSON(ios, map[string]any{"rows": sum.Rows, "problems": []load.Problem{}})
	}
	if !o.Quiet {
		fmt.Fprintf(ios.Out, "dry run: %d rows checked against %s, no problems found; nothing was loaded\n", sum.Rows, o.Object)
	}
	return nil
}

type summaryDoc struct {
	Object       string            `json:"object"`
	Operation    string            `json:"operation"`
	API          string            `json:"api"`
	Rows         int64             `json:"rows"`
	Succeeded    int64             `json:"succeeded"`
	Created      int64             `json:"created"`
	Failed       int64             `json:"failed"`
	NotProcessed int64             `json:"not_processed"`
	Retried      int64             `json:"retried"`
	ErrorCodes   map[string]int64  `json:"error_codes"`
	Jobs         []string          `json:"jobs"`
	Seconds      float64           `json:"seconds"`
	RowsPerSec   float64           `json:"rows_per_second"`
	Files        map[string]string `json:"files"`
	Error        string            `json:"error,omitempty"`
}

func summaryJSON(o *loadOptions, out *loadOutcome, err error) summaryDoc {
	s := out.Summary
	d := summaryDoc{
		Object: o.Object, Operation: string(o.Operation), API: s.API.String(), Rows: s.Rows,
		Succeeded: s.Succeeded, Created: s.Created, Failed: s.Failed, NotProcessed: s.NotProcessed,
		Retried: s.Retried, ErrorCodes: s.ErrorCodes, Seconds: s.Duration.Seconds(), Files: out.Files,
	}
	if d.ErrorCodes == nil {
		d.ErrorCodes = map[string]int64{}
	}
	d.Jobs = jobIDs(s)
	if sec := s.Duration.Seconds(); sec > 0 {
		d.RowsPerSec = float64(s.Rows) / sec
	}
	if err != nil {
		d.Error = err.Error()
	}
	return d
}

func jobIDs(s *load.Summary) []string {
	seen := map[string]bool{}
	ids := []string{}
	for _, j := range s.Jobs {
		if j.JobID != "" && !seen[j.JobID] {
			seen[j.JobID] = true
			ids = append(ids, j.JobID)
		}
	}
	return ids
}

func printSummary(ios *IOStreams, o *loadOptions, out *loadOutcome) {
	s := out.Summary
	w := ios.Out
	rate := 0.0
	if sec := s.Duration.Seconds(); sec > 0 {
		rate = float64(s.Rows) / sec
	}
	fmt.Fprintf(w, "\n%s %s via %s: %d rows in %s (%.0f rows/s)\n", o.Operation, o.Object, s.API, s.Rows, s.Duration.Round(time.Millisecond), rate)
	fmt.Fprintf(w, "  succeeded      %d (%d created)\n", s.Succeeded, s.Created)
	fmt.Fprintf(w, "  failed         %d\n", s.Failed)
	fmt.Fprintf(w, "  not processed  %d\n", s.NotProcessed)
	if s.Retried > 0 {
		fmt.Fprintf(w, "  retried        %d resubmissions\n", s.Retried)
	}
	if len(s.ErrorCodes) > 0 {
		codes := make([]string, 0, len(s.ErrorCodes))
		for c := range s.ErrorCodes {
			codes = append(codes, c)
		}
		sort.Slice(codes, func(i, j int) bool {
			return s.ErrorCodes[codes[i]] > s.ErrorCodes[codes[j]] || (s.ErrorCodes[codes[i]] == s.ErrorCodes[codes[j]] && codes[i] < codes[j])
		})
		fmt.Fprintln(w, "  errors by code:")
		for _, c := range codes {
			fmt.Fprintf(w, "    %-40s %d\n", c, s.ErrorCodes[c])
		}
	}
	if ids := jobIDs(s); len(ids) > 0 {
		fmt.Fprintf(w, "  jobs           %s\n", strings.Join(ids, " "))
	}
	fmt.Fprintf(w, "  results        %s\n", out.Files["results"])
	fmt.Fprintf(w, "  success        %s\n", out.Files["success"])
	fmt.Fprintf(w, "  failure        %s\n", out.Files["failure"])
	fmt.Fprintf(w, "  unprocessed    %s\n", out.Files["unprocessed"])
}

// runJournalFile is the journal of a run, kept in its output directory.
const runJournalFile = "run.db"

// runJournalID names the run in DIR/run.db: one run per output directory.
const runJournalID = "run"

// startRunJournal records the run in DIR/run.db (or, with --resume, checks that the input is
// the one the interrupted run loaded) and prints how to resume it. The returned func records
// how the run ended and closes the journal.
func startRunJournal(cmd *cobra.Command, ios *IOStreams, dir string, o *loadOptions, opts *load.Options) (func(error), error) {
	ctx := cmd.Context()
	if o.input == "-" {
		if o.Resume != "" {
			return nil, usageError{errors.New("--resume needs the input file, not standard input")}
		}
		return nil, nil // standard input cannot be read again: no journal
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	store, err := jobstore.Open(ctx, filepath.Join(dir, runJournalFile))
	if err != nil {
		return nil, err
	}
	fail := func(err error) (func(error), error) {
		store.Close()
		return nil, err
	}
	prev, err := store.GetRun(ctx, runJournalID)
	switch {
	case o.Resume != "":
		if err != nil {
			return fail(usageError{fmt.Errorf("--resume %s: no run recorded there: %w", dir, err)})
		}
		if prev.State == jobstore.RunCompleted {
			return fail(usageError{fmt.Errorf("--resume %s: the run already completed", dir)})
		}
		if err := store.CheckInput(ctx, runJournalID, o.input); err != nil {
			return fail(usageError{fmt.Errorf("--resume %s: %w", dir, err)})
		}
		opts.Resume = true
	case err == nil && prev.State != jobstore.RunCompleted:
		return fail(usageError{fmt.Errorf("%s holds an unfinished run of %s; resume it with --resume %s, or choose another --output-dir", dir, prev.InputPath, dir)})
	default:
		if err == nil {
			if err := store.DeleteRun(ctx, runJournalID); err != nil {
				return fail(err)
			}
		}
		sum, size, err := jobstore.HashFile(ctx, o.input)
		if err != nil {
			return fail(err)
		}
		abs, _ := filepath.Abs(o.input)
		if err := store.CreateRun(ctx, jobstore.Run{ID: runJournalID, Object: opts.Object, Operation: string(opts.Operation),
			InputPath: abs, InputSize: size, InputHash: sum}); err != nil {
			return fail(err)
		}
	}
	opts.Journal, opts.RunID = store, runJournalID
	if !o.Quiet && !o.JSON {
		fmt.Fprintf(ios.ErrOut, "if interrupted, resume with: %s --resume %s\n", resumeCommand(cmd, o), dir)
	}
	return func(loadErr error) {
		state, msg := jobstore.RunCompleted, ""
		if loadErr != nil {
			state, msg = jobstore.RunFailed, loadErr.Error()
			if !o.Quiet {
				fmt.Fprintf(ios.ErrOut, "resume with: %s --resume %s\n", resumeCommand(cmd, o), dir)
			}
		}
		store.UpdateRunState(context.WithoutCancel(ctx), runJournalID, state, msg)
		store.Close()
	}, nil
}

// resumeCommand is the command line of this run without secrets and without -o/--resume.
func resumeCommand(cmd *cobra.Command, o *loadOptions) string {
	parts := []string{cmd.CommandPath()}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		name := f.Name
		if name == "output-dir" || name == "resume" || strings.Contains(name, "token") || strings.Contains(name, "password") ||
			strings.Contains(name, "secret") || strings.Contains(name, "key") {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				parts = append(parts, "--"+name+"="+shellQuote(v))
			}
			return
		}
		parts = append(parts, "--"+name+"="+shellQuote(f.Value.String()))
	})
	return strings.Join(append(parts, shellQuote(o.input)), " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
