package salesforce

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Samples from the protocol reference (samples/bulk1-*) and §3.
const (
	sampleBulk1JobCreateJSON = `{"apiVersion": 42.0, "concurrencyMode": "Parallel", "contentType": "JSON", "id": "Job-1", "object": "Contact", "operation": "insert", "state": "Open"}`
	sampleBulk1JobCloseJSON  = `{"apiVersion" : 42.0, "concurrencyMode" : "Parallel", "contentType" : "JSON", "id" : "Job-1", "object" : "Contact", "operation" : "insert", "state" : "Closed"}`
	sampleBulk1BatchFailed   = `{"id": "Batch-1", "jobId": "Job-1", "state": "Failed", "stateMessage": "InvalidBatch : Failed to process query"}`
	sampleBulk1ResultIngest  = `[{"success": true, "created": true, "id": "001xx000003DHP0AAO", "errors": []}, {"success": true, "created": true, "id": "001xx000003DHP1AAO", "errors": []}]`
	sampleBulk1ResultList    = `["752x000000000F1","752x000000000F2"]`

	xmlJobInfo   = `<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><id>750x0000000001AAA</id><operation>upsert</operation><object>Contact</object><externalIdFieldName>Ext_Id__c</externalIdFieldName><createdById>005x0000000001AAA</createdById><createdDate>2015-12-15T21:41:45.000Z</createdDate><systemModstamp>2015-12-15T21:41:45.000Z</systemModstamp><state>Open</state><concurrencyMode>Serial</concurrencyMode><contentType>CSV</contentType><numberBatchesQueued>1</numberBatchesQueued><numberBatchesInProgress>2</numberBatchesInProgress><numberBatchesCompleted>3</numberBatchesCompleted><numberBatchesFailed>4</numberBatchesFailed><numberBatchesTotal>10</numberBatchesTotal><numberRecordsProcessed>30000</numberRecordsProcessed><numberRetries>1</numberRetries><apiVersion>62.0</apiVersion><numberRecordsFailed>7</numberRecordsFailed><totalProcessingTime>900</totalProcessingTime><apiActiveProcessingTime>800</apiActiveProcessingTime><apexProcessingTime>5</apexProcessingTime></jobInfo>`
	xmlBatchInfo = `<?xml version="1.0" encoding="UTF-8"?><batchInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><id>751x0000000001AAA</id><jobId>750x0000000001AAA</jobId><state>Queued</state><createdDate>2015-12-15T21:56:43.000Z</createdDate><systemModstamp>2015-12-15T21:56:43.000Z</systemModstamp><numberRecordsProcessed>0</numberRecordsProcessed><numberRecordsFailed>0</numberRecordsFailed><totalProcessingTime>0</totalProcessingTime><apiActiveProcessingTime>0</apiActiveProcessingTime><apexProcessingTime>0</apexProcessingTime></batchInfo>`
)

