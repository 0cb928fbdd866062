package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/sfbatch/sfbatch/salesforce"
)

// StatusAPIShare is the status code of rows not sent because sending them would have spent
// more than Options.MaxAPIShare of the org's daily API allowance.
const StatusAPIShare = "SFBATCH_API_SHARE"

// Request costs the API budget estimates per chunk (see Options.MaxAPIShare).
const (
	// EstimatedPollsPerJob is how many status polls the budget reserves for one Bulk API
	// job or batch: about what the waiter spends on a job that finishes within a few minutes.
	EstimatedPollsPerJob = 10
	// bulk2JobRequests are a Bulk API 2.0 job's requests besides polls: create, upload,
	// close and the three result files.
	bulk2JobRequests = 6
	// bulk1BatchRequests are a Bulk API 1.0 batch's requests besides polls: add, results.
	bulk1BatchRequests = 2
	// bulk1JobRequests are the requests of a pass's Bulk API 1.0 job: create and close.
	bulk1JobRequests = 2
	// bulk2RecordsPerBatch is how many records of a Bulk API 2.0 ingest job Salesforce counts
	// as one batch against DailyBulkApiBatches.
	bulk2RecordsPerBatch = 10_000
)

// ParseShare parses a share of the API budget: a fraction ("0.5") or a percentage ("50%"),
// greater than 0 and at most 1.
func ParseShare(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a fraction such as 0.5 or a percentage such as 50%%", s)
	}
	if pct {
		f /= 100
	}
	if !(f > 0 && f <= 1) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not in (0, 1] (or (0%%, 100%%])", s)
	}
	return f, nil
}

// ShareAllowance is the number of units a run may spend out of a daily limit under share:
// floor(share × remaining), where remaining is what is left of the org's daily maximum when
// the run starts (what was used before is not the run's to spend).
func ShareAllowance(share float64, l salesforce.Limit) int64 {
	return int64(math.Floor(share * float64(max(0, l.Remaining))))
}

// limitsAPI is the part of *salesforce.Client the API budget uses.
type limitsAPI interface {
	Limits(ctx context.Context) (map[string]salesforce.Limit, error)
}

// budget caps what a load spends of the org's daily allowances (Options.MaxAPIShare). It
// counts every request attempt the load sends (through salesforce.WithSignals) and reserves,
// for each chunk in flight, the requests and batches it is estimated to need. A chunk starts
// only when what was spent, plus what the chunks in flight still have reserved, plus its own
// estimate, fits the allowance; so the rows in flight can always be collected. Safe for
// concurrent use.
type budget struct {
	requests int64 // allowance of API requests
	batches  int64 // allowance of Bulk API batches; < 0 = not counted

	mu        sync.Mutex
	spent     int64 // request attempts sent
	used      int64 // batches started
	reserved  map[*ticket]int64
	orgLeft   int64 // what Sforce-Limit-Info last said is left of the org's allowance; < 0 unknown
	perTicket map[*ticket]int64
	refused   string // why no more chunks start, once one was refused
}

// newBudget reads the org's limits and returns the budget of a load under share, or nil
// when share is zero.
func (r *run) newBudget(ctx context.Context) (*budget, error) {
	share := r.cfg.MaxAPIShare
	if share == 0 {
		return nil, nil
	}
	if r.l.limits == nil {
		return nil, errors.New("Options.MaxAPIShare: no limits resource to read the org's API allowance from")
	}
	lim, err := r.l.limits.Limits(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the org's limits for Options.MaxAPIShare: %w", err)
	}
	req, ok := lim[salesforce.LimitDailyAPIRequests]
	if !ok {
		return nil, fmt.Errorf("Options.MaxAPIShare: the org's limits have no %s", salesforce.LimitDailyAPIRequests)
	}
	b := &budget{requests: ShareAllowance(share, req), batches: -1, orgLeft: -1,
		reserved: map[*ticket]int64{}, perTicket: map[*ticket]int64{}}
	if r.api == Bulk1 || r.api == Bulk2 {
		if bl, ok := lim[salesforce.LimitDailyBulkAPIBatches]; ok {
			b.batches = ShareAllowance(share, bl)
		}
	}
	r.cfg.Logger.Info("load: API budget", "share", share, "requests", b.requests, "org_requests_remaining", req.Remaining,
		"batches", b.batches)
	return b, nil
}

