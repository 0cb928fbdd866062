package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sfbatch/sfbatch/convert"
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
	MaxAPIShare     share // --max-api-share
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
	Force           bool   // --force: an -o DIR holding an earlier run is overwritten
	File            string // --file/-f, the sf CLI's name for the input argument
	HardDelete      bool   // delete --hard-delete, as in sf data delete bulk
	DateFormat      string // --date-format: input format of date fields
	DateTimeFormat  string // --datetime-format: input format of date-time fields
	TimeZone        string // --time-zone: zone of date-times without one
	Report          bool   // --report: write report.html into the run folder at the end
	report          reportOptions
	Async           bool     // --async: create and fill the jobs, write the run folder, exit 0
	MatchBy         []string // --match-by: settle unknown inserts by these fields (--resume, results)

	// settle: sfbatch results DIR settles the run in Resume without sending anything.
	settle bool
	// recorded is the command line the run was started with (sfbatch results DIR prints it
	// with --resume).
	recorded string

	input string // file path or "-"
	// embedded: the org is an emulator that ends with this process (sfbatch demo), so no
	// resume command is printed: it could not work.
	embedded bool
	spooled  string // standard input copied to a file (--resume over standard input)
	// inputHash, if set, gives the input file's SHA-256 and size, computed while the
	// structure check reads the file (see startInputHash); openRunFolder waits for it.
	inputHash func() (sum string, size int64, err error)
	// wrap, if set, wraps the source after the mapping (retry of a plan step: lookups
	// translated through the plan's id map).
	wrap func(load.Source) load.Source
	// describe, set once logged in, describes the object for --date-format and friends.
	describe func(object string) (*salesforce.SObjectDescribe, error)
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
			Use:   lc.use + " --sobject OBJECT FILE|-|--file FILE",
			Short: lc.doc,
			Long: lc.doc + `.

Rows stream from the file (or standard input with -) through sObject
Collections for small inputs and Bulk API 2.0 for large ones (or the API you
choose), split under every Salesforce limit, and run concurrently. Every input
row ends in exactly one outcome, written to the run folder (-o DIR, or a new
sfbatch-runs/UTCTIME-SUFFIX printed at start and end):

  success.csv      rows that succeeded, with their record ids
  failure.csv      rows that failed, with Salesforce's error (a row the reader
                   cannot accept fails alone as SFBATCH_INVALID_ROW)
  unprocessed.csv  rows that were never processed (ready to load again)
  unknown.csv      rows that may have been saved but whose result could not be
                   read, with their job and batch ids (--resume, or
                   sfbatch results DIR without sending anything, settles them)
  results.csv      every row in input order with its outcome
  run.db           the journal; events.jsonl the job transitions and retries;
                   summary.json the counts

If the run is interrupted or killed, the same command with --resume DIR
finishes it without losing or duplicating a row; it stops before sending
anything if the input changed. An -o DIR that holds an earlier run is refused
unless --resume or --force. With --async the jobs are created and filled, the
run folder gets no result files, and the commands that continue (sfbatch
results DIR, or this command with --resume DIR) are printed.

Exit status: 0 when every row succeeded (or --async submitted the jobs), 3 when some rows failed or were not
processed, 2 for usage and input errors (nothing sent), 4 for authentication
errors and 5 for an org that cannot be reached (nothing sent, every row not
processed), 6 when --wait ran out (jobs left running; --resume
continues), 130 when cancelled. Ctrl-C aborts jobs that have not started
(keep them with --leave-jobs), and still writes an outcome for every row.`,
			Example: lc.ex,
			Args:    cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				in, err := opts.inputArg(args)
				if err != nil {
					return err
				}
				opts.input = in
				limitMemory()
				connect, err := opts.auth.connector()
				if err != nil {
					return err
				}
				out, err := runLoadWith(cmd, ios, connect, opts)
				if opts.Report && out != nil {
					writeRunReport(cmd.Context(), ios, out.Dir, &opts.report, opts.Quiet || opts.JSON)
				}
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
	f.IntVar(&o.BatchSize, "batch-size", 0, "records per batch (bulk1, max 10000), job (bulk2; default: 10000 for the first job, doubling to 100000) or call (collections, max 200)")
	bindShareFlag(f, &o.MaxAPIShare)
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
	f.StringVarP(&o.OutputDir, "output-dir", "o", "", "run folder for the journal, events and result files (default a new sfbatch-runs/UTCTIME-SUFFIX); refused if it holds an earlier run, unless --resume or --force")
	f.BoolVar(&o.JSON, "json", false, "print a machine-readable summary")
	f.BoolVar(&o.Quiet, "quiet", false, "print nothing but errors")
	f.StringVarP(&o.File, "file", "f", "", "input file, instead of the FILE argument (the sf CLI's --file)")
	if o.Operation == load.Delete {
		f.BoolVar(&o.HardDelete, "hard-delete", false, "delete permanently, bypassing the recycle bin (same as sfbatch hard-delete; the sf CLI's --hard-delete)")
	}
	f.BoolVar(&o.LeaveJobs, "leave-jobs", false, "on failure or Ctrl-C leave open jobs running instead of aborting them")
	f.Var((*minutes)(&o.Wait), "wait", "stop waiting after this long (minutes as in the sf CLI, 30, or a duration, 1h30m): jobs already processing are left running, the command that continues (--resume) is printed, exit 6; default: wait for every job")
	f.BoolVar(&o.NoPreflight, "no-preflight", false, "skip the describe-based input check")
	f.StringVar(&o.Resume, "resume", "", "resume the interrupted run whose run folder is DIR: same command, same input")
	f.BoolVar(&o.Force, "force", false, "with -o DIR: overwrite an earlier run in DIR")
	f.BoolVar(&o.Async, "async", false, "create and fill the jobs (Bulk API only), write the run folder and exit 0 without waiting; sfbatch results DIR or --resume DIR collects the results (the sf CLI's --async)")
	if o.Operation == load.Insert {
		f.StringSliceVar(&o.MatchBy, "match-by", nil, "with --resume: settle inserts whose outcome is unknown and that have no external id by these fields, e.g. LastName,Email (see sfbatch results)")
	}
	f.StringVar(&o.DateFormat, "date-format", "", "input format of date fields, e.g. DD/MM/YYYY or MM/DD/YYYY (tokens YYYY MM M DD D); a value that does not match fails its row")
	f.StringVar(&o.DateTimeFormat, "datetime-format", "", "input format of date-time fields, e.g. 'DD/MM/YYYY HH:mm' (tokens as --date-format plus HH mm ss SSS Z)")
	f.StringVar(&o.TimeZone, "time-zone", "", "IANA zone of date-times without one, e.g. Europe/Paris (default UTC); DST gaps move forward, overlaps take the earlier time")
	f.BoolVar(&o.Report, "report", false, "write report.html, the run's HTML report, into the run folder at the end (see sfbatch report)")
	o.report.bindValues(f)
}

