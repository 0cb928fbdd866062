package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
)

// cutBody serves data a few hundred bytes per Read and then ends with err (io.EOF when nil),
// given together with the last bytes as an HTTP body may. Once ctx (when set) ends, a read
// fails. block, when set, is waited on before the first byte past blockAt.
type cutBody struct {
	data    []byte
	err     error
	off     int
	blockAt int
	block   <-chan struct{}
	ctx     context.Context
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.ctx != nil && b.ctx.Err() != nil {
		return 0, b.ctx.Err() // as an HTTP response body does once its request's context ends
	}
	if b.block != nil && b.off >= b.blockAt {
		select {
		case <-b.block:
		case <-b.ctx.Done():
			return 0, b.ctx.Err()
		}
	}
	end := min(len(b.data), b.off+min(len(p), 777))
	if b.block != nil && b.off < b.blockAt {
		end = min(end, b.blockAt)
	}
	n := copy(p, b.data[b.off:end])
	b.off += n
	if b.off < len(b.data) {
		return n, nil
	}
	if b.err == nil {
		return n, io.EOF
	}
	return n, b.err
}

func (b *cutBody) Close() error { return nil }

// resetErr is a connection reset, as a broken HTTP response body reports it.
var resetErr = &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}

// breaking returns a fetch of data whose fetch n (0-based) breaks after cuts[n] bytes, a
// fetch past the cuts serving data whole; with changed, every fetch after the first serves
// changed instead. fetches counts the fetches.
func breaking(data, changed []byte, cuts []int, fetches *int) func(context.Context) (io.ReadCloser, error) {
	return func(ctx context.Context) (io.ReadCloser, error) {
		n := *fetches
		*fetches++
		d := data
		if changed != nil && n > 0 {
			d = changed
		}
		if n < len(cuts) {
			var err error = resetErr
			if n%2 == 1 {
				err = io.ErrUnexpectedEOF
			}
			return &cutBody{data: d[:cuts[n]], err: err}, nil
		}
		return &cutBody{data: d}, nil
	}
}

func testRun(t *testing.T) *run {
	return newInputRun(t, fastOptions(Options{}), []string{"LastName"})
}

func resultData(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("sf__Id,sf__Created,LastName\n")
	for i := range rows {
		fmt.Fprintf(&b, "003%015d,true,\"Name %d\"\n", i, i)
	}
	return b.Bytes()
}

func TestResumableBodyResumesWhereItBroke(t *testing.T) {
	t.Parallel()
	data := resultData(20_000)
	for _, tc := range []struct {
		name string
		cuts []int
	}{
		{"whole", nil},
		{"before the first byte", []int{0}},
		{"mid record", []int{1001, 1001, 250_000}},
		{"four times", []int{0, 70_000, 70_001, len(data) - 1}},
		{"after the last byte", []int{len(data)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fetches := 0
			b, err := testRun(t).openResult(t.Context(), "successfulResults of job J", breaking(data, nil, tc.cuts, &fetches))
			if err != nil {
				t.Fatal(err)
			}
			// A reader that buffers ahead, as the join's scanner does.
			got, err := io.ReadAll(bufio.NewReaderSize(b, 64<<10))
			if err != nil {
				t.Fatal(err)
			}
			b.Close()
			if !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes, not the %d of the file", len(got), len(data))
			}
			if fetches != len(tc.cuts)+1 {
				t.Errorf("%d fetches, want %d", fetches, len(tc.cuts)+1)
			}
		})
	}
}

func TestResumableBodyFailsForGood(t *testing.T) {
	t.Parallel()
	data := resultData(5_000)
	other := bytes.Replace(data, []byte("Name 7\""), []byte("Name X\""), 1)
	for _, tc := range []struct {
		name        string
		changed     []byte
		cuts        []int
		fetch       error // every fetch fails so
		wantFetches int
		wantChanged bool
	}{
		{name: "every try breaks", cuts: []int{10, 20, 30, 40, 50, 60}, wantFetches: MaxStepAttempts},
		{name: "fetched again changed", changed: other, cuts: []int{10_000}, wantFetches: 2, wantChanged: true},
		{name: "fetched again shorter", changed: data[:5000], cuts: []int{10_000}, wantFetches: 2, wantChanged: true},
		{name: "not found", fetch: &salesforce.APIError{StatusCode: 404, ErrorCode: "NOT_FOUND"}, wantFetches: 1},
		{name: "server errors", fetch: &salesforce.APIError{StatusCode: 500, ErrorCode: "UNKNOWN_EXCEPTION"}, wantFetches: MaxStepAttempts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fetches := 0
			fetch := breaking(data, tc.changed, tc.cuts, &fetches)
			if tc.fetch != nil {
				fetch = func(context.Context) (io.ReadCloser, error) { fetches++; return nil, tc.fetch }
			}
			b, err := testRun(t).openResult(t.Context(), "successfulResults of job J", fetch)
			var got []byte
			if err == nil {
				got, err = io.ReadAll(bufio.NewReader(b))
				b.Close()
			}
			var lost *resultLostError
			if !errors.As(err, &lost) {
				t.Fatalf("err = %v (%T), want a *resultLostError", err, err)
			}
			if errors.Is(err, errResultChanged) != tc.wantChanged {
				t.Errorf("err = %v, changed = %v", err, tc.wantChanged)
			}
			if !bytes.Equal(got, data[:len(got)]) {
				t.Error("the bytes read before the failure are not the file's")
			}
			if fetches != tc.wantFetches {
				t.Errorf("%d fetches, want %d", fetches, tc.wantFetches)
			}
		})
	}
}

