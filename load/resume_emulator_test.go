package load_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

var errCrashed = errors.New("process killed")

// crashJournal records into a real jobstore and "kills the process" right after the n-th
// record of a given step: from then on nothing reaches the journal or the sink, the load's
// context is cancelled and the sink is never closed, as after kill -9.
type crashJournal struct {
	*jobstore.Store
	at     jobstore.JobState
	nth    int
	cancel context.CancelFunc

	mu      sync.Mutex
	seen    int
	crashed bool
}

func (j *crashJournal) dead() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.crashed
}

// after counts a recorded step and crashes on the n-th one of j.at.
func (j *crashJournal) after(state jobstore.JobState, err error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil || state != j.at {
		return err
	}
	j.seen++
	if j.seen == j.nth {
		j.crashed = true
		j.cancel()
	}
	return nil
}

func (j *crashJournal) RecordJob(ctx context.Context, r jobstore.JobRecord) error {
	if j.dead() {
		return errCrashed
	}
	st := r.State
	if st == "" {
		st = jobstore.JobCreated
	}
	if strings.HasPrefix(r.JobID, "creating-") {
		// A create request's placeholder: the n-th job created is the n-th real one.
		return j.Store.RecordJob(ctx, r)
	}
	return j.after(st, j.Store.RecordJob(ctx, r))
}

func (j *crashJournal) UpdateJobState(ctx context.Context, run, job string, st jobstore.JobState) error {
	if j.dead() {
		return errCrashed
	}
	return j.after(st, j.Store.UpdateJobState(ctx, run, job, st))
}

func (j *crashJournal) UpdateBatchState(ctx context.Context, run, job, batch string, st jobstore.JobState, msg string) error {
	if j.dead() {
		return errCrashed
	}
	return j.after(st, j.Store.UpdateBatchState(ctx, run, job, batch, st, msg))
}

func (j *crashJournal) MarkRowsDone(ctx context.Context, run string, first, last int64) error {
	if j.dead() {
		return errCrashed
	}
	return j.Store.MarkRowsDone(ctx, run, first, last)
}

func (j *crashJournal) SetBatchID(ctx context.Context, run, job, old, batch string, st jobstore.JobState) error {
	if j.dead() {
		return errCrashed
	}
	return j.after(st, j.Store.SetBatchID(ctx, run, job, old, batch, st))
}

func (j *crashJournal) FinishJob(ctx context.Context, run, job, batch string, done []jobstore.Range) error {
	if j.dead() {
		return errCrashed
	}
	return j.after(jobstore.JobResultsFetched, j.Store.FinishJob(ctx, run, job, batch, done))
}

// crashSink passes results to a CSVFiles sink until the crash, then loses them.
type crashSink struct {
	files *load.CSVFiles
	j     *crashJournal
}

func (s *crashSink) Start(h []string) error { return s.files.Start(h) }

func (s *crashSink) Write(r *load.RowResult) error {
	if s.j.dead() {
		return nil
	}
	return s.files.Write(r)
}

func (s *crashSink) Sync() error {
	if s.j.dead() {
		return errCrashed
	}
	return s.files.Sync()
}

// readResults reads results.csv and returns the outcome and id of every row, failing the
// test on a row listed twice.
func readResults(t *testing.T, dir string) map[int64][2]string {
	t.Helper()
	out := map[int64][2]string{}
	for row, r := range readResultsFull(t, dir) {
		out[row] = [2]string{r.outcome, r.id}
	}
	return out
}

// TestEmulatorResumeAfterCrash kills a load right after each irreversible step is recorded,
// resumes it from the journal and the part files on disk, and checks that every input row has
// exactly one outcome in results.csv and that no record was created twice.
func TestEmulatorResumeAfterCrash(t *testing.T) {
	t.Parallel()
	type tc struct {
		api  load.API
		at   jobstore.JobState
		nth  int
		conc int
	}
	var tests []tc
	for _, at := range []jobstore.JobState{jobstore.JobCreated, jobstore.JobUploaded, jobstore.JobClosed, jobstore.JobResultsFetched} {
		tests = append(tests, tc{load.Bulk2, at, 2, 2})
	}
	for _, at := range []jobstore.JobState{jobstore.JobCreated, jobstore.JobUploaded, jobstore.JobResultsFetched} {
		// One batch at a time: with several batches being added when the process dies, an
		// insert cannot tell which rows they carried (they end NotProcessed, never sent twice).
		tests = append(tests, tc{load.Bulk1, at, 2, 1})
	}
	// Several batches being added when the process dies: each is found among the job's
	// batches by its uploaded content (or known never added), so even an insert resumes
	// exactly.
	tests = append(tests, tc{load.Bulk1, jobstore.JobCreated, 3, 3})
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.api, tt.at), func(t *testing.T) {
			t.Parallel()
			srv, c := emulator(t)
			l := load.New(c)
			const n = 230
			rows := emuContacts(n, "R")
			dir := t.TempDir()
			store := insertRun(t, dir)
			opts := quick(load.Options{Object: "Contact", API: tt.api, BatchSize: 50, Concurrency: tt.conc, RunID: "r1"})

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
			// The process is gone: files is never closed.

			files, err = load.ResumeCSVSinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			again := opts
			again.Journal, again.Resume = store, true
			sum, err := l.Load(t.Context(), src(emuHeader, rows), files, again)
			if cerr := files.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatalf("resume: %v", err)
			}
			resumed := 0
			for _, j := range sum.Jobs {
				if j.Batch == -1 {
					resumed++
				}
			}
			switch {
			case tt.at == jobstore.JobUploaded || tt.at == jobstore.JobClosed:
				if resumed == 0 {
					t.Errorf("no job of the interrupted run was collected: %+v", sum.Jobs)
				}
			case tt.at == jobstore.JobCreated:
				// The job the crash left empty was aborted and its rows sent again.
				all, _ := store.Jobs(t.Context(), "r1")
				aborted := 0
				for _, j := range all {
					if j.State == jobstore.JobAborted && !strings.HasPrefix(j.JobID, "creating-") {
						aborted++
					}
				}
				if aborted == 0 {
					t.Errorf("no empty job aborted: %+v", all)
				}
			case tt.at == jobstore.JobResultsFetched && sum.Rows >= n:
				t.Errorf("resume read %d rows: none skipped", sum.Rows)
			}
			got := readResults(t, dir)
			ids := map[string]bool{}
			for i := int64(1); i <= n; i++ {
				r, ok := got[i]
				if !ok {
					t.Fatalf("row %d has no outcome (resume summary %+v)", i, sum)
				}
				if r[0] != "succeeded" || r[1] == "" || ids[r[1]] {
					t.Errorf("row %d: %v", i, r)
				}
				ids[r[1]] = true
			}
			if len(got) != n || srv.Count("Contact") != n {
				t.Fatalf("%d results, %d contacts in the org, want %d", len(got), srv.Count("Contact"), n)
			}
			if _, err := os.Stat(filepath.Join(dir, load.PartsDir)); !os.IsNotExist(err) {
				t.Errorf("part files left after Close: %v", err)
			}
			jobs, _ := store.OpenJobs(t.Context(), "r1")
			if len(jobs) != 0 {
				t.Errorf("jobs still open in the journal: %+v", jobs)
			}
		})
	}
}

