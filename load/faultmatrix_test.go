package load_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	emu "github.com/sfbatch/sfbatch/emulator"
	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// faultMatrixRows is the rows of each cell of the fault matrix; SFBATCH_FAULT_MATRIX_ROWS
// changes it (scripts/fault-matrix runs larger inputs through the CLI).
func faultMatrixRows(t *testing.T) int {
	if v := os.Getenv("SFBATCH_FAULT_MATRIX_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("SFBATCH_FAULT_MATRIX_ROWS=%q", v)
		}
		return n
	}
	if testing.Short() {
		return 2_000
	}
	return 20_000
}

// A fault cell: one API, one request, one way of failing it.
type faultCell struct {
	api   load.API
	op    load.Operation // "" = insert
	step  string         // the request faulted
	fault salesforcetest.Fault
}

// requestPaths are the requests of each API's load, as emulator path patterns.
// A body names a request by its content where the path does not: a Bulk API 1.0 close and
// abort are both POST .../job/{id}.
var requestPaths = map[load.API][]struct{ step, method, path, body string }{
	load.Bulk2: {
		{"create", "POST", "/services/data/*/jobs/ingest", ""},
		{"upload", "PUT", "/services/data/*/jobs/ingest/*/batches", ""},
		{"close", "PATCH", "/services/data/*/jobs/ingest/*", ""},
		{"poll", "GET", "/services/data/*/jobs/ingest/*", ""},
		{"results", "GET", "/services/data/*/jobs/ingest/*/successfulResults*", ""},
	},
	load.Bulk1: {
		{"create", "POST", "/services/async/*/job", ""},
		{"batch-add", "POST", "/services/async/*/job/{id}/batch", ""},
		{"close", "POST", "/services/async/*/job/{id}", "Closed"},
		{"poll", "GET", "/services/async/*/job/*/batch/*", ""},
		{"results", "GET", "/services/async/*/job/*/batch/*/result", ""},
	},
	load.Collections: {
		{"insert", "POST", "/services/data/*/composite/sobjects", ""},
	},
}

// faultKinds are the ways a request fails: refused or dropped before the server did the work,
// or answered with an error or cut off after it did (the answer is lost).
var faultKinds = []struct {
	name string
	f    salesforcetest.Fault
}{
	{"500", salesforcetest.Fault{Status: 500}},
	{"drop", salesforcetest.Fault{Drop: true}},
	{"500-after", salesforcetest.Fault{Status: 500, After: true}},
	{"drop-after", salesforcetest.Fault{Drop: true, After: true}},
}

// TestFaultMatrix loads through every API under every fault that applies to its requests,
// a session that expires mid-run, Ctrl-C and a crash (kill -9) followed by a resume, and
// checks for each cell: every row has exactly one outcome in results.csv; no row labelled
// failed or not processed is in the org; every succeeded row is, and nothing else is but rows
// of unknown outcome; reloading unprocessed.csv duplicates nothing; no job is left Open.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	n := faultMatrixRows(t)
	for _, api := range []load.API{load.Bulk2, load.Bulk1, load.Collections} {
		for _, req := range requestPaths[api] {
			for _, k := range faultKinds {
				f := k.f
				f.Method, f.Path, f.BodyContains, f.Times = req.method, req.path, req.body, 2
				cell := faultCell{api: api, step: req.step, fault: f}
				t.Run(fmt.Sprintf("%s/%s/%s", api, req.step, k.name), func(t *testing.T) {
					t.Parallel()
					runFaultCell(t, cell, n, "")
				})
			}
		}
		if api == load.Collections {
			// Upsert is idempotent: a call whose answer was lost is sent again and its answers
			// read through the settlement table.
			for _, k := range faultKinds {
				f := k.f
				f.Method, f.Path, f.Times = "PATCH", "/services/data/*/composite/sobjects/*", 2
				cell := faultCell{api: api, op: load.Upsert, step: "upsert", fault: f}
				t.Run(fmt.Sprintf("%s/upsert/%s", api, k.name), func(t *testing.T) {
					t.Parallel()
					runFaultCell(t, cell, n, "")
				})
			}
		}
		t.Run(fmt.Sprintf("%s/session-expiry", api), func(t *testing.T) {
			t.Parallel()
			runFaultCell(t, faultCell{api: api}, n, "expire")
		})
		t.Run(fmt.Sprintf("%s/ctrl-c+resume", api), func(t *testing.T) {
			t.Parallel()
			runFaultCell(t, faultCell{api: api}, n, "cancel")
		})
		t.Run(fmt.Sprintf("%s/kill+resume", api), func(t *testing.T) {
			t.Parallel()
			runFaultCell(t, faultCell{api: api}, n, "kill")
		})
		t.Run(fmt.Sprintf("%s/restart+resume", api), func(t *testing.T) {
			t.Parallel()
			// Half the rows: the org persists every record in its data file, which costs
			// these cells twice the time of the others (the matrix has a CI budget).
			runFaultCell(t, faultCell{api: api}, n/2, "restart")
		})
	}
}

