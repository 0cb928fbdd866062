package extract_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/emulator/bulk"
	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
	"github.com/sfbatch/sfbatch/sfcsv"
)

const contactQuery = "SELECT Id, LastName, Email FROM Contact"

// fixture is an emulator org holding n Contacts: LastName "Last%05d", Email
// set on even rows only.
type fixture struct {
	srv  *salesforcetest.Server
	c    *salesforce.Client
	ids  []string
	want [][]string // header + rows of contactQuery, sorted by Id
}

func newFixture(t testing.TB, n int, opts ...salesforce.Option) *fixture {
	t.Helper()
	srv := salesforcetest.New(t)
	f := &fixture{srv: srv}
	recs := make([]map[string]any, n)
	for i := range recs {
		r := map[string]any{"LastName": fmt.Sprintf("Last%05d", i), "FirstName": "F"}
		if i%2 == 0 {
			r["Email"] = fmt.Sprintf("c%d@example.com", i)
		}
		recs[i] = r
	}
	for chunk := range slices.Chunk(recs, 10000) {
		got, err := srv.Insert(t.Context(), "Contact", chunk...)
		if err != nil {
			t.Fatal(err)
		}
		f.ids = append(f.ids, got...)
	}
	for i, id := range f.ids {
		email := ""
		if i%2 == 0 {
			email = fmt.Sprintf("c%d@example.com", i)
		}
		f.want = append(f.want, []string{id, fmt.Sprintf("Last%05d", i), email})
	}
	slices.SortFunc(f.want, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	f.want = append([][]string{{"Id", "LastName", "Email"}}, f.want...)
	f.c = newClient(t, srv.URL(), srv, opts...)
	return f
}

func newClient(t testing.TB, url string, srv *salesforcetest.Server, opts ...salesforce.Option) *salesforce.Client {
	t.Helper()
	opts = append([]salesforce.Option{
		salesforce.WithHTTPClient(srv.Client()),
		salesforce.WithAccessToken(srv.AccessToken()),
	}, opts...)
	c, err := salesforce.New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	// Connections dialed for requests that were then cancelled sit unused;
	// closing them lets the emulator shut down without its grace period.
	t.Cleanup(srv.Client().CloseIdleConnections)
	return c
}

// fast returns opts with millisecond polling, for the emulator's instant
// processing.
func fast(o extract.Options) extract.Options {
	o.PollInterval = time.Millisecond
	o.MaxPollInterval = 10 * time.Millisecond
	return o
}

func readCSV(t *testing.T, b []byte, o sfcsv.ReaderOptions) [][]string {
	t.Helper()
	r := sfcsv.NewReader(bytes.NewReader(b), o)
	var out [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading output: %v", err)
		}
		out = append(out, rec)
	}
}

