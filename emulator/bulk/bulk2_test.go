package bulk

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/emulator/wire"
	"github.com/sfbatch/sfbatch/sfcsv"
)

func (e *env) createIngest(body string) map[string]any {
	e.t.Helper()
	r := e.do("POST", dataV+"/jobs/ingest", "application/json; charset=utf-8", body)
	wantStatus(e.t, r, 200)
	wantContentType(e.t, r, wire.ContentTypeJSON)
	return jsonMap(e.t, r.body)
}

func (e *env) v2State(kind, id string) map[string]any {
	e.t.Helper()
	r := e.do("GET", dataV+"/jobs/"+kind+"/"+id, "", "")
	wantStatus(e.t, r, 200)
	return jsonMap(e.t, r.body)
}

func TestBulk2IngestLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	job := e.createIngest(`{"object":"Contact","operation":"insert","externalIdFieldName":""}`)
	id := job["id"].(string)
	for k, want := range map[string]any{"state": "Open", "operation": "insert", "object": "Contact", "concurrencyMode": "Parallel",
		"contentType": "CSV", "apiVersion": 62.0, "lineEnding": "LF", "columnDelimiter": "COMMA",
		"contentUrl": "services/data/v62.0/jobs/ingest/" + id + "/batches"} {
		if job[k] != want {
			t.Errorf("create %s = %v, want %v", k, job[k], want)
		}
	}
	if _, ok := job["externalIdFieldName"]; ok {
		t.Errorf("externalIdFieldName on an insert job: %v", job)
	}

	data := "FirstName,LastName,Email\nAda,Lovelace,ada@example.com\nNo,,no@example.com\n\"Multi\nLine\",Hopper,#N/A\n"
	r := e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", data)
	wantStatus(t, r, 201)
	if r.body != "" {
		t.Errorf("upload body %q", r.body)
	}
	r = e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", data)
	wantStatus(t, r, 400)
	if !strings.Contains(r.body, `"errorCode":"BULK_API_ERROR"`) || !strings.Contains(r.body, "Found multiple contents for job: "+id+", please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.") {
		t.Errorf("second upload: %s", r.body)
	}
	r = e.do("DELETE", dataV+"/jobs/ingest/"+id, "", "")
	wantStatus(t, r, 400) // Open jobs cannot be deleted.

	r = e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"id":"`+id+`","state":"UploadComplete"}`)
	wantStatus(t, r, 200)
	if m := jsonMap(t, r.body); m["state"] != "UploadComplete" {
		t.Errorf("close: %s", r.body)
	}
	e.idle()
	info := e.v2State("ingest", id)
	for k, want := range map[string]any{"state": "JobComplete", "jobType": "V2Ingest", "numberRecordsProcessed": 3.0, "numberRecordsFailed": 1.0, "retries": 0.0} {
		if info[k] != want {
			t.Errorf("info %s = %v, want %v", k, info[k], want)
		}
	}
	if r.header.Get("Sforce-Locator") != "" {
		t.Errorf("job info carries Sforce-Locator")
	}

	r = e.do("GET", dataV+"/jobs/ingest/"+id+"/successfulResults", jsonCT, "", "Accept", "application/json")
	wantStatus(t, r, 200)
	wantContentType(t, r, "text/csv")
	want := `"sf__Id","sf__Created","FirstName","LastName","Email"` + "\n" +
		`"003ID","true","Ada","Lovelace","ada@example.com"` + "\n" +
		`"003ID","true","Multi` + "\n" + `Line","Hopper","#N/A"` + "\n"
	if got := maskIDs(r.body); got != want {
		t.Errorf("successfulResults:\n%s\nwant\n%s", got, want)
	}
	r = e.do("GET", dataV+"/jobs/ingest/"+id+"/failedResults", "", "")
	want = `"sf__Id","sf__Error","FirstName","LastName","Email"` + "\n" +
		`"","REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --","No","","no@example.com"` + "\n"
	if r.body != want {
		t.Errorf("failedResults:\n%s\nwant\n%s", r.body, want)
	}
	for _, path := range []string{"unprocessedrecords", "unprocessedRecords", "unprocessedrecords/"} {
		r = e.do("GET", dataV+"/jobs/ingest/"+id+"/"+path, "", "")
		if r.status != 200 || r.body != `"FirstName","LastName","Email"`+"\n" {
			t.Errorf("%s: %d %q", path, r.status, r.body)
		}
	}
	// Illegal transitions.
	for _, st := range []string{"UploadComplete", "Aborted", "JobComplete", "Open"} {
		r = e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"`+st+`"}`)
		if r.status != 400 || !strings.Contains(r.body, `"errorCode":"INVALIDJOBSTATE"`) {
			t.Errorf("PATCH %s on JobComplete: %d %s", st, r.status, r.body)
		}
	}
	r = e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", data)
	wantStatus(t, r, 400)
	r = e.do("DELETE", dataV+"/jobs/ingest/"+id, "", "")
	wantStatus(t, r, 204)
	r = e.do("GET", dataV+"/jobs/ingest/"+id, "", "")
	wantStatus(t, r, 404)
	if r.body != `[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]` {
		t.Errorf("404 body: %s", r.body)
	}
}

