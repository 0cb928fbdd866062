package bulk

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
)

// contactRows returns a CSV upload of n Contacts.
func contactRows(prefix string, n int) string {
	var sb strings.Builder
	sb.WriteString("LastName\n")
	for i := range n {
		fmt.Fprintf(&sb, "%s%d\n", prefix, i)
	}
	return sb.String()
}

// runIngest creates a Bulk 2.0 insert job of Contacts, uploads data, closes
// it, waits until the service is idle and returns the job's id and info.
func (e *env) runIngest(data string) (string, map[string]any) {
	e.t.Helper()
	id := e.createIngest(`{"object":"Contact","operation":"insert"}`)["id"].(string)
	wantStatus(e.t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", data), 201)
	wantStatus(e.t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
	e.idle()
	return id, e.v2State("ingest", id)
}

// csvLines counts the data rows of a result file (lines after the header).
func csvLines(body string) int {
	return strings.Count(body, "\n") - 1
}

func TestBulk2IngestRecordsCounted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	lim := e.org.Limits()[limitV2Records]
	if lim != (org.Limit{Max: DailyIngestRecords, Remaining: DailyIngestRecords}) || DailyIngestRecords != 150_000_000 {
		t.Fatalf("%s = %+v, want 150,000,000 untouched", limitV2Records, lim)
	}
	_, info := e.runIngest(contactRows("C", 450))
	if info["state"] != "JobComplete" || info["numberRecordsProcessed"] != 450.0 {
		t.Fatalf("job: %v", info)
	}
	// Bulk 1.0 batches do not count against the Bulk 2.0 allowance.
	jobID := e.createBulk1Job("insert", "Contact", "", "CSV")
	e.addBatch(jobID, "text/csv", contactRows("B", 7))
	e.idle()
	lim = e.org.Limits()[limitV2Records]
	if used := lim.Max - lim.Remaining; used != 450 {
		t.Errorf("%s used = %d, want 450", limitV2Records, used)
	}
}

func TestBulk2IngestRecordsExhausted(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	e := newEnv(t, Options{Clock: fake})
	e.org.SetLimit(limitV2Records, 200, 200)

	// The first 200-record chunk fits; the next one does not: the job
	// fails and the rest is unprocessed.
	id, info := e.runIngest(contactRows("A", 300))
	if info["state"] != "Failed" || info["numberRecordsProcessed"] != 200.0 || info["numberRecordsFailed"] != 0.0 ||
		info["errorMessage"] != msgIngestRecordsExceeded {
		t.Fatalf("job over the allowance: %v", info)
	}
	if n := e.org.Count("Contact"); n != 200 {
		t.Errorf("%d contacts written, want 200", n)
	}
	r := e.do("GET", dataV+"/jobs/ingest/"+id+"/successfulResults", "", "")
	if n := csvLines(r.body); n != 200 {
		t.Errorf("successfulResults has %d rows, want 200", n)
	}
	r = e.do("GET", dataV+"/jobs/ingest/"+id+"/unprocessedrecords", "", "")
	if n := csvLines(r.body); n != 100 || !strings.HasPrefix(r.body, "\"LastName\"\n\"A200\"\n") {
		t.Errorf("unprocessedrecords has %d rows, want A200..A299:\n%.40s", n, r.body)
	}
	if lim := e.org.Limits()[limitV2Records]; lim != (org.Limit{Max: 200, Remaining: 0}) {
		t.Errorf("%s = %+v, want used up", limitV2Records, lim)
	}

	// Later jobs are refused until the counter resets.
	id, info = e.runIngest(contactRows("B", 3))
	if info["state"] != "Failed" || info["numberRecordsProcessed"] != 0.0 || info["errorMessage"] != msgIngestRecordsExceeded {
		t.Fatalf("job while used up: %v", info)
	}
	r = e.do("GET", dataV+"/jobs/ingest/"+id+"/unprocessedrecords", "", "")
	if r.body != "\"LastName\"\n\"B0\"\n\"B1\"\n\"B2\"\n" {
		t.Errorf("unprocessedrecords:\n%s", r.body)
	}

	fake.Advance(24 * time.Hour)
	if lim := e.org.Limits()[limitV2Records]; lim.Remaining != 200 {
		t.Errorf("after the daily reset %s = %+v", limitV2Records, lim)
	}
	_, info = e.runIngest(contactRows("C", 3))
	if info["state"] != "JobComplete" || info["numberRecordsProcessed"] != 3.0 {
		t.Errorf("job after the reset: %v", info)
	}
	if n := e.org.Count("Contact"); n != 203 {
		t.Errorf("%d contacts, want 203", n)
	}
}

func TestMaxOpenJobsDefault(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opt, want int
	}{
		{0, DefaultMaxOpenJobs},
		{7, 7},
		{-1, 0},
	} {
		o, err := org.New(org.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		s := New(o, Options{MaxOpenJobs: tc.opt})
		if s.maxOpen != tc.want {
			t.Errorf("MaxOpenJobs %d: cap %d, want %d", tc.opt, s.maxOpen, tc.want)
		}
		_ = s.Close()
		_ = o.Close()
	}
}

// multipartCreate posts a multipart create-with-data request.
func (e *env) multipartCreate(jobJSON, content string) resp {
	e.t.Helper()
	body, ct := multipartBody(jobJSON, content)
	return e.do("POST", dataV+"/jobs/ingest", ct, body)
}

// multipartBody is a create-with-data request's body and content type.
func multipartBody(jobJSON, content string) (body, contentType string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `form-data; name="job"`)
	p, _ := mw.CreatePart(h)
	fmt.Fprint(p, jobJSON)
	h = textproto.MIMEHeader{}
	h.Set("Content-Type", "text/csv")
	h.Set("Content-Disposition", `form-data; name="content"; filename="content"`)
	p, _ = mw.CreatePart(h)
	fmt.Fprint(p, content)
	_ = mw.Close()
	return buf.String(), mw.FormDataContentType()
}