// sortedRows sorts data rows (not the header) by their first column.
func sortedRows(rows [][]string) [][]string {
	if len(rows) == 0 {
		return rows
	}
	body := slices.Clone(rows[1:])
	slices.SortFunc(body, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return append([][]string{rows[0]}, body...)
}

func TestRunAPIs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 257)
	tests := []struct {
		name      string
		opts      extract.Options
		wantAPI   extract.API
		wantPages int
		ordered   bool // output is in Id order (query has ORDER BY Id)
	}{
		{"bulk2 sequential pages", extract.Options{API: extract.APIBulk2, Concurrency: 1, PageSize: 50}, extract.APIBulk2, 6, true},
		{"bulk2 parallel pages ordered", extract.Options{API: extract.APIBulk2, Concurrency: 4, PageSize: 50}, extract.APIBulk2, 6, true},
		{"bulk2 parallel pages unordered", extract.Options{API: extract.APIBulk2, Concurrency: 3, PageSize: 30, Unordered: true}, extract.APIBulk2, 9, false},
		{"bulk2 one page", extract.Options{API: extract.APIBulk2}, extract.APIBulk2, 1, true},
		{"bulk2 tiny spool", extract.Options{API: extract.APIBulk2, PageSize: 100, SpoolMemory: 64}, extract.APIBulk2, 3, true},
		{"bulk2 id chunks", extract.Options{API: extract.APIBulk2, IDChunks: 5, PageSize: 20}, extract.APIBulk2, -1, true},
		{"bulk2 id chunks unordered", extract.Options{API: extract.APIBulk2, IDChunks: 7, Unordered: true}, extract.APIBulk2, -1, false},
		{"bulk1", extract.Options{API: extract.APIBulk1}, extract.APIBulk1, 1, true},
		{"bulk1 pk chunking", extract.Options{API: extract.APIBulk1, PKChunking: &salesforce.PKChunking{ChunkSize: 40}}, extract.APIBulk1, 7, false},
		{"bulk1 pk chunking unordered", extract.Options{API: extract.APIBulk1, Concurrency: 2, Unordered: true, PKChunking: &salesforce.PKChunking{ChunkSize: 100}}, extract.APIBulk1, 3, false},
		{"rest", extract.Options{API: extract.APIREST, PageSize: 200}, extract.APIREST, 1, true},
		{"auto small uses rest", extract.Options{}, extract.APIREST, 1, true},
		{"auto large uses bulk2", extract.Options{RESTMaxRows: 100}, extract.APIBulk2, -1, true},
		{"auto with id chunks uses bulk2", extract.Options{IDChunks: 3}, extract.APIBulk2, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := fast(tt.opts)
			opts.Query = contactQuery
			if tt.ordered && opts.IDChunks == 0 {
				opts.Query += " ORDER BY Id"
			}
			var out bytes.Buffer
			opts.Output = &out
			sum, err := extract.Run(t.Context(), f.c, opts)
			if err != nil {
				t.Fatal(err)
			}
			got := readCSV(t, out.Bytes(), sfcsv.ReaderOptions{})
			if !tt.ordered {
				got = sortedRows(got)
			}
			if diff := cmp.Diff(f.want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if sum.API != tt.wantAPI || sum.Rows != int64(len(f.ids)) {
				t.Errorf("summary API %s rows %d, want %s %d", sum.API, sum.Rows, tt.wantAPI, len(f.ids))
			}
			if tt.wantPages >= 0 && sum.Pages != tt.wantPages {
				t.Errorf("summary pages %d, want %d", sum.Pages, tt.wantPages)
			}
			if opts.IDChunks > 1 && len(sum.JobIDs) < 2 {
				t.Errorf("id chunking ran %d jobs, want several", len(sum.JobIDs))
			}
		})
	}
}

func TestRunPKChunkingWithParent(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	ctx := t.Context()
	accts := make([]map[string]any, 6)
	for i := range accts {
		accts[i] = map[string]any{"Name": fmt.Sprintf("Acct %d", i)}
	}
	aids, err := srv.Insert(ctx, "Account", accts...)
	if err != nil {
		t.Fatal(err)
	}
	var cons []map[string]any
	var want []string
	for i := range 30 {
		cons = append(cons, map[string]any{"LastName": fmt.Sprintf("C%02d", i), "AccountId": aids[i%len(aids)]})
		want = append(want, fmt.Sprintf("C%02d", i))
	}
	if _, err := srv.Insert(ctx, "Contact", cons...); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv.URL(), srv)
	var got []string
	for row, err := range extract.Rows(ctx, c, fast(extract.Options{
		Query: "SELECT LastName, AccountId FROM Contact", API: extract.APIBulk1,
		PKChunking: &salesforce.PKChunking{ChunkSize: 2, Parent: "Account"},
	})) {
		if err != nil {
			t.Fatal(err)
		}
		name, _ := row.Get("lastname")
		got = append(got, name)
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestRunQueryAllSeesDeleted(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 20)
	ctx := t.Context()
	var dels []org.WriteRequest
	for _, id := range f.ids[:5] {
		dels = append(dels, org.WriteRequest{Op: org.OpDelete, Object: "Contact", ID: id})
	}
	for _, r := range f.srv.Org().Write(ctx, f.srv.UserID(), dels, false) {
		if !r.Success {
			t.Fatalf("delete: %+v", r)
		}
	}
	for _, api := range []extract.API{extract.APIBulk2, extract.APIBulk1, extract.APIREST} {
		for _, all := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s all=%v", api, all), func(t *testing.T) {
				t.Parallel()
				n := 0
				deleted := 0
				for row, err := range extract.Rows(ctx, f.c, fast(extract.Options{
					Query: "SELECT Id, IsDeleted FROM Contact", API: api, All: all,
				})) {
					if err != nil {
						t.Fatal(err)
					}
					n++
					if v, _ := row.Get("IsDeleted"); v == "true" {
						deleted++
					}
				}
				wantN, wantDel := 15, 0
				if all {
					wantN, wantDel = 20, 5
				}
				if n != wantN || deleted != wantDel {
					t.Errorf("got %d rows (%d deleted), want %d (%d deleted)", n, deleted, wantN, wantDel)
				}
			})
		}
	}
}

