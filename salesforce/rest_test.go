package salesforce

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestVersionsAndLimits(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services/data/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		io.WriteString(w, `[{"label":"Winter '24","url":"/services/data/v59.0","version":"59.0"},{"label":"Spring '24","url":"/services/data/v60.0","version":"60.0"}]`)
	})
	mux.HandleFunc("GET /services/data/v62.0/limits", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.Header().Set("Sforce-Limit-Info", "api-usage=2/15000")
		w.Write(coreTestdata(t, "rest-limits.json"))
	})
	_, c := coreServer(t, true, mux)
	vs, err := c.Versions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []Version{{Label: "Winter '24", URL: "/services/data/v59.0", Version: "59.0"}, {Label: "Spring '24", URL: "/services/data/v60.0", Version: "60.0"}}
	if diff := cmp.Diff(want, vs); diff != "" {
		t.Errorf("Versions (-want +got):\n%s", diff)
	}
	lim, err := c.Limits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := lim[LimitDailyAPIRequests]; got != (Limit{Max: 15000, Remaining: 14998}) || got.Used() != 2 {
		t.Errorf("DailyApiRequests = %+v", got)
	}
	if len(lim) != 23 {
		t.Errorf("len(limits) = %d, want 23", len(lim))
	}
	if c.LimitInfo().Used != 2 {
		t.Errorf("LimitInfo = %+v", c.LimitInfo())
	}
}

const coreDescribeContact = `{"name":"Contact","label":"Contact","labelPlural":"Contacts","keyPrefix":"003","custom":false,"createable":true,"updateable":true,"deletable":true,"queryable":true,"retrieveable":true,"searchable":true,
"urls":{"sobject":"/services/data/v62.0/sobjects/Contact"},
"fields":[
 {"name":"Id","type":"id","soapType":"tns:ID","length":18,"createable":false,"updateable":false,"nillable":false,"idLookup":true},
 {"name":"LastName","type":"string","soapType":"xsd:string","length":80,"createable":true,"updateable":true,"nillable":false,"defaultedOnCreate":false},
 {"name":"Ext_Id__c","type":"string","length":50,"createable":true,"updateable":true,"nillable":true,"externalId":true,"idLookup":true,"unique":true,"custom":true},
 {"name":"AccountId","type":"reference","createable":true,"updateable":true,"nillable":true,"referenceTo":["Account"],"relationshipName":"Account"},
 {"name":"LeadSource","type":"picklist","nillable":true,"createable":true,"picklistValues":[{"active":true,"defaultValue":false,"label":"Web","value":"Web"}]}
],
"childRelationships":[{"childSObject":"Case","field":"ContactId","relationshipName":"Cases","cascadeDelete":false}],
"recordTypeInfos":[{"name":"Master","recordTypeId":"012000000000000AAA","active":true,"available":true,"master":true}]}`

