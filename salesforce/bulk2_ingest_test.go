package salesforce

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Samples from the protocol reference (samples/bulk2-*).
const (
	sampleBulk2IngestCreate = `{
    "apiVersion": 52.0,
    "columnDelimiter": "COMMA",
    "concurrencyMode": "Parallel",
    "contentType": "CSV",
    "id": "Job-1",
    "jobType": "V2Ingest",
    "lineEnding": "LF",
    "object": "Contact",
    "operation": "insert",
    "state": "Open"
}`
	sampleBulk2IngestComplete = `{
    "apiVersion": 52.0,
    "columnDelimiter": "COMMA",
    "concurrencyMode": "Parallel",
    "contentType": "CSV",
    "id": "Job-1",
    "jobType": "V2Ingest",
    "lineEnding": "LF",
    "numberRecordsFailed": 0,
    "numberRecordsProcessed": 2,
    "object": "Contact",
    "operation": "insert",
    "state": "JobComplete"
}`
	sampleBulk2Successful = `"sf__Id","sf__Created","Custom_Id__c","AccountId","Email","FirstName","LastName"
"a011s00000DML8XAAX","true","CustomID1","ID-13","contact1@example.com","Bob","x"
"a011s00000DML8YAAX","true","CustomID2","ID-24","contact2@example.com","Alice","y"
`
	sampleBulk2Failed = `"sf__Id","sf__Error","Custom_Id__c","AccountId","Email","FirstName","LastName"
"","UNABLE_TO_LOCK_ROW","CustomID1","ID-13","contact1@example.com","Bob","x"
"","UNABLE_TO_LOCK_ROW","CustomID2","ID-24","contact2@example.com","Alice","y"
`
	sampleBulk2Unprocessed = `"Custom_Id__c","AccountId","Email","FirstName","LastName"
"CustomID2","ID-24","contact2@example.com","Alice","y"
`
	sampleBackquoteUpload = "NAME`TYPE`PHONE`WEBSITE`ANNUALREVENUE\naccount #0`Account`415-555-0000`http://www.accountUpsert0.com`0\n"
)

func TestCreateIngestJob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		req      IngestJobRequest
		wantBody string
	}{
		{"insert minimal", IngestJobRequest{Object: "Contact", Operation: "insert"}, `{"object":"Contact","operation":"insert"}`},
		{"upsert every option", IngestJobRequest{Object: "Contact", Operation: "upsert", ExternalIDFieldName: "Ext_Id__c", ContentType: "CSV", ColumnDelimiter: "BACKQUOTE", LineEnding: "CRLF", AssignmentRuleID: "01Q000000000001"},
			`{"object":"Contact","operation":"upsert","externalIdFieldName":"Ext_Id__c","contentType":"CSV","columnDelimiter":"BACKQUOTE","lineEnding":"CRLF","assignmentRuleId":"01Q000000000001"}`},
		{"hardDelete tab", IngestJobRequest{Object: "Account", Operation: "hardDelete", ColumnDelimiter: "TAB"}, `{"object":"Account","operation":"hardDelete","columnDelimiter":"TAB"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
				writeBody(w, 200, "application/json;charset=UTF-8", sampleBulk2IngestCreate)
			}}
			c, _ := newFakeOrgClient(t, rec)
			job, err := c.Bulk2.CreateIngestJob(t.Context(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			got := rec.last(t)
			if got.Method != "POST" || got.Path != "/services/data/v62.0/jobs/ingest" {
				t.Errorf("request = %s %s", got.Method, got.Path)
			}
			mustHeader(t, got, "Authorization", "Bearer tok-1")
			mustHeader(t, got, "Content-Type", "application/json")
			if d := jsonDiff(t, got.Body, tt.wantBody); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
			want := &IngestJob{ID: "Job-1", Object: "Contact", Operation: "insert", State: "Open", ContentType: "CSV", ColumnDelimiter: "COMMA", LineEnding: "LF", ConcurrencyMode: "Parallel", JobType: "V2Ingest", APIVersion: "52.0"}
			if d := cmp.Diff(want, job); d != "" {
				t.Errorf("job (-want +got):\n%s", d)
			}
		})
	}
}

func TestCreateIngestJobInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  IngestJobRequest
		want string
	}{
		{"no object", IngestJobRequest{Operation: "insert"}, "Object is required"},
		{"bad operation", IngestJobRequest{Object: "A", Operation: "merge"}, `Operation "merge"`},
		{"upsert without external id", IngestJobRequest{Object: "A", Operation: "upsert"}, "ExternalIDFieldName is required"},
		{"bad delimiter", IngestJobRequest{Object: "A", Operation: "insert", ColumnDelimiter: ","}, `ColumnDelimiter ","`},
		{"bad line ending", IngestJobRequest{Object: "A", Operation: "insert", LineEnding: "CR"}, `LineEnding "CR"`},
		{"bad content type", IngestJobRequest{Object: "A", Operation: "insert", ContentType: "JSON"}, `ContentType "JSON"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
			_, err := c.Bulk2.CreateIngestJob(t.Context(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if hits.Load() != 0 {
				t.Errorf("invalid request reached the server")
			}
		})
	}
}