func TestResumableBodyCancelled(t *testing.T) {
	t.Parallel()
	data := resultData(5_000)
	ctx, cancel := context.WithCancel(t.Context())
	fetches := 0
	b, err := testRun(t).openResult(ctx, "successfulResults of job J", func(ctx context.Context) (io.ReadCloser, error) {
		fetches++
		return &cutBody{data: data, ctx: ctx, blockAt: 30_000, block: make(chan struct{})}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 100)
		for n := 0; n < 30_000; {
			k, _ := b.Read(buf)
			n += k
		}
		cancel()
	}()
	<-ctx.Done()
	_, err = io.ReadAll(b)
	var lost *resultLostError
	if !errors.Is(err, context.Canceled) || errors.As(err, &lost) {
		t.Fatalf("err = %v, want the context's end", err)
	}
	if fetches != 1 {
		t.Errorf("%d fetches after the context ended, want 1", fetches)
	}
}

func TestSpoolResult(t *testing.T) {
	t.Parallel()
	r := testRun(t)
	for _, tc := range []struct {
		rows   int
		cuts   []int
		inFile bool
	}{
		{rows: 10},
		{rows: 1000, cuts: []int{500, 20_000}},
		{rows: 200_000, cuts: []int{resultSpoolMemory - 3, resultSpoolMemory + 100, 3 * resultSpoolMemory}, inFile: true},
	} {
		data := resultData(tc.rows)
		fetches := 0
		body, err := r.spoolResult(t.Context(), "failedResults of job J", breaking(data, nil, tc.cuts, &fetches))
		if err != nil {
			t.Fatal(err)
		}
		tf, inFile := body.(*tempFile)
		if inFile != tc.inFile {
			t.Errorf("%d bytes: in a file = %v, want %v", len(data), inFile, tc.inFile)
		}
		got, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		body.Close()
		if !bytes.Equal(got, data) {
			t.Errorf("%d bytes: read %d, not the file", len(data), len(got))
		}
		if inFile {
			if _, err := os.Stat(tf.Name()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the spooled file is left after Close: %v", err)
			}
		}
	}
	fetches := 0
	_, err := r.spoolResult(t.Context(), "failedResults of job J", breaking(resultData(100), nil, []int{1, 2, 3, 4, 5}, &fetches))
	var lost *resultLostError
	if !errors.As(err, &lost) {
		t.Errorf("err = %v, want a *resultLostError", err)
	}
	if ents, _ := os.ReadDir(r.dir); len(ents) != 0 {
		t.Errorf("files left in the load's directory: %v", ents)
	}
}

// breakingBulk2 serves the fake org's Bulk API 2.0 result files through responses that break:
// fetch n (0-based) of a file breaks after cut(kind, n, size) bytes, or none when that is
// negative; with changed, a fetch after the first serves the file changed.
type breakingBulk2 struct {
	fakeBulk2
	cut     func(kind string, n, size int) int
	changed func(kind string, data []byte) []byte
	// onRead, when set, runs before each read of a successful-results file.
	onRead func()

	mu      sync.Mutex
	fetches map[string]int // job id/kind -> fetches
}

// readCounted reads a result file whole and counts its fetch under key in fetches: n is how
// many fetches of it came before this one.
func readCounted(mu *sync.Mutex, fetches map[string]int, key string, body io.Reader) (data []byte, n int, err error) {
	if data, err = io.ReadAll(body); err != nil {
		return nil, 0, err
	}
	mu.Lock()
	defer mu.Unlock()
	n = fetches[key]
	fetches[key]++
	return data, n, nil
}

