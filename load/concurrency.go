package load

import (
	"context"
	"sync"

	"github.com/sfbatch/sfbatch/salesforce"
)

// Causes of a concurrency change, as ConcurrencyChanged events report them in Event.Cause.
const (
	// CauseUnavailable is an HTTP 503 answer.
	CauseUnavailable = salesforce.CongestionUnavailable
	// CauseTooManyRequests is an HTTP 429 answer.
	CauseTooManyRequests = salesforce.CongestionTooManyRequests
	// CauseRequestLimit is a REQUEST_LIMIT_EXCEEDED answer.
	CauseRequestLimit = salesforce.CongestionRequestLimit
	// CauseLockContention is a row that failed with UNABLE_TO_LOCK_ROW (or
	// TooManyLockFailure): the jobs in flight lock each other's parent records.
	CauseLockContention = "UNABLE_TO_LOCK_ROW"
	// CauseLongTxn is a synchronous call (sObject Collections) refused for the org's
	// concurrent long-running requests (ConcurrentPerOrgLongTxn).
	CauseLongTxn = salesforce.CongestionLongTxn
	// CauseRecovered is an increase after clean completions.
	CauseRecovered = "recovered"
)

// ConcurrencyDecrease is the factor the engine multiplies its concurrency by on congestion
// (rounded down, never below 1).
const ConcurrencyDecrease = 0.5

// slotBatches is how many of Salesforce's batches of bulk2RecordsPerBatch records one
// concurrency slot holds for Bulk API 2.0: a full job of DefaultBulk2JobRecords.
const slotBatches = DefaultBulk2JobRecords / bulk2RecordsPerBatch

// controller is the load's adaptive concurrency: an AIMD limit on the chunks (Bulk API 2.0
// jobs, Bulk API 1.0 batches, sObject Collections calls) in flight, under a ceiling
// (Options.Concurrency). A chunk takes one slot, except a Bulk API 2.0 job of fewer records
// than a full one when job sizes ramp (the first jobs of a pass, which ramp up from
// FirstBulk2JobRecords, and the last), which takes its share of one in Salesforce's batches
// of 10,000 records: Salesforce's work is in batches, and the ramp's small jobs must not
// leave its batch slots idle while the rest of the input waits for a slot. Congestion seen
// by a chunk halves the limit, once per episode: a chunk that started before the last
// decrease does not decrease it again. Clean completions
// of chunks started since the last change add one to the limit after as many of them as
// the limit (one "round"), up to the ceiling. The limit never goes below 1.
//
// It decides only when a chunk may start; every request still goes through the client's one
// pacer, and every job through its waiter. Safe for concurrent use.
type controller struct {
	ceiling int
	// changed is called, under the controller's lock, with every change of the limit.
	changed func(from, to int, cause string)

	mu       sync.Mutex
	limit    int
	inflight int           // in batches: a full slot is slotBatches
	gen      uint64        // counts changes of the limit; a ticket remembers the one it started in
	decGen   uint64        // counts decreases
	credit   int           // clean completions of tickets started since the last change
	wake     chan struct{} // closed and replaced when a slot may have opened
}

// ticket is one chunk's slot in the controller.
type ticket struct {
	c         *controller
	gen       uint64 // controller.gen when the ticket was taken
	decGen    uint64 // controller.decGen when the ticket was taken
	weight    int    // batches, 1..slotBatches
	mu        sync.Mutex
	congested bool
	released  bool
}

func newController(ceiling int, changed func(from, to int, cause string)) *controller {
	ceiling = max(1, ceiling)
	return &controller{ceiling: ceiling, limit: ceiling, changed: changed, wake: make(chan struct{})}
}

// current returns the limit.
func (c *controller) current() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limit
}

// acquire waits until a whole slot is free and takes it, or returns the context's error.
func (c *controller) acquire(ctx context.Context) (*ticket, error) {
	return c.acquireWeight(ctx, slotBatches)
}