func TestUploadJobData(t *testing.T) {
	t.Parallel()
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) { w.WriteHeader(http.StatusCreated) }}
	c, _ := newFakeOrgClient(t, rec)
	if err := c.Bulk2.UploadJobData(t.Context(), "750x0000000001AAA", BytesBody([]byte(sampleBackquoteUpload))); err != nil {
		t.Fatal(err)
	}
	got := rec.last(t)
	if got.Method != "PUT" || got.Path != "/services/data/v62.0/jobs/ingest/750x0000000001AAA/batches" {
		t.Errorf("request = %s %s", got.Method, got.Path)
	}
	mustHeader(t, got, "Content-Type", "text/csv")
	if got.Body != sampleBackquoteUpload {
		t.Errorf("body = %q", got.Body)
	}
}

// TestUploadJobDataContentLength: an upload of known size (a file, bytes) is sent with
// Content-Length, not chunked, as other clients send it.
func TestUploadJobDataContentLength(t *testing.T) {
	t.Parallel()
	data := strings.Repeat("FirstName,LastName\nAda,Lovelace\n", 5000)
	path := filepath.Join(t.TempDir(), "upload.csv")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]Body{"file": FileBody(path), "bytes": BytesBody([]byte(data))} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			type seen struct {
				length   int64
				encoding []string
				n        int
			}
			got := make(chan seen, 1)
			c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got <- seen{r.ContentLength, r.TransferEncoding, len(b)}
				w.WriteHeader(http.StatusCreated)
			}))
			if err := c.Bulk2.UploadJobData(t.Context(), "750x", body); err != nil {
				t.Fatal(err)
			}
			s := <-got
			if s.length != int64(len(data)) || len(s.encoding) != 0 || s.n != len(data) {
				t.Errorf("Content-Length %d, Transfer-Encoding %v, %d bytes read; want Content-Length %d, no Transfer-Encoding", s.length, s.encoding, s.n, len(data))
			}
		})
	}
}

func TestUploadJobDataWrongSuccessStatus(t *testing.T) {
	t.Parallel()
	c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	err := c.Bulk2.UploadJobData(t.Context(), "750x", BytesBody([]byte("Name\nA\n")))
	if err == nil || !strings.Contains(err.Error(), "want 201") {
		t.Fatalf("err = %v, want unexpected status", err)
	}
}