func TestBulk1CreateJob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		req         JobRequest
		respType    string
		resp        string
		wantCT      string
		wantBody    string
		wantHeaders map[string]string
		wantJob     *Job
	}{
		{
			name:     "xml upsert serial",
			req:      JobRequest{Object: "Contact", Operation: "upsert", ExternalIDFieldName: "Ext_Id__c", ConcurrencyMode: "Serial"},
			respType: "application/xml",
			resp:     xmlJobInfo,
			wantCT:   "application/xml; charset=UTF-8",
			wantBody: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>upsert</operation><object>Contact</object><externalIdFieldName>Ext_Id__c</externalIdFieldName><concurrencyMode>Serial</concurrencyMode><contentType>CSV</contentType></jobInfo>`,
			wantJob: &Job{ID: "750x0000000001AAA", Operation: "upsert", Object: "Contact", ExternalIDFieldName: "Ext_Id__c", CreatedByID: "005x0000000001AAA",
				CreatedDate: "2015-12-15T21:41:45.000Z", SystemModstamp: "2015-12-15T21:41:45.000Z", State: "Open", ConcurrencyMode: "Serial", ContentType: "CSV", APIVersion: "62.0",
				NumberBatchesQueued: 1, NumberBatchesInProgress: 2, NumberBatchesCompleted: 3, NumberBatchesFailed: 4, NumberBatchesTotal: 10, NumberRecordsProcessed: 30000,
				NumberRetries: 1, NumberRecordsFailed: 7, TotalProcessingTime: 900, APIActiveProcessingTime: 800, ApexProcessingTime: 5},
		},
		{
			name:     "xml query with pk chunking and headers",
			req:      JobRequest{Object: "Account", Operation: "queryAll", ContentType: "XML", AssignmentRuleID: "01Qx", PKChunking: &PKChunking{ChunkSize: 50000, Parent: "Account", StartRow: "001x000000000001AAA"}, DisableBatchRetry: true, LineEnding: "CRLF"},
			respType: "application/xml",
			resp:     xmlJobInfo,
			wantCT:   "application/xml; charset=UTF-8",
			wantBody: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>queryAll</operation><object>Account</object><assignmentRuleId>01Qx</assignmentRuleId><contentType>XML</contentType></jobInfo>`,
			wantHeaders: map[string]string{
				"Sforce-Enable-PKChunking":   "chunkSize=50000; parent=Account; startRow=001x000000000001AAA",
				"Sforce-Disable-Batch-Retry": "TRUE",
				"Sforce-Line-Ending":         "CRLF",
			},
		},
		{
			name:        "pk chunking defaults",
			req:         JobRequest{Object: "Account", Operation: "query", PKChunking: &PKChunking{}},
			respType:    "application/xml",
			resp:        xmlJobInfo,
			wantCT:      "application/xml; charset=UTF-8",
			wantBody:    `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>query</operation><object>Account</object><contentType>CSV</contentType></jobInfo>`,
			wantHeaders: map[string]string{"Sforce-Enable-PKChunking": "true"},
		},
		{
			name:     "json insert",
			req:      JobRequest{Object: "Contact", Operation: "insert", ContentType: "JSON", ConcurrencyMode: "Parallel"},
			respType: "application/json",
			resp:     sampleBulk1JobCreateJSON,
			wantCT:   "application/json",
			wantBody: `{"operation":"insert","object":"Contact","concurrencyMode":"Parallel","contentType":"JSON"}`,
			wantJob:  &Job{ID: "Job-1", Operation: "insert", Object: "Contact", State: "Open", ConcurrencyMode: "Parallel", ContentType: "JSON", APIVersion: "42.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) { writeBody(w, 201, tt.respType, tt.resp) }}
			c, _ := newFakeOrgClient(t, rec)
			job, err := c.Bulk1.CreateJob(t.Context(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			got := rec.last(t)
			if got.Method != "POST" || got.Path != "/services/async/62.0/job" {
				t.Errorf("request = %s %s", got.Method, got.Path)
			}
			mustHeader(t, got, "X-SFDC-Session", "tok-1")
			mustHeader(t, got, "Authorization", "")
			mustHeader(t, got, "Content-Type", tt.wantCT)
			for k, v := range tt.wantHeaders {
				mustHeader(t, got, k, v)
			}
			if strings.HasPrefix(tt.wantCT, "application/json") {
				if d := jsonDiff(t, got.Body, tt.wantBody); d != "" {
					t.Errorf("body (-want +got):\n%s", d)
				}
			} else if got.Body != tt.wantBody {
				t.Errorf("body =\n%s\nwant\n%s", got.Body, tt.wantBody)
			}
			if tt.wantJob != nil {
				if d := cmp.Diff(tt.wantJob, job); d != "" {
					t.Errorf("job (-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestBulk1CreateJobInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  JobRequest
		want string
	}{
		{"no object", JobRequest{Operation: "insert"}, "Object is required"},
		{"bad operation", JobRequest{Object: "A", Operation: "merge"}, `Operation "merge"`},
		{"upsert without field", JobRequest{Object: "A", Operation: "upsert"}, "ExternalIDFieldName"},
		{"bad content type", JobRequest{Object: "A", Operation: "insert", ContentType: "PARQUET"}, `ContentType "PARQUET"`},
		{"bad concurrency", JobRequest{Object: "A", Operation: "insert", ConcurrencyMode: "Fast"}, `ConcurrencyMode "Fast"`},
		{"pk chunking on insert", JobRequest{Object: "A", Operation: "insert", PKChunking: &PKChunking{}}, "query jobs only"},
		{"pk chunk too big", JobRequest{Object: "A", Operation: "query", PKChunking: &PKChunking{ChunkSize: 250001}}, "chunk size 250001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {}}
			c, _ := newFakeOrgClient(t, rec)
			_, err := c.Bulk1.CreateJob(t.Context(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if len(rec.all()) != 0 {
				t.Error("invalid request reached the server")
			}
		})
	}
}

func TestBulk1JobStateChanges(t *testing.T) {
	t.Parallel()
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		writeBody(w, 200, "application/json", sampleBulk1JobCloseJSON)
	}}
	c, _ := newFakeOrgClient(t, rec)
	job, err := c.Bulk1.CloseJob(t.Context(), "Job-1")
	if err != nil {
		t.Fatal(err)
	}
	if job.State != "Closed" || job.APIVersion != "42.0" {
		t.Errorf("job = %+v", job)
	}
	if _, err := c.Bulk1.AbortJob(t.Context(), "Job-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Bulk1.GetJob(t.Context(), "Job-1"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rec.all() {
		got = append(got, r.Method+" "+r.Path+" "+strings.TrimPrefix(r.Body, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"))
	}
	want := []string{
		`POST /services/async/62.0/job/Job-1 <jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Closed</state></jobInfo>`,
		`POST /services/async/62.0/job/Job-1 <jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>Aborted</state></jobInfo>`,
		`GET /services/async/62.0/job/Job-1 `,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

func TestBulk1AddBatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		contentType, wantCT string
	}{
		{"CSV", "text/csv; charset=UTF-8"},
		{"", "text/csv; charset=UTF-8"},
		{"JSON", "application/json"},
		{"XML", "application/xml; charset=UTF-8"},
		{"ZIP_CSV", "zip/csv"},
		{"text/csv", "text/csv"},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
				writeBody(w, 201, "application/xml", xmlBatchInfo)
			}}
			c, _ := newFakeOrgClient(t, rec)
			data := "FirstName,LastName\nAda,Lovelace\n"
			b, err := c.Bulk1.AddBatch(t.Context(), "750x0000000001AAA", tt.contentType, BytesBody([]byte(data)))
			if err != nil {
				t.Fatal(err)
			}
			got := rec.last(t)
			if got.Path != "/services/async/62.0/job/750x0000000001AAA/batch" || got.Body != data {
				t.Errorf("request = %s %s %q", got.Method, got.Path, got.Body)
			}
			mustHeader(t, got, "Content-Type", tt.wantCT)
			mustHeader(t, got, "X-SFDC-Session", "tok-1")
			want := &Batch{ID: "751x0000000001AAA", JobID: "750x0000000001AAA", State: "Queued", CreatedDate: "2015-12-15T21:56:43.000Z", SystemModstamp: "2015-12-15T21:56:43.000Z"}
			if d := cmp.Diff(want, b); d != "" {
				t.Errorf("batch (-want +got):\n%s", d)
			}
		})
	}
}

func TestBulk1AddQueryBatch(t *testing.T) {
	t.Parallel()
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		writeBody(w, 201, "application/xml", xmlBatchInfo)
	}}
	c, _ := newFakeOrgClient(t, rec)
	if _, err := c.Bulk1.AddQueryBatch(t.Context(), "750x", "CSV", "SELECT Id FROM Contact"); err != nil {
		t.Fatal(err)
	}
	got := rec.last(t)
	mustHeader(t, got, "Content-Type", "text/csv")
	if got.Body != "SELECT Id FROM Contact" {
		t.Errorf("body = %q", got.Body)
	}
}

func TestBulk1Batches(t *testing.T) {
	t.Parallel()
	list := `<?xml version="1.0" encoding="UTF-8"?><batchInfoList xmlns="http://www.force.com/2009/06/asyncapi/dataload">` +
		`<batchInfo><id>751A</id><jobId>750x</jobId><state>NotProcessed</state></batchInfo>` +
		`<batchInfo><id>751B</id><jobId>750x</jobId><state>Completed</state><numberRecordsProcessed>100000</numberRecordsProcessed></batchInfo></batchInfoList>`
	tests := []struct {
		name, ct, body string
		want           []string
	}{
		{"xml", "application/xml", list, []string{"751A NotProcessed 0", "751B Completed 100000"}},
		{"json", "application/json", `{"batchInfo":[{"id":"751A","jobId":"750x","state":"Queued"},{"id":"751B","jobId":"750x","state":"InProgress","numberRecordsProcessed":5}]}`, []string{"751A Queued 0", "751B InProgress 5"}},
		{"json single", "application/json", `{"batchInfo":{"id":"751A","jobId":"750x","state":"Completed"}}`, []string{"751A Completed 0"}},
		{"xml empty", "application/xml", `<batchInfoList xmlns="http://www.force.com/2009/06/asyncapi/dataload"/>`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) { writeBody(w, 200, tt.ct, tt.body) }}
			c, _ := newFakeOrgClient(t, rec)
			bs, err := c.Bulk1.ListBatches(t.Context(), "750x")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range bs {
				got = append(got, b.ID+" "+b.State+" "+strconv.FormatInt(b.NumberRecordsProcessed, 10))
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("batches (-want +got):\n%s", d)
			}
			if p := rec.last(t).Path; p != "/services/async/62.0/job/750x/batch" {
				t.Errorf("path = %s", p)
			}
		})
	}
}

