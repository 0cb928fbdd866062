package bulk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
)

// Limits of both Bulk APIs (protocol reference §3 and §7.1).
const (
	// MaxBatchRecords is the most records one Bulk 1.0 batch may hold, and
	// the size of the internal batches a Bulk 2.0 ingest job is split into.
	MaxBatchRecords = 10_000
	// MaxBatchBytes is the largest Bulk 1.0 batch body in bytes (10 MB).
	MaxBatchBytes = 10_000_000
	// MaxBatchChars is the most characters one Bulk 1.0 batch may hold.
	MaxBatchChars = 10_000_000
	// MaxFieldChars is the most characters one field value may hold.
	MaxFieldChars = 131_072
	// MaxUploadBytes is the largest Bulk 2.0 job upload: 150 MB once
	// base64-encoded, which Salesforce applies internally, so at most
	// 112.5 MB of raw CSV (Salesforce recommends staying under 100 MB). The
	// emulator checks the base64 size.
	MaxUploadBytes = 150_000_000
	// MaxMultipartChars is the largest CSV accepted in a multipart
	// create-with-data request (the newer of the documented figures).
	MaxMultipartChars = 100_000
	// ChunkRecords is how many rows are written to the org at once: the
	// 200-record chunks Salesforce processes a batch in.
	ChunkRecords = 200
	// DefaultPKChunkSize and MaxPKChunkSize bound Sforce-Enable-PKChunking.
	DefaultPKChunkSize = 100_000
	MaxPKChunkSize     = 250_000
	// MaxListJobs is the page size of GET /jobs/ingest and /jobs/query.
	MaxListJobs = 1_000
	// MaxResultPageURLs is how many URLs one resultPages response holds.
	MaxResultPageURLs = 5
	// DefaultResultPageRecords is the page size resultPages uses when the
	// request has no maxRecords.
	DefaultResultPageRecords = 100_000
	// DailyIngestRecords is the Bulk API 2.0 ingest allowance of records
	// per 24 hours, counted in the org's DailyBulkV2IngestRecords limit.
	DailyIngestRecords = org.DefaultDailyBulkV2IngestRecords
	// DefaultMaxOpenJobs is the default of Options.MaxOpenJobs. Salesforce
	// documents no cap on open jobs; this one is the emulator's, high
	// enough for any real load (sfbatch's largest loads open a few dozen
	// jobs) and low enough to catch a client that leaks open jobs.
	DefaultMaxOpenJobs = 1_000
)

// Limit names in the org's counters.
const (
	limitBatches      = org.LimitDailyBulkAPIBatches
	limitV2QueryJobs  = org.LimitDailyBulkV2QueryJobs
	limitV2Records    = org.LimitDailyBulkV2IngestRecords
	dataloadNamespace = "http://www.force.com/2009/06/asyncapi/dataload"
)

// Profile is a processing-time model: Instant or Realistic.
type Profile interface{ profile() }

// Instant processes every batch as soon as a worker is free, with no
// modelled latency. It is the default.
type Instant struct{}

// Realistic models Salesforce's timing on the service's clock: a batch waits
// BatchStartLatency after a worker picks it up, then costs PerRecordCost per
// record, processed in 200-record chunks so counters grow while it runs.
// The modelled time runs from the moment the worker picks the batch up: the
// emulator's own work on a chunk happens within the chunk's modelled time
// rather than on top of it, so a batch of n records takes BatchStartLatency
// + n x PerRecordCost whenever that work is quicker than the model.
type Realistic struct {
	// BatchStartLatency is the delay before a dequeued batch starts.
	BatchStartLatency time.Duration
	// PerRecordCost is the processing time of one record.
	PerRecordCost time.Duration
	// QueryLatency is the execution time of one query batch or job.
	QueryLatency time.Duration
	// ResultPageLatency is the time Salesforce takes to start serving one
	// Bulk API 2.0 query result page (the request waits this long on the
	// service clock before the first byte). Pages requested concurrently
	// wait concurrently, which is what makes parallel downloads pay off.
	ResultPageLatency time.Duration
	// MaxConcurrentBatches caps batches processed at once org-wide; zero
	// means Options.MaxConcurrentBatches.
	MaxConcurrentBatches int
}

// DefaultRealistic is the timing of `sfbatch emulator --profile realistic`:
// Salesforce-like delays at a scale that keeps demos and tests short.
func DefaultRealistic() Realistic {
	return Realistic{
		BatchStartLatency:    500 * time.Millisecond,
		PerRecordCost:        50 * time.Microsecond,
		QueryLatency:         2 * time.Second,
		ResultPageLatency:    300 * time.Millisecond,
		MaxConcurrentBatches: 10,
	}
}