// TestEmulatorResumeAbortsJobsCreatedUnrecorded kills a load (Concurrency 4) while three job
// create requests have reached Salesforce but their answers have not come back, as kill -9
// does to requests on their way: three Open jobs the journal never recorded. The resume
// aborts every one of them (the run left three create requests unanswered), and every row
// succeeds once.
func TestEmulatorResumeAbortsJobsCreatedUnrecorded(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	held := &heldCreates{base: srv.Client().Transport, want: 3}
	hc := *srv.Client()
	hc.Transport = held
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(&hc), salesforce.WithTokenSource(sessionTokens{srv}))
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	rows := emuContacts(n, "U")
	dir := t.TempDir()
	store := insertRun(t, dir)
	opts := quick(load.Options{Object: "Contact", API: load.Bulk2, BatchSize: 50, Concurrency: 4, Preflight: load.PreflightOff, RunID: "r1"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cj := &crashJournal{Store: store, at: jobstore.JobClosed, nth: 1, cancel: cancel}
	files, err := load.CSVSinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	first := opts
	first.Journal = cj
	if _, err := load.New(c).Load(ctx, src(emuHeader, rows), &crashSink{files, cj}, first); err == nil || !cj.dead() {
		t.Fatalf("first run: err %v, crashed %v", err, cj.dead())
	}
	// A new process: a client whose requests all get their answers.
	c, err = salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithTokenSource(sessionTokens{srv}))
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for j, err := range c.Bulk2.ListIngestJobs(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if j.State == salesforce.JobStateOpen {
			open++
		}
	}
	if open != 3 || held.n.Load() != 3 {
		t.Fatalf("the crash left %d Open jobs, %d create answers withheld; want 3", open, held.n.Load())
	}

	files, err = load.ResumeCSVSinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	again := opts
	again.Journal, again.Resume = store, true
	sum, err := load.New(c).Load(t.Context(), src(emuHeader, rows), files, again)
	if cerr := files.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if len(sum.UnclaimedJobs) != 0 {
		t.Errorf("unclaimed jobs: %v", sum.UnclaimedJobs)
	}
	checkFaultResults(t, c, dir, n, "U", false)
	got := readResults(t, dir)
	for i := int64(1); i <= n; i++ {
		if got[i][0] != "succeeded" {
			t.Errorf("row %d: %v", i, got[i])
		}
	}
	checkNoOpenJobs(t, c)
	if jobs, _ := store.OpenJobs(t.Context(), "r1"); len(jobs) != 0 {
		t.Errorf("jobs still open in the journal: %+v", jobs)
	}
}

// heldCreates lets the first Bulk API 2.0 job create through; the next ones reach the server
// but their answers are withheld until the request is cancelled, as for a process killed
// while they were on their way. A job close waits until want answers are withheld.
type heldCreates struct {
	base  http.RoundTripper
	want  int64
	first atomic.Bool
	n     atomic.Int64
}

func (h *heldCreates) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPatch {
		for end := time.Now().Add(10 * time.Second); h.n.Load() < h.want && time.Now().Before(end); {
			time.Sleep(time.Millisecond)
		}
	}
	create := req.Method == http.MethodPost && strings.HasSuffix(strings.TrimSuffix(req.URL.Path, "/"), "/jobs/ingest")
	if !create || h.first.CompareAndSwap(false, true) {
		return h.base.RoundTrip(req)
	}
	resp, err := h.base.RoundTrip(req.WithContext(context.WithoutCancel(req.Context())))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	h.n.Add(1)
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// insertRun opens run.db in dir with run "r1", an insert of Contacts, as a CLI run records it
// before it loads; the store is closed when the test ends.
func insertRun(t *testing.T, dir string) *jobstore.Store {
	t.Helper()
	store, err := jobstore.Open(t.Context(), filepath.Join(dir, "run.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.CreateRun(t.Context(), jobstore.Run{ID: "r1", Object: "Contact", Operation: "insert"}); err != nil {
		t.Fatal(err)
	}
	return store
}