func TestDescribe(t *testing.T) {
	t.Parallel()
	var calls, globalCalls atomic.Int32
	gate := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services/data/v62.0/sobjects", func(w http.ResponseWriter, r *http.Request) {
		globalCalls.Add(1)
		io.WriteString(w, `{"encoding":"UTF-8","maxBatchSize":200,"sobjects":[{"name":"Account","keyPrefix":"001","createable":true,"queryable":true},{"name":"Contact","keyPrefix":"003"}]}`)
	})
	mux.HandleFunc("GET /services/data/v62.0/sobjects/{obj}/describe", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.PathValue("obj") != "Contact" && r.PathValue("obj") != "contact" {
			coreRESTError(w, 404, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		<-gate
		io.WriteString(w, coreDescribeContact)
	})
	_, c := coreServer(t, false, mux)

	// Concurrent callers for the same object share one request.
	var wg sync.WaitGroup
	results := make([]*SObjectDescribe, 8)
	for i := range results {
		wg.Go(func() {
			d, err := c.Describe(t.Context(), "Contact")
			if err != nil {
				t.Error(err)
			}
			results[i] = d
		})
	}
	close(gate)
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("describe requests = %d, want 1", calls.Load())
	}
	d := results[0]
	for _, r := range results {
		if r != d {
			t.Fatal("callers got different describes")
		}
	}
	// Cached, case-insensitively.
	if d2, err := c.Describe(t.Context(), "CONTACT"); err != nil || d2 != d || calls.Load() != 1 {
		t.Errorf("second Describe: %v, same=%v, calls=%d", err, d2 == d, calls.Load())
	}
	if d.Name != "Contact" || d.KeyPrefix != "003" || len(d.Fields) != 5 || d.ChildRelationships[0].RelationshipName != "Cases" || !d.RecordTypeInfos[0].Master {
		t.Errorf("describe = %+v", d.SObjectSummary)
	}
	ln, ok := d.Field("lastname")
	if !ok || !ln.Required() || ln.Length != 80 {
		t.Errorf("LastName = %+v", ln)
	}
	ext, _ := d.Field("Ext_Id__c")
	acc, _ := d.Field("AccountId")
	if !ext.ExternalID || ext.Required() || acc.RelationshipName != "Account" || acc.ReferenceTo[0] != "Account" {
		t.Errorf("ext = %+v acc = %+v", ext, acc)
	}
	if _, ok := d.Field("Nope"); ok {
		t.Error("Field(Nope) found")
	}

	// Unknown objects fail and are not cached.
	for range 2 {
		if _, err := c.Describe(t.Context(), "Nope__c"); !IsErrorCode(err, "NOT_FOUND") {
			t.Errorf("Describe(Nope__c) = %v", err)
		}
	}
	if calls.Load() != 3 {
		t.Errorf("describe requests = %d, want 3", calls.Load())
	}

	g, err := c.DescribeGlobal(t.Context())
	if err != nil || len(g.SObjects) != 2 || g.MaxBatchSize != 200 || g.SObjects[0].KeyPrefix != "001" {
		t.Fatalf("DescribeGlobal = %+v, %v", g, err)
	}
	if _, err := c.DescribeGlobal(t.Context()); err != nil || globalCalls.Load() != 1 {
		t.Errorf("global describe not cached: %d calls", globalCalls.Load())
	}
	c.ForgetDescribes()
	if _, err := c.Describe(t.Context(), "Contact"); err != nil || calls.Load() != 4 {
		t.Errorf("after ForgetDescribes: %v, calls %d", err, calls.Load())
	}
}

// coreQueryServer serves total rows of Contacts in pages of the requested batch size, the way
// the REST query resource does.
func coreQueryServer(t *testing.T, total int) (*Client, *[]string) {
	var mu sync.Mutex
	var seen []string
	page := func(w http.ResponseWriter, r *http.Request, resource string, offset int) {
		size := 2000
		if opt := r.Header.Get("Sforce-Query-Options"); opt != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(opt, "batchSize="))
			if err != nil {
				t.Errorf("Sforce-Query-Options %q", opt)
			}
			size = n
		}
		mu.Lock()
		seen = append(seen, r.URL.Path+"?"+r.URL.RawQuery+" "+r.Header.Get("Sforce-Query-Options"))
		mu.Unlock()
		end := min(offset+size, total)
		res := map[string]any{"totalSize": total, "done": end == total}
		if end < total {
			res["nextRecordsUrl"] = fmt.Sprintf("/services/data/v62.0/%s/01gLOCATOR-%d", resource, end)
		}
		recs := []map[string]any{}
		for i := offset; i < end; i++ {
			recs = append(recs, map[string]any{
				"attributes": map[string]any{"type": "Contact", "url": fmt.Sprintf("/services/data/v62.0/sobjects/Contact/003%015d", i)},
				"Id":         fmt.Sprintf("003%015d", i),
				"LastName":   fmt.Sprintf("Name %d", i),
			})
		}
		res["records"] = recs
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		json.NewEncoder(w).Encode(res)
	}
	mux := http.NewServeMux()
	for _, resource := range []string{"query", "queryAll"} {
		mux.HandleFunc("GET /services/data/v62.0/"+resource, func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query().Get("q")
			if !strings.HasPrefix(q, "SELECT") {
				coreRESTError(w, 400, "MALFORMED_QUERY", "unexpected token: "+q)
				return
			}
			page(w, r, resource, 0)
		})
		mux.HandleFunc("GET /services/data/v62.0/"+resource+"/{cursor}", func(w http.ResponseWriter, r *http.Request) {
			_, off, _ := strings.Cut(r.PathValue("cursor"), "-")
			n, _ := strconv.Atoi(off)
			page(w, r, resource, n)
		})
	}
	_, c := coreServer(t, true, mux)
	return c, &seen
}

func TestQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		all       bool
		total     int
		opts      []QueryOption
		wantPages int
		wantHdr   string
	}{
		{name: "one page", total: 3, wantPages: 1},
		{name: "empty", total: 0, wantPages: 1},
		{name: "paged by batch size", total: 450, opts: []QueryOption{QueryBatchSize(200)}, wantPages: 3, wantHdr: "batchSize=200"},
		{name: "batch size clamped", total: 401, opts: []QueryOption{QueryBatchSize(5)}, wantPages: 3, wantHdr: "batchSize=200"},
		{name: "queryAll", all: true, total: 250, opts: []QueryOption{QueryBatchSize(200)}, wantPages: 2, wantHdr: "batchSize=200"},
		{name: "default size", total: 2001, wantPages: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, seen := coreQueryServer(t, tt.total)
			seq := c.Query
			if tt.all {
				seq = c.QueryAll
			}
			i := 0
			for rec, err := range seq(t.Context(), "SELECT Id, LastName FROM Contact", tt.opts...) {
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("003%015d", i); rec.ID() != want || rec.Type() != "Contact" {
					t.Fatalf("record %d = %s %s", i, rec.Type(), rec.ID())
				}
				i++
			}
			if i != tt.total {
				t.Errorf("records = %d, want %d", i, tt.total)
			}
			if len(*seen) != tt.wantPages {
				t.Errorf("pages = %d (%v), want %d", len(*seen), *seen, tt.wantPages)
			}
			for _, s := range *seen {
				if !strings.HasSuffix(s, " "+tt.wantHdr) {
					t.Errorf("request %q lacks header %q", s, tt.wantHdr)
				}
				if tt.all && !strings.Contains(s, "/queryAll") {
					t.Errorf("queryAll request %q", s)
				}
			}
		})
	}
}

func TestQueryErrorAndEarlyStop(t *testing.T) {
	t.Parallel()
	c, seen := coreQueryServer(t, 1000)
	var gotErr error
	n := 0
	for _, err := range c.Query(t.Context(), "SELEC Id FROM Contact") {
		n++
		gotErr = err
	}
	if n != 1 || !IsErrorCode(gotErr, "MALFORMED_QUERY") {
		t.Errorf("yields = %d, err = %v", n, gotErr)
	}
	// Stopping early fetches no further page.
	*seen = nil
	n = 0
	for range c.Query(t.Context(), "SELECT Id FROM Contact", QueryBatchSize(200)) {
		n++
		if n == 10 {
			break
		}
	}
	if len(*seen) != 1 {
		t.Errorf("pages fetched = %d, want 1", len(*seen))
	}
	// Page API.
	p, err := c.QueryPage(t.Context(), "SELECT Id FROM Contact", QueryBatchSize(500))
	if err != nil || p.TotalSize != 1000 || p.Done || len(p.Records) != 500 {
		t.Fatalf("QueryPage = %+v, %v", p, err)
	}
	p2, err := c.QueryMore(t.Context(), p.NextRecordsURL, QueryBatchSize(500))
	if err != nil || !p2.Done || len(p2.Records) != 500 || p2.Records[0].ID() != fmt.Sprintf("003%015d", 500) {
		t.Fatalf("QueryMore = %+v, %v", p2, err)
	}
}

