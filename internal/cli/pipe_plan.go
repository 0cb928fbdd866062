package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
)

// pipeExportOptions are the flags of `sfbatch pipe --export` that plan a distributed read
// (--plan) and make it incremental (--since, --commit). Each task of the read then reads one
// planned partition with pipe's partition flags (--job/--locator/--max-records, --batch or
// --id-range), the plan giving each partition's arguments.
type pipeExportOptions struct {
	Plan         bool
	SchemaOnly   bool
	Commit       bool
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
	f.BoolVar(&o.Plan, "plan", false, "with --export: plan a partitioned read and print it as JSON (columns, Spark schema, each partition's pipe --export arguments)")
	f.BoolVar(&o.SchemaOnly, "schema-only", false, "with --plan: print the columns and Spark schema only, without running a query")
	f.BoolVar(&o.Commit, "commit", false, "with --export --since FILE: move the watermark to the end of the planned window")
	f.StringSliceVar(&o.Fields, "fields", nil, "with --plan: fields to read from --sobject (instead of --query)")
	f.StringVar(&o.Where, "where", "", "with --plan --fields: WHERE condition")
	f.BoolVar(&o.AllRows, "all-rows", false, "with --export: include deleted and archived records (queryAll)")
	f.StringVar(&o.Partitioning, "partitioning", string(extract.ByPage), "with --plan: pages (one Bulk 2.0 job, a partition per result page), idRange or pkChunking")
	f.IntVar(&o.Partitions, "partitions", 0, "with --plan --partitioning idRange: number of id ranges")
	f.IntVar(&o.PKChunking, "pk-chunking", 0, "with --plan: Bulk 1.0 PK chunking with this chunk size (implies --partitioning pkChunking)")
	f.IntVar(&o.PageSize, "page-size", 0, "with --plan: rows per result page (Bulk 2.0 maxRecords)")
	f.StringVar(&o.Since, "since", "", "with --plan or --commit: state file of an incremental read (created on the first run)")
	f.StringVar(&o.Watermark, "watermark-field", extract.DefaultWatermarkField, "with --since: datetime field that orders changes")
	f.StringVar(&o.DoneDir, "done-dir", "", "with --export: directory the driver and tasks share: a --job page read marks the page, and a plan deletes the query jobs of earlier reads")
	f.DurationVar(&o.KeepJobsFor, "keep-jobs-for", DefaultKeepReadJobs, "with --plan --done-dir: keep a read's query job this long after its pages were last read (another action may read them again); 0 deletes it as soon as every page was read once")
}

// planOnly returns the first flag set that only --plan (or --commit) takes, "" if none.
func (x *pipeExportOptions) planOnly() string {
	switch {
	case x.SchemaOnly:
		return "--schema-only"
	case len(x.Fields) > 0:
		return "--fields"
	case x.Where != "":
		return "--where"
	case x.Partitioning != string(extract.ByPage):
		return "--partitioning"
	case x.Partitions != 0:
		return "--partitions"
	case x.PKChunking != 0:
		return "--pk-chunking"
	case x.PageSize != 0:
		return "--page-size"
	case x.Since != "":
		return "--since"
	case x.KeepJobsFor != DefaultKeepReadJobs:
		return "--keep-jobs-for"
	}
	return ""
}

// readPlanOutput is what --plan prints.
type readPlanOutput struct {
	*extract.ReadPlan
	Partitions  []planPartition `json:"partitions"`
	SparkSchema sparkStruct     `json:"sparkSchema"`
	Window      *extract.Window `json:"window,omitempty"`
}

// planPartition is a planned partition with the pipe --export arguments that read it.
type planPartition struct {
	extract.Partition
	Args []string `json:"args"`
}

// partitionArgs are the arguments of `sfbatch pipe --export` (credentials aside) that read
// partition p of plan.
func partitionArgs(plan *extract.ReadPlan, p extract.Partition) []string {
	a := []string{"--query", plan.Query}
	if plan.All {
		a = append(a, "--all-rows")
	}
	switch p.Kind {
	case extract.PartPage:
		a = append(a, "--job", p.Job)
		if p.Locator != "" {
			a = append(a, "--locator", p.Locator)
		}
		if p.MaxRecords > 0 {
			a = append(a, "--max-records", strconv.Itoa(p.MaxRecords))
		}
	case extract.PartPKBatch:
		a = append(a, "--job", p.Job, "--batch", p.Batch)
	case extract.PartIDRange:
		a = append(a, "--id-range", p.IDFrom+","+p.IDTo)
	}
	return a
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
		s.Fields[i] = sparkColumn{Name: c.Name, Type: c.Kind.SparkType(), Nullable: true, Metadata: map[string]any{}}
	}
	return s
}