func TestUploadJobDataReplaysBodyOnRetry(t *testing.T) {
	t.Parallel()
	data := strings.Repeat("FirstName,LastName\nAda,Lovelace\n", 1000)
	var attempts atomic.Int32
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		if attempts.Add(1) == 1 {
			writeBody(w, http.StatusServiceUnavailable, "application/json", `[{"errorCode":"SERVER_UNAVAILABLE","message":"busy"}]`)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}}
	c, _ := newFakeOrgClient(t, rec)
	if err := c.Bulk2.UploadJobData(t.Context(), "750x", BytesBody([]byte(data))); err != nil {
		t.Fatal(err)
	}
	all := rec.all()
	if len(all) != 2 {
		t.Fatalf("got %d requests, want 2", len(all))
	}
	for i, r := range all {
		if r.Body != data {
			t.Errorf("attempt %d sent %d bytes, want %d", i+1, len(r.Body), len(data))
		}
	}
}

func TestUploadJobDataTooLarge(t *testing.T) {
	t.Parallel()
	t.Run("streamed", func(t *testing.T) {
		t.Parallel()
		var complete atomic.Int32
		c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err == nil {
				complete.Add(1)
			}
			w.WriteHeader(http.StatusCreated)
		}))
		var opens atomic.Int32
		body := func() (io.ReadCloser, error) {
			opens.Add(1)
			return io.NopCloser(strings.NewReader(strings.Repeat("x", 5000))), nil
		}
		err := c.Bulk2.uploadJobData(t.Context(), "750x", body, 1000)
		var tl *UploadTooLargeError
		if !errors.As(err, &tl) || tl.Limit != 1000 || tl.JobID != "750x" {
			t.Fatalf("err = %v, want *UploadTooLargeError", err)
		}
		if complete.Load() != 0 {
			t.Errorf("server received a complete oversized upload")
		}
		if opens.Load() != 1 {
			t.Errorf("body opened %d times, want 1 (an oversized upload is not retried)", opens.Load())
		}
	})
	t.Run("file size known", func(t *testing.T) {
		t.Parallel()
		var hits atomic.Int32
		c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
		p := filepath.Join(t.TempDir(), "big.csv")
		if err := os.WriteFile(p, []byte(strings.Repeat("y", 2000)), 0o600); err != nil {
			t.Fatal(err)
		}
		err := c.Bulk2.uploadJobData(t.Context(), "750x", FileBody(p), 1999)
		var tl *UploadTooLargeError
		if !errors.As(err, &tl) || tl.Size != 2000 {
			t.Fatalf("err = %v, want *UploadTooLargeError with size 2000", err)
		}
		if hits.Load() != 0 {
			t.Errorf("server was contacted for a file known to be too large")
		}
	})
	t.Run("limits", func(t *testing.T) {
		t.Parallel()
		if Bulk2Base64Len(MaxBulk2UploadRawBytes) > MaxBulk2UploadBytes {
			t.Errorf("raw limit %d encodes to %d > %d", MaxBulk2UploadRawBytes, Bulk2Base64Len(MaxBulk2UploadRawBytes), MaxBulk2UploadBytes)
		}
		if Bulk2Base64Len(MaxBulk2UploadRawBytes+3) <= MaxBulk2UploadBytes {
			t.Errorf("raw limit %d is not the largest that fits", MaxBulk2UploadRawBytes)
		}
	})
}

func TestIngestJobStateChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		call       func(c *Client) (*IngestJob, error)
		wantMethod string
		wantBody   string
	}{
		{"close", func(c *Client) (*IngestJob, error) { return c.Bulk2.CloseIngestJob(t.Context(), "Job-1") }, "PATCH", `{"state":"UploadComplete"}`},
		{"abort", func(c *Client) (*IngestJob, error) { return c.Bulk2.AbortIngestJob(t.Context(), "Job-1") }, "PATCH", `{"state":"Aborted"}`},
		{"get", func(c *Client) (*IngestJob, error) { return c.Bulk2.GetIngestJob(t.Context(), "Job-1") }, "GET", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
				writeBody(w, 200, "application/json;charset=UTF-8", sampleBulk2IngestComplete)
			}}
			c, _ := newFakeOrgClient(t, rec)
			job, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			got := rec.last(t)
			if got.Method != tt.wantMethod || got.Path != "/services/data/v62.0/jobs/ingest/Job-1" {
				t.Errorf("request = %s %s", got.Method, got.Path)
			}
			if tt.wantBody != "" {
				if d := jsonDiff(t, got.Body, tt.wantBody); d != "" {
					t.Errorf("body (-want +got):\n%s", d)
				}
			}
			if job.State != "JobComplete" || job.NumberRecordsProcessed != 2 || !job.Terminal() {
				t.Errorf("job = %+v", job)
			}
		})
	}
}

