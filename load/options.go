package load

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// Limits that Salesforce enforces. The engine splits its input so that no upload exceeds them.
const (
	// MaxBulk1BatchRecords is the most records one Bulk API 1.0 batch may hold (10,000).
	MaxBulk1BatchRecords = salesforce.MaxBatchRecords
	// MaxBulk1BatchBytes is the most bytes one Bulk API 1.0 batch file may hold (10 MB).
	MaxBulk1BatchBytes = salesforce.MaxBatchBytes
	// MaxBulk1BatchChars is the most characters one Bulk API 1.0 batch file may hold (10M).
	MaxBulk1BatchChars = salesforce.MaxBatchChars
	// MaxBulk2UploadBase64Bytes is the most bytes one Bulk API 2.0 job upload may hold once
	// base64-encoded, as Salesforce counts it (150 MB).
	MaxBulk2UploadBase64Bytes = salesforce.MaxBulk2UploadBytes
	// MaxBulk2JobBytes is the most raw CSV bytes the engine puts in one Bulk API 2.0 job:
	// the ~100 MB Salesforce recommends, safely under MaxBulk2UploadBase64Bytes once encoded.
	MaxBulk2JobBytes = salesforce.RecommendedBulk2UploadRawBytes
	// MaxCollectionRecords is the most records one sObject Collections call may hold.
	MaxCollectionRecords = 200
	// MaxRecordChars is the most characters one record may hold in a bulk data file.
	MaxRecordChars = 400_000
)

// Defaults used when the corresponding Options field is zero.
const (
	// DefaultConcurrency is how many jobs, batches or collection calls run at once.
	DefaultConcurrency = 4
	// DefaultBulk2JobRecords is how many records go into one Bulk API 2.0 job once a load is
	// under way (see FirstBulk2JobRecords). Smaller jobs start sooner and keep the memory used
	// to join their results small.
	DefaultBulk2JobRecords = 100_000
	// FirstBulk2JobRecords is the record cap of a pass's first Bulk API 2.0 job when
	// Options.BatchSize is zero; each next job's cap grows by as much up to
	// DefaultBulk2JobRecords (10,000, 20,000, 30,000, ... then 100,000), so Salesforce starts
	// on the first rows while the rest are still being read, its batch slots (ten per org at
	// a time on the realistic profile) all have work once the first 100,000 rows are sent, and
	// a load of any size finishes soon after its last row is read.
	FirstBulk2JobRecords = 10_000
	// DefaultCollectionsThreshold is the largest input, in rows, that API Auto sends through
	// sObject Collections rather than Bulk API 2.0.
	DefaultCollectionsThreshold = 2_000
	// DefaultMaxRetries is how many times a row that failed with a retryable code is resubmitted.
	DefaultMaxRetries = 3
	// DefaultMinPollInterval is the first wait between two status polls of a job or batch.
	DefaultMinPollInterval = 250 * time.Millisecond
	// DefaultMaxPollInterval is the longest wait between two status polls.
	DefaultMaxPollInterval = 30 * time.Second
	// DefaultRetryBackoff is the wait before the first retry pass; it doubles each pass.
	DefaultRetryBackoff = 2 * time.Second
)

// DefaultRetryCodes are the record-level status codes that are retried when Options.RetryCodes
// is nil: failures that come from contention or transient load rather than from the data.
var DefaultRetryCodes = []string{"UNABLE_TO_LOCK_ROW", "TooManyLockFailure", "REQUEST_RUNNING_TOO_LONG", "SERVER_UNAVAILABLE"}

// Operation is what a load does to each row.
type Operation string

// Operations.
const (
	Insert     Operation = "insert"
	Update     Operation = "update"
	Upsert     Operation = "upsert"
	Delete     Operation = "delete"
	HardDelete Operation = "hardDelete"
)

// idempotent reports whether running the operation twice on the same row is harmless, which
// makes it safe to resubmit rows whose outcome is unknown.
func (op Operation) idempotent() bool {
	return op == Update || op == Upsert || op == Delete || op == HardDelete
}

// API selects which Salesforce API carries the rows.
type API int

// APIs.
const (
	// Auto sends inputs of at most Options.CollectionsThreshold rows through sObject
	// Collections and larger ones through Bulk API 2.0.
	Auto API = iota
	// Bulk2 is Bulk API 2.0 ingest: one job per chunk of up to ~100 MB.
	Bulk2
	// Bulk1 is Bulk API 1.0: one job per pass, one batch per chunk of up to 10,000 records.
	Bulk1
	// Collections is sObject Collections: synchronous calls of up to 200 records.
	Collections
)

