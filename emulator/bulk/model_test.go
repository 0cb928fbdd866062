package bulk

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
)

// contentionRun loads Contacts of two Accounts in three Bulk 1.0 batches and
// returns the concatenated result files with ids masked.
func contentionRun(t *testing.T, mode string, grouped bool) (results string, locked int) {
	e := newEnv(t, Options{Seed: 42, LockContentionRate: 0.5})
	acc := e.org.Write(t.Context(), e.org.DefaultUserID(), []org.WriteRequest{
		{Op: org.OpInsert, Object: "Account", Fields: map[string]any{"Name": "A", "External_Id__c": "A"}},
		{Op: org.OpInsert, Object: "Account", Fields: map[string]any{"Name": "B", "External_Id__c": "B"}},
	}, false)
	r := e.do("POST", asyncV+"/job", xmlCT, fmt.Sprintf(jobXML, "insert", "Contact", "<concurrencyMode>"+mode+"</concurrencyMode>", "CSV"))
	wantStatus(t, r, 201)
	jobID := tag(r.body, "id")
	var batches []string
	for b := range 3 {
		var sb strings.Builder
		sb.WriteString("LastName,AccountId,Account.External_Id__c\n")
		for i := range 40 {
			parent := i % 2
			if grouped {
				parent = b % 2
				if b == 2 {
					continue // the third batch is empty of parents
				}
			}
			if parent == 0 {
				fmt.Fprintf(&sb, "L%d-%d,%s,\n", b, i, acc[0].ID)
			} else {
				fmt.Fprintf(&sb, "L%d-%d,,B\n", b, i)
			}
		}
		if grouped && b == 2 {
			sb.WriteString("Solo,,\n")
		}
		batches = append(batches, e.addBatch(jobID, "text/csv", sb.String()))
	}
	e.idle()
	var all strings.Builder
	for _, b := range batches {
		body := e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b+"/result", "", "").body
		all.WriteString(body)
	}
	results = maskIDs(all.String())
	locked = strings.Count(results, "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records: ")
	return results, locked
}

func TestLockContention(t *testing.T) {
	t.Parallel()
	r1, n1 := contentionRun(t, "Parallel", false)
	r2, n2 := contentionRun(t, "Parallel", false)
	if r1 != r2 {
		t.Errorf("same seed, different outcomes:\n%s\n---\n%s", r1, r2)
	}
	if n1 == 0 || n1 >= 120 || n1 != n2 {
		t.Errorf("locked rows = %d, %d; want some but not all of 120", n1, n2)
	}
	if !strings.Contains(r1, "records: 001ID:--") || !strings.Contains(r1, "records: B:--") {
		t.Errorf("lock messages should name the parent (id or external id):\n%s", r1)
	}
	if _, n := contentionRun(t, "Serial", false); n != 0 {
		t.Errorf("Serial job had %d locked rows", n)
	}
	if _, n := contentionRun(t, "Parallel", true); n != 0 {
		t.Errorf("rows grouped by parent per batch had %d locked rows", n)
	}
}

// waitForWaiters spins until the fake clock has n pending timers.
func waitForWaiters(t *testing.T, f *clock.Fake, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.Waiters() < n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %d clock waiters (have %d)", n, f.Waiters())
		}
		runtime.Gosched()
	}
}

