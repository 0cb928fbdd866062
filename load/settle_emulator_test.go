package load_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// writeRecorder is an http.RoundTripper that records every request that is not a read (any
// method but GET and HEAD): a settling run must send none.
type writeRecorder struct {
	rt     http.RoundTripper
	mu     sync.Mutex
	writes []string
}

func (w *writeRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.mu.Lock()
		w.writes = append(w.writes, r.Method+" "+r.URL.Path)
		w.mu.Unlock()
	}
	return w.rt.RoundTrip(r)
}

func (w *writeRecorder) sent() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.writes)
}

// TestEmulatorSettleAfterCrash kills a load right after an irreversible step is recorded (as
// kill -9 would), then settles the run (Options.Settle): no job is created, closed or aborted
// and no record written; every row has exactly one outcome, none not processed or failed that
// is in the org. A resumed load then finishes the run exactly.
func TestEmulatorSettleAfterCrash(t *testing.T) {
	t.Parallel()
	type tc struct {
		api  load.API
		at   jobstore.JobState
		nth  int
		conc int
	}
	tests := []tc{
		{load.Bulk2, jobstore.JobCreated, 2, 2},
		{load.Bulk2, jobstore.JobUploaded, 2, 2},
		{load.Bulk2, jobstore.JobClosed, 2, 2},
		{load.Bulk2, jobstore.JobResultsFetched, 2, 2},
		{load.Bulk1, jobstore.JobUploaded, 2, 1},
		{load.Bulk1, jobstore.JobCreated, 3, 3},
		{load.Collections, jobstore.JobUploaded, 2, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.api, tt.at), func(t *testing.T) {
			t.Parallel()
			srv, c := emulator(t)
			l := load.New(c)
			const n = 230
			rows := emuContacts(n, "S")
			dir := t.TempDir()
			store := insertRun(t, dir)
			opts := quick(load.Options{Object: "Contact", API: tt.api, BatchSize: 50, Concurrency: tt.conc, RunID: "r1", Preflight: load.PreflightOff})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			cj := &crashJournal{Store: store, at: tt.at, nth: tt.nth, cancel: cancel}
			files, err := load.CSVSinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			first := opts
			first.Journal, first.LeaveJobsOpen = cj, true
			if _, err := l.Load(ctx, src(emuHeader, rows), &crashSink{files, cj}, first); err == nil || !cj.dead() {
				t.Fatalf("first run: err %v, crashed %v", err, cj.dead())
			}
			// What settling sends is recorded at its client: the org itself may still change,
			// as Salesforce goes on processing what the crashed run sent (a batch it added, a
			// close it had in flight), which is not settling's doing.
			rec := &writeRecorder{rt: srv.Client().Transport}
			hc := *srv.Client()
			hc.Transport = rec
			sc, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(&hc), salesforce.WithAccessToken(srv.AccessToken()))
			if err != nil {
				t.Fatal(err)
			}

			files, err = load.ResumeCSVSinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			settle := opts
			settle.Journal, settle.Resume, settle.Settle = store, true, true
			if settle.Kept, err = files.Held(); err != nil {
				t.Fatal(err)
			}
			sum, err := load.New(sc).Load(t.Context(), src(emuHeader, rows), files, settle)
			files.Keep = true
			if cerr := files.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatalf("settle: %v", err)
			}
			if w := rec.sent(); len(w) > 0 {
				t.Errorf("settling sent requests that change the org: %v", w)
			}
			for _, j := range sum.Jobs {
				if j.Batch != -1 {
					t.Errorf("settling sent a job or call: %+v", j)
				}
			}
			checkFaultResults(t, c, dir, n, "S", false)

			files, err = load.ResumeCSVSinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			again := opts
			again.Journal, again.Resume = store, true
			_, err = l.Load(t.Context(), src(emuHeader, rows), files, again)
			if cerr := files.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatalf("resume after settling: %v", err)
			}
			for row, r := range readResults(t, dir) {
				if r[0] != "succeeded" {
					t.Errorf("row %d after the resume: %v", row, r)
				}
			}
			if got := srv.Count("Contact"); got != n {
				t.Errorf("%d contacts in the org, want %d", got, n)
			}
		})
	}
}

