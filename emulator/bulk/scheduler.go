package bulk

import (
	"context"
	"time"
)

// enqueueLocked makes w runnable. Caller holds s.mu. A Bulk API 2.0 ingest job to split
// goes to the splitter, not to the worker pool: Salesforce cuts a closed job into its
// internal batches outside the org's batch slots, and queues them in the order jobs were
// closed, so a job never waits for a slot (nor overtakes an earlier job) before its
// batches are queued.
func (s *Service) enqueueLocked(w *work) {
	if w.batch == nil && w.job.kind == kindV2Ingest {
		s.splits = append(s.splits, w.job)
		s.splitCond.Signal()
		return
	}
	s.pending = append(s.pending, w)
	s.cond.Signal()
}

// splitter splits closed Bulk API 2.0 ingest jobs into internal batches, one job at a time
// in the order they were closed, until the service closes.
func (s *Service) splitter() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		for len(s.splits) == 0 && !s.closed {
			s.splitCond.Wait()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		j := s.splits[0]
		s.splits[0] = nil
		s.splits = s.splits[1:]
		s.running[j]++ // counted by WaitIdle until its batches are queued
		s.mu.Unlock()
		s.splitUpload(s.ctx, j)
		s.done(&work{job: j})
	}
}

// next blocks until a runnable work item exists and claims it, or returns
// nil once the service is closed. A Serial job runs one item at a time, in
// the order its items were queued; everything else runs as soon as a worker
// is free.
func (s *Service) next() *work {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.closed {
			return nil
		}
		for i, w := range s.pending {
			if w.job.concurrency == "Serial" && s.running[w.job] > 0 {
				continue
			}
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			s.running[w.job]++
			if w.batch != nil && w.job.kind == kindV2Ingest && w.job.state == stateUploadComplete {
				// Salesforce starts processing the job with its first batch.
				s.jobStepLocked(w.job, jobStart, "")
			}
			return w
		}
		s.cond.Wait()
	}
}

// done releases a claimed work item.
func (s *Service) done(w *work) {
	s.mu.Lock()
	s.running[w.job]--
	if s.running[w.job] <= 0 {
		delete(s.running, w.job)
	}
	s.notifyLocked()
	s.cond.Broadcast()
	s.mu.Unlock()
}

func (s *Service) worker() {
	defer s.wg.Done()
	ctx := s.ctx
	for {
		w := s.next()
		if w == nil {
			return
		}
		switch {
		case w.batch == nil && w.job.kind == kindV2Query:
			s.runV2Query(ctx, w.job)
		case w.job.isQuery():
			s.runBulk1Query(ctx, w.batch)
		default:
			s.runIngestBatch(ctx, w.batch)
		}
		s.done(w)
	}
}

// sleep waits d on the service clock. It reports false if ctx ended first.
func (s *Service) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-s.clk.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}

// sleepUntil waits on the service clock until t (not at all when t has
// passed). It reports false when ctx ends first.
func (s *Service) sleepUntil(ctx context.Context, t time.Time) bool {
	return s.sleep(ctx, t.Sub(s.clk.Now()))
}

// startLatency is the Realistic profile's delay before a batch starts.
func (s *Service) startLatency() time.Duration {
	if r, ok := s.profile.(Realistic); ok {
		return r.BatchStartLatency
	}
	return 0
}

// recordCost is the Realistic profile's cost of n records.
func (s *Service) recordCost(n int) time.Duration {
	if r, ok := s.profile.(Realistic); ok {
		return r.PerRecordCost * time.Duration(n)
	}
	return 0
}

// resultPageLatency is the Realistic profile's delay before a Bulk API 2.0
// result page is served.
func (s *Service) resultPageLatency() time.Duration {
	if r, ok := s.profile.(Realistic); ok {
		return r.ResultPageLatency
	}
	return 0
}

// queryLatency is the Realistic profile's query execution time.
func (s *Service) queryLatency() time.Duration {
	if r, ok := s.profile.(Realistic); ok {
		return r.QueryLatency
	}
	return 0
}

// takeJobFault pops a pending FailNextJob message. Caller holds s.mu.
func (s *Service) takeJobFaultLocked() (string, bool) {
	if len(s.faults.failNextJobs) == 0 {
		return "", false
	}
	m := s.faults.failNextJobs[0]
	s.faults.failNextJobs = s.faults.failNextJobs[1:]
	return m, true
}

// takeQueryTimeoutLocked pops a pending QUERY_TIMEOUT fault. Caller holds s.mu.
func (s *Service) takeQueryTimeoutLocked() bool {
	if s.faults.queryTimeouts <= 0 {
		return false
	}
	s.faults.queryTimeouts--
	return true
}

// notifyLocked wakes WaitIdle callers. Caller holds s.mu.
func (s *Service) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}