func (b *breakingBulk2) serve(ctx context.Context, kind, id string, body io.ReadCloser, err error) (io.ReadCloser, error) {
	if err != nil {
		return nil, err
	}
	data, n, err := readCounted(&b.mu, b.fetches, id+"/"+kind, body)
	if err != nil {
		return nil, err
	}
	if b.changed != nil && n > 0 {
		data = b.changed(kind, data)
	}
	cb := &cutBody{data: data, ctx: ctx}
	if k := b.cut(kind, n, len(data)); k >= 0 && k <= len(data) {
		cb.data, cb.err = data[:k], resetErr
	}
	if b.onRead != nil && kind == resultsSuccessful {
		return &hookBody{cb, b.onRead}, nil
	}
	return cb, nil
}

type hookBody struct {
	io.ReadCloser
	hook func()
}

func (h *hookBody) Read(p []byte) (int, error) {
	h.hook()
	return h.ReadCloser.Read(p)
}

func (b *breakingBulk2) SuccessfulResults(ctx context.Context, id string) (io.ReadCloser, error) {
	body, err := b.fakeBulk2.SuccessfulResults(ctx, id)
	return b.serve(ctx, resultsSuccessful, id, body, err)
}

func (b *breakingBulk2) FailedResults(ctx context.Context, id string) (io.ReadCloser, error) {
	body, err := b.fakeBulk2.FailedResults(ctx, id)
	return b.serve(ctx, resultsFailed, id, body, err)
}

func (b *breakingBulk2) UnprocessedRecords(ctx context.Context, id string) (io.ReadCloser, error) {
	body, err := b.fakeBulk2.UnprocessedRecords(ctx, id)
	return b.serve(ctx, resultsUnprocessed, id, body, err)
}

// breakingLoader is the fake org's loader with bb's result files.
func breakingLoader(t *testing.T, f *fakeOrg, bb *breakingBulk2) *Loader {
	l := f.loader(t)
	bb.fakeBulk2, bb.fetches = fakeBulk2{f, t}, map[string]int{}
	l.bulk2 = bb
	return l
}

// withFailures returns rows of which every 9th lacks its LastName (REQUIRED_FIELD_MISSING).
func withFailures(rows [][]string) (failed int) {
	for i := range rows {
		if i%9 == 4 {
			rows[i][1] = ""
			failed++
		}
	}
	return failed
}

func TestBulk2ResultsBreakPartWay(t *testing.T) {
	t.Parallel()
	const n = 3000
	// Each file breaks four times (the fifth fetch, the last MaxStepAttempts allows, reads
	// it to the end): before its first byte, mid record, and near its end.
	cuts := func(kind string, i, size int) int {
		switch i {
		case 0:
			return 0
		case 1:
			return size / 3
		case 2:
			return size/3 + 1
		case 3:
			return size - 1
		}
		return -1
	}
	f := newFakeOrg()
	bb := &breakingBulk2{cut: cuts}
	rows := contacts(n, "B")
	failed := withFailures(rows)
	col := newCollector(t)
	sum, err := breakingLoader(t, f, bb).Load(t.Context(), rowsSource(contactHeader, rows), col,
		fastOptions(Options{Object: "Contact", API: Bulk2, BatchSize: 1000, Preflight: PreflightOff}))
	if err != nil {
		t.Fatal(err)
	}
	col.check(n)
	if sum.Succeeded != n-int64(failed) || sum.Failed != int64(failed) || sum.Unknown != 0 {
		t.Errorf("summary %+v, want %d failed and the rest succeeded", sum, failed)
	}
	if got := f.count("Contact"); got != n-failed {
		t.Errorf("org has %d contacts, want %d", got, n-failed)
	}
	for _, j := range sum.Jobs {
		if j.Unmatched != 0 {
			t.Errorf("job %s: %d result rows matched no row (read twice)", j.JobID, j.Unmatched)
		}
	}
	for k, v := range bb.fetches {
		if v != MaxStepAttempts {
			t.Errorf("%s fetched %d times, want %d", k, v, MaxStepAttempts)
		}
	}
}