// String returns the API's name.
func (a API) String() string {
	switch a {
	case Auto:
		return "auto"
	case Bulk2:
		return "bulk2"
	case Bulk1:
		return "bulk1"
	case Collections:
		return "collections"
	}
	return fmt.Sprintf("API(%d)", int(a))
}

// ParseAPI parses "auto", "bulk2", "bulk1" or "collections" (case-insensitive).
func ParseAPI(s string) (API, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return Auto, nil
	case "bulk2", "bulkv2", "bulk2.0":
		return Bulk2, nil
	case "bulk1", "bulk", "bulkv1", "bulk1.0":
		return Bulk1, nil
	case "collections", "rest", "composite":
		return Collections, nil
	}
	return Auto, fmt.Errorf("load: unknown API %q (want auto, bulk2, bulk1 or collections)", s)
}

// Nulls says what an empty value means.
type Nulls int

// Null handling.
const (
	// NullsLeaveUnchanged sends empty cells and nil values as empty cells: on update the field
	// keeps its value; on insert it is not set. This is Salesforce's own rule for bulk files.
	NullsLeaveUnchanged Nulls = iota
	// NullsWrite sends empty cells and nil values as "#N/A", which sets the field to null.
	NullsWrite
)

// Preflight says whether the input is checked against the object's describe before any job
// is created.
type Preflight int

// Preflight modes.
const (
	// PreflightAuto checks when a describe is available and skips the check when it is not.
	PreflightAuto Preflight = iota
	// PreflightOff never checks.
	PreflightOff
	// PreflightRequired fails the load when the describe cannot be fetched.
	PreflightRequired
)

// RowProblems says what a row-level preflight problem does.
type RowProblems int

// Row problem handling.
const (
	// FailRows fails each row with a problem on its own, with a Salesforce-like status code
	// (REQUIRED_FIELD_MISSING, STRING_TOO_LONG, ...), without sending it; the others load.
	FailRows RowProblems = iota
	// AbortOnRowProblems checks every row before any job is created and aborts the load with
	// a *PreflightError when any row has a problem. The input is spooled to disk for this.
	AbortOnRowProblems
)