func TestRealisticProfile(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	e := newEnv(t, Options{Clock: fake, Profile: Realistic{BatchStartLatency: 2 * time.Second, PerRecordCost: 10 * time.Millisecond}})
	id := e.createIngest(`{"object":"Contact","operation":"insert"}`)["id"].(string)
	var sb strings.Builder
	sb.WriteString("LastName\n")
	for i := range 300 {
		fmt.Fprintf(&sb, "L%d\n", i)
	}
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", sb.String()), 201)
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)

	check := func(state string, processed float64) {
		t.Helper()
		info := e.v2State("ingest", id)
		if info["state"] != state || info["numberRecordsProcessed"] != processed {
			t.Fatalf("at %v: state %v processed %v, want %s %v", fake.Now(), info["state"], info["numberRecordsProcessed"], state, processed)
		}
	}
	waitForWaiters(t, fake, 1) // start latency
	check("InProgress", 0)
	fake.Advance(2 * time.Second)
	waitForWaiters(t, fake, 1) // first chunk: 200 records = 2 s
	check("InProgress", 0)
	fake.Advance(2 * time.Second)
	waitForWaiters(t, fake, 1) // second chunk: 100 records = 1 s
	check("InProgress", 200)
	fake.Advance(time.Second)
	e.idle()
	check("JobComplete", 300)
	if info := e.v2State("ingest", id); info["totalProcessingTime"] != 5000.0 {
		t.Errorf("totalProcessingTime = %v, want 5000", info["totalProcessingTime"])
	}
}

func TestRealisticSerialBulk1(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	e := newEnv(t, Options{Clock: fake, Profile: Realistic{BatchStartLatency: time.Second, MaxConcurrentBatches: 4}})
	r := e.do("POST", asyncV+"/job", xmlCT, fmt.Sprintf(jobXML, "insert", "Contact", "<concurrencyMode>Serial</concurrencyMode>", "CSV"))
	jobID := tag(r.body, "id")
	b1 := e.addBatch(jobID, "text/csv", "LastName\nA\n")
	b2 := e.addBatch(jobID, "text/csv", "LastName\nB\n")
	waitForWaiters(t, fake, 1)
	state := func(b string) string {
		return tag(e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b, "", "").body, "state")
	}
	if s1, s2 := state(b1), state(b2); s1 != "InProgress" || s2 != "Queued" {
		t.Fatalf("serial: %s %s, want InProgress Queued", s1, s2)
	}
	if n := fake.Waiters(); n != 1 {
		t.Errorf("%d batches waiting; a Serial job runs one at a time", n)
	}
	fake.Advance(time.Second)
	waitForWaiters(t, fake, 1)
	if s1, s2 := state(b1), state(b2); s1 != "Completed" || s2 != "InProgress" {
		t.Fatalf("serial: %s %s, want Completed InProgress", s1, s2)
	}
	fake.Advance(time.Second)
	e.idle()
	if s := state(b2); s != "Completed" {
		t.Errorf("second batch %s", s)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	upload := func(body string) string {
		id := e.createIngest(`{"object":"Contact","operation":"insert"}`)["id"].(string)
		wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", body), 201)
		wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
		e.idle()
		return id
	}
	e.svc.FailNextJob("InvalidBatch : injected failure")
	id := upload("LastName\nA\nB\n")
	if info := e.v2State("ingest", id); info["state"] != "Failed" || info["errorMessage"] != "InvalidBatch : injected failure" {
		t.Errorf("failed job: %v", info)
	}
	if r := e.do("GET", dataV+"/jobs/ingest/"+id+"/unprocessedrecords", "", ""); r.body != "\"LastName\"\n\"A\"\n\"B\"\n" {
		t.Errorf("unprocessed: %q", r.body)
	}

	e.svc.FailRows(org.RowFault{Object: "Contact", Field: "LastName", Value: "Bad", StatusCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "Rejected by rule"})
	id = upload("LastName\nGood\nBad\n")
	r := e.do("GET", dataV+"/jobs/ingest/"+id+"/failedResults", "", "")
	if r.body != "\"sf__Id\",\"sf__Error\",\"LastName\"\n\"\",\"FIELD_CUSTOM_VALIDATION_EXCEPTION:Rejected by rule:--\",\"Bad\"\n" {
		t.Errorf("row fault: %q", r.body)
	}

	e.svc.FailQueriesWithTimeout(1)
	r = e.do("POST", dataV+"/jobs/query", jsonCT, `{"operation":"query","query":"SELECT Id FROM Contact"}`)
	qid := jsonMap(t, r.body)["id"].(string)
	e.idle()
	if info := e.v2State("query", qid); info["state"] != "Failed" || !strings.HasPrefix(info["errorMessage"].(string), "QUERY_TIMEOUT") {
		t.Errorf("query timeout: %v", info)
	}

	e.svc.DropNextUploads(1)
	id = e.createIngest(`{"object":"Contact","operation":"insert"}`)["id"].(string)
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", e.srv.URL+dataV+"/jobs/ingest/"+id+"/batches", strings.NewReader("LastName\n"+strings.Repeat("x\n", 5000)))
	if res, err := http.DefaultClient.Do(req); err == nil {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Errorf("dropped upload answered %d %s", res.StatusCode, b)
	}
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", "LastName\nA\n"), 201)
}

