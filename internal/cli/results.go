package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
)

// maxEventLine bounds one line of events.jsonl read back by sfbatch results.
const maxEventLine = 1 << 20

// resultsOptions are the flags of sfbatch results DIR.
type resultsOptions struct {
	auth    authOptions
	MatchBy []string
	JSON    bool
	Quiet   bool
}

func newResultsCmd(ios *IOStreams) *cobra.Command {
	ro := &resultsOptions{}
	cmd := &cobra.Command{
		Use:   "results DIR [FILE|-]",
		Short: "Settle a run's unknown rows from its jobs and rewrite its result files, sending nothing",
		Long: `Settle the rows of a run folder whose outcome is unknown (a run that was
interrupted, whose --wait ran out, or that was submitted with --async) and
rewrite results.csv, success.csv, failure.csv, unprocessed.csv, unknown.csv
and summary.json.

Nothing is sent: no job is created, no data uploaded, no job closed or
aborted. sfbatch reads the state and the result files of the jobs and batches
the run recorded in run.db, and joins them to the rows of the run's input,
read again the way the load read it (the file recorded in the run folder, or
FILE; - for standard input) and proven unchanged. Inserts whose answer was
lost are looked up by external id when the input has one, or by the fields
of --match-by: exactly one record created since the run started with the
row's values settles the row as succeeded with that record's id; none means
the insert never happened (not processed: safe to load again); several leave
it unknown, naming them.

Rows sent in jobs that Salesforce is still processing stay unknown: run the
command again later. Rows that were never sent stay not processed; the
load command with --resume DIR sends them.

Exit status: 0 when every row succeeded, 3 when some rows failed, were not
processed or are still unknown, 6 when jobs are still processing at
Salesforce (run sfbatch results DIR again later), 2 for usage errors (and an
input that changed), 4 and 5 when the org refuses the login or cannot be
reached.`,
		Example: `  sfbatch results sfbatch-runs/20261207T120000.000000Z-1a2b3c
  sfbatch results out --match-by LastName,Email
  cat contacts.csv | sfbatch results out -`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := ro.loadOptions(cmd, ios, args)
			if err != nil || o == nil {
				return err
			}
			connect, err := o.auth.connector()
			if err != nil {
				return err
			}
			_, err = runLoadWith(cmd, ios, connect, o)
			return err
		},
	}
	f := cmd.Flags()
	ro.auth.bind(f)
	f.StringSliceVar(&ro.MatchBy, "match-by", nil, "settle inserts whose outcome is unknown and that have no external id by these fields, e.g. LastName,Email")
	f.BoolVar(&ro.JSON, "json", false, "print a machine-readable summary")
	f.BoolVar(&ro.Quiet, "quiet", false, "print nothing but errors")
	return cmd
}

// loadOptions rebuilds the load of the run in DIR (args[0]) from the settings its run_started
// event recorded, to be run by runLoadWith as a settling resume. It returns nil, and the
// exit, for a run that already completed: there is nothing to settle.
func (ro *resultsOptions) loadOptions(cmd *cobra.Command, ios *IOStreams, args []string) (*loadOptions, error) {
	dir := args[0]
	prev, ok, err := recordedRun(cmd.Context(), dir)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, usageError{fmt.Errorf("%s: no run is recorded there (no %s)", dir, runJournalFile)}
	}
	set, command, err := readRunSettings(dir)
	if err != nil {
		return nil, usageError{err}
	}
	if prev.State == jobstore.RunCompleted {
		return nil, ro.completed(ios, dir)
	}
	o, err := set.loadOptions()
	if err != nil {
		return nil, usageError{err}
	}
	o.auth = ro.auth
	o.Resume, o.settle, o.recorded = dir, true, command
	o.MatchBy, o.JSON, o.Quiet = ro.MatchBy, ro.JSON, ro.Quiet
	switch {
	case len(args) == 2:
		o.input = args[1]
	case set.Input == "-":
		return nil, usageError{fmt.Errorf("the run in %s read standard input: give the same input again, as FILE or - (standard input)", dir)}
	}
	return o, nil
}

