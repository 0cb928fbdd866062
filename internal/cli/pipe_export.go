package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
)

// pipeExportOptions are the flags of `sfbatch pipe --export`, the read side of pipe: the
// driver of a distributed read plans it (--plan), each task reads one partition
// (--partition) as an Arrow IPC stream on standard output, and an incremental read is
// committed once its rows are safe (--commit).
type pipeExportOptions struct {
	Export       bool
	Plan         bool
	SchemaOnly   bool
	Partition    string
	Commit       bool
	Query        string
	Fields       []string
	Where        string
	AllRows      bool
	Partitioning string
	Partitions   int
	PKChunking   int
	PageSize     int
	Since        string
	Watermark    string
	DoneDir      string
	KeepJobsFor  time.Duration
}

func bindPipeExport(f *pflag.FlagSet, o *pipeExportOptions) {
	f.BoolVar(&o.Export, "export", false, "read instead of load: with --plan, --partition or --commit (see below)")
	f.BoolVar(&o.Plan, "plan", false, "--export: plan a partitioned read and print it as JSON (columns, Spark schema, partitions)")
	f.BoolVar(&o.SchemaOnly, "schema-only", false, "--export --plan: print the columns and Spark schema only, without running a query")
	f.StringVar(&o.Partition, "partition", "", "--export: read this partition (one JSON object from --plan) to standard output as Arrow IPC")
	f.BoolVar(&o.Commit, "commit", false, "--export --since FILE: move the watermark to the end of the planned window")
	f.StringVarP(&o.Query, "query", "q", "", "--export: SOQL query (or --sobject with --fields and --where)")
	f.StringSliceVar(&o.Fields, "fields", nil, "--export: fields to read with --sobject")
	f.StringVar(&o.Where, "where", "", "--export: WHERE condition with --sobject")
	f.BoolVar(&o.AllRows, "all-rows", false, "--export: include deleted and archived records (queryAll)")
	f.StringVar(&o.Partitioning, "partitioning", string(extract.ByPage), "--export --plan: pages (one Bulk 2.0 job, a partition per result page), idRange or pkChunking")
	f.IntVar(&o.Partitions, "partitions", 0, "--export --plan --partitioning idRange: number of id ranges")
	f.IntVar(&o.PKChunking, "pk-chunking", 0, "--export --plan: Bulk 1.0 PK chunking with this chunk size (implies --partitioning pkChunking)")
	f.IntVar(&o.PageSize, "page-size", 0, "--export --plan: rows per result page (Bulk 2.0 maxRecords)")
	f.StringVar(&o.Since, "since", "", "--export: state file of an incremental read (created on the first run)")
	f.StringVar(&o.Watermark, "watermark-field", extract.DefaultWatermarkField, "--export --since: datetime field that orders changes")
	f.StringVar(&o.DoneDir, "done-dir", "", "--export: directory the driver and tasks share: readers mark the pages they read, and a plan deletes the query jobs of earlier reads")
	f.DurationVar(&o.KeepJobsFor, "keep-jobs-for", DefaultKeepReadJobs, "--export --plan --done-dir: keep a read's query job this long after its pages were last read (another action may read them again)")
}

// readPlanOutput is what --plan prints.
type readPlanOutput struct {
	*extract.ReadPlan
	SparkSchema sparkStruct     `json:"sparkSchema"`
	Window      *extract.Window `json:"window,omitempty"`
}

// sparkStruct is a Spark StructType in its JSON form (StructType.fromJson reads it).
type sparkStruct struct {
	Type   string        `json:"type"`
	Fields []sparkColumn `json:"fields"`
}

type sparkColumn struct {
	Name     string         `json:"name"`
	Type     string         `json:"type"`
	Nullable bool           `json:"nullable"`
	Metadata map[string]any `json:"metadata"`
}

func sparkSchemaOf(cols []extract.Column) sparkStruct {
	s := sparkStruct{Type: "struct", Fields: make([]sparkColumn, len(cols))}
	for i, c := range cols {
		s.Fields[i] = sparkColumn{Name: c.Name, Type: extract.SparkType(c.Kind), Nullable: true, Metadata: map[string]any{}}
	}
	return s
}

