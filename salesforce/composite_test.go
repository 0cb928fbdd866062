package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// batchOrg is a fake /composite/batch endpoint. A subrequest fails (400) when its URL or body
// contains "FAIL"; queries return two records; creates return id 001NEW; upserts of value
// "new" are created (201), others updated (200); updates and deletes return 204.
type batchOrg struct {
	mu    sync.Mutex
	calls []batchRequestBody
}

func (o *batchOrg) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/services/data/v62.0/composite/batch" || r.Method != "POST" {
		writeBody(w, 404, "application/json", `[{"errorCode":"NOT_FOUND","message":"no"}]`)
		return
	}
	var body batchRequestBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.BatchRequests) > MaxCompositeBatchSubrequests {
		writeBody(w, 400, "application/json", `[{"errorCode":"INVALID_BATCH_REQUEST","message":"bad"}]`)
		return
	}
	o.mu.Lock()
	o.calls = append(o.calls, body)
	o.mu.Unlock()
	out := batchResponseBody{}
	halted := false
	for _, sr := range body.BatchRequests {
		res := &BatchSubresponse{}
		switch {
		case halted:
			res.StatusCode, res.Result = 412, json.RawMessage(`[{"errorCode":"BATCH_PROCESSING_HALTED","message":"halted"}]`)
		case strings.Contains(sr.URL, "FAIL") || strings.Contains(string(sr.RichInput), "FAIL"):
			res.StatusCode, res.Result = 400, json.RawMessage(`[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]`)
			out.HasErrors = true
			halted = body.HaltOnError
		case strings.Contains(sr.URL, "/query?"):
			res.StatusCode, res.Result = 200, json.RawMessage(`{"totalSize":2,"done":true,"records":[{"attributes":{"type":"Account"},"Id":"001A","Name":"Acme","Employees":10},{"attributes":{"type":"Account"},"Id":"001B","Name":"Bolt","Employees":20}]}`)
		case sr.Method == "POST":
			res.StatusCode, res.Result = 201, json.RawMessage(`{"id":"001NEW","success":true,"errors":[]}`)
		case sr.Method == "GET":
			res.StatusCode, res.Result = 200, json.RawMessage(`{"attributes":{"type":"Account"},"Id":"001A","Name":"Acme"}`)
		case sr.Method == "PATCH" && strings.Contains(sr.URL, "/Ext__c/"):
			if strings.HasSuffix(sr.URL, "/new") {
				res.StatusCode, res.Result = 201, json.RawMessage(`{"id":"001UPS","success":true,"errors":[],"created":true}`)
			} else {
				res.StatusCode, res.Result = 200, json.RawMessage(`{"id":"001OLD","success":true,"errors":[],"created":false}`)
			}
		default:
			res.StatusCode, res.Result = 204, json.RawMessage(`null`)
		}
		out.Results = append(out.Results, res)
	}
	b, _ := json.Marshal(out)
	writeBody(w, 200, "application/json;charset=UTF-8", string(b))
}

func (o *batchOrg) recorded() []batchRequestBody {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]batchRequestBody(nil), o.calls...)
}

