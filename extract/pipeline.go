package extract

import (
	"context"
	"sync"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
)

// prepared is the result of a task's background phase.
type prepared interface {
	// consume runs in the engine's goroutine and emits rows.
	consume(ctx context.Context) error
	// discard releases resources of a result that will not be consumed.
	discard()
}

// task is one unit of a pipeline: prepare runs in a worker goroutine (a
// download into a spool, a query job run to completion); its result is
// consumed in the engine's goroutine.
type task struct {
	name    string
	prepare func(ctx context.Context) (prepared, error)
}

// source produces a pipeline's tasks in order; ok is false after the last.
// It is called from one goroutine at a time and may block (to poll).
type source func(ctx context.Context) (t task, ok bool, err error)

// sliceSource yields tasks in order.
func sliceSource(tasks []task) source {
	return func(context.Context) (task, bool, error) {
		if len(tasks) == 0 {
			return task{}, false, nil
		}
		t := tasks[0]
		tasks = tasks[1:]
		return t, true, nil
	}
}

// pipeline runs up to e.s.concurrency tasks' prepare phases at once and
// consumes their results in task order (or in completion order when not
// ordered). A worker slot is released only when its result has been
// consumed, so at most concurrency results exist at any time. An error from
// next is returned after the tasks produced before it have been consumed.
func (e *engine) pipeline(ctx context.Context, next source, ordered bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := newPipe(next, ordered, e.s.concurrency)
	p.wg.Add(1)
	go p.produce(ctx)
	defer p.stop(cancel)
	var err error
	if ordered {
		err = p.consumeOrdered(ctx)
	} else {
		err = p.consumeUnordered(ctx)
	}
	if err != nil {
		return err
	}
	<-p.prodDone
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.prodErr
}

// slot is one task's place in a pipeline, from its start to its consumption.
type slot struct {
	done     chan struct{} // closed when prepare returned
	res      prepared
	err      error
	consumed bool
}

// pipe is the state of one pipeline run: a producer goroutine starts tasks as worker slots
// free up, and the caller's goroutine consumes their results.
type pipe struct {
	next    source
	ordered bool
	sem     chan struct{} // worker slots
	queue   chan *slot    // task order (ordered)
	ready   chan *slot    // completion order (unordered)
	wg      sync.WaitGroup

	prodDone chan struct{} // closed when the producer returned
	mu       sync.Mutex    // guards the fields below
	all      []*slot
	produced int
	prodErr  error
}

func newPipe(next source, ordered bool, n int) *pipe {
	return &pipe{next: next, ordered: ordered, sem: make(chan struct{}, n),
		queue: make(chan *slot, n), ready: make(chan *slot, n), prodDone: make(chan struct{})}
}

// produce takes tasks from next and starts each one's prepare when a worker slot is free.
func (p *pipe) produce(ctx context.Context) {
	defer p.wg.Done()
	defer close(p.prodDone)
	defer close(p.queue)
	for {
		t, ok, err := p.next(ctx)
		if err != nil || !ok {
			p.mu.Lock()
			p.prodErr = err
			p.mu.Unlock()
			return
		}
		select {
		case p.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		s := &slot{done: make(chan struct{})}
		p.mu.Lock()
		p.all = append(p.all, s)
		p.produced++
		p.mu.Unlock()
		if p.ordered {
			p.queue <- s // never blocks: at most n slots are unconsumed
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			s.res, s.err = t.prepare(ctx)
			close(s.done)
			if !p.ordered {
				p.ready <- s // never blocks: at most n slots are unconsumed
			}
		}()
	}
}

// stop cancels the run, waits for every goroutine and discards results never consumed.
func (p *pipe) stop(cancel context.CancelFunc) {
	cancel()
	p.wg.Wait()
	for _, s := range p.all {
		if !s.consumed && s.res != nil {
			s.res.discard()
		}
	}
}

// consume waits for a slot's prepare, consumes its result and frees its worker slot.
func (p *pipe) consume(ctx context.Context, s *slot) error {
	select {
	case <-s.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.consumed = true
	if s.err != nil {
		if s.res != nil {
			s.res.discard()
		}
		return s.err
	}
	err := s.res.consume(ctx)
	s.res.discard()
	<-p.sem
	return err
}

// consumeOrdered consumes results in task order.
func (p *pipe) consumeOrdered(ctx context.Context) error {
	for s := range p.queue {
		if err := p.consume(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// consumeUnordered consumes results as they complete, until the producer has finished and
// every task it produced is consumed.
func (p *pipe) consumeUnordered(ctx context.Context) error {
	consumed := 0
	finished := p.prodDone
	for {
		if finished == nil {
			p.mu.Lock()
			left := p.produced - consumed
			p.mu.Unlock()
			if left == 0 {
				return nil
			}
		}
		select {
		case s := <-p.ready:
			consumed++
			if err := p.consume(ctx, s); err != nil {
				return err
			}
		case <-finished:
			finished = nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waiterOptions gives a job waiter the extraction's poll intervals.
func (e *engine) waiterOptions(o *salesforce.WaiterOptions) {
	o.MinDelay, o.MaxDelay = e.s.poll, e.s.maxPoll
}

// jobEvent passes a job's (or batch's) state to Options.OnJob.
func (e *engine) jobEvent(api API, jobID, batchID, state string) {
	if e.s.OnJob != nil && jobID != "" {
		e.s.OnJob(JobEvent{API: api, JobID: jobID, BatchID: batchID, State: state})
	}
}

// jobWaiterOptions are waiterOptions that also report the job's new states to OnJob.
func (e *engine) jobWaiterOptions(api API, jobID string) func(*salesforce.WaiterOptions) {
	return func(o *salesforce.WaiterOptions) {
		e.waiterOptions(o)
		if e.s.OnJob != nil {
			o.OnPoll = func(p salesforce.JobProgress) {
				if p.Changed {
					e.jobEvent(api, jobID, "", p.State)
				}
			}
		}
	}
}

// backoff is the wait before retry attempt n (1-based) of a download.
func (e *engine) backoff(n int) time.Duration {
	d := e.s.poll
	for range n - 1 {
		d = min(d*2, e.s.maxPoll)
	}
	return d
}
