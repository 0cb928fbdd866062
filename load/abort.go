package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/salesforce"
)

// RunJob is one job (or Bulk API 1.0 batch, or collections call) that an interrupted run left
// unfinished in its journal, as AbortRun found it.
type RunJob struct {
	JobID   string `json:"job"`
	BatchID string `json:"batch,omitempty"`
	API     string `json:"api"`
	// Journal is how far the run recorded the job got (jobstore.JobState).
	Journal string `json:"journalState"`
	// State is Salesforce's state of the job (or batch) when AbortRun looked, or after it
	// aborted or closed it.
	State string `json:"state,omitempty"`
	// Rows is how many input rows the job carries.
	Rows int64 `json:"rows"`
}

// AbortReport is what AbortRun did with the unfinished jobs of one run.
type AbortReport struct {
	// Aborted jobs were still Open at Salesforce (no data, or the upload never completed):
	// Salesforce processes none of their rows.
	Aborted []RunJob `json:"aborted"`
	// Processing jobs (and Bulk API 1.0 batches) are being processed by Salesforce, which
	// loads their rows; AbortRun leaves them alone (a Bulk API 1.0 job is closed).
	Processing []RunJob `json:"processing"`
	// Finished jobs ended at Salesforce before AbortRun looked: their rows loaded or failed as
	// the job's results say.
	Finished []RunJob `json:"finished"`
	// Unknown are requests that were in flight when the run died and that may have been
	// applied: collections calls, and Bulk API 1.0 batches being added that cannot be told
	// apart.
	Unknown []RunJob `json:"unknown"`
	// Unclaimed are Open jobs that a create request whose answer was lost may have made but
	// that cannot be told apart from other clients' jobs: left alone.
	Unclaimed []string `json:"unclaimed"`
}

// bulk1JobGetter reads a Bulk API 1.0 job (*salesforce.Bulk1Service).
type bulk1JobGetter interface {
	GetJob(ctx context.Context, jobID string) (*salesforce.Job, error)
}

// AbortRun ends what run runID of journal j left unfinished, without sending any data: every
// job that Salesforce has not started processing (a Bulk API 2.0 job still Open, a Bulk API
// 1.0 job without batches) is aborted and recorded aborted; jobs Salesforce is processing are
// left to finish, since aborting them would stop some rows and not others (a Bulk API 1.0 job
// with batches is closed); unrecorded Open jobs that the run's unanswered create requests may
// have made are aborted as a resume would. Rows that jobs already loaded stay in the org.
//
// A run that is not in the journal, or completed, has nothing to abort. The caller must own
// the journal (no attempt of the run may be running). Errors of single jobs are joined; the
// report covers the jobs that were handled.
func (l *Loader) AbortRun(ctx context.Context, j Journal, runID string, logger *slog.Logger) (*AbortReport, error) {
	if logger == nil {
		logger = slog.Default()
	}
	rep := &AbortReport{}
	rn, err := j.GetRun(ctx, runID)
	if errors.Is(err, jobstore.ErrNotFound) {
		return rep, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load: abort run %s: %w", runID, err)
	}
	if rn.State == jobstore.RunCompleted {
		return rep, nil
	}
	all, err := j.Jobs(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("load: abort run %s: %w", runID, err)
	}
	jobs, intents := splitIntents(all)
	var errs []error
	bulk1 := map[string][]jobstore.JobRecord{}
	var bulk1Order []string
	for _, rec := range jobs {
		if rec.State.Final() {
			continue
		}
		switch rec.API {
		case jobstore.APIBulk2:
			if err := l.abortBulk2(ctx, j, runID, rec, rep); err != nil {
				errs = append(errs, err)
			}
		case jobstore.APICollections:
			rep.Unknown = append(rep.Unknown, runJob(rec, ""))
		case jobstore.APIBulk1:
			if bulk1[rec.JobID] == nil {
				bulk1Order = append(bulk1Order, rec.JobID)
			}
			bulk1[rec.JobID] = append(bulk1[rec.JobID], rec)
		}
	}
	for _, id := range bulk1Order {
		if err := l.abortBulk1(ctx, j, runID, id, bulk1[id], jobs, rep); err != nil {
			errs = append(errs, err)
		}
	}

	// Create requests left unanswered: the Open jobs they may have made, as a resume claims them.
	var open []jobstore.JobRecord
	for _, rec := range intents {
		if !rec.State.Final() {
			open = append(open, rec)
		}
	}
	if len(open) > 0 {
		r := &run{l: l, cfg: &config{Options: Options{Object: rn.Object, Operation: Operation(rn.Operation),
			API: apiOfJournal(open[0].API), Journal: j, RunID: runID, Logger: logger}}}
		for _, id := range r.claimOrphans(ctx, rn, all, len(open)) {
			rep.Aborted = append(rep.Aborted, RunJob{JobID: id, API: string(open[0].API), Journal: "unrecorded", State: salesforce.JobStateAborted})
		}
		rep.Unclaimed = r.sum.UnclaimedJobs
		for _, rec := range open {
			if err := j.UpdateJobState(ctx, runID, rec.JobID, jobstore.JobAborted); err != nil {
				errs = append(errs, fmt.Errorf("load: abort run %s: %w", runID, err))
			}
		}
	}
	return rep, errors.Join(errs...)
}