func TestDeleteIngestJob(t *testing.T) {
	t.Parallel()
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) { w.WriteHeader(http.StatusNoContent) }}
	c, _ := newFakeOrgClient(t, rec)
	if err := c.Bulk2.DeleteIngestJob(t.Context(), "Job-1"); err != nil {
		t.Fatal(err)
	}
	if got := rec.last(t); got.Method != "DELETE" || got.Path != "/services/data/v62.0/jobs/ingest/Job-1" {
		t.Errorf("request = %s %s", got.Method, got.Path)
	}
}

func TestIngestJobNotFound(t *testing.T) {
	t.Parallel()
	c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 404, "application/json;charset=UTF-8", `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`)
	}))
	_, err := c.Bulk2.GetIngestJob(t.Context(), "750nope")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.ErrorCode != "NOT_FOUND" {
		t.Fatalf("err = %v, want 404 NOT_FOUND *APIError", err)
	}
	if !strings.Contains(err.Error(), "750nope") {
		t.Errorf("error %q does not name the job", err)
	}
}

func TestIngestSessionRefresh(t *testing.T) {
	t.Parallel()
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		if r.Header.Get("Authorization") == "Bearer tok-1" {
			writeBody(w, 401, "application/json;charset=UTF-8", `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`)
			return
		}
		writeBody(w, 200, "application/json;charset=UTF-8", sampleBulk2IngestComplete)
	}}
	c, toks := newFakeOrgClient(t, rec)
	if _, err := c.Bulk2.GetIngestJob(t.Context(), "Job-1"); err != nil {
		t.Fatal(err)
	}
	if toks.calls() != 2 {
		t.Errorf("token source called %d times, want 2", toks.calls())
	}
	mustHeader(t, rec.last(t), "Authorization", "Bearer tok-2")
}

func TestListIngestJobs(t *testing.T) {
	t.Parallel()
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		switch r.URL.Query().Get("queryLocator") {
		case "":
			writeBody(w, 200, "application/json", `{"done":false,"nextRecordsUrl":"/services/data/v62.0/jobs/ingest?queryLocator=01gA-2","records":[{"id":"750A","state":"Open","apiVersion":62.0},{"id":"750B","state":"JobComplete","apiVersion":62.0}]}`)
		case "01gA-2":
			writeBody(w, 200, "application/json", `{"done":true,"nextRecordsUrl":null,"records":[{"id":"750C","state":"Aborted","jobType":"Classic","apiVersion":"41.0"}]}`)
		default:
			w.WriteHeader(400)
		}
	}}
	c, _ := newFakeOrgClient(t, rec)
	var ids []string
	for job, err := range c.Bulk2.ListIngestJobs(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, job.ID+"/"+job.State+"/"+job.APIVersion)
	}
	if d := cmp.Diff([]string{"750A/Open/62.0", "750B/JobComplete/62.0", "750C/Aborted/41.0"}, ids); d != "" {
		t.Errorf("jobs (-want +got):\n%s", d)
	}
	if n := len(rec.all()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}

	// Stopping early does not fetch the next page.
	before := len(rec.all())
	for range c.Bulk2.ListIngestJobs(t.Context()) {
		break
	}
	if n := len(rec.all()) - before; n != 1 {
		t.Errorf("early break made %d requests, want 1", n)
	}
}

