package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// Files of a plan's run folder (each step's folder NN-Object holds a load's files).
const (
	PlanFile    = "plan.json"
	JournalFile = "run.db"
	fillInput   = "input.csv" // a second pass's generated input, in its step folder
)

// Options configure Run.
type Options struct {
	// Dir is the run folder; it must exist. Required.
	Dir string
	// Resume continues the plan recorded in Dir: completed steps are skipped, the
	// interrupted one is resumed (load.Options.Resume), the rest run.
	Resume bool
	// Progress receives every step's load events. Nil means none.
	Progress load.Progress
	// Logger receives the engine's logs. Nil means none.
	Logger *slog.Logger
	// Event receives the plan's own events (step_started, step_finished, ...) for
	// events.jsonl. Nil means none. Called from Run's goroutine.
	Event func(kind string, fields map[string]any)
}

// StepResult is how one step ended.
type StepResult struct {
	N         int    `json:"step"`
	Dir       string `json:"dir"`
	Object    string `json:"object"`
	Pass      int    `json:"pass"`
	Operation string `json:"operation"`
	API       string `json:"api"`
	RunID     string `json:"run_id"`
	Skipped   bool   `json:"skipped,omitempty"` // completed before a resume
	load.Summary
}

// Result is how a plan run ended.
type Result struct {
	RunID string        `json:"run_id"`
	Steps []*StepResult `json:"steps"`
}

// Failed reports whether some row of some step failed or was not processed.
func (r *Result) Failed() bool {
	for _, s := range r.Steps {
		if s.Failed > 0 || s.NotProcessed > 0 {
			return true
		}
	}
	return false
}

// Doc is plan.json: the plan as ordered for this run.
type Doc struct {
	RunID string    `json:"run_id"`
	Steps []StepDoc `json:"steps"`
}

// StepDoc describes one step in plan.json.
type StepDoc struct {
	N         int      `json:"step"`
	Dir       string   `json:"dir"`
	Object    string   `json:"object"`
	Pass      int      `json:"pass"`
	Operation string   `json:"operation"`
	Source    string   `json:"source"`
	SHA256    string   `json:"sha256,omitempty"`
	Rows      int64    `json:"rows"`
	After     []string `json:"after,omitempty"`    // plan objects it points at
	Deferred  []string `json:"deferred,omitempty"` // columns left for (pass 1) or filled by (pass 2) the second pass
	// ExternalID is the upsert's external id field.
	ExternalID string `json:"external_id,omitempty"`
	// Translate names the columns holding source ids, and the object whose ids they are.
	Translate map[string]string `json:"translate,omitempty"`
	// Convert is each converted column's conversion, formats and zone resolved (pass 1):
	// a retry of the step applies them again to rows that failed before conversion.
	Convert map[string]Conversion `json:"convert,omitempty"`
}

type runner struct {
	c     *salesforce.Client
	plan  *Plan
	opts  Options
	store *jobstore.Store
	ids   *idMap
	runID string
}

// Run loads the plan's steps in order into the org, each through load.Load with its
// files in Dir/NN-Object, recording everything in Dir/run.db so that Options.Resume
// finishes an interrupted run without sending a row twice. Rows that fail do not stop the
// plan; a step that cannot finish (an *load.Error, cancellation) does, and is resumable.
func Run(ctx context.Context, c *salesforce.Client, p *Plan, opts Options) (*Result, error) {
	if opts.Dir == "" {
		return nil, errors.New("plan: Options.Dir is required")
	}
	store, err := jobstore.Open(ctx, filepath.Join(opts.Dir, JournalFile))
	if err != nil {
		return nil, err
	}
	defer store.Close()
	os.Chmod(filepath.Join(opts.Dir, JournalFile), 0o600)
	ids, err := openIDMap(ctx, filepath.Join(opts.Dir, JournalFile))
	if err != nil {
		return nil, err
	}
	defer ids.close()
	r := &runner{c: c, plan: p, opts: opts, store: store, ids: ids}
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	res := &Result{RunID: r.runID}
	for _, st := range p.Steps {
		sr, err := r.step(ctx, st)
		if sr != nil {
			res.Steps = append(res.Steps, sr)
		}
		if err != nil {
			return res, fmt.Errorf("plan: step %s: %w", st.Dir(), err)
		}
	}
	return res, nil
}

