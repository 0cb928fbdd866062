package bulk

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/emulator/wire"
)

func (e *env) createBulk1Job(op, object, extra, contentType string, hdr ...string) string {
	e.t.Helper()
	r := e.do("POST", asyncV+"/job", xmlCT, fmt.Sprintf(jobXML, op, object, extra, contentType), hdr...)
	wantStatus(e.t, r, 201)
	id := tag(r.body, "id")
	if strings.HasPrefix(r.body, "{") {
		id, _ = jsonMap(e.t, r.body)["id"].(string)
	}
	if !strings.HasPrefix(id, "750") || len(id) != 18 {
		e.t.Fatalf("job id %q in %s", id, r.body)
	}
	return id
}

func (e *env) addBatch(jobID, contentType, body string) string {
	e.t.Helper()
	r := e.do("POST", asyncV+"/job/"+jobID+"/batch", contentType, body)
	wantStatus(e.t, r, 201)
	id := tag(r.body, "id")
	if id == "" {
		m := jsonMap(e.t, r.body)
		id, _ = m["id"].(string)
	}
	return id
}

func TestBulk1CSVInsertLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	jobID := e.createBulk1Job("insert", "Contact", "", "CSV")

	r := e.do("GET", asyncV+"/job/"+jobID, "", "")
	wantStatus(t, r, 200)
	wantContentType(t, r, wire.ContentTypeBulk1XML)
	for _, want := range []string{"<state>Open</state>", "<concurrencyMode>Parallel</concurrencyMode>", "<apiVersion>62.0</apiVersion>", "<numberBatchesTotal>0</numberBatchesTotal>", "<apexProcessingTime>0</apexProcessingTime>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("jobInfo lacks %s: %s", want, r.body)
		}
	}

	data := "FirstName,LastName,Email\nAda,Lovelace,ada@example.com\nNo,,no@example.com\n\"Grace, \"\"Amazing\"\"\",Hopper,#N/A\n"
	batchID := e.addBatch(jobID, "text/csv", data)
	e.idle()

	r = e.do("GET", asyncV+"/job/"+jobID+"/batch/"+batchID, "", "")
	wantStatus(t, r, 200)
	if got := tag(r.body, "state"); got != "Completed" {
		t.Fatalf("batch state = %q: %s", got, r.body)
	}
	if got := tag(r.body, "numberRecordsProcessed"); got != "3" {
		t.Errorf("numberRecordsProcessed = %s", got)
	}
	if got := tag(r.body, "numberRecordsFailed"); got != "1" {
		t.Errorf("numberRecordsFailed = %s", got)
	}

	r = e.do("GET", asyncV+"/job/"+jobID+"/batch/"+batchID+"/result", "", "")
	wantStatus(t, r, 200)
	wantContentType(t, r, "text/csv")
	want := `"Id","Success","Created","Error"` + "\n" +
		`"003ID","true","true",""` + "\n" +
		`"","false","false","REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"` + "\n" +
		`"003ID","true","true",""` + "\n"
	if got := maskIDs(r.body); got != want {
		t.Errorf("result file:\n%s\nwant:\n%s", got, want)
	}

	r = e.do("GET", asyncV+"/job/"+jobID+"/batch/"+batchID+"/request", "", "")
	if r.body != data {
		t.Errorf("request = %q, want %q", r.body, data)
	}

	r = e.do("GET", asyncV+"/job/"+jobID+"/batch", "", "")
	wantStatus(t, r, 200)
	if !strings.HasPrefix(r.body, `<?xml version="1.0" encoding="UTF-8"?><batchInfoList xmlns="http://www.force.com/2009/06/asyncapi/dataload"><batchInfo><id>`+batchID) {
		t.Errorf("batch list: %s", r.body)
	}

	r = e.do("POST", asyncV+"/job/"+jobID, xmlCT, closeXML)
	wantStatus(t, r, 200)
	for _, want := range []string{"<state>Closed</state>", "<numberBatchesCompleted>1</numberBatchesCompleted>", "<numberBatchesTotal>1</numberBatchesTotal>", "<numberRecordsProcessed>3</numberRecordsProcessed>", "<numberRecordsFailed>1</numberRecordsFailed>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("closed jobInfo lacks %s: %s", want, r.body)
		}
	}
	// Illegal transitions and requests.
	r = e.do("POST", asyncV+"/job/"+jobID+"/batch", "text/csv", data)
	wantStatus(t, r, 400)
	if got := tag(r.body, "exceptionCode"); got != "InvalidJobState" {
		t.Errorf("batch on closed job: %s", r.body)
	}
	r = e.do("POST", asyncV+"/job/"+jobID, xmlCT, closeXML)
	wantStatus(t, r, 400)
	r = e.do("POST", asyncV+"/job/"+jobID, xmlCT, abortXML)
	wantStatus(t, r, 200)
	r = e.do("POST", asyncV+"/job/"+jobID, xmlCT, abortXML)
	wantStatus(t, r, 400)
	if got := tag(r.body, "exceptionCode"); got != "InvalidJobState" {
		t.Errorf("abort aborted job: %s", r.body)
	}
	// Results stay readable after the job ends.
	r = e.do("GET", asyncV+"/job/"+jobID+"/batch/"+batchID+"/result", "", "")
	wantStatus(t, r, 200)
}