func TestBulk2IngestCreateErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	for _, body := range []string{
		`{"object":"Nope__c","operation":"insert"}`,
		`{"object":"Contact","operation":"merge"}`,
		`{"object":"Contact","operation":"upsert"}`,
		`{"object":"Contact","operation":"insert","columnDelimiter":"COLON"}`,
		`{"object":"Contact","operation":"insert","lineEnding":"CR"}`,
		`{"object":"Contact","operation":"insert","contentType":"JSON"}`,
		`{"object":`,
	} {
		r := e.do("POST", dataV+"/jobs/ingest", jsonCT, body)
		if r.status != 400 || !strings.HasPrefix(r.body, `[{"message":`) {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
	r := e.do("POST", "/services/data/v40.0/jobs/ingest", jsonCT, `{"object":"Contact","operation":"insert"}`)
	wantStatus(t, r, 404)
}

func TestBulk2UpsertAndDialect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	job := e.createIngest(`{"object":"Contact","operation":"insert","columnDelimiter":"PIPE","lineEnding":"CRLF"}`)
	id := job["id"].(string)
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", "LastName|External_Id__c\r\nX|C1\r\nY|C2\r\n"), 201)
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
	e.idle()
	r := e.do("GET", dataV+"/jobs/ingest/"+id+"/successfulResults", "", "")
	want := `"sf__Id"|"sf__Created"|"LastName"|"External_Id__c"` + "\r\n" + `"003ID"|"true"|"X"|"C1"` + "\r\n" + `"003ID"|"true"|"Y"|"C2"` + "\r\n"
	if got := maskIDs(r.body); got != want {
		t.Errorf("pipe/CRLF results:\n%q\nwant\n%q", got, want)
	}

	job = e.createIngest(`{"object":"Contact","operation":"upsert","externalIdFieldName":"External_Id__c","contentType":"CSV","columnDelimiter":"COMMA","lineEnding":"LF"}`)
	id = job["id"].(string)
	if job["externalIdFieldName"] != "External_Id__c" {
		t.Errorf("upsert job: %v", job)
	}
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv; charset=UTF-8", "External_Id__c,LastName\nC1,X2\nC3,Z\n"), 201)
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
	e.idle()
	r = e.do("GET", dataV+"/jobs/ingest/"+id+"/successfulResults", "", "")
	want = `"sf__Id","sf__Created","External_Id__c","LastName"` + "\n" + `"003ID","false","C1","X2"` + "\n" + `"003ID","true","C3","Z"` + "\n"
	if got := maskIDs(r.body); got != want {
		t.Errorf("upsert results:\n%s\nwant\n%s", got, want)
	}

	// A line-ending mismatch fails the job with Salesforce's message.
	job = e.createIngest(`{"object":"Contact","operation":"insert"}`)
	id = job["id"].(string)
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", "LastName\r\nX\r\n"), 201)
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
	e.idle()
	info := e.v2State("ingest", id)
	if info["state"] != "Failed" || info["errorMessage"] != "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF" {
		t.Errorf("line ending mismatch: %v", info)
	}
	r = e.do("GET", dataV+"/jobs/ingest/"+id+"/unprocessedrecords", "", "")
	if r.body != "\"LastName\"\n\"X\"\n" {
		t.Errorf("unprocessed after failure: %q", r.body)
	}

	// Unknown column.
	job = e.createIngest(`{"object":"Contact","operation":"insert"}`)
	id = job["id"].(string)
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", "LastName,Foo__c\nX,1\n"), 201)
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
	e.idle()
	if info := e.v2State("ingest", id); info["errorMessage"] != "InvalidBatch : Field name not found : Foo__c" {
		t.Errorf("bad column: %v", info)
	}
}