func TestRunMalformedQuery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	for _, api := range []extract.API{extract.APIBulk2, extract.APIBulk1, extract.APIREST, extract.APIAuto} {
		t.Run(string(api), func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			_, err := extract.Run(t.Context(), f.c, fast(extract.Options{Query: "SELECT Id FORM Contact", API: api, Output: &out}))
			if err == nil {
				t.Fatal("no error for a malformed query")
			}
			if !strings.Contains(err.Error(), "FORM") || !strings.Contains(err.Error(), "Column:11") {
				t.Errorf("error %q does not name the token and its position", err)
			}
		})
	}
}

func TestRunQueryTimeoutFallsBackToPKChunking(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 30)
	f.srv.Bulk().FailQueriesWithTimeout(1)
	var out bytes.Buffer
	sum, err := extract.Run(t.Context(), f.c, fast(extract.Options{Query: contactQuery, API: extract.APIBulk1, Output: &out}))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.JobIDs) != 2 {
		t.Errorf("ran jobs %v, want the timed-out one and a PK-chunked one", sum.JobIDs)
	}
	if diff := cmp.Diff(f.want, sortedRows(readCSV(t, out.Bytes(), sfcsv.ReaderOptions{}))); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}

	f.srv.Bulk().FailQueriesWithTimeout(1)
	_, err = extract.Run(t.Context(), f.c, fast(extract.Options{Query: contactQuery, API: extract.APIBulk1, Output: io.Discard, NoPKChunkingFallback: true}))
	var je *extract.JobError
	if !errors.As(err, &je) || !strings.Contains(je.Message, "QUERY_TIMEOUT") {
		t.Errorf("without fallback: err = %v, want a *JobError with QUERY_TIMEOUT", err)
	}
}

func TestRunBulk2JobFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 3)
	f.srv.Bulk().FailQueriesWithTimeout(1)
	_, err := extract.Run(t.Context(), f.c, fast(extract.Options{Query: contactQuery, API: extract.APIBulk2, Output: io.Discard}))
	var je *extract.JobError
	if !errors.As(err, &je) || je.State != salesforce.JobStateFailed || je.JobID == "" {
		t.Fatalf("err = %v, want a *JobError for a Failed job", err)
	}
}

// truncatingProxy serves the emulator's handler, cutting in half the body of
// the from-th to to-th (1-based) GET requests whose path contains match. By
// default the response promises the full length (the client sees an
// unexpected EOF); with clean it ends cleanly after the last whole row.
func truncatingProxy(t *testing.T, srv *salesforcetest.Server, match string, from, to int64, clean ...bool) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var seen atomic.Int64
	var hits atomic.Int64
	h := srv.Emulator().Handler()
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, match) || r.Method != http.MethodGet {
			h.ServeHTTP(w, r)
			return
		}
		if n := seen.Add(1); n < from || n > to {
			h.ServeHTTP(w, r)
			return
		}
		hits.Add(1)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		cut := body[:len(body)/2]
		if len(clean) > 0 && clean[0] {
			// End cleanly at a row boundary (chunked encoding, no length).
			cut = cut[:bytes.LastIndexByte(cut, '\n')+1]
			w.Header().Del("Content-Length")
		} else {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		}
		w.WriteHeader(rec.Code)
		w.Write(cut)
		// The handler returns with fewer bytes than Content-Length: the
		// client sees an unexpected EOF.
	}))
	t.Cleanup(p.Close)
	return p, &hits
}

func TestRunRetriesTruncatedPages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		conc  int
		clean bool
	}{{1, false}, {3, false}, {1, true}, {3, true}} {
		conc := tc.conc
		t.Run(fmt.Sprintf("concurrency %d clean %v", tc.conc, tc.clean), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, 120)
			p, hits := truncatingProxy(t, f.srv, "/results", 1, 2, tc.clean)
			c := newClient(t, p.URL, f.srv)
			var out bytes.Buffer
			sum, err := extract.Run(t.Context(), c, fast(extract.Options{
				Query: contactQuery + " ORDER BY Id", API: extract.APIBulk2, Concurrency: conc, PageSize: 50, Output: &out,
			}))
			if err != nil {
				t.Fatal(err)
			}
			if hits.Load() != 2 {
				t.Errorf("%d truncated downloads, want 2", hits.Load())
			}
			if diff := cmp.Diff(f.want, readCSV(t, out.Bytes(), sfcsv.ReaderOptions{})); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if len(sum.JobIDs) != 1 {
				t.Errorf("jobs %v: a failed page must not restart the job", sum.JobIDs)
			}
		})
	}
}