// readOptions are the extract options of the read the flags describe.
func (o *pipeOptions) readOptions() extract.Options {
	x := &o.export
	return extract.Options{
		Query: x.Query, Object: o.load.Object, Fields: x.Fields, Where: x.Where, All: x.AllRows,
		PageSize: x.PageSize, Concurrency: 1,
	}
}

// runPipeExport runs `pipe --export` and returns its exit code; every failure is reported
// as an error event first.
func runPipeExport(ctx context.Context, ios *IOStreams, ev *pipeEvents, o *pipeOptions, args []string) int {
	x := &o.export
	fail := func(err error) int {
		code := exitCode(err)
		if code == ExitOK {
			code = ExitError
		}
		name := map[int]string{ExitUsage: "UsageError", ExitAuth: "AuthError", ExitUnreachable: "UnreachableError", ExitCancelled: "Cancelled"}[code]
		if name == "" {
			name = "Error"
		}
		ev.fail(code, name, err)
		return code
	}
	usage := func(format string, a ...any) int { return fail(usageError{fmt.Errorf(format, a...)}) }
	if len(args) != 0 {
		return usage("--export takes no OPERATION")
	}
	modes := 0
	for _, on := range []bool{x.Plan, x.Partition != "", x.Commit} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return usage("--export needs exactly one of --plan, --partition or --commit")
	}
	if strings.ToLower(o.Format) != pipeArrow {
		return usage("--export writes Arrow IPC only (--format arrow)")
	}
	if x.Commit {
		if x.Since == "" {
			return usage("--commit needs --since FILE")
		}
		if err := commitSince(x.Since); err != nil {
			return fail(err)
		}
		ev.emit(map[string]any{"event": "summary", "committed": x.Since})
		return ExitOK
	}
	stdin := bufio.NewReaderSize(ios.In, 4096)
	var hs *handshake
	if o.Handshake {
		var err error
		if hs, err = readHandshake(stdin); err != nil {
			return usage("%w", err)
		}
	}
	c, code, err := o.pipeLogin(ctx, hs)
	if err != nil {
		return fail(withExit(code, err))
	}
	if x.Plan {
		return pipeExportPlan(ctx, ios, ev, c, o, fail)
	}
	var p extract.Partition
	if err := json.Unmarshal([]byte(x.Partition), &p); err != nil {
		return usage("--partition: not a partition of a plan: %w", err)
	}
	start := time.Now()
	opts := extract.Options{Logger: newPipeLogger(ev)}
	rows, err := extract.ReadPartition(ctx, c, p, ios.Out, opts)
	if err != nil {
		return fail(err)
	}
	ev.emit(map[string]any{"event": "summary", "partition": p.Index, "rows": rows, "seconds": time.Since(start).Seconds()})
	if p.Kind == extract.PartPage && x.DoneDir != "" {
		if err := pageDone(x.DoneDir, p); err != nil {
			// Every row is written; a job left behind expires in Salesforce.
			ev.emit(map[string]any{"event": "log", "level": "WARN", "msg": err.Error()})
		}
	}
	return ExitOK
}

// DefaultKeepReadJobs is how long a planned read's Bulk 2.0 query job is kept after its pages
// were last read: Spark plans a DataFrame's partitions once, so a later action on the same
// DataFrame reads the same pages again.
const DefaultKeepReadJobs = time.Hour

// readCompleteMarker is the file, in a job's folder under --done-dir, whose modification time
// is when every page of the job was last read.
const readCompleteMarker = "complete"

// pageDone records that page p has been read, in a marker file under dir. The reader that
// finds every page of the job marked (each writes its marker before it counts, so the last
// one always does) touches the job's complete marker; a later plan deletes the job once that
// marker is older than --keep-jobs-for (sweepReadJobs).
func pageDone(dir string, p extract.Partition) error {
	jobDir := filepath.Join(dir, filepath.Base(p.Job))
	if err := os.MkdirAll(jobDir, 0o755); err != nil {
		return fmt.Errorf("--done-dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(jobDir, fmt.Sprintf("page-%06d", p.Index)), nil, 0o644); err != nil {
		return fmt.Errorf("--done-dir: %w", err)
	}
	ents, err := os.ReadDir(jobDir)
	if err != nil {
		return fmt.Errorf("--done-dir: %w", err)
	}
	done := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "page-") {
			done++
		}
	}
	if done < p.Pages {
		return nil
	}
	if err := os.WriteFile(filepath.Join(jobDir, readCompleteMarker), nil, 0o644); err != nil {
		return fmt.Errorf("--done-dir: %w", err)
	}
	now := time.Now()
	return os.Chtimes(filepath.Join(jobDir, readCompleteMarker), now, now)
}