func TestRecord(t *testing.T) {
	t.Parallel()
	const body = `{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/003A"},
 "Id":"003A","LastName":"Smith","HasOptedOutOfEmail":false,"Amount__c":12345678901234567890.5,"NumberOfEmployees":42,
 "Birthdate":"1990-05-17","LastModifiedDate":"2024-01-03T23:52:01.000+0000","Description":null,
 "Account":{"attributes":{"type":"Account","url":"/x/001A"},"Name":"Acme","Owner":{"attributes":{"type":"User"},"Name":"Ada"}},
 "ReportsTo":null,
 "Cases":{"totalSize":2,"done":true,"records":[{"attributes":{"type":"Case"},"Id":"500A"},{"attributes":{"type":"Case"},"Id":"500B"}]}}`
	var r Record
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	wantFields := []string{"Id", "LastName", "HasOptedOutOfEmail", "Amount__c", "NumberOfEmployees", "Birthdate", "LastModifiedDate", "Description", "Account", "ReportsTo", "Cases"}
	if diff := cmp.Diff(wantFields, r.Fields()); diff != "" {
		t.Errorf("Fields (-want +got):\n%s", diff)
	}
	if r.Type() != "Contact" || r.ID() != "003A" || r.URL() != "/services/data/v62.0/sobjects/Contact/003A" {
		t.Errorf("attributes: %s %s %s", r.Type(), r.ID(), r.URL())
	}
	if s, ok := r.String("lastname"); !ok || s != "Smith" {
		t.Errorf("String(lastname) = %q %v", s, ok)
	}
	if s, ok := r.String("Amount__c"); !ok || s != "12345678901234567890.5" {
		t.Errorf("String(Amount__c) = %q (precision lost?)", s)
	}
	if b, ok := r.Bool("HasOptedOutOfEmail"); !ok || b {
		t.Errorf("Bool = %v %v", b, ok)
	}
	if n, ok := r.Int64("NumberOfEmployees"); !ok || n != 42 {
		t.Errorf("Int64 = %v %v", n, ok)
	}
	if _, ok := r.Int64("Amount__c"); ok {
		t.Error("Int64 of a fraction succeeded")
	}
	if f, ok := r.Float64("NumberOfEmployees"); !ok || f != 42 {
		t.Errorf("Float64 = %v", f)
	}
	if d, ok := r.Time("Birthdate"); !ok || !d.Equal(time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Time(Birthdate) = %v %v", d, ok)
	}
	if d, ok := r.Time("LastModifiedDate"); !ok || !d.Equal(time.Date(2024, 1, 3, 23, 52, 1, 0, time.UTC)) {
		t.Errorf("Time(LastModifiedDate) = %v %v", d, ok)
	}
	if !r.IsNull("Description") || r.IsNull("LastName") || r.IsNull("Missing") {
		t.Error("IsNull")
	}
	if s, ok := r.String("Account.Owner.Name"); !ok || s != "Ada" {
		t.Errorf("dotted path = %q %v", s, ok)
	}
	if !r.IsNull("ReportsTo.Name") {
		t.Error("field under a null parent is not null")
	}
	acc, ok := r.Parent("Account")
	if !ok || acc.Type() != "Account" || acc.ID() != "001A" {
		t.Errorf("Parent = %v %v", acc.Type(), ok)
	}
	cases, ok := r.Subquery("Cases")
	if !ok || len(cases) != 2 || cases[1].ID() != "500B" {
		t.Errorf("Subquery = %v %v", cases, ok)
	}
	// Round trip keeps order and attributes.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var again Record
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r.Map(), again.Map()); diff != "" || again.Type() != "Contact" || !strings.HasPrefix(string(b), `{"attributes":{"type":"Contact"`) {
		t.Errorf("round trip (-want +got):\n%s\n%s", diff, b)
	}
	n := NewRecord("Account")
	n.Set("Name", "Acme")
	n.Set("Name", "Acme 2")
	if n.Len() != 1 || n.Type() != "Account" {
		t.Errorf("NewRecord/Set: %v", n.Fields())
	}
	if err := json.Unmarshal([]byte(`[1]`), &again); err == nil {
		t.Error("array accepted as a record")
	}
}