func (r *runner) event(kind string, f map[string]any) {
	if r.opts.Event != nil {
		r.opts.Event(kind, f)
	}
}

// start writes plan.json, or on resume reads it back and checks that the plan has the
// same steps.
func (r *runner) start(ctx context.Context) error {
	path := filepath.Join(r.opts.Dir, PlanFile)
	doc := Doc{}
	for _, st := range r.plan.Steps {
		sd := StepDoc{N: st.N, Dir: st.Dir(), Object: st.Object, Pass: st.Pass, Operation: string(st.Operation), Rows: st.Rows}
		if st.Pass == 1 {
			sd.Source = st.Source
			h, _, err := jobstore.HashFile(ctx, st.Source)
			if err != nil {
				return err
			}
			sd.SHA256 = h
			if src, closeSrc, err := r.plan.File.openMapped(st.obj); err == nil {
				if c := r.plan.File.resolvedConversions(st.obj, src.Header(), st.describe); len(c) > 0 {
					sd.Convert = c
				}
				closeSrc()
			}
		} else {
			sd.Source = filepath.Join(st.Dir(), fillInput)
		}
		for _, ref := range st.Refs {
			sd.After = append(sd.After, ref.Target)
			if ref.ByKey {
				if sd.Translate == nil {
					sd.Translate = map[string]string{}
				}
				sd.Translate[ref.Column] = ref.Target
			}
		}
		if st.Pass == 1 && st.Operation == load.Upsert {
			sd.ExternalID = st.obj.ExternalID
		}
		for _, ref := range st.Deferred {
			sd.Deferred = append(sd.Deferred, ref.Column)
		}
		doc.Steps = append(doc.Steps, sd)
	}
	if r.opts.Resume {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("plan: resume: %w", err)
		}
		var prev Doc
		if err := json.Unmarshal(b, &prev); err != nil {
			return fmt.Errorf("plan: resume: %s: %w", PlanFile, err)
		}
		if len(prev.Steps) != len(doc.Steps) {
			return fmt.Errorf("plan: resume: %w: the plan now has %d steps, the interrupted run had %d", jobstore.ErrInputChanged, len(doc.Steps), len(prev.Steps))
		}
		for i := range doc.Steps {
			a, b := doc.Steps[i], prev.Steps[i]
			if a.Dir != b.Dir || a.SHA256 != b.SHA256 || a.Operation != b.Operation {
				return fmt.Errorf("plan: resume: %w: step %s (%s) differs from the interrupted run's %s", jobstore.ErrInputChanged, a.Dir, a.Source, b.Dir)
			}
		}
		r.runID = prev.RunID
		r.event("plan_resumed", map[string]any{"run_id": r.runID})
		return nil
	}
	r.runID = jobstore.NewRunID(time.Now())
	doc.RunID = r.runID
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	r.event("plan_started", map[string]any{"run_id": r.runID, "steps": len(doc.Steps)})
	return nil
}

func (r *runner) stepRunID(st *Step) string { return fmt.Sprintf("%s-%02d", r.runID, st.N) }