// sessionTokens hands out the emulator's session, a new one after ExpireSessions.
type sessionTokens struct{ srv *salesforcetest.Server }

func (s sessionTokens) Token(context.Context) (*salesforce.Token, error) {
	return &salesforce.Token{AccessToken: s.srv.AccessToken(), InstanceURL: s.srv.URL()}, nil
}

// liveTokens hands out the session of whichever emulator currently serves the org: the one
// started again over the same data file after a restart.
type liveTokens struct {
	srv atomic.Pointer[salesforcetest.Server]
}

func (s *liveTokens) Token(context.Context) (*salesforce.Token, error) {
	srv := s.srv.Load()
	return &salesforce.Token{AccessToken: srv.AccessToken(), InstanceURL: srv.URL()}, nil
}

// runFaultCell runs one cell; interrupt is "" (the fault only), "expire" (sessions expire
// mid-run), "cancel" (Ctrl-C mid-run, then --resume), "kill" (the process dies after a job
// was closed, then --resume) or "restart" (the org goes down mid-load, the load ends, the
// org comes back at the same address with the same data file, certificate and sessions, as
// a real org does, then --resume).
func runFaultCell(t *testing.T, cell faultCell, n int, interrupt string) {
	var srvOpts []salesforcetest.Option
	dataFile := ""
	if interrupt == "restart" {
		dataFile = filepath.Join(t.TempDir(), "org.db")
		srvOpts = append(srvOpts, salesforcetest.WithDataFile(dataFile))
	}
	srv := salesforcetest.New(t, srvOpts...)
	tokens := &liveTokens{}
	tokens.srv.Store(srv)
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithTokenSource(tokens),
		salesforce.WithRetry(salesforce.RetryPolicy{MaxAttempts: 3, MinBackoff: 1e6, MaxBackoff: 5e6}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	prefix := "M"
	rows := emuContacts(n, prefix)
	batch := map[load.API]int{load.Bulk2: n / 4, load.Bulk1: max(n/10, 1), load.Collections: 200}[cell.api]
	opts := quick(load.Options{Object: "Contact", API: cell.api, BatchSize: batch, Concurrency: 4, Preflight: load.PreflightOff, RunID: "r1"})
	op := "insert"
	if cell.op == load.Upsert {
		opts.Operation, opts.ExternalIDField, op = load.Upsert, "External_Id__c", "upsert"
	}
	dir := t.TempDir()
	store, err := jobstore.Open(ctx, filepath.Join(dir, "run.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.CreateRun(ctx, jobstore.Run{ID: "r1", Object: "Contact", Operation: op}); err != nil {
		t.Fatal(err)
	}
	faultID := 0
	if cell.fault.Method != "" {
		if faultID, err = srv.AddFault(cell.fault); err != nil {
			t.Fatal(err)
		}
	}
	files, err := load.CSVSinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	first := opts
	first.Journal = store
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var sink load.Sink = files
	var done atomic.Int64
	first.Progress = load.ProgressFunc(func(e load.Event) {
		if e.Kind != load.RowsDone {
			return
		}
		switch d := done.Add(e.Rows); {
		case interrupt == "expire" && d >= int64(n/3) && d-e.Rows < int64(n/3):
			srv.ExpireSessions()
		case interrupt == "cancel" && d >= int64(n/3):
			cancel()
		}
	})
	var cj *crashJournal
	if interrupt == "kill" {
		cj = &crashJournal{Store: store, at: jobstore.JobClosed, nth: 2, cancel: cancel}
		if cell.api == load.Collections {
			cj.at = jobstore.JobUploaded
			cj.nth = max(n/batch/3, 2)
		}
		if cell.api == load.Bulk1 {
			cj.at, cj.nth = jobstore.JobUploaded, 3
		}
		first.Journal = cj
		sink = &crashSink{files, cj}
	}
	var dj *downJournal
	if interrupt == "restart" {
		// The org goes down right after a step is recorded, with jobs processing and rows
		// still to send: Close waits for the requests in progress, as a restart that drains
		// its connections does, and every later request is refused.
		dj = &downJournal{Store: store, at: jobstore.JobClosed, nth: 2, down: func() {
			if err := srv.Close(); err != nil {
				t.Errorf("stop the emulator: %v", err)
			}
		}}
		switch cell.api {
		case load.Collections:
			dj.at, dj.nth = jobstore.JobUploaded, max(n/batch/3, 2)
		case load.Bulk1:
			dj.at, dj.nth = jobstore.JobUploaded, 3
		}
		first.Journal = dj
	}
	sum, err := load.New(c).Load(runCtx, src(emuHeader, rows), sink, first)
	interrupted := interrupt == "cancel" || interrupt == "kill" || interrupt == "restart"
	switch {
	case interrupted && err == nil:
		t.Fatalf("the load was not interrupted: %+v", sum)
	case !interrupted && err != nil:
		t.Fatalf("load: %v (summary %+v)", err, sum)
	case interrupt == "restart" && !load.OrgUnusable(err):
		// The org lost mid-run: the CLI exits 3 with every row labelled (loadExit).
		t.Fatalf("load with the org down: %v, want an error OrgUnusable reports", err)
	case interrupt == "restart" && !dj.wentDown():
		t.Fatalf("the org never went down: %v", err)
	}
	if interrupt == "restart" {
		// The same address, data file, certificate and sessions: the client that trusted the
		// first one trusts this one, and its session is still valid.
		addr := strings.TrimPrefix(srv.URL(), "https://")
		srv = salesforcetest.New(t, salesforcetest.WithDataFile(dataFile),
			salesforcetest.WithConfig(func(cfg *emu.Config) { cfg.Addr = addr }))
		tokens.srv.Store(srv)
	}
	if cj == nil {
		files.Keep = interrupted || sum.Unknown > 0
		if cerr := files.Close(); cerr != nil {
			t.Fatal(cerr)
		}
	}
	if faultID != 0 {
		// The cell is about its fault: every time it was set for, a request met it.
		if left := srv.FaultRemaining(faultID); left != 0 {
			t.Errorf("the fault on %s %s was met %d times fewer than set", cell.fault.Method, cell.fault.Path, left)
		}
	}
	srv.ClearFaults()
	if interrupted {
		// The interrupted run's own files: checked before the resume changes them, once the
		// org has finished the work it was given (jobs closed before the interruption, or
		// before the restart, go on being processed), so that a row labelled not processed
		// that the org applies later is caught too.
		if cj == nil {
			if err := srv.Bulk().WaitIdle(ctx); err != nil {
				t.Fatal(err)
			}
			checkFaultResults(t, c, dir, n, prefix, false)
		}
		files, err = load.ResumeCSVSinks(dir)
		if err != nil {
			t.Fatal(err)
		}
		again := opts
		again.Journal, again.Resume = store, true
		sum, err = load.New(c).Load(ctx, src(emuHeader, rows), files, again)
		if cerr := files.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("resume: %v", err)
		}
	}
	checkFaultResults(t, c, dir, n, prefix, true)
	checkNoOpenJobs(t, c)
	_ = sum
}

// checkFaultResults checks results.csv against the org (see TestFaultMatrix); with reload it
// also loads unprocessed.csv again and checks that nothing was duplicated.
func checkFaultResults(t *testing.T, c *salesforce.Client, dir string, n int, prefix string, reload bool) {
	t.Helper()
	ctx := t.Context()
	got := readResultsFull(t, dir)
	if len(got) != n {
		t.Errorf("results.csv has %d rows, want %d", len(got), n)
	}
	inOrg := orgKeys(t, c)
	counts := map[string]int{}
	for row := int64(1); row <= int64(n); row++ {
		r, ok := got[row]
		if !ok {
			t.Errorf("row %d has no outcome", row)
			continue
		}
		counts[r.outcome]++
		key := fmt.Sprintf("%s-%05d", prefix, row)
		switch r.outcome {
		case "succeeded":
			if inOrg[key] != 1 {
				t.Errorf("row %d succeeded but the org has it %d times", row, inOrg[key])
			}
		case "failed", "not_processed":
			if inOrg[key] != 0 {
				t.Errorf("row %d is %s (%s) but the org has it", row, r.outcome, r.err)
			}
		case "unknown":
			if r.job == "" && r.err != load.StatusOutcomeUnknown {
				t.Errorf("row %d is unknown without a job or cause: %+v", row, r)
			}
		default:
			t.Errorf("row %d: outcome %q", row, r.outcome)
		}
		if inOrg[key] > 1 {
			t.Errorf("row %d is %d times in the org", row, inOrg[key])
		}
	}
	t.Logf("outcomes %v", counts)
	for k := range inOrg {
		row, err := strconv.ParseInt(strings.TrimPrefix(k, prefix+"-"), 10, 64)
		if r := got[row]; err != nil || (r.outcome != "succeeded" && r.outcome != "unknown") {
			t.Errorf("the org has %s, whose row is %q", k, r.outcome)
		}
	}
	if !reload {
		return
	}
	f, err := os.Open(filepath.Join(dir, load.UnprocessedFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src := load.CSVSource(f, load.UnprocessedFile, load.CSVOptions{})
	if _, err := load.New(c).Load(ctx, src, nil, quick(load.Options{Object: "Contact", API: load.Bulk2, Preflight: load.PreflightOff})); err != nil {
		t.Fatalf("reloading unprocessed.csv: %v", err)
	}
	for k, v := range orgKeys(t, c) {
		if v > 1 {
			t.Errorf("after reloading unprocessed.csv, %s is %d times in the org", k, v)
		}
	}
}

// fullResult is one line of results.csv.
type fullResult struct{ outcome, id, err, job string }

func readResultsFull(t *testing.T, dir string) map[int64]fullResult {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, load.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := sfcsv.NewReader(f, sfcsv.ReaderOptions{})
	if _, err := rd.Header(); err != nil {
		t.Fatal(err)
	}
	out := map[int64]fullResult{}
	for {
		rec, err := rd.Read()
		if err != nil {
			break
		}
		row, _ := strconv.ParseInt(rec[0], 10, 64)
		if _, dup := out[row]; dup {
			t.Errorf("results.csv: row %d listed twice", row)
		}
		out[row] = fullResult{outcome: rec[1], id: rec[2], err: rec[4], job: rec[7]}
	}
	return out
}

// orgKeys counts the org's contacts by External_Id__c.
func orgKeys(t *testing.T, c *salesforce.Client) map[string]int {
	t.Helper()
	keys := map[string]int{}
	for rec, err := range c.Query(t.Context(), "SELECT External_Id__c FROM Contact") {
		if err != nil {
			t.Fatal(err)
		}
		v, _ := rec.Get("External_Id__c")
		s, _ := v.(string)
		keys[s]++
	}
	return keys
}

// checkNoOpenJobs fails on any job of the org still Open.
func checkNoOpenJobs(t *testing.T, c *salesforce.Client) {
	t.Helper()
	for j, err := range c.Bulk2.ListIngestJobs(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if j.State == salesforce.JobStateOpen {
			t.Errorf("job %s (%s) left Open", j.ID, j.JobType)
		}
	}
}

// downJournal records into Store and runs down (the org going away) right after the nth
// record of state at, before the load takes its next step.
type downJournal struct {
	*jobstore.Store
	at   jobstore.JobState
	nth  int
	down func()

	mu   sync.Mutex
	seen int
	done bool
}

// after counts a recorded step and takes the org down on the nth one of j.at.
func (j *downJournal) after(state jobstore.JobState, err error) error {
	if err != nil || state != j.at {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seen++
	if j.seen == j.nth {
		j.down()
		j.done = true
	}
	return nil
}

func (j *downJournal) wentDown() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.done
}

func (j *downJournal) RecordJob(ctx context.Context, r jobstore.JobRecord) error {
	st := r.State
	if st == "" {
		st = jobstore.JobCreated
	}
	if strings.HasPrefix(r.JobID, "creating-") {
		return j.Store.RecordJob(ctx, r)
	}
	return j.after(st, j.Store.RecordJob(ctx, r))
}

func (j *downJournal) UpdateBatchState(ctx context.Context, run, job, batch string, st jobstore.JobState, msg string) error {
	return j.after(st, j.Store.UpdateBatchState(ctx, run, job, batch, st, msg))
}

func (j *downJournal) SetBatchID(ctx context.Context, run, job, old, batch string, st jobstore.JobState) error {
	return j.after(st, j.Store.SetBatchID(ctx, run, job, old, batch, st))
}