func TestBulk1Errors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	for _, tc := range []struct {
		name, method, path, ct, body, code string
	}{
		{"unknown job", "GET", "/job/750SB0000000000AAA", "", "", "InvalidJob"},
		{"bad operation", "POST", "/job", xmlCT, fmt.Sprintf(jobXML, "merge", "Contact", "", "CSV"), "InvalidJob"},
		{"bad object", "POST", "/job", xmlCT, fmt.Sprintf(jobXML, "insert", "Nope__c", "", "CSV"), "InvalidJob"},
		{"upsert without external id", "POST", "/job", xmlCT, fmt.Sprintf(jobXML, "upsert", "Contact", "", "CSV"), "InvalidJob"},
		{"bad xml", "POST", "/job", xmlCT, "<jobInfo", "InvalidXML"},
		{"bad url", "GET", "/jobs", "", "", "InvalidUrl"},
	} {
		r := e.do(tc.method, asyncV+tc.path, tc.ct, tc.body)
		if r.status != 400 || tag(r.body, "exceptionCode") != tc.code {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, r.status, r.body, tc.code)
		}
		if !strings.HasPrefix(r.body, `<?xml version="1.0" encoding="UTF-8"?><error xmlns="http://www.force.com/2009/06/asyncapi/dataload"><exceptionCode>`) {
			t.Errorf("%s: error shape %s", tc.name, r.body)
		}
		wantContentType(t, r, "application/xml")
	}
	r := e.do("GET", "/services/async/20.0/job/x", "", "")
	if r.status != 400 || tag(r.body, "exceptionCode") != "InvalidVersion" {
		t.Errorf("retired version: %d %s", r.status, r.body)
	}
	// JSON requests get JSON errors.
	r = e.do("POST", asyncV+"/job", jsonCT, `{"operation":"insert","object":"Nope__c","contentType":"JSON"}`)
	wantStatus(t, r, 400)
	wantContentType(t, r, "application/json")
	if m := jsonMap(t, r.body); m["exceptionCode"] != "InvalidJob" {
		t.Errorf("JSON error: %s", r.body)
	}
}