// connector resolves the credentials before the run starts (a bad profile is a usage error)
// and returns the login to make once the run folder exists; an org the sf CLI is logged in
// to is asked for its session at connect.
func (a *authOptions) connector() (connectFunc, error) {
	var p *Profile
	if a.targetOrg() == "" {
		var err error
		if p, err = a.resolve(); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, log *slog.Logger) (*salesforce.Client, error) {
		var extra []salesforce.Option
		if log != nil {
			extra = append(extra, salesforce.WithLogger(log))
		}
		if p == nil {
			return a.client(ctx, extra...)
		}
		return p.client(ctx, extra...)
	}, nil
}

// inputArg returns the input named by the FILE argument or --file.
func (o *loadOptions) inputArg(args []string) (string, error) {
	switch {
	case len(args) == 1 && o.File != "":
		return "", usageError{fmt.Errorf("the input is named twice: FILE argument %q and --file %q", args[0], o.File)}
	case len(args) == 1:
		return args[0], nil
	case o.File != "":
		return o.File, nil
	}
	return "", usageError{errors.New("no input: give a FILE argument (- for standard input) or --file FILE")}
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
	// Wall is the time the command took, from reading the flags to the result files
	// written: what the user waited, login and input checks included (Summary.Duration is
	// the load alone). Zero when unknown.
	Wall time.Duration
}

