package load

import (
	"context"
	"fmt"
	"slices"

	"github.com/sfbatch/sfbatch/jobstore"
)

// Journal records a load's irreversible steps (job created, data uploaded, job closed,
// results fetched with the rows they finished) as they happen, so that a killed load can be
// resumed (Options.Resume) without sending a row twice. *jobstore.Store satisfies it; the
// run (Options.RunID) must exist in it. Row numbers are input row numbers (Row.Number).
// A Journal error stops the load.
//
// Rows are recorded as done only after the sink has made their outcomes durable: when the
// sink is a Syncer, its Sync is called first.
type Journal interface {
	RecordJob(ctx context.Context, j jobstore.JobRecord) error
	UpdateJobState(ctx context.Context, runID, jobID string, state jobstore.JobState) error
	UpdateBatchState(ctx context.Context, runID, jobID, batchID string, state jobstore.JobState, message string) error
	MarkRowsDone(ctx context.Context, runID string, first, last int64) error
	// SetBatchID renames a Bulk API 1.0 batch recorded under a placeholder id and moves it
	// to state, once Salesforce has given the batch its id.
	SetBatchID(ctx context.Context, runID, jobID, oldBatchID, newBatchID string, state jobstore.JobState) error
	// FinishJob records a job (or batch) as JobResultsFetched and its done rows at once.
	FinishJob(ctx context.Context, runID, jobID, batchID string, done []jobstore.Range) error
	// GetRun, Jobs and DoneRanges are read by Options.Resume.
	GetRun(ctx context.Context, id string) (jobstore.Run, error)
	Jobs(ctx context.Context, runID string) ([]jobstore.JobRecord, error)
	DoneRanges(ctx context.Context, runID string) (jobstore.Ranges, error)
}

func journalAPI(api API) jobstore.API {
	switch api {
	case Bulk1:
		return jobstore.APIBulk1
	case Collections:
		return jobstore.APICollections
	}
	return jobstore.APIBulk2
}

func apiOfJournal(api jobstore.API) API {
	switch api {
	case jobstore.APIBulk1:
		return Bulk1
	case jobstore.APICollections:
		return Collections
	}
	return Bulk2
}

// stepJournal is where the engine records a load's irreversible steps: storeJournal over
// Options.Journal, or noJournal for library callers that run without one. The engine calls it
// at every step, journal or not.
type stepJournal interface {
	// recordStep records that chunk c reached state. The first call for a chunk records the
	// job with its rows; later calls move it forward.
	recordStep(ctx context.Context, c *chunk, state jobstore.JobState, message string) error
	// batchAdded renames chunk c's placeholder batch record to the batch id Salesforce gave
	// it, in state JobUploaded.
	batchAdded(ctx context.Context, c *chunk, pending string) error
	// finished makes the outcomes delivered so far durable and records c as finished with
	// the rows that reached a final outcome in it.
	finished(ctx context.Context, c *chunk) error
	// aborted records that the load aborted a Bulk API 2.0 job.
	aborted(ctx context.Context, jobID string) error
	// resumable reports whether a job left running can be collected by a resumed load, so
	// that only jobs that provably processed nothing need to be aborted.
	resumable() bool
	// creating records, before a job create request is sent, that one is about to be (under
	// the placeholder id, see creatingPrefix); creatingDone records that its answer arrived.
	// A resumed load counts the requests a killed load left without an answer, to know how
	// many unrecorded Open jobs it may claim as its own.
	creating(ctx context.Context, id string, api API) error
	creatingDone(ctx context.Context, id string) error
}

// newStepJournal returns the journal of a load: Options.Journal when set, else noJournal.
// sync makes the sink's results durable.
func newStepJournal(cfg *config, sync func() error) stepJournal {
	if cfg.Journal == nil {
		return noJournal{}
	}
	return &storeJournal{j: cfg.Journal, runID: cfg.RunID, sync: sync}
}

// noJournal records nothing: a load without Options.Journal cannot be resumed.
type noJournal struct{}

func (noJournal) recordStep(context.Context, *chunk, jobstore.JobState, string) error { return nil }
func (noJournal) batchAdded(context.Context, *chunk, string) error                    { return nil }
func (noJournal) finished(context.Context, *chunk) error                              { return nil }
func (noJournal) aborted(context.Context, string) error                               { return nil }
func (noJournal) resumable() bool                                                     { return false }
func (noJournal) creating(context.Context, string, API) error                         { return nil }
func (noJournal) creatingDone(context.Context, string) error                          { return nil }

// storeJournal records a load's steps in Options.Journal under Options.RunID.
type storeJournal struct {
	j     Journal
	runID string
	sync  func() error
}

func (s *storeJournal) resumable() bool { return true }