// Options configure a load. The zero value of every field means the documented default; only
// Object is required (and ExternalIDField for upsert). Options are read, never modified.
type Options struct {
	// Object is the sObject API name, for example "Contact". Required.
	Object string
	// Operation is what to do with each row. Zero means Insert.
	Operation Operation
	// ExternalIDField is the field upsert matches on. Required for Upsert, rejected otherwise.
	ExternalIDField string
	// API selects the Salesforce API. Zero means Auto.
	API API
	// Concurrency is the most jobs, batches or collection calls that run at once; a Bulk API
	// 2.0 job smaller than a full one while job sizes ramp (BatchSize zero: the first jobs
	// and the last) counts by its share of one in Salesforce's batches of 10,000 records,
	// so that small jobs do not leave Salesforce idle while the rest of the input waits. The engine
	// starts there, halves it when Salesforce signals congestion (503, 429,
	// REQUEST_LIMIT_EXCEEDED, lock errors; ConcurrentPerOrgLongTxn for Collections) and adds
	// one back after clean completions, never below 1 (see ConcurrencyChanged events).
	// Zero means DefaultConcurrency. Requests are further limited by the client's pacer.
	Concurrency int
	// BatchSize is how many records go into one batch (Bulk API 1.0, at most 10,000),
	// one job (Bulk API 2.0) or one call (Collections, at most 200).
	// Zero means the API's maximum (Bulk API 2.0: jobs ramp from FirstBulk2JobRecords up to
	// DefaultBulk2JobRecords); a value set is used for every job.
	BatchSize int
	// MaxBytesPerJob caps the raw CSV bytes of one Bulk API 2.0 job.
	// Zero means MaxBulk2JobBytes, which is also the upper bound.
	MaxBytesPerJob int64
	// MaxBytesPerBatch caps the bytes of one Bulk API 1.0 batch (characters are capped at
	// MaxBulk1BatchChars). Zero means MaxBulk1BatchBytes, which is also the upper bound.
	MaxBytesPerBatch int64
	// Serial runs Bulk API 1.0 jobs in Serial concurrency mode (one batch at a time on the
	// server). Only valid with API Bulk1.
	Serial bool
	// RetrySerial runs Bulk API 1.0 retry passes in Serial mode even when Serial is false.
	RetrySerial bool
	// Nulls says what empty values and nil Go values mean. Zero means NullsLeaveUnchanged.
	Nulls Nulls
	// ColumnDelimiter is the delimiter of the uploaded CSV. Zero means comma.
	ColumnDelimiter sfcsv.Delimiter
	// LineEnding is the line ending of the uploaded CSV. Zero means LF.
	LineEnding sfcsv.LineEnding
	// AssignmentRuleID is the lead or case assignment rule applied to the rows (bulk APIs).
	AssignmentRuleID string
	// RetryCodes are the record-level status codes that make a row eligible for another
	// attempt. Nil means DefaultRetryCodes; an empty non-nil slice retries nothing.
	RetryCodes []string
	// MaxRetries is how many more times a retryable row (or a failed job of an idempotent
	// operation) is submitted. Zero means DefaultMaxRetries; negative means never.
	MaxRetries int
	// RetryBackoff is the wait before the first retry pass, doubled on each later pass.
	// Zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// GroupBy is a column by which rows are sorted before they are split (for example
	// "AccountId"), so rows sharing a parent land in the same batch, which cuts
	// UNABLE_TO_LOCK_ROW contention. Sorting reads the whole input first (spilling to disk).
	// Retry passes are always sorted by it. Empty means input order.
	GroupBy string
	// Progress receives progress events. Nil means none.
	Progress Progress
	// Logger receives debug and warning logs. Nil means none.
	Logger *slog.Logger
	// LeaveJobsOpen leaves open jobs running when the load fails or is cancelled, instead of
	// aborting them. The error still names them.
	LeaveJobsOpen bool
	// Deadline bounds the whole load. When it passes, open jobs are aborted (unless
	// LeaveJobsOpen) and Load returns an error wrapping context.DeadlineExceeded.
	// Zero means no bound: a running job is never abandoned because of a client-side timer.
	Deadline time.Duration
	// MinPollInterval is the first wait between status polls; it grows up to MaxPollInterval.
	// Zero means DefaultMinPollInterval.
	MinPollInterval time.Duration
	// MaxPollInterval is the longest wait between status polls. Zero means DefaultMaxPollInterval.
	MaxPollInterval time.Duration
	// CollectionsThreshold is the largest row count that API Auto sends through sObject
	// Collections. Zero means DefaultCollectionsThreshold; negative means never.
	CollectionsThreshold int
	// Preflight controls the describe-based input check. Zero means PreflightAuto.
	Preflight Preflight
	// PreflightRows says what a row-level preflight problem (a missing required value, an
	// obvious type or length error) does. Zero means FailRows.
	PreflightRows RowProblems
	// DryRun reads and checks the whole input (preflight included) and stops: no job is
	// created and nothing is sent. With a sink, each row gets an outcome as the load would
	// have given it before sending: Failed with its first finding, otherwise NotProcessed
	// (StatusDryRun); rows the reader rejects fail as in a load. Load then returns a
	// *PreflightError listing every problem (header and rows), an *InputError for bad input,
	// or nil; Summary.Rows counts the rows read.
	DryRun bool
	// Journal, when set, records every job and every finished row range under RunID, so
	// that a killed load can be resumed (see package jobstore). Nil means none.
	Journal Journal
	// RunID names the load in Journal. Required when Journal is set.
	// The run must exist in Journal (jobstore.Store.CreateRun).
	RunID string
	// Resume continues the unfinished run RunID recorded in Journal. The source must yield
	// the same input from its first row (a CLI checks the file's hash; see
	// jobstore.Store.CheckInput). Rows whose outcomes were delivered before the interruption
	// are skipped (the sink must still hold them: see ResumeCSVSinks). Rows of jobs that were
	// uploaded but whose results were not fetched are not sent again: the load waits for those
	// jobs (closing a Bulk API 2.0 job that was uploaded but not closed), fetches their results
	// and joins them to the rows, re-read from the input. Every other row is sent normally.
	// An sObject Collections call interrupted in flight cannot be asked for its outcome: its
	// rows are sent again for update, upsert and delete, and end NotProcessed (outcome
	// unknown) for insert. Requires Journal.
	Resume bool
	// Settle, with Resume, settles the interrupted run without sending any data: it reads the
	// state and the results of the jobs and batches in flight (and, for inserts, looks rows up
	// by external id or MatchBy), and never creates, uploads to, closes or aborts a job, nor
	// resends a row. A job still processing (or never closed) leaves its rows Unknown; its id
	// is in Summary.Running. Rows that are neither done nor in flight were never sent: they
	// are delivered NotProcessed unless Kept reports that the sink holds their outcome.
	// Retryable failures are not retried.
	Settle bool
	// Kept, with Settle, reports whether the sink already holds a final outcome (not
	// Unknown) for a row that is neither done nor in flight; such a row is not delivered
	// again. Nil means none is held.
	Kept func(row int64) bool
	// MatchBy names fields that settle an insert whose outcome is unknown and whose rows have
	// no external id (Resume or Settle): the org is queried for records whose MatchBy fields
	// all equal the row's values. One match is the row's record (Succeeded); none means the
	// insert never happened (NotProcessed, or sent again by Resume); more than one leaves the
	// row Unknown. Every field must be an input column. Empty means no such lookup.
	MatchBy []string
	// MatchSince, with MatchBy, is when the run started: only records created since then
	// (CreatedDate, less MatchSlack) are candidates. Zero means any record.
	MatchSince time.Time
	// Submit creates and fills every job (Bulk API 2.0: data uploaded and the job closed;
	// Bulk API 1.0: batches added and the job closed) and returns without waiting for
	// Salesforce to process them: rows sent are delivered to no sink (their jobs are in the
	// Journal, for Resume or Settle to collect) and counted in Summary.Submitted. Rows that
	// fail before being sent are delivered as usual. Requires Journal; API Auto means Bulk
	// API 2.0, and Collections (synchronous) is refused.
	Submit bool
	// MaxAPIShare, when above zero, caps what the load spends of the org's daily allowances
	// to that share (at most 1) of what remains of them when it starts: at most
	// floor(MaxAPIShare × Remaining) API requests (DailyApiRequests, read from the limits
	// resource before the first job), and as many Bulk API batches (DailyBulkApiBatches) for
	// the bulk APIs. Every request attempt counts, polls and retries included. A job, batch or
	// call starts only when its estimated cost fits beside what was spent and what the work in
	// flight has reserved, so the rows in flight are always collected; when one does not fit,
	// the load stops sending: its rows and every row not yet sent end NotProcessed with
	// StatusAPIShare. With ExpectedRows (or an input small enough for sObject Collections) a
	// load whose whole estimate does not fit sends nothing. Processes loading at once each get
	// their part of the share from the caller (a Spark driver divides it by its tasks).
	// Zero means no cap.
	MaxAPIShare float64
	// ExpectedRows, when above zero, is how many rows the input holds; MaxAPIShare uses it to
	// estimate the whole load's cost before sending anything. Zero means unknown.
	ExpectedRows int64
	// TempDir is where chunk files, results and retry spools are written.
	// Empty means os.TempDir(). Everything written there is removed when Load returns.
	TempDir string
}