func TestRunResumeAfterDroppedConnection(t *testing.T) {
	t.Parallel()
	for _, conc := range []int{1, 3} {
		t.Run(fmt.Sprint("concurrency ", conc), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, 100)
			// The third page download is cut off; with no retries the run
			// fails with a *DownloadError naming the job and where to resume.
			p, _ := truncatingProxy(t, f.srv, "/results", 3, 3)
			c := newClient(t, p.URL, f.srv, salesforce.WithRetry(salesforce.RetryPolicy{MaxAttempts: 1}))
			var out bytes.Buffer
			opts := fast(extract.Options{Query: contactQuery + " ORDER BY Id", API: extract.APIBulk2, Concurrency: conc, PageSize: 25, Retries: -1, KeepJobs: true})
			opts.Output = &out
			sum, err := extract.Run(t.Context(), c, opts)
			var de *extract.DownloadError
			if !errors.As(err, &de) || !de.Resumable {
				t.Fatalf("err = %v, want a resumable *DownloadError", err)
			}
			if de.Rows != sum.Rows || de.Resume.JobID != sum.JobIDs[0] || sum.Rows >= 100 {
				t.Fatalf("DownloadError %+v after %d rows", de, sum.Rows)
			}
			opts.Resume = &de.Resume
			sum2, err := extract.Run(t.Context(), c, opts)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Rows+sum2.Rows != 100 {
				t.Errorf("runs wrote %d + %d rows, want 100 in all", sum.Rows, sum2.Rows)
			}
			if diff := cmp.Diff(f.want, readCSV(t, out.Bytes(), sfcsv.ReaderOptions{})); diff != "" {
				t.Errorf("output after resume (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunCSVDialect(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	for _, d := range sfcsv.Delimiters() {
		t.Run(d.Name(), func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			_, err := extract.Run(t.Context(), f.c, fast(extract.Options{
				Query: contactQuery + " ORDER BY Id", API: extract.APIBulk2, Output: &out,
				CSV: sfcsv.WriterOptions{Delimiter: d, LineEnding: sfcsv.CRLF, BOM: true},
			}))
			if err != nil {
				t.Fatal(err)
			}
			b := out.Bytes()
			if !bytes.HasPrefix(b, []byte(sfcsv.BOM)) || !bytes.HasSuffix(b, []byte("\r\n")) || bytes.Count(b, []byte("\r\n")) != 11 {
				t.Errorf("output lacks the BOM or CRLF line endings: %q", b[:min(len(b), 80)])
			}
			if diff := cmp.Diff(f.want, readCSV(t, b, sfcsv.ReaderOptions{Delimiter: d})); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRowsStopsEarly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 60)
	n := 0
	for row, err := range extract.Rows(t.Context(), f.c, fast(extract.Options{Query: contactQuery + " ORDER BY Id", API: extract.APIBulk2, PageSize: 10})) {
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(f.want[0], row.Columns); diff != "" {
			t.Fatalf("columns (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(f.want[n+1], row.Values); diff != "" {
			t.Fatalf("row %d (-want +got):\n%s", n, diff)
		}
		n++
		if n == 15 {
			break
		}
	}
	if n != 15 {
		t.Errorf("got %d rows, want 15", n)
	}
}

func TestRunEmptyResult(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 3)
	for _, api := range []extract.API{extract.APIBulk2, extract.APIBulk1, extract.APIREST} {
		t.Run(string(api), func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			sum, err := extract.Run(t.Context(), f.c, fast(extract.Options{
				Query: contactQuery + " WHERE LastName = 'nobody'", API: api, Output: &out,
			}))
			if err != nil {
				t.Fatal(err)
			}
			if got := readCSV(t, out.Bytes(), sfcsv.ReaderOptions{}); sum.Rows != 0 || len(got) != 1 || !slices.Equal(got[0], f.want[0]) {
				t.Errorf("got %d rows, output %q; want only the header", sum.Rows, out.String())
			}
		})
	}
}

func TestRunProgress(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 45)
	var got []extract.Progress
	sum, err := extract.Run(t.Context(), f.c, fast(extract.Options{
		Query: contactQuery, API: extract.APIBulk2, Concurrency: 1, PageSize: 20, Output: io.Discard,
		Progress: func(p extract.Progress) { got = append(got, p) },
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d progress reports, want 3: %+v", len(got), got)
	}
	for i, p := range got {
		wantRows := int64(min(20*(i+1), 45))
		if p.Rows != wantRows || p.Pages != i+1 || p.JobID != sum.JobIDs[0] || p.API != extract.APIBulk2 || (p.Locator == "") != (i == 2) {
			t.Errorf("progress %d = %+v, want %d rows", i, p, wantRows)
		}
	}
}

func TestRunAutoCountFailureUsesBulk2(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5)
	if err := f.srv.FailNext(1, "GET", "/services/data/*/query*", 400, "QUERY_TIMEOUT"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sum, err := extract.Run(t.Context(), f.c, fast(extract.Options{Query: contactQuery + " ORDER BY Id", Output: &out}))
	if err != nil {
		t.Fatal(err)
	}
	if sum.API != extract.APIBulk2 {
		t.Errorf("API %s, want bulk2 after a failed count", sum.API)
	}
	if diff := cmp.Diff(f.want, readCSV(t, out.Bytes(), sfcsv.ReaderOptions{})); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestRunResumeWhileJobRuns(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2024, 5, 15, 12, 0, 0, 0, time.UTC))
	srv := salesforcetest.New(t, salesforcetest.WithClock(fake),
		salesforcetest.WithBulkOptions(bulk.Options{Profile: bulk.Realistic{QueryLatency: time.Hour}}))
	if _, err := srv.Insert(t.Context(), "Contact", map[string]any{"LastName": "A"}, map[string]any{"LastName": "B"}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv.URL(), srv)
	opts := fast(extract.Options{Query: "SELECT LastName FROM Contact ORDER BY LastName", API: extract.APIBulk2})
	var out bytes.Buffer
	opts.Output = &out
	// The job takes an hour of emulated time: give up after a few polls (long enough that the
	// job is created first even on a loaded machine).
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	sum, err := extract.Run(ctx, c, opts)
	var de *extract.DownloadError
	if !errors.As(err, &de) || !de.Resumable || de.Resume.JobID == "" || de.Resume.JobID != sum.JobIDs[0] || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a resumable *DownloadError wrapping the deadline", err)
	}
	for deadline := time.Now().Add(10 * time.Second); fake.Waiters() == 0; runtime.Gosched() {
		// The job's query waits on the emulated clock.
		if time.Now().After(deadline) {
			t.Fatal("the query job never waited on the emulated clock")
		}
	}
	fake.Advance(time.Hour)
	opts.Resume = &de.Resume
	if _, err := extract.Run(t.Context(), c, opts); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "LastName\nA\nB\n" {
		t.Errorf("output %q", got)
	}
}

// TestRunOnJob: OnJob hears each query job when it is created and each new state seen
// while polling, ending in the job's final state; for Bulk API 1.0, each batch's states too.
func TestRunOnJob(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 45)
	for _, api := range []extract.API{extract.APIBulk2, extract.APIBulk1} {
		var mu sync.Mutex
		var got []extract.JobEvent
		sum, err := extract.Run(t.Context(), f.c, fast(extract.Options{
			Query: contactQuery, API: api, Output: io.Discard,
			OnJob: func(e extract.JobEvent) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, e)
			},
		}))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < 2 || got[0].JobID != sum.JobIDs[0] || got[0].BatchID != "" || got[0].API != api {
			t.Fatalf("%s: job events %+v", api, got)
		}
		last := got[len(got)-1]
		switch api {
		case extract.APIBulk2:
			if last.State != salesforce.JobStateJobComplete || last.BatchID != "" {
				t.Errorf("bulk2: last event %+v, want JobComplete", last)
			}
		case extract.APIBulk1:
			if last.State != salesforce.BatchStateCompleted || last.BatchID == "" {
				t.Errorf("bulk1: last event %+v, want a batch Completed", last)
			}
		}
	}
}
