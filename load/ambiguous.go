package load

import (
	"context"
	"errors"
	"iter"
	"net"
	"strings"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
)

// A request whose answer was lost may or may not have been applied. The engine retries the
// steps of a job that fail transiently (create, add batch, upload, close, result download), and
// where a step is not idempotent it looks before sending it again: see createIngestJob,
// createBulk1Job and bulk1Runner.addBatch.

// MaxStepAttempts is how many times the engine tries one step of a job (create, add batch,
// upload, close, poll, result download) that fails transiently, the first try included. The
// client retries each request on its own first (salesforce.RetryPolicy); this is the
// engine's retry on top, for failures the client cannot safely repeat.
const MaxStepAttempts = 5

// orphanWindowSlack widens the window in which a job created by a request whose response was
// lost must have been created, for clock differences between this machine and Salesforce.
const orphanWindowSlack = 5 * time.Second

// transient reports whether a failed request may succeed when tried again: transport errors
// (connection reset or dropped, timeouts), 5xx, 429 and REQUEST_LIMIT_EXCEEDED. A cancelled
// or expired context is never transient.
func transient(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ae *salesforce.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500 || ae.StatusCode == 429 || ae.ErrorCode == "REQUEST_LIMIT_EXCEEDED"
	}
	var te *salesforce.TransportError
	var ne net.Error
	return errors.As(err, &te) || errors.As(err, &ne)
}