func TestBulk1GetBatchFailed(t *testing.T) {
	t.Parallel()
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		writeBody(w, 200, "application/json", sampleBulk1BatchFailed)
	}}
	c, _ := newFakeOrgClient(t, rec)
	b, err := c.Bulk1.GetBatch(t.Context(), "Job-1", "Batch-1")
	if err != nil {
		t.Fatal(err)
	}
	if b.State != BatchStateFailed || b.StateMessage != "InvalidBatch : Failed to process query" || !b.Terminal() {
		t.Errorf("batch = %+v", b)
	}
	if p := rec.last(t).Path; p != "/services/async/62.0/job/Job-1/batch/Batch-1" {
		t.Errorf("path = %s", p)
	}
}

func TestBulk1BatchResults(t *testing.T) {
	t.Parallel()
	csvResults := "\"Id\",\"Success\",\"Created\",\"Error\"\n" +
		"\"0035g00000Kq1aBAAR\",\"true\",\"true\",\"\"\n" +
		"\"0035g00000Kq1aCAAR\",\"true\",\"false\",\"\"\n" +
		"\"\",\"false\",\"false\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --\"\n"
	xmlResults := `<?xml version="1.0" encoding="UTF-8"?><results xmlns="http://www.force.com/2009/06/asyncapi/dataload">` +
		`<result><id>0035g00000Kq1aBAAR</id><success>true</success><created>true</created></result>` +
		`<result><id>0035g00000Kq1aCAAR</id><success>true</success><created>false</created></result>` +
		`<result><id/><success>false</success><created>false</created><errors><fields>LastName</fields><message>Required fields are missing: [LastName]</message><statusCode>REQUIRED_FIELD_MISSING</statusCode></errors></result></results>`
	jsonResults := `[{"success":true,"created":true,"id":"0035g00000Kq1aBAAR","errors":[]},{"success":true,"created":false,"id":"0035g00000Kq1aCAAR","errors":[]},` +
		`{"success":false,"created":false,"id":null,"errors":[{"fields":["LastName"],"message":"Required fields are missing: [LastName]","statusCode":"REQUIRED_FIELD_MISSING"}]}]`
	want := []SaveResult{
		{ID: "0035g00000Kq1aBAAR", Success: true, Created: true},
		{ID: "0035g00000Kq1aCAAR", Success: true},
		{Errors: []RecordError{{StatusCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [LastName]", Fields: []string{"LastName"}}}},
	}
	tests := []struct{ name, ct, body string }{
		{"csv", "text/csv", csvResults},
		{"xml", "application/xml", xmlResults},
		{"json", "application/json", jsonResults},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) { writeBody(w, 200, tt.ct, tt.body) }}
			c, _ := newFakeOrgClient(t, rec)
			rc, err := c.Bulk1.BatchResults(t.Context(), "750x", "751x")
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			var got []SaveResult
			for r, err := range ReadBatchResults(rc, tt.ct) {
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Errors) == 0 {
					r.Errors = nil
				}
				got = append(got, r)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("results (-want +got):\n%s", d)
			}
			if p := rec.last(t).Path; p != "/services/async/62.0/job/750x/batch/751x/result" {
				t.Errorf("path = %s", p)
			}
		})
	}
}

func TestReadBatchResultsMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, ct, body, want string }{
		{"csv empty", "CSV", "", "empty"},
		{"csv missing column", "CSV", "\"Id\",\"Success\"\n", "no Created column"},
		{"csv bad quote", "CSV", "\"Id\",\"Success\",\"Created\",\"Error\"\n\"a\"x,\"true\",\"true\",\"\"\n", "line 2"},
		{"json not array", "JSON", `{"a":1}`, "want a JSON array"},
		{"json truncated", "JSON", `[{"success":true}`, "EOF"},
		{"json truncated after comma", "JSON", `[{"success":true},`, "EOF"},
		{"json empty", "JSON", ``, "EOF"},
		{"json second array", "JSON", `[{"success":true}] [{"success":true}]`, "after the array"},
		{"xml empty", "XML", ``, "no <results> element"},
		{"xml garbage", "XML", `<results><result><id>1</id>`, "EOF"},
		{"xml wrong element", "XML", `<error><exceptionCode>X</exceptionCode></error>`, "unexpected element"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var last error
			for _, err := range ReadBatchResults(strings.NewReader(tt.body), tt.ct) {
				if err != nil {
					last = err
				}
			}
			if last == nil || !strings.Contains(last.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", last, tt.want)
			}
			// A truncated results file must never look like a complete one to a
			// caller that tests errors.Is(err, io.EOF).
			if errors.Is(last, io.EOF) {
				t.Errorf("err = %v matches io.EOF", last)
			}
		})
	}
}