func TestCompositeBatchTypedResults(t *testing.T) {
	t.Parallel()
	org := &batchOrg{}
	c, _ := newFakeOrgClient(t, org)
	b := c.Composite.NewBatch(BatchOptions{})
	q := b.Query("SELECT Id, Name FROM Account LIMIT 10")
	cr := b.SObjects.Create("Contact", map[string]any{"FirstName": "Jon", "LastName": "Doe"})
	g := b.SObjects.Get("Account", "001A", "Id", "Name")
	up := b.SObjects.Update("Account", "001A", map[string]any{"Name": "New Name"})
	del := b.SObjects.Delete("Account", "001Z")
	created := b.SObjects.Upsert("Opportunity", "Ext__c", map[string]any{"Ext__c": "new", "Name": "New Opportunity"})
	updated := b.SObjects.Upsert("Opportunity", "Ext__c", map[string]any{"Ext__c": "old", "Name": "Old"})
	if q.Done() || q.Err() != ErrNotExecuted {
		t.Fatalf("before Execute: done=%v err=%v", q.Done(), q.Err())
	}
	if err := b.Execute(t.Context()); err != nil {
		t.Fatal(err)
	}
	if recs := q.Records(); len(recs) != 2 || recs[1]["Name"] != "Bolt" || recs[1]["Employees"] != json.Number("20") || q.TotalSize() != 2 {
		t.Errorf("query records = %v", recs)
	}
	if cr.ID() != "001NEW" || cr.StatusCode() != 201 || !cr.Success() || !cr.Done() || cr.Err() != nil {
		t.Errorf("create: id %q status %d", cr.ID(), cr.StatusCode())
	}
	if rec := g.Record(); rec["Name"] != "Acme" {
		t.Errorf("get record = %v", rec)
	}
	if !up.Success() || up.StatusCode() != 204 || up.Result() != nil || !del.Success() {
		t.Errorf("update %d / delete %d", up.StatusCode(), del.StatusCode())
	}
	if created.ID() != "001UPS" || !created.Created() || updated.ID() != "001OLD" || updated.Created() {
		t.Errorf("upsert: %q %v / %q %v", created.ID(), created.Created(), updated.ID(), updated.Created())
	}
	calls := org.recorded()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	var got []string
	for _, sr := range calls[0].BatchRequests {
		got = append(got, sr.Method+" "+sr.URL+" "+string(sr.RichInput))
	}
	want := []string{
		"GET v62.0/query?q=SELECT+Id%2C+Name+FROM+Account+LIMIT+10 ",
		`POST v62.0/sobjects/Contact {"FirstName":"Jon","LastName":"Doe"}`,
		"GET v62.0/sobjects/Account/001A?fields=Id%2CName ",
		`PATCH v62.0/sobjects/Account/001A {"Name":"New Name"}`,
		"DELETE v62.0/sobjects/Account/001Z ",
		`PATCH v62.0/sobjects/Opportunity/Ext__c/new {"Name":"New Opportunity"}`,
		`PATCH v62.0/sobjects/Opportunity/Ext__c/old {"Name":"Old"}`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("subrequests (-want +got):\n%s", d)
	}
}

func TestCompositeBatchChunksAndHalt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		n          int
		failAt     int // 0-based index of the failing subrequest, -1 = none
		halt       bool
		wantCalls  []int
		wantStatus func(i int) (status int, done bool)
	}{
		{"30 without failure", 30, -1, false, []int{25, 5}, func(i int) (int, bool) { return 201, true }},
		{"fail in first call without halt", 30, 3, false, []int{25, 5}, func(i int) (int, bool) {
			if i == 3 {
				return 400, true
			}
			return 201, true
		}},
		{"halt holds across calls", 60, 10, true, []int{25}, func(i int) (int, bool) {
			switch {
			case i < 10:
				return 201, true
			case i == 10:
				return 400, true
			case i < 25:
				return 412, true // skipped by the server
			}
			return 412, false // never sent
		}},
		{"halt in second call", 52, 30, true, []int{25, 25}, func(i int) (int, bool) {
			switch {
			case i < 30:
				return 201, true
			case i == 30:
				return 400, true
			case i < 50:
				return 412, true
			}
			return 412, false
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			org := &batchOrg{}
			c, _ := newFakeOrgClient(t, org)
			b := c.Composite.NewBatch(BatchOptions{HaltOnError: tt.halt})
			var subs []*CreateSubrequest
			for i := range tt.n {
				name := fmt.Sprintf("C%d", i)
				if i == tt.failAt {
					name = "FAIL"
				}
				subs = append(subs, b.SObjects.Create("Contact", map[string]any{"LastName": name}))
			}
			if err := b.Execute(t.Context()); err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, call := range org.recorded() {
				sizes = append(sizes, len(call.BatchRequests))
				if call.HaltOnError != tt.halt {
					t.Errorf("haltOnError = %v", call.HaltOnError)
				}
			}
			if d := cmp.Diff(tt.wantCalls, sizes); d != "" {
				t.Errorf("call sizes (-want +got):\n%s", d)
			}
			for i, s := range subs {
				status, done := tt.wantStatus(i)
				if s.StatusCode() != status || s.Done() != done {
					t.Fatalf("subrequest %d: status %d done %v, want %d %v", i, s.StatusCode(), s.Done(), status, done)
				}
				if status == 412 && !IsErrorCode(s.Err(), CodeBatchProcessingHalted) {
					t.Fatalf("subrequest %d: err %v, want %s", i, s.Err(), CodeBatchProcessingHalted)
				}
			}
			if err := b.Execute(t.Context()); err == nil {
				t.Error("second Execute succeeded")
			}
		})
	}
}