// TestEmulatorMatchBySince: Options.MatchBy counts only records created since the run
// started (MatchSince, less MatchSlack): a record like the row created long before is not a
// duplicate, one created since is.
func TestEmulatorMatchBySince(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	fake := clock.NewFake(start)
	srv := salesforcetest.New(t, salesforcetest.WithClock(fake))
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	header := []string{"LastName", "Title"}
	rows := [][]string{{"O'Brien", `R\D "lab"`}, {"Smith", "CEO"}, {"Jones", "CTO"}}
	// An old record like row 1, created an hour before the run.
	if _, err := srv.Insert(t.Context(), "Contact", map[string]any{"LastName": "O'Brien", "Title": `R\D "lab"`}); err != nil {
		t.Fatal(err)
	}
	fake.Advance(time.Hour)
	runStart := fake.Now()
	dir := t.TempDir()
	store := insertRun(t, dir)
	// The call is applied, its answer lost: every row unknown.
	if _, err := srv.AddFault(salesforcetest.Fault{Method: "POST", Path: "/services/data/*/composite/sobjects", Drop: true, After: true}); err != nil {
		t.Fatal(err)
	}
	opts := quick(load.Options{Object: "Contact", API: load.Collections, RunID: "r1", Preflight: load.PreflightOff})
	files, _ := load.CSVSinks(dir)
	first := opts
	first.Journal = store
	sum, err := load.New(c).Load(t.Context(), src(header, rows), files, first)
	files.Keep = true
	files.Close()
	if err != nil || sum.Unknown != 3 {
		t.Fatalf("first run: %v, %+v", err, sum)
	}
	// Someone creates a second Jones during the run.
	if _, err := srv.Insert(t.Context(), "Contact", map[string]any{"LastName": "Jones", "Title": "cto"}); err != nil {
		t.Fatal(err)
	}
	files, _ = load.ResumeCSVSinks(dir)
	settle := opts
	settle.Journal, settle.Resume, settle.Settle = store, true, true
	settle.MatchBy, settle.MatchSince = []string{"LastName", "Title"}, runStart
	if settle.Kept, err = files.Held(); err != nil {
		t.Fatal(err)
	}
	res := newResults(t)
	if _, err := load.New(c).Load(t.Context(), src(header, rows), load.MultiSink(files, res), settle); err != nil {
		t.Fatal(err)
	}
	files.Close()
	res.check(3)
	if r := res.byRow[1]; r.Outcome != load.Succeeded || r.ID == "" {
		t.Errorf("row 1 (one record since the run started, an older one before): %+v", r)
	}
	if r := res.byRow[2]; r.Outcome != load.Succeeded {
		t.Errorf("row 2: %+v", r)
	}
	if r := res.byRow[3]; r.Outcome != load.Unknown || r.Error == nil || !strings.Contains(r.Error.Message, "2 records match") {
		t.Errorf("row 3 (two records): %+v", r.Error)
	}
}

// TestEmulatorMatchBySplitsQueries: values long enough that one call's rows need several
// match queries (MaxMatchQueryChars) are all matched, each to its own record.
func TestEmulatorMatchBySplitsQueries(t *testing.T) {
	t.Parallel()
	srv, c := emulator(t)
	const n = 150
	header := []string{"LastName"}
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("%s'%03d", strings.Repeat("x", 70), i)}
	}
	dir := t.TempDir()
	store := insertRun(t, dir)
	if _, err := srv.AddFault(salesforcetest.Fault{Method: "POST", Path: "/services/data/*/composite/sobjects", Drop: true, After: true}); err != nil {
		t.Fatal(err)
	}
	opts := quick(load.Options{Object: "Contact", API: load.Collections, RunID: "r1", Journal: store, Preflight: load.PreflightOff})
	sum, err := load.New(c).Load(t.Context(), src(header, rows), nil, opts)
	if err != nil || sum.Unknown != n {
		t.Fatalf("first run: %v, %+v", err, sum)
	}
	settle := opts
	settle.Resume, settle.Settle, settle.MatchBy = true, true, []string{"LastName"}
	res := newResults(t)
	if _, err := load.New(c).Load(t.Context(), src(header, rows), res, settle); err != nil {
		t.Fatal(err)
	}
	res.check(n)
	ids := map[string]bool{}
	for row, r := range res.byRow {
		if r.Outcome != load.Succeeded || ids[r.ID] {
			t.Errorf("row %d: %+v", row, r)
		}
		ids[r.ID] = true
	}
	if n*75 < 2*load.MaxMatchQueryChars {
		t.Fatalf("the rows fit in one query: the test proves nothing")
	}
}