func TestBulk1JSONJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	r := e.do("POST", asyncV+"/job", jsonCT, `{"operation": "insert", "object": "Contact", "concurrencyMode": 1, "contentType": "JSON"}`)
	wantStatus(t, r, 201)
	wantContentType(t, r, "application/json")
	m := jsonMap(t, r.body)
	if m["concurrencyMode"] != "Serial" || m["state"] != "Open" || m["apiVersion"] != 62.0 {
		t.Errorf("job: %s", r.body)
	}
	if !strings.Contains(r.body, `"apiVersion":62.0`) {
		t.Errorf("apiVersion not a number with .0: %s", r.body)
	}
	jobID := m["id"].(string)
	b := e.addBatch(jobID, jsonCT, `[{"FirstName":"F0","LastName":"L0"},{"FirstName":"F1","LastName":null},{"LastName":"L2","Account":{"External_Id__c":"missing"}}]`)
	e.idle()
	r = e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b+"/result", "", "")
	wantStatus(t, r, 200)
	wantContentType(t, r, "application/json")
	var results []struct {
		Success bool    `json:"success"`
		Created bool    `json:"created"`
		ID      *string `json:"id"`
		Errors  []struct {
			StatusCode string   `json:"statusCode"`
			Message    string   `json:"message"`
			Fields     []string `json:"fields"`
		} `json:"errors"`
	}
	if err := jsonUnmarshal(r.body, &results); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if len(results) != 3 || !results[0].Success || !results[0].Created || results[0].ID == nil {
		t.Fatalf("results: %s", r.body)
	}
	if results[1].Success || results[1].ID != nil || len(results[1].Errors) != 1 || results[1].Errors[0].StatusCode != "REQUIRED_FIELD_MISSING" {
		t.Errorf("null LastName result: %s", r.body)
	}
	if results[2].Success || len(results[2].Errors) != 1 {
		t.Errorf("missing parent result: %s", r.body)
	}
	if !strings.HasPrefix(r.body, `[{"success":true,"created":true,"id":"003`) || !strings.Contains(r.body, `"errors":[]}`) {
		t.Errorf("result shape: %s", r.body)
	}
	r = e.do("GET", asyncV+"/job/"+jobID+"/batch", "", "")
	if !strings.HasPrefix(r.body, `{"batchInfo":[{"id":"`+b) {
		t.Errorf("batch list: %s", r.body)
	}
}

func TestBulk1XMLJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	jobID := e.createBulk1Job("insert", "Contact", "", "XML")
	b := e.addBatch(jobID, xmlCT, `<?xml version="1.0" encoding="UTF-8"?><sObjects xmlns="http://www.force.com/2009/06/asyncapi/dataload" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`+
		`<sObject><FirstName>Ada</FirstName><LastName>Lovelace &amp; Co</LastName></sObject>`+
		`<sObject><FirstName>X</FirstName><LastName xsi:nil="true"/></sObject></sObjects>`)
	e.idle()
	r := e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b+"/result", "", "")
	wantStatus(t, r, 200)
	wantContentType(t, r, "application/xml")
	want := `<?xml version="1.0" encoding="UTF-8"?><results xmlns="http://www.force.com/2009/06/asyncapi/dataload"><result><id>003ID</id><success>true</success><created>true</created></result>` +
		`<result><errors><fields>LastName</fields><message>Required fields are missing: [LastName]</message><statusCode>REQUIRED_FIELD_MISSING</statusCode></errors><id xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/><success>false</success><created>false</created></result></results>`
	if got := maskIDs(r.body); got != want {
		t.Errorf("results:\n%s\nwant\n%s", got, want)
	}
	res, err := e.org.Query(t.Context(), "SELECT LastName FROM Contact", false)
	if err != nil || res.Len() != 1 || res.Values(0)[0] != "Lovelace & Co" {
		t.Errorf("stored: %v %v", err, res)
	}
}

func TestBulk1BatchLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	jobID := e.createBulk1Job("insert", "Contact", "", "CSV")
	var sb strings.Builder
	sb.WriteString("LastName\n")
	for i := range MaxBatchRecords + 1 {
		fmt.Fprintf(&sb, "L%d\n", i)
	}
	tooMany := e.addBatch(jobID, "text/csv", sb.String())
	badCol := e.addBatch(jobID, "text/csv", "LastName,Nope__c\nx,y\n")
	empty := e.addBatch(jobID, "text/csv", "LastName\n")
	e.idle()
	for _, tc := range []struct{ id, msg string }{
		{tooMany, "InvalidBatch : Exceeded number of records: 10002. Number of records should be less than or equal to 10001"},
		{badCol, "InvalidBatch : Field name not found : Nope__c"},
		{empty, "InvalidBatch : Records not found"},
	} {
		r := e.do("GET", asyncV+"/job/"+jobID+"/batch/"+tc.id, "", "")
		if tag(r.body, "state") != "Failed" || tag(r.body, "stateMessage") != tc.msg {
			t.Errorf("batch %s: %s, want Failed %q", tc.id, r.body, tc.msg)
		}
	}
	if n := e.org.Count("Contact"); n != 0 {
		t.Errorf("%d contacts written by failed batches", n)
	}
	r := e.do("POST", asyncV+"/job/"+jobID+"/batch", "text/csv", "")
	if r.status != 400 || tag(r.body, "exceptionCode") != "ClientInputError" {
		t.Errorf("empty body: %d %s", r.status, r.body)
	}
	big := "LastName\n" + strings.Repeat("x", MaxBatchBytes) + "\n"
	id := e.addBatch(jobID, "text/csv", big)
	r = e.do("GET", asyncV+"/job/"+jobID+"/batch/"+id, "", "")
	if tag(r.body, "state") != "Failed" || tag(r.body, "stateMessage") != "InvalidBatch : Exceeded max size limit of 10000000" {
		t.Errorf("10 MB batch: %s", r.body)
	}
	lim := e.org.Limits()[limitBatches]
	// Every submitted batch counts, even one rejected for an empty body.
	if used := lim.Max - lim.Remaining; used != 5 {
		t.Errorf("DailyBulkApiBatches used = %d, want 5", used)
	}
}

