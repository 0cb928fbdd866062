package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/plan"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// planOptions are the flags of sfbatch plan and sfbatch run.
type planOptions struct {
	auth      authOptions
	OutputDir string
	Resume    string
	JSON      bool
	Quiet     bool
	file      string
	Report    bool          // --report: report.html in the run folder (and each step's)
	report    reportOptions // --report-values, --mask
	// connect logs in, when set (tests); else the resolved profile does.
	connect connectFunc
}

const planHelp = `A plan file (YAML or JSON) lists the objects to load, in any order:

  version: 1
  connections:
    target: {profile: prod}        # optional: a profile saved by sfbatch login
  defaults:
    dateFormat: DD/MM/YYYY         # date fields without their own conversion
    timeZone: Europe/Paris         # date-times without a zone
  objects:
    - object: Contact
      source: contacts.csv         # CSV, JSON Lines or Parquet
      key: LegacyId                # the source's own ids: lookups to them are translated
      convert: {Birthdate: {type: date, format: MM/DD/YYYY}}
    - object: Account
      source: accounts.csv
      operation: upsert            # insert (default), update or upsert
      externalId: External_Id__c
      mapping: accounts.sdl        # or map: {SOURCE_COLUMN: Field}

A ContentVersion object whose VersionData column holds local file paths
uploads each file (streamed, one request per row) linked to its parent by
FirstPublishLocationId.

An org-to-org copy reads an object with SOQL from a source connection instead
of a file (a saved profile, or env: PREFIX for PREFIX+SF_INSTANCE_URL, ...);
selecting Id makes Id the key, so lookups between copied objects are remapped:

  connections:
    source: {profile: prod}
  objects:
    - object: Account
      query: SELECT Id, Name, ParentId FROM Account   # connection: source (default)

The JSON Schema of the file is plan/schema.json in the sfbatch repository
(print it with: sfbatch plan --schema), for editors that validate YAML and JSON.`

