package bulk

import (
	"time"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
	"github.com/sfbatch/sfbatch/sfcsv"
)

type apiKind int

const (
	kindBulk1 apiKind = iota
	kindV2Ingest
	kindV2Query
)

// Job states of both APIs.
const (
	stateOpen           = "Open"
	stateClosed         = "Closed"
	stateAborted        = "Aborted"
	stateFailed         = "Failed"
	stateUploadComplete = "UploadComplete"
	stateInProgress     = "InProgress"
	stateJobComplete    = "JobComplete"
)

// Batch states (Bulk 1.0, and the internal batches of Bulk 2.0).
const (
	batchQueued       = "Queued"
	batchInProgress   = "InProgress"
	batchCompleted    = "Completed"
	batchFailed       = "Failed"
	batchNotProcessed = "NotProcessed"
)

// job is a Bulk 1.0 job or a Bulk 2.0 ingest or query job. All fields are
// guarded by Service.mu except the immutable ones set at creation.
type job struct {
	id               string
	order            int // position in creation order (the data file's seq)
	kind             apiKind
	version          wire.Version
	operation        string
	object           string
	extID            string
	contentType      string // Bulk 1.0: CSV, JSON, XML; Bulk 2.0: CSV
	concurrency      string // Parallel or Serial
	assignmentRuleID string
	delim            sfcsv.Delimiter
	lineEnding       sfcsv.LineEnding
	createdBy        string
	created          time.Time
	pk               *pkChunking

	modstamp     time.Time
	state        string
	errorMessage string
	deleted      bool
	batches      []*batch

	// Bulk 2.0 counters (Bulk 1.0 sums its batches).
	processed, failed, retries int64
	totalMS, apiMS             int64
	pendingBatches             int // Bulk 2.0 internal batches not finished

	// Bulk 2.0 ingest upload.
	uploaded   bool
	upload     string // as a string, so that segments' cells are substrings of it
	header     []string
	headerLine []byte // raw header record without its terminator

	// Bulk 2.0 query.
	query  string
	result *org.Result

	// Lock contention: parent key -> index of the first batch that
	// references it.
	parents map[string]int
}

// batch is a Bulk 1.0 batch or one internal batch of a Bulk 2.0 ingest job.
type batch struct {
	id           string
	job          *job
	seq          int
	state        string
	stateMessage string
	created      time.Time
	modstamp     time.Time

	processed, failed int64
	totalMS, apiMS    int64

	contentType string // Bulk 1.0: the batch's content type
	data        []byte // Bulk 1.0: the request body
	seg         string // Bulk 2.0: rows of the segment, a substring of the job's upload
	records     int    // Bulk 2.0: rows in the segment
	attempted   int    // rows with an outcome so far

	// Outcomes.
	results  []byte // Bulk 1.0 ingest: result file body; Bulk 2.0: successful rows (with a data file)
	ok       okRows // Bulk 2.0: successful rows (without a data file)
	failures []byte // Bulk 2.0: failed rows
	nResults int    // Bulk 1.0 JSON: entries written (for separators)
	query    string // Bulk 1.0 query batch: SOQL
	result   *org.Result
	resultID string
	chunk    bool // a batch created by PK chunking
	// resultsHint is the room a Bulk 1.0 CSV result file is made with.
	resultsHint int

	// Data file bookkeeping (see store).
	from, to                    int  // Bulk 2.0: the segment's span of the job's upload
	dataSaved                   bool // the request body is in the file
	resumed                     bool // queued again by a restarted service
	saves                       int  // result rows written so far
	savedResults, savedFailures int  // bytes of results and failures in the file
}

// work is one unit for the worker pool: a batch, or a Bulk 2.0 job-level
// step (splitting an upload, running a query).
type work struct {
	job   *job
	batch *batch
}

func (j *job) isQuery() bool { return j.operation == "query" || j.operation == "queryAll" }

// counts sums a Bulk 1.0 job's batch counters. Caller holds s.mu.
func (j *job) counts() (c jobCounts) {
	for _, b := range j.batches {
		c.total++
		switch b.state {
		case batchQueued:
			c.queued++
		case batchInProgress:
			c.inProgress++
		case batchCompleted:
			c.completed++
		case batchFailed:
			c.failed++
		}
		c.processed += b.processed
		c.recFailed += b.failed
		c.totalMS += b.totalMS
		c.apiMS += b.apiMS
	}
	return c
}

type jobCounts struct {
	queued, inProgress, completed, failed, total int
	processed, recFailed, totalMS, apiMS         int64
}