// step runs (or resumes, or skips) one step.
func (r *runner) step(ctx context.Context, st *Step) (*StepResult, error) {
	dir := filepath.Join(r.opts.Dir, st.Dir())
	runID := r.stepRunID(st)
	sr := &StepResult{N: st.N, Dir: st.Dir(), Object: st.Object, Pass: st.Pass, Operation: string(st.Operation), RunID: runID}
	prev, err := r.store.GetRun(ctx, runID)
	resume := false
	switch {
	case err == nil && prev.State == jobstore.RunCompleted:
		sr.Skipped = true
		if err := readStepSummary(dir, sr); err != nil {
			return sr, err
		}
		return sr, nil
	case err == nil:
		resume = true
	case !errors.Is(err, jobstore.ErrNotFound):
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	input := st.Source
	if st.Pass == 2 {
		input = filepath.Join(dir, fillInput)
		if !resume {
			if err := r.writeFill(st, input); err != nil {
				return nil, err
			}
		}
	}
	if !resume {
		h, size, err := jobstore.HashFile(ctx, input)
		if err != nil {
			return nil, err
		}
		if err := r.store.CreateRun(ctx, jobstore.Run{ID: runID, Object: st.Object, Operation: string(st.Operation),
			InputPath: input, InputSize: size, InputHash: h}); err != nil {
			return nil, err
		}
	} else if err := r.store.CheckInput(ctx, runID, input); err != nil {
		return nil, err
	}
	r.event("step_started", map[string]any{"step": st.N, "dir": st.Dir(), "object": st.Object, "pass": st.Pass, "run_id": runID, "resumed": resume})
	if resume && loadFinished(dir) {
		// Killed after the load wrote its result files, before the step was recorded
		// complete: nothing is left to send.
		return r.finishStep(ctx, st, sr, dir, runID, true)
	}
	src, closeSrc, err := r.stepSource(ctx, st, input)
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	lopts, err := r.loadOptions(st)
	if err != nil {
		return nil, err
	}
	lopts.Journal, lopts.RunID, lopts.Resume = r.store, runID, resume
	lopts.Progress, lopts.Logger = r.opts.Progress, r.opts.Logger
	open := load.CSVSinks
	if resume {
		open = load.ResumeCSVSinks
	}
	sinks, err := open(dir)
	if err != nil {
		return nil, err
	}
	var sum *load.Summary
	var loadErr error
	if st.Pass == 1 && st.Files() {
		sum, loadErr = r.loadFiles(ctx, st, src, sinks, st.blob, dir)
	} else {
		sum, loadErr = load.Load(ctx, r.c, src, sinks, lopts)
	}
	sinks.Keep = loadErr != nil
	if cerr := sinks.Close(); cerr != nil && loadErr == nil {
		loadErr = cerr
	}
	if sum != nil {
		sr.Summary = *sum
		sr.API = sum.API.String()
	}
	if loadErr != nil {
		state := jobstore.RunFailed
		if errors.Is(loadErr, context.Canceled) {
			state = jobstore.RunAborted
		}
		r.store.UpdateRunState(context.WithoutCancel(ctx), runID, state, loadErr.Error())
		r.event("step_failed", map[string]any{"step": st.N, "dir": st.Dir(), "error": loadErr.Error()})
		return sr, loadErr
	}
	return r.finishStep(ctx, st, sr, dir, runID, resume)
}

// loadFinished reports whether a step's load wrote its merged result files: results.csv
// is there and the part files are gone.
func loadFinished(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, load.ResultsFile)); err != nil {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, load.PartsDir))
	return errors.Is(err, os.ErrNotExist)
}

// finishStep records a step whose load ended: the ids it created, its summary.json, and
// its state in run.db.
func (r *runner) finishStep(ctx context.Context, st *Step, sr *StepResult, dir, runID string, recount bool) (*StepResult, error) {
	if recount {
		// The engine counted only this call's rows; results.csv holds the whole step.
		if err := countResults(filepath.Join(dir, load.ResultsFile), &sr.Summary); err != nil {
			return sr, err
		}
	}
	if st.Pass == 1 && st.obj.key() != "" {
		if err := r.recordIDs(ctx, st); err != nil {
			return sr, err
		}
	}
	if err := writeStepSummary(dir, sr); err != nil {
		return sr, err
	}
	if err := r.store.UpdateRunState(ctx, runID, jobstore.RunCompleted, ""); err != nil {
		return sr, err
	}
	r.event("step_finished", map[string]any{"step": st.N, "dir": st.Dir(), "rows": sr.Rows, "succeeded": sr.Succeeded,
		"failed": sr.Failed, "not_processed": sr.NotProcessed})
	return sr, nil
}

// stepSource opens what a step sends.
func (r *runner) stepSource(ctx context.Context, st *Step, input string) (load.Source, func(), error) {
	if st.Pass == 2 {
		f, err := os.Open(input)
		if err != nil {
			return nil, nil, err
		}
		src := load.CSVSource(f, input, load.CSVOptions{})
		return newRefSource(ctx, src, r.ids, st.Deferred, nil), func() { f.Close() }, nil
	}
	src, closeSrc, err := r.plan.File.openMapped(st.obj)
	if err != nil {
		return nil, nil, err
	}
	if src, err = r.plan.File.converted(st.obj, src, st.describe); err != nil {
		closeSrc()
		return nil, nil, err
	}
	var drop []string
	for _, d := range st.Deferred {
		drop = append(drop, d.Column)
	}
	if st.dropKey {
		drop = append(drop, st.obj.key())
	}
	return newRefSource(ctx, src, r.ids, st.Refs, drop), closeSrc, nil
}