func TestIngestResults(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"successfulResults":  sampleBulk2Successful,
		"failedResults":      sampleBulk2Failed,
		"unprocessedrecords": sampleBulk2Unprocessed,
	}
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		f, ok := files[name]
		if !ok || !strings.HasPrefix(r.URL.Path, "/services/data/v62.0/jobs/ingest/Job-1/") {
			w.WriteHeader(404)
			return
		}
		writeBody(w, 200, "text/csv", f)
	}}
	c, _ := newFakeOrgClient(t, rec)
	calls := map[string]func() (io.ReadCloser, error){
		"successfulResults":  func() (io.ReadCloser, error) { return c.Bulk2.SuccessfulResults(t.Context(), "Job-1") },
		"failedResults":      func() (io.ReadCloser, error) { return c.Bulk2.FailedResults(t.Context(), "Job-1") },
		"unprocessedrecords": func() (io.ReadCloser, error) { return c.Bulk2.UnprocessedRecords(t.Context(), "Job-1") },
	}
	for name, call := range calls {
		rc, err := call()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != files[name] {
			t.Errorf("%s = %q", name, b)
		}
	}
	for _, r := range rec.all() {
		mustHeader(t, r, "Accept", "text/csv")
	}
}

func TestParseResultErrorFromFailedResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want RecordError
	}{
		{"UNABLE_TO_LOCK_ROW", RecordError{StatusCode: "UNABLE_TO_LOCK_ROW"}},
		{"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --", RecordError{StatusCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [LastName]", Fields: []string{"LastName"}}},
		{"INVALID_FIELD:bad:--", RecordError{StatusCode: "INVALID_FIELD", Message: "bad"}},
		{"DUPLICATE_VALUE:duplicate value found: Ext__c duplicates value on record with id: 001:Ext__c,Name --", RecordError{StatusCode: "DUPLICATE_VALUE", Message: "duplicate value found: Ext__c duplicates value on record with id: 001", Fields: []string{"Ext__c", "Name"}}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, ParseResultError(tt.in)); d != "" {
			t.Errorf("ParseResultError(%q) (-want +got):\n%s", tt.in, d)
		}
	}
}

func TestCreateIngestJobWithData(t *testing.T) {
	t.Parallel()
	type part struct{ Name, File, ContentType, Body string }
	var mu sync.Mutex
	var parts []part
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		mu.Lock()
		defer mu.Unlock()
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			w.WriteHeader(415)
			return
		}
		mr := multipart.NewReader(strings.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			parts = append(parts, part{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), string(b)})
		}
		writeBody(w, 200, "application/json;charset=UTF-8", strings.Replace(sampleBulk2IngestCreate, `"Open"`, `"UploadComplete"`, 1))
	}}
	c, _ := newFakeOrgClient(t, rec)
	data := "FirstName,LastName\nGrace,Hopper\n"
	job, err := c.Bulk2.CreateIngestJobWithData(t.Context(), IngestJobRequest{Object: "Contact", Operation: "insert", LineEnding: "LF"}, BytesBody([]byte(data)))
	if err != nil {
		t.Fatal(err)
	}
	if job.State != JobStateUploadComplete {
		t.Errorf("state = %s", job.State)
	}
	want := []part{
		{"job", "", "application/json", `{"object":"Contact","operation":"insert","lineEnding":"LF"}`},
		{"content", "content", "text/csv", data},
	}
	mu.Lock()
	defer mu.Unlock()
	if d := cmp.Diff(want, parts); d != "" {
		t.Errorf("parts (-want +got):\n%s", d)
	}

	big := BytesBody([]byte(strings.Repeat("x", MaxBulk2MultipartBytes+1)))
	var tl *UploadTooLargeError
	if _, err := c.Bulk2.CreateIngestJobWithData(t.Context(), IngestJobRequest{Object: "Contact", Operation: "insert"}, big); !errors.As(err, &tl) {
		t.Errorf("oversized multipart: err = %v", err)
	}
	if n := len(rec.all()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