func TestMaxOpenJobsBulk2(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	e := newEnv(t, Options{MaxOpenJobs: 2, Clock: fake, Profile: Realistic{BatchStartLatency: time.Hour}})
	const create = `{"object":"Contact","operation":"insert"}`
	first := e.createIngest(create)["id"].(string)
	second := e.createIngest(create)["id"].(string)

	refused := func(what string, r resp) {
		t.Helper()
		want := `[{"message":"` + msgOpenJobs(2) + `","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`
		if r.status != 403 || r.body != want {
			t.Errorf("%s past the cap: %d %s, want 403 %s", what, r.status, r.body, want)
		}
	}
	refused("create", e.do("POST", dataV+"/jobs/ingest", jsonCT, create))
	refused("multipart create", e.multipartCreate(create, "LastName\nM\n"))
	// Query jobs are not capped.
	wantStatus(t, e.do("POST", dataV+"/jobs/query", jsonCT, `{"operation":"query","query":"SELECT Id FROM Contact"}`), 200)

	// A job in progress holds its slot; once it completes the slot is free.
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+first+"/batches", "text/csv", "LastName\nX\n"), 201)
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+first, jsonCT, `{"state":"UploadComplete"}`), 200)
	waitForWaiters(t, fake, 1) // the internal batch waits for its start
	if st := e.v2State("ingest", first)["state"]; st != "InProgress" {
		t.Fatalf("first job %v, want InProgress", st)
	}
	refused("create beside an InProgress job", e.do("POST", dataV+"/jobs/ingest", jsonCT, create))
	fake.Advance(time.Hour)
	e.idle()
	if st := e.v2State("ingest", first)["state"]; st != "JobComplete" {
		t.Fatalf("first job %v, want JobComplete", st)
	}
	e.createIngest(create)
	refused("create", e.do("POST", dataV+"/jobs/ingest", jsonCT, create))

	// Aborting frees a slot too.
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+second, jsonCT, `{"state":"Aborted"}`), 200)
	e.createIngest(create)
}

func TestMaxOpenJobsBulk1(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{MaxOpenJobs: 2})
	first := e.createBulk1Job("insert", "Contact", "", "CSV")
	e.createIngest(`{"object":"Contact","operation":"insert"}`) // both APIs share the cap

	r := e.do("POST", asyncV+"/job", xmlCT, fmt.Sprintf(jobXML, "insert", "Contact", "", "CSV"))
	if r.status != 400 || tag(r.body, "exceptionCode") != "ExceededQuota" || tag(r.body, "exceptionMessage") != msgOpenJobs(2) ||
		!strings.Contains(r.body, `<error xmlns="http://www.force.com/2009/06/asyncapi/dataload">`) {
		t.Errorf("XML create past the cap: %d %s", r.status, r.body)
	}
	r = e.do("POST", asyncV+"/job", jsonCT, `{"operation":"insert","object":"Contact","contentType":"JSON"}`)
	if want := `{"exceptionCode":"ExceededQuota","exceptionMessage":"` + msgOpenJobs(2) + `"}`; r.status != 400 || r.body != want {
		t.Errorf("JSON create past the cap: %d %s, want 400 %s", r.status, r.body, want)
	}
	refusedV2 := e.do("POST", dataV+"/jobs/ingest", jsonCT, `{"object":"Contact","operation":"insert"}`)
	wantStatus(t, refusedV2, 403)

	// A Closed job no longer counts, even while its batches run.
	e.addBatch(first, "text/csv", "LastName\nA\n")
	wantStatus(t, e.do("POST", asyncV+"/job/"+first, xmlCT, closeXML), 200)
	second := e.createBulk1Job("query", "Contact", "", "CSV")
	r = e.do("POST", asyncV+"/job", xmlCT, fmt.Sprintf(jobXML, "insert", "Contact", "", "CSV"))
	wantStatus(t, r, 400)
	wantStatus(t, e.do("POST", asyncV+"/job/"+second, xmlCT, abortXML), 200)
	e.createBulk1Job("insert", "Contact", "", "CSV")
}