func TestAbortWhileQueued(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	e := newEnv(t, Options{Clock: fake, Profile: Realistic{BatchStartLatency: time.Second, QueryLatency: time.Minute, MaxConcurrentBatches: 1}})
	jobID := e.createBulk1Job("insert", "Contact", "", "CSV")
	b1 := e.addBatch(jobID, "text/csv", "LastName\nA\n")
	b2 := e.addBatch(jobID, "text/csv", "LastName\nB\n")
	waitForWaiters(t, fake, 1)
	r := e.do("POST", asyncV+"/job/"+jobID, xmlCT, abortXML)
	wantStatus(t, r, 200)
	if tag(r.body, "state") != "Aborted" {
		t.Errorf("abort: %s", r.body)
	}
	if s := tag(e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b2, "", "").body, "state"); s != "NotProcessed" {
		t.Errorf("queued batch after abort: %s", s)
	}
	fake.Advance(time.Second)
	e.idle()
	// A batch already in progress finishes.
	if s := tag(e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b1, "", "").body, "state"); s != "Completed" {
		t.Errorf("started batch of an aborted job: %s", s)
	}
	if n := e.org.Count("Contact"); n != 1 {
		t.Errorf("%d contacts written, want 1", n)
	}

	// A Bulk 2.0 query can be aborted while it runs.
	r = e.do("POST", dataV+"/jobs/query", jsonCT, `{"operation":"query","query":"SELECT Id FROM Contact"}`)
	qid := jsonMap(t, r.body)["id"].(string)
	waitForWaiters(t, fake, 1)
	if st := e.v2State("query", qid)["state"]; st != "InProgress" {
		t.Errorf("query state %v", st)
	}
	r = e.do("GET", dataV+"/jobs/query/"+qid+"/results", "", "")
	if r.status != 412 || !strings.Contains(r.body, "JOB_NOT_COMPLETE") {
		t.Errorf("results before completion: %d %s", r.status, r.body)
	}
	r = e.do("PATCH", dataV+"/jobs/query/"+qid, jsonCT, `{"state":"Aborted"}`)
	wantStatus(t, r, 200)
	fake.Advance(time.Minute + time.Second)
	e.idle()
	if st := e.v2State("query", qid)["state"]; st != "Aborted" {
		t.Errorf("aborted query ended %v", st)
	}

	// Bulk 1.0 jobs stop taking batches after 24 hours.
	fake.Advance(25 * time.Hour)
	j2 := e.createBulk1Job("insert", "Contact", "", "CSV")
	fake.Advance(25 * time.Hour)
	r = e.do("POST", asyncV+"/job/"+j2+"/batch", "text/csv", "LastName\nA\n")
	if r.status != 400 || tag(r.body, "exceptionCode") != "InvalidJobState" {
		t.Errorf("batch on a day-old job: %d %s", r.status, r.body)
	}
}

func TestGzipUpload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.createIngest(`{"object":"Contact","operation":"insert"}`)["id"].(string)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("LastName\nZipped\n"))
	zw.Close()
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", buf.String(), "Content-Encoding", "gzip"), 201)
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
	e.idle()
	if info := e.v2State("ingest", id); info["numberRecordsProcessed"] != 1.0 || info["numberRecordsFailed"] != 0.0 {
		t.Errorf("gzip job: %v", info)
	}
}