// engineOptions turns flags into load.Options. Every flag error is a usage
// error naming the flag.
func (o *loadOptions) engineOptions() (load.Options, error) {
	if o.HardDelete {
		o.Operation = load.HardDelete
	}
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
		MaxAPIShare:      float64(o.MaxAPIShare),
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
	if _, _, err := o.conversionRules(); err != nil {
		return opts, err
	}
	if err := o.trustOptions(&opts); err != nil {
		return opts, err
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

// openSource opens the input (the file, the spooled copy of standard input, or
// standard input streamed as CSV) as a load.Source with the mapping applied. The
// returned closer releases the file.
func (o *loadOptions) openSource(ios *IOStreams, opts load.Options, counted func(io.Reader) io.Reader) (load.Source, int64, func(), error) {
	format, err := o.inputFormat()
	if err != nil {
		return nil, 0, nil, err
	}
	if o.input == "-" && o.spooled == "" {
		// CSV streams from standard input; JSON Lines and Parquet are spooled by runLoadWith.
		if format != "csv" {
			return nil, 0, nil, fmt.Errorf("%s from standard input must be spooled to a file first", format)
		}
		src := load.CSVSource(counted(ios.In), "stdin", load.CSVOptions{Delimiter: opts.ColumnDelimiter})
		s, err := o.applyMapping(src)
		return s, 0, func() {}, err
	}
	name := o.inputName()
	f, err := os.Open(first(o.spooled, o.input))
	if err != nil {
		return nil, 0, nil, usageError{err}
	}
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	var src load.Source
	release := func() {}
	switch format {
	case "csv":
		src = load.CSVSource(counted(f), name, load.CSVOptions{Delimiter: opts.ColumnDelimiter})
	case "jsonl":
		src, err = load.JSONLSource(f, name, load.JSONLOptions{})
	case "parquet":
		src, err = load.ParquetSource(f, size, name)
	case "arrow": // one record batch in memory at a time
		var as *load.ArrowSource
		if as, err = load.NewArrowSource(counted(f), name, load.ArrowOptions{}); err == nil {
			release = as.Release
			src = as
		}
	}
	closeAll := func() { release(); f.Close() }
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
	s, err := o.mapSource(src)
	if err != nil {
		return s, err
	}
	if o.wrap != nil {
		s = o.wrap(s)
	}
	if o.DateFormat != "" || o.DateTimeFormat != "" || o.TimeZone != "" {
		s = convert.Lazy(s, o.conversions)
	}
	return s, nil
}

// conversionRules checks --date-format, --datetime-format and --time-zone.
func (o *loadOptions) conversionRules() (date, dateTime *convert.Rule, err error) {
	date = &convert.Rule{Kind: convert.Date, Format: o.DateFormat}
	dateTime = &convert.Rule{Kind: convert.DateTime, Format: o.DateTimeFormat}
	if o.TimeZone != "" {
		if dateTime.Zone, err = time.LoadLocation(o.TimeZone); err != nil {
			return nil, nil, usageError{fmt.Errorf("--time-zone: %w", err)}
		}
	}
	if err := date.Compile(); err != nil {
		return nil, nil, usageError{fmt.Errorf("--date-format: %w", err)}
	}
	if err := dateTime.Compile(); err != nil {
		return nil, nil, usageError{fmt.Errorf("--datetime-format: %w", err)}
	}
	return date, dateTime, nil
}

// conversions picks the date and date-time columns of header from the object's describe
// (once logged in; before, as in the structure check, nothing is converted).
func (o *loadOptions) conversions(header []string) (map[string]*convert.Rule, error) {
	if o.describe == nil {
		return nil, nil
	}
	date, dateTime, err := o.conversionRules()
	if err != nil {
		return nil, err
	}
	d, err := o.describe(o.Object)
	if err != nil {
		return nil, err
	}
	rules := map[string]*convert.Rule{}
	for _, col := range header {
		f, ok := d.Field(col)
		switch {
		case !ok:
		case f.Type == "date" && o.DateFormat != "":
			rules[col] = date
		case f.Type == "datetime" && (o.DateTimeFormat != "" || o.TimeZone != ""):
			rules[col] = dateTime
		}
	}
	return rules, nil
}

// mapSource applies --mapping and --map.
func (o *loadOptions) mapSource(src load.Source) (load.Source, error) {
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

// connectFunc logs in to the org; log receives the client's request retries (with their
// cause) for events.jsonl.
type connectFunc func(ctx context.Context, log *slog.Logger) (*salesforce.Client, error)

// runLoad runs one load with a logged-in client and reports it.
func runLoad(cmd *cobra.Command, ios *IOStreams, c *salesforce.Client, o *loadOptions) (*loadOutcome, error) {
	return runLoadWith(cmd, ios, func(context.Context, *slog.Logger) (*salesforce.Client, error) { return c, nil }, o)
}

// runLoadWith runs one load: it checks the input, opens the run folder (run.db, events.jsonl),
// logs in, loads, and writes the result files and summary.json. A login that fails or an org
// that cannot be reached stops the run before any job exists, with every row not processed.
func runLoadWith(cmd *cobra.Command, ios *IOStreams, connect connectFunc, o *loadOptions) (*loadOutcome, error) {
	began := time.Now()
	ctx := cmd.Context()
	opts, err := o.engineOptions()
	if err != nil {
		return nil, err
	}
	prog := &loadProgress{label: o.Object}
	// Standard input is hashed as it streams: its identity is recorded when it ends.
	stdin := &hashingReader{r: ios.In, h: sha256.New()}
	sios := *ios
	sios.In = stdin
	format, err := o.inputFormat()
	if err != nil {
		return nil, err
	}
	if o.input == "-" && (o.Resume != "" || format != "csv") {
		// Standard input is read whole first when it is resumed (to prove it unchanged before
		// anything is sent) and for JSON Lines and Parquet (which need a seekable file); it is
		// then checked and journaled like a file.
		path, cleanup, err := spoolStdin(&sios)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		o.spooled = path
	}
	counted := func(r io.Reader) io.Reader { return countingReader{r: r, n: &prog.inputBytes} }
	if o.DryRun {
		return runDryRun(cmd, ios, &sios, connect, opts, o, counted)
	}
	// A file is checked whole before anything is sent: a structural error stops it here,
	// before a run folder exists. The run journal's hash of the file is taken meanwhile.
	hashCtx, stopHash := context.WithCancel(ctx)
	defer stopHash()
	o.startInputHash(hashCtx)
	rows, err := o.checkStructure(opts)
	if err != nil {
		return nil, withExit(ExitUsage, err)
	}
	if !opts.Resume {
		opts.ExpectedRows = rows // lets --max-api-share refuse a run that cannot fit before it sends anything
	}
	src, size, closeSrc, err := o.openSource(&sios, opts, counted)
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	prog.totalBytes = size
	rf, err := openRunFolder(cmd, ios, o, &opts)
	if err != nil {
		return nil, err
	}
	defer rf.close()
	rowHash, err := rowHasher(rf.run.Options)
	if err != nil {
		rf.end(nil, err, ExitError)
		return nil, err
	}
	if rf.run.InputHash != "" {
		// The input's SHA-256 is recorded: a resumption proves the input unchanged by it
		// (checkResumeInput) and never reads row hashes, so none are recorded.
		rowHash = nil
	}
	hsrc := &hashingSource{Source: src, store: rf.store, runID: rf.run.ID, hash: rowHash}
	openSinks := load.CSVSinks
	if opts.Resume {
		openSinks = load.ResumeCSVSinks
	}
	sinks, err := openSinks(rf.dir)
	if err != nil {
		rf.end(nil, err, ExitError)
		return nil, err
	}
	sinks.Delimiter = opts.ColumnDelimiter
	sinks.Spill = opts.Submit // --async writes no result files, only parts to settle later
	if opts.Settle {
		// Rows whose final outcome the run already has keep it; MatchBy looks at records
		// created since the run started.
		if opts.Kept, err = sinks.Held(); err != nil {
			rf.end(nil, err, ExitError)
			return nil, err
		}
	}
	opts.MatchSince = rf.run.CreatedAt
	if !o.Quiet && !o.JSON {
		prog.start(ctx, ios.ErrOut, ios.IsTTY)
	}
	rf.events.next = prog
	log := slog.New(logHandler{l: rf.events})
	var sum *load.Summary
	var loadErr error
	c, cerr := connect(ctx, log)
	if cerr == nil {
		o.describe = func(obj string) (*salesforce.SObjectDescribe, error) { return c.Describe(ctx, obj) }
	}
	switch {
	case cerr != nil && opts.Resume:
		// Nothing is sent now, and the run keeps the outcomes it had: rows it sent are not
		// relabelled not processed.
		sum, loadErr = &load.Summary{ErrorCodes: map[string]int64{}}, cerr
	case cerr != nil:
		// The org cannot be used: nothing is sent, every row is listed as not processed.
		sum, loadErr = load.Unsent(ctx, hsrc, sinks, opts, cerr)
	default:
		opts.Journal, opts.RunID = hashJournal{Store: rf.store, src: hsrc}, rf.run.ID
		opts.Progress, opts.Logger = rf.events, log
		rf.events.write("connected", map[string]any{"instance_url": c.InstanceURL(), "api_version": c.APIVersion()})
		stopUsage := watchUsage(ctx, c, rf.events)
		sum, loadErr = load.New(c).Load(ctx, hsrc, sinks, opts)
		recordJobTimes(ctx, c, rf.events, sum)
		stopUsage()
	}
	prog.finish()
	if err := hsrc.flush(ctx); err != nil && loadErr == nil {
		loadErr = err
	}
	if o.input == "-" && o.spooled == "" && loadErr == nil {
		rf.store.SetRunInput(context.WithoutCancel(ctx), rf.run.ID, stdin.n, hex.EncodeToString(stdin.h.Sum(nil)))
	}
	// An interrupted run, or one with rows of unknown outcome, keeps its part files and stays
	// open for --resume, which settles those rows.
	runErr := loadErr
	if runErr == nil && sum != nil && sum.Unknown > 0 {
		runErr = fmt.Errorf("%d rows have an unknown outcome", sum.Unknown)
	}
	// Settling keeps them until results.csv shows every row settled (below).
	sinks.Keep = runErr != nil || opts.Settle
	var closeErr error
	closed := false
	switch {
	case opts.Submit && loadErr == nil:
		// Submitted: no result files; the outcomes of rows that failed before being sent
		// stay in the part files for sfbatch results or --resume.
		closeErr = sinks.Sync()
	case (opts.Settle || opts.Resume) && cerr != nil, opts.Settle && loadErr != nil:
		// A resume that could not log in, or a settling run that stopped, leaves the result
		// files as they were.
	default:
		closeErr, closed = sinks.Close(), true
	}
	if opts.Resume && closed && closeErr == nil {
		// The engine counts only the rows this call handled; results.csv holds the whole run.
		if err := recount(filepath.Join(rf.dir, load.ResultsFile), sum); err != nil {
			closeErr = err
		}
	}
	if opts.Settle && closeErr == nil && loadErr == nil && settled(sum) {
		os.RemoveAll(filepath.Join(rf.dir, load.PartsDir))
	}
	out := &loadOutcome{Summary: sum, Dir: rf.dir, Files: map[string]string{
		"success":     filepath.Join(rf.dir, load.SuccessFile),
		"failure":     filepath.Join(rf.dir, load.FailureFile),
		"unprocessed": filepath.Join(rf.dir, load.UnprocessedFile),
		"unknown":     filepath.Join(rf.dir, load.UnknownFile),
		"results":     filepath.Join(rf.dir, load.ResultsFile),
		"summary":     filepath.Join(rf.dir, summaryFile),
		"events":      filepath.Join(rf.dir, eventsFile),
	}}
	if opts.Submit && loadErr == nil {
		out.Files = map[string]string{"summary": out.Files["summary"], "events": out.Files["events"]}
	}
	out.Wall = time.Since(began)
	code, exitErr := loadExit(sum, loadErr, out)
	if loadErr == nil && sum != nil {
		code, exitErr = trustExit(o, sum, rf.dir, code, exitErr)
	}
	if cerr != nil {
		code, exitErr = connectExit(cerr, sum, out)
		if opts.Resume {
			exitErr = fmt.Errorf("%w; nothing was sent and the run in %s is unchanged", cerr, rf.dir)
		}
	}
	if loadErr == nil && closeErr != nil {
		code, exitErr = ExitError, fmt.Errorf("writing result files: %w", closeErr)
	}
	if opts.Settle || opts.Submit {
		rf.settle, rf.async = opts.Settle, opts.Submit
		runErr = loadErr
	}
	rf.end(out, runErr, code)
	var preErr *load.PreflightError
	next := nextCommands(cmd, o, rf.dir, sum, code, loadErr)
	if !o.Quiet && !errors.As(loadErr, &preErr) && !(opts.Resume && cerr != nil) {
		if o.JSON {
			doc := summaryJSON(o, out, loadErr)
			doc.RunFolder, doc.Next = rf.dir, next
			if err := writeJSON(ios, doc); err != nil {
				return out, err
			}
		} else {
			printSummary(ios, o, out)
		}
	}
	if !o.Quiet && !o.embedded && !errors.As(loadErr, &preErr) {
		switch {
		case opts.Settle || opts.Submit:
			printNext(ios, sum, next)
		case code != ExitOK && code != ExitUsage && runErr != nil:
			fmt.Fprintf(ios.ErrOut, "resume with: %s --resume %s\n", resumeCommand(cmd, o), rf.dir)
		}
	}
	return out, withExit(code, exitErr)
}

// recount sets the outcome counts of sum from a merged results.csv: after --resume they
// cover the interrupted run's rows as well as the resumed ones. Columns are found by name.
func recount(path string, sum *load.Summary) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := sfcsv.NewReader(f, sfcsv.ReaderOptions{ReuseRecord: true})
	hdr, err := rd.Header()
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	col := func(name string) int { return slices.Index(hdr, name) }
	outcome, created, code, msg := col("sf__Outcome"), col("sf__Created"), col("sf__ErrorCode"), col("sf__Error")
	if outcome < 0 {
		return fmt.Errorf("reading %s: no sf__Outcome column", path)
	}
	n := load.Summary{ErrorCodes: map[string]int64{}}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		n.Rows++
		switch rec[outcome] {
		case "succeeded":
			n.Succeeded++
			if created >= 0 && rec[created] == "true" {
				n.Created++
			}
			continue
		case "failed":
			n.Failed++
		case "not_processed":
			n.NotProcessed++
		case "unknown":
			n.Unknown++
		}
		switch {
		case code >= 0 && rec[code] != "":
			n.ErrorCodes[rec[code]]++
		case msg >= 0:
			if c, _, ok := strings.Cut(rec[msg], ":"); ok {
				n.ErrorCodes[c]++
			}
		}
	}
	sum.Rows, sum.Succeeded, sum.Created, sum.Failed, sum.NotProcessed, sum.Unknown, sum.ErrorCodes =
		n.Rows, n.Succeeded, n.Created, n.Failed, n.NotProcessed, n.Unknown, n.ErrorCodes
	return nil
}

// connectExit maps a login that failed to the exit code: 5 when the org could not be
// reached, 4 when it refused the login (or there were no credentials), the code a usage
// error or a cancellation has otherwise. Nothing was sent; every row is not processed.
func connectExit(err error, sum *load.Summary, out *loadOutcome) (int, error) {
	var ee *exitError
	code := ExitError
	switch {
	case errors.Is(err, context.Canceled):
		return ExitCancelled, err
	case load.Unreachable(err):
		code = ExitUnreachable
	case load.OrgUnusable(err):
		code = ExitAuth
	case errors.As(err, &ee):
		code = ee.code
	case isUsageError(err):
		code = ExitUsage
	}
	return code, fmt.Errorf("%w; nothing was sent: all %d rows are in %s", err, sum.Rows, out.Files["unprocessed"])
}

// loadExit maps a load's end to the contracts' exit code and the error to print.
func loadExit(sum *load.Summary, loadErr error, out *loadOutcome) (int, error) {
	var ie *load.InputError
	var pe *load.PreflightError
	switch {
	case loadErr == nil:
		if sum.Failed > 0 || sum.NotProcessed > 0 || sum.Unknown > 0 {
			msg := fmt.Sprintf("%d of %d rows failed or were not processed", sum.Failed+sum.NotProcessed, sum.Rows)
			if sum.Unknown > 0 {
				msg += fmt.Sprintf(", %d have an unknown outcome (see %s)", sum.Unknown, out.Files["unknown"])
			}
			return ExitRowsFailed, fmt.Errorf("%s; see %s", msg, out.Files["results"])
		}
		return ExitOK, nil
	case errors.As(loadErr, &ie):
		if ie.Structural && !nothingSent(sum, loadErr) {
			// Standard input stopped at a row that cannot be delimited: the rows before it
			// have their outcomes, nothing after it was sent.
			return ExitRowsFailed, fmt.Errorf("%w; the rows before it were loaded, nothing after it was sent; see %s", loadErr, out.Files["results"])
		}
		return ExitUsage, loadErr
	case errors.As(loadErr, &pe):
		return ExitUsage, loadErr
	case errors.Is(loadErr, context.DeadlineExceeded):
		// --wait ran out: jobs Salesforce is processing are left running (their rows are
		// unknown until --resume collects them); jobs it never started were aborted.
		return ExitWaitTimeout, fmt.Errorf("--wait ran out; jobs already processing were left running and --resume collects them: %w", loadErr)
	case errors.Is(loadErr, context.Canceled):
		return ExitCancelled, loadErr
	case load.OrgUnusable(loadErr) && nothingSent(sum, loadErr):
		code := ExitAuth
		if load.Unreachable(loadErr) {
			code = ExitUnreachable
		}
		return code, fmt.Errorf("%w; nothing was sent: all %d rows are in %s", loadErr, sum.Rows, out.Files["unprocessed"])
	case load.OrgUnusable(loadErr):
		// The org was lost mid-run: every row is labelled, the ones never sent not processed.
		return ExitRowsFailed, loadErr
	}
	return ExitError, loadErr
}

// nothingSent reports whether the load can have sent no row: no job was created, and no
// sObject Collections call can have reached Salesforce (one refused for its session did not).
func nothingSent(sum *load.Summary, err error) bool {
	if sum.Succeeded > 0 {
		return false
	}
	for _, j := range sum.Jobs {
		if j.JobID != "" || j.State != "InProgress" || load.Unreachable(err) || !load.OrgUnusable(err) {
			return false
		}
	}
	return true
}

// checkStructure reads an input file once, sending nothing, so that an error after which
// rows cannot be delimited (an unterminated quote) stops the run before the first upload.
// JSON Lines need no extra pass: JSONLSource reads the file once for its columns and
// reports such errors then. Standard input streamed as CSV cannot be read twice: the load
// itself stops at the error. It returns the data rows it read (0 when it read none).
func (o *loadOptions) checkStructure(opts load.Options) (rows int64, err error) {
	path := o.input
	if o.spooled != "" {
		path = o.spooled
	} else if path == "-" {
		return 0, nil
	}
	format, err := o.inputFormat()
	if err != nil || format == "jsonl" {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, usageError{err}
	}
	defer f.Close()
	var src load.Source
	switch format {
	case "csv":
		src = load.CSVSource(f, o.inputName(), load.CSVOptions{Delimiter: opts.ColumnDelimiter})
	case "parquet":
		st, err := f.Stat()
		if err != nil {
			return 0, err
		}
		if src, err = load.ParquetSource(f, st.Size(), o.inputName()); err != nil {
			return 0, err
		}
	case "arrow":
		as, err := load.NewArrowSource(f, o.inputName(), load.ArrowOptions{})
		if err != nil {
			return 0, usageError{err}
		}
		defer as.Release()
		src = as
	}
	rows, _, err = load.CheckStructure(src)
	return rows, err
}

// startInputHash starts hashing a new run's input file (for its run journal) in the
// background and sets o.inputHash to wait for the result, so that the hash and the
// structure check, which both read the whole file before anything is sent, overlap.
// Resumed runs and standard input are hashed where they always were.
func (o *loadOptions) startInputHash(ctx context.Context) {
	o.inputHash = nil
	path := first(o.spooled, o.input)
	if o.Resume != "" || path == "-" {
		return
	}
	type hashed struct {
		sum  string
		size int64
		err  error
	}
	done := make(chan hashed, 1)
	go func() {
		sum, size, err := jobstore.HashFile(ctx, path)
		done <- hashed{sum, size, err}
	}()
	var h *hashed
	o.inputHash = func() (string, int64, error) {
		if h == nil {
			got := <-done
			h = &got
		}
		return h.sum, h.size, h.err
	}
}

// inputName names the input in messages.
func (o *loadOptions) inputName() string {
	if o.input == "-" {
		return "stdin"
	}
	return o.input
}

// hashingReader hashes and counts what is read through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (r *hashingReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.h.Write(b[:n])
	r.n += int64(n)
	return n, err
}

