package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// exportOptions are the flags of `sfbatch export`.
type exportOptions struct {
	auth authOptions

	Query           string
	QueryFile       string
	Object          string
	Fields          []string
	Where           string
	AllRows         bool
	Output          string
	Format          string
	ColumnDelimiter string
	LineEnding      string
	BOM             bool
	API             string
	Concurrency     int
	PageSize        int
	Unordered       bool
	PKChunkSize     int
	PKParent        string
	PKStartRow      string
	IDChunks        int
	MaxAPIShare     share // --max-api-share
	JSON            bool
	Quiet           bool
	Resume          string
	OutputFile      string // the sf CLI's --output-file
	ResultFormat    string // the sf CLI's --result-format
	Since           string
	WatermarkField  string
	RunDir          string        // --run-dir: the run folder (default a new sfbatch-runs/UTCTIME-SUFFIX)
	Report          bool          // --report: write report.html into the run folder
	report          reportOptions // report options (none on export: an export has no failed rows)
	command         string        // the command line, for the run folder
}

func newExportCmd(ios *IOStreams) *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export --query SOQL|--query-file FILE --output FILE",
		Short: "Extract query results to CSV, JSON Lines or Parquet, in constant memory",
		Long: `Extract any number of rows. Large queries run as Bulk API 2.0 query jobs whose
result pages download concurrently (API 58.0+) and are written in order (or as
they arrive with --unordered); --api bulk1 uses Bulk API 1.0 with optional PK
chunking; small results come through REST. Output is CSV in Salesforce's dialect,
JSON Lines with real types (numbers, booleans, null distinct from ""), or
Parquet with typed columns. The file is written under a temporary name and
renamed when complete.`,
		Example: `  sfbatch export -q "SELECT Id, Name, Account.Name FROM Contact" -o contacts.csv
  sfbatch export --sobject Account --fields Id,Name,Industry -o accounts.parquet
  sfbatch export -q "SELECT Id FROM Contact" --all-rows -o all.jsonl --concurrency 8
  sfbatch export -q "SELECT Id, Name FROM Account" --api bulk1 --pk-chunking 100000 -o a.csv
  sfbatch export -s Contact --fields Id,Email --since state/contacts.json -o changes.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			limitMemory()
			if _, err := o.engineOptions(); err != nil {
				return err
			}
			o.command = commandLine(cmd, nil)
			_, err := runExportWith(cmd.Context(), ios, func(ctx context.Context, log *slog.Logger) (*salesforce.Client, error) {
				return o.auth.client(ctx, salesforce.WithLogger(log))
			}, o)
			return err
		},
	}
	f := cmd.Flags()
	o.auth.bind(f)
	f.StringVarP(&o.Query, "query", "q", "", "SOQL query")
	f.StringVar(&o.QueryFile, "query-file", "", "file holding the SOQL query")
	f.StringVarP(&o.Object, "sobject", "s", "", "object to export (with --fields and --where) instead of --query")
	f.StringSliceVar(&o.Fields, "fields", nil, "fields to export with --sobject")
	f.StringVar(&o.Where, "where", "", "WHERE condition with --sobject")
	f.BoolVar(&o.AllRows, "all-rows", false, "include deleted and archived records (queryAll)")
	f.StringVarP(&o.Output, "output", "o", "", "output file, or - for standard output (required)")
	f.StringVar(&o.Format, "format", "", "csv, jsonl, parquet or arrow (an Arrow IPC stream) (default: from the output extension, else csv)")
	f.StringVar(&o.ColumnDelimiter, "column-delimiter", "COMMA", "CSV delimiter: COMMA, TAB, PIPE, SEMICOLON, CARET, BACKQUOTE")
	f.StringVar(&o.LineEnding, "line-ending", "LF", "CSV line ending: LF or CRLF")
	f.BoolVar(&o.BOM, "bom", false, "start CSV output with a UTF-8 byte order mark (for Excel)")
	f.StringVar(&o.API, "api", "auto", "auto (REST for small results, else bulk2), bulk2, bulk1 or rest")
	f.IntVar(&o.Concurrency, "concurrency", 0, fmt.Sprintf("concurrent page downloads or chunk jobs (default %d)", extract.DefaultConcurrency))
	f.IntVar(&o.PageSize, "page-size", 0, "rows per result page (Bulk API 2.0 maxRecords)")
	f.BoolVar(&o.Unordered, "unordered", false, "write pages as they arrive instead of in query order")
	f.IntVar(&o.PKChunkSize, "pk-chunking", 0, "Bulk API 1.0 PK chunking with this chunk size (max 250000)")
	f.StringVar(&o.PKParent, "pk-parent", "", "parent object for PK chunking on sharing or history objects")
	f.StringVar(&o.PKStartRow, "pk-start-row", "", "id to start PK chunking from")
	f.IntVar(&o.IDChunks, "id-chunks", 0, "split a Bulk API 2.0 query into this many id ranges run as parallel jobs")
	f.Var(&o.MaxAPIShare, "max-api-share", "spend at most this share (0.5 or 50%) of what remains of the org's daily API requests (and Bulk API 2.0 query jobs) when the export starts; past it the export stops, keeps what it wrote with a --resume token, and exits 3")
	f.BoolVar(&o.JSON, "json", false, "print a machine-readable summary")
	f.BoolVar(&o.Quiet, "quiet", false, "print nothing but errors")
	f.StringVar(&o.OutputFile, "output-file", "", "same as --output (the sf CLI's name)")
	f.StringVar(&o.ResultFormat, "result-format", "", "csv (the sf CLI's flag; for JSON use --format jsonl)")
	f.StringVar(&o.Since, "since", "", "incremental export: state FILE (created on the first run); reads only rows changed since the last run, deleted ones with IsDeleted true")
	f.StringVar(&o.WatermarkField, "watermark-field", extract.DefaultWatermarkField, "with --since: datetime field that orders changes")
	f.StringVar(&o.RunDir, "run-dir", "", "run folder for run.db, events.jsonl and summary.json (default a new sfbatch-runs/UTCTIME-SUFFIX)")
	f.BoolVar(&o.Report, "report", false, "write report.html (rows, query jobs, throughput, files) into the run folder")
	f.StringVar(&o.Resume, "resume", "", "continue an interrupted Bulk API 2.0 download from the token it printed (appends to OUTPUT.partial)")
	return cmd
}

// sfFlags folds the sf CLI's --output-file and --result-format into
// --output and --format.
func (o *exportOptions) sfFlags() error {
	if o.OutputFile != "" {
		if o.Output != "" && o.Output != o.OutputFile {
			return usageError{errors.New("--output and --output-file name different files: use one")}
		}
		o.Output = o.OutputFile
	}
	switch strings.ToLower(o.ResultFormat) {
	case "":
	case "csv":
		if o.Format != "" && !strings.EqualFold(o.Format, "csv") {
			return usageError{fmt.Errorf("--result-format csv and --format %s disagree", o.Format)}
		}
		o.Format = "csv"
	case "json":
		return usageError{errors.New("--result-format json: sfbatch writes JSON Lines (one record per line), not the sf CLI's JSON array: use --format jsonl (or an .jsonl output file)")}
	default:
		return usageError{fmt.Errorf("--result-format: %q is not csv", o.ResultFormat)}
	}
	return nil
}

func (o *exportOptions) engineOptions() (extract.Options, error) {
	if err := o.sfFlags(); err != nil {
		return extract.Options{}, err
	}
	q := o.Query
	if o.QueryFile != "" {
		if q != "" {
			return extract.Options{}, usageError{errors.New("use --query or --query-file, not both")}
		}
		b, err := os.ReadFile(o.QueryFile)
		if err != nil {
			return extract.Options{}, usageError{fmt.Errorf("--query-file: %w", err)}
		}
		q = strings.TrimSpace(string(b))
	}
	if q == "" && o.Object == "" {
		return extract.Options{}, usageError{errors.New("--query, --query-file or --sobject is required")}
	}
	if o.Output == "" {
		return extract.Options{}, usageError{errors.New("--output is required (use - for standard output)")}
	}
	if o.Output == "-" && o.JSON {
		return extract.Options{}, usageError{errors.New("--json prints its object on standard output: write the records to a file with --output FILE")}
	}
	opts := extract.Options{
		Query: q, Object: o.Object, Fields: o.Fields, Where: o.Where, All: o.AllRows,
		API: extract.API(strings.ToLower(o.API)), Concurrency: o.Concurrency, PageSize: o.PageSize,
		Unordered: o.Unordered, IDChunks: o.IDChunks,
	}
	switch opts.API {
	case extract.APIAuto, extract.APIBulk2, extract.APIBulk1, extract.APIREST:
	default:
		return opts, usageError{fmt.Errorf("--api: %q is not auto, bulk2, bulk1 or rest", o.API)}
	}
	if o.PKChunkSize > 0 || o.PKParent != "" || o.PKStartRow != "" {
		opts.PKChunking = &salesforce.PKChunking{ChunkSize: o.PKChunkSize, Parent: o.PKParent, StartRow: o.PKStartRow}
		if opts.API == extract.APIAuto {
			opts.API = extract.APIBulk1
		}
	}
	switch formatOf(o.Format, o.Output) {
	case "csv":
		opts.Format = extract.FormatCSV
	case "jsonl":
		opts.Format = extract.FormatJSONL
	case "parquet":
		opts.Format = extract.FormatParquet
	case "arrow":
		opts.Format = extract.FormatArrow
	default:
		return opts, usageError{fmt.Errorf("--format: %q is not csv, jsonl, parquet or arrow", o.Format)}
	}
	var err error
	if opts.CSV.Delimiter, err = sfcsv.ParseDelimiter(o.ColumnDelimiter); err != nil {
		return opts, usageError{fmt.Errorf("--column-delimiter: %w", err)}
	}
	if opts.CSV.LineEnding, err = sfcsv.ParseLineEnding(o.LineEnding); err != nil {
		return opts, usageError{fmt.Errorf("--line-ending: %w", err)}
	}
	opts.CSV.BOM = o.BOM
	if o.Resume != "" {
		r, err := parseResumeToken(o.Resume)
		if err != nil {
			return opts, usageError{fmt.Errorf("--resume: %w", err)}
		}
		if opts.Format == extract.FormatParquet || opts.Format == extract.FormatArrow {
			return opts, usageError{fmt.Errorf("--resume: a %s file cannot be appended to; export again", opts.Format)}
		}
		if o.Output == "-" {
			return opts, usageError{errors.New("--resume needs --output FILE")}
		}
		opts.Resume = &r
	}
	return opts, nil
}

// A resume token is "JOB_ID:SKIP:LOCATOR" (the locator last: it is opaque).
func resumeToken(r extract.Resume) string {
	return fmt.Sprintf("%s:%d:%s", r.JobID, r.Skip, r.Locator)
}

func parseResumeToken(s string) (extract.Resume, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[0] == "" {
		return extract.Resume{}, fmt.Errorf("%q is not a token printed by an interrupted export", s)
	}
	skip, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || skip < 0 {
		return extract.Resume{}, fmt.Errorf("%q is not a token printed by an interrupted export", s)
	}
	return extract.Resume{JobID: parts[0], Skip: skip, Locator: parts[2]}, nil
}

// partialPath is where an interrupted export keeps what it wrote.
func partialPath(output string) string { return output + ".partial" }

// runExport runs one export with a logged-in client and reports it.
func runExport(ctx context.Context, ios *IOStreams, c *salesforce.Client, o *exportOptions) (*extract.Summary, error) {
	return runExportWith(ctx, ios, func(context.Context, *slog.Logger) (*salesforce.Client, error) { return c, nil }, o)
}

// runExportWith runs one export: it checks the options, opens the run folder (run.db,
// events.jsonl), logs in, extracts to the output file, writes summary.json (and with
// --report, report.html) and reports.
func runExportWith(ctx context.Context, ios *IOStreams, connect connectFunc, o *exportOptions) (*extract.Summary, error) {
	opts, err := o.engineOptions()
	if err != nil {
		return nil, err
	}
	if o.Since != "" && opts.Resume != nil {
		return nil, usageError{errors.New("--since cannot be combined with --resume")}
	}
	er, err := openExportRun(ctx, ios, o, opts)
	if err != nil {
		return nil, err
	}
	defer er.close()
	log := slog.New(logHandler{l: er.events})
	var sum *extract.Summary
	var written int64
	var files []exportFile
	start := time.Now()
	c, err := connect(ctx, log)
	if err == nil {
		er.events.write("connected", map[string]any{"instance_url": c.InstanceURL(), "api_version": c.APIVersion()})
		stop := watchUsage(ctx, c, er.events)
		sum, written, err = exportRows(ctx, ios, c, o, opts, er, log)
		stop()
		if err == nil && o.Output != "-" {
			files = append(files, exportFile{Path: er.run.InputPath, Bytes: fileSize(o.Output)})
		}
	}
	code := ExitOK
	if err != nil {
		code = exitCode(err)
	}
	er.end(sum, written, files, err, code)
	if o.Report {
		writeRunReport(ctx, ios, er.dir, &o.report, o.Quiet || o.JSON)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return sum, withExit(ExitCancelled, err)
		}
		return sum, err
	}
	if o.Quiet {
		return sum, nil
	}
	el := time.Since(start)
	if o.JSON {
		return sum, writeJSON(ios, map[string]any{
			"api": sum.API, "query": sum.Query, "jobs": sum.JobIDs, "columns": sum.Columns,
			"rows": sum.Rows, "pages": sum.Pages, "bytes": written, "seconds": el.Seconds(),
			"rows_per_second": float64(sum.Rows) / el.Seconds(), "output": o.Output, "run_dir": er.dir,
		})
	}
	if o.Output != "-" {
		fmt.Fprintf(ios.Out, "exported %d rows via %s in %s (%.0f rows/s) to %s\n", sum.Rows, sum.API, el.Round(time.Millisecond), float64(sum.Rows)/el.Seconds(), o.Output)
	}
	return sum, nil
}

// exportRows extracts to the output file (through a temporary file renamed when complete),
// recording job transitions and pages in the run folder. It returns the bytes written.
func exportRows(ctx context.Context, ios *IOStreams, c *salesforce.Client, o *exportOptions, opts extract.Options, er *exportRun, log *slog.Logger) (*extract.Summary, int64, error) {
	var err error
	if o.Since != "" {
		if _, err := planSince(ctx, c, &opts, o.Since, o.WatermarkField); err != nil {
			return nil, 0, err
		}
	}
	var out io.Writer
	var tmp *os.File
	switch {
	case o.Output == "-":
		out = ios.Out
	case opts.Resume != nil:
		tmp, err = os.OpenFile(partialPath(o.Output), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, 0, usageError{fmt.Errorf("--resume: %w", err)}
		}
		out = tmp
	default:
		tmp, err = os.CreateTemp(filepath.Dir(o.Output), "."+filepath.Base(o.Output)+".partial-*")
		if err != nil {
			return nil, 0, err
		}
		out = tmp
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			if opts.Resume == nil { // never delete what an earlier run saved
				os.Remove(tmp.Name())
			}
		}
	}()
	cw := &countingWriter{w: out}
	opts.Output = cw
	opts.Logger = log
	opts.OnJob = er.onJob
	ctx, stopShare, err := exportShare(ctx, c, float64(o.MaxAPIShare), opts)
	if err != nil {
		return nil, 0, err
	}
	defer stopShare(nil)
	var rows atomic.Int64
	start := time.Now()
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	opts.Progress = func(p extract.Progress) {
		rows.Store(p.Rows)
		er.onPage(p)
	}
	if !o.Quiet && !o.JSON && o.Output != "-" {
		go func() {
			defer close(progressDone)
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-stopProgress:
					return
				case <-t.C:
					if ios.IsTTY {
						fmt.Fprintf(ios.ErrOut, "\r%d rows exported (%.0f rows/s)   ", rows.Load(), float64(rows.Load())/time.Since(start).Seconds())
					} else {
						fmt.Fprintf(ios.ErrOut, "%d rows exported\n", rows.Load())
					}
				}
			}
		}()
	} else {
		close(progressDone)
	}
	sum, err := extract.Run(ctx, c, opts)
	close(stopProgress)
	<-progressDone
	if ios.IsTTY && !o.Quiet && !o.JSON && o.Output != "-" {
		fmt.Fprintln(ios.ErrOut)
	}
	if err != nil {
		var de *extract.DownloadError
		if errors.As(err, &de) && de.Resumable && tmp != nil {
			// Keep what was written and say how to continue.
			if cerr := tmp.Close(); cerr == nil && os.Rename(tmp.Name(), partialPath(o.Output)) == nil {
				tmp = nil
				fmt.Fprintf(ios.ErrOut, "sfbatch: %d rows are in %s; continue with the same command and --resume %s\n",
					de.Rows, partialPath(o.Output), resumeToken(de.Resume))
			}
		}
		if errors.Is(context.Cause(ctx), errExportShare) {
			return sum, cw.n, withExit(ExitRowsFailed, fmt.Errorf("%w: the export stopped (%v)", errExportShare, err))
		}
		if errors.Is(err, context.Canceled) {
			return sum, cw.n, withExit(ExitCancelled, err)
		}
		return sum, cw.n, err
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			return sum, cw.n, err
		}
		if err := os.Rename(tmp.Name(), o.Output); err != nil {
			return sum, cw.n, err
		}
		tmp = nil
	}
	if o.Since != "" {
		// The rows of the window are in the output: the next run starts after it.
		if err := commitSince(o.Since); err != nil {
			return sum, cw.n, err
		}
	}
	return sum, cw.n, nil
}