func (Instant) profile()   {}
func (Realistic) profile() {}

// Options configures a Service. The zero value is usable: real clock,
// Instant profile, no lock contention.
type Options struct {
	// Clock is the time source for timestamps and the Realistic profile.
	// Nil means the wall clock.
	Clock clock.Clock
	// Profile is the processing-time model. Nil means Instant.
	Profile Profile
	// Seed makes lock contention deterministic.
	Seed int64
	// LockContentionRate is the probability, in [0,1], that a row of a
	// Parallel job whose parent record (a reference field such as AccountId
	// or a relationship column such as Account.External_Id__c) is also
	// referenced by an earlier batch of the same job fails with
	// UNABLE_TO_LOCK_ROW. Which rows fail depends only on Seed, the job and
	// the data, never on timing. Serial jobs never contend. Zero disables
	// contention.
	LockContentionRate float64
	// MaxConcurrentBatches is the number of batches processed at once
	// org-wide. Zero means max(2, GOMAXPROCS).
	MaxConcurrentBatches int
	// MaxOpenJobs caps the jobs the org holds open at once: Bulk API 2.0
	// ingest jobs that are Open, UploadComplete or InProgress plus Bulk API
	// 1.0 jobs that are Open, counted together. Creating a job past the cap
	// fails: Bulk 2.0 with 403 REQUEST_LIMIT_EXCEEDED, Bulk 1.0 with 400
	// ExceededQuota. Bulk 2.0 query jobs are not counted. Zero means
	// DefaultMaxOpenJobs; a negative value means no cap.
	MaxOpenJobs int
	// DataFile is a SQLite file (the org's data file may be shared) that
	// keeps jobs, batches, uploads and results across restarts; Open reads
	// it and resumes unfinished work. "" keeps them in memory only. New
	// does not accept it: use Open.
	DataFile string
}

// Service emulates Bulk API 1.0 and 2.0 over an org. It is safe for
// concurrent use; Close stops its workers.
type Service struct {
	org     *org.Org
	clk     clock.Clock
	profile Profile
	opts    Options
	workers int
	maxOpen int // 0: no cap

	mu      sync.Mutex
	cond    *sync.Cond
	closed  bool
	seq     uint64
	jobs    map[string]*job // by 18-char id and 15-char prefix
	order   []*job          // creation order, for listing
	pending []*work         // FIFO of runnable work
	splits  []*job          // FIFO of closed Bulk 2.0 ingest jobs to split (splitter)
	// splitCond wakes the splitter; it shares mu.
	splitCond *sync.Cond
	running   map[*job]int  // work items in progress per job
	changed   chan struct{} // closed and replaced whenever work finishes
	faults    faults

	st       *store // nil without Options.DataFile
	storeErr error  // the first failed write of the data file

	ctx    context.Context // canceled by Close; stops waits of running work
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type faults struct {
	failNextJobs   []string // messages, one per job to fail
	queryTimeouts  int      // queries to fail with QUERY_TIMEOUT
	dropUploads    int      // uploads whose connection to drop
	contentionRate float64
}

// New returns a Service for o, keeping its jobs in memory, and starts its
// workers. It panics if opts.DataFile is set, which needs Open.
func New(o *org.Org, opts Options) *Service {
	if opts.DataFile != "" {
		panic("bulk: New with a DataFile; use Open")
	}
	s, _ := Open(o, opts)
	return s
}

// Open returns a Service for o and starts its workers. With
// opts.DataFile, the jobs stored there are loaded first and their
// unfinished work resumes.
func Open(o *org.Org, opts Options) (*Service, error) {
	s := &Service{
		org:     o,
		clk:     opts.Clock,
		profile: opts.Profile,
		opts:    opts,
		jobs:    make(map[string]*job),
		running: make(map[*job]int),
	}
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	if s.profile == nil {
		s.profile = Instant{}
	}
	s.faults.contentionRate = opts.LockContentionRate
	switch {
	case opts.MaxOpenJobs == 0:
		s.maxOpen = DefaultMaxOpenJobs
	case opts.MaxOpenJobs > 0:
		s.maxOpen = opts.MaxOpenJobs
	}
	s.workers = opts.MaxConcurrentBatches
	if r, ok := s.profile.(Realistic); ok && r.MaxConcurrentBatches > 0 {
		s.workers = r.MaxConcurrentBatches
	}
	if s.workers <= 0 {
		s.workers = max(2, runtime.GOMAXPROCS(0))
	}
	s.cond = sync.NewCond(&s.mu)
	s.splitCond = sync.NewCond(&s.mu)
	s.changed = make(chan struct{})
	// The workers outlive any request: their context is the Service's own
	// lifetime, ended by Close.
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts.DataFile != "" {
		st, err := openStore(opts.DataFile)
		if err != nil {
			return nil, err
		}
		s.st = st
		s.mu.Lock()
		err = s.restoreLocked(s.ctx)
		s.mu.Unlock()
		if err != nil {
			_ = st.close()
			return nil, err
		}
	}
	for range s.workers {
		s.wg.Add(1)
		go s.worker()
	}
	s.wg.Add(1)
	go s.splitter()
	return s, nil
}

// Close stops the workers. Work in progress finishes its current chunk;
// queued work is left as it is. Close is idempotent.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.splitCond.Broadcast()
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.storeErr
	if s.st != nil {
		err = errors.Join(err, s.st.close())
		s.st = nil
	}
	return err
}