// spoolStdin copies standard input to a temporary file and points ios at an empty reader.
func spoolStdin(ios *IOStreams) (string, func(), error) {
	tmp, err := os.CreateTemp("", "sfbatch-stdin-*")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	if _, err := io.Copy(tmp, ios.In); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("reading standard input: %w", err)
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return "", nil, err
	}
	return tmp.Name(), cleanup, nil
}

// runDryRun checks the whole input against the object's describe and sends nothing. Like a
// load it writes a run folder: each row with a finding failed with it (failure.csv), the
// others not processed (unprocessed.csv, ready to load), summary.json in state dry-run. It
// prints every finding and exits 0 without findings, 3 with findings in rows, 2 for a
// problem with the header or the options.
func runDryRun(cmd *cobra.Command, ios, sios *IOStreams, connect connectFunc, opts load.Options, o *loadOptions, counted func(io.Reader) io.Reader) (*loadOutcome, error) {
	ctx := cmd.Context()
	if o.Resume != "" {
		return nil, usageError{errors.New("--dry-run sends nothing, so there is nothing to --resume")}
	}
	src, _, closeSrc, err := o.openSource(sios, opts, counted)
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	rf, err := openRunFolder(cmd, ios, o, &opts)
	if err != nil {
		return nil, err
	}
	defer rf.close()
	sinks, err := load.CSVSinks(rf.dir)
	if err != nil {
		rf.end(nil, err, ExitError)
		return nil, err
	}
	sinks.Delimiter = opts.ColumnDelimiter
	log := slog.New(logHandler{l: rf.events})
	opts.DryRun, opts.Preflight, opts.Logger = true, load.PreflightRequired, log
	var sum *load.Summary
	c, cerr := connect(ctx, log)
	if cerr != nil {
		sum, err = load.Unsent(ctx, src, sinks, opts, cerr)
	} else {
		o.describe = func(obj string) (*salesforce.SObjectDescribe, error) { return c.Describe(ctx, obj) }
		sum, err = load.New(c).Load(ctx, src, sinks, opts)
	}
	closeErr := sinks.Close()
	out := &loadOutcome{Summary: sum, Dir: rf.dir, Files: resultFiles(rf.dir)}
	var pe *load.PreflightError
	code, exitErr := ExitOK, error(nil)
	switch {
	case cerr != nil:
		code, exitErr = connectExit(cerr, sum, out)
	case errors.Is(err, context.Canceled):
		code, exitErr = ExitCancelled, err
	case errors.As(err, &pe):
		// Findings in rows exit 3; a problem with the header or the options (row 0) is an
		// input error, exit 2.
		code = ExitRowsFailed
		if slices.ContainsFunc(pe.Problems, func(p load.Problem) bool { return p.Row == 0 }) {
			code = ExitUsage
		}
		exitErr = fmt.Errorf("dry run: %d problem(s) in %d rows; nothing was loaded; see %s", len(pe.Problems)+pe.Truncated, sum.Rows, out.Files["failure"])
	case err != nil:
		code, exitErr = ExitUsage, err
	case closeErr != nil:
		code, exitErr = ExitError, fmt.Errorf("writing result files: %w", closeErr)
	case sum.Failed > 0:
		// Rows the reader could not accept: no preflight finding, but they would fail.
		code, exitErr = ExitRowsFailed, fmt.Errorf("dry run: %d of %d rows cannot be sent; nothing was loaded; see %s", sum.Failed, sum.Rows, out.Files["failure"])
	}
	// Every row checked (or the header found wrong): the findings are the dry run's result.
	rf.dryRun = cerr == nil && (code == ExitOK || code == ExitRowsFailed || pe != nil)
	rf.end(out, exitErr, code)
	if cerr != nil {
		return out, withExit(code, exitErr)
	}
	var problems []load.Problem
	more := 0
	if pe != nil {
		problems, more = pe.Problems, pe.Truncated
	}
	if o.JSON {
		if problems == nil {
			problems = []load.Problem{}
		}
		if jerr := writeJSON(ios, map[string]any{"rows": sum.Rows, "problems": problems, "more": more, "dir": rf.dir}); jerr != nil {
			return out, jerr
		}
	} else {
		for _, p := range problems {
			fmt.Fprintf(ios.Out, "%s: %s\n", o.input, p)
		}
		if more > 0 {
			fmt.Fprintf(ios.Out, "... and %d more\n", more)
		}
		if code == ExitOK && !o.Quiet {
			fmt.Fprintf(ios.Out, "dry run: %d rows checked against %s, no problems found; nothing was loaded\n", sum.Rows, o.Object)
		}
	}
	return out, withExit(code, exitErr)
}