// cost is the estimate of one chunk: API requests and Bulk API batches.
func (r *run) cost(c *chunk, firstOfPass bool) (requests, batches int64) {
	switch c.api {
	case Bulk2:
		return bulk2JobRequests + EstimatedPollsPerJob, int64((len(c.rows) + bulk2RecordsPerBatch - 1) / bulk2RecordsPerBatch)
	case Bulk1:
		requests = bulk1BatchRequests + EstimatedPollsPerJob
		if firstOfPass {
			requests += bulk1JobRequests
		}
		return requests, 1
	}
	return 1, 0
}

// start reserves a chunk's estimate for t, or reports why it does not fit ("" = it fits).
func (b *budget) start(t *ticket, requests, batches int64) string {
	if b == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refused != "" {
		return b.refused
	}
	var held int64
	for tk, n := range b.reserved {
		held += max(0, n-b.perTicket[tk])
	}
	switch {
	case b.spent+held+requests > b.requests:
		b.refused = fmt.Sprintf("sending it would spend more than the load's share of the org's daily API requests (%d of them: %d spent, %d held for the work in flight, %d more needed)",
			b.requests, b.spent, held, requests)
	case b.batches >= 0 && b.used+batches > b.batches:
		b.refused = fmt.Sprintf("sending it would use more than the load's share of the org's daily Bulk API batches (%d of them, %d used)", b.batches, b.used)
	case b.orgLeft >= 0 && held+requests > b.orgLeft:
		b.refused = fmt.Sprintf("the org has %d API requests left today (Sforce-Limit-Info), not enough for it", b.orgLeft)
	}
	if b.refused != "" {
		return b.refused
	}
	b.reserved[t] = requests
	b.used += batches
	return ""
}

// done drops t's reservation: what it spent is counted already.
func (b *budget) done(t *ticket) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.reserved, t)
	delete(b.perTicket, t)
}

// observe counts one request attempt: the load's observer passes a nil t, a chunk's observer
// (which runs first, for the same attempt) its ticket, so that the attempt is taken off that
// chunk's reservation.
func (b *budget) observe(t *ticket, s salesforce.Signal) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if t != nil {
		if _, ok := b.reserved[t]; ok {
			b.perTicket[t]++
		}
		return
	}
	b.spent++
	if s.HasLimit && s.Limit.Max > 0 {
		b.orgLeft = s.Limit.Remaining()
	}
}

// refuse stops every later chunk from starting, with why.
func (b *budget) refuse(why string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refused == "" {
		b.refused = why
	}
}

// why returns why chunks are refused ("" while none is).
func (b *budget) why() string {
	if b == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refused
}

// checkEstimate refuses the whole load before anything is sent when the input's size is
// known (Options.ExpectedRows, or an input small enough for sObject Collections, read whole)
// and its estimated cost does not fit the API budget.
func (r *run) checkEstimate(in passSource) {
	b := r.budget
	if b == nil {
		return
	}
	rows := r.cfg.ExpectedRows
	if s, ok := in.(*sliceSource); ok && s.rest == nil && s.err == nil && rows == 0 {
		rows = int64(len(s.rows))
	}
	if rows == 0 {
		return
	}
	per := int64(r.cfg.limitsFor(r.api).records)
	chunks := (rows + per - 1) / per
	var requests, batches int64
	switch r.api {
	case Bulk2:
		chunks, batches = Bulk2Jobs(rows, r.cfg.BatchSize)
		requests = chunks * (bulk2JobRequests + EstimatedPollsPerJob)
	case Bulk1:
		requests = chunks*(bulk1BatchRequests+EstimatedPollsPerJob) + bulk1JobRequests
		batches = chunks
	default:
		requests = chunks
	}
	switch {
	case requests > b.requests:
		b.refuse(fmt.Sprintf("the load's estimated cost, %d API requests for %d rows, is more than its share of the org's daily API requests (%d)", requests, rows, b.requests))
	case b.batches >= 0 && batches > b.batches:
		b.refuse(fmt.Sprintf("the load's estimated cost, %d Bulk API batches for %d rows, is more than its share of the org's daily Bulk API batches (%d)", batches, rows, b.batches))
	}
}
