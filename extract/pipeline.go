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
	type slot struct {
		done     chan struct{}
		res      prepared
		err      error
		consumed bool
	}
	n := e.s.concurrency
	sem := make(chan struct{}, n)
	queue := make(chan *slot, n) // task order
	ready := make(chan *slot, n) // completion order
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		all      []*slot
		produced int
		prodErr  error
	)
	prodDone := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(prodDone)
		defer close(queue)
		for {
			t, ok, err := next(ctx)
			if err != nil || !ok {
				mu.Lock()
				prodErr = err
				mu.Unlock()
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			s := &slot{done: make(chan struct{})}
			mu.Lock()
			all = append(all, s)
			produced++
			mu.Unlock()
			if ordered {
				queue <- s // never blocks: at most n slots are unconsumed
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.res, s.err = t.prepare(ctx)
				close(s.done)
				if !ordered {
					ready <- s // never blocks: at most n slots are unconsumed
				}
			}()
		}
	}()
	defer func() {
		cancel()
		wg.Wait()
		for _, s := range all {
			if !s.consumed && s.res != nil {
				s.res.discard()
			}
		}
	}()
	consume := func(s *slot) error {
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
		<-sem
		return err
	}
	if ordered {
		for s := range queue {
			if err := consume(s); err != nil {
				return err
			}
		}
	} else {
		consumed := 0
		finished := prodDone
		for {
			if finished == nil {
				mu.Lock()
				left := produced - consumed
				mu.Unlock()
				if left == 0 {
					break
				}
			}
			select {
			case s := <-ready:
				consumed++
				if err := consume(s); err != nil {
					return err
				}
			case <-finished:
				finished = nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	<-prodDone
	if err := ctx.Err(); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return prodErr
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
