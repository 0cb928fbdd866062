package bulk

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/emulator/wire"
)

// wantFormat checks that a Bulk 1.0 response is XML (with root element root)
// or JSON, by both its Content-Type and its body.
func wantFormat(t *testing.T, what string, r resp, jsonBody bool, root string) {
	t.Helper()
	if jsonBody {
		if ct := r.header.Get("Content-Type"); ct != wire.ContentTypeBulk1JSON {
			t.Errorf("%s: Content-Type %q, want %q; body %s", what, ct, wire.ContentTypeBulk1JSON, r.body)
		}
		if !json.Valid([]byte(r.body)) {
			t.Errorf("%s: body is not JSON: %s", what, r.body)
		}
		return
	}
	if ct := r.header.Get("Content-Type"); ct != wire.ContentTypeBulk1XML {
		t.Errorf("%s: Content-Type %q, want %q; body %s", what, ct, wire.ContentTypeBulk1XML, r.body)
	}
	if !strings.Contains(r.body, "<"+root+` xmlns="`+dataloadNamespace+`">`) {
		t.Errorf("%s: body is not an XML %s: %s", what, root, r.body)
	}
}

// TestBulk1CreateJobAnswersInRequestFormat: job creation has no job yet, so
// the response follows the request's Content-Type, not the new job's
// contentType (salesforce-bulk creates JSON jobs with an XML body and parses
// the answer as XML).
func TestBulk1CreateJobAnswersInRequestFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	jsonJob := func(ct string) string {
		return fmt.Sprintf(`{"operation":"insert","object":"Contact","contentType":%q}`, ct)
	}
	for _, tc := range []struct {
		name, reqCT, body, jobCT string
		json                     bool
	}{
		{"XML body, JSON job", xmlCT, fmt.Sprintf(jobXML, "insert", "Contact", "", "JSON"), "JSON", false},
		{"XML body, CSV job", xmlCT, fmt.Sprintf(jobXML, "insert", "Contact", "", "CSV"), "CSV", false},
		{"JSON body, CSV job", jsonCT, jsonJob("CSV"), "CSV", true},
		{"JSON body with charset, JSON job", "application/json; charset=UTF-8", jsonJob("JSON"), "JSON", true},
		{"JSON body, XML job", jsonCT, jsonJob("XML"), "XML", true},
		{"no Content-Type, XML body", "", fmt.Sprintf(jobXML, "insert", "Contact", "", "JSON"), "JSON", false},
	} {
		r := e.do("POST", asyncV+"/job", tc.reqCT, tc.body)
		wantStatus(t, r, 201)
		wantFormat(t, tc.name, r, tc.json, "jobInfo")
		got := tag(r.body, "contentType")
		if tc.json {
			got, _ = jsonMap(t, r.body)["contentType"].(string)
		}
		if got != tc.jobCT {
			t.Errorf("%s: job contentType %q, want %q", tc.name, got, tc.jobCT)
		}
	}
}

