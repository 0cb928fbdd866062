package load

import (
	"context"
	"iter"
)

// Results runs the load and yields each row's result as it becomes known, in completion
// order. After the last row it yields (nil, err) once if the load ended with an error (the
// same error Load returns). Stopping the iteration early cancels the load, which aborts its
// open jobs unless opts.LeaveJobsOpen. Each yielded *RowResult is a new value the caller may
// keep. While the caller handles a result the load waits for it.
func (l *Loader) Results(ctx context.Context, src Source, opts Options) iter.Seq2[*RowResult, error] {
	return func(yield func(*RowResult, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type item struct {
			r   *RowResult
			ack chan struct{}
		}
		items := make(chan item)
		done := make(chan error, 1)
		stopped := make(chan struct{})
		go func() {
			_, err := l.Load(ctx, src, SinkFunc(func(r *RowResult) error {
				ack := make(chan struct{})
				select {
				case items <- item{r, ack}:
				case <-stopped:
					return context.Canceled
				}
				select {
				case <-ack:
					return nil
				case <-stopped:
					return context.Canceled
				}
			}), opts)
			done <- err
		}()
		for {
			select {
			case it := <-items:
				ok := yield(it.r, nil)
				if !ok {
					close(stopped)
					cancel()
					<-done
					return
				}
				close(it.ack)
			case err := <-done:
				if err != nil {
					yield(nil, err)
				}
				return
			}
		}
	}
}