// WaitIdle blocks until no work is queued or running (every job has reached
// a state that needs a client action or is final), or ctx ends. Jobs waiting
// on the clock in the Realistic profile count as running.
func (s *Service) WaitIdle(ctx context.Context) error {
	for {
		s.mu.Lock()
		idle := len(s.pending) == 0 && len(s.splits) == 0 && len(s.running) == 0
		ch := s.changed
		s.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// FailNextJob makes the next ingest job (Bulk 2.0) or batch (Bulk 1.0) that
// starts processing fail as a whole with message as its errorMessage or
// stateMessage. Calls accumulate.
func (s *Service) FailNextJob(message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failNextJobs = append(s.faults.failNextJobs, message)
}

// FailQueriesWithTimeout makes the next n query executions (Bulk 1.0 query
// batches and Bulk 2.0 query jobs) fail with QUERY_TIMEOUT.
func (s *Service) FailQueriesWithTimeout(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.queryTimeouts += n
}

// DropNextUploads makes the next n data uploads (Bulk 2.0 PUT or Bulk 1.0
// batch POST) lose their connection after part of the body was read: the
// server closes the connection without a response and stores nothing.
func (s *Service) DropNextUploads(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.dropUploads += n
}

// SetLockContentionRate changes the UNABLE_TO_LOCK_ROW rate for batches that
// start from now on.
func (s *Service) SetLockContentionRate(rate float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.contentionRate = rate
}

// FailRows makes rows that match f fail with f's status code and message,
// through the org, exactly as REST writes would.
func (s *Service) FailRows(f org.RowFault) { s.org.InjectRowFault(f) }

// ServeHTTP handles /services/async/{ver}/... (Bulk 1.0) and
// /services/data/v{ver}/jobs/... (Bulk 2.0). The request must already carry
// a wire.Session.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/services/async/"):
		s.serveBulk1(w, r, strings.TrimPrefix(p, "/services/async/"))
	case strings.HasPrefix(p, "/services/data/"):
		s.serveBulk2(w, r, strings.TrimPrefix(p, "/services/data/"))
	default:
		http.NotFound(w, r)
	}
}

// lookup finds a job by 15- or 18-character id. Caller holds s.mu.
func (s *Service) lookupLocked(id string) *job {
	if len(id) == 18 {
		id = id[:15]
	}
	j := s.jobs[id]
	if j == nil || j.deleted {
		return nil
	}
	return j
}

// msgOpenJobs is the message of a job creation refused by MaxOpenJobs.
func msgOpenJobs(n int) string {
	return fmt.Sprintf("Exceeded max number of open Bulk API jobs (%d): close or abort a job, or wait for one to finish, then try again", n)
}

// openJobsFullLocked reports whether MaxOpenJobs leaves no room for another
// ingest job. Caller holds s.mu.
func (s *Service) openJobsFullLocked() bool {
	if s.maxOpen <= 0 {
		return false
	}
	n := 0
	for _, j := range s.order {
		if j.deleted {
			continue
		}
		switch j.kind {
		case kindBulk1:
			if j.state == stateOpen {
				n++
			}
		case kindV2Ingest:
			switch j.state {
			case stateOpen, stateUploadComplete, stateInProgress:
				n++
			}
		}
	}
	return n >= s.maxOpen
}
