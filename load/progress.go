package load

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
	// RowsRetried: Rows rows will be resubmitted in pass Pass.
	RowsRetried
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
