package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/zeebo/xxh3"
)

// A result file is read straight from its response: the join reads a resumableBody, which
// fetches the file again when the response breaks part way and goes on after the bytes
// already read (see openResult). A small result file fetched alongside a larger one is held
// in memory, or beyond resultSpoolMemory in a temporary file (see spoolResult).

// resultSpoolMemory is the most of one result file spoolResult holds in memory; a larger one
// goes to a temporary file.
const resultSpoolMemory = 1 << 20

// resultLostError is the error a result download ends with when it failed for good: every try
// failed, a failure was not transient, or a fetch to resume it returned a different file. The
// rows of a job not yet joined when it happens cannot be given their outcome.
type resultLostError struct{ err error }

func (e *resultLostError) Error() string { return e.err.Error() }
func (e *resultLostError) Unwrap() error { return e.err }

// errResultChanged is why a result file fetched again to resume a broken download is not
// used: it does not start with the bytes already read.
var errResultChanged = errors.New("the result file fetched again differs from the one read so far")

// resumableBody reads one result file as it arrives. When the response breaks part way (any
// read error but the context's end), the file is fetched again, up to MaxStepAttempts fetches
// in all with the step backoff between them: the new response's first bytes, as many as were
// already read, must hash to the same value (XXH3), and reading goes on after them. The bytes
// counted are those Read returned to its caller, whatever the caller buffers.
type resumableBody struct {
	ctx   context.Context
	r     *run
	what  string
	fetch func(context.Context) (io.ReadCloser, error)

	body   io.ReadCloser // the current response, nil when none
	n      int64         // bytes read so far
	sum    *xxh3.Hasher  // of those bytes
	tries  int           // fetches made, failed ones included
	broken error         // the current response's read error, not yet handled
	err    error         // the error every later Read returns
}

// openResult fetches a result file for reading as it arrives, trying again when the fetch
// fails transiently (the step retry policy). ctx governs every later fetch to resume it too.
// An error it returns, or Read returns, that is not the context's is a *resultLostError.
func (r *run) openResult(ctx context.Context, what string, fetch func(context.Context) (io.ReadCloser, error)) (*resumableBody, error) {
	b := &resumableBody{ctx: ctx, r: r, what: what, fetch: fetch, sum: xxh3.New()}
	if err := b.reopen(nil); err != nil {
		return nil, err
	}
	return b, nil
}

// Read reads the file, resuming it when its response breaks.
func (b *resumableBody) Read(p []byte) (int, error) {
	for {
		if b.err != nil {
			return 0, b.err
		}
		if b.broken != nil {
			cause := b.broken
			b.broken = nil
			if err := b.reopen(cause); err != nil {
				b.err = err
			}
			continue
		}
		n, err := b.body.Read(p)
		if n > 0 {
			b.sum.Write(p[:n])
			b.n += int64(n)
		}
		if err == nil || err == io.EOF {
			return n, err
		}
		b.broken = &salesforce.TransportError{Method: "GET", URL: b.what, Err: err}
		if n > 0 {
			return n, nil // the bytes read before the break count; the break is handled next
		}
	}
}

// Close closes the current response.
func (b *resumableBody) Close() error {
	if b.body == nil {
		return nil
	}
	err := b.body.Close()
	b.body = nil
	return err
}

// reopen fetches the file again after cause (nil for the first fetch) and reads past the
// bytes already read, checking they are the same.
func (b *resumableBody) reopen(cause error) error {
	r := b.r
	if b.body != nil {
		b.body.Close()
		b.body = nil
	}
	err := cause
	for {
		if err != nil {
			if b.ctx.Err() != nil {
				return err
			}
			if !transient(b.ctx, err) || b.tries >= MaxStepAttempts {
				return &resultLostError{err}
			}
			r.cfg.Logger.Warn("load: retrying a step", "step", "download "+b.what, "attempt", b.tries, "resume_at", b.n, "err", err)
			if werr := salesforce.Sleep(b.ctx, r.stepBackoff(b.tries)); werr != nil {
				return err
			}
		}
		b.tries++
		var body io.ReadCloser
		if body, err = b.fetch(b.ctx); err != nil {
			continue
		}
		if err = b.skip(body); err != nil {
			body.Close()
			continue
		}
		b.body = body
		return nil
	}
}

// skip reads the bytes already read from a new response of the file and checks they hash
// the same: a transient error when the response breaks, errResultChanged when the bytes
// differ or the file is shorter.
func (b *resumableBody) skip(body io.Reader) error {
	if b.n == 0 {
		return nil
	}
	h := xxh3.New()
	if _, err := io.CopyN(h, body, b.n); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: it has fewer than the %d bytes read", errResultChanged, b.n)
		}
		return &salesforce.TransportError{Method: "GET", URL: b.what, Err: err}
	}
	if h.Sum64() != b.sum.Sum64() {
		return fmt.Errorf("%w: its first %d bytes are not the same", errResultChanged, b.n)
	}
	return nil
}

// spoolResult downloads a result file whole (resuming it as openResult does), in memory up
// to resultSpoolMemory and in a temporary file beyond, and returns it for reading; Close
// removes the file.
func (r *run) spoolResult(ctx context.Context, what string, fetch func(context.Context) (io.ReadCloser, error)) (io.ReadCloser, error) {
	body, err := r.openResult(ctx, what, fetch)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	head, err := io.ReadAll(io.LimitReader(body, resultSpoolMemory+1))
	if err != nil {
		return nil, err
	}
	if len(head) <= resultSpoolMemory {
		return io.NopCloser(bytes.NewReader(head)), nil
	}
	f, err := os.Create(r.tempPath("results"))
	if err != nil {
		return nil, fmt.Errorf("load: result file: %w", err)
	}
	t := &tempFile{File: f}
	bw := bufio.NewWriterSize(f, resultDownloadBuffer)
	bw.Write(head) // an error sticks to bw and comes back from ReadFrom or Flush
	if _, err = bw.ReadFrom(body); err == nil {
		err = bw.Flush()
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		t.Close()
		var lost *resultLostError
		if errors.As(err, &lost) || ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("load: result file: %w", err)
	}
	return t, nil
}

// resultDownloadBuffer is the size of the join's read buffer, and of the buffer a result file
// spooled to disk is written through: a few large reads and system calls per job rather than
// one per 32 KiB.
const resultDownloadBuffer = 256 << 10

// tempFile is a file removed when closed.
type tempFile struct{ *os.File }

// Close closes and removes the file.
func (t *tempFile) Close() error {
	err := t.File.Close()
	os.Remove(t.File.Name())
	return err
}