// config is Options with every default resolved.
type config struct {
	Options
	retryCodes map[string]bool
	maxRetries int
}

// resolve validates o and fills in defaults. Errors name the offending field.
func (o Options) resolve() (*config, error) {
	c := &config{Options: o}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("load: Options.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	c.resolveOperation(bad)
	c.resolveSizes(bad)
	c.resolveFormat(bad)
	c.resolveRetries(bad)
	c.resolveRun(bad)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// badOption reports an invalid Options field.
type badOption func(field, format string, args ...any)

// resolveOperation checks the object, operation and API.
func (c *config) resolveOperation(bad badOption) {
	if c.Object == "" {
		bad("Object", "required")
	}
	if c.Operation == "" {
		c.Operation = Insert
	}
	switch c.Operation {
	case Insert, Update, Delete, HardDelete:
		if c.ExternalIDField != "" {
			bad("ExternalIDField", "only valid with operation upsert, not %s", c.Operation)
		}
	case Upsert:
		if c.ExternalIDField == "" {
			bad("ExternalIDField", "required for upsert")
		}
	default:
		bad("Operation", "unknown operation %q (want insert, update, upsert, delete or hardDelete)", string(c.Operation))
	}
	switch c.API {
	case Auto, Bulk2, Bulk1, Collections:
	default:
		bad("API", "unknown API %d", int(c.API))
	}
	if c.API == Collections && c.Operation == HardDelete {
		bad("API", "sObject Collections cannot hardDelete; use Bulk1 or Bulk2")
	}
}

// resolveSizes checks concurrency and the split sizes, and fills their defaults.
func (c *config) resolveSizes(bad badOption) {
	if c.Concurrency < 0 {
		bad("Concurrency", "must not be negative, got %d", c.Concurrency)
	} else if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.BatchSize < 0 {
		bad("BatchSize", "must not be negative, got %d", c.BatchSize)
	}
	if c.API == Bulk1 && c.BatchSize > MaxBulk1BatchRecords {
		bad("BatchSize", "%d is over the Bulk API 1.0 limit of %d records per batch", c.BatchSize, MaxBulk1BatchRecords)
	}
	if c.API == Collections && c.BatchSize > MaxCollectionRecords {
		bad("BatchSize", "%d is over the sObject Collections limit of %d records per call", c.BatchSize, MaxCollectionRecords)
	}
	if c.MaxBytesPerJob < 0 || c.MaxBytesPerJob > MaxBulk2JobBytes {
		bad("MaxBytesPerJob", "must be between 0 and %d, got %d", MaxBulk2JobBytes, c.MaxBytesPerJob)
	} else if c.MaxBytesPerJob == 0 {
		c.MaxBytesPerJob = MaxBulk2JobBytes
	}
	if c.MaxBytesPerBatch < 0 || c.MaxBytesPerBatch > MaxBulk1BatchBytes {
		bad("MaxBytesPerBatch", "must be between 0 and %d, got %d", MaxBulk1BatchBytes, c.MaxBytesPerBatch)
	} else if c.MaxBytesPerBatch == 0 {
		c.MaxBytesPerBatch = MaxBulk1BatchBytes
	}
	if c.Serial && c.API != Bulk1 {
		bad("Serial", "only valid with API Bulk1")
	}
	if c.RetrySerial && c.API != Bulk1 {
		bad("RetrySerial", "only valid with API Bulk1")
	}
}

// resolveFormat checks how rows are written: nulls, delimiter and line ending.
func (c *config) resolveFormat(bad badOption) {
	switch c.Nulls {
	case NullsLeaveUnchanged, NullsWrite:
	default:
		bad("Nulls", "unknown value %d", int(c.Nulls))
	}
	switch c.ColumnDelimiter {
	case 0:
		c.ColumnDelimiter = sfcsv.Comma
	case sfcsv.Comma, sfcsv.Tab, sfcsv.Pipe, sfcsv.Semicolon, sfcsv.Caret, sfcsv.Backquote:
	default:
		bad("ColumnDelimiter", "%q is not a delimiter Salesforce accepts", rune(c.ColumnDelimiter))
	}
	if c.API == Bulk1 && c.ColumnDelimiter != sfcsv.Comma {
		bad("ColumnDelimiter", "Bulk API 1.0 accepts only comma-separated files")
	}
	switch c.LineEnding {
	case sfcsv.LF, sfcsv.CRLF:
	default:
		bad("LineEnding", "unknown value %d", int(c.LineEnding))
	}
}

// resolveRetries checks the retry of rows and the polling of jobs, and fills their defaults.
func (c *config) resolveRetries(bad badOption) {
	if c.RetryCodes == nil {
		c.RetryCodes = DefaultRetryCodes
	}
	c.retryCodes = make(map[string]bool, len(c.RetryCodes))
	for _, code := range c.RetryCodes {
		c.retryCodes[code] = true
	}
	switch {
	case c.MaxRetries < 0:
		c.maxRetries = 0
	case c.MaxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	default:
		c.maxRetries = c.MaxRetries
	}
	if c.RetryBackoff < 0 {
		bad("RetryBackoff", "must not be negative")
	} else if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.Deadline < 0 {
		bad("Deadline", "must not be negative")
	}
	if c.MinPollInterval < 0 {
		bad("MinPollInterval", "must not be negative")
	} else if c.MinPollInterval == 0 {
		c.MinPollInterval = DefaultMinPollInterval
	}
	if c.MaxPollInterval < 0 {
		bad("MaxPollInterval", "must not be negative")
	} else if c.MaxPollInterval == 0 {
		c.MaxPollInterval = max(DefaultMaxPollInterval, c.MinPollInterval)
	}
	if c.MaxPollInterval < c.MinPollInterval {
		bad("MaxPollInterval", "%v is below MinPollInterval %v", c.MaxPollInterval, c.MinPollInterval)
	}
}

// resolveRun checks the preflight, journal and resume options, and fills the run's defaults.
func (c *config) resolveRun(bad badOption) {
	if c.CollectionsThreshold == 0 {
		c.CollectionsThreshold = DefaultCollectionsThreshold
	}
	switch c.Preflight {
	case PreflightAuto, PreflightOff, PreflightRequired:
	default:
		bad("Preflight", "unknown value %d", int(c.Preflight))
	}
	switch c.PreflightRows {
	case FailRows, AbortOnRowProblems:
	default:
		bad("PreflightRows", "unknown value %d", int(c.PreflightRows))
	}
	if c.Journal != nil && c.RunID == "" {
		bad("RunID", "required when Journal is set")
	}
	if c.Resume && c.Journal == nil {
		bad("Resume", "requires Journal and RunID")
	}
	if c.Settle {
		if !c.Resume {
			bad("Settle", "requires Resume")
		}
		if c.Submit {
			bad("Settle", "cannot be combined with Submit")
		}
		c.Preflight = PreflightOff // nothing is sent: the input needs no check
		c.maxRetries = 0           // nothing is sent again
	}
	if c.Submit {
		if c.Journal == nil {
			bad("Submit", "requires Journal and RunID: the jobs' results are collected by a resumed load")
		}
		switch c.API {
		case Collections:
			bad("Submit", "sObject Collections is synchronous: use Bulk API 2.0 or 1.0")
		case Auto:
			c.API = Bulk2
		}
	}
	for _, f := range c.MatchBy {
		if strings.TrimSpace(f) == "" {
			bad("MatchBy", "empty field name")
		}
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
	}
	if !(c.MaxAPIShare >= 0 && c.MaxAPIShare <= 1) {
		bad("MaxAPIShare", "must be between 0 and 1, got %v", c.MaxAPIShare)
	}
	if c.ExpectedRows < 0 {
		bad("ExpectedRows", "must not be negative, got %d", c.ExpectedRows)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// limits are the split limits of one chunk for an API.
type limits struct {
	records int
	bytes   int64
	chars   int64 // 0 = unlimited
	ramp    bool  // Bulk API 2.0 job sizes ramp up (Bulk2JobRecords)
}

// chunk returns the limits of chunk index (0-based within its pass).
func (l limits) chunk(index int) limits {
	if l.ramp {
		l.records = Bulk2JobRecords(index, 0)
	}
	return l
}

// Bulk2JobRecords is the most records the Bulk API 2.0 job index (0-based within a pass) of a
// load holds, for Options.BatchSize batchSize: batchSize when set, else FirstBulk2JobRecords
// times index+1, up to DefaultBulk2JobRecords.
func Bulk2JobRecords(index, batchSize int) int {
	if batchSize > 0 {
		return batchSize
	}
	if index >= DefaultBulk2JobRecords/FirstBulk2JobRecords {
		return DefaultBulk2JobRecords
	}
	return min(FirstBulk2JobRecords*(index+1), DefaultBulk2JobRecords)
}

// Bulk2Jobs returns how many Bulk API 2.0 jobs a load of rows records makes with
// Options.BatchSize batchSize (the byte cap aside), and how many of Salesforce's batches of
// 10,000 records they count as (each job's last batch partial).
func Bulk2Jobs(rows int64, batchSize int) (jobs, batches int64) {
	for i := 0; rows > 0; i++ {
		n := min(rows, int64(Bulk2JobRecords(i, batchSize)))
		jobs++
		batches += (n + bulk2RecordsPerBatch - 1) / bulk2RecordsPerBatch
		rows -= n
	}
	return jobs, batches
}

func (c *config) limitsFor(api API) limits {
	switch api {
	case Bulk1:
		l := limits{records: MaxBulk1BatchRecords, bytes: c.MaxBytesPerBatch, chars: MaxBulk1BatchChars}
		if c.BatchSize > 0 {
			l.records = c.BatchSize
		}
		return l
	case Collections:
		l := limits{records: MaxCollectionRecords}
		if c.BatchSize > 0 {
			l.records = min(c.BatchSize, MaxCollectionRecords)
		}
		return l
	default:
		l := limits{records: DefaultBulk2JobRecords, bytes: c.MaxBytesPerJob, ramp: c.BatchSize == 0}
		if c.BatchSize > 0 {
			l.records = c.BatchSize
		}
		return l
	}
}