func TestBulk1QueryResults(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, ct, body string }{
		{"json", "application/json", sampleBulk1ResultList},
		{"xml", "application/xml", `<?xml version="1.0" encoding="UTF-8"?><result-list xmlns="http://www.force.com/2009/06/asyncapi/dataload"><result>752x000000000F1</result><result>752x000000000F2</result></result-list>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
				if strings.HasSuffix(r.URL.Path, "/result") {
					writeBody(w, 200, tt.ct, tt.body)
					return
				}
				writeBody(w, 200, "text/csv", "\"Id\"\n\"003x\"\n")
			}}
			c, _ := newFakeOrgClient(t, rec)
			ids, err := c.Bulk1.QueryResultList(t.Context(), "750x", "751x")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{"752x000000000F1", "752x000000000F2"}, ids); d != "" {
				t.Errorf("ids (-want +got):\n%s", d)
			}
			rc, err := c.Bulk1.QueryResult(t.Context(), "750x", "751x", ids[1])
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if string(b) != "\"Id\"\n\"003x\"\n" {
				t.Errorf("result = %q", b)
			}
			if p := rec.last(t).Path; p != "/services/async/62.0/job/750x/batch/751x/result/752x000000000F2" {
				t.Errorf("path = %s", p)
			}
		})
	}
}

func TestBulk1BatchRequest(t *testing.T) {
	t.Parallel()
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) { writeBody(w, 200, "text/csv", "Name\nA\n") }}
	c, _ := newFakeOrgClient(t, rec)
	rc, err := c.Bulk1.BatchRequest(t.Context(), "750x", "751x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "Name\nA\n" || rec.last(t).Path != "/services/async/62.0/job/750x/batch/751x/request" {
		t.Errorf("got %q from %s", b, rec.last(t).Path)
	}
}

func TestBulk1Errors(t *testing.T) {
	t.Parallel()
	invalidSession := `<?xml version="1.0" encoding="UTF-8"?><error xmlns="http://www.force.com/2009/06/asyncapi/dataload"><exceptionCode>InvalidSessionId</exceptionCode><exceptionMessage>Invalid session id</exceptionMessage></error>`
	t.Run("InvalidSessionId refreshes", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
			if r.Header.Get("X-SFDC-Session") == "tok-1" {
				writeBody(w, 400, "application/xml", invalidSession)
				return
			}
			writeBody(w, 201, "application/xml", xmlBatchInfo)
		}}
		c, toks := newFakeOrgClient(t, rec)
		b, err := c.Bulk1.AddBatch(t.Context(), "750x", "CSV", BytesBody([]byte("Name\nA\n")))
		if err != nil {
			t.Fatal(err)
		}
		if b.ID != "751x0000000001AAA" || toks.calls() != 2 {
			t.Errorf("batch %q after %d token fetches", b.ID, toks.calls())
		}
		all := rec.all()
		if len(all) != 2 || all[1].Body != "Name\nA\n" {
			t.Errorf("retry did not resend the batch: %+v", all)
		}
		mustHeader(t, all[1], "X-SFDC-Session", "tok-2")
	})
	tests := []struct {
		name, ct, body string
		status         int
		wantCode       string
		wantDecode     bool
	}{
		{"invalid batch xml", "application/xml", `<?xml version="1.0" encoding="UTF-8"?><error xmlns="http://www.force.com/2009/06/asyncapi/dataload"><exceptionCode>InvalidBatch</exceptionCode><exceptionMessage>Records not found</exceptionMessage></error>`, 400, "InvalidBatch", false},
		{"invalid job json", "application/json", `{"exceptionCode":"InvalidJob","exceptionMessage":"Invalid job id: 750x"}`, 400, "InvalidJob", false},
		{"not found", "text/plain", `not here`, 404, "", false},
		{"malformed xml success", "application/xml", `<batchInfo><id>751`, 201, "", true},
		{"wrong root", "application/xml", `<jobInfo><id>750</id></jobInfo>`, 201, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeBody(w, tt.status, tt.ct, tt.body) }))
			_, err := c.Bulk1.AddBatch(t.Context(), "750x", "CSV", BytesBody([]byte("Name\nA\n")))
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantDecode {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("err = %v, want *DecodeError", err)
				}
				return
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || apiErr.ErrorCode != tt.wantCode {
				t.Fatalf("err = %v, want %d %s", err, tt.status, tt.wantCode)
			}
			if !strings.Contains(err.Error(), "750x") {
				t.Errorf("error %q does not name the job", err)
			}
		})
	}
}

func TestBulk1AddBatchRetriesWithWholeBody(t *testing.T) {
	t.Parallel()
	data := strings.Repeat("Name\nAcme\n", 500)
	var n int
	var mu sync.Mutex
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			writeBody(w, 503, "text/html", "<html>Service Unavailable</html>")
			return
		}
		writeBody(w, 201, "application/xml", xmlBatchInfo)
	}}
	c, _ := newFakeOrgClient(t, rec)
	if _, err := c.Bulk1.AddBatch(t.Context(), "750x", "CSV", BytesBody([]byte(data))); err != nil {
		t.Fatal(err)
	}
	all := rec.all()
	if len(all) != 2 || all[0].Body != data || all[1].Body != data {
		t.Fatalf("%d attempts; bodies %d/%d bytes", len(all), len(all[0].Body), len(all[len(all)-1].Body))
	}
}

func TestBulk1AddBatchTooLarge(t *testing.T) {
	t.Parallel()
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		writeBody(w, 201, "application/xml", xmlBatchInfo)
	}}
	c, _ := newFakeOrgClient(t, rec)
	var opens int
	var mu sync.Mutex
	data := func() (io.ReadCloser, error) {
		mu.Lock()
		opens++
		mu.Unlock()
		return io.NopCloser(strings.NewReader(strings.Repeat("Name\nAcme\n", 100))), nil
	}
	_, err := c.Bulk1.addBatch(t.Context(), "750x", "CSV", data, 500)
	var tl *UploadTooLargeError
	if !errors.As(err, &tl) || tl.Limit != 500 || tl.JobID != "750x" {
		t.Fatalf("err = %v, want *UploadTooLargeError", err)
	}
	for _, r := range rec.all() {
		if len(r.Body) == 1000 {
			t.Error("server received the whole oversized batch")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if opens != 1 {
		t.Errorf("batch data opened %d times, want 1", opens)
	}
	if MaxBatchBytes != 10_000_000 || MaxBatchChars != 10_000_000 || MaxBatchRecords != 10_000 {
		t.Error("Bulk API 1.0 limits changed")
	}
}