func TestCompositeBatchAutoRaise(t *testing.T) {
	t.Parallel()
	build := func(c *Client, opts BatchOptions) *CompositeBatch {
		b := c.Composite.NewBatch(opts)
		b.SObjects.Create("Contact", map[string]any{"LastName": "ok"})
		b.SObjects.Create("Contact", map[string]any{"LastName": "FAIL"})
		b.SObjects.Update("Contact", "003FAIL", map[string]any{"LastName": "x"})
		return b
	}
	c, _ := newFakeOrgClient(t, &batchOrg{})

	if err := build(c, BatchOptions{}).Execute(t.Context()); err != nil {
		t.Errorf("without AutoRaise: %v", err)
	}

	err := build(c, BatchOptions{AutoRaise: true}).Execute(t.Context())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.ErrorCode != "REQUIRED_FIELD_MISSING" || apiErr.Method != "POST" {
		t.Fatalf("AutoRaise err = %v", err)
	}
	if _, ok := err.(interface{ Unwrap() []error }); ok {
		t.Error("AutoRaise without GroupErrors returned a joined error")
	}

	err = build(c, BatchOptions{AutoRaise: true, GroupErrors: true}).Execute(t.Context())
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok || len(joined.Unwrap()) != 2 {
		t.Fatalf("GroupErrors err = %v, want 2 joined errors", err)
	}
	if e := joined.Unwrap()[1]; !strings.Contains(e.Error(), "PATCH") || !strings.Contains(e.Error(), "003FAIL") {
		t.Errorf("second error %q does not name the subrequest", e)
	}

	err = build(c, BatchOptions{AutoRaise: true, GroupErrors: true, HaltOnError: true}).Execute(t.Context())
	joined, ok = err.(interface{ Unwrap() []error })
	if !ok || len(joined.Unwrap()) != 2 || !IsErrorCode(joined.Unwrap()[1], CodeBatchProcessingHalted) {
		t.Fatalf("GroupErrors+HaltOnError err = %v", err)
	}
}

func TestCompositeBatchBuildErrors(t *testing.T) {
	t.Parallel()
	c, _ := newFakeOrgClient(t, &batchOrg{})
	tests := []struct {
		name  string
		build func(b *CompositeBatch)
		want  string
	}{
		{"empty query", func(b *CompositeBatch) { b.Query(" ") }, "query is empty"},
		{"upsert without value", func(b *CompositeBatch) { b.SObjects.Upsert("A", "Ext__c", map[string]any{"Name": "x"}) }, "no value for external id field"},
		{"get without id", func(b *CompositeBatch) { b.SObjects.Get("A", "") }, "id is empty"},
		{"bad object", func(b *CompositeBatch) { b.SObjects.Create("A/B", nil) }, "invalid object name"},
		{"unencodable", func(b *CompositeBatch) { b.SObjects.Create("A", map[string]any{"F": func() {}}) }, "encoding body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := c.Composite.NewBatch(BatchOptions{})
			b.SObjects.Create("A", nil)
			tt.build(b)
			if err := b.Execute(t.Context()); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "subrequest 2") {
				t.Fatalf("err = %v, want %q for subrequest 2", err, tt.want)
			}
		})
	}
}

func TestCompositeBatchCallFailure(t *testing.T) {
	t.Parallel()
	c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 400, "application/json", `[{"errorCode":"INVALID_BATCH_REQUEST","message":"bad url"}]`)
	}))
	b := c.Composite.NewBatch(BatchOptions{})
	s := b.SObjects.Create("A", nil)
	err := b.Execute(t.Context())
	if !IsErrorCode(err, "INVALID_BATCH_REQUEST") || !strings.Contains(err.Error(), "subrequests 1-1") {
		t.Fatalf("err = %v", err)
	}
	if s.Done() || s.Err() != ErrNotExecuted {
		t.Errorf("subrequest of a failed call: done %v err %v", s.Done(), s.Err())
	}
}