// runPipePlan runs `pipe --export --plan` or `pipe --export --commit`.
func runPipePlan(ctx context.Context, ios *IOStreams, ev *pipeEvents, o *pipeOptions, args []string) int {
	x := &o.export
	pf := pipeFail(ctx, ev)
	fail := func(err error) int {
		code := exitCode(err)
		if code == ExitOK {
			code = ExitError
		}
		name := exitName(code)
		if code == ExitError {
			name = "ExportError"
		}
		return pf(code, name, err)
	}
	usage := func(err error) int { return pf(ExitUsage, "UsageError", err) }
	switch {
	case len(args) != 0:
		return usage(errors.New("--export takes no OPERATION"))
	case x.Plan && x.Commit:
		return usage(errors.New("--plan and --commit are separate steps: give one"))
	case o.Job != "" || o.IDRange != "" || o.Locator != "" || o.MaxRecords != 0 || o.Batch != "":
		return usage(errors.New("--plan and --commit take no partition (--job, --locator, --max-records, --batch, --id-range)"))
	case o.RunID != "":
		return usage(errors.New("--export is read-only: it takes no --run-id"))
	}
	if x.Commit {
		if x.Since == "" {
			return usage(errors.New("--commit needs --since FILE"))
		}
		if err := commitSince(x.Since); err != nil {
			return fail(err)
		}
		ev.emit(map[string]any{"event": "summary", "committed": x.Since, "runId": nil})
		return ExitOK
	}
	if o.Query != "" && (len(x.Fields) > 0 || x.Where != "") {
		return usage(errors.New("give --query, or --sobject with --fields (and --where), not both"))
	}
	var hs *handshake
	if o.Handshake {
		var err error
		if hs, err = readHandshake(bufioReader(ios)); err != nil {
			return usage(err)
		}
	}
	c, code, err := o.pipeLogin(ctx, hs)
	if err != nil {
		return pf(code, exitName(code), err)
	}
	return pipeExportPlan(ctx, ios, ev, c, o, fail)
}

