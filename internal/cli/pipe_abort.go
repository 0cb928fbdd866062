package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/sfbatch/sfbatch/dirjournal"
	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
)

// Limits of pipe --abort-run.
const (
	// abortJournalConcurrency is how many journal directories --abort-run works on at once
	// (waiting for their leases overlaps).
	abortJournalConcurrency = 8
	// abortLeaseWaits is how many lease periods --abort-run waits for an attempt that still
	// owns a journal directory before it reports the directory busy and leaves it alone.
	abortLeaseWaits = 3
)

// abortLoadedNote is what every --abort-run summary says, whatever it found.
const abortLoadedNote = "Rows that jobs already loaded stay in the org: an abort does not undo them."

// abortedRunJob is one job of an --abort-run summary, with the journal directory it came from.
type abortedRunJob struct {
	Partition string `json:"partition"`
	load.RunJob
}

// abortSummary is the result object --abort-run prints on standard output.
type abortSummary struct {
	RunID      string          `json:"runId"`
	Journals   int             `json:"journals"`
	Completed  int             `json:"completed"` // journals whose run completed: nothing to do
	Aborted    []abortedRunJob `json:"aborted"`
	Processing []abortedRunJob `json:"processing"`
	Finished   []abortedRunJob `json:"finished"`
	Unknown    []abortedRunJob `json:"unknown"`
	Unclaimed  []string        `json:"unclaimed"`
	Busy       []string        `json:"busy"` // journals an attempt still owned: left alone
	Errors     []string        `json:"errors"`
	// Rows of the jobs in Aborted (not processed), Processing (they will load) and Unknown.
	RowsNotProcessed int64  `json:"rowsNotProcessed"`
	RowsLoading      int64  `json:"rowsLoading"`
	RowsUnknown      int64  `json:"rowsUnknown"`
	Message          string `json:"message"`
}

// isJournalDir reports whether dir holds journal files (a lease or a step).
func isJournalDir(fsys dirjournal.FS, dir string) (bool, error) {
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		if !e.IsDir() && (strings.HasPrefix(e.Name(), "lease-") || strings.HasPrefix(e.Name(), "step-")) {
			return true, nil
		}
	}
	return false, nil
}

// journalDirs returns dir when it is a journal directory, else its subdirectories that are
// (one per partition, as the Spark writer lays them out), in name order.
func journalDirs(fsys dirjournal.FS, dir string) ([]string, error) {
	if ok, err := isJournalDir(fsys, dir); err != nil || ok {
		if err != nil {
			return nil, fmt.Errorf("--journal-dir: %w", err)
		}
		return []string{dir}, nil
	}
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--journal-dir: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		ok, err := isJournalDir(fsys, sub)
		if err != nil {
			return nil, fmt.Errorf("--journal-dir: %w", err)
		}
		if ok {
			out = append(out, sub)
		}
	}
	slices.Sort(out)
	return out, nil
}

// runPipeAbort is pipe --abort-run: for every journal directory of the run (--journal-dir
// itself, or its subdirectories), it takes the directory's lease, aborts the jobs Salesforce
// has not started processing, leaves those it is processing, records the run aborted, and
// prints one summary object on standard output.
func runPipeAbort(ctx context.Context, ios *IOStreams, ev *pipeEvents, o *pipeOptions, args []string) int {
	fail := pipeFail(ctx, ev)
	usage := func(err error) int { return fail(ExitUsage, "UsageError", err) }
	switch {
	case len(args) != 0:
		return usage(errors.New("--abort-run takes no OPERATION"))
	case o.RunID == "" || o.JournalDir == "":
		return usage(errors.New("--abort-run needs --run-id and --journal-dir"))
	case o.LeasePeriod <= 0:
		return usage(errors.New("--lease-period must be positive"))
	}
	var hs *handshake
	if o.Handshake {
		var err error
		if hs, err = readHandshake(bufio.NewReader(ios.In)); err != nil {
			return usage(err)
		}
	}
	fsys := o.fs
	if fsys == nil {
		fsys = dirjournal.OS{}
	}
	dirs, err := journalDirs(fsys, o.JournalDir)
	if err != nil {
		return usage(err)
	}

	sum := &abortSummary{RunID: o.RunID, Journals: len(dirs)}
	var (
		mu      sync.Mutex
		client  *salesforce.Client
		loginF  *pipeFailure
		tried   bool
		logger  = newPipeLogger(ev)
		connect = func() (*salesforce.Client, *pipeFailure) {
			// Called under mu: one login for every journal, only when one needs Salesforce.
			if !tried {
				tried = true
				c, code, err := o.pipeLogin(ctx, hs)
				if err != nil {
					loginF = &pipeFailure{code, exitName(code), err}
				}
				client = c
			}
			return client, loginF
		}
	)
	sem := make(chan struct{}, abortJournalConcurrency)
	var wg sync.WaitGroup
	for _, d := range dirs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			part := filepath.Base(d)
			rep, completed, err := abortJournal(ctx, o, fsys, d, logger, func() (*salesforce.Client, *pipeFailure) {
				mu.Lock()
				defer mu.Unlock()
				return connect()
			})
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, errJournalBusy) {
				sum.Busy = append(sum.Busy, d)
				return
			}
			if err != nil {
				sum.Errors = append(sum.Errors, fmt.Sprintf("%s: %v", part, err))
			}
			if completed {
				sum.Completed++
			}
			if rep != nil {
				sum.add(part, rep)
			}
		}()
	}
	wg.Wait()
	if loginF != nil {
		return fail(loginF.code, loginF.name, loginF.err)
	}
	slices.Sort(sum.Busy)
	slices.Sort(sum.Errors)
	sum.Message = sum.message()
	for _, l := range []*[]abortedRunJob{&sum.Aborted, &sum.Processing, &sum.Finished, &sum.Unknown} {
		if *l == nil {
			*l = []abortedRunJob{} // [] rather than null in the JSON
		}
	}
	for _, l := range []*[]string{&sum.Unclaimed, &sum.Busy, &sum.Errors} {
		if *l == nil {
			*l = []string{}
		}
	}
	b, err := json.Marshal(map[string]any{"status": 0, "result": sum})
	if err != nil {
		return fail(ExitError, "Error", err)
	}
	if _, err := ios.Out.Write(append(b, '\n')); err != nil {
		return fail(ExitError, "OutputError", err)
	}
	if ctx.Err() != nil {
		return fail(ExitCancelled, exitName(ExitCancelled), ctx.Err())
	}
	if len(sum.Errors) > 0 || len(sum.Busy) > 0 {
		return fail(ExitError, "AbortIncomplete", errors.New(sum.Message))
	}
	return ExitOK
}

