package org

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Names and default maxima of the limits the org counts (REST /limits keys).
const (
	LimitDailyAPIRequests              = "DailyApiRequests"
	LimitDailyBulkAPIBatches           = "DailyBulkApiBatches"
	LimitDailyBulkV2QueryJobs          = "DailyBulkV2QueryJobs"
	LimitDailyBulkV2QueryFileStorageMB = "DailyBulkV2QueryFileStorageMB"
	LimitDataStorageMB                 = "DataStorageMB"
	LimitFileStorageMB                 = "FileStorageMB"
	// LimitDailyBulkV2IngestRecords counts the records Bulk API 2.0 ingest
	// jobs process per 24 hours. Salesforce documents the allowance
	// (150,000,000 records) but exposes no /limits key for it; this name is
	// the emulator's own, chosen to match the DailyBulkV2QueryJobs family.
	LimitDailyBulkV2IngestRecords = "DailyBulkV2IngestRecords"

	DefaultDailyAPIRequests              = 15000
	DefaultDailyBulkAPIBatches           = 15000
	DefaultDailyBulkV2QueryJobs          = 10000
	DefaultDailyBulkV2QueryFileStorageMB = 976562
	DefaultDataStorageMB                 = 10240
	DefaultFileStorageMB                 = 1024
	// DefaultDailyBulkV2IngestRecords is Salesforce's allowance of Bulk API
	// 2.0 ingest records per rolling 24 hours (older documentation: 100 M).
	DefaultDailyBulkV2IngestRecords = 150_000_000

	// recordStorageKB is what Salesforce counts per record against data
	// storage.
	recordStorageKB = 2
)

// Limit is one entry of /limits.
type Limit struct {
	Max       int
	Remaining int
}

type limitState struct {
	max, used int
	daily     bool
}

// limits are the org's counters. Daily counters reset when the clock passes
// midnight UTC.
type limits struct {
	mu  sync.Mutex
	day time.Time
	m   map[string]*limitState
}

func (l *limits) init(now time.Time) {
	l.day = now.UTC().Truncate(24 * time.Hour)
	l.m = map[string]*limitState{
		LimitDailyAPIRequests:              {max: DefaultDailyAPIRequests, daily: true},
		LimitDailyBulkAPIBatches:           {max: DefaultDailyBulkAPIBatches, daily: true},
		LimitDailyBulkV2QueryJobs:          {max: DefaultDailyBulkV2QueryJobs, daily: true},
		LimitDailyBulkV2QueryFileStorageMB: {max: DefaultDailyBulkV2QueryFileStorageMB, daily: true},
		LimitDailyBulkV2IngestRecords:      {max: DefaultDailyBulkV2IngestRecords, daily: true},
		LimitDataStorageMB:                 {max: DefaultDataStorageMB},
		LimitFileStorageMB:                 {max: DefaultFileStorageMB},
	}
}

func (l *limits) rollLocked(now time.Time) {
	day := now.UTC().Truncate(24 * time.Hour)
	if !day.After(l.day) {
		return
	}
	l.day = day
	for _, s := range l.m {
		if s.daily {
			s.used = 0
		}
	}
}

// limitMessage is the REQUEST_LIMIT_EXCEEDED message for a limit.
func limitMessage(name string) string {
	switch name {
	case LimitDailyAPIRequests:
		return "TotalRequests Limit exceeded."
	case LimitDailyBulkAPIBatches:
		return "Exceeded max number of batches allowed in 24 hour period"
	case LimitDailyBulkV2QueryJobs:
		return "Exceeded max number of Bulk API 2.0 query jobs allowed in 24 hour period"
	case LimitDailyBulkV2IngestRecords:
		return "Exceeded max number of Bulk API 2.0 ingest records allowed in 24 hour period"
	}
	return name + " Limit exceeded."
}

// Limits returns every limit with its current Max and Remaining.
// DataStorageMB is derived from the number of records (2 KB each),
// FileStorageMB from the files stored (whole megabytes, rounded up).
func (o *Org) Limits() map[string]Limit {
	fileMB := int((o.FileStorageUsed() + 1<<20 - 1) >> 20)
	records := 0
	o.mu.RLock()
	for _, t := range o.tables {
		records += t.live
	}
	o.mu.RUnlock()
	l := &o.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rollLocked(o.clock.Now())
	out := make(map[string]Limit, len(l.m))
	for name, s := range l.m {
		used := s.used
		switch name {
		case LimitDataStorageMB:
			used += records * recordStorageKB / 1024
		case LimitFileStorageMB:
			used += fileMB
		}
		out[name] = Limit{Max: s.max, Remaining: max(s.max-used, 0)}
	}
	return out
}

// LimitNames returns the names of the counted limits, sorted.
func (o *Org) LimitNames() []string {
	o.limits.mu.Lock()
	defer o.limits.mu.Unlock()
	return slices.Sorted(maps.Keys(o.limits.m))
}

// Consume takes n units of a limit. When not enough remain it takes nothing
// and returns an *Error with REQUEST_LIMIT_EXCEEDED (REST answers 403).
// An unknown name is an error too.
func (o *Org) Consume(name string, n int) error {
	l := &o.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rollLocked(o.clock.Now())
	s, ok := l.m[name]
	if !ok {
		return fmt.Errorf("org: unknown limit %q", name)
	}
	if s.used+n > s.max {
		return newErr(CodeRequestLimitExceeded, limitMessage(name))
	}
	s.used += n
	return nil
}

// SetLimit sets a limit's maximum and what remains of it (for tests and
// fault injection); a new name adds a daily limit.
func (o *Org) SetLimit(name string, max, remaining int) {
	l := &o.limits
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.m[name]
	if !ok {
		s = &limitState{daily: true}
		l.m[name] = s
	}
	s.max, s.used = max, max-remaining
}