// resultFiles names the files of a run folder, as loadOutcome.Files lists them.
func resultFiles(dir string) map[string]string {
	return map[string]string{
		"success":     filepath.Join(dir, load.SuccessFile),
		"failure":     filepath.Join(dir, load.FailureFile),
		"unprocessed": filepath.Join(dir, load.UnprocessedFile),
		"unknown":     filepath.Join(dir, load.UnknownFile),
		"results":     filepath.Join(dir, load.ResultsFile),
		"summary":     filepath.Join(dir, summaryFile),
		"events":      filepath.Join(dir, eventsFile),
	}
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
	Unknown      int64             `json:"unknown"`
	Unclaimed    []string          `json:"unclaimed_jobs,omitempty"`
	Retried      int64             `json:"retried"`
	ErrorCodes   map[string]int64  `json:"error_codes"`
	Jobs         []string          `json:"jobs"`
	Seconds      float64           `json:"seconds"`      // wall time of the command, login included
	LoadSeconds  float64           `json:"load_seconds"` // the load alone
	RowsPerSec   float64           `json:"rows_per_second"`
	Files        map[string]string `json:"files"`
	Error        string            `json:"error,omitempty"`
	// Submitted counts rows left in jobs for Salesforce to process (--async); Running lists
	// the jobs still processing; RunFolder and Next say where the run is and what continues it.
	Submitted int64    `json:"submitted,omitempty"`
	Running   []string `json:"running_jobs,omitempty"`
	RunFolder string   `json:"run_folder,omitempty"`
	Next      []string `json:"next,omitempty"`
}

