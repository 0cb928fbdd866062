package salesforce

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Waiter defaults, used when a WaiterOptions field is zero.
const (
	// DefaultWaiterMinDelay is the first wait between two status polls.
	DefaultWaiterMinDelay = 250 * time.Millisecond
	// DefaultWaiterMaxDelay caps the wait between two status polls.
	DefaultWaiterMaxDelay = 30 * time.Second
)

// WaiterOptions tune how a Waiter polls. The zero value means the defaults.
type WaiterOptions struct {
	// FirstDelay is the wait after the first poll; the waits then grow by half after every
	// poll until they reach MinDelay, so a job that finishes within a moment is seen at once
	// and one that takes longer costs only a few more polls. Zero means MinDelay/8; a value
	// of MinDelay or more starts the waits at MinDelay.
	FirstDelay time.Duration
	// MinDelay is the wait between two polls once the first ones have ramped up to it. Zero
	// means DefaultWaiterMinDelay.
	MinDelay time.Duration
	// MaxDelay caps the wait between two polls. Zero means DefaultWaiterMaxDelay (or MinDelay
	// when that is larger).
	MaxDelay time.Duration
	// Records, when above zero, is how many records the job (or batch) holds. A poll that
	// saw records processed since the one before estimates from that pace when the last
	// record will be done, and the next poll comes then (a little after) when that is sooner
	// than the usual wait, so a job is seen finished soon after it finishes. The estimate
	// only ever shortens a wait, and only right after progress: a job whose count stops
	// short of Records is polled as usual.
	Records int64
	// Since is when the job started; the wait between polls is at most a quarter of the
	// time since then (but never under MinDelay). Zero means when Wait is called.
	Since time.Time
	// OnPoll, if set, is called after every successful poll with what it read, from the
	// goroutine that called Wait. It is how callers report progress.
	OnPoll func(JobProgress)
}

// JobProgress is what one poll of a job, a batch or a Bulk API 1.0 job's batch list read.
type JobProgress struct {
	// State is the job's or batch's state; for a batch list, a count per state such as
	// "Completed:3 InProgress:1".
	State string
	// Changed reports whether State differs from the previous poll's (true on the first).
	Changed bool
	// RecordsProcessed is Salesforce's count of records processed so far.
	RecordsProcessed int64
	// Polls counts the polls of this Wait, this one included.
	Polls int
	// Elapsed is the time since WaiterOptions.Since.
	Elapsed time.Duration
}

