package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/sfbatch/sfbatch/load"
)

// plainProgressEvery is how often progress lines are printed when the output
// is not a terminal.
const plainProgressEvery = 5 * time.Second

// loadProgress turns the engine's events into progress bars (on a terminal)
// or periodic plain lines (otherwise). Event only updates counters; a
// goroutine draws, so the engine is never slowed down by the terminal.
type loadProgress struct {
	label      string
	read, done atomic.Int64
	failed     atomic.Int64
	retried    atomic.Int64
	inputBytes atomic.Int64 // bytes of the input file consumed so far
	totalBytes int64        // size of the input file, 0 if unknown

	mu   sync.Mutex
	jobs map[string]string // job/batch id -> state, for the in-flight count

	stop chan struct{}
	wg   sync.WaitGroup
}

// Event records one engine event.
func (p *loadProgress) Event(e load.Event) {
	switch e.Kind {
	case load.RowsRead:
		p.read.Store(e.Total)
	case load.RowsDone:
		p.done.Store(e.Total)
		if e.Outcome == load.Failed || e.Outcome == load.NotProcessed || e.Outcome == load.Unknown {
			p.failed.Add(e.Rows)
		}
	case load.RowsRetried:
		p.retried.Add(e.Rows)
	case load.JobState:
		key := e.JobID + "/" + e.BatchID
		p.mu.Lock()
		if p.jobs == nil {
			p.jobs = map[string]string{}
		}
		p.jobs[key] = e.State
		p.mu.Unlock()
	}
}

func (p *loadProgress) inFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, s := range p.jobs {
		switch s {
		case "JobComplete", "Completed", "Failed", "Aborted", "Not Processed", "Done":
		default:
			n++
		}
	}
	return n
}

// countingReader counts the bytes read through it, for the read bar.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// start begins drawing to w until finish is called.
func (p *loadProgress) start(ctx context.Context, w io.Writer, tty bool) {
	p.stop = make(chan struct{})
	p.wg.Add(1)
	if tty {
		go p.drawBars(ctx, w)
	} else {
		go p.drawLines(w)
	}
}

// finish stops drawing and waits for the last frame.
func (p *loadProgress) finish() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
}

func (p *loadProgress) drawLines(w io.Writer) {
	defer p.wg.Done()
	t := time.NewTicker(plainProgressEvery)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			el := time.Since(start).Seconds()
			done := p.done.Load()
			fmt.Fprintf(w, "%s: %d rows read, %d done (%d failed), %d jobs in flight, %.0f rows/s\n",
				p.label, p.read.Load(), done, p.failed.Load(), p.inFlight(), float64(done)/el)
		}
	}
}

func (p *loadProgress) drawBars(ctx context.Context, w io.Writer) {
	defer p.wg.Done()
	// The caller decided to draw (a terminal), so refresh even if w is not
	// detected as one (tests, some terminal multiplexers).
	pr := mpb.NewWithContext(ctx, mpb.WithOutput(w), mpb.WithWidth(36), mpb.WithRefreshRate(150*time.Millisecond), mpb.WithAutoRefresh())
	readTotal := p.totalBytes
	readBar := pr.AddBar(readTotal,
		mpb.PrependDecorators(decor.Name(p.label+" read ", decor.WC{W: 22}), decor.Any(func(decor.Statistics) string {
			return fmt.Sprintf("%d rows", p.read.Load())
		}, decor.WC{W: 14})),
		mpb.AppendDecorators(decor.Percentage(decor.WC{W: 5})),
	)
	doneBar := pr.AddBar(0,
		mpb.PrependDecorators(decor.Name(p.label+" done ", decor.WC{W: 22}), decor.Any(func(decor.Statistics) string {
			return fmt.Sprintf("%d rows", p.done.Load())
		}, decor.WC{W: 14})),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string {
				return fmt.Sprintf("%d failed  %d jobs in flight  ", p.failed.Load(), p.inFlight())
			}),
			decor.AverageSpeed(0, "%.0f rows/s", decor.WC{W: 14}),
			decor.Name("  ETA "),
			decor.AverageETA(decor.ET_STYLE_MMSS),
		),
	)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	update := func() {
		if readTotal > 0 {
			readBar.SetCurrent(min(p.inputBytes.Load(), readTotal))
		}
		read := p.read.Load()
		doneBar.SetTotal(max(read, 1), false)
		doneBar.SetCurrent(p.done.Load())
	}
	for {
		select {
		case <-p.stop:
			update()
			if readTotal > 0 {
				readBar.SetTotal(readTotal, true)
			} else {
				readBar.SetTotal(max(p.read.Load(), 1), true)
			}
			doneBar.SetTotal(max(p.done.Load(), 1), true)
			pr.Wait()
			return
		case <-t.C:
			update()
		}
	}
}