// completed reports a run whose rows all have their final outcome: results.csv is read, not
// rewritten, and the exit code says what it holds.
func (ro *resultsOptions) completed(ios *IOStreams, dir string) error {
	path := filepath.Join(dir, load.ResultsFile)
	sum := &load.Summary{}
	if err := recount(path, sum); err != nil {
		return err
	}
	out := &loadOutcome{Summary: sum, Dir: dir, Files: map[string]string{"results": path, "unknown": filepath.Join(dir, load.UnknownFile),
		"unprocessed": filepath.Join(dir, load.UnprocessedFile)}}
	code, err := loadExit(sum, nil, out)
	switch {
	case ro.Quiet:
	case ro.JSON:
		if jerr := writeJSON(ios, map[string]any{"run_folder": dir, "state": string(jobstore.RunCompleted), "rows": sum.Rows,
			"succeeded": sum.Succeeded, "failed": sum.Failed, "not_processed": sum.NotProcessed, "unknown": sum.Unknown, "files": out.Files}); jerr != nil {
			return jerr
		}
	default:
		fmt.Fprintf(ios.Out, "the run in %s completed: every row has its final outcome in %s (%d succeeded, %d failed, %d not processed)\n",
			dir, path, sum.Succeeded, sum.Failed, sum.NotProcessed)
	}
	return withExit(code, err)
}

// runSettings are the flags of a load that decide how its input is read and what it did,
// recorded in the run_started event of events.jsonl so that sfbatch results DIR reads the
// input again exactly as the load read it.
type runSettings struct {
	Command         string   `json:"command"` // insert, update, upsert, delete or hard-delete
	Object          string   `json:"object"`
	ExternalID      string   `json:"external_id,omitempty"`
	API             string   `json:"api,omitempty"`
	Input           string   `json:"input"` // absolute path, or - for standard input
	Format          string   `json:"format,omitempty"`
	ColumnDelimiter string   `json:"column_delimiter,omitempty"`
	LineEnding      string   `json:"line_ending,omitempty"`
	WriteNulls      bool     `json:"write_nulls,omitempty"`
	MappingFile     string   `json:"mapping,omitempty"`
	Maps            []string `json:"map,omitempty"`
	DateFormat      string   `json:"date_format,omitempty"`
	DateTimeFormat  string   `json:"datetime_format,omitempty"`
	TimeZone        string   `json:"time_zone,omitempty"`
}

// settingsOf records o's settings.
func (o *loadOptions) settingsOf() runSettings {
	s := runSettings{Object: o.Object, ExternalID: o.ExternalID, API: o.API, Input: "-", Format: o.Format,
		ColumnDelimiter: o.ColumnDelimiter, LineEnding: o.LineEnding, WriteNulls: o.WriteNulls, Maps: o.Maps,
		DateFormat: o.DateFormat, DateTimeFormat: o.DateTimeFormat, TimeZone: o.TimeZone}
	for _, lc := range loadCommands {
		if lc.op == o.Operation {
			s.Command = lc.use
		}
	}
	if o.input != "-" && o.input != "" {
		s.Input, _ = filepath.Abs(o.input)
	}
	if o.MappingFile != "" {
		s.MappingFile, _ = filepath.Abs(o.MappingFile)
	}
	return s
}

// loadOptions turns recorded settings back into a load's options.
func (s runSettings) loadOptions() (*loadOptions, error) {
	o := &loadOptions{Object: s.Object, ExternalID: s.ExternalID, API: s.API, input: s.Input, Format: s.Format,
		ColumnDelimiter: s.ColumnDelimiter, LineEnding: s.LineEnding, WriteNulls: s.WriteNulls, MappingFile: s.MappingFile,
		Maps: s.Maps, DateFormat: s.DateFormat, DateTimeFormat: s.DateTimeFormat, TimeZone: s.TimeZone}
	for _, lc := range loadCommands {
		if lc.use == s.Command {
			o.Operation = lc.op
		}
	}
	if o.Operation == "" {
		return nil, fmt.Errorf("the run recorded an unknown command %q", s.Command)
	}
	if o.API == "" {
		o.API = "auto"
	}
	if o.ColumnDelimiter == "" {
		o.ColumnDelimiter = "COMMA"
	}
	if o.LineEnding == "" {
		o.LineEnding = "LF"
	}
	return o, nil
}

