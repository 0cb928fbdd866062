package bulk

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
)

// The transition tables (states.go) are walked pair by pair through the
// HTTP API: every client event from every state a job of each kind can be
// in, and every processor step the tables list. A row of a table that no
// walk exercises fails TestTransitionTables, so a new transition needs its
// walk.

// walkLatency is the modelled latency of every step in the walks: the fake
// clock never reaches it unless a walk advances it, so jobs stay put.
const walkLatency = time.Hour

// coverage records the table rows the walks exercised.
type coverage struct {
	mu      sync.Mutex
	jobs    map[jobTransition]bool
	batches map[batchTransition]bool
}

func (c *coverage) job(t jobTransition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jobs[t] = true
}

func (c *coverage) batch(t batchTransition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches[t] = true
}

// walkEnv is a service with one worker and every latency at walkLatency
// on a fake clock.
type walkEnv struct {
	*env
	t  *testing.T
	fc *clock.Fake
}

func newWalkEnv(t *testing.T) *walkEnv {
	fc := clock.NewFake(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	prof := Realistic{BatchStartLatency: walkLatency, QueryLatency: walkLatency, MaxConcurrentBatches: 1}
	return &walkEnv{env: newEnv(t, Options{Clock: fc, Profile: prof}), t: t, fc: fc}
}

// finish moves the clock past every modelled delay until no work is queued
// or running.
func (w *walkEnv) finish() {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.svc.mu.Lock()
		idle := len(w.svc.pending) == 0 && len(w.svc.splits) == 0 && len(w.svc.running) == 0
		w.svc.mu.Unlock()
		if idle {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatal("work did not finish")
		}
		if w.fc.Waiters() > 0 {
			w.fc.Advance(walkLatency)
		}
		runtime.Gosched()
	}
}

// state is the job's state as GET reports it.
func (w *walkEnv) state(kind apiKind, id string) string {
	w.t.Helper()
	if kind == kindBulk1 {
		r := w.do("GET", asyncV+"/job/"+id, "", "")
		wantStatus(w.t, r, 200)
		return tag(r.body, "state")
	}
	s, _ := w.v2State(v2Path(kind), id)["state"].(string)
	return s
}

// storedState is the job's state as the service holds it (for deleted
// jobs, which GET no longer shows).
func (w *walkEnv) storedState(id string) string {
	w.svc.mu.Lock()
	defer w.svc.mu.Unlock()
	return w.svc.jobs[id[:15]].state
}

func v2Path(kind apiKind) string {
	if kind == kindV2Query {
		return "query"
	}
	return "ingest"
}