// sweepReadJobs deletes the query jobs under dir whose pages were all read longer than keep
// ago, and their folders. It returns the jobs it deleted.
func sweepReadJobs(ctx context.Context, c *salesforce.Client, dir string, keep time.Duration) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--done-dir: %w", err)
	}
	var deleted []string
	for _, e := range ents {
		fi, err := os.Stat(filepath.Join(dir, e.Name(), readCompleteMarker))
		if err != nil || time.Since(fi.ModTime()) < keep {
			continue
		}
		if err := extract.DeleteQueryJob(ctx, c, e.Name()); err != nil {
			return deleted, err
		}
		deleted = append(deleted, e.Name())
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return deleted, fmt.Errorf("--done-dir: %w", err)
		}
	}
	return deleted, nil
}

func pipeExportPlan(ctx context.Context, ios *IOStreams, ev *pipeEvents, c *salesforce.Client, o *pipeOptions, fail func(error) int) int {
	x := &o.export
	opts := o.readOptions()
	opts.Logger = newPipeLogger(ev)
	if x.DoneDir != "" && !x.SchemaOnly {
		deleted, err := sweepReadJobs(ctx, c, x.DoneDir, x.KeepJobsFor)
		if len(deleted) > 0 {
			ev.emit(map[string]any{"event": "log", "level": "INFO", "msg": "deleted the query jobs of earlier reads", "jobs": deleted})
		}
		if err != nil {
			ev.emit(map[string]any{"event": "log", "level": "WARN", "msg": err.Error()})
		}
	}
	var window *extract.Window
	if x.Since != "" && !x.SchemaOnly {
		w, err := planSince(ctx, c, &opts, x.Since, x.Watermark)
		if err != nil {
			return fail(err)
		}
		window = w
	} else if x.Since != "" {
		// The schema of an incremental read: the same columns, IsDeleted added.
		base, err := opts.SOQL()
		if err != nil {
			return fail(usageError{err})
		}
		q, err := extract.WithWindow(base, extract.Window{Field: x.Watermark}, true)
		if err != nil {
			return fail(usageError{err})
		}
		opts.Query, opts.Object, opts.Fields, opts.Where = q, "", nil, ""
	}
	var plan *extract.ReadPlan
	if x.SchemaOnly {
		q, cols, err := extract.ReadColumns(ctx, c, opts)
		if err != nil {
			return fail(asQueryUsage(err))
		}
		plan = &extract.ReadPlan{Query: q, All: opts.All, Columns: cols, Partitions: []extract.Partition{}}
	} else {
		po := extract.PlanOptions{Partitioning: extract.Partitioning(x.Partitioning), Partitions: x.Partitions, PKChunkSize: x.PKChunking}
		if x.PKChunking > 0 {
			po.Partitioning = extract.ByPKChunk
		}
		var err error
		if plan, err = extract.PlanRead(ctx, c, opts, po); err != nil {
			return fail(asQueryUsage(err))
		}
	}
	out := readPlanOutput{ReadPlan: plan, SparkSchema: sparkSchemaOf(plan.Columns), Window: window}
	b, err := json.Marshal(out)
	if err != nil {
		return fail(err)
	}
	if _, err := ios.Out.Write(append(b, '\n')); err != nil {
		return fail(err)
	}
	return ExitOK
}

// asQueryUsage marks the extract package's option errors as usage errors (exit 2).
func asQueryUsage(err error) error {
	if err != nil && strings.HasPrefix(err.Error(), "extract: Options.") {
		return usageError{err}
	}
	return err
}