// readRunSettings reads the settings and the command line of the load that started the run
// in dir from the first run_started event of its events.jsonl.
func readRunSettings(dir string) (runSettings, string, error) {
	path := filepath.Join(dir, eventsFile)
	f, err := os.Open(path)
	if err != nil {
		return runSettings{}, "", fmt.Errorf("reading the run's settings: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxEventLine)
	for sc.Scan() {
		var ev struct {
			Event    string       `json:"event"`
			Command  string       `json:"command"`
			Settings *runSettings `json:"settings"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Event != "run_started" || ev.Settings == nil {
			continue
		}
		return *ev.Settings, ev.Command, nil
	}
	if err := sc.Err(); err != nil {
		return runSettings{}, "", fmt.Errorf("reading %s: %w", path, err)
	}
	return runSettings{}, "", fmt.Errorf("%s records no load settings (a run of an older sfbatch): finish it with the load command and --resume %s", path, dir)
}

// trustOptions checks --async and --match-by and sets the engine's Submit, MatchBy and
// Settle.
func (o *loadOptions) trustOptions(opts *load.Options) error {
	if o.Async {
		switch {
		case o.Resume != "":
			return usageError{errors.New("--async cannot be combined with --resume: --resume DIR (or sfbatch results DIR) collects a submitted run")}
		case o.Wait > 0:
			return usageError{errors.New("--async and --wait exclude each other: --async does not wait")}
		case opts.API == load.Collections:
			return usageError{errors.New("--async: sObject Collections is synchronous; use --api bulk2 or bulk1 (--api auto picks Bulk API 2.0)")}
		case o.Report:
			return usageError{errors.New("--async writes no results to report: run sfbatch report DIR after sfbatch results DIR")}
		}
		opts.Submit = !o.DryRun
	}
	if len(o.MatchBy) > 0 {
		if o.Resume == "" {
			return usageError{errors.New("--match-by settles a run's unknown inserts: use it with --resume DIR or sfbatch results DIR")}
		}
		if o.Operation != load.Insert {
			return usageError{fmt.Errorf("--match-by settles inserts, not %s", o.Operation)}
		}
		opts.MatchBy = o.MatchBy
	}
	opts.Settle = o.settle
	return nil
}

// settled reports whether a run has every row's final outcome: none unknown or not processed.
func settled(s *load.Summary) bool {
	return s != nil && s.Unknown == 0 && s.NotProcessed == 0
}

// trustExit adjusts a load's exit code for --async (0 once the jobs are submitted) and for
// sfbatch results (6 while jobs are still processing at Salesforce).
func trustExit(o *loadOptions, sum *load.Summary, dir string, code int, err error) (int, error) {
	switch {
	case o.Async && sum.Submitted > 0:
		return ExitOK, nil
	case o.settle && len(sum.Running) > 0:
		return ExitWaitTimeout, fmt.Errorf("%d jobs are still processing at Salesforce; their %d rows stay unknown until sfbatch results %s runs again",
			len(sum.Running), sum.Unknown, dir)
	}
	return code, err
}

// nextCommands are the commands that continue a submitted run or a settled one that is not
// finished: sfbatch results DIR while rows are unknown, the load with --resume DIR while rows
// are unknown or were never sent.
func nextCommands(cmd *cobra.Command, o *loadOptions, dir string, sum *load.Summary, code int, loadErr error) []string {
	if sum == nil || loadErr != nil || o.embedded {
		return nil
	}
	results := "sfbatch results " + shellQuote(dir)
	switch {
	case o.Async && sum.Submitted > 0:
		return []string{results, resumeCommand(cmd, o) + " --resume " + shellQuote(dir)}
	case o.settle:
		var next []string
		if sum.Unknown > 0 {
			next = append(next, results)
		}
		if (sum.Unknown > 0 || sum.NotProcessed > 0) && o.recorded != "" {
			next = append(next, o.recorded+" --resume "+shellQuote(dir))
		}
		return next
	}
	return nil
}

// printNext prints what a submitted or settled run leaves to do.
func printNext(ios *IOStreams, sum *load.Summary, next []string) {
	if sum == nil {
		return
	}
	if len(sum.Running) > 0 {
		fmt.Fprintf(ios.ErrOut, "jobs still processing at Salesforce: %s\n", strings.Join(sum.Running, " "))
	}
	for _, c := range next {
		fmt.Fprintf(ios.ErrOut, "continue with: %s\n", c)
	}
}