func (r *runner) loadOptions(st *Step) (load.Options, error) {
	d := r.plan.File.Defaults
	o := st.obj
	api, err := load.ParseAPI(first(o.API, d.API))
	if err != nil {
		return load.Options{}, err
	}
	nulls, err := parseNulls(first(o.Nulls, d.Nulls))
	if err != nil {
		return load.Options{}, err
	}
	lo := load.Options{Object: st.Object, Operation: st.Operation, API: api, Nulls: nulls,
		BatchSize: cmpOrInt(o.BatchSize, d.BatchSize), Concurrency: cmpOrInt(o.Concurrency, d.Concurrency)}
	if st.Pass == 1 && st.Operation == load.Upsert {
		lo.ExternalIDField = o.ExternalID
	}
	if st.Pass == 2 {
		lo.Nulls = load.NullsLeaveUnchanged
	}
	return lo, nil
}

// recordIDs adds the ids a first pass created to the id map, by the rows' Key values.
func (r *runner) recordIDs(ctx context.Context, st *Step) error {
	key := st.obj.key()
	var pairs [][2]string
	col := -1
	err := r.zipResults(st, func(hdr, vals []string, id string) error {
		if col < 0 {
			for i, h := range hdr {
				if strings.EqualFold(h, key) {
					col = i
				}
			}
		}
		if col >= 0 && vals[col] != "" && id != "" {
			pairs = append(pairs, [2]string{vals[col], id})
			if len(pairs) >= idBatch {
				if err := r.ids.put(ctx, st.Object, pairs); err != nil {
					return err
				}
				pairs = pairs[:0]
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.ids.put(ctx, st.Object, pairs)
}

// writeFill writes a second pass's input: the id of every row the first pass created
// with a deferred lookup to fill, and that lookup's source value.
func (r *runner) writeFill(st *Step, path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	w := sfcsv.NewWriter(f, sfcsv.WriterOptions{})
	hdr := []string{"Id"}
	for _, d := range st.Deferred {
		hdr = append(hdr, d.Column)
	}
	if _, err := w.Write(hdr); err != nil {
		f.Close()
		return err
	}
	var cols []int
	out := make([]string, len(hdr))
	err = r.zipResults(st.First, func(h, vals []string, id string) error {
		if cols == nil {
			for _, d := range st.Deferred {
				for i, c := range h {
					if strings.EqualFold(c, d.Column) {
						cols = append(cols, i)
					}
				}
			}
		}
		any := false
		out[0] = id
		for j, c := range cols {
			out[j+1] = vals[c]
			any = any || (vals[c] != "" && vals[c] != sfcsv.NullValue)
		}
		if !any {
			return nil
		}
		_, err := w.Write(out)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func cmpOrInt(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

const stepSummaryFile = "summary.json"

func writeStepSummary(dir string, sr *StepResult) error {
	b, err := json.MarshalIndent(sr, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+stepSummaryFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, stepSummaryFile))
}

func readStepSummary(dir string, sr *StepResult) error {
	b, err := os.ReadFile(filepath.Join(dir, stepSummaryFile))
	if err != nil {
		return err
	}
	skipped := sr.Skipped
	if err := json.Unmarshal(b, sr); err != nil {
		return err
	}
	sr.Skipped = skipped
	return nil
}

// countResults sets the counts of sum from a merged results.csv.
func countResults(path string, sum *load.Summary) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := sfcsv.NewReader(f, sfcsv.ReaderOptions{ReuseRecord: true})
	hdr, err := rd.Header()
	if err != nil {
		return err
	}
	oc, cr := -1, -1
	for i, h := range hdr {
		switch h {
		case "sf__Outcome":
			oc = i
		case "sf__Created":
			cr = i
		}
	}
	if oc < 0 {
		return fmt.Errorf("%s: no sf__Outcome column", path)
	}
	sum.Rows, sum.Succeeded, sum.Created, sum.Failed, sum.NotProcessed = 0, 0, 0, 0, 0
	for {
		rec, err := rd.Read()
		if err != nil {
			break
		}
		sum.Rows++
		switch rec[oc] {
		case load.Succeeded.String():
			sum.Succeeded++
			if cr >= 0 && rec[cr] == "true" {
				sum.Created++
			}
		case load.Failed.String():
			sum.Failed++
		default:
			sum.NotProcessed++
		}
	}
	return nil
}