// refused reports a failure that proves the request was not applied: Salesforce refused it
// (429, 503, REQUEST_LIMIT_EXCEEDED, or its session: 401 / INVALID_SESSION_ID that could not
// be renewed) or the connection was never made.
func refused(err error) bool {
	if AuthRefused(err) {
		return true
	}
	var ae *salesforce.APIError
	if errors.As(err, &ae) {
		return ae.StatusCode == 429 || ae.StatusCode == 503 || ae.ErrorCode == "REQUEST_LIMIT_EXCEEDED"
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// notApplied reports a failure that proves a request was not applied: refused, or answered
// with a client error (4xx), which Salesforce gives without applying anything.
func notApplied(err error) bool {
	var ae *salesforce.APIError
	return refused(err) || errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500
}

// stepBackoff is the wait before attempt n (1-based) of a step is tried again: the load's
// MinPollInterval doubling up to MaxPollInterval.
func (r *run) stepBackoff(n int) time.Duration {
	d := r.cfg.MinPollInterval
	for i := 1; i < n && d < r.cfg.MaxPollInterval; i++ {
		d *= 2
	}
	return min(d, r.cfg.MaxPollInterval)
}

// retryStep runs an idempotent step until it succeeds, fails for good, or MaxStepAttempts
// tries failed transiently.
func (r *run) retryStep(ctx context.Context, what string, step func(context.Context) error) error {
	for n := 1; ; n++ {
		err := step(ctx)
		if err == nil || !transient(ctx, err) || n >= MaxStepAttempts {
			return err
		}
		r.cfg.Logger.Warn("load: retrying a step", "step", what, "attempt", n, "err", err)
		if werr := salesforce.Sleep(ctx, r.stepBackoff(n)); werr != nil {
			return err
		}
	}
}

// ingestJobLister is implemented by clients that list ingest jobs (*salesforce.Bulk2Service).
type ingestJobLister interface {
	ListIngestJobs(ctx context.Context) iter.Seq2[*salesforce.IngestJob, error]
}

// jobTemplate describes a job this load creates, to recognise one whose create response was
// lost.
type jobTemplate struct {
	jobType   string // "V2Ingest" or "Classic"
	object    string
	operation string
}

// createJob runs create (a POST, not idempotent) until it succeeds. An attempt that fails in
// a way that may have created the job anyway is noted (noteLostCreate); the jobs such attempts
// made are found and discarded once the pass's jobs are all known (resolveOrphans).
func (r *run) createJob(ctx context.Context, tmpl jobTemplate, create func(context.Context) (string, error), discard func(context.Context, string) error) (string, error) {
	for n := 1; ; n++ {
		start := time.Now()
		id, err := create(ctx)
		if err == nil {
			return id, nil
		}
		if !transient(ctx, err) {
			return "", err
		}
		r.noteLostCreate(lostCreate{tmpl: tmpl, from: start, to: time.Now(), discard: discard})
		if n >= MaxStepAttempts {
			return "", err
		}
		r.cfg.Logger.Warn("load: retrying job creation", "object", tmpl.object, "operation", tmpl.operation, "attempt", n, "err", err)
		if werr := salesforce.Sleep(ctx, r.stepBackoff(n)); werr != nil {
			return "", err
		}
	}
}

// lostCreate is a create request whose answer was lost: it may have made a job.
type lostCreate struct {
	tmpl     jobTemplate
	from, to time.Time
	discard  func(context.Context, string) error
}

func (r *run) noteLostCreate(l lostCreate) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lost = append(r.lost, l)
}

// resolveOrphans finds the jobs that create requests whose answers were lost made, once every
// job this load created is known: the Open jobs of the same type, object and operation,
// created in one of those requests' windows and unknown to this load. When there are no more
// of them than lost requests, they are this load's (they received no data) and are discarded;
// otherwise they cannot be told apart from another client's jobs and are left alone, their
// ids in Summary.UnclaimedJobs.
func (r *run) resolveOrphans(ctx context.Context) {
	r.mu.Lock()
	lost := r.lost
	r.lost = nil
	r.mu.Unlock()
	lister, ok := r.l.bulk2.(ingestJobLister)
	if len(lost) == 0 || !ok {
		return
	}
	ctx = context.WithoutCancel(ctx)
	me := r.runAs(ctx)
	inWindow := func(j *salesforce.IngestJob) *lostCreate {
		created, err := time.Parse("2006-01-02T15:04:05.000-0700", j.CreatedDate)
		if err != nil {
			return nil
		}
		for i := range lost {
			l := &lost[i]
			if j.JobType != "" && j.JobType != l.tmpl.jobType || !strings.EqualFold(j.Object, l.tmpl.object) || j.Operation != l.tmpl.operation {
				continue
			}
			if !created.Before(l.from.Add(-orphanWindowSlack)) && !created.After(l.to.Add(orphanWindowSlack)) {
				return l
			}
		}
		return nil
	}
	type orphan struct {
		id string
		l  *lostCreate
	}
	var found []orphan
	for j, err := range lister.ListIngestJobs(ctx) {
		if err != nil {
			r.cfg.Logger.Warn("load: cannot list jobs to find those lost answers created", "err", err)
			return
		}
		if j.State != salesforce.JobStateOpen || r.knownJob(j.ID) || !r.mine(j, me) {
			continue
		}
		if l := inWindow(j); l != nil {
			found = append(found, orphan{j.ID, l})
		}
	}
	if len(found) > len(lost) {
		for _, o := range found {
			r.unclaimed(o.id)
		}
		return
	}
	for _, o := range found {
		if err := o.l.discard(ctx, o.id); err != nil {
			r.cfg.Logger.Warn("load: could not discard a job a lost answer created", "job", o.id, "err", err)
			r.unclaimed(o.id)
			continue
		}
		r.cfg.Logger.Info("load: discarded an empty job a lost answer created", "job", o.id)
	}
}

// runAs returns the id of the user the load runs as when the login said it (OAuth and SOAP
// logins do; a bare access token does not), else "".
func (r *run) runAs(ctx context.Context) string {
	tp, ok := r.l.desc.(interface {
		Token(ctx context.Context) (*salesforce.Token, error)
	})
	if !ok {
		return ""
	}
	tok, err := tp.Token(ctx)
	if err != nil || tok == nil {
		return ""
	}
	return tok.UserID
}

// mine reports whether job j can have been created by the user me: always when either id is
// unknown, else when they name the same user (15- and 18-character ids alike).
func (r *run) mine(j *salesforce.IngestJob, me string) bool {
	by := j.CreatedByID
	if me == "" || by == "" {
		return true
	}
	return by[:min(len(by), 15)] == me[:min(len(me), 15)]
}

// knownJob reports whether id is a job this load created (open or finished).
func (r *run) knownJob(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.open[id]; ok {
		return true
	}
	for _, j := range r.sum.Jobs {
		if j.JobID == id {
			return true
		}
	}
	return false
}

// unclaimed records a job a lost response may have created that cannot be proven this load's.
func (r *run) unclaimed(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range r.sum.UnclaimedJobs {
		if u == id {
			return
		}
	}
	r.sum.UnclaimedJobs = append(r.sum.UnclaimedJobs, id)
	r.cfg.Logger.Warn("load: an Open job may have been created by a request whose response was lost; it cannot be told apart from other jobs and was left alone", "job", id)
}

// multipleContents reports Salesforce's refusal of a second upload to a Bulk API 2.0 job
// (a retried PUT whose first attempt got through).
func multipleContents(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Found multiple contents")
}

// unknownResult gives every row of c that has no outcome yet the outcome Unknown: its request
// may have been applied, but why says the result could not be read.
func (r *run) unknownResult(c *chunk, why string) {
	c.forEach(r, func(i int, vals []string) {
		r.resolve(c, i, &RowResult{Outcome: Unknown, Values: vals, Error: &RowError{StatusCode: StatusOutcomeUnknown, Message: why}})
	})
}

// settle reads the answer to a resend of a row whose earlier attempt had an unknown outcome
// through the settlement table: a delete answered "entity is deleted" was deleted by the
// earlier attempt, so it succeeded.
func (r *run) settle(res *RowResult) {
	if res.Outcome != Failed || res.Error == nil {
		return
	}
	switch r.cfg.Operation {
	case Delete, HardDelete:
		if res.Error.StatusCode == "ENTITY_IS_DELETED" {
			res.Outcome, res.Error = Succeeded, nil
		}
	}
}
