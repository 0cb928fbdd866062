package extract

import (
	"context"
	"sync"
	"time"
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

// pipeline runs up to e.s.concurrency tasks' prepare phases at once and
// consumes their results in task order (or in completion order when
// e.s.Unordered). A worker slot is released only when its result has been
// consumed, so at most concurrency results exist at any time.
func (e *engine) pipeline(ctx context.Context, tasks []task, ordered bool) error {
	if len(tasks) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type slot struct {
		done chan struct{}
		res  prepared
		err  error
	}
	slots := make([]*slot, len(tasks))
	for i := range slots {
		slots[i] = &slot{done: make(chan struct{})}
	}
	sem := make(chan struct{}, e.s.concurrency)
	ready := make(chan int, len(tasks))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, t := range tasks {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := t.prepare(ctx)
				slots[i].res, slots[i].err = res, err
				close(slots[i].done)
				ready <- i
			}()
		}
	}()
	consumed := make([]bool, len(tasks))
	defer func() {
		cancel()
		wg.Wait()
		for i, s := range slots {
			if consumed[i] {
				continue
			}
			select {
			case <-s.done:
				if s.res != nil {
					s.res.discard()
				}
			default:
			}
		}
	}()
	for n := range tasks {
		i := n
		if !ordered {
			select {
			case i = <-ready:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		s := slots[i]
		select {
		case <-s.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		consumed[i] = true
		if s.err != nil {
			if s.res != nil {
				s.res.discard()
			}
			return s.err
		}
		err := s.res.consume(ctx)
		s.res.discard()
		<-sem
		if err != nil {
			return err
		}
	}
	return nil
}

// wait waits d or until ctx is done.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// poll calls check until it reports done, waiting e.s.poll at first and
// half as long again each time, up to e.s.maxPoll. There is no overall
// timeout: only ctx ends the polling.
func (e *engine) poll(ctx context.Context, check func() (bool, error)) error {
	d := e.s.poll
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		if err := wait(ctx, d); err != nil {
			return err
		}
		d = min(d+d/2, e.s.maxPoll)
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