func pipeExportPlan(ctx context.Context, ios *IOStreams, ev *pipeEvents, c *salesforce.Client, o *pipeOptions, fail func(error) int) int {
	x := &o.export
	opts := extract.Options{
		Query: o.Query, Object: o.load.Object, Fields: x.Fields, Where: x.Where, All: x.AllRows,
		PageSize: x.PageSize, Concurrency: 1, Logger: newPipeLogger(ev),
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
		var err error
		if opts, err = opts.ExpandFields(ctx, c); err != nil {
			return fail(err)
		}
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
	if x.DoneDir != "" && !x.SchemaOnly {
		deleted, err := sweepReadJobs(ctx, c, x.DoneDir, x.KeepJobsFor)
		if len(deleted) > 0 {
			ev.emit(map[string]any{"event": "log", "level": "INFO", "msg": "deleted the query jobs of earlier reads", "jobs": deleted})
		}
		if err != nil {
			ev.emit(map[string]any{"event": "log", "level": "WARN", "msg": err.Error()})
		}
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
	if x.DoneDir != "" && plan.Partitioning == extract.ByPage && len(plan.Jobs) == 1 {
		if err := expectPages(x.DoneDir, plan.Jobs[0], len(plan.Partitions), x.KeepJobsFor); err != nil {
			return fail(err)
		}
	}
	out := readPlanOutput{ReadPlan: plan, Partitions: make([]planPartition, len(plan.Partitions)),
		SparkSchema: sparkSchemaOf(plan.Columns), Window: window}
	for i, p := range plan.Partitions {
		out.Partitions[i] = planPartition{Partition: p, Args: partitionArgs(plan, p)}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return fail(err)
	}
	if _, err := ios.Out.Write(append(b, '\n')); err != nil {
		return fail(fmt.Errorf("writing the plan: %w", err))
	}
	ev.emit(map[string]any{"event": "summary", "partitions": len(plan.Partitions), "runId": nil})
	return ExitOK
}

// asQueryUsage marks the extract package's option errors as usage errors (exit 2).
func asQueryUsage(err error) error {
	if err != nil && strings.HasPrefix(err.Error(), "extract: Options.") {
		return usageError{err}
	}
	return err
}

// DefaultKeepReadJobs is how long a planned read's Bulk 2.0 query job is kept after its pages
// were last read: Spark plans a DataFrame's partitions once, so a later action on the same
// DataFrame reads the same pages again.
const DefaultKeepReadJobs = time.Hour

// Files in a job's folder under --done-dir: the number of pages the plan made, how long the
// job is kept once they were read (--keep-jobs-for), a marker per page read, and the marker
// whose modification time is when every page was last read.
const (
	readPagesFile      = "pages"
	readKeepFile       = "keep"
	readPagePrefix     = "page-"
	readCompleteMarker = "complete"
)

// expectPages records, under dir, that the read of Bulk 2.0 job jobID has pages pages and
// that its job is kept for keep once they were all read.
func expectPages(dir, jobID string, pages int, keep time.Duration) error {
	jobDir := filepath.Join(dir, filepath.Base(jobID))
	if err := os.MkdirAll(jobDir, 0o755); err != nil {
		return fmt.Errorf("--done-dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(jobDir, readKeepFile), []byte(keep.String()), 0o644); err != nil {
		return fmt.Errorf("--done-dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(jobDir, readPagesFile), []byte(strconv.Itoa(pages)), 0o644); err != nil {
		return fmt.Errorf("--done-dir: %w", err)
	}
	return nil
}

// pageDone records that the page at locator of job jobID has been read, in a marker file
// under dir. The reader that finds every page of the job marked (each writes its marker
// before it counts, so the last one always does) touches the job's complete marker; a later
// plan deletes the job once that marker is older than --keep-jobs-for (sweepReadJobs), and
// with --keep-jobs-for 0 that reader deletes the job itself, at once. A job no plan
// recorded (expectPages) is left alone. It reports whether it deleted the job.
func pageDone(ctx context.Context, c *salesforce.Client, dir, jobID, locator string) (bool, error) {
	jobDir := filepath.Join(dir, filepath.Base(jobID))
	b, err := os.ReadFile(filepath.Join(jobDir, readPagesFile))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("--done-dir: %w", err)
	}
	pages, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return false, fmt.Errorf("--done-dir: %s: %w", filepath.Join(jobDir, readPagesFile), err)
	}
	if err := os.WriteFile(filepath.Join(jobDir, readPagePrefix+hex.EncodeToString([]byte(locator))), nil, 0o644); err != nil {
		return false, fmt.Errorf("--done-dir: %w", err)
	}
	ents, err := os.ReadDir(jobDir)
	if err != nil {
		return false, fmt.Errorf("--done-dir: %w", err)
	}
	done := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), readPagePrefix) {
			done++
		}
	}
	if done < pages {
		return false, nil
	}
	if k, err := os.ReadFile(filepath.Join(jobDir, readKeepFile)); err == nil {
		if keep, err := time.ParseDuration(strings.TrimSpace(string(k))); err == nil && keep <= 0 {
			if err := c.Bulk2.DeleteQueryJob(ctx, jobID); err != nil && !salesforce.IsErrorCode(err, "NOT_FOUND") {
				return false, fmt.Errorf("deleting query job %s: %w", jobID, err)
			}
			if err := os.RemoveAll(jobDir); err != nil {
				return true, fmt.Errorf("--done-dir: %w", err)
			}
			return true, nil
		}
	}
	marker := filepath.Join(jobDir, readCompleteMarker)
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return false, fmt.Errorf("--done-dir: %w", err)
	}
	now := time.Now()
	return false, os.Chtimes(marker, now, now)
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
		if err := c.Bulk2.DeleteQueryJob(ctx, e.Name()); err != nil && !salesforce.IsErrorCode(err, "NOT_FOUND") {
			return deleted, fmt.Errorf("deleting query job %s: %w", e.Name(), err)
		}
		deleted = append(deleted, e.Name())
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return deleted, fmt.Errorf("--done-dir: %w", err)
		}
	}
	return deleted, nil
}