// acquireWeight waits until weight batches of the limit (limit x slotBatches) are free, or
// nothing is in flight, and takes them, or returns the context's error. weight is clamped to
// 1..slotBatches.
func (c *controller) acquireWeight(ctx context.Context, weight int) (*ticket, error) {
	weight = min(max(weight, 1), slotBatches)
	for {
		c.mu.Lock()
		if c.inflight == 0 || c.inflight+weight <= c.limit*slotBatches {
			c.inflight += weight
			t := &ticket{c: c, gen: c.gen, decGen: c.decGen, weight: weight}
			c.mu.Unlock()
			return t, nil
		}
		wake := c.wake
		c.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// congestion reports that the ticket's chunk met congestion (cause is one of the Cause
// constants). The first report of a ticket taken since the last decrease halves the limit;
// reports of tickets taken before it belong to the episode already reacted to.
func (t *ticket) congestion(cause string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.congested = true
	t.mu.Unlock()
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.decGen != c.decGen || c.limit <= 1 {
		return // already reacted to this episode, or nothing left to give
	}
	from := c.limit
	c.limit = max(1, int(float64(c.limit)*ConcurrencyDecrease))
	c.gen++
	c.decGen++
	c.credit = 0
	c.changedLocked(from, cause)
}

// release frees the ticket's slot. A chunk that met no congestion counts toward the next
// increase when it started in the current generation.
func (t *ticket) release() {
	if t == nil {
		return
	}
	t.mu.Lock()
	if t.released {
		t.mu.Unlock()
		return
	}
	t.released = true
	clean := !t.congested
	t.mu.Unlock()
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight -= t.weight
	if clean && t.gen == c.gen && c.limit < c.ceiling {
		c.credit++
		if c.credit >= c.limit {
			from := c.limit
			c.limit++
			c.gen++
			c.credit = 0
			c.changedLocked(from, CauseRecovered)
		}
	}
	close(c.wake)
	c.wake = make(chan struct{})
}

// drop frees the slot of a ticket whose chunk never ran; it earns no increase.
func (t *ticket) drop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.congested = true
	t.mu.Unlock()
	t.release()
}

func (c *controller) changedLocked(from int, cause string) {
	if c.changed != nil {
		c.changed(from, c.limit, cause)
	}
}

// slotWeight is the share of a concurrency slot chunk c takes, in batches (see controller):
// for a Bulk API 2.0 job whose size ramps (Options.BatchSize zero) the batches of
// bulk2RecordsPerBatch records Salesforce splits it into, or its bytes' share of the byte cap
// per job when that is more; a whole slot otherwise (a job size set counts jobs).
func (r *run) slotWeight(c *chunk) int {
	if c.api != Bulk2 || r.cfg.BatchSize > 0 {
		return slotBatches
	}
	w := (len(c.rows) + bulk2RecordsPerBatch - 1) / bulk2RecordsPerBatch
	if lim := r.cfg.limitsFor(Bulk2); lim.bytes > 0 {
		w = max(w, int((c.bytes*slotBatches+lim.bytes-1)/lim.bytes))
	}
	return min(max(w, 1), slotBatches)
}

// lockContention reports whether a row's status code is lock contention.
func lockContention(code string) bool {
	return code == "UNABLE_TO_LOCK_ROW" || code == "TooManyLockFailure"
}

// congestionCause maps a request's congestion (salesforce.Signal.Congestion) to the cause
// the controller reacts to for api, or "" for none: ConcurrentPerOrgLongTxn counts only for
// synchronous calls.
func congestionCause(api API, congestion string) string {
	if congestion == salesforce.CongestionLongTxn && api != Collections {
		return ""
	}
	return congestion
}

// observe returns ctx with an observer of the requests a chunk sends: congestion they meet
// is reported to the chunk's ticket, and what they spend to the API budget.
func (r *run) observe(ctx context.Context, t *ticket) context.Context {
	api := r.api
	return salesforce.WithSignals(ctx, func(s salesforce.Signal) {
		r.budget.observe(t, s)
		if cause := congestionCause(api, s.Congestion); cause != "" {
			t.congestion(cause)
		}
	})
}
