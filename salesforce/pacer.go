package salesforce

import (
	"context"
	"math"
	"sync"
	"time"
)

// pacer limits how many requests a client has in flight (a semaphore) and how fast requests
// start (a token bucket). One pacer serves all goroutines using a Client. A slot is held for
// one HTTP round trip: from sending the request until the response headers arrive.
type pacer struct {
	sem chan struct{} // nil = no concurrency cap

	mu       sync.Mutex
	interval time.Duration // time per token; 0 = no rate cap
	burst    float64
	tokens   float64
	last     time.Time
}

func newPacer(maxConcurrent int, rps float64) *pacer {
	p := &pacer{}
	if maxConcurrent > 0 {
		p.sem = make(chan struct{}, maxConcurrent)
	}
	if rps > 0 && !math.IsInf(rps, 1) {
		p.interval = time.Duration(float64(time.Second) / rps)
		p.burst = math.Max(1, math.Floor(rps))
		p.tokens = p.burst
	}
	return p
}

// acquire waits for a rate token and a concurrency slot, or until ctx ends.
func (p *pacer) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if p.interval > 0 {
		if err := Sleep(ctx, p.reserve(time.Now())); err != nil {
			return err
		}
	}
	if p.sem != nil {
		select {
		case p.sem <- struct{}{}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

// release frees the concurrency slot taken by acquire.
func (p *pacer) release() {
	if p.sem != nil {
		<-p.sem
	}
}

// reserve takes one token from the bucket and returns how long the caller must wait for it.
// Tokens may go negative: later callers queue behind earlier ones.
func (p *pacer) reserve(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.last.IsZero() {
		elapsed := now.Sub(p.last)
		if elapsed > 0 {
			p.tokens = math.Min(p.burst, p.tokens+float64(elapsed)/float64(p.interval))
		}
	}
	p.last = now
	p.tokens--
	if p.tokens >= 0 {
		return 0
	}
	return time.Duration(-p.tokens * float64(p.interval))
}
