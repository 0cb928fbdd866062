package rest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

type env struct {
	t   *testing.T
	org *org.Org
	srv *httptest.Server
}

// newEnv serves a Handler over a fresh org, with every request
// authenticated as the org's default user (what the server's middleware
// does).
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvSchema(t, nil)
}

// newEnvSchema is newEnv over an org of schema (nil: the default schema).
func newEnvSchema(t *testing.T, schema *org.Schema) *env {
	t.Helper()
	fc := clock.NewFake(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	o, err := org.New(org.Options{Clock: fc, Seed: 7, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	h := New(o, Options{Clock: fc})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := &wire.Session{Token: "t", UserID: o.DefaultUserID(), OrgID: o.ID()}
		h.ServeHTTP(w, r.WithContext(wire.WithSession(r.Context(), sess)))
	}))
	t.Cleanup(func() {
		srv.Close()
		_ = o.Close()
	})
	return &env{t: t, org: o, srv: srv}
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(method, path, body string, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{status: r.StatusCode, header: r.Header, body: string(b)}
}

func (e *env) json(r resp, v any) {
	e.t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		e.t.Fatalf("decode %q: %v", r.body, err)
	}
}

func (e *env) insertContacts(n int, last string) []string {
	e.t.Helper()
	reqs := make([]org.WriteRequest, n)
	for i := range reqs {
		reqs[i] = org.WriteRequest{Op: org.OpInsert, Object: "Contact", Fields: map[string]any{
			"FirstName": fmt.Sprintf("F%d", i), "LastName": last, "Email": fmt.Sprintf("c%d@example.com", i),
		}}
	}
	res := e.org.Write(e.t.Context(), "", reqs, true)
	ids := make([]string, n)
	for i, r := range res {
		if !r.Success {
			e.t.Fatalf("insert %d: %+v", i, r.Errors)
		}
		ids[i] = r.ID
	}
	return ids
}

const jsonCT = "application/json;charset=UTF-8"

var idRE = regexp.MustCompile(`"id":"(003[0-9A-Za-z]{15})"`)