func TestBulk2ResultsLostPartWay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cut     func(kind string, i, size int) int
		changed func(kind string, data []byte) []byte
	}{
		{name: "every fetch breaks", cut: func(kind string, i, size int) int {
			if kind != resultsSuccessful {
				return -1
			}
			return size / 2
		}},
		{name: "fetched again changed", cut: func(kind string, i, size int) int {
			if kind != resultsSuccessful || i > 0 {
				return -1
			}
			return size / 2
		}, changed: func(kind string, data []byte) []byte {
			// The same rows, in another order: a different file.
			lines := strings.SplitAfter(string(data), "\n")
			body := lines[1 : len(lines)-1]
			for i, j := 0, len(body)-1; i < j; i, j = i+1, j-1 {
				body[i], body[j] = body[j], body[i]
			}
			return []byte(strings.Join(lines, ""))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const n = 2000
			f := newFakeOrg()
			bb := &breakingBulk2{cut: tc.cut, changed: tc.changed}
			rows := contacts(n, "L")
			failed := withFailures(rows)
			col := newCollector(t)
			sum, err := breakingLoader(t, f, bb).Load(t.Context(), rowsSource(contactHeader, rows), col,
				fastOptions(Options{Object: "Contact", API: Bulk2, BatchSize: 1000, Preflight: PreflightOff}))
			if err != nil {
				t.Fatal(err)
			}
			col.check(n) // exactly one outcome each: none joined twice
			// Rows joined before the break keep their outcome; failed rows come from their own
			// file; the rest of the successful rows are unknown.
			if sum.Failed != int64(failed) || sum.Succeeded == 0 || sum.Unknown == 0 || sum.Succeeded+sum.Unknown != n-int64(failed) {
				t.Errorf("summary %+v", sum)
			}
			for i, r := range col.byRow {
				if r.Outcome == Unknown && (r.Error == nil || r.Error.StatusCode != StatusOutcomeUnknown) {
					t.Errorf("row %d: %+v", i, r.Error)
				}
			}
			if got := f.count("Contact"); got != n-failed {
				t.Errorf("org has %d contacts, want %d", got, n-failed)
			}
			for _, j := range sum.Jobs {
				if j.Unmatched != 0 {
					t.Errorf("job %s: %d result rows matched no row (read twice)", j.JobID, j.Unmatched)
				}
			}
		})
	}
}

func TestBulk2ResultsCancelledMidStream(t *testing.T) {
	t.Parallel()
	const n = 2000
	f := newFakeOrg()
	ctx, cancel := context.WithCancel(t.Context())
	var reads sync.Mutex
	count := 0
	bb := &breakingBulk2{cut: func(string, int, int) int { return -1 }, onRead: func() {
		reads.Lock()
		defer reads.Unlock()
		if count++; count == 20 {
			cancel()
		}
	}}
	col := newCollector(t)
	sum, err := breakingLoader(t, f, bb).Load(ctx, rowsSource(contactHeader, contacts(n, "X")), col,
		fastOptions(Options{Object: "Contact", API: Bulk2, BatchSize: 1000, Concurrency: 1, Preflight: PreflightOff}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the cancellation", err)
	}
	col.check(n)
	if sum.Succeeded == 0 || sum.Succeeded == n {
		t.Errorf("summary %+v: want the rows joined before the cancellation succeeded, not all", sum)
	}
	bb.mu.Lock()
	defer bb.mu.Unlock()
	for k, v := range bb.fetches {
		if v != 1 {
			t.Errorf("%s fetched %d times after the cancellation", k, v)
		}
	}
}

// breakingBulk1 serves the fake org's Bulk API 1.0 batch results through responses that
// break after cut(n, size) bytes on fetch n (0-based), none when negative.
type breakingBulk1 struct {
	fakeBulk1
	cut     func(n, size int) int
	mu      sync.Mutex
	fetches map[string]int
}

func (b *breakingBulk1) BatchResults(ctx context.Context, jobID, batchID string) (io.ReadCloser, error) {
	body, err := b.fakeBulk1.BatchResults(ctx, jobID, batchID)
	if err != nil {
		return nil, err
	}
	data, n, err := readCounted(&b.mu, b.fetches, batchID, body)
	if err != nil {
		return nil, err
	}
	cb := &cutBody{data: data}
	if k := b.cut(n, len(data)); k >= 0 && k <= len(data) {
		cb.data, cb.err = data[:k], resetErr
	}
	return cb, nil
}

func TestBulk1ResultsBreakPartWay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		breaks int
	}{{"resumed", MaxStepAttempts - 1}, {"lost", MaxStepAttempts}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const n = 1200
			f := newFakeOrg()
			l := f.loader(t)
			bb := &breakingBulk1{fakeBulk1: fakeBulk1{f, t}, fetches: map[string]int{}, cut: func(i, size int) int {
				if i < tc.breaks {
					return size * (i + 1) / (tc.breaks + 2)
				}
				return -1
			}}
			l.bulk1 = bb
			rows := contacts(n, "O")
			failed := withFailures(rows)
			col := newCollector(t)
			sum, err := l.Load(t.Context(), rowsSource(contactHeader, rows), col,
				fastOptions(Options{Object: "Contact", API: Bulk1, BatchSize: 400, Preflight: PreflightOff}))
			if err != nil {
				t.Fatal(err)
			}
			col.check(n)
			if tc.breaks < MaxStepAttempts {
				if sum.Succeeded != n-int64(failed) || sum.Failed != int64(failed) || sum.Unknown != 0 {
					t.Errorf("summary %+v", sum)
				}
				return
			}
			if sum.Succeeded == 0 || sum.Unknown == 0 || sum.Succeeded+sum.Failed+sum.Unknown != n {
				t.Errorf("summary %+v: want the rows before the break known, the rest unknown", sum)
			}
		})
	}
}