func newPlanCmd(ios *IOStreams) *cobra.Command {
	opts := &planOptions{}
	var schema bool
	cmd := &cobra.Command{
		Use:   "plan FILE",
		Short: "Preview a load plan: order, rows, API calls, limits and preflight findings",
		Long: `Preview a load plan without writing anything to the org.

The objects are ordered from the org's describe (parents before children,
whatever the file's order); self-references and optional lookups in a cycle
wait for a second pass. For each step it prints the rows, the API, the jobs,
batches and requests it will use, and what the plan costs against the org's
/limits; then it runs the full preflight of every row (fields, types, lengths,
required fields, conversions, restricted picklist values against each row's
record type and restricted dependent picklists against their controlling value).

Exit status: 0 without findings, 3 with findings, 2 for plan errors (a bad
file, an unknown object, a cycle of required lookups).

` + planHelp,
		Example: `  sfbatch plan migration.yaml
  sfbatch plan --schema > plan.schema.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if schema {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if schema {
				_, err := ios.Out.Write(plan.Schema)
				return err
			}
			opts.file = args[0]
			return runPlanPreview(cmd, ios, opts)
		},
	}
	opts.auth.bind(cmd.Flags())
	cmd.Flags().BoolVar(&schema, "schema", false, "print the plan file's JSON Schema")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the preview as JSON")
	cmd.Flags().StringVarP(&opts.OutputDir, "output-dir", "o", "", "also write each step's findings to DIR/NN-Object/findings.csv (sf__Row, sf__Column, sf__ErrorCode, sf__Error)")
	return cmd
}

// findingsFile is where plan -o DIR writes a step's findings.
const findingsFile = "findings.csv"

// writeFindings writes each step's findings as CSV, one line per finding, ordered as found.
func writeFindings(dir string, pv *plan.Preview) error {
	for _, sp := range pv.Steps {
		if sp.Step.Pass != 1 {
			continue
		}
		sd := filepath.Join(dir, sp.Step.Dir())
		if err := os.MkdirAll(sd, 0o755); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(sd, findingsFile))
		if err != nil {
			return err
		}
		w := sfcsv.NewWriter(f, sfcsv.WriterOptions{})
		_, err = w.Write([]string{"sf__Row", "sf__Column", "sf__ErrorCode", "sf__Error"})
		for _, p := range sp.Findings {
			if err != nil {
				break
			}
			_, err = w.Write([]string{strconv.FormatInt(p.Row, 10), p.Column, p.Code, p.Message})
		}
		if err == nil {
			err = w.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing findings: %w", err)
		}
	}
	return nil
}

func newRunCmd(ios *IOStreams) *cobra.Command {
	opts := &planOptions{}
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a load plan: every object in order, lookups resolved, in one run folder",
		Long: `Run a load plan (see sfbatch plan --help for the file).

The run folder (-o DIR, or a new sfbatch-runs/UTCTIME-SUFFIX) holds plan.json,
run.db, events.jsonl, summary.json and one folder per step, NN-Object, with
the step's success.csv, failure.csv, unprocessed.csv, results.csv and
summary.json. If the run is interrupted or killed, run --resume DIR FILE
finishes it: completed steps are skipped and nothing is sent twice.

Exit status: 0 when every row succeeded, 3 when some rows failed or were not
processed, 2 for plan errors (nothing sent), 4 and 5 when the org cannot be
used, 130 when cancelled.`,
		Example: `  sfbatch run migration.yaml
  sfbatch run migration.yaml --resume sfbatch-runs/20260101T120000.000000Z-ab12cd`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.file = args[0]
			limitMemory()
			return runPlan(cmd, ios, opts)
		},
	}
	opts.auth.bind(cmd.Flags())
	cmd.Flags().StringVarP(&opts.OutputDir, "output-dir", "o", "", "run folder (default: a new sfbatch-runs/UTCTIME-SUFFIX)")
	cmd.Flags().StringVar(&opts.Resume, "resume", "", "finish the interrupted plan run in `DIR`")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing but errors")
	cmd.Flags().BoolVar(&opts.Report, "report", false, "write report.html (object graph, steps, timeline) into the run folder, and one into each step's folder")
	opts.report.bindValues(cmd.Flags())
	return cmd
}

// compilePlan reads the file, logs in (through the plan's target profile unless flags or
// the environment say otherwise), reads the queries of an org-to-org copy from their source
// orgs into dir/sources (keeping files already there when reuse is set) and orders the plan.
func compilePlan(cmd *cobra.Command, opts *planOptions, log *slog.Logger, dir string, reuse bool) (*plan.Plan, *salesforce.Client, error) {
	f, err := plan.ReadFile(opts.file)
	if err != nil {
		return nil, nil, planErr(err)
	}
	if err := fetchPlanSources(cmd, opts, f, log, dir, reuse); err != nil {
		return nil, nil, planErr(err)
	}
	if t, ok := f.Connections["target"]; ok && t.Profile != "" && opts.auth.Profile == "" {
		opts.auth.Profile = t.Profile
	}
	connect := opts.connect
	if connect == nil {
		p, err := opts.auth.resolve()
		if err != nil {
			return nil, nil, err
		}
		connect = func(ctx context.Context, log *slog.Logger) (*salesforce.Client, error) {
			var extra []salesforce.Option
			if log != nil {
				extra = append(extra, salesforce.WithLogger(log))
			}
			return p.client(ctx, extra...)
		}
	}
	c, err := connect(cmd.Context(), log)
	if err != nil {
		return nil, nil, err
	}
	pl, err := plan.Compile(cmd.Context(), c, f)
	if err != nil {
		return nil, nil, planErr(err)
	}
	return pl, c, nil
}

func planErr(err error) error {
	var pe *plan.Error
	if errors.As(err, &pe) {
		return withExit(ExitUsage, err)
	}
	return err
}

func runPlanPreview(cmd *cobra.Command, ios *IOStreams, opts *planOptions) error {
	dir := opts.OutputDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "sfbatch-plan-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	pl, c, err := compilePlan(cmd, opts, nil, dir, false)
	if err != nil {
		return err
	}
	pv, err := plan.PreviewPlan(cmd.Context(), c, pl)
	if err != nil {
		return err
	}
	if opts.OutputDir != "" {
		if err := writeFindings(opts.OutputDir, pv); err != nil {
			return err
		}
	}
	if opts.JSON {
		if err := writeJSON(ios, previewJSON(pv)); err != nil {
			return err
		}
	} else {
		printPreview(ios, pv)
	}
	if pv.FindingsCount > 0 {
		return withExit(ExitRowsFailed, fmt.Errorf("plan: %d finding(s); nothing was loaded", pv.FindingsCount))
	}
	return nil
}

func previewJSON(pv *plan.Preview) map[string]any {
	var steps []map[string]any
	for _, sp := range pv.Steps {
		steps = append(steps, map[string]any{"step": sp.Step.N, "dir": sp.Step.Dir(), "object": sp.Step.Object, "pass": sp.Step.Pass,
			"operation": string(sp.Step.Operation), "rows": sp.Step.Rows, "api": sp.API.String(), "jobs": sp.Jobs,
			"batches": sp.Batches, "requests": sp.Requests, "findings": sp.Findings, "more_findings": sp.More})
	}
	return map[string]any{"steps": steps, "requests": pv.Requests, "batches": pv.Batches, "findings": pv.FindingsCount, "limits": pv.Limits}
}

func printPreview(ios *IOStreams, pv *plan.Preview) {
	w := ios.Out
	fmt.Fprintf(w, "%-4s %-28s %-9s %8s  %-11s %5s %8s %9s  %s\n", "step", "object", "operation", "rows", "api", "jobs", "batches", "requests", "lookups")
	for _, sp := range pv.Steps {
		st := sp.Step
		rows := fmt.Sprint(st.Rows)
		note := ""
		if st.Pass == 2 {
			rows = "<=" + fmt.Sprint(st.First.Rows)
			note = "second pass fills "
		}
		var cols []string
		for _, r := range st.Refs {
			cols = append(cols, r.Column+"->"+r.Target)
		}
		if st.Pass == 1 && len(st.Deferred) > 0 {
			var d []string
			for _, r := range st.Deferred {
				d = append(d, r.Column)
			}
			note = "(deferred: " + strings.Join(d, ", ") + ") "
		}
		fmt.Fprintf(w, "%-4d %-28s %-9s %8s  %-11s %5d %8d %9d  %s%s\n", st.N, st.Object, st.Operation, rows, sp.API, sp.Jobs, sp.Batches, sp.Requests, note, strings.Join(cols, ", "))
	}
	fmt.Fprintf(w, "\ncost: about %d API requests and %d Bulk API batches\n", pv.Requests, pv.Batches)
	if pv.LimitsErr != nil {
		fmt.Fprintf(w, "limits: could not be read: %v\n", pv.LimitsErr)
	} else {
		for _, name := range []string{"DailyApiRequests", "DailyBulkApiBatches"} {
			if l, ok := pv.Limits[name]; ok {
				need := pv.Requests
				if name == "DailyBulkApiBatches" {
					need = pv.Batches
				}
				verdict := "ok"
				if int64(l.Remaining) < need {
					verdict = "NOT ENOUGH"
				}
				fmt.Fprintf(w, "  %-20s needs %d of %d remaining (max %d): %s\n", name, need, l.Remaining, l.Max, verdict)
			}
		}
	}
	for _, sp := range pv.Steps {
		if len(sp.Findings) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nfindings in %s (%s):\n", sp.Step.Dir(), sp.Step.Source)
		for _, p := range sp.Findings {
			fmt.Fprintf(w, "  %s\n", p)
		}
		if sp.More > 0 {
			fmt.Fprintf(w, "  ... and %d more\n", sp.More)
		}
	}
	if pv.FindingsCount == 0 {
		fmt.Fprintln(w, "\npreflight: no findings; nothing was loaded")
	} else {
		fmt.Fprintf(w, "\npreflight: %d finding(s); nothing was loaded\n", pv.FindingsCount)
	}
}

func runPlan(cmd *cobra.Command, ios *IOStreams, opts *planOptions) error {
	ctx := cmd.Context()
	say := func(format string, args ...any) {
		if !opts.Quiet && !opts.JSON {
			fmt.Fprintf(ios.ErrOut, format, args...)
		}
	}
	dir, resume := opts.OutputDir, false
	switch {
	case opts.Resume != "":
		dir, resume = opts.Resume, true
		if _, err := os.Stat(filepath.Join(dir, plan.PlanFile)); err != nil {
			return usageError{fmt.Errorf("--resume %s: no plan run there", dir)}
		}
	case dir != "":
		if _, err := os.Stat(filepath.Join(dir, plan.PlanFile)); err == nil {
			return usageError{fmt.Errorf("%s holds an earlier plan run; resume it with --resume %s", dir, dir)}
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	default:
		var err error
		if dir, err = newRunDir(time.Now()); err != nil {
			return err
		}
	}
	events, err := openEventLog(dir)
	if err != nil {
		return err
	}
	defer events.close()
	log := slog.New(logHandler{l: events})
	pl, c, err := compilePlan(cmd, opts, log, dir, resume)
	if err != nil {
		events.write("run_finished", map[string]any{"error": err.Error(), "exit_code": exitCode(err)})
		return err
	}
	say("run folder: %s\n", dir)
	say("if interrupted, resume with: %s run --resume %s %s\n", cmd.Root().Name(), dir, shellQuote(opts.file))
	events.write("run_started", map[string]any{"kind": "plan", "plan": opts.file, "resumed": resume,
		"command": commandLine(cmd, []string{opts.file}, "output-dir", "resume"), "version": versionString()})
	events.write("connected", map[string]any{"instance_url": c.InstanceURL(), "api_version": c.APIVersion()})
	stopUsage := watchUsage(ctx, c, events)
	start := time.Now()
	res, runErr := plan.Run(ctx, c, pl, plan.Options{Dir: dir, Resume: resume, Progress: events, Logger: log, Event: events.write})
	if res != nil {
		for _, s := range res.Steps {
			if !s.Skipped {
				recordJobTimes(ctx, c, events, &s.Summary)
			}
		}
	}
	stopUsage()
	code := ExitOK
	switch {
	case runErr != nil && errors.Is(runErr, jobstore.ErrInputChanged):
		code = ExitUsage
	case runErr != nil && errors.Is(runErr, ctx.Err()) && ctx.Err() != nil:
		code = ExitCancelled
	case runErr != nil:
		code = ExitRowsFailed
	case res.Failed():
		code = ExitRowsFailed
	}
	doc := map[string]any{"run_id": "", "state": "completed", "exit_code": code, "seconds": time.Since(start).Seconds(), "plan": opts.file}
	if res != nil {
		doc["run_id"], doc["steps"] = res.RunID, res.Steps
	}
	if runErr != nil {
		doc["state"], doc["error"] = "failed", runErr.Error()
	}
	if err := writeJSONFile(filepath.Join(dir, summaryFile), doc); err != nil {
		say("sfbatch: %v\n", err)
	}
	events.write("run_finished", map[string]any{"exit_code": code, "state": doc["state"]})
	if opts.Report {
		writeRunReport(ctx, ios, dir, &opts.report, opts.Quiet || opts.JSON)
	}
	if opts.JSON {
		if err := writeJSON(ios, doc); err != nil {
			return err
		}
	} else if !opts.Quiet && res != nil {
		printPlanResult(ios, res)
	}
	say("run folder: %s\n", dir)
	if runErr != nil {
		say("resume with: %s run --resume %s %s\n", cmd.Root().Name(), dir, shellQuote(opts.file))
		return withExit(code, runErr)
	}
	if code != ExitOK {
		return withExit(code, errors.New("some rows failed or were not processed; see each step's failure.csv (sfbatch retry DIR loads them again)"))
	}
	return nil
}

func printPlanResult(ios *IOStreams, res *plan.Result) {
	w := ios.Out
	fmt.Fprintf(w, "%-30s %-9s %8s %10s %8s %14s\n", "step", "operation", "rows", "succeeded", "failed", "not processed")
	for _, s := range res.Steps {
		name := s.Dir
		if s.Skipped {
			name += " (done earlier)"
		}
		fmt.Fprintf(w, "%-30s %-9s %8d %10d %8d %14d\n", name, s.Operation, s.Rows, s.Succeeded, s.Failed, s.NotProcessed)
	}
	codes := map[string]int64{}
	for _, s := range res.Steps {
		for c, n := range s.ErrorCodes {
			codes[c] += n
		}
	}
	if len(codes) > 0 {
		keys := make([]string, 0, len(codes))
		for k := range codes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(w, "errors by code:")
		for _, k := range keys {
			fmt.Fprintf(w, "  %-40s %d\n", k, codes[k])
		}
	}
}

// writeJSONFile writes v as indented JSON to path, atomically.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