func (s *storeJournal) recordStep(ctx context.Context, c *chunk, state jobstore.JobState, message string) error {
	// The step happened: record it even when the load is being cancelled.
	ctx = context.WithoutCancel(ctx)
	var err error
	if !c.journaled {
		first, last, seq := c.rowSeq()
		err = s.j.RecordJob(ctx, jobstore.JobRecord{RunID: s.runID, JobID: c.journalID(), BatchID: c.batchID,
			API: journalAPI(c.api), Pass: c.pass, FirstRow: first, LastRow: last, Rows: seq, State: state, Message: message})
		c.journaled = err == nil
	} else {
		err = s.j.UpdateBatchState(ctx, s.runID, c.journalID(), c.batchID, state, message)
	}
	if err != nil {
		return fmt.Errorf("journal: job %s %s: %w", c.journalID(), state, err)
	}
	return nil
}

// finished: rows sent to a retry pass are not done (a resumed load sends them again). A chunk
// with rows of unknown outcome, or left (chunk.leave), stays in flight, none of its
// rows done, so that a resumed load collects its job's results for all of them.
func (s *storeJournal) finished(ctx context.Context, c *chunk) error {
	if err := s.sync(); err != nil {
		return err
	}
	if c.unknown > 0 || c.leave {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	var done []int64
	for i, m := range c.rows {
		if i < len(c.resolved) && c.resolved[i] && (c.requeued == nil || !c.requeued[i]) {
			done = append(done, m.num)
		}
	}
	slices.Sort(done)
	var ranges []jobstore.Range
	for _, n := range done {
		ranges = jobstore.AppendRow(ranges, n)
	}
	if !c.journaled {
		// A chunk that never reached Salesforce (it failed before its job was created).
		for _, rg := range ranges {
			if err := s.j.MarkRowsDone(ctx, s.runID, rg.First, rg.Last); err != nil {
				return fmt.Errorf("journal: rows %d-%d done: %w", rg.First, rg.Last, err)
			}
		}
		return nil
	}
	if err := s.j.FinishJob(ctx, s.runID, c.journalID(), c.batchID, ranges); err != nil {
		return fmt.Errorf("journal: job %s results fetched: %w", c.journalID(), err)
	}
	return nil
}

func (s *storeJournal) batchAdded(ctx context.Context, c *chunk, pending string) error {
	if !c.journaled {
		return nil
	}
	if err := s.j.SetBatchID(context.WithoutCancel(ctx), s.runID, c.jobID, pending, c.batchID, jobstore.JobUploaded); err != nil {
		return fmt.Errorf("journal: batch %s of job %s uploaded: %w", c.batchID, c.jobID, err)
	}
	return nil
}

func (s *storeJournal) creating(ctx context.Context, id string, api API) error {
	err := s.j.RecordJob(context.WithoutCancel(ctx), jobstore.JobRecord{RunID: s.runID, JobID: id, API: journalAPI(api), State: jobstore.JobCreated})
	if err != nil {
		return fmt.Errorf("journal: job create request %s: %w", id, err)
	}
	return nil
}

// creatingDone marks the placeholder final: the job it stood for, if any, is recorded under
// its own id or was never made.
func (s *storeJournal) creatingDone(ctx context.Context, id string) error {
	if err := s.j.UpdateJobState(context.WithoutCancel(ctx), s.runID, id, jobstore.JobAborted); err != nil {
		return fmt.Errorf("journal: job create request %s answered: %w", id, err)
	}
	return nil
}

func (s *storeJournal) aborted(ctx context.Context, jobID string) error {
	return s.j.UpdateJobState(ctx, s.runID, jobID, jobstore.JobAborted)
}

// syncSink makes the results delivered so far durable when the sink can.
func (r *run) syncSink() error {
	sy, ok := r.sink.(Syncer)
	if !ok {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sinkErr != nil {
		return fmt.Errorf("sink: %w", r.sinkErr)
	}
	if err := sy.Sync(); err != nil {
		r.sinkErr = err
		return fmt.Errorf("sink: %w", err)
	}
	return nil
}

// journalID is the chunk's job id in the journal (collections calls get a made-up one).
func (c *chunk) journalID() string {
	if c.jobID != "" {
		return c.jobID
	}
	if c.resumedID != "" {
		return c.resumedID
	}
	return fmt.Sprintf("collections-p%d-%d-%s", c.pass, c.index, c.runTag)
}

// rowSeq returns the chunk's row range and, when its rows are not exactly first..last in
// order, the rows in upload order.
func (c *chunk) rowSeq() (first, last int64, seq []jobstore.Range) {
	for i, m := range c.rows {
		if i == 0 || m.num < first {
			first = m.num
		}
		if m.num > last {
			last = m.num
		}
		seq = jobstore.AppendRow(seq, m.num)
	}
	if len(seq) == 1 {
		seq = nil
	}
	return first, last, seq
}

// creatingPrefix starts the placeholder job id recorded while a job create request is
// unanswered (it holds no rows).
const creatingPrefix = "creating-"

// pendingPrefix starts the placeholder batch id of a Bulk API 1.0 batch being added.
const pendingPrefix = "pending-"
