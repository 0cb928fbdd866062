package load

import (
	"context"
	"errors"
	"io"

	"golang.org/x/sync/errgroup"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// runPass sends one pass's rows: the chunker cuts them into uploads, the pass runner sends
// each upload through the API's runner with bounded concurrency, and waits for them all.
func (r *run) runPass(ctx context.Context, pass int, src passSource) error {
	p, err := r.newPassRunner(ctx, pass)
	if err != nil {
		return err
	}
	inputErr := p.feed(src)
	return p.wait(ctx, inputErr)
}

// passRunner runs the chunks of one pass: at most Concurrency at once, each through the API's
// runner and then recorded as finished. In the first pass it also runs the jobs an
// interrupted load left in flight (Options.Resume) as their rows are read.
type passRunner struct {
	r      *run
	pass   int
	api    API
	runner runner
	chunks *chunker
	g      *errgroup.Group
	gctx   context.Context

	started int  // chunks started
	stopped bool // the API budget refused a chunk: nothing more is sent in this pass
}

func (r *run) newPassRunner(ctx context.Context, pass int) (*passRunner, error) {
	run, err := r.newRunner(r.api, pass)
	if err != nil {
		return nil, err
	}
	chunks, err := newChunker(r, r.api, pass)
	if err != nil {
		return nil, err
	}
	g, gctx := errgroup.WithContext(ctx)
	// The adaptive limit (r.ctrl) decides when a chunk starts; the group's limit is its ceiling,
	// in chunks of the smallest share of a slot (a Bulk API 2.0 job of one batch).
	g.SetLimit(r.cfg.Concurrency * slotBatches)
	if r.ctrl == nil {
		r.ctrl = newController(r.cfg.Concurrency, func(from, to int, cause string) {
			r.progress(Event{Kind: ConcurrencyChanged, API: r.api, Concurrency: to, PrevConcurrency: from, Cause: cause})
		})
	}
	return &passRunner{r: r, pass: pass, api: r.api, runner: run, chunks: chunks, g: g, gctx: gctx}, nil
}

// feed reads the pass's rows into chunks and starts each full chunk. It returns the input's
// error, if any; other failures are the group's.
func (p *passRunner) feed(src passSource) error {
	p.launchResumed()
	for p.gctx.Err() == nil && !p.stopped {
		row, err := src.next()
		p.launchResumed()
		if errors.Is(err, io.EOF) {
			if p.pass == 0 {
				if err := p.r.missingResumed(); err != nil {
					p.fail(err)
				}
			}
			break
		}
		if err != nil {
			p.flush()
			return err
		}
		if !p.add(row) {
			break
		}
	}
	p.flush()
	if p.stopped {
		return p.unsent(src)
	}
	return nil
}

// unsent gives the rows of the pass not read yet the outcome NotProcessed, after the API
// budget stopped the pass.
func (p *passRunner) unsent(src passSource) error {
	for {
		row, err := src.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p.r.emit(&RowResult{Row: row.num, Outcome: NotProcessed, Values: row.vals, Batch: -1, Attempts: row.attempts,
			Error: &RowError{StatusCode: StatusAPIShare, Message: "not sent: " + p.r.budget.why()}})
	}
}

// refuse gives the rows of a chunk the API budget did not let start the outcome
// NotProcessed, and stops the pass.
func (p *passRunner) refuse(c *chunk, why string) {
	r := p.r
	if !p.stopped {
		r.cfg.Logger.Warn("load: not sending more rows", "pass", p.pass, "why", why)
	}
	p.stopped = true
	c.forEach(r, func(i int, vals []string) {
		c.markResolved(i)
		m := c.rows[i]
		r.emit(&RowResult{Row: m.num, Outcome: NotProcessed, Values: vals, Batch: int(m.batch), Attempts: int(m.attempts),
			Error: &RowError{StatusCode: StatusAPIShare, Message: "not sent: " + why}})
	})
	r.dropChunk(c)
	r.reportDone(p.api, "", "")
}

// add prepares one row and hands it to the chunker; false stops the pass.
func (p *passRunner) add(row prow) bool {
	r := p.r
	if p.pass == 0 {
		row.batch = -1 // rows that fail before being sent belong to no batch
	}
	if r.cfg.Nulls == NullsWrite {
		for i, v := range row.vals {
			if v == "" {
				row.vals[i] = sfcsv.NullValue
			}
		}
	}
	if p.pass == 0 && r.check != nil {
		if e := r.check.rowError(row.num, r.header, row.vals); e != nil {
			r.emit(&RowResult{Row: row.num, Outcome: Failed, Values: row.vals, Batch: row.batch, Error: e})
			return true
		}
	}
	full, reject, err := p.chunks.add(row)
	if full != nil {
		p.submit(full)
	}
	if reject != nil {
		r.emit(&RowResult{Row: row.num, Outcome: Failed, Values: row.vals, Batch: row.batch, Attempts: row.attempts, Error: reject})
		return true
	}
	if err != nil {
		p.fail(err)
		return false
	}
	return true
}

// flush starts the chunk being filled, unless the pass is stopping.
func (p *passRunner) flush() {
	if c := p.chunks.flush(); c != nil && p.gctx.Err() == nil {
		p.submit(c)
	}
}

// submit starts a full chunk: its runner sends it and joins its results, then it is
// recorded as finished.
func (p *passRunner) submit(c *chunk) {
	if err := c.seal(); err != nil {
		p.fail(err)
		return
	}
	t, err := p.r.ctrl.acquireWeight(p.gctx, p.r.slotWeight(c))
	if err != nil {
		return // the pass is stopping: the chunk's rows were never sent
	}
	req, batches := p.r.cost(c, p.started == 0)
	if why := p.r.budget.start(t, req, batches); why != "" {
		t.drop()
		p.refuse(c, why)
		return
	}
	p.started++
	c.ticket = t
	p.g.Go(func() error {
		defer p.r.budget.done(t)
		defer t.release()
		ctx := p.r.observe(p.gctx, t)
		if err := p.runner.run(ctx, c); err != nil {
			return err
		}
		return p.r.finishChunk(ctx, c)
	})
}

// fail stops the pass with err.
func (p *passRunner) fail(err error) { p.g.Go(func() error { return err }) }

// launchResumed starts the jobs of an interrupted load whose rows have all been read.
func (p *passRunner) launchResumed() {
	if p.pass != 0 {
		return
	}
	for _, rj := range p.r.takeReady() {
		p.g.Go(func() error { return p.r.runResumed(p.gctx, rj) })
	}
}

// wait waits for every chunk, lets the runner finish (Bulk API 1.0 closes its job) and
// returns the pass's error: a failure first, then ctx's, then the input's.
func (p *passRunner) wait(ctx context.Context, inputErr error) error {
	r := p.r
	err := p.g.Wait()
	r.resolveOrphans(ctx)
	if ferr := p.runner.finish(ctx, err != nil); err == nil {
		err = ferr
	}
	if err == nil && p.pass == 0 && ctx.Err() == nil {
		r.finishResumed(ctx)
	}
	r.reportDone(p.api, "", "")
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	return inputErr
}

// finishChunk records a chunk whose rows all have their attempt's outcome: the sink's results
// are made durable, then the journal records the job finished with its done rows.
func (r *run) finishChunk(ctx context.Context, c *chunk) error {
	if err := r.sinkFailed(); err != nil {
		return err
	}
	if err := r.journal.finished(ctx, c); err != nil {
		return err
	}
	r.dropChunk(c)
	return nil
}
