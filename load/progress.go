package load

import "time"

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	// RowsRead: Rows more input rows were read (cumulative total in Total).
	RowsRead EventKind = iota + 1
	// BytesUploaded: Bytes more CSV bytes were uploaded for JobID.
	BytesUploaded
	// JobState: JobID (and BatchID) moved to State.
	JobState
	// RowsDone: Rows more rows reached a final outcome (cumulative total in Total).
	RowsDone
	// RowsRetried: Rows rows will be resubmitted in pass Pass, after waiting Wait.
	RowsRetried
	// RowsRetriedCode follows RowsRetried once per error code: Rows of its rows failed with
	// Code (UNABLE_TO_LOCK_ROW, ...) and will be resubmitted in pass Pass after Wait.
	RowsRetriedCode
	// ConcurrencyChanged: the adaptive concurrency of API moved from PrevConcurrency to
	// Concurrency jobs, batches or calls in flight, because of Cause (one of the Cause
	// constants: congestion, or CauseRecovered).
	ConcurrencyChanged
)

// Event is one progress notification.
type Event struct {
	Kind    EventKind
	API     API
	JobID   string
	BatchID string
	State   string
	Rows    int64
	Bytes   int64
	Total   int64
	Pass    int
	// Outcome is set on RowsDone events that report a single outcome class.
	Outcome Outcome
	// Code is the error code of a RowsRetriedCode event.
	Code string
	// Wait is how long the engine waits before a retry pass (RowsRetried, RowsRetriedCode).
	Wait time.Duration
	// Concurrency is the new limit of a ConcurrencyChanged event; PrevConcurrency the old one.
	Concurrency     int
	PrevConcurrency int
	// Cause is why a ConcurrencyChanged event happened.
	Cause string
}

// Progress receives progress events. The engine calls Event from one goroutine at a time;
// Event must return quickly (draw later, do not block on I/O).
type Progress interface {
	Event(Event)
}

// ProgressFunc adapts a function to Progress.
type ProgressFunc func(Event)

// Event calls f(e).
func (f ProgressFunc) Event(e Event) { f(e) }