// Waiter polls one job (or batch) until it reaches the state its caller waits for, shaped like
// the AWS SDK's waiters. The first polls come FirstDelay apart and ramp up to MinDelay, then
// the wait grows by half each time a poll shows no progress (no new state, no more records
// processed), up to MaxDelay and at most a quarter of the job's age, and is MinDelay again
// when the state changes, so a short job is noticed soon after it finishes and a long one is
// not polled needlessly often. Only the context ends a wait early: a running job is
// never abandoned because of a client-side timer. An error from a poll ends the wait (the
// client has already retried what was worth retrying).
//
// Create one with NewIngestJobWaiter, NewQueryJobWaiter, NewBatchWaiter or
// NewBatchListWaiter. A Waiter is safe for concurrent use when OnPoll is.
type Waiter[T any] struct {
	poll     func(ctx context.Context) (T, error)
	progress func(T) (state string, processed int64)
	final    func(T) bool
	opts     WaiterOptions

	// now and sleep are time.Now and Sleep; tests replace them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// IngestJobGetter reads a Bulk API 2.0 ingest job (*Bulk2Service does).
type IngestJobGetter interface {
	GetIngestJob(ctx context.Context, jobID string) (*IngestJob, error)
}

// QueryJobGetter reads a Bulk API 2.0 query job (*Bulk2Service does).
type QueryJobGetter interface {
	GetQueryJob(ctx context.Context, jobID string) (*QueryJob, error)
}

// BatchGetter reads a Bulk API 1.0 batch (*Bulk1Service does).
type BatchGetter interface {
	GetBatch(ctx context.Context, jobID, batchID string) (*Batch, error)
}

// BatchLister lists a Bulk API 1.0 job's batches (*Bulk1Service does).
type BatchLister interface {
	ListBatches(ctx context.Context, jobID string) ([]*Batch, error)
}

// NewIngestJobWaiter returns a Waiter for a Bulk API 2.0 ingest job; Wait returns once the job
// is JobComplete, Failed or Aborted.
func NewIngestJobWaiter(api IngestJobGetter, jobID string, optFns ...func(*WaiterOptions)) *Waiter[*IngestJob] {
	return newWaiter(func(ctx context.Context) (*IngestJob, error) { return api.GetIngestJob(ctx, jobID) },
		func(j *IngestJob) (string, int64) { return j.State, j.NumberRecordsProcessed },
		(*IngestJob).Terminal, optFns)
}

// NewQueryJobWaiter returns a Waiter for a Bulk API 2.0 query job; Wait returns once the job
// is JobComplete, Failed or Aborted.
func NewQueryJobWaiter(api QueryJobGetter, jobID string, optFns ...func(*WaiterOptions)) *Waiter[*QueryJob] {
	return newWaiter(func(ctx context.Context) (*QueryJob, error) { return api.GetQueryJob(ctx, jobID) },
		func(j *QueryJob) (string, int64) { return j.State, j.NumberRecordsProcessed },
		(*QueryJob).Terminal, optFns)
}

// NewBatchWaiter returns a Waiter for one Bulk API 1.0 batch; Wait returns once the batch is
// Completed, Failed or NotProcessed.
func NewBatchWaiter(api BatchGetter, jobID, batchID string, optFns ...func(*WaiterOptions)) *Waiter[*Batch] {
	return newWaiter(func(ctx context.Context) (*Batch, error) { return api.GetBatch(ctx, jobID, batchID) },
		func(b *Batch) (string, int64) { return b.State, b.NumberRecordsProcessed },
		(*Batch).Terminal, optFns)
}

// NewBatchListWaiter returns a Waiter over a Bulk API 1.0 job's batch list; Wait returns once
// the job has batches and every one of them is final. WaitFor waits for any other condition
// (such as "a batch completed that I have not read yet").
func NewBatchListWaiter(api BatchLister, jobID string, optFns ...func(*WaiterOptions)) *Waiter[[]*Batch] {
	return newWaiter(func(ctx context.Context) ([]*Batch, error) { return api.ListBatches(ctx, jobID) },
		batchListProgress, allBatchesFinal, optFns)
}

func allBatchesFinal(bs []*Batch) bool {
	return len(bs) > 0 && !slices.ContainsFunc(bs, func(b *Batch) bool { return !b.Terminal() })
}

// batchListProgress summarises a batch list as a count per state and the records processed.
func batchListProgress(bs []*Batch) (string, int64) {
	counts := map[string]int{}
	var processed int64
	for _, b := range bs {
		counts[b.State]++
		processed += b.NumberRecordsProcessed
	}
	states := make([]string, 0, len(counts))
	for s, n := range counts {
		states = append(states, fmt.Sprintf("%s:%d", s, n))
	}
	slices.Sort(states)
	return strings.Join(states, " "), processed
}

func newWaiter[T any](poll func(context.Context) (T, error), progress func(T) (string, int64), final func(T) bool, optFns []func(*WaiterOptions)) *Waiter[T] {
	w := &Waiter[T]{poll: poll, progress: progress, final: final, now: time.Now, sleep: Sleep}
	for _, f := range optFns {
		f(&w.opts)
	}
	return w
}

// Wait polls until the job (or batch) is final and returns its last status.
func (w *Waiter[T]) Wait(ctx context.Context) (T, error) { return w.WaitFor(ctx, w.final) }

// WaitFor polls until done reports true for the status read, and returns that status. The
// first poll is immediate.
func (w *Waiter[T]) WaitFor(ctx context.Context, done func(T) bool) (T, error) {
	minD, maxD := w.opts.MinDelay, w.opts.MaxDelay
	if minD <= 0 {
		minD = DefaultWaiterMinDelay
	}
	if maxD <= 0 {
		maxD = max(DefaultWaiterMaxDelay, minD)
	}
	maxD = max(maxD, minD)
	firstD := w.opts.FirstDelay
	if firstD <= 0 {
		firstD = minD / 8
	}
	firstD = max(min(firstD, minD), time.Millisecond)
	since := w.opts.Since
	if since.IsZero() {
		since = w.now()
	}
	d := firstD
	lastState, lastProcessed := "", int64(-1)
	var lastAt time.Time
	for polls := 1; ; polls++ {
		st, err := w.poll(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		at := w.now()
		state, processed := w.progress(st)
		changed := polls == 1 || state != lastState
		progressed := changed || processed != lastProcessed
		if changed && polls > 1 {
			// A new state (the job started, say): polls come MinDelay apart again, however
			// long it waited in the one before.
			d = min(d, minD)
		}
		wait := d
		if polls > 1 && processed > lastProcessed && lastProcessed >= 0 {
			wait = min(d, max(firstD, finishEstimate(w.opts.Records, lastProcessed, processed, at.Sub(lastAt))))
		}
		lastState, lastProcessed, lastAt = state, processed, at
		if w.opts.OnPoll != nil {
			w.opts.OnPoll(JobProgress{State: state, Changed: changed, RecordsProcessed: processed, Polls: polls, Elapsed: at.Sub(since)})
		}
		if done(st) {
			return st, nil
		}
		if err := w.sleep(ctx, wait); err != nil {
			var zero T
			return zero, err
		}
		switch {
		case d < minD: // ramping up to MinDelay
			d = min(d+d/2, minD)
		case !progressed:
			d = min(d+d/2+time.Millisecond, maxD)
		}
		// At most about a quarter of the job's age: a short job is noticed soon after it
		// finishes (freeing its concurrency slot), a long one is not polled needlessly often.
		d = min(d, max(minD, w.now().Sub(since)/4))
	}
}

// finishSlack is added to a finish estimate (besides an eighth of it): the state changes a
// moment after the last record's count.
const finishSlack = 10 * time.Millisecond

// finishEstimate is how long from now a job of records records, of which processed are done
// and prev were done elapsed ago, takes to finish at that pace, with some slack; a long
// duration when records is unknown (zero) or the pace is not known.
func finishEstimate(records, prev, processed int64, elapsed time.Duration) time.Duration {
	const unknown = time.Duration(1<<63 - 1)
	if records <= 0 || processed <= prev || elapsed <= 0 {
		return unknown
	}
	left := max(records-processed, 0)
	est := time.Duration(float64(elapsed) * float64(left) / float64(processed-prev))
	return est + est/8 + finishSlack
}

// Sleep waits d or until ctx ends, with a timer (never a bare sleep). It returns the context's
// cause when ctx ended first, else nil; a d of zero or less only checks ctx.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