// occupyWorker starts a one-row ingest job whose batch holds the only
// worker until the clock moves, so later work stays queued.
func (w *walkEnv) occupyWorker() {
	w.t.Helper()
	id := w.createIngest(`{"object":"Contact","operation":"insert"}`)["id"].(string)
	wantStatus(w.t, w.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", "LastName\nBlocker\n"), 201)
	wantStatus(w.t, w.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
	waitForWaiters(w.t, w.fc, 1)
}

// ingestWithData creates a Bulk 2.0 ingest job and uploads data to it.
func (w *walkEnv) ingestWithData(data string) string {
	w.t.Helper()
	id := w.createIngest(`{"object":"Contact","operation":"insert"}`)["id"].(string)
	wantStatus(w.t, w.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", data), 201)
	return id
}

func (w *walkEnv) patch(kind apiKind, id, state string) resp {
	return w.do("PATCH", dataV+"/jobs/"+v2Path(kind)+"/"+id, jsonCT, `{"state":"`+state+`"}`)
}

func (w *walkEnv) createQuery() string {
	w.t.Helper()
	r := w.do("POST", dataV+"/jobs/query", jsonCT, `{"operation":"query","query":"SELECT Id FROM Contact"}`)
	wantStatus(w.t, r, 200)
	return jsonMap(w.t, r.body)["id"].(string)
}

// reach brings a new job of kind to state through the HTTP API and returns
// its id and whether data was uploaded to it.
func (w *walkEnv) reach(kind apiKind, state string) (id string, uploaded bool) {
	w.t.Helper()
	switch kind {
	case kindBulk1:
		id = w.createBulk1Job("insert", "Contact", "", "CSV")
		switch state {
		case stateClosed:
			wantStatus(w.t, w.do("POST", asyncV+"/job/"+id, xmlCT, closeXML), 200)
		case stateAborted:
			wantStatus(w.t, w.do("POST", asyncV+"/job/"+id, xmlCT, abortXML), 200)
		}
	case kindV2Ingest:
		switch state {
		case stateOpen:
			id = w.createIngest(`{"object":"Contact","operation":"insert"}`)["id"].(string)
		case stateAborted:
			id = w.createIngest(`{"object":"Contact","operation":"insert"}`)["id"].(string)
			wantStatus(w.t, w.patch(kind, id, stateAborted), 200)
		case stateFailed:
			id, uploaded = w.ingestWithData("Bogus__c\nx\n"), true
			wantStatus(w.t, w.patch(kind, id, stateUploadComplete), 200)
			w.finish()
		default: // UploadComplete, InProgress, JobComplete
			if state == stateUploadComplete {
				w.occupyWorker()
			}
			id, uploaded = w.ingestWithData("LastName\nWalk\n"), true
			wantStatus(w.t, w.patch(kind, id, stateUploadComplete), 200)
			if state != stateUploadComplete {
				waitForWaiters(w.t, w.fc, 1)
			}
			if state == stateJobComplete {
				w.finish()
			}
		}
	case kindV2Query:
		switch state {
		case stateUploadComplete:
			w.occupyWorker()
			id = w.createQuery()
		case stateFailed:
			w.svc.FailQueriesWithTimeout(1)
			id = w.createQuery()
			w.finish()
		default: // InProgress, JobComplete, Aborted
			id = w.createQuery()
			waitForWaiters(w.t, w.fc, 1)
			switch state {
			case stateJobComplete:
				w.finish()
			case stateAborted:
				wantStatus(w.t, w.patch(kind, id, stateAborted), 200)
			}
		}
	}
	if got := w.state(kind, id); got != state {
		w.t.Fatalf("reached %s, want %s", got, state)
	}
	return id, uploaded
}

// fire sends ev to job id as a client would, and returns the response and
// the state the job reports in it ("" when the response has none).
func (w *walkEnv) fire(kind apiKind, id string, ev jobEvent) (resp, string) {
	w.t.Helper()
	var r resp
	switch ev {
	case jobAddBatch:
		r = w.do("POST", asyncV+"/job/"+id+"/batch", "text/csv", "LastName\nWalk\n")
		return r, ""
	case jobClose:
		r = w.do("POST", asyncV+"/job/"+id, xmlCT, closeXML)
		return r, tag(r.body, "state")
	case jobAbort:
		if kind == kindBulk1 {
			r = w.do("POST", asyncV+"/job/"+id, xmlCT, abortXML)
			return r, tag(r.body, "state")
		}
		r = w.patch(kind, id, stateAborted)
	case jobUploadComplete:
		r = w.patch(kind, id, stateUploadComplete)
	case jobUpload:
		return w.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", "LastName\nWalk\n"), ""
	case jobDelete:
		return w.do("DELETE", dataV+"/jobs/"+v2Path(kind)+"/"+id, "", ""), ""
	default:
		w.t.Fatalf("no request fires %s", ev)
	}
	if r.status == 200 {
		s, _ := jsonMap(w.t, r.body)["state"].(string)
		return r, s
	}
	return r, ""
}

// clientWalks lists, per job kind, the states its jobs can be in and the
// events clients send it.
// Its allowed map is the expected behaviour written independently of the
// table, in Salesforce's terms: per state, the client events that succeed
// and the state they lead to ("event>State"); every other event from that
// state is refused.
type clientWalk struct {
	kind    apiKind
	name    string
	events  []jobEvent
	allowed map[string]string
}

func clientWalks() []clientWalk {
	return []clientWalk{
		{kindBulk1, "Bulk1", []jobEvent{jobAddBatch, jobClose, jobAbort}, map[string]string{
			stateOpen:    "add batch>Open, close>Closed, abort>Aborted",
			stateClosed:  "abort>Aborted",
			stateAborted: "",
		}},
		{kindV2Ingest, "V2Ingest", []jobEvent{jobUpload, jobUploadComplete, jobAbort, jobDelete}, map[string]string{
			stateOpen:           "upload>Open, upload complete>UploadComplete, abort>Aborted",
			stateUploadComplete: "abort>Aborted, delete>Aborted",
			stateInProgress:     "abort>Aborted",
			stateJobComplete:    "delete>JobComplete",
			stateAborted:        "delete>Aborted",
			stateFailed:         "delete>Failed",
		}},
		{kindV2Query, "V2Query", []jobEvent{jobUploadComplete, jobAbort, jobDelete}, map[string]string{
			stateUploadComplete: "abort>Aborted",
			stateInProgress:     "abort>Aborted",
			stateJobComplete:    "delete>JobComplete",
			stateAborted:        "delete>Aborted",
			stateFailed:         "delete>Failed",
		}},
	}
}

// expect is what cw.allowed says of ev from state from.
func (cw clientWalk) expect(from string, ev jobEvent) (string, bool) {
	for _, item := range strings.Split(cw.allowed[from], ", ") {
		if e, to, ok := strings.Cut(item, ">"); ok && jobEvent(e) == ev {
			return to, true
		}
	}
	return "", false
}

// walkJobs sends every client event to a job in every
// state and checks the answer against the table: the new state when the
// table allows the move, Salesforce's error and an unchanged state when it
// does not.
func walkJobs(t *testing.T, cov *coverage) {
	for _, cw := range clientWalks() {
		for from := range cw.allowed {
			for _, ev := range cw.events {
				t.Run(fmt.Sprintf("%s/%s/%s", cw.name, from, strings.ReplaceAll(string(ev), " ", "_")), func(t *testing.T) {
					t.Parallel()
					w := newWalkEnv(t)
					id, uploaded := w.reach(cw.kind, from)
					r, reported := w.fire(cw.kind, id, ev)
					to, allowed := cw.expect(from, ev)
					if tableTo, tableOK := jobNext(cw.kind, from, ev); tableTo != to || tableOK != allowed {
						t.Errorf("the table says %q %v, Salesforce %q %v", tableTo, tableOK, to, allowed)
					}
					if allowed {
						walkAllowed(t, w, cw.kind, id, ev, r, reported, to)
						cov.job(jobTransition{cw.kind, from, ev, to})
						return
					}
					walkRefused(t, w, cw.kind, id, ev, r, from, uploaded)
				})
			}
		}
	}
}

func walkAllowed(t *testing.T, w *walkEnv, kind apiKind, id string, ev jobEvent, r resp, reported, to string) {
	t.Helper()
	want := map[jobEvent]int{jobAddBatch: 201, jobUpload: 201, jobDelete: 204}[ev]
	if want == 0 {
		want = 200
	}
	wantStatus(t, r, want)
	if reported != "" && reported != to {
		t.Errorf("response state %s, want %s", reported, to)
	}
	if ev == jobDelete {
		if got := w.storedState(id); got != to {
			t.Errorf("deleted job is %s, want %s", got, to)
		}
		if g := w.do("GET", dataV+"/jobs/"+v2Path(kind)+"/"+id, "", ""); g.status != 404 {
			t.Errorf("GET of a deleted job: %d", g.status)
		}
		return
	}
	if reported == "" {
		if got := w.state(kind, id); got != to {
			t.Errorf("state after %s = %s, want %s", ev, got, to)
		}
	}
}

func walkRefused(t *testing.T, w *walkEnv, kind apiKind, id string, ev jobEvent, r resp, from string, uploaded bool) {
	t.Helper()
	status, code := 400, "INVALIDJOBSTATE"
	switch {
	case kind == kindBulk1:
		code = "InvalidJobState"
	case ev == jobUpload && uploaded:
		// Salesforce's answer to a second PUT, whatever the state.
		code = "BULK_API_ERROR"
	case ev == jobUpload:
		status = 409
	}
	wantStatus(t, r, status)
	if !strings.Contains(r.body, code) {
		t.Errorf("refusal %s lacks %s", r.body, code)
	}
	if code != "BULK_API_ERROR" && !strings.Contains(r.body, from) {
		t.Errorf("refusal %s does not name the state %s", r.body, from)
	}
	if got := w.state(kind, id); got != from {
		t.Errorf("refused %s moved the job from %s to %s", ev, from, got)
	}
}

// walkProcessor walks the processor's rows of the job table:
// start, finish and fail, for ingest and query jobs.
func walkProcessor(t *testing.T, cov *coverage) {
	for _, kind := range []apiKind{kindV2Ingest, kindV2Query} {
		t.Run(v2Path(kind)+" start and finish", func(t *testing.T) {
			t.Parallel()
			w := newWalkEnv(t)
			id, _ := w.reach(kind, stateUploadComplete) // queued behind another job
			w.fc.Advance(walkLatency)                   // the other job's batch runs
			waitForWaiters(t, w.fc, 1)                  // this job's batch or query waits
			if got := w.state(kind, id); got != stateInProgress {
				t.Fatalf("after start: %s", got)
			}
			cov.job(jobTransition{kind, stateUploadComplete, jobStart, stateInProgress})
			w.finish()
			if got := w.state(kind, id); got != stateJobComplete {
				t.Fatalf("after finish: %s", got)
			}
			cov.job(jobTransition{kind, stateInProgress, jobFinish, stateJobComplete})
		})
	}
	t.Run("ingest fail before start", func(t *testing.T) {
		t.Parallel()
		w := newWalkEnv(t)
		w.svc.FailNextJob("InvalidBatch : injected")
		id := w.ingestWithData("LastName\nWalk\n")
		wantStatus(t, w.patch(kindV2Ingest, id, stateUploadComplete), 200)
		w.idle()
		info := w.v2State("ingest", id)
		if info["state"] != stateFailed || info["errorMessage"] != "InvalidBatch : injected" {
			t.Fatalf("job %v", info)
		}
		cov.job(jobTransition{kindV2Ingest, stateUploadComplete, jobFail, stateFailed})
	})
	// Reaching Failed fails the job in progress: the split finds an
	// unknown column, the query times out.
	for kind, msg := range map[apiKind]string{kindV2Ingest: "Bogus__c", kindV2Query: "QUERY_TIMEOUT"} {
		t.Run(v2Path(kind)+" fail in progress", func(t *testing.T) {
			t.Parallel()
			w := newWalkEnv(t)
			id, _ := w.reach(kind, stateFailed)
			if got, _ := w.v2State(v2Path(kind), id)["errorMessage"].(string); !strings.Contains(got, msg) {
				t.Fatalf("errorMessage %q, want %s", got, msg)
			}
			cov.job(jobTransition{kind, stateInProgress, jobFail, stateFailed})
		})
	}
	t.Run("aborted job is not finished", func(t *testing.T) {
		t.Parallel()
		w := newWalkEnv(t)
		id, _ := w.reach(kindV2Ingest, stateInProgress)
		wantStatus(t, w.patch(kindV2Ingest, id, stateAborted), 200)
		w.finish() // its batch ends; the table refuses finish from Aborted
		if got := w.state(kindV2Ingest, id); got != stateAborted {
			t.Fatalf("aborted job became %s", got)
		}
	})
}

// batchState is a Bulk 1.0 batch's state and message as GET reports them.
func (w *walkEnv) batchState(jobID, batchID string) (state, message string) {
	w.t.Helper()
	r := w.do("GET", asyncV+"/job/"+jobID+"/batch/"+batchID, "", "")
	wantStatus(w.t, r, 200)
	return tag(r.body, "state"), tag(r.body, "stateMessage")
}

// bulk1Batch creates a Bulk 1.0 Contact insert job and adds a CSV batch.
func (w *walkEnv) bulk1Batch(body string) (job, batch string) {
	w.t.Helper()
	job = w.createBulk1Job("insert", "Contact", "", "CSV")
	return job, w.addBatch(job, "text/csv", body)
}

// walkBatches walks every row of the batch table with
// Bulk 1.0 batches, whose states the API shows.
func walkBatches(t *testing.T, cov *coverage) {
	want := func(t *testing.T, w *walkEnv, jobID, batchID, state string, tr batchTransition) {
		t.Helper()
		if got, msg := w.batchState(jobID, batchID); got != state {
			t.Fatalf("batch %s (%s), want %s", got, msg, state)
		}
		cov.batch(tr)
	}
	t.Run("start and complete", func(t *testing.T) {
		t.Parallel()
		w := newWalkEnv(t)
		job, b := w.bulk1Batch("LastName\nWalk\n")
		waitForWaiters(t, w.fc, 1)
		want(t, w, job, b, batchInProgress, batchTransition{batchQueued, batchStart, batchInProgress})
		w.finish()
		want(t, w, job, b, batchCompleted, batchTransition{batchInProgress, batchComplete, batchCompleted})
	})
	// A batch over the size limit fails when submitted; one naming an
	// unknown field when it runs.
	for _, c := range []struct {
		name, body string
		tr         batchTransition
	}{
		{"reject", "LastName\n" + strings.Repeat("x", MaxBatchBytes) + "\n", batchTransition{batchQueued, batchReject, batchFailed}},
		{"fail", "Bogus__c\nx\n", batchTransition{batchInProgress, batchFail, batchFailed}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWalkEnv(t)
			job, b := w.bulk1Batch(c.body)
			w.finish()
			want(t, w, job, b, batchFailed, c.tr)
		})
	}
	t.Run("skip on abort", func(t *testing.T) {
		t.Parallel()
		w := newWalkEnv(t)
		job, running := w.bulk1Batch("LastName\nFirst\n")
		waitForWaiters(t, w.fc, 1)
		queued := w.addBatch(job, "text/csv", "LastName\nSecond\n")
		wantStatus(t, w.do("POST", asyncV+"/job/"+job, xmlCT, abortXML), 200)
		want(t, w, job, queued, batchNotProcessed, batchTransition{batchQueued, batchSkip, batchNotProcessed})
		w.finish() // a Bulk 1.0 batch already running finishes after an abort
		if got, _ := w.batchState(job, running); got != batchCompleted {
			t.Fatalf("running batch ended %s", got)
		}
	})
	t.Run("stop after PK chunking", func(t *testing.T) {
		t.Parallel()
		w := newWalkEnv(t)
		job := w.createBulk1Job("query", "Contact", "", "CSV", "Sforce-Enable-PKChunking", "chunkSize=10")
		b := w.addBatch(job, "text/plain", "SELECT Id FROM Contact")
		w.finish()
		want(t, w, job, b, batchNotProcessed, batchTransition{batchInProgress, batchStop, batchNotProcessed})
	})
}

// TestTransitionTables runs the walks, then fails for every row of either
// table that none of them exercised.
func TestTransitionTables(t *testing.T) {
	t.Parallel()
	cov := &coverage{jobs: map[jobTransition]bool{}, batches: map[batchTransition]bool{}}
	// A group returns when its parallel subtests are done.
	t.Run("walks", func(t *testing.T) {
		t.Run("jobs", func(t *testing.T) { walkJobs(t, cov) })
		t.Run("processor", func(t *testing.T) { walkProcessor(t, cov) })
		t.Run("batches", func(t *testing.T) { walkBatches(t, cov) })
		t.Run("restart", func(t *testing.T) { walkRestart(t, cov) })
	})
	if t.Failed() {
		return
	}
	cov.mu.Lock()
	defer cov.mu.Unlock()
	for _, tr := range jobTransitions() {
		if !cov.jobs[tr] {
			t.Errorf("job transition %+v has no walk", tr)
		}
	}
	for _, tr := range batchTransitions() {
		if !cov.batches[tr] {
			t.Errorf("batch transition %+v has no walk", tr)
		}
	}
}
