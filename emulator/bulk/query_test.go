package bulk

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/emulator/org"
)

// seedContacts inserts n Contacts (with an Account each tenth) and returns
// their ids.
func (e *env) seedContacts(n int) []string {
	e.t.Helper()
	reqs := make([]org.WriteRequest, n)
	for i := range reqs {
		reqs[i] = org.WriteRequest{Op: org.OpInsert, Object: "Contact", Fields: map[string]any{
			"FirstName": fmt.Sprintf("F%d", i), "LastName": "Seed", "Email": fmt.Sprintf("c%d@example.com", i),
		}}
	}
	var ids []string
	for _, r := range e.org.Write(e.t.Context(), e.org.DefaultUserID(), reqs, false) {
		if !r.Success {
			e.t.Fatalf("seed: %+v", r)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

func TestBulk1Query(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.seedContacts(3)
	for _, ct := range []string{"CSV", "JSON", "XML"} {
		jobID := e.createBulk1Job("query", "Contact", "", ct)
		b := e.addBatch(jobID, "text/csv", "SELECT Id, FirstName, Email FROM Contact WHERE LastName = 'Seed'")
		wantStatus(t, e.do("POST", asyncV+"/job/"+jobID, xmlCT, closeXML), 200) // close before downloading
		e.idle()
		r := e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b+"/result", "", "")
		wantStatus(t, r, 200)
		var rid string
		switch ct {
		case "JSON":
			wantContentType(t, r, "application/json")
			var ids []string
			if err := jsonUnmarshal(r.body, &ids); err != nil || len(ids) != 1 {
				t.Fatalf("result list: %s", r.body)
			}
			rid = ids[0]
		default:
			wantContentType(t, r, "application/xml")
			if !strings.HasPrefix(r.body, `<?xml version="1.0" encoding="UTF-8"?><result-list xmlns="http://www.force.com/2009/06/asyncapi/dataload"><result>752`) {
				t.Fatalf("result list: %s", r.body)
			}
			rid = tag(r.body, "result")
		}
		r = e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b+"/result/"+rid, "", "")
		wantStatus(t, r, 200)
		switch ct {
		case "CSV":
			wantContentType(t, r, "text/csv")
			want := `"Id","FirstName","Email"` + "\n" + `"003ID","F0","c0@example.com"` + "\n" + `"003ID","F1","c1@example.com"` + "\n" + `"003ID","F2","c2@example.com"` + "\n"
			if got := maskIDs(r.body); got != want {
				t.Errorf("CSV result:\n%s\nwant\n%s", got, want)
			}
		case "JSON":
			var recs []map[string]any
			if err := jsonUnmarshal(r.body, &recs); err != nil || len(recs) != 3 || recs[0]["attributes"] == nil || recs[2]["Email"] != "c2@example.com" {
				t.Errorf("JSON result: %s", r.body)
			}
		case "XML":
			if !strings.Contains(r.body, `<records xsi:type="sObject"><type>Contact</type><Id>003`) || strings.Count(r.body, "<records ") != 3 {
				t.Errorf("XML result: %s", r.body)
			}
		}
	}
	// A bad query fails the batch.
	jobID := e.createBulk1Job("query", "Contact", "", "CSV")
	b := e.addBatch(jobID, "text/csv", "SELECT Nope__c FROM Contact")
	e.idle()
	r := e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b, "", "")
	if tag(r.body, "state") != "Failed" || !strings.HasPrefix(tag(r.body, "stateMessage"), "InvalidBatch : Failed to process query: INVALID_FIELD") {
		t.Errorf("bad query batch: %s", r.body)
	}
}

