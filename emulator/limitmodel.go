package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sfbatch/sfbatch/emulator/org"
)

// LimitModel is how the org meters API requests beyond the daily counters every org keeps
// (DailyApiRequests, reported in Sforce-Limit-Info on every REST, Bulk 2.0 and Bulk 1.0
// response and in /limits; DailyBulkApiBatches, charged per Bulk 1.0 batch and per 10,000
// Bulk 2.0 ingest records). The zero value sets no concurrency thresholds and keeps the
// default daily maxima; RealisticLimits is the model of `sfbatch emulator --profile realistic`.
type LimitModel struct {
	// DailyAPIRequests is the DailyApiRequests maximum; zero means
	// org.DefaultDailyAPIRequests. Past it, requests get 403 REQUEST_LIMIT_EXCEEDED
	// ("TotalRequests Limit exceeded.").
	DailyAPIRequests int
	// DailyBulkAPIBatches is the DailyBulkApiBatches maximum; zero means
	// org.DefaultDailyBulkAPIBatches.
	DailyBulkAPIBatches int
	// MaxConcurrentRequests is how many API requests (REST, composite, Bulk 2.0, Bulk 1.0)
	// the org serves at once; a request over it is refused, uncounted, with 503
	// SERVER_UNAVAILABLE. Zero means no threshold.
	MaxConcurrentRequests int
	// SyncCallLatency is the modelled time, on the server's clock, of one synchronous call
	// (a request under /composite: sObject Collections, composite, composite batch and
	// graph). Zero means none.
	SyncCallLatency time.Duration
	// LongTxnThreshold is the age from which a synchronous call in progress is
	// long-running. Zero means DefaultLongTxnThreshold.
	LongTxnThreshold time.Duration
	// MaxLongTxn is how many long-running synchronous calls the org allows at once: while
	// that many are in progress, a new synchronous call is refused with 403
	// REQUEST_LIMIT_EXCEEDED, "ConcurrentPerOrgLongTxn Limit exceeded.". Zero means no
	// threshold.
	MaxLongTxn int
}

// DefaultLongTxnThreshold is Salesforce's age of a long-running request (20 seconds).
const DefaultLongTxnThreshold = 20 * time.Second

// RealisticLimits is the limit model of the realistic profile: Salesforce's default daily
// maxima, 25 long-running synchronous calls at once (Salesforce's production limit), 100
// requests in flight, and 100 ms per synchronous call.
func RealisticLimits() LimitModel {
	return LimitModel{
		DailyAPIRequests:      org.DefaultDailyAPIRequests,
		DailyBulkAPIBatches:   org.DefaultDailyBulkAPIBatches,
		MaxConcurrentRequests: 100,
		SyncCallLatency:       100 * time.Millisecond,
		LongTxnThreshold:      DefaultLongTxnThreshold,
		MaxLongTxn:            25,
	}
}

func (m LimitModel) validate() error {
	if m.DailyAPIRequests < 0 || m.DailyBulkAPIBatches < 0 || m.MaxConcurrentRequests < 0 || m.MaxLongTxn < 0 ||
		m.SyncCallLatency < 0 || m.LongTxnThreshold < 0 {
		return fmt.Errorf("emulator: Config.Limits: negative value in %+v", m)
	}
	return nil
}

// meter counts the requests in progress for the limit model. Safe for concurrent use.
type meter struct {
	mu       sync.Mutex
	inflight int
	sync     map[*int]time.Time // synchronous calls in progress -> start
}

// applyLimitModel sets the daily maxima of the model on a new org.
func (s *Server) applyLimitModel() {
	m := s.cfg.Limits
	lim := s.org.Limits()
	if m.DailyAPIRequests > 0 {
		s.org.SetLimit(org.LimitDailyAPIRequests, m.DailyAPIRequests, max(0, m.DailyAPIRequests-(lim[org.LimitDailyAPIRequests].Max-lim[org.LimitDailyAPIRequests].Remaining)))
	}
	if m.DailyBulkAPIBatches > 0 {
		s.org.SetLimit(org.LimitDailyBulkAPIBatches, m.DailyBulkAPIBatches, max(0, m.DailyBulkAPIBatches-(lim[org.LimitDailyBulkAPIBatches].Max-lim[org.LimitDailyBulkAPIBatches].Remaining)))
	}
}

// admit takes a slot for an API request, or answers 503 when MaxConcurrentRequests are in
// progress. The caller calls the returned func when the request is done.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (func(), bool) {
	limit := s.cfg.Limits.MaxConcurrentRequests
	s.meter.mu.Lock()
	if limit > 0 && s.meter.inflight >= limit {
		s.meter.mu.Unlock()
		writeFamilyError(w, r, http.StatusServiceUnavailable, "SERVER_UNAVAILABLE",
			fmt.Sprintf("Server unavailable: the org is serving %d requests, its limit", limit))
		return nil, false
	}
	s.meter.inflight++
	s.meter.mu.Unlock()
	return func() {
		s.meter.mu.Lock()
		s.meter.inflight--
		s.meter.mu.Unlock()
	}, true
}

// isSyncCall reports whether a request is a synchronous call the long-running limit counts.
func isSyncCall(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/services/data/") && strings.Contains(r.URL.Path, "/composite")
}

// startSyncCall registers a synchronous call and waits its modelled latency, or answers
// REQUEST_LIMIT_EXCEEDED (ConcurrentPerOrgLongTxn) when MaxLongTxn calls are already
// long-running. The caller calls the returned func when the call is done.
func (s *Server) startSyncCall(w http.ResponseWriter, r *http.Request) (func(), bool) {
	m := s.cfg.Limits
	if m.MaxLongTxn == 0 && m.SyncCallLatency == 0 {
		return func() {}, true
	}
	threshold := m.LongTxnThreshold
	if threshold == 0 {
		threshold = DefaultLongTxnThreshold
	}
	now := s.clock.Now()
	var wait <-chan time.Time
	if m.SyncCallLatency > 0 {
		// Set before the call is registered: once SyncCallsInProgress counts it, moving a
		// fake clock ends its wait.
		wait = s.clock.After(m.SyncCallLatency)
	}
	key := new(int)
	s.meter.mu.Lock()
	long := 0
	for _, start := range s.meter.sync {
		if now.Sub(start) >= threshold {
			long++
		}
	}
	if m.MaxLongTxn > 0 && long >= m.MaxLongTxn {
		s.meter.mu.Unlock()
		writeFamilyError(w, r, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")
		return nil, false
	}
	if s.meter.sync == nil {
		s.meter.sync = map[*int]time.Time{}
	}
	s.meter.sync[key] = now
	s.meter.mu.Unlock()
	done := func() {
		s.meter.mu.Lock()
		delete(s.meter.sync, key)
		s.meter.mu.Unlock()
	}
	if wait != nil {
		select {
		case <-wait:
		case <-r.Context().Done():
		}
	}
	return done, true
}

// SyncCallsInProgress returns how many synchronous calls the limit model is timing (for
// tests that move a fake clock once the calls are waiting).
func (s *Server) SyncCallsInProgress() int {
	s.meter.mu.Lock()
	defer s.meter.mu.Unlock()
	return len(s.meter.sync)
}
