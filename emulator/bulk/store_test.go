package bulk

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// durable is a service and org over one data file that a test can stop
// and start again, as `sfbatch emulator --data FILE` is restarted.
type durable struct {
	t    *testing.T
	path string
	prof Profile
	*walkEnv
}

func newDurable(t *testing.T, prof Profile) *durable {
	d := &durable{t: t, path: filepath.Join(t.TempDir(), "org.db"), prof: prof}
	d.start(clock.NewFake(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)))
	return d
}

// start opens the org and the service over the data file on clock fc.
func (d *durable) start(fc *clock.Fake) {
	d.t.Helper()
	o, err := org.New(org.Options{Clock: fc, Seed: 1, DataFile: d.path})
	if err != nil {
		d.t.Fatal(err)
	}
	svc, err := Open(o, Options{Clock: fc, Profile: d.prof, MaxConcurrentBatches: 1, DataFile: d.path})
	if err != nil {
		d.t.Fatal(err)
	}
	sess := &wire.Session{Token: "tok", UserID: o.DefaultUserID(), Username: "user@example.com", OrgID: o.ID()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc.ServeHTTP(w, r.WithContext(wire.WithSession(r.Context(), sess)))
	}))
	e := &env{t: d.t, org: o, svc: svc, srv: srv}
	d.t.Cleanup(e.close)
	d.walkEnv = &walkEnv{env: e, t: d.t, fc: fc}
}

// restart stops everything, as on a shutdown, and starts again over the
// same file with the clock where it was.
func (d *durable) restart() {
	d.t.Helper()
	d.srv.Close()
	if err := d.svc.Close(); err != nil {
		d.t.Fatalf("service close: %v", err)
	}
	if err := d.org.Close(); err != nil {
		d.t.Fatalf("org close: %v", err)
	}
	d.start(clock.NewFake(d.fc.Now()))
}

// crash stops everything as a killed process would, right after the org
// committed a chunk whose outcomes the service had not yet written: from
// then on the service writes nothing to the data file.
func (d *durable) crash() {
	d.t.Helper()
	d.svc.mu.Lock()
	st := d.svc.st
	d.svc.st, d.svc.storeErr = nil, errors.New("crashed")
	d.svc.mu.Unlock()
	d.srv.Close()
	_ = d.svc.Close() // its workers end; what they record stays in memory
	if err := st.close(); err != nil {
		d.t.Fatal(err)
	}
	if err := d.org.Close(); err != nil {
		d.t.Fatal(err)
	}
	d.start(clock.NewFake(d.fc.Now()))
}

// readCSV parses a result file.
func readCSV(t *testing.T, body string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("result file: %v\n%s", err, body)
	}
	return recs
}

// walkRestart walks the resume rows of both tables: work that was in
// progress when the service stopped resumes when it starts again.
func walkRestart(t *testing.T, cov *coverage) {
	t.Run("ingest batch resumes mid-way", func(t *testing.T) {
		t.Parallel()
		testIngestResumesMidBatch(t, (*durable).restart)
		cov.batch(batchTransition{batchInProgress, batchResume, batchQueued})
	})
	t.Run("ingest batch resumes after a crash", func(t *testing.T) {
		t.Parallel()
		testIngestResumesMidBatch(t, (*durable).crash)
	})
	t.Run("query runs again", func(t *testing.T) {
		t.Parallel()
		d := newDurable(t, Realistic{QueryLatency: walkLatency})
		if res := d.org.Write(t.Context(), "", []org.WriteRequest{{Op: org.OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "Q"}}}, false); !res[0].Success {
			t.Fatal(res[0].Errors)
		}
		id := d.createQuery()
		waitForWaiters(t, d.fc, 1)
		if got := d.state(kindV2Query, id); got != stateInProgress {
			t.Fatalf("before restart: %s", got)
		}
		d.restart()
		d.finish()
		if got := d.state(kindV2Query, id); got != stateJobComplete {
			t.Fatalf("after restart: %s", got)
		}
		r := d.do("GET", dataV+"/jobs/query/"+id+"/results", "", "")
		wantStatus(t, r, 200)
		if recs := readCSV(t, r.body); len(recs) != 2 {
			t.Fatalf("results %q, want a header and one row", r.body)
		}
		cov.job(jobTransition{kindV2Query, stateInProgress, jobResume, stateUploadComplete})
	})
	t.Run("split runs again", func(t *testing.T) {
		t.Parallel()
		d := newDurable(t, Realistic{BatchStartLatency: walkLatency})
		d.occupyWorker()
		id := d.ingestWithData(contactRows("Restart", 3))
		wantStatus(t, d.patch(kindV2Ingest, id, stateUploadComplete), 200)
		// What a stop in the middle of splitting leaves: the job in
		// progress, its batches not yet recorded.
		d.svc.mu.Lock()
		j := d.svc.lookupLocked(id)
		d.svc.dropPendingLocked(j)
		d.svc.jobStepLocked(j, jobStart, "")
		d.svc.mu.Unlock()
		d.restart()
		d.finish()
		info := d.v2State("ingest", id)
		if info["state"] != stateJobComplete || info["numberRecordsProcessed"] != 3.0 {
			t.Fatalf("after restart: %v", info)
		}
		cov.job(jobTransition{kindV2Ingest, stateInProgress, jobResume, stateUploadComplete})
	})
}