// TestBulk1KnownJobAnswersInJobFormat: once a request names an existing job,
// the job's contentType decides, whatever the request's Content-Type says:
// JSON for JSON jobs, XML for CSV and XML jobs. This covers job info,
// batch create, batch info, batch list, the ingest results list, the query
// result-id list, close and abort, and errors about a known job.
func TestBulk1KnownJobAnswersInJobFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	for _, tc := range []struct {
		jobCT, batchCT, data string
		json                 bool
	}{
		{"JSON", jsonCT, `[{"LastName":"Json"},{"FirstName":"NoLast"}]`, true},
		{"CSV", "text/csv", "LastName\nCsv\n", false},
		{"XML", xmlCT, `<sObjects xmlns="` + dataloadNamespace + `"><sObject><LastName>Xml</LastName></sObject></sObjects>`, false},
	} {
		// Each request says the opposite of the job's format in its Content-Type.
		other := jsonCT
		if tc.json {
			other = xmlCT
		}
		jobID := e.createBulk1Job("insert", "Contact", "", tc.jobCT)
		base := asyncV + "/job/" + jobID
		check := func(what string, r resp, status int, root string) {
			t.Helper()
			wantStatus(t, r, status)
			wantFormat(t, tc.jobCT+" job: "+what, r, tc.json, root)
		}
		check("job info", e.do("GET", base, other, ""), 200, "jobInfo")
		check("batch create", e.do("POST", base+"/batch", tc.batchCT, tc.data), 201, "batchInfo")
		e.idle()
		r := e.do("GET", base+"/batch", other, "")
		check("batch list", r, 200, "batchInfoList")
		var batchID string
		if tc.json {
			var list struct {
				BatchInfo []map[string]any `json:"batchInfo"`
			}
			if err := json.Unmarshal([]byte(r.body), &list); err != nil || len(list.BatchInfo) != 1 {
				t.Fatalf("%s batch list %s: %v", tc.jobCT, r.body, err)
			}
			batchID, _ = list.BatchInfo[0]["id"].(string)
		} else {
			batchID = tag(r.body, "id")
		}
		check("batch info", e.do("GET", base+"/batch/"+batchID, other, ""), 200, "batchInfo")
		r = e.do("GET", base+"/batch/"+batchID+"/result", other, "")
		wantStatus(t, r, 200)
		switch tc.jobCT {
		case "JSON":
			var res []map[string]any
			if err := json.Unmarshal([]byte(r.body), &res); err != nil || len(res) != 2 || res[0]["success"] != true || res[1]["success"] != false {
				t.Errorf("JSON results %s: %v", r.body, err)
			}
			wantContentType(t, r, wire.ContentTypeBulk1JSON)
		case "CSV":
			wantContentType(t, r, wire.ContentTypeBulk1CSV)
		case "XML":
			check("results", r, 200, "results")
		}
		check("unknown batch error", e.do("GET", base+"/batch/751000000000000AAA", other, ""), 400, "error")
		check("close", e.do("POST", base, xmlCT, closeXML), 200, "jobInfo")
		check("batch on closed job error", e.do("POST", base+"/batch", tc.batchCT, tc.data), 400, "error")
		check("abort", e.do("POST", base, xmlCT, abortXML), 200, "jobInfo")
	}
}

// TestBulk1QueryResultListFormat: the result-id list of a query batch is a
// JSON array for JSON jobs and a <result-list> for CSV jobs.
func TestBulk1QueryResultListFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	for _, tc := range []struct {
		jobCT string
		json  bool
	}{{"JSON", true}, {"CSV", false}} {
		jobID := e.createBulk1Job("query", "Contact", "", tc.jobCT)
		batchID := e.addBatch(jobID, "text/csv", "SELECT Id FROM Contact")
		e.idle()
		r := e.do("GET", asyncV+"/job/"+jobID+"/batch/"+batchID+"/result", xmlCT, "")
		wantStatus(t, r, 200)
		wantFormat(t, tc.jobCT+" query result list", r, tc.json, "result-list")
		if tc.json {
			var ids []string
			if err := json.Unmarshal([]byte(r.body), &ids); err != nil || len(ids) != 1 || !strings.HasPrefix(ids[0], "752") {
				t.Errorf("JSON result list %s: %v", r.body, err)
			}
		}
	}
}

// TestBulk1ErrorsWithoutJobFollowRequest: errors raised before a job is known
// (unknown job id, bad version, unparsable job) follow the request's
// Content-Type; without one they are XML.
func TestBulk1ErrorsWithoutJobFollowRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	for _, tc := range []struct {
		name, method, path, ct, body, code string
		json                               bool
	}{
		{"unknown job, JSON", "GET", asyncV + "/job/750000000000000AAA", jsonCT, "", "InvalidJob", true},
		{"unknown job, XML", "GET", asyncV + "/job/750000000000000AAA", xmlCT, "", "InvalidJob", false},
		{"unknown job, no header", "GET", asyncV + "/job/750000000000000AAA", "", "", "InvalidJob", false},
		{"unknown job, CSV header", "GET", asyncV + "/job/750000000000000AAA", "text/csv", "", "InvalidJob", false},
		{"bad version, JSON", "GET", "/services/async/1.0/job/750000000000000AAA", jsonCT, "", "InvalidVersion", true},
		{"bad job body, JSON", "POST", asyncV + "/job", jsonCT, `{"operation":`, "InvalidJob", true},
		{"bad job object, XML", "POST", asyncV + "/job", xmlCT, fmt.Sprintf(jobXML, "insert", "NoSuchObject", "", "CSV"), "InvalidJob", false},
	} {
		r := e.do(tc.method, tc.path, tc.ct, tc.body)
		wantStatus(t, r, 400)
		wantFormat(t, tc.name, r, tc.json, "error")
		code := tag(r.body, "exceptionCode")
		if tc.json {
			code, _ = jsonMap(t, r.body)["exceptionCode"].(string)
		}
		if code != tc.code {
			t.Errorf("%s: exceptionCode %q, want %q: %s", tc.name, code, tc.code, r.body)
		}
	}
}