func TestBulk2BackquoteSample(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	job := e.createIngest(`{"object":"Account","operation":"insert","columnDelimiter":"BACKQUOTE"}`)
	id := job["id"].(string)
	data := "NAME`TYPE`PHONE`WEBSITE`ANNUALREVENUE\naccount #0`Account`415-555-0000`http://www.accountUpsert0.com`0\naccount #1`Customer - Direct`415-555-0000`http://www.accountUpsert1.com`1000\n"
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", data), 201)
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
	e.idle()
	info := e.v2State("ingest", id)
	if info["state"] != "JobComplete" || info["numberRecordsProcessed"] != 2.0 {
		t.Fatalf("job: %v", info)
	}
	r := e.do("GET", dataV+"/jobs/ingest/"+id+"/successfulResults", "", "")
	if !strings.HasPrefix(r.body, "\"sf__Id\"`\"sf__Created\"`\"NAME\"`\"TYPE\"") {
		t.Errorf("backquote results: %s", r.body)
	}

	// Values over MaxFieldChars fail their row.
	id = e.createIngest(`{"object":"Contact","operation":"insert"}`)["id"].(string)
	long := strings.Repeat("y", MaxFieldChars+1)
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", "LastName,Description\nOK,short\nLong,"+long+"\n"), 201)
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
	e.idle()
	r = e.do("GET", dataV+"/jobs/ingest/"+id+"/failedResults", "", "")
	if !strings.Contains(r.body, `"STRING_TOO_LONG:Description: data value too large: yyyyyyyyyyyyyyyyyyyy... (max length=131072):Description --","Long"`) {
		t.Errorf("long field: %.300s", r.body)
	}
}

func TestBulk2Multipart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	body, ct := multipartBody(`{"object":"Contact","contentType":"CSV","operation":"insert","lineEnding":"LF"}`, "FirstName,LastName\nGrace,Hopper\n")
	r := e.do("POST", dataV+"/jobs/ingest/", ct, body, "Accept", "application/json")
	wantStatus(t, r, 200)
	m := jsonMap(t, r.body)
	if m["state"] != "UploadComplete" {
		t.Fatalf("multipart create: %s", r.body)
	}
	e.idle()
	if info := e.v2State("ingest", m["id"].(string)); info["state"] != "JobComplete" || info["numberRecordsProcessed"] != 1.0 {
		t.Errorf("multipart job: %v", info)
	}
}

func TestBulk2AbortAndList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	a := e.createIngest(`{"object":"Contact","operation":"insert"}`)["id"].(string)
	b := e.createIngest(`{"object":"Account","operation":"insert"}`)["id"].(string)
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+a+"/batches", "text/csv", "LastName\nX\n"), 201)
	r := e.do("PATCH", dataV+"/jobs/ingest/"+a, jsonCT, `{"state":"Aborted"}`)
	wantStatus(t, r, 200)
	if jsonMap(t, r.body)["state"] != "Aborted" {
		t.Errorf("abort: %s", r.body)
	}
	r = e.do("GET", dataV+"/jobs/ingest/"+a+"/unprocessedrecords", "", "")
	if r.body != "\"LastName\"\n\"X\"\n" {
		t.Errorf("unprocessed after abort: %q", r.body)
	}
	r = e.do("PATCH", dataV+"/jobs/ingest/"+a, jsonCT, `{"state":"UploadComplete"}`)
	wantStatus(t, r, 400)
	r = e.do("PATCH", dataV+"/jobs/ingest/"+b, jsonCT, `{"state":"Aborted"}`)
	wantStatus(t, r, 200)
	r = e.do("PUT", dataV+"/jobs/ingest/"+b+"/batches", "text/csv", "Name\nX\n")
	if r.status != 409 || !strings.Contains(r.body, `"errorCode":"INVALIDJOBSTATE"`) {
		t.Errorf("upload to aborted job: %d %s", r.status, r.body)
	}
	r = e.do("POST", dataV+"/jobs/ingest/"+b, jsonCT, `{}`)
	wantStatus(t, r, 405)
	c1 := e.createBulk1Job("insert", "Contact", "", "CSV")
	q := e.do("POST", dataV+"/jobs/query", jsonCT, `{"operation":"query","query":"SELECT Id FROM Contact"}`)
	wantStatus(t, q, 200)

	r = e.do("GET", dataV+"/jobs/ingest", "", "")
	wantStatus(t, r, 200)
	var list struct {
		Done           bool
		NextRecordsURL *string `json:"nextRecordsUrl"`
		Records        []map[string]any
	}
	if err := jsonUnmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	if !list.Done || list.NextRecordsURL != nil || len(list.Records) != 3 {
		t.Fatalf("list: %s", r.body)
	}
	got := []string{list.Records[0]["id"].(string), list.Records[1]["id"].(string), list.Records[2]["id"].(string), list.Records[2]["jobType"].(string)}
	if got[0] != a || got[1] != b || got[2] != c1 || got[3] != "Classic" {
		t.Errorf("list = %v", got)
	}
	r = e.do("GET", dataV+"/jobs/ingest?jobType=Classic", "", "")
	if err := jsonUnmarshal(r.body, &list); err != nil || len(list.Records) != 1 {
		t.Errorf("filtered list: %s", r.body)
	}
	r = e.do("GET", dataV+"/jobs/query", "", "")
	if err := jsonUnmarshal(r.body, &list); err != nil || len(list.Records) != 1 || list.Records[0]["jobType"] != "V2Query" {
		t.Errorf("query list: %s", r.body)
	}
}