func summaryJSON(o *loadOptions, out *loadOutcome, err error) summaryDoc {
	s := out.Summary
	d := summaryDoc{
		Object: o.Object, Operation: string(o.Operation), API: s.API.String(), Rows: s.Rows,
		Succeeded: s.Succeeded, Created: s.Created, Failed: s.Failed, NotProcessed: s.NotProcessed, Unknown: s.Unknown, Unclaimed: s.UnclaimedJobs,
		Retried: s.Retried, ErrorCodes: s.ErrorCodes, Seconds: s.Duration.Seconds(), LoadSeconds: s.Duration.Seconds(), Files: out.Files,
		Submitted: s.Submitted, Running: s.Running,
	}
	if out.Wall > 0 {
		d.Seconds = out.Wall.Seconds()
	}
	if d.ErrorCodes == nil {
		d.ErrorCodes = map[string]int64{}
	}
	d.Jobs = jobIDs(s)
	if d.Seconds > 0 {
		d.RowsPerSec = float64(s.Rows) / d.Seconds
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
	wall := out.Wall
	if wall <= 0 {
		wall = s.Duration
	}
	rate := 0.0
	if sec := wall.Seconds(); sec > 0 {
		rate = float64(s.Rows) / sec
	}
	// The time printed is the time waited: login, input checks and result files included.
	fmt.Fprintf(w, "\n%s %s via %s: %d rows in %s (%.0f rows/s; load %s)\n", o.Operation, o.Object, s.API, s.Rows,
		wall.Round(time.Millisecond), rate, s.Duration.Round(time.Millisecond))
	fmt.Fprintf(w, "  succeeded      %d (%d created)\n", s.Succeeded, s.Created)
	fmt.Fprintf(w, "  failed         %d\n", s.Failed)
	fmt.Fprintf(w, "  not processed  %d\n", s.NotProcessed)
	if s.Unknown > 0 {
		fmt.Fprintf(w, "  unknown        %d (may have been saved; see unknown.csv, sfbatch results or --resume settles them)\n", s.Unknown)
	}
	for _, id := range s.UnclaimedJobs {
		fmt.Fprintf(w, "  job %s may have been created by a request whose answer was lost; check it and abort it\n", id)
	}
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
	if s.Submitted > 0 {
		fmt.Fprintf(w, "  submitted      %d (left for Salesforce to process; no result files yet)\n", s.Submitted)
	}
	if out.Files["results"] == "" {
		return
	}
	fmt.Fprintf(w, "  results        %s\n", out.Files["results"])
	fmt.Fprintf(w, "  success        %s\n", out.Files["success"])
	fmt.Fprintf(w, "  failure        %s\n", out.Files["failure"])
	fmt.Fprintf(w, "  unprocessed    %s\n", out.Files["unprocessed"])
	if s.Unknown > 0 {
		fmt.Fprintf(w, "  unknown        %s\n", out.Files["unknown"])
	}
}

// runFolder is the open folder of one load run: its journal, its events and its identity.
type runFolder struct {
	dir    string
	store  *jobstore.Store
	run    jobstore.Run
	events *eventLog
	ios    *IOStreams
	quiet  bool
	start  time.Time
	// settle: sfbatch results DIR; async: --async. Each sets the run's state its own way.
	settle, async bool
	dryRun        bool // summary.json says dry-run; findings are its result, nothing to resume
}

// summaryStateDryRun is summary.json's state for a dry run that checked every row.
const summaryStateDryRun = "dry-run"

// openRunFolder picks the run folder (--resume DIR, -o DIR, or a new default one), refuses an
// -o that holds an earlier run unless --force, records the run (id, input identity) in
// run.db or, with --resume, proves the input unchanged, and starts events.jsonl. It prints
// the folder and the command that resumes the run.
func openRunFolder(cmd *cobra.Command, ios *IOStreams, o *loadOptions, opts *load.Options) (*runFolder, error) {
	ctx := cmd.Context()
	say := func(format string, args ...any) {
		if !o.Quiet && !o.JSON {
			fmt.Fprintf(ios.ErrOut, format, args...)
		}
	}
	dir := o.OutputDir
	resume := false
	switch {
	case o.Resume != "":
		if dir != "" && filepath.Clean(dir) != filepath.Clean(o.Resume) {
			return nil, usageError{errors.New("--resume DIR and --output-dir must name the same directory")}
		}
		dir = o.Resume
		prev, ok, err := recordedRun(ctx, dir)
		if err != nil {
			return nil, err
		}
		if !ok {
			// Killed before anything was recorded: nothing can have been sent.
			fmt.Fprintf(ios.ErrOut, "--resume %s: no run was recorded there, so nothing was sent; starting the run\n", dir)
			if err := clearRun(dir); err != nil {
				return nil, err
			}
			break
		}
		if prev.State == jobstore.RunCompleted {
			return nil, usageError{fmt.Errorf("--resume %s: the run already completed", dir)}
		}
		resume = true
	case dir != "":
		if holdsRun(dir) {
			if !o.Force {
				what := "an earlier run"
				if prev, ok, _ := recordedRun(ctx, dir); ok {
					what = fmt.Sprintf("an earlier run (%s of %s, %s)", prev.Operation, prev.InputPath, prev.State)
				}
				return nil, usageError{fmt.Errorf("%s holds %s; resume it with --resume %s, overwrite it with --force, or choose another --output-dir", dir, what, dir)}
			}
			if err := clearRun(dir); err != nil {
				return nil, err
			}
		}
	default:
		var err error
		if dir, err = newRunDir(time.Now()); err != nil {
			return nil, err
		}
	}
	store, err := openRunJournal(ctx, dir)
	if err != nil {
		return nil, err
	}
	rf := &runFolder{dir: dir, store: store, ios: ios, quiet: o.Quiet || o.JSON, start: time.Now()}
	fail := func(err error) (*runFolder, error) {
		store.Close()
		return nil, err
	}
	if resume {
		runs, err := store.ListRuns(ctx)
		if err != nil || len(runs) == 0 {
			return fail(fmt.Errorf("--resume %s: %w", dir, err))
		}
		rf.run = runs[0]
		if err := checkResumeInput(ctx, store, rf.run, o, *opts); err != nil {
			return fail(withExit(ExitUsage, fmt.Errorf("--resume %s: %w; nothing was sent", dir, err)))
		}
		opts.Resume = true
	} else {
		rf.run = jobstore.Run{ID: jobstore.NewRunID(time.Now()), Object: opts.Object, Operation: string(opts.Operation), InputPath: "-",
			Options: newRunOptions()}
		if path := first(o.spooled, o.input); path != "-" {
			hash := func() (string, int64, error) { return jobstore.HashFile(ctx, path) }
			if o.inputHash != nil {
				hash, o.inputHash = o.inputHash, nil
			}
			if rf.run.InputHash, rf.run.InputSize, err = hash(); err != nil {
				return fail(err)
			}
			if o.spooled == "" {
				rf.run.InputPath, _ = filepath.Abs(o.input)
			}
		}
		if err := store.CreateRun(ctx, rf.run); err != nil {
			return fail(err)
		}
	}
	if rf.events, err = openEventLog(dir); err != nil {
		return fail(err)
	}
	rf.events.write("run_started", map[string]any{"run_id": rf.run.ID, "object": opts.Object, "operation": string(opts.Operation),
		"input": rf.run.InputPath, "input_size": rf.run.InputSize, "input_sha256": rf.run.InputHash, "resumed": resume,
		"command": resumeCommand(cmd, o), "version": versionString(), "settings": o.settingsOf(), "settle": o.settle, "async": o.Async})
	say("run folder: %s (run %s)\n", dir, rf.run.ID)
	if !o.embedded && !o.settle && !o.Async && !o.DryRun {
		say("if interrupted, resume with: %s --resume %s\n", resumeCommand(cmd, o), dir)
	}
	return rf, nil
}

// checkResumeInput proves that the input of a resumed run is the one the interrupted run
// read: the same file (size and SHA-256), or for standard input (read whole first) the same
// bytes when the interrupted run recorded them, else the same row for every row it recorded.
func checkResumeInput(ctx context.Context, store *jobstore.Store, run jobstore.Run, o *loadOptions, opts load.Options) error {
	if o.input != "-" {
		if run.InputPath == "-" {
			return fmt.Errorf("%w: the interrupted run read standard input, not %s", jobstore.ErrInputChanged, o.input)
		}
		return store.CheckInput(ctx, run.ID, o.input)
	}
	if run.InputPath != "-" {
		return fmt.Errorf("%w: the interrupted run read %s, not standard input", jobstore.ErrInputChanged, run.InputPath)
	}
	if run.InputHash != "" {
		return store.CheckInput(ctx, run.ID, o.spooled)
	}
	sios := &IOStreams{In: strings.NewReader("")}
	src, _, closeSrc, err := o.openSource(sios, opts, func(r io.Reader) io.Reader { return r })
	if err != nil {
		return err
	}
	defer closeSrc()
	return checkRowHashes(ctx, store, run, src)
}

// end records how the run ended: summary.json, the last event and the run's state in run.db.
func (rf *runFolder) end(out *loadOutcome, loadErr error, code int) {
	state, msg := jobstore.RunCompleted, ""
	if loadErr != nil || out == nil {
		state = jobstore.RunFailed
		if loadErr != nil {
			msg = loadErr.Error()
		}
	}
	if errors.Is(loadErr, context.Canceled) {
		state = jobstore.RunAborted
	}
	if loadErr == nil && out != nil && out.Summary != nil {
		switch {
		case rf.async:
			state = jobstore.RunSubmitted
		case rf.settle && !settled(out.Summary):
			state = rf.run.State // still resumable as it was
		}
	}
	if rf.settle && loadErr != nil {
		state = rf.run.State // a settling run that stopped changed nothing
	}
	if rf.dryRun && state == jobstore.RunFailed && out != nil {
		state = jobstore.RunCompleted // findings are a dry run's result: nothing to resume
	}
	ctx := context.Background()
	doc := summaryFileDoc{RunID: rf.run.ID, State: string(state), ExitCode: code}
	if rf.dryRun && state == jobstore.RunCompleted {
		doc.State = summaryStateDryRun
	}
	doc.Input.Path, doc.Input.Size, doc.Input.SHA256 = rf.run.InputPath, rf.run.InputSize, rf.run.InputHash
	if r, err := rf.store.GetRun(ctx, rf.run.ID); err == nil {
		doc.Input.Size, doc.Input.SHA256 = r.InputSize, r.InputHash
	}
	doc.Object, doc.Operation = rf.run.Object, rf.run.Operation
	doc.ErrorCodes, doc.Jobs = map[string]int64{}, []string{}
	if out != nil && out.Summary != nil {
		s := out.Summary
		doc.API, doc.Rows, doc.Succeeded, doc.Created, doc.Failed, doc.NotProcessed, doc.Unknown, doc.Retried =
			s.API.String(), s.Rows, s.Succeeded, s.Created, s.Failed, s.NotProcessed, s.Unknown, s.Retried
		if s.ErrorCodes != nil {
			doc.ErrorCodes = s.ErrorCodes
		}
		doc.Jobs, doc.Seconds, doc.Files = jobIDs(s), time.Since(rf.start).Seconds(), out.Files
		doc.Submitted, doc.Running = s.Submitted, s.Running
		if rf.async {
			doc.Files = nil // no result files yet
		}
	}
	if loadErr != nil {
		doc.Error = loadErr.Error()
	}
	rf.finish(state, msg, code, doc)
}

func (rf *runFolder) close() {
	rf.events.close()
	rf.store.Close()
}

// resumeCommand is the command line of this run without secrets and without -o/--resume.
func resumeCommand(cmd *cobra.Command, o *loadOptions) string {
	// The input goes last as the FILE argument, so --file is left out (both would be
	// refused as naming the input twice).
	return commandLine(cmd, []string{o.input}, "output-dir", "resume", "force", "file", "async")
}

// commandLine is the command line of this invocation without secrets, without the flags
// named in skip, and with args at the end.
func commandLine(cmd *cobra.Command, args []string, skip ...string) string {
	parts := []string{cmd.CommandPath()}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		name := f.Name
		// A key file's path is not a secret, and a resume needs it.
		if slices.Contains(skip, name) || strings.Contains(name, "token") || strings.Contains(name, "password") ||
			strings.Contains(name, "secret") {
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
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

// share is the --max-api-share flag: a fraction (0.5) or a percentage (50%) of what remains
// of the org's daily API allowance.
type share float64

func (s *share) String() string {
	if *s == 0 {
		return ""
	}
	return strconv.FormatFloat(float64(*s), 'g', -1, 64)
}

// Set parses "0.5" or "50%".
func (s *share) Set(v string) error {
	f, err := load.ParseShare(v)
	if err != nil {
		return err
	}
	*s = share(f)
	return nil
}

// Type names the flag's value in help.
func (s *share) Type() string { return "fraction|percent" }

// bindShareFlag binds --max-api-share.
func bindShareFlag(f *pflag.FlagSet, s *share) {
	f.Var(s, "max-api-share", "spend at most this share (0.5 or 50%) of what remains of the org's daily API requests (and Bulk API batches) when the run starts; rows that would not fit are not sent (not processed, exit 3). Processes loading at once each get their part (a Spark driver divides it by its tasks)")
}