func TestSObjectCRUD(t *testing.T) {
	t.Parallel()
	type call struct{ Method, Path, Query, Body string }
	var mu sync.Mutex
	var calls []call
	mux := http.NewServeMux()
	record := func(r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, call{r.Method, r.URL.Path, r.URL.RawQuery, string(b)})
		mu.Unlock()
	}
	mux.HandleFunc("POST /services/data/v62.0/sobjects/Contact", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.Header().Set("Location", "/services/data/v62.0/sobjects/Contact/003NEW")
		w.WriteHeader(201)
		io.WriteString(w, `{"id":"003NEW","success":true,"errors":[]}`)
	})
	mux.HandleFunc("GET /services/data/v62.0/sobjects/Contact/{id}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		if r.PathValue("id") != "003NEW" {
			coreRESTError(w, 404, "NOT_FOUND", "The requested resource does not exist")
			return
		}
		io.WriteString(w, `{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/003NEW"},"Id":"003NEW","LastName":"Smith"}`)
	})
	mux.HandleFunc("PATCH /services/data/v62.0/sobjects/Contact/{id}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.WriteHeader(204)
	})
	mux.HandleFunc("DELETE /services/data/v62.0/sobjects/Contact/{id}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.WriteHeader(204)
	})
	mux.HandleFunc("PATCH /services/data/v62.0/sobjects/Contact/Ext_Id__c/{v}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		switch r.PathValue("v") {
		case "new":
			w.WriteHeader(201)
			io.WriteString(w, `{"id":"003UP1","errors":[],"success":true,"created":true}`)
		case "existing":
			io.WriteString(w, `{"id":"003UP2","errors":[],"success":true,"created":false}`)
		case "old api":
			w.WriteHeader(204)
		case "dup":
			w.WriteHeader(300)
			io.WriteString(w, `["/services/data/v62.0/sobjects/Contact/003D1","/services/data/v62.0/sobjects/Contact/003D2"]`)
		default:
			coreRESTError(w, 400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]")
		}
	})
	mux.HandleFunc("GET /services/data/v62.0/sobjects/Contact/Ext_Id__c/{v}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		io.WriteString(w, `{"attributes":{"type":"Contact"},"Id":"003UP1"}`)
	})
	_, c := coreServer(t, true, mux)
	ctx := t.Context()
	contacts := c.SObject("Contact")

	id, err := contacts.Create(ctx, map[string]any{"LastName": "Smith"})
	if err != nil || id != "003NEW" {
		t.Fatalf("Create = %q, %v", id, err)
	}
	rec, err := contacts.Get(ctx, id, "Id", "LastName")
	if err != nil || rec.ID() != "003NEW" {
		t.Fatalf("Get = %v, %v", rec.ID(), err)
	}
	if _, err := contacts.Get(ctx, "003MISSING"); !IsErrorCode(err, "NOT_FOUND") {
		t.Errorf("Get missing = %v", err)
	}
	if err := contacts.Update(ctx, id, map[string]any{"LastName": "Jones", "Email": nil}); err != nil {
		t.Fatal(err)
	}
	if err := contacts.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if rec, err := contacts.GetByExternalID(ctx, "Ext_Id__c", "new"); err != nil || rec.ID() != "003UP1" {
		t.Errorf("GetByExternalID = %v, %v", rec.ID(), err)
	}
	for _, tt := range []struct {
		value    string
		want     UpsertResult
		wantCode string
	}{
		{"new", UpsertResult{ID: "003UP1", Created: true}, ""},
		{"existing", UpsertResult{ID: "003UP2", Created: false}, ""},
		{"old api", UpsertResult{}, ""},
		{"dup", UpsertResult{}, "MULTIPLE_CHOICES"},
		{"bad", UpsertResult{}, "REQUIRED_FIELD_MISSING"},
	} {
		got, err := contacts.Upsert(ctx, "Ext_Id__c", tt.value, map[string]any{"LastName": "X"})
		if tt.wantCode != "" {
			if !IsErrorCode(err, tt.wantCode) {
				t.Errorf("Upsert(%s) err = %v, want %s", tt.value, err, tt.wantCode)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Upsert(%s) = %+v, %v; want %+v", tt.value, got, err, tt.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	wantCalls := []call{
		{"POST", "/services/data/v62.0/sobjects/Contact", "", `{"LastName":"Smith"}`},
		{"GET", "/services/data/v62.0/sobjects/Contact/003NEW", "fields=Id%2CLastName", ""},
		{"GET", "/services/data/v62.0/sobjects/Contact/003MISSING", "", ""},
		{"PATCH", "/services/data/v62.0/sobjects/Contact/003NEW", "", `{"Email":null,"LastName":"Jones"}`},
		{"DELETE", "/services/data/v62.0/sobjects/Contact/003NEW", "", ""},
		{"GET", "/services/data/v62.0/sobjects/Contact/Ext_Id__c/new", "", ""},
	}
	if diff := cmp.Diff(wantCalls, calls[:len(wantCalls)]); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if got := calls[len(wantCalls)+2]; got.Path != "/services/data/v62.0/sobjects/Contact/Ext_Id__c/old api" || got.Body != `{"LastName":"X"}` {
		t.Errorf("upsert request = %+v", got)
	}
}

// TestQueryMoreStaysOnInstance checks that a nextRecordsUrl naming another
// host does not make the client send its token there: only the path and
// query are used, on the client's own instance.
func TestQueryMoreStaysOnInstance(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(true)
		writeBody(w, 200, "application/json", `{"totalSize":2,"done":true,"records":[]}`)
	}))
	defer other.Close()
	c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/services/data/v62.0/query/01gNEXT-1" {
			writeBody(w, 200, "application/json", `{"totalSize":2,"done":true,"records":[{"attributes":{"type":"Account"},"Id":"001B"}]}`)
			return
		}
		writeBody(w, 200, "application/json", `{"totalSize":2,"done":false,"nextRecordsUrl":"`+other.URL+`/services/data/v62.0/query/01gNEXT-1","records":[{"attributes":{"type":"Account"},"Id":"001A"}]}`)
	}))
	n := 0
	for _, err := range c.Query(t.Context(), "SELECT Id FROM Account") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if leaked.Load() {
		t.Error("the client followed nextRecordsUrl to another host")
	}
	if n != 2 {
		t.Errorf("%d records, want 2", n)
	}
}

// TestQueryRepeatedNextURL checks that a server repeating nextRecordsUrl
// ends the iteration with an error instead of looping forever.
func TestQueryRepeatedNextURL(t *testing.T) {
	t.Parallel()
	c, _ := newFakeOrgClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, 200, "application/json", `{"totalSize":9,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gSAME-1","records":[{"attributes":{"type":"Account"},"Id":"001A"}]}`)
	}))
	n := 0
	var last error
	for _, err := range c.Query(t.Context(), "SELECT Id FROM Account") {
		if n++; n > 10 {
			t.Fatal("still iterating after 10 records")
		}
		last = err
	}
	if last == nil || !strings.Contains(last.Error(), "repeated") {
		t.Errorf("err = %v, want a repeated nextRecordsUrl error", last)
	}
}
