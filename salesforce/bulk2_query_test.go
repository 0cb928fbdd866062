package salesforce

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sampleBulk2QueryComplete = `{
    "apiVersion": 52.0,
    "columnDelimiter": "COMMA",
    "concurrencyMode": "Parallel",
    "contentType": "CSV",
    "id": "Job-1",
    "jobType": "V2Query",
    "lineEnding": "LF",
    "numberRecordsProcessed": 4,
    "object": "Contact",
    "operation": "query",
    "state": "JobComplete"
}`

func TestCreateQueryJob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		req      QueryJobRequest
		wantBody string
		wantErr  string
	}{
		{"default operation", QueryJobRequest{Query: "SELECT Id FROM Account"}, `{"query":"SELECT Id FROM Account","operation":"query"}`, ""},
		{"queryAll with dialect", QueryJobRequest{Query: "SELECT Id FROM Account", Operation: "queryAll", ColumnDelimiter: "PIPE", LineEnding: "CRLF"},
			`{"query":"SELECT Id FROM Account","operation":"queryAll","columnDelimiter":"PIPE","lineEnding":"CRLF"}`, ""},
		{"empty query", QueryJobRequest{}, "", "Query is required"},
		{"bad operation", QueryJobRequest{Query: "SELECT Id FROM Account", Operation: "search"}, "", `Operation "search"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
				writeBody(w, 200, "application/json;charset=UTF-8", sampleBulk2QueryComplete)
			}}
			c, _ := newFakeOrgClient(t, rec)
			job, err := c.Bulk2.CreateQueryJob(t.Context(), tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if len(rec.all()) != 0 {
					t.Error("invalid request reached the server")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := rec.last(t)
			if got.Method != "POST" || got.Path != "/services/data/v62.0/jobs/query" {
				t.Errorf("request = %s %s", got.Method, got.Path)
			}
			if d := jsonDiff(t, got.Body, tt.wantBody); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
			if job.ID != "Job-1" || job.State != "JobComplete" || job.NumberRecordsProcessed != 4 || job.APIVersion != "52.0" || job.JobType != "V2Query" {
				t.Errorf("job = %+v", job)
			}
		})
	}
}

func TestQueryJobControl(t *testing.T) {
	t.Parallel()
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		if r.Method == "DELETE" {
			w.WriteHeader(204)
			return
		}
		writeBody(w, 200, "application/json;charset=UTF-8", sampleBulk2QueryComplete)
	}}
	c, _ := newFakeOrgClient(t, rec)
	if _, err := c.Bulk2.GetQueryJob(t.Context(), "Job-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Bulk2.AbortQueryJob(t.Context(), "Job-1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Bulk2.DeleteQueryJob(t.Context(), "Job-1"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rec.all() {
		got = append(got, r.Method+" "+r.Path+" "+r.Body)
	}
	want := []string{
		"GET /services/data/v62.0/jobs/query/Job-1 ",
		`PATCH /services/data/v62.0/jobs/query/Job-1 {"state":"Aborted"}`,
		"DELETE /services/data/v62.0/jobs/query/Job-1 ",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
}

// pagedResults serves n rows of a query job, pageSize per page, with opaque locators and the
// literal "null" on the last page.
func pagedResults(n int, omitCount bool) func(w http.ResponseWriter, r *http.Request, body string) {
	return func(w http.ResponseWriter, r *http.Request, body string) {
		start := 0
		if loc := r.URL.Query().Get("locator"); loc != "" {
			v, err := strconv.Atoi(strings.TrimPrefix(loc, "LOC"))
			if err != nil {
				writeBody(w, 400, "application/json", `[{"errorCode":"INVALID_LOCATOR","message":"bad locator"}]`)
				return
			}
			start = v
		}
		size := n
		if m := r.URL.Query().Get("maxRecords"); m != "" {
			size, _ = strconv.Atoi(m)
		}
		end := min(start+size, n)
		var b strings.Builder
		b.WriteString("\"Id\",\"Name\"\n")
		for i := start; i < end; i++ {
			fmt.Fprintf(&b, "\"001%05d\",\"Name %d\"\n", i, i)
		}
		next := "null"
		if end < n {
			next = fmt.Sprintf("LOC%d", end)
		}
		w.Header().Set("Sforce-Locator", next)
		if !omitCount {
			w.Header().Set("Sforce-NumberOfRecords", strconv.Itoa(end-start))
		}
		writeBody(w, 200, "text/csv", b.String())
	}
}

func TestQueryResultsLocatorPaging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rows, max  int
		wantPages  int
		wantCounts []int
	}{
		{"one page without maxRecords", 7, 0, 1, []int{7}},
		{"three pages", 7, 3, 3, []int{3, 3, 1}},
		{"exact fit", 6, 3, 2, []int{3, 3}},
		{"empty result", 0, 3, 1, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{h: pagedResults(tt.rows, false)}
			c, _ := newFakeOrgClient(t, rec)
			var ids []string
			var counts []int
			for page, err := range c.Bulk2.IterQueryResults(t.Context(), "750Q", tt.max) {
				if err != nil {
					t.Fatal(err)
				}
				counts = append(counts, page.NumberOfRecords)
				recs, err := csv.NewReader(page.Body).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) == 0 || recs[0][0] != "Id" {
					t.Fatalf("page without header: %q", recs)
				}
				for _, r := range recs[1:] {
					ids = append(ids, r[0])
				}
			}
			if len(ids) != tt.rows {
				t.Errorf("got %d rows, want %d", len(ids), tt.rows)
			}
			for i, id := range ids {
				if want := fmt.Sprintf("001%05d", i); id != want {
					t.Fatalf("row %d id = %s, want %s", i, id, want)
				}
			}
			if d := cmp.Diff(tt.wantCounts, counts); d != "" {
				t.Errorf("page counts (-want +got):\n%s", d)
			}
			all := rec.all()
			if len(all) != tt.wantPages {
				t.Errorf("%d requests, want %d", len(all), tt.wantPages)
			}
			for i, r := range all {
				if r.Path != "/services/data/v62.0/jobs/query/750Q/results" {
					t.Errorf("path = %s", r.Path)
				}
				mustHeader(t, r, "Accept", "text/csv")
				hasLoc := strings.Contains(r.RawQuery, "locator=")
				if hasLoc != (i > 0) {
					t.Errorf("request %d query %q", i, r.RawQuery)
				}
				if tt.max > 0 && !strings.Contains(r.RawQuery, "maxRecords="+strconv.Itoa(tt.max)) {
					t.Errorf("request %d query %q lacks maxRecords", i, r.RawQuery)
				}
			}
		})
	}
}

func TestQueryResultsSinglePage(t *testing.T) {
	t.Parallel()
	c, _ := newFakeOrgClient(t, &recorder{h: pagedResults(5, true)})
	res, err := c.Bulk2.QueryResults(t.Context(), "750Q", "LOC2", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Locator != "LOC4" || res.NumberOfRecords != -1 {
		t.Errorf("locator %q count %d, want LOC4 and -1 (header absent)", res.Locator, res.NumberOfRecords)
	}
	b, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(b), `"00100002"`) || strings.Contains(string(b), `"00100004"`) {
		t.Errorf("page = %q", b)
	}
}

func TestQueryResultsErrors(t *testing.T) {
	t.Parallel()
	t.Run("bad count header", func(t *testing.T) {
		t.Parallel()
		c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Sforce-Locator", "null")
			w.Header().Set("Sforce-NumberOfRecords", "many")
			writeBody(w, 200, "text/csv", "Id\n")
		}))
		if _, err := c.Bulk2.QueryResults(t.Context(), "750Q", "", 0); err == nil || !strings.Contains(err.Error(), "Sforce-NumberOfRecords") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no locator header", func(t *testing.T) {
		t.Parallel()
		// Without Sforce-Locator the client cannot know whether more pages
		// follow; treating the page as the last would drop them silently.
		c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Sforce-NumberOfRecords", "1")
			writeBody(w, 200, "text/csv", "Id\n\"1\"\n")
		}))
		var last error
		for _, err := range c.Bulk2.IterQueryResults(t.Context(), "750Q", 0) {
			last = err
		}
		if last == nil || !strings.Contains(last.Error(), "Sforce-Locator") {
			t.Fatalf("err = %v, want an error naming the missing Sforce-Locator", last)
		}
	})
	t.Run("job not complete", func(t *testing.T) {
		t.Parallel()
		c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeBody(w, 412, "application/json", `[{"errorCode":"JOB_NOT_COMPLETE","message":"Current status: IN_PROGRESS"}]`)
		}))
		for _, err := range c.Bulk2.IterQueryResults(t.Context(), "750Q", 0) {
			if !IsErrorCode(err, "JOB_NOT_COMPLETE") {
				t.Fatalf("err = %v", err)
			}
		}
	})
	t.Run("repeated locator", func(t *testing.T) {
		t.Parallel()
		c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Sforce-Locator", "SAME")
			w.Header().Set("Sforce-NumberOfRecords", "1")
			writeBody(w, 200, "text/csv", "Id\n\"1\"\n")
		}))
		var last error
		n := 0
		for _, err := range c.Bulk2.IterQueryResults(t.Context(), "750Q", 0) {
			n++
			last = err
		}
		if last == nil || !strings.Contains(last.Error(), "repeated") || n > 4 {
			t.Fatalf("after %d pages err = %v", n, last)
		}
	})
}

func TestQueryResultPages(t *testing.T) {
	t.Parallel()
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		switch {
		case r.URL.Path == "/services/data/v62.0/jobs/query/750Q/resultPages" && r.URL.Query().Get("locator") == "":
			writeBody(w, 200, "application/json", `{"resultPages":[{"resultUrl":"/services/data/v62.0/jobs/query/750Q/results?locator=LOC0&maxRecords=2"},{"resultUrl":"/services/data/v62.0/jobs/query/750Q/results?locator=LOC2&maxRecords=2"}],"nextRecordsUrl":"/services/data/v62.0/jobs/query/750Q/resultPages?locator=P2","done":false}`)
		case r.URL.Path == "/services/data/v62.0/jobs/query/750Q/resultPages":
			writeBody(w, 200, "application/json", `{"resultPages":[{"resultUrl":"/services/data/v62.0/jobs/query/750Q/results?locator=LOC4&maxRecords=2"}],"nextRecordUrl":null,"done":true}`)
		case r.URL.Path == "/services/data/v62.0/jobs/query/750Q/results":
			pagedResults(5, false)(w, r, body)
		default:
			w.WriteHeader(404)
		}
	}}
	c, _ := newFakeOrgClient(t, rec)
	pages, err := c.Bulk2.QueryResultPages(t.Context(), "750Q", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 3 {
		t.Fatalf("pages = %v", pages)
	}
	if q := rec.all()[0].RawQuery; q != "maxRecords=2" {
		t.Errorf("first resultPages query = %q", q)
	}
	total := 0
	for _, p := range pages {
		res, err := c.Bulk2.QueryResultPage(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		total += res.NumberOfRecords
		res.Body.Close()
	}
	if total != 5 {
		t.Errorf("total records %d, want 5", total)
	}
}

func TestQueryResultPagesNeedsAPI58(t *testing.T) {
	t.Parallel()
	c, _ := newFakeOrgClient(t, http.NotFoundHandler(), WithAPIVersion("57.0"))
	_, err := c.Bulk2.QueryResultPages(t.Context(), "750Q", 0)
	var ve *APIVersionError
	if !errors.As(err, &ve) || ve.NeedAtLeast != "58.0" {
		t.Fatalf("err = %v, want *APIVersionError", err)
	}
}

func TestBulk2MalformedResponse(t *testing.T) {
	t.Parallel()
	c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, "application/json", `{"id":"750x","state":`)
	}))
	_, err := c.Bulk2.GetQueryJob(t.Context(), "750x")
	var de *DecodeError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "750x") {
		t.Fatalf("err = %v, want *DecodeError naming the job", err)
	}
	_, err = c.Bulk2.CreateIngestJob(t.Context(), IngestJobRequest{Object: "A", Operation: "insert"})
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *DecodeError", err)
	}
}