func runJob(rec jobstore.JobRecord, state string) RunJob {
	rows := rec.LastRow - rec.FirstRow + 1
	if rec.Rows != nil {
		rows = 0
		for _, rg := range rec.Rows {
			rows += rg.Last - rg.First + 1
		}
	}
	if rec.LastRow == 0 && rec.FirstRow == 0 {
		rows = 0
	}
	return RunJob{JobID: rec.JobID, BatchID: rec.BatchID, API: string(rec.API), Journal: string(rec.State), State: state, Rows: rows}
}

// abortBulk2 aborts a Bulk API 2.0 job that is still Open: Salesforce processes nothing of a
// job before its upload is complete. A job past Open is left to Salesforce.
func (l *Loader) abortBulk2(ctx context.Context, j Journal, runID string, rec jobstore.JobRecord, rep *AbortReport) error {
	if l.bulk2 == nil {
		return errors.New("load: no Bulk API 2.0 client")
	}
	job, err := l.bulk2.GetIngestJob(ctx, rec.JobID)
	if err != nil {
		return fmt.Errorf("load: abort run %s: job %s: %w", runID, rec.JobID, err)
	}
	switch job.State {
	case salesforce.JobStateOpen:
		res, err := l.bulk2.AbortIngestJob(ctx, rec.JobID)
		if err != nil {
			return fmt.Errorf("load: abort run %s: abort job %s: %w", runID, rec.JobID, err)
		}
		rep.Aborted = append(rep.Aborted, runJob(rec, res.State))
		return journalAborted(ctx, j, runID, rec)
	case salesforce.JobStateUploadComplete, salesforce.JobStateInProgress:
		rep.Processing = append(rep.Processing, runJob(rec, job.State))
	default:
		rep.Finished = append(rep.Finished, runJob(rec, job.State))
	}
	return nil
}

// abortBulk1 ends a Bulk API 1.0 job of the run: without batches it is aborted; with batches
// (which Salesforce processes as soon as they are added) it is closed and its batches are
// left to finish.
func (l *Loader) abortBulk1(ctx context.Context, j Journal, runID, jobID string, recs, all []jobstore.JobRecord, rep *AbortReport) error {
	if l.bulk1 == nil {
		return errors.New("load: no Bulk API 1.0 client")
	}
	state := ""
	if g, ok := l.bulk1.(bulk1JobGetter); ok {
		job, err := g.GetJob(ctx, jobID)
		if err != nil {
			return fmt.Errorf("load: abort run %s: job %s: %w", runID, jobID, err)
		}
		state = job.State
	}
	batches, err := l.bulk1.ListBatches(ctx, jobID)
	if err != nil {
		return fmt.Errorf("load: abort run %s: list the batches of job %s: %w", runID, jobID, err)
	}
	byID := map[string]*salesforce.Batch{}
	for _, b := range batches {
		byID[b.ID] = b
	}
	known := map[string]bool{}
	for _, rec := range all {
		if rec.JobID == jobID {
			known[rec.BatchID] = true
		}
	}
	unknownBatches := 0
	for _, b := range batches {
		if !known[b.ID] {
			unknownBatches++
		}
	}
	if len(batches) == 0 && (state == salesforce.JobStateOpen || state == "") {
		res, err := l.bulk1.AbortJob(ctx, jobID)
		if err != nil {
			return fmt.Errorf("load: abort run %s: abort job %s: %w", runID, jobID, err)
		}
		var errs []error
		for _, rec := range recs {
			rep.Aborted = append(rep.Aborted, runJob(rec, res.State))
			errs = append(errs, journalAborted(ctx, j, runID, rec))
		}
		return errors.Join(errs...)
	}
	if state == salesforce.JobStateOpen || state == "" {
		if _, err := l.bulk1.CloseJob(ctx, jobID); err != nil {
			return fmt.Errorf("load: abort run %s: close job %s: %w", runID, jobID, err)
		}
	}
	var errs []error
	for _, rec := range recs {
		b := byID[rec.BatchID]
		switch {
		case strings.HasPrefix(rec.BatchID, pendingPrefix) && unknownBatches == 0:
			// Never added: none of its rows reached Salesforce.
			rep.Aborted = append(rep.Aborted, runJob(rec, "NotAdded"))
			errs = append(errs, journalAborted(ctx, j, runID, rec))
		case b == nil:
			rep.Unknown = append(rep.Unknown, runJob(rec, ""))
		case b.State == salesforce.BatchStateQueued || b.State == salesforce.BatchStateInProgress:
			rep.Processing = append(rep.Processing, runJob(rec, b.State))
		default:
			rep.Finished = append(rep.Finished, runJob(rec, b.State))
		}
	}
	return errors.Join(errs...)
}

func journalAborted(ctx context.Context, j Journal, runID string, rec jobstore.JobRecord) error {
	if err := j.UpdateBatchState(context.WithoutCancel(ctx), runID, rec.JobID, rec.BatchID, jobstore.JobAborted, "aborted with the run"); err != nil {
		return fmt.Errorf("load: abort run %s: %w", runID, err)
	}
	return nil
}
