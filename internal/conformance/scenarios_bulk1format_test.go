package conformance

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"
)

// bulk1Raw sends raw Bulk API 1.0 requests with exactly the headers a scenario chooses,
// which the client (it always speaks the job's format) cannot do.
type bulk1Raw struct {
	t      *testing.T
	e      *Env
	hc     *http.Client
	prefix string // https://instance/services/async/{version}
}

func newBulk1Raw(t *testing.T, e *Env) *bulk1Raw {
	t.Helper()
	hc := http.DefaultClient
	if e.Emulator != nil {
		hc = e.Emulator.Client()
	}
	return &bulk1Raw{t: t, e: e, hc: hc, prefix: strings.TrimRight(e.Client.InstanceURL(), "/") + "/services/async/" + e.Client.APIVersion()}
}

// bulk1Reply is a fully read Bulk 1.0 response.
type bulk1Reply struct {
	status int
	media  string // media type of Content-Type, without parameters
	body   []byte
}

func (b *bulk1Raw) do(method, path, contentType, body string) bulk1Reply {
	b.t.Helper()
	tok, err := b.e.Client.Token(b.t.Context())
	if err != nil {
		b.t.Fatalf("session: %v", err)
	}
	ctx, cancel := context.WithTimeout(b.t.Context(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, b.prefix+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("X-SFDC-Session", tok.AccessToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		b.t.Fatalf("%s %s: reading: %v", method, path, err)
	}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	return bulk1Reply{status: res.StatusCode, media: mt, body: data}
}

// fields decodes a flat Bulk 1.0 object (jobInfo, batchInfo, error) from XML or JSON into
// string values, checking the format is the one wanted.
func (r bulk1Reply) fields(t *testing.T, what string, wantJSON bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	if wantJSON {
		var m map[string]any
		if r.media != "application/json" || json.Unmarshal(r.body, &m) != nil {
			t.Fatalf("%s: want a JSON object, got %d %q: %s", what, r.status, r.media, r.body)
		}
		for k, v := range m {
			out[k] = fmt.Sprint(v)
		}
		return out
	}
	var x struct {
		XMLName xml.Name
		Fields  []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if r.media != "application/xml" || xml.Unmarshal(r.body, &x) != nil {
		t.Fatalf("%s: want an XML document, got %d %q: %s", what, r.status, r.media, r.body)
	}
	out["<root>"] = x.XMLName.Local
	for _, f := range x.Fields {
		out[f.XMLName.Local] = f.Value
	}
	return out
}

// testBulk1ResponseFormat: Bulk API 1.0 answers in the format Salesforce's "Content Type
// Header" page gives. Creating a job (no job yet) follows the request's Content-Type, so a
// JSON job created with an XML body is answered in XML; every later request about the job
// follows the job's contentType, whatever the request's Content-Type says; errors without a
// job follow the request's Content-Type, XML without one.
func testBulk1ResponseFormat(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	raw := newBulk1Raw(t, e)
	const xmlCT, jsonCT = "application/xml; charset=UTF-8", "application/json; charset=UTF-8"
	jobXML := func(body string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">` + body + `</jobInfo>`
	}

	// A JSON job created with an XML body: the answer is XML.
	r := raw.do("POST", "/job", xmlCT, jobXML("<operation>insert</operation><object>Contact</object><contentType>JSON</contentType>"))
	if r.status != http.StatusCreated {
		t.Fatalf("create JSON job with XML body: %d %s", r.status, r.body)
	}
	f := r.fields(t, "create JSON job with XML body", false)
	jobID := f["id"]
	if f["<root>"] != "jobInfo" || f["contentType"] != "JSON" || f["state"] != "Open" || jobID == "" {
		t.Fatalf("created job: %v", f)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			raw.do("POST", "/job/"+jobID, xmlCT, jobXML("<state>Aborted</state>"))
		}
	})
	base := "/job/" + jobID

	// Later requests about the JSON job are answered in JSON, even when they say XML.
	if f := raw.do("GET", base, xmlCT, "").fields(t, "job info", true); f["id"] != jobID || f["contentType"] != "JSON" {
		t.Errorf("job info: %v", f)
	}
	records := fmt.Sprintf(`[{"LastName":%q},{"FirstName":"no last name"}]`, e.Name(0))
	r = raw.do("POST", base+"/batch", jsonCT, records)
	if r.status != http.StatusCreated {
		t.Fatalf("add batch: %d %s", r.status, r.body)
	}
	batchID := r.fields(t, "batch create", true)["id"]
	if f := raw.do("POST", base, xmlCT, jobXML("<state>Closed</state>")).fields(t, "close", true); f["state"] != "Closed" {
		t.Errorf("close: %v", f)
	}
	closed = true
	e.WaitFor(t, "JSON batch", func(context.Context) (bool, error) {
		st := raw.do("GET", base+"/batch/"+batchID, xmlCT, "").fields(t, "batch info", true)["state"]
		if st == "Failed" || st == "NotProcessed" {
			return false, fmt.Errorf("batch %s", st)
		}
		return st == "Completed", nil
	})
	r = raw.do("GET", base+"/batch", xmlCT, "")
	var list struct {
		BatchInfo []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"batchInfo"`
	}
	if r.media != "application/json" || json.Unmarshal(r.body, &list) != nil || len(list.BatchInfo) != 1 || list.BatchInfo[0].ID != batchID {
		t.Errorf("batch list: %q %s", r.media, r.body)
	}
	r = raw.do("GET", base+"/batch/"+batchID+"/result", xmlCT, "")
	var results []struct {
		ID      *string `json:"id"`
		Success bool    `json:"success"`
		Created bool    `json:"created"`
	}
	if r.media != "application/json" || json.Unmarshal(r.body, &results) != nil || len(results) != 2 ||
		!results[0].Success || !results[0].Created || results[0].ID == nil || results[1].Success {
		t.Errorf("ingest results: %q %s", r.media, r.body)
	} else if got := e.Contacts(t); got[*results[0].ID] != e.Name(0) || len(got) != 1 {
		t.Errorf("contacts after the JSON job: %v", got)
	}
	if f := raw.do("POST", base+"/batch", jsonCT, records).fields(t, "batch on a closed job", true); f["exceptionCode"] != "InvalidJobState" {
		t.Errorf("batch on a closed job: %v", f)
	}

	// A CSV job created with a JSON body: the answer is JSON, then XML for the job.
	r = raw.do("POST", "/job", jsonCT, `{"operation":"query","object":"Contact","contentType":"CSV"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create CSV job with JSON body: %d %s", r.status, r.body)
	}
	csvJob := r.fields(t, "create CSV job with JSON body", true)["id"]
	if f := raw.do("GET", "/job/"+csvJob, jsonCT, "").fields(t, "CSV job info", false); f["<root>"] != "jobInfo" || f["contentType"] != "CSV" {
		t.Errorf("CSV job info: %v", f)
	}
	if f := raw.do("POST", "/job/"+csvJob, jsonCT, `{"state":"Aborted"}`).fields(t, "CSV job abort", false); f["state"] != "Aborted" {
		t.Errorf("CSV job abort: %v", f)
	}

	// Errors about a job that does not exist follow the request; XML without a header.
	const noJob = "/job/750000000000000AAA"
	for _, tc := range []struct {
		ct       string
		wantJSON bool
	}{{jsonCT, true}, {xmlCT, false}, {"", false}} {
		r := raw.do("GET", noJob, tc.ct, "")
		f := r.fields(t, "unknown job with Content-Type "+tc.ct, tc.wantJSON)
		if r.status != http.StatusBadRequest || f["exceptionCode"] == "" {
			t.Errorf("unknown job with Content-Type %q: %d %v", tc.ct, r.status, f)
		}
	}
}