func TestBulk2ListPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	for range MaxListJobs + 5 {
		e.svc.mu.Lock()
		j := &job{kind: kindV2Ingest, operation: "insert", object: "Contact", contentType: "CSV", concurrency: "Parallel", state: stateOpen}
		j.id = e.svc.newIDLocked(prefixJob)
		e.svc.addJobLocked(j)
		e.svc.mu.Unlock()
	}
	r := e.do("GET", dataV+"/jobs/ingest", "", "")
	var list struct {
		Done           bool
		NextRecordsURL string `json:"nextRecordsUrl"`
		Records        []map[string]any
	}
	if err := jsonUnmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	if list.Done || len(list.Records) != MaxListJobs || !strings.HasPrefix(list.NextRecordsURL, "/services/data/v62.0/jobs/ingest?queryLocator=") {
		t.Fatalf("page 1: done=%v n=%d next=%q", list.Done, len(list.Records), list.NextRecordsURL)
	}
	r = e.do("GET", list.NextRecordsURL, "", "")
	list.NextRecordsURL = ""
	if err := jsonUnmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	if !list.Done || len(list.Records) != 5 {
		t.Errorf("page 2: done=%v n=%d", list.Done, len(list.Records))
	}
}

// TestByteOrderMarkFailsHeader checks the protocol reference §3.9: Salesforce
// keeps a UTF-8 byte order mark as part of the first column name, so a file
// that starts with one fails with "Field name not found".
func TestByteOrderMarkFailsHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	data := sfcsv.BOM + "LastName,Email\nLovelace,ada@example.com\n"
	const want = "InvalidBatch : Field name not found : \ufeffLastName"

	jobID := e.createBulk1Job("insert", "Contact", "", "CSV")
	batchID := e.addBatch(jobID, "text/csv", data)
	job := e.createIngest(`{"object":"Contact","operation":"insert"}`)
	id := job["id"].(string)
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", data), 201)
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
	e.idle()

	r := e.do("GET", asyncV+"/job/"+jobID+"/batch/"+batchID, "", "")
	if tag(r.body, "state") != "Failed" || tag(r.body, "stateMessage") != want {
		t.Errorf("Bulk 1.0 batch: %s", r.body)
	}
	if info := e.v2State("ingest", id); info["state"] != "Failed" || info["errorMessage"] != want {
		t.Errorf("Bulk 2.0 job: state %v, errorMessage %q", info["state"], info["errorMessage"])
	}
	if n := e.org.Count("Contact"); n != 0 {
		t.Errorf("%d contacts written", n)
	}
}

// TestBulk2BadRowKeepsResultWidth checks that a row with the wrong number of
// fields fails alone and that the result files stay rectangular, so strict
// CSV readers (encoding/csv, as go-salesforce uses) can read them.
func TestBulk2BadRowKeepsResultWidth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	job := e.createIngest(`{"object":"Contact","operation":"insert"}`)
	id := job["id"].(string)
	data := "FirstName,LastName\nAda,Lovelace\nToo,Many,Fields\nShort\nGrace,Hopper\n"
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", data), 201)
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
	e.idle()
	total := 0
	for _, file := range []string{"successfulResults", "failedResults"} {
		r := e.do("GET", dataV+"/jobs/ingest/"+id+"/"+file, "", "")
		wantStatus(t, r, 200)
		recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatalf("%s is not rectangular CSV: %v\n%s", file, err, r.body)
		}
		total += len(recs) - 1
	}
	if total != 4 {
		t.Errorf("%d result rows, want 4 (one per input row)", total)
	}
}
