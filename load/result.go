package load

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Outcome is what became of one input row.
type Outcome int

// Outcomes. Every input row ends in exactly one of them.
const (
	// Succeeded: Salesforce saved (or deleted) the record; RowResult.ID is its id.
	Succeeded Outcome = iota + 1
	// Failed: Salesforce (or the engine, for a row it could not send) rejected the row;
	// RowResult.Error says why.
	Failed
	// NotProcessed: no request carrying the row can have been applied (it was never sent,
	// or its job was aborted before processing anything): it is safe to send again.
	// RowResult.Error.Message says why.
	NotProcessed
	// Unknown: a request carrying the row may have been applied, but its result could not be
	// read (the response was lost, the result download failed, the load stopped after
	// sending it). RowResult.JobID and BatchID say where to look; a resumed load
	// (Options.Resume) settles the row from them. Never send such a row again blindly.
	Unknown
)

// String returns "succeeded", "failed", "not_processed" or "unknown": the value of the
// sf__Outcome column in results.csv, pipe's output and the Spark results.
func (o Outcome) String() string {
	switch o {
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case NotProcessed:
		return "not_processed"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Status codes the engine itself assigns to rows it could not send or could not place.
const (
	// StatusRowTooLarge: the row alone exceeds a per-upload or per-record limit.
	StatusRowTooLarge = "SFBATCH_ROW_TOO_LARGE"
	// StatusNoResult: Salesforce returned no result for the row.
	StatusNoResult = "SFBATCH_NO_RESULT"
	// StatusJobFailed: the row's job or batch failed as a whole.
	StatusJobFailed = "SFBATCH_JOB_FAILED"
	// StatusInvalidRow: the input reader could delimit the row but not accept it (too many or
	// too few cells, invalid UTF-8, a NUL byte, a value that cannot be converted); the row was
	// not sent. The message names file, row, line and column (see InputError.Position).
	StatusInvalidRow = "SFBATCH_INVALID_ROW"
	// StatusAborted: the load stopped (cancelled, deadline, or a fatal error) before the row
	// was sent, or its job was aborted before processing anything.
	StatusAborted = "SFBATCH_ABORTED"
	// StatusOutcomeUnknown: the row was sent but its result could not be read (outcome
	// Unknown).
	StatusOutcomeUnknown = "SFBATCH_OUTCOME_UNKNOWN"
	// StatusDryRun: a dry run (Options.DryRun) checked the row, found nothing wrong and sent
	// nothing (outcome NotProcessed).
	StatusDryRun = "SFBATCH_DRY_RUN"
)

// RowError is why a row failed or was not processed.
type RowError struct {
	StatusCode string   // Salesforce status code, e.g. REQUIRED_FIELD_MISSING, or a Status* constant
	Message    string   // human-readable message
	Fields     []string // fields involved, if any
}

// Error formats the error the way bulk result files do: "CODE:message:fields --".
func (e *RowError) Error() string {
	return e.StatusCode + ":" + e.Message + ":" + strings.Join(e.Fields, ",") + " --"
}

// RowResult is the outcome of one input row.
type RowResult struct {
	Row     int64     // 1-based input row number (Row.Number)
	Outcome Outcome   // Succeeded, Failed, NotProcessed or Unknown
	ID      string    // record id (Succeeded; also failed updates and deletes when known)
	Created bool      // whether the record was created (insert, or an upsert that inserted)
	Error   *RowError // nil when Succeeded
	// Values are the row's cells as sent, in header order.
	Values []string
	// Batch is the 0-based index of the chunk (job, batch or call) the row was first sent in,
	// or -1 for a row that was never sent (too large, or failed the preflight row check).
	Batch int
	// JobID and BatchID identify where the final attempt ran (BatchID: Bulk API 1.0 only).
	JobID, BatchID string
	// Attempts is how many times the row was sent (0 if it never was).
	Attempts int

	// raw, when rawDelim is not zero, is Values as one record, delimited by rawDelim, the
	// way sfcsv writes it (without the line ending). A result file join sets it; CSVFiles
	// copies it.
	raw      string
	rawDelim byte
}

// Sink receives row results as they become known, in completion order (not input order).
// The engine calls Start once, then Write for each row, from one goroutine at a time.
// An error from a Sink stops the load.
type Sink interface {
	Start(header []string) error
	Write(r *RowResult) error
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(r *RowResult) error

// Start does nothing.
func (SinkFunc) Start([]string) error { return nil }

// Write calls f(r).
func (f SinkFunc) Write(r *RowResult) error { return f(r) }

// Summary counts the outcomes of a load.
type Summary struct {
	API          API              // the API that carried the rows
	Rows         int64            // input rows read
	Succeeded    int64            // rows with outcome Succeeded
	Created      int64            // of those, rows that created a record
	Failed       int64            // rows with outcome Failed
	NotProcessed int64            // rows with outcome NotProcessed
	Unknown      int64            // rows with outcome Unknown
	Retried      int64            // row resubmissions
	ErrorCodes   map[string]int64 // Failed, NotProcessed and Unknown rows by status code
	Jobs         []JobInfo        // every job (or batch, or call) in submission order
	// UnclaimedJobs are Open jobs that a create request whose response was lost may have
	// made, which could not be proven this load's and were left alone: inspect and abort them.
	UnclaimedJobs []string
	Duration      time.Duration // wall time of the load
	// Submitted counts rows sent in jobs left for Salesforce to process (Options.Submit);
	// they were delivered to no sink.
	Submitted int64
	// Running lists the jobs (Bulk API 1.0: "job/batch") still processing at Salesforce, or
	// never closed, when the load returned (Options.Submit, Options.Settle).
	Running []string
}

// JobInfo describes one Salesforce job, batch or collection call of a load.
type JobInfo struct {
	API     API
	JobID   string // job id (empty for collection calls)
	BatchID string // batch id (Bulk API 1.0)
	Batch   int    // chunk index within its pass (-1: a job of an interrupted load, collected on resume)
	Pass    int    // 0 for the first pass, n for the n-th retry pass
	Rows    int    // rows sent
	Bytes   int64  // CSV bytes uploaded
	State   string // final state (JobComplete, Failed, Aborted, Completed, ...)
	Message string // job- or batch-level error message, if any
	// Unmatched counts Bulk API 2.0 result rows that matched no input row of the job (their
	// input rows are NotProcessed). It should be zero; anything else means the result files
	// did not echo the rows as uploaded.
	Unmatched int
	// Times holds Salesforce's processing times from the final status poll of the job (Bulk
	// API 2.0) or batch (Bulk API 1.0); nil when the load did not poll it to its end.
	Times *ProcessingTimes
}

// ProcessingTimes are the processing figures Salesforce reports for a finished Bulk API job or
// batch, in milliseconds and records.
type ProcessingTimes struct {
	TotalMS          int64 // totalProcessingTime
	APIActiveMS      int64 // apiActiveProcessingTime
	ApexMS           int64 // apexProcessingTime
	RecordsProcessed int64
	RecordsFailed    int64
}

// Batches collects results as one list per batch, each ordered by input row, the way
// salesforce_batch returns them. It holds every result in memory: use it for inputs that fit.
// Safe for concurrent use.
type Batches struct {
	mu   sync.Mutex
	byID map[int][]RowResult
}

// Start does nothing.
func (b *Batches) Start([]string) error { return nil }

// Write records r.
func (b *Batches) Write(r *RowResult) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byID == nil {
		b.byID = make(map[int][]RowResult)
	}
	b.byID[r.Batch] = append(b.byID[r.Batch], *r)
	return nil
}

// Lists returns the results grouped by the batch each row was first sent in, batches in
// order, rows within a batch in input order. Rows that were never sent (RowResult.Batch -1)
// form the first list when there are any.
func (b *Batches) Lists() [][]RowResult {
	b.mu.Lock()
	defer b.mu.Unlock()
	keys := slices.Sorted(maps.Keys(b.byID))
	out := make([][]RowResult, 0, len(keys))
	for _, k := range keys {
		rs := slices.Clone(b.byID[k])
		slices.SortFunc(rs, func(a, b RowResult) int { return cmp.Compare(a.Row, b.Row) })
		out = append(out, rs)
	}
	return out
}

// parseBulkError parses the error text of a bulk result file ("CODE:message:fields --"; the
// message may itself contain colons) into a RowError.
func parseBulkError(s string) *RowError {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, "--")
	s = strings.TrimSpace(s)
	code, rest, ok := strings.Cut(s, ":")
	if !ok || code == "" || strings.ContainsAny(code, " \t") {
		return &RowError{StatusCode: "UNKNOWN_EXCEPTION", Message: s}
	}
	e := &RowError{StatusCode: code, Message: rest}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		fields := rest[i+1:]
		if !strings.ContainsAny(fields, " ") || fields == "" {
			e.Message = rest[:i]
			for f := range strings.SplitSeq(fields, ",") {
				if f = strings.TrimSpace(f); f != "" {
					e.Fields = append(e.Fields, f)
				}
			}
		}
	}
	return e
}

// parseStateMessage turns a batch or job level message ("InvalidBatch : Field name not found :
// Foo") into a RowError for each of its rows.
func parseStateMessage(msg string) *RowError {
	code, rest, ok := strings.Cut(msg, " : ")
	if !ok || strings.ContainsAny(code, " ") {
		return &RowError{StatusCode: StatusJobFailed, Message: msg}
	}
	return &RowError{StatusCode: code, Message: rest}
}

// permanentJobFailure reports whether a job-level failure message describes the data or the
// request (so that resubmitting cannot help) rather than a transient server condition.
func permanentJobFailure(msg string) bool {
	for _, p := range []string{"InvalidBatch", "ClientInputError", "InvalidJob", "InvalidOperation", "InvalidUser", "FeatureNotEnabled", "ExceededQuota", "INVALID", "NOT_FOUND"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