// testIngestResumesMidBatch stops the service after the first chunk of a
// Bulk 2.0 batch, by a shutdown or a crash: after the restart the batch
// goes on from the first row without a recorded outcome, and every row is
// loaded exactly once and has exactly one result.
func testIngestResumesMidBatch(t *testing.T, stop func(*durable)) {
	const rows = 2*ChunkRecords + 50
	d := newDurable(t, Realistic{PerRecordCost: time.Second})
	id := d.ingestWithData(contactRows("Restart", rows))
	wantStatus(t, d.patch(kindV2Ingest, id, stateUploadComplete), 200)
	waitForWaiters(t, d.fc, 1) // the first chunk is written; its processing time runs
	stop(d)
	if got := d.state(kindV2Ingest, id); got != stateInProgress {
		t.Fatalf("after restart: %s", got)
	}
	d.finish()
	info := d.v2State("ingest", id)
	if info["state"] != stateJobComplete || info["numberRecordsProcessed"] != float64(rows) || info["numberRecordsFailed"] != 0.0 {
		t.Fatalf("job %v", info)
	}
	if n := d.org.Count("Contact"); n != rows {
		t.Errorf("org holds %d contacts, want %d", n, rows)
	}
	r := d.do("GET", dataV+"/jobs/ingest/"+id+"/successfulResults", "", "")
	wantStatus(t, r, 200)
	recs := readCSV(t, r.body)
	seen := map[string]bool{}
	for _, rec := range recs[1:] {
		if seen[rec[2]] {
			t.Errorf("row %s has two results", rec[2])
		}
		seen[rec[2]] = true
	}
	if len(seen) != rows {
		t.Errorf("%d rows have a result, want %d", len(seen), rows)
	}
}

// TestRestartKeepsJobs checks that jobs of both APIs, their state, data
// and results survive a restart, and that a load begun before one is
// finished after it.
func TestRestartKeepsJobs(t *testing.T) {
	t.Parallel()
	d := newDurable(t, Instant{})
	done := d.ingestWithData(contactRows("Restart", 2))
	wantStatus(t, d.patch(kindV2Ingest, done, stateUploadComplete), 200)
	d.finish()
	open := d.ingestWithData(contactRows("Restart", 3)) // uploaded, not yet closed
	b1 := d.createBulk1Job("insert", "Account", "", "CSV")
	batch := d.addBatch(b1, "text/csv", "Name\nAcme\nGlobex\n")
	d.finish()
	before := d.do("GET", dataV+"/jobs/ingest/"+done+"/successfulResults", "", "").body

	d.restart()
	if after := d.do("GET", dataV+"/jobs/ingest/"+done+"/successfulResults", "", "").body; after != before {
		t.Errorf("results changed across the restart:\n%s\nwant\n%s", after, before)
	}
	if got := d.state(kindV2Ingest, open); got != stateOpen {
		t.Fatalf("open job is %s", got)
	}
	wantStatus(t, d.patch(kindV2Ingest, open, stateUploadComplete), 200)
	d.finish()
	if info := d.v2State("ingest", open); info["state"] != stateJobComplete || info["numberRecordsProcessed"] != 3.0 {
		t.Fatalf("job finished after the restart: %v", info)
	}
	if st, _ := d.batchState(b1, batch); st != batchCompleted {
		t.Fatalf("Bulk 1.0 batch %s", st)
	}
	r := d.do("GET", asyncV+"/job/"+b1+"/batch/"+batch+"/result", "", "")
	wantStatus(t, r, 200)
	if recs := readCSV(t, r.body); len(recs) != 3 || recs[1][1] != "true" {
		t.Fatalf("Bulk 1.0 results %q", r.body)
	}
	wantStatus(t, d.do("POST", asyncV+"/job/"+b1, xmlCT, closeXML), 200)
	if n := d.org.Count("Contact"); n != 5 {
		t.Errorf("org holds %d contacts, want 5", n)
	}
	// New ids do not collide with the restored ones.
	if again := d.ingestWithData(contactRows("Restart", 1)); again == done || again == open {
		t.Errorf("new job reuses id %s", again)
	}
}