func TestComposite(t *testing.T) {
	t.Parallel()
	rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
		writeBody(w, 200, "application/json;charset=UTF-8", `{"compositeResponse":[
 {"body":{"id":"001X","success":true,"errors":[]},"httpHeaders":{"Location":"/services/data/v62.0/sobjects/Account/001X"},"httpStatusCode":201,"referenceId":"refAcct"},
 {"body":[{"errorCode":"PROCESSING_HALTED","message":"The transaction was rolled back since another operation in the same transaction failed."}],"httpHeaders":{},"httpStatusCode":400,"referenceId":"refCont"},
 {"body":{"totalSize":0,"done":true,"records":[]},"httpHeaders":{},"httpStatusCode":200,"referenceId":"refQ"},
 {"body":{"Id":"001X","Name":"Acme","Industry":"Energy"},"httpHeaders":{},"httpStatusCode":200,"referenceId":"refGet"},
 {"body":null,"httpHeaders":{},"httpStatusCode":204,"referenceId":"refUpd"}]}`)
	}}
	c, _ := newFakeOrgClient(t, rec)
	b := c.Composite.NewComposite(CompositeOptions{AllOrNone: true})
	acct := b.Create("refAcct", "Account", map[string]any{"Name": "Acme"})
	b.Create("refCont", "Contact", map[string]any{"LastName": "Lovelace", "AccountId": acct.ID()})
	b.Query("refQ", "SELECT Id FROM Contact WHERE AccountId = '"+acct.ID()+"'")
	b.Update("refUpd", "Account", acct.ID(), map[string]any{"Industry": "Energy"})
	b.Get("refGet", "Account", acct.Field("id"), "Name", "Industry")
	res, err := b.Execute(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := rec.last(t)
	if got.Path != "/services/data/v62.0/composite" || got.Method != "POST" {
		t.Errorf("request %s %s", got.Method, got.Path)
	}
	want := `{"allOrNone":true,"collateSubrequests":false,"compositeRequest":[
 {"method":"POST","url":"/services/data/v62.0/sobjects/Account","referenceId":"refAcct","body":{"Name":"Acme"}},
 {"method":"POST","url":"/services/data/v62.0/sobjects/Contact","referenceId":"refCont","body":{"AccountId":"@{refAcct.id}","LastName":"Lovelace"}},
 {"method":"GET","url":"/services/data/v62.0/query?q=SELECT+Id+FROM+Contact+WHERE+AccountId+%3D+%27@{refAcct.id}%27","referenceId":"refQ"},
 {"method":"PATCH","url":"/services/data/v62.0/sobjects/Account/@{refAcct.id}","referenceId":"refUpd","body":{"Industry":"Energy"}},
 {"method":"GET","url":"/services/data/v62.0/sobjects/Account/@{refAcct.id}?fields=Name%2CIndustry","referenceId":"refGet"}]}`
	if d := jsonDiff(t, got.Body, want); d != "" {
		t.Errorf("body (-want +got):\n%s", d)
	}
	a, ok := res.Get("refAcct")
	var sr SaveResult
	if !ok || a.Decode(&sr) != nil || sr.ID != "001X" || a.HTTPHeaders["Location"] == "" {
		t.Errorf("refAcct = %+v", a)
	}
	errs := res.Errs()
	if len(errs) != 1 || !IsErrorCode(errs[0], CodeProcessingHalted) || !strings.Contains(errs[0].Error(), "refCont") {
		t.Errorf("errs = %v", errs)
	}
}