func TestBulk1PKChunking(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	ids := e.seedContacts(25)
	slices.Sort(ids)
	jobID := e.createBulk1Job("query", "Contact", "", "CSV", "Sforce-Enable-PKChunking", "chunkSize=10; startRow="+ids[2])
	orig := e.addBatch(jobID, "text/csv", "SELECT Id FROM Contact WHERE LastName = 'Seed'")
	e.idle()
	r := e.do("GET", asyncV+"/job/"+jobID+"/batch", "", "")
	infos := strings.Split(r.body, "<batchInfo>")[1:]
	if len(infos) != 4 {
		t.Fatalf("want original + 3 chunks, got %d: %s", len(infos), r.body)
	}
	if tag(infos[0], "id") != orig || tag(infos[0], "state") != "NotProcessed" {
		t.Errorf("original batch: %s", infos[0])
	}
	var got []string
	for i, info := range infos[1:] {
		if tag(info, "state") != "Completed" {
			t.Fatalf("chunk %d: %s", i, info)
		}
		b := tag(info, "id")
		req := e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b+"/request", "", "").body
		wantReq := "SELECT Id FROM Contact WHERE (LastName = 'Seed') AND Id >= '" + ids[2+10*i][:15] + "'"
		if i < 2 {
			wantReq += " AND Id < '" + ids[2+10*(i+1)][:15] + "'"
		}
		if req != wantReq {
			t.Errorf("chunk %d query = %q, want %q", i, req, wantReq)
		}
		rid := tag(e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b+"/result", "", "").body, "result")
		body := e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b+"/result/"+rid, "", "").body
		lines := strings.Split(strings.TrimSpace(body), "\n")[1:]
		if want := []int{10, 10, 3}[i]; len(lines) != want {
			t.Errorf("chunk %d has %d rows, want %d", i, len(lines), want)
		}
		for _, l := range lines {
			got = append(got, strings.Trim(l, `"`))
		}
	}
	if !slices.Equal(got, ids[2:]) {
		t.Errorf("chunked ids = %v, want %v", got, ids[2:])
	}
	r = e.do("GET", asyncV+"/job/"+jobID, "", "")
	if tag(r.body, "numberBatchesTotal") != "4" || tag(r.body, "numberBatchesCompleted") != "3" {
		t.Errorf("job counters: %s", r.body)
	}
	for _, h := range []string{"chunkSize=250001", "chunkSize=x", "bogus"} {
		r := e.do("POST", asyncV+"/job", xmlCT, fmt.Sprintf(jobXML, "query", "Contact", "", "CSV"), "Sforce-Enable-PKChunking", h)
		if r.status != 400 {
			t.Errorf("PK chunking %q accepted", h)
		}
	}
}

func TestChunkRanges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ids  []string
		size int
		want [][2]string
	}{
		{nil, 10, [][2]string{{"", ""}}},
		{[]string{"a", "b", "c"}, 2, [][2]string{{"a", "c"}, {"c", ""}}},
		{[]string{"a", "b"}, 2, [][2]string{{"a", ""}}},
	} {
		if got := chunkRanges(tc.ids, tc.size, ""); !slices.Equal(got, tc.want) {
			t.Errorf("chunkRanges(%v, %d) = %v, want %v", tc.ids, tc.size, got, tc.want)
		}
	}
	if got, want := withIDRange("SELECT Id FROM Account where Name = 'a where b'", "Id", "001a", ""), "SELECT Id FROM Account WHERE (Name = 'a where b') AND Id >= '001a'"; got != want {
		t.Errorf("withIDRange = %q, want %q", got, want)
	}
}

func TestBulk2Query(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.seedContacts(5)
	r := e.do("POST", dataV+"/jobs/query", jsonCT, `{"operation":"query","query":"SELECT Id, FirstName, Email FROM Contact ORDER BY Email"}`)
	wantStatus(t, r, 200)
	m := jsonMap(t, r.body)
	if m["state"] != "UploadComplete" || m["object"] != "Contact" || m["operation"] != "query" || m["columnDelimiter"] != "COMMA" {
		t.Errorf("create: %s", r.body)
	}
	id := m["id"].(string)
	e.idle()
	info := e.v2State("query", id)
	if info["state"] != "JobComplete" || info["numberRecordsProcessed"] != 5.0 || info["jobType"] != "V2Query" {
		t.Errorf("info: %v", info)
	}
	// Without maxRecords: one page with everything.
	r = e.do("GET", dataV+"/jobs/query/"+id+"/results", "", "", "Accept", "text/csv")
	wantStatus(t, r, 200)
	if r.header.Get("Sforce-Locator") != "null" || r.header.Get("Sforce-NumberOfRecords") != "5" {
		t.Errorf("headers: %v", r.header)
	}
	if lines := strings.Split(r.body, "\n"); len(lines) != 7 || lines[0] != `"Id","FirstName","Email"` {
		t.Errorf("body: %q", r.body)
	}
	// Paged by maxRecords, following locators.
	var rows []string
	loc := ""
	for page := 0; ; page++ {
		q := "?maxRecords=2"
		if loc != "" {
			q += "&locator=" + loc
		}
		r = e.do("GET", dataV+"/jobs/query/"+id+"/results/"+q, "", "")
		wantStatus(t, r, 200)
		lines := strings.Split(strings.TrimSuffix(r.body, "\n"), "\n")
		if lines[0] != `"Id","FirstName","Email"` {
			t.Fatalf("page %d header: %q", page, lines[0])
		}
		if n, _ := strconv.Atoi(r.header.Get("Sforce-NumberOfRecords")); n != len(lines)-1 {
			t.Errorf("page %d: Sforce-NumberOfRecords %d, rows %d", page, n, len(lines)-1)
		}
		rows = append(rows, lines[1:]...)
		loc = r.header.Get("Sforce-Locator")
		if loc == "null" {
			break
		}
		if page > 5 {
			t.Fatal("locators never end")
		}
	}
	if len(rows) != 5 || !strings.Contains(rows[4], "c4@example.com") {
		t.Errorf("paged rows: %v", rows)
	}
	// resultPages (58.0+).
	r = e.do("GET", dataV+"/jobs/query/"+id+"/resultPages?maxRecords=2", "", "")
	wantStatus(t, r, 200)
	var pages struct {
		ResultPages []struct {
			ResultURL string `json:"resultUrl"`
		} `json:"resultPages"`
		Done bool `json:"done"`
	}
	if err := jsonUnmarshal(r.body, &pages); err != nil || len(pages.ResultPages) != 3 || !pages.Done {
		t.Fatalf("resultPages: %s", r.body)
	}
	total := 0
	for _, p := range pages.ResultPages {
		pr := e.do("GET", p.ResultURL, "", "")
		n, _ := strconv.Atoi(pr.header.Get("Sforce-NumberOfRecords"))
		total += n
	}
	if total != 5 {
		t.Errorf("resultPages cover %d rows", total)
	}
	wantStatus(t, e.do("GET", "/services/data/v57.0/jobs/query/"+id+"/resultPages", "", ""), 404)
	// Illegal transitions, delete.
	r = e.do("PATCH", dataV+"/jobs/query/"+id, jsonCT, `{"state":"Aborted"}`)
	wantStatus(t, r, 400)
	wantStatus(t, e.do("DELETE", dataV+"/jobs/query/"+id, "", ""), 204)
	wantStatus(t, e.do("GET", dataV+"/jobs/query/"+id, "", ""), 404)
	// Query errors at create time.
	r = e.do("POST", dataV+"/jobs/query", jsonCT, `{"operation":"query","query":"SELECT Nope__c FROM Contact"}`)
	if r.status != 400 || !strings.Contains(r.body, `"errorCode":"INVALID_FIELD"`) {
		t.Errorf("bad query: %d %s", r.status, r.body)
	}
	lim := e.org.Limits()[limitV2QueryJobs]
	if lim.Max-lim.Remaining != 1 {
		t.Errorf("DailyBulkV2QueryJobs used %d, want 1", lim.Max-lim.Remaining)
	}
}