// TestRESTCrudTrace follows simple-salesforce.rest-crud: create, read,
// update, upsert twice, delete, read deleted, create without LastName.
func TestRESTCrudTrace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("POST", "/services/data/v62.0/sobjects/Contact/", `{"FirstName": "Ada", "LastName": "AccPyRcCap"}`)
	m := idRE.FindStringSubmatch(r.body)
	if r.status != 201 || m == nil || r.body != `{"id":"`+m[1]+`","success":true,"errors":[]}` || r.header.Get("Content-Type") != jsonCT {
		t.Fatalf("create: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	id := m[1]
	r = e.do("GET", "/services/data/v62.0/sobjects/Contact/"+id, "")
	if r.status != 200 || !strings.HasPrefix(r.body, `{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/`+id+`"},"Id":"`+id+`"`) ||
		!strings.Contains(r.body, `"FirstName":"Ada"`) || !strings.Contains(r.body, `"CreatedDate":"2026-03-04T05:06:07.000+0000"`) {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/services/data/v59.0/sobjects/Contact/"+id[:15]+"?fields=LastName,FirstName", "")
	if want := `{"attributes":{"type":"Contact","url":"/services/data/v59.0/sobjects/Contact/` + id + `"},"LastName":"AccPyRcCap","FirstName":"Ada"}`; r.body != want {
		t.Errorf("get fields (15-char id):\n got %s\nwant %s", r.body, want)
	}
	r = e.do("PATCH", "/services/data/v62.0/sobjects/Contact/"+id, `{"FirstName": "Grace","attributes":{"type":"Contact"}}`)
	if r.status != 204 || r.body != "" {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	if rec, _ := e.org.Get(t.Context(), "Contact", id, []string{"FirstName"}); rec["FirstName"] != "Grace" {
		t.Errorf("after update FirstName = %v", rec["FirstName"])
	}
	r = e.do("PATCH", "/services/data/v62.0/sobjects/Contact/External_Id__c/AccPyRcCap-1", `{"LastName": "AccPyRcCap", "FirstName": "Up"}`)
	m = idRE.FindStringSubmatch(r.body)
	if r.status != 201 || m == nil || r.body != `{"id":"`+m[1]+`","success":true,"errors":[],"created":true}` {
		t.Fatalf("upsert create: %d %s", r.status, r.body)
	}
	r = e.do("PATCH", "/services/data/v62.0/sobjects/Contact/External_Id__c/AccPyRcCap-1", `{"LastName": "AccPyRcCap", "FirstName": "Up2"}`)
	if r.status != 200 || r.body != `{"id":"`+m[1]+`","success":true,"errors":[],"created":false}` {
		t.Fatalf("upsert update: %d %s", r.status, r.body)
	}
	r = e.do("PATCH", "/services/data/v45.0/sobjects/Contact/External_Id__c/AccPyRcCap-1", `{"FirstName": "Old"}`)
	if r.status != 204 {
		t.Errorf("upsert update v45: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/services/data/v62.0/sobjects/Contact/External_Id__c/AccPyRcCap-1", "")
	if r.status != 200 || !strings.Contains(r.body, `"FirstName":"Old"`) {
		t.Errorf("get by external id: %d %s", r.status, r.body)
	}
	if r = e.do("PATCH", "/services/data/v62.0/sobjects/Contact/External_Id__c/x", `{"Id":"`+id+`"}`); r.status != 400 || !strings.Contains(r.body, `"errorCode":"INVALID_FIELD"`) {
		t.Errorf("upsert with Id in body: %d %s", r.status, r.body)
	}
	if r = e.do("PATCH", "/services/data/v62.0/sobjects/Contact/FirstName/x", `{}`); r.status != 404 ||
		r.body != `[{"message":"Provided external ID field does not exist or is not accessible: FirstName","errorCode":"NOT_FOUND"}]` {
		t.Errorf("upsert on non-external field: %d %s", r.status, r.body)
	}
	if r = e.do("PATCH", "/services/data/v62.0/sobjects/Contact/External_Id__c/none?updateOnly=true", `{"LastName":"x"}`); r.status != 404 {
		t.Errorf("updateOnly without match: %d %s", r.status, r.body)
	}
	if r = e.do("DELETE", "/services/data/v62.0/sobjects/Contact/"+id, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/services/data/v62.0/sobjects/Contact/"+id, "")
	if r.status != 404 || r.body != `[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]` || r.header.Get("Content-Type") != jsonCT {
		t.Errorf("get deleted: %d %s", r.status, r.body)
	}
	r = e.do("DELETE", "/services/data/v62.0/sobjects/Contact/"+id, "")
	if r.status != 404 || !strings.Contains(r.body, "ENTITY_IS_DELETED") {
		t.Errorf("delete twice: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/services/data/v62.0/sobjects/Contact/", `{"FirstName": "NoLast"}`)
	if r.status != 400 || r.body != `[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]` {
		t.Errorf("missing LastName: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/services/data/v62.0/sobjects/Contact", `{"LastName": `)
	if r.status != 400 || !strings.Contains(r.body, `"errorCode":"JSON_PARSER_ERROR"`) {
		t.Errorf("bad JSON: %d %s", r.status, r.body)
	}
	if r = e.do("POST", "/services/data/v62.0/sobjects/Nope__c", `{}`); r.status != 404 {
		t.Errorf("unknown object: %d %s", r.status, r.body)
	}
	if r = e.do("GET", "/services/data/v62.0/sobjects/Contact/xyz", ""); r.status != 404 ||
		r.body != `[{"message":"Provided external ID field does not exist or is not accessible: xyz","errorCode":"NOT_FOUND"}]` {
		t.Errorf("non-id segment: %d %s", r.status, r.body)
	}
	if r = e.do("PUT", "/services/data/v62.0/sobjects/Contact/"+id, `{}`); r.status != 405 {
		t.Errorf("PUT record: %d %s", r.status, r.body)
	}
}

func TestRESTRelationshipByExternalID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("POST", "/services/data/v62.0/sobjects/Account", `{"Name":"Acme","External_Id__c":"A-1"}`)
	if r.status != 201 {
		t.Fatalf("account: %d %s", r.status, r.body)
	}
	acct := regexp.MustCompile(`"id":"(001\w{15})"`).FindStringSubmatch(r.body)[1]
	r = e.do("POST", "/services/data/v62.0/sobjects/Contact", `{"LastName":"L","Account":{"External_Id__c":"A-1"}}`)
	if r.status != 201 {
		t.Fatalf("contact: %d %s", r.status, r.body)
	}
	q := e.do("GET", "/services/data/v62.0/query?q=SELECT%20Id%2C%20Account.Name%2C%20AccountId%20FROM%20Contact", "")
	if !strings.Contains(q.body, `"Account":{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/`+acct+`"},"Name":"Acme"},"AccountId":"`+acct+`"`) {
		t.Errorf("query with parent: %s", q.body)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("GET", "/services/data/v62.0/sobjects", "")
	var g struct {
		Encoding     string
		MaxBatchSize int
		Sobjects     []map[string]any
	}
	e.json(r, &g)
	if g.Encoding != "UTF-8" || g.MaxBatchSize != 200 || len(g.Sobjects) < 6 {
		t.Fatalf("global describe: %s", r.body[:min(300, len(r.body))])
	}
	var contact map[string]any
	for _, o := range g.Sobjects {
		if o["name"] == "Contact" {
			contact = o
		}
	}
	if contact == nil || contact["keyPrefix"] != "003" || contact["queryable"] != true || contact["createable"] != true {
		t.Errorf("Contact entry: %v", contact)
	}
	r = e.do("GET", "/services/data/v62.0/sobjects/Contact/describe/", "")
	var d struct {
		Name   string
		Fields []map[string]any
	}
	e.json(r, &d)
	byName := map[string]map[string]any{}
	for _, f := range d.Fields {
		byName[f["name"].(string)] = f
	}
	ln, ext, acc := byName["LastName"], byName["External_Id__c"], byName["AccountId"]
	if d.Name != "Contact" || ln == nil || ln["nillable"] != false || ln["createable"] != true || ln["type"] != "string" || ln["length"] != 80.0 {
		t.Errorf("LastName: %v", ln)
	}
	if ext == nil || ext["externalId"] != true || ext["unique"] != true || ext["idLookup"] != true {
		t.Errorf("External_Id__c: %v", ext)
	}
	if acc == nil || acc["type"] != "reference" || acc["relationshipName"] != "Account" || fmt.Sprint(acc["referenceTo"]) != "[Account]" {
		t.Errorf("AccountId: %v", acc)
	}
	for _, k := range []string{"name", "type", "length", "nillable", "createable", "updateable", "unique", "externalId", "picklistValues", "referenceTo", "relationshipName", "defaultedOnCreate", "soapType"} {
		if _, ok := ln[k]; !ok {
			t.Errorf("field describe lacks %q", k)
		}
	}
	r = e.do("GET", "/services/data/v62.0/sobjects/Contact", "")
	if r.status != 200 || !strings.HasPrefix(r.body, `{"objectDescribe":{`) {
		t.Errorf("basic info: %d %s", r.status, r.body[:min(100, len(r.body))])
	}
	if r = e.do("GET", "/services/data/v62.0/sobjects/Nope/describe", ""); r.status != 404 ||
		r.body != `[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]` {
		t.Errorf("unknown describe: %d %s", r.status, r.body)
	}
}

func TestResourcesAndVersions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("GET", "/services/data/v63.0/", "")
	var m map[string]string
	e.json(r, &m)
	if m["sobjects"] != "/services/data/v63.0/sobjects" || m["limits"] != "/services/data/v63.0/limits" {
		t.Errorf("resources: %s", r.body)
	}
	if r = e.do("GET", "/services/data/v20.0/limits", ""); r.status != 410 {
		t.Errorf("retired version: %d", r.status)
	}
	if r = e.do("GET", "/services/data/62.0/limits", ""); r.status != 404 {
		t.Errorf("version without v: %d", r.status)
	}
	for v, want := range map[int]string{31: "Summer '14", 59: "Winter '24", 60: "Spring '24", 62: "Winter '25", 66: "Spring '26"} {
		if got := releaseLabel(v); got != want {
			t.Errorf("releaseLabel(%d) = %q, want %q", v, got, want)
		}
	}
}

type page struct {
	TotalSize      int              `json:"totalSize"`
	Done           bool             `json:"done"`
	NextRecordsURL string           `json:"nextRecordsUrl"`
	Records        []map[string]any `json:"records"`
}

func TestQueryPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.insertContacts(2500, "Pager")
	// jsforce form (%20) at v62.0, then follow the cursor.
	r := e.do("GET", "/services/data/v62.0/query?q=SELECT%20Id%2C%20FirstName%20FROM%20Contact%20WHERE%20LastName%20%3D%20%27Pager%27", "")
	var p page
	e.json(r, &p)
	if r.status != 200 || r.header.Get("Content-Type") != jsonCT || p.TotalSize != 2500 || p.Done || len(p.Records) != 2000 {
		t.Fatalf("first page: %d total=%d done=%v n=%d", r.status, p.TotalSize, p.Done, len(p.Records))
	}
	if !regexp.MustCompile(`^/services/data/v62\.0/query/01g\w{15}-2000$`).MatchString(p.NextRecordsURL) {
		t.Fatalf("nextRecordsUrl = %q", p.NextRecordsURL)
	}
	if !strings.HasPrefix(r.body, `{"totalSize":2500,"done":false,"nextRecordsUrl":"`) ||
		!strings.Contains(r.body, `"records":[{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/`) {
		t.Errorf("page shape: %s", r.body[:200])
	}
	r = e.do("GET", p.NextRecordsURL, "")
	var p2 page
	e.json(r, &p2)
	if p2.TotalSize != 2500 || !p2.Done || p2.NextRecordsURL != "" || len(p2.Records) != 500 || p2.Records[0]["FirstName"] != "F2000" {
		t.Fatalf("second page: total=%d done=%v next=%q n=%d", p2.TotalSize, p2.Done, p2.NextRecordsURL, len(p2.Records))
	}
	// The cursor closed with its last page.
	if r = e.do("GET", p.NextRecordsURL, ""); r.status != 400 || r.body != `[{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}]` {
		t.Errorf("reused cursor: %d %s", r.status, r.body)
	}

	// go-salesforce form: /query/?q= with '+', v63.0, batchSize 500.
	r = e.do("GET", "/services/data/v63.0/query/?q=SELECT+Id+FROM+Contact+WHERE+LastName+%3D+%27Pager%27", "", "Sforce-Query-Options", "batchSize=500")
	e.json(r, &p)
	pages, n := 1, len(p.Records)
	for !p.Done {
		if !strings.HasPrefix(p.NextRecordsURL, "/services/data/v63.0/query/") {
			t.Fatalf("nextRecordsUrl %q not in caller's version", p.NextRecordsURL)
		}
		// Cursors also resolve under /queryAll/ (jsforce rebuilds the URL).
		next := strings.Replace(p.NextRecordsURL, "/query/", "/queryAll/", 1)
		p = page{}
		e.json(e.do("GET", next, ""), &p)
		pages++
		n += len(p.Records)
	}
	if pages != 5 || n != 2500 {
		t.Errorf("batchSize=500: %d pages, %d records", pages, n)
	}
	// batchSize is clamped to 200..2000.
	e.json(e.do("GET", "/services/data/v63.0/query?q=SELECT+Id+FROM+Contact", "", "Sforce-Query-Options", "batchSize=10"), &p)
	if len(p.Records) != 200 {
		t.Errorf("batchSize=10 gave %d records", len(p.Records))
	}
}

func TestQueryAllAndCountAndErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.insertContacts(3, "Gone")
	if r := e.do("DELETE", "/services/data/v62.0/sobjects/Contact/"+ids[0], ""); r.status != 204 {
		t.Fatal(r.body)
	}
	var p page
	e.json(e.do("GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+Contact+WHERE+LastName='Gone'", ""), &p)
	if p.TotalSize != 2 {
		t.Errorf("query: %d rows, want 2", p.TotalSize)
	}
	e.json(e.do("GET", "/services/data/v62.0/queryAll/?q=SELECT+Id,IsDeleted+FROM+Contact+WHERE+LastName='Gone'", ""), &p)
	if p.TotalSize != 3 {
		t.Errorf("queryAll: %d rows, want 3", p.TotalSize)
	}
	r := e.do("GET", "/services/data/v62.0/query?q=SELECT+COUNT()+FROM+Contact", "")
	if r.body != `{"totalSize":2,"done":true,"records":[]}` {
		t.Errorf("COUNT(): %s", r.body)
	}
	for q, code := range map[string]string{
		"SELEC+Id+FROM+Contact":   "MALFORMED_QUERY",
		"SELECT+Foo+FROM+Contact": "INVALID_FIELD",
		"SELECT+Id+FROM+Nope":     "INVALID_TYPE",
		"":                        "MALFORMED_QUERY",
	} {
		r := e.do("GET", "/services/data/v62.0/query?q="+q, "")
		if r.status != 400 || !strings.Contains(r.body, `"errorCode":"`+code+`"`) {
			t.Errorf("%q: %d %s, want %s", q, r.status, r.body, code)
		}
	}
	if r := e.do("GET", "/services/data/v62.0/query/bogus-2000", ""); r.status != 400 || !strings.Contains(r.body, "INVALID_QUERY_LOCATOR") {
		t.Errorf("bogus locator: %d %s", r.status, r.body)
	}
}

func TestCursorLimitAndExpiry(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Unix(0, 0))
	cs := newCursorStore(fc)
	var ids []string
	for range MaxOpenCursors + 1 {
		ids = append(ids, cs.open("u", nil, 200))
		fc.Advance(time.Second)
	}
	if cs.get(ids[0]) != nil {
		t.Error("oldest cursor survived the per-user cap")
	}
	if cs.get(ids[1]) == nil || len(ids[1]) != 18 || !strings.HasPrefix(ids[1], "01g") {
		t.Errorf("cursor %q missing or malformed", ids[1])
	}
	if other := cs.open("v", nil, 200); cs.get(other) == nil || cs.get(ids[2]) == nil {
		t.Error("another user's cursor evicted this user's")
	}
	fc.Advance(CursorIdleTimeout)
	if cs.get(ids[2]) != nil {
		t.Error("idle cursor did not expire")
	}
}