// TestCompositeMissingSubresponse checks that a response without an entry for
// every subrequest is an error, not a result that silently lacks outcomes.
func TestCompositeMissingSubresponse(t *testing.T) {
	t.Parallel()
	const first = `{"body":{"id":"001X","success":true,"errors":[]},"httpHeaders":{},"httpStatusCode":201,"referenceId":"refAcct"}`
	for _, tt := range []struct{ body, want string }{
		{`{"compositeResponse":[` + first + `]}`, `no subresponse for referenceId "refOther"`},
		{`{"compositeResponse":[` + first + `,null]}`, "subresponse 2 is null"},
	} {
		c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeBody(w, 200, "application/json;charset=UTF-8", tt.body)
		}))
		b := c.Composite.NewComposite(CompositeOptions{})
		b.Create("refAcct", "Account", map[string]any{"Name": "Acme"})
		b.Create("refOther", "Account", map[string]any{"Name": "Other"})
		if _, err := b.Execute(t.Context()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want %q", err, tt.want)
		}
	}
}

func TestCompositeInvalid(t *testing.T) {
	t.Parallel()
	c, _ := newFakeOrgClient(t, http.NotFoundHandler())
	many := CompositeRequest{}
	for i := range 26 {
		many.Subrequests = append(many.Subrequests, CompositeSubrequest{Method: "GET", URL: "/services/data/v62.0/limits", ReferenceID: fmt.Sprintf("r%d", i)})
	}
	tests := []struct {
		name string
		req  CompositeRequest
		want string
	}{
		{"empty", CompositeRequest{}, "no subrequests"},
		{"too many", many, "26 subrequests; the limit is 25"},
		{"bad reference id", CompositeRequest{Subrequests: []CompositeSubrequest{{Method: "GET", URL: "/services/data/v62.0/limits", ReferenceID: "_x"}}}, "invalid referenceId"},
		{"duplicate reference id", CompositeRequest{Subrequests: []CompositeSubrequest{{Method: "GET", URL: "/services/data/x", ReferenceID: "a"}, {Method: "GET", URL: "/services/data/y", ReferenceID: "a"}}}, "duplicate referenceId"},
		{"bad method", CompositeRequest{Subrequests: []CompositeSubrequest{{Method: "FETCH", URL: "/services/data/x", ReferenceID: "a"}}}, "invalid method"},
		{"relative url", CompositeRequest{Subrequests: []CompositeSubrequest{{Method: "GET", URL: "v62.0/limits", ReferenceID: "a"}}}, "does not start with /services/data/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := c.Composite.Execute(t.Context(), tt.req); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestQuerySubrequestDecodeRecords(t *testing.T) {
	t.Parallel()
	c, _ := newFakeOrgClient(t, &batchOrg{})
	b := c.Composite.NewBatch(BatchOptions{})
	q := b.Query("SELECT Id, Name, Employees FROM Account")
	failed := b.Query("SELECT FAIL FROM Account")
	if err := b.Execute(t.Context()); err != nil {
		t.Fatal(err)
	}
	type account struct {
		ID        string `json:"Id"`
		Name      string
		Employees int
	}
	var got []account
	if err := q.DecodeRecords(&got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]account{{"001A", "Acme", 10}, {"001B", "Bolt", 20}}, got); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
	if err := failed.DecodeRecords(&got); !IsErrorCode(err, "REQUIRED_FIELD_MISSING") {
		t.Errorf("failed query: err = %v", err)
	}
	if failed.Records() != nil || failed.TotalSize() != 0 {
		t.Error("failed query has records")
	}
}

func TestCompositeCollateByVersion(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		version string
		want    bool
	}{{"47.0", false}, {"48.0", true}, {"62.0", true}} {
		rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {
			writeBody(w, 200, "application/json", `{"compositeResponse":[{"body":{"Id":"001A"},"httpHeaders":{},"httpStatusCode":200,"referenceId":"r"}]}`)
		}}
		c, _ := newFakeOrgClient(t, rec, WithAPIVersion(tt.version))
		b := c.Composite.NewComposite(CompositeOptions{})
		b.Get("r", "Account", "001A")
		if _, err := b.Execute(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := rec.last(t)
		if has := strings.Contains(got.Body, "collateSubrequests"); has != tt.want {
			t.Errorf("API %s: body %s", tt.version, got.Body)
		}
		if !strings.Contains(got.Body, "/services/data/v"+tt.version+"/sobjects/Account/001A") {
			t.Errorf("API %s: body %s", tt.version, got.Body)
		}
	}
}