func TestBulk2QueryDialectAndParents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	acct := e.org.Write(t.Context(), e.org.DefaultUserID(), []org.WriteRequest{{Op: org.OpInsert, Object: "Account", Fields: map[string]any{"Name": "Acme; Inc", "External_Id__c": "A1"}}}, false)
	if !acct[0].Success {
		t.Fatal(acct)
	}
	job := e.createIngest(`{"object":"Contact","operation":"insert"}`)
	id := job["id"].(string)
	wantStatus(t, e.do("PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", "LastName,Account.External_Id__c\nWith,A1\nWithout,\n"), 201)
	wantStatus(t, e.do("PATCH", dataV+"/jobs/ingest/"+id, jsonCT, `{"state":"UploadComplete"}`), 200)
	e.idle()
	r := e.do("POST", dataV+"/jobs/query", jsonCT, `{"operation":"query","query":"SELECT LastName, Account.Name FROM Contact ORDER BY LastName","columnDelimiter":"SEMICOLON","lineEnding":"CRLF"}`)
	wantStatus(t, r, 200)
	qid := jsonMap(t, r.body)["id"].(string)
	e.idle()
	r = e.do("GET", dataV+"/jobs/query/"+qid+"/results", "", "")
	want := "\"LastName\";\"Account.Name\"\r\n\"With\";\"Acme; Inc\"\r\n\"Without\";\"\"\r\n"
	if r.body != want {
		t.Errorf("results %q, want %q", r.body, want)
	}
}

// TestBulkQueryRefusesCompoundFields checks that a Bulk API query cannot select a compound
// field, as in Salesforce: the Bulk API 2.0 job create answers 400 and a Bulk API 1.0 batch
// fails; the component fields are read as usual.
func TestBulkQueryRefusesCompoundFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	e.seedContacts(1)
	r := e.do("POST", dataV+"/jobs/query", jsonCT, `{"operation":"query","query":"SELECT Id, MailingAddress FROM Contact"}`)
	if want := `[{"message":"Selecting compound data not supported in Bulk Query","errorCode":"FUNCTIONALITY_NOT_ENABLED"}]`; r.status != 400 || r.body != want {
		t.Errorf("Bulk 2.0 create: %d %s, want 400 %s", r.status, r.body, want)
	}
	wantStatus(t, e.do("POST", dataV+"/jobs/query", jsonCT, `{"operation":"query","query":"SELECT Id, MailingCity, MailingLatitude FROM Contact"}`), 200)
	jobID := e.createBulk1Job("query", "Contact", "", "CSV")
	b := e.addBatch(jobID, "text/csv", "SELECT Id, OtherAddress FROM Contact")
	e.idle()
	r = e.do("GET", asyncV+"/job/"+jobID+"/batch/"+b, "", "")
	want := "InvalidBatch : Failed to process query: FUNCTIONALITY_NOT_ENABLED: Selecting compound data not supported in Bulk Query"
	if tag(r.body, "state") != "Failed" || tag(r.body, "stateMessage") != want {
		t.Errorf("Bulk 1.0 batch: %s", r.body)
	}
}