func TestBulk1UpdateUpsertDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ins := e.createBulk1Job("insert", "Contact", "", "CSV")
	b := e.addBatch(ins, "text/csv", "LastName,External_Id__c,Email\nA,E-1,a@example.com\nB,E-2,b@example.com\n")
	e.idle()
	r := e.do("GET", asyncV+"/job/"+ins+"/batch/"+b+"/result", "", "")
	lines := strings.Split(strings.TrimSpace(r.body), "\n")
	id1 := strings.Trim(strings.Split(lines[1], ",")[0], `"`)

	up := e.createBulk1Job("upsert", "Contact", "<externalIdFieldName>External_Id__c</externalIdFieldName>", "CSV")
	b = e.addBatch(up, "text/csv", "External_Id__c,LastName,Email\nE-1,A2,\nE-3,C,#N/A\n")
	e.idle()
	r = e.do("GET", asyncV+"/job/"+up+"/batch/"+b+"/result", "", "")
	want := `"Id","Success","Created","Error"` + "\n" + `"` + id1 + `","true","false",""` + "\n" + `"003ID","true","true",""` + "\n"
	if got := r.body; maskIDs(got) != maskIDs(want) || !strings.Contains(got, id1) {
		t.Errorf("upsert results:\n%s\nwant\n%s", got, want)
	}
	rec, err := e.org.Get(t.Context(), "Contact", id1, []string{"LastName", "Email"})
	if err != nil || rec["LastName"] != "A2" || rec["Email"] != "a@example.com" {
		t.Errorf("after upsert (empty cell keeps Email): %v %v", rec, err)
	}

	del := e.createBulk1Job("delete", "Contact", "", "CSV")
	b = e.addBatch(del, "text/csv", "Id\n"+id1+"\n003SB0000000000AAA\n")
	e.idle()
	r = e.do("GET", asyncV+"/job/"+del+"/batch/"+b+"/result", "", "")
	lines = strings.Split(strings.TrimSpace(r.body), "\n")
	if len(lines) != 3 || lines[1] != `"`+id1+`","true","false",""` || !strings.HasPrefix(strings.ToUpper(lines[2]), `"003SB0000000000AAA","FALSE","FALSE",`) {
		t.Errorf("delete results:\n%s", r.body)
	}
}

func TestBulk1SerialAndAbort(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	r := e.do("POST", asyncV+"/job", xmlCT, fmt.Sprintf(jobXML, "insert", "Contact", "<concurrencyMode>Serial</concurrencyMode>", "CSV"))
	wantStatus(t, r, 201)
	if tag(r.body, "concurrencyMode") != "Serial" {
		t.Errorf("job: %s", r.body)
	}
	jobID := tag(r.body, "id")
	for i := range 3 {
		e.addBatch(jobID, "text/csv", fmt.Sprintf("LastName\nS%d\n", i))
	}
	e.idle()
	r = e.do("GET", asyncV+"/job/"+jobID, "", "")
	if tag(r.body, "numberBatchesCompleted") != "3" || tag(r.body, "numberRecordsProcessed") != "3" {
		t.Errorf("serial job: %s", r.body)
	}
}
