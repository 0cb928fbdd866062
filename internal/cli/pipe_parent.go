package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// pipeParentPoll is how often pipe checks that its parent is still alive (on top of the
// parent-death signal where the OS offers one).
const pipeParentPoll = 250 * time.Millisecond

// errParentDied is the cause of a pipe run cancelled because its parent process ended.
var errParentDied = fmt.Errorf("the parent process ended: %w", context.Canceled)

// watchParent returns a context cancelled (with errParentDied as cause) when the process's
// parent dies: the OS's parent-death signal (Linux PR_SET_PDEATHSIG, delivered as SIGTERM,
// which Main already turns into cancellation) and, everywhere, a poll of the parent's pid,
// which changes when the process is re-parented. stop releases it.
func watchParent(parent context.Context) (context.Context, func()) {
	// Cancellation is passed on by hand, so that the cause says whether the parent died
	// (the parent-death signal arrives as an ordinary SIGTERM).
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(parent))
	ppid := os.Getppid()
	setParentDeathSignal()
	if os.Getppid() != ppid { // the parent died before the signal was set
		cancel(errParentDied)
		return ctx, func() { cancel(nil) }
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(pipeParentPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-parent.Done():
				if os.Getppid() != ppid {
					cancel(errParentDied)
				} else {
					cancel(context.Cause(parent))
				}
				return
			case <-t.C:
				if os.Getppid() != ppid {
					cancel(errParentDied)
					return
				}
			}
		}
	}()
	return ctx, func() {
		close(done)
		cancel(nil)
	}
}

// ctxReader reads r until ctx ends: a read blocked on a pipe whose writer is gone (or a
// parent that died holding it open) must not keep the process alive. The pending read's
// goroutine is abandoned when ctx ends; the process exits soon after. Used by one goroutine.
type ctxReader struct {
	ctx  context.Context
	r    io.Reader
	buf  []byte
	res  chan readResult
	data []byte // read and not yet returned
	err  error  // the error that ended the last read, returned once data is used up
}

type readResult struct {
	n   int
	err error
}

func newCtxReader(ctx context.Context, r io.Reader) *ctxReader {
	return &ctxReader{ctx: ctx, r: r, buf: make([]byte, pipeInputBuffer), res: make(chan readResult, 1)}
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.ctx.Err() != nil {
			return 0, context.Cause(c.ctx)
		}
		go func() {
			n, err := c.r.Read(c.buf)
			c.res <- readResult{n, err}
		}()
		select {
		case <-c.ctx.Done():
			return 0, context.Cause(c.ctx)
		case r := <-c.res:
			c.data, c.err = c.buf[:r.n], r.err
			if r.n == 0 {
				if c.err == nil {
					return 0, nil
				}
				return 0, c.err
			}
		}
	}
	n := copy(p, c.data)
	c.data = c.data[n:]
	return n, nil
}