// errJournalBusy: an attempt kept the journal directory for abortLeaseWaits lease periods.
var errJournalBusy = errors.New("an attempt of the run still owns the journal directory")

// abortJournal aborts what the run left unfinished in one journal directory. completed
// reports a run that finished there (nothing to do).
func abortJournal(ctx context.Context, o *pipeOptions, fsys dirjournal.FS, dir string, logger *slog.Logger, connect func() (*salesforce.Client, *pipeFailure)) (rep *load.AbortReport, completed bool, err error) {
	wctx, cancel := context.WithTimeout(ctx, abortLeaseWaits*o.LeasePeriod)
	defer cancel()
	j, err := dirjournal.Open(wctx, dir, o.RunID, dirjournal.Options{FS: fsys, LeasePeriod: o.LeasePeriod, Attempt: "abort-" + attemptID(), Logger: logger})
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, false, errJournalBusy
		}
		return nil, false, err
	}
	defer j.Close()
	run, err := j.GetRun(ctx, o.RunID)
	switch {
	case errors.Is(err, jobstore.ErrNotFound):
		return nil, false, nil // the attempt died before it recorded anything
	case err != nil:
		return nil, false, err
	case run.State == jobstore.RunCompleted:
		return nil, true, nil
	}
	jobs, err := j.Jobs(ctx, o.RunID)
	if err != nil {
		return nil, false, err
	}
	rep = &load.AbortReport{}
	if slices.ContainsFunc(jobs, func(r jobstore.JobRecord) bool { return !r.State.Final() }) {
		c, f := connect()
		if f != nil {
			return nil, false, f.err
		}
		rep, err = load.New(c).AbortRun(ctx, j, o.RunID, logger)
	}
	if rep == nil {
		rep = &load.AbortReport{}
	}
	if o.Resumable {
		return rep, false, err // a later attempt resumes: rows of the aborted jobs are sent again
	}
	if serr := j.UpdateRunState(context.WithoutCancel(ctx), o.RunID, jobstore.RunAborted, "aborted with pipe --abort-run"); serr != nil && err == nil {
		err = serr
	}
	return rep, false, err
}

func (s *abortSummary) add(part string, rep *load.AbortReport) {
	tag := func(dst *[]abortedRunJob, jobs []load.RunJob, rows *int64) {
		for _, j := range jobs {
			*dst = append(*dst, abortedRunJob{Partition: part, RunJob: j})
			if rows != nil {
				*rows += j.Rows
			}
		}
	}
	tag(&s.Aborted, rep.Aborted, &s.RowsNotProcessed)
	tag(&s.Processing, rep.Processing, &s.RowsLoading)
	tag(&s.Finished, rep.Finished, nil)
	tag(&s.Unknown, rep.Unknown, &s.RowsUnknown)
	s.Unclaimed = append(s.Unclaimed, rep.Unclaimed...)
}

// message says in one paragraph what the abort did and what it could not undo.
func (s *abortSummary) message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s: %d journal(s), %d completed. ", s.RunID, s.Journals, s.Completed)
	fmt.Fprintf(&b, "Aborted %d job(s) Salesforce had not started: their %d row(s) were not loaded. ", len(s.Aborted), s.RowsNotProcessed)
	if len(s.Processing) > 0 {
		ids := make([]string, 0, len(s.Processing))
		for _, j := range s.Processing {
			ids = append(ids, j.JobID)
		}
		fmt.Fprintf(&b, "Left %d job(s) that Salesforce is processing to finish (%s): their %d row(s) will load. ",
			len(s.Processing), strings.Join(ids, ", "), s.RowsLoading)
	}
	if len(s.Unknown) > 0 {
		fmt.Fprintf(&b, "%d request(s) carrying %d row(s) were in flight when an attempt died and may have been applied. ", len(s.Unknown), s.RowsUnknown)
	}
	if len(s.Unclaimed) > 0 {
		fmt.Fprintf(&b, "Open job(s) %s may have been created by this run and were left alone. ", strings.Join(s.Unclaimed, ", "))
	}
	if len(s.Busy) > 0 {
		fmt.Fprintf(&b, "%d journal(s) still owned by a running attempt were not touched. ", len(s.Busy))
	}
	if len(s.Errors) > 0 {
		fmt.Fprintf(&b, "%d error(s): %s. ", len(s.Errors), strings.Join(s.Errors, "; "))
	}
	b.WriteString(abortLoadedNote)
	return b.String()
}
