package cli

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
)

// Requests an export is estimated to need at least, for --max-api-share.
const (
	// exportBulkJobRequests: create a query job, poll it (load.EstimatedPollsPerJob) and
	// fetch a first page.
	exportBulkJobRequests = 2 + load.EstimatedPollsPerJob
	// exportRESTRequests: one query call.
	exportRESTRequests = 1
)

// errExportShare ends an export that reached its share of the org's daily API requests.
var errExportShare = errors.New("the export used its share of the org's daily API requests (--max-api-share)")

// exportShare applies --max-api-share to an export: it reads the org's limits and refuses an
// export whose smallest estimate (per query job: create, polls and a first page; one call for
// REST) does not fit floor(share × Remaining) of DailyApiRequests, or, for Bulk API 2.0, whose
// query jobs do not fit the same share of DailyBulkV2QueryJobs. The context it returns counts
// every request attempt and ends with errExportShare once the next requests, one per
// download in flight, could pass the allowance; the export then stops as an interrupted one
// does, keeping what it wrote with a --resume token.
func exportShare(ctx context.Context, c *salesforce.Client, share float64, opts extract.Options) (context.Context, context.CancelCauseFunc, error) {
	if share == 0 {
		return ctx, func(error) {}, nil
	}
	lim, err := c.Limits(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("--max-api-share: reading the org's limits: %w", err)
	}
	requests := load.ShareAllowance(share, lim[salesforce.LimitDailyAPIRequests])
	jobs := int64(max(1, opts.IDChunks))
	need := jobs * exportBulkJobRequests
	if opts.API == extract.APIREST {
		jobs, need = 0, exportRESTRequests
	}
	if need > requests {
		return nil, nil, withExit(ExitRowsFailed, fmt.Errorf("--max-api-share: nothing exported: the export needs at least %d API requests, more than its share of the org's daily API requests (%d)", need, requests))
	}
	if jl, ok := lim[salesforce.LimitDailyBulkV2QueryJobs]; ok && (opts.API == extract.APIBulk2 || opts.API == extract.APIAuto) {
		if allowed := load.ShareAllowance(share, jl); jobs > allowed {
			return nil, nil, withExit(ExitRowsFailed, fmt.Errorf("--max-api-share: nothing exported: the export needs %d Bulk API 2.0 query jobs, more than its share of the org's daily query jobs (%d)", jobs, allowed))
		}
	}
	inFlight := int64(max(1, opts.Concurrency))
	if opts.Concurrency == 0 {
		inFlight = extract.DefaultConcurrency
	}
	ctx, cancel := context.WithCancelCause(ctx)
	var spent atomic.Int64
	ctx = salesforce.WithSignals(ctx, func(salesforce.Signal) {
		if spent.Add(1)+inFlight > requests {
			cancel(errExportShare)
		}
	})
	return ctx, cancel, nil
}
