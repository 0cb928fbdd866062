package load

import (
	"context"
	"fmt"
	"slices"

	"github.com/sfbatch/sfbatch/jobstore"
)

// Journal records a load's irreversible steps (job created, data uploaded, job closed,
// results fetched, rows done) as they happen, so that a killed load can be resumed without
// sending a row twice. *jobstore.Store satisfies it; the run (Options.RunID) must exist in it.
// Row ranges are input row numbers (Row.Number). A Journal error stops the load.
type Journal interface {
	RecordJob(ctx context.Context, j jobstore.JobRecord) error
	UpdateJobState(ctx context.Context, runID, jobID string, state jobstore.JobState) error
	UpdateBatchState(ctx context.Context, runID, jobID, batchID string, state jobstore.JobState, message string) error
	MarkRowsDone(ctx context.Context, runID string, first, last int64) error
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

// journalJob records that chunk c reached state. The first call for a chunk records the job
// with its row range; later calls move it forward.
func (r *run) journalJob(ctx context.Context, c *chunk, state jobstore.JobState, message string) error {
	j := r.cfg.Journal
	if j == nil {
		return nil
	}
	var err error
	if !c.journaled {
		first, last := c.rowRange()
		err = j.RecordJob(ctx, jobstore.JobRecord{RunID: r.cfg.RunID, JobID: c.journalID(), BatchID: c.batchID,
			API: journalAPI(c.api), Pass: c.pass, FirstRow: first, LastRow: last, State: state, Message: message})
		c.journaled = err == nil
	} else {
		err = j.UpdateBatchState(ctx, r.cfg.RunID, c.journalID(), c.batchID, state, message)
	}
	if err != nil {
		return fmt.Errorf("journal: job %s %s: %w", c.journalID(), state, err)
	}
	return nil
}

// journalDone records the rows of c that reached a final outcome in it, as ranges.
func (r *run) journalDone(ctx context.Context, c *chunk) error {
	j := r.cfg.Journal
	if j == nil {
		return nil
	}
	var done []int64
	for i, m := range c.rows {
		if i < len(c.resolved) && c.resolved[i] && (c.requeued == nil || !c.requeued[i]) {
			done = append(done, m.num)
		}
	}
	slices.Sort(done)
	for i := 0; i < len(done); {
		k := i
		for k+1 < len(done) && done[k+1] == done[k]+1 {
			k++
		}
		if err := j.MarkRowsDone(ctx, r.cfg.RunID, done[i], done[k]); err != nil {
			return fmt.Errorf("journal: rows %d-%d done: %w", done[i], done[k], err)
		}
		i = k + 1
	}
	return nil
}

// journalID is the chunk's job id in the journal (collections calls get a made-up one).
func (c *chunk) journalID() string {
	if c.jobID != "" {
		return c.jobID
	}
	return fmt.Sprintf("collections-p%d-%d", c.pass, c.index)
}

func (c *chunk) rowRange() (first, last int64) {
	for i, m := range c.rows {
		if i == 0 || m.num < first {
			first = m.num
		}
		if m.num > last {
			last = m.num
		}
	}
	return first, last
}
