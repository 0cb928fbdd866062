package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// collectionsOrg is a fake sObject Collections endpoint: records whose Name starts with "bad"
// fail with REQUIRED_FIELD_MISSING; a call holding a record named "boom" fails as a whole with
// a 400 error array; ids are derived from the record's "N" field.
type collectionsOrg struct {
	mu           sync.Mutex
	calls        []collectionsCall
	inFlight     atomic.Int32
	maxInFlight  atomic.Int32
	arrived      chan struct{} // if non-nil, every call signals here, then waits for release
	release      chan struct{}
	retrieveHits atomic.Int32
}

type collectionsCall struct {
	Method, Path, Query string
	AllOrNone           bool
	Records             []map[string]any
}

func (o *collectionsOrg) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := o.inFlight.Add(1)
	defer o.inFlight.Add(-1)
	for {
		m := o.maxInFlight.Load()
		if n <= m || o.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	if o.arrived != nil {
		o.arrived <- struct{}{}
		<-o.release
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/services/data/v62.0/composite/sobjects/") {
		o.retrieveHits.Add(1)
		var body struct {
			IDs    []string `json:"ids"`
			Fields []string `json:"fields"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.IDs) > MaxCollectionRetrieveIDs || len(body.Fields) == 0 {
			writeBody(w, 400, "application/json", `[{"errorCode":"INVALID_INPUT","message":"bad retrieve"}]`)
			return
		}
		out := make([]any, len(body.IDs))
		for i, id := range body.IDs {
			if strings.HasPrefix(id, "missing") {
				continue
			}
			out[i] = map[string]any{"attributes": map[string]any{"type": "Account"}, "Id": id, "Name": "name of " + id}
		}
		b, _ := json.Marshal(out)
		writeBody(w, 200, "application/json", string(b))
		return
	}
	call := collectionsCall{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	var results []map[string]any
	if r.Method == http.MethodDelete {
		ids := strings.Split(r.URL.Query().Get("ids"), ",")
		call.AllOrNone = r.URL.Query().Get("allOrNone") == "true"
		for _, id := range ids {
			if strings.HasPrefix(id, "bad") {
				results = append(results, map[string]any{"id": id, "success": false, "errors": []any{map[string]any{"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []any{}}}})
			} else {
				results = append(results, map[string]any{"id": id, "success": true, "errors": []any{}})
			}
		}
	} else {
		var body struct {
			AllOrNone bool             `json:"allOrNone"`
			Records   []map[string]any `json:"records"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Records) > MaxCollectionRecords {
			writeBody(w, 400, "application/json", `[{"errorCode":"JSON_PARSER_ERROR","message":"bad body"}]`)
			return
		}
		call.AllOrNone, call.Records = body.AllOrNone, body.Records
		for _, rec := range body.Records {
			attrs, _ := rec["attributes"].(map[string]any)
			if attrs["type"] == nil {
				writeBody(w, 400, "application/json", `[{"errorCode":"INVALID_TYPE","message":"missing attributes.type"}]`)
				return
			}
			if rec["Name"] == "boom" {
				writeBody(w, 400, "application/json", `[{"errorCode":"INVALID_FIELD","message":"No such column 'Boom__c'","fields":["Boom__c"]}]`)
				return
			}
		}
		failed := false
		for _, rec := range body.Records {
			name, _ := rec["Name"].(string)
			if strings.HasPrefix(name, "bad") {
				failed = true
				results = append(results, map[string]any{"success": false, "errors": []any{map[string]any{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [LastName]", "fields": []any{"LastName"}}}})
				continue
			}
			id := fmt.Sprintf("001%v", rec["N"])
			if v, ok := rec["Id"].(string); ok {
				id = v
			}
			res := map[string]any{"id": id, "success": true, "errors": []any{}}
			if r.Method == http.MethodPatch && strings.Count(r.URL.Path, "/") > 6 { // upsert: created for even N
				res["created"] = rec["N"] != nil && fmt.Sprint(rec["N"])[0]%2 == 0
			}
			results = append(results, res)
		}
		if failed && body.AllOrNone {
			for i, res := range results {
				if res["success"] == true {
					results[i] = map[string]any{"success": false, "errors": []any{map[string]any{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back", "fields": []any{}}}}
				}
			}
		}
	}
	o.mu.Lock()
	o.calls = append(o.calls, call)
	o.mu.Unlock()
	b, _ := json.Marshal(results)
	writeBody(w, 200, "application/json", string(b))
}

func (o *collectionsOrg) recorded() []collectionsCall {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]collectionsCall(nil), o.calls...)
}

func makeRecords(n int, name func(i int) string) []map[string]any {
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"N": i, "Name": name(i)}
	}
	return recs
}

func TestCreateRecordsSplitsAndKeepsOrder(t *testing.T) {
	t.Parallel()
	org := &collectionsOrg{}
	c, _ := newFakeOrgClient(t, org)
	recs := makeRecords(450, func(i int) string {
		switch {
		case i == 250: // the second call (records 200-399) fails as a whole
			return "boom"
		case i%7 == 0:
			return fmt.Sprintf("bad %d", i)
		}
		return fmt.Sprintf("ok %d", i)
	})
	res, err := c.Composite.CreateRecords(t.Context(), "Account", recs, CollectionOptions{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(recs) {
		t.Fatalf("%d results for %d records", len(res), len(recs))
	}
	for i, r := range res {
		switch {
		case i >= 200 && i < 400:
			want := SaveResult{Errors: []RecordError{{StatusCode: "INVALID_FIELD", Message: "No such column 'Boom__c'", Fields: []string{"Boom__c"}}}}
			if d := cmp.Diff(want, r); d != "" {
				t.Fatalf("record %d (in the failed call) (-want +got):\n%s", i, d)
			}
		case i%7 == 0:
			if r.Success || r.ID != "" || len(r.Errors) != 1 || r.Errors[0].StatusCode != "REQUIRED_FIELD_MISSING" || r.Errors[0].Fields[0] != "LastName" {
				t.Fatalf("record %d = %+v, want REQUIRED_FIELD_MISSING", i, r)
			}
		default:
			if !r.Success || r.ID != fmt.Sprintf("001%d", i) || !r.Created {
				t.Fatalf("record %d = %+v, want success with id 001%d", i, r, i)
			}
		}
	}
	calls := org.recorded()
	if len(calls) != 2 { // the "boom" call is not recorded
		t.Errorf("%d successful calls, want 2", len(calls))
	}
	sizes := map[int]bool{}
	for _, call := range calls {
		sizes[len(call.Records)] = true
		if call.Method != "POST" || call.Path != "/services/data/v62.0/composite/sobjects" || call.AllOrNone {
			t.Errorf("call = %s %s allOrNone=%v", call.Method, call.Path, call.AllOrNone)
		}
		for _, rec := range call.Records {
			if d := cmp.Diff(map[string]any{"type": "Account"}, rec["attributes"]); d != "" {
				t.Fatalf("attributes (-want +got):\n%s", d)
			}
		}
	}
	if !sizes[200] || !sizes[50] {
		t.Errorf("call sizes %v, want 200 and 50", sizes)
	}
	if m := org.maxInFlight.Load(); m > 2 {
		t.Errorf("%d calls in flight, limit 2", m)
	}
}

func TestCollectionsConcurrencyBound(t *testing.T) {
	t.Parallel()
	org := &collectionsOrg{arrived: make(chan struct{}, 100), release: make(chan struct{})}
	c, _ := newFakeOrgClient(t, org)
	recs := makeRecords(2000, func(i int) string { return "ok" })
	done := make(chan []SaveResult)
	go func() {
		res, _ := c.Composite.CreateRecords(context.Background(), "Account", recs, CollectionOptions{Concurrency: 3})
		done <- res
	}()
	// Three calls reach the server and wait there together; then all are let through.
	for range 3 {
		<-org.arrived
	}
	close(org.release)
	res := <-done
	if m := org.maxInFlight.Load(); m != 3 {
		t.Errorf("max in flight %d, want 3", m)
	}
	for i, r := range res {
		if !r.Success {
			t.Fatalf("record %d failed: %+v", i, r)
		}
	}
}

func TestCollectionsAllOrNoneHalts(t *testing.T) {
	t.Parallel()
	org := &collectionsOrg{}
	c, _ := newFakeOrgClient(t, org)
	recs := makeRecords(500, func(i int) string {
		if i == 210 {
			return "bad"
		}
		return "ok"
	})
	res, err := c.Composite.CreateRecords(t.Context(), "Contact", recs, CollectionOptions{AllOrNone: true, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		var want string
		switch {
		case i < 200:
			if !r.Success {
				t.Fatalf("record %d of the first call failed: %+v", i, r)
			}
			continue
		case i == 210:
			want = "REQUIRED_FIELD_MISSING"
		case i < 400:
			want = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
		default:
			want = CodeNotProcessed
		}
		if r.Success || len(r.Errors) != 1 || r.Errors[0].StatusCode != want {
			t.Fatalf("record %d = %+v, want %s", i, r, want)
		}
	}
	calls := org.recorded()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2 (third not sent)", len(calls))
	}
	for _, call := range calls {
		if !call.AllOrNone {
			t.Error("allOrNone not sent")
		}
	}
}

func TestUpdateUpsertDeleteRecords(t *testing.T) {
	t.Parallel()
	org := &collectionsOrg{}
	c, _ := newFakeOrgClient(t, org)

	upd := []map[string]any{{"Id": "001A", "Name": "x"}, {"Name": "no id"}, {"id": "001C", "Name": "bad"}}
	res, err := c.Composite.UpdateRecords(t.Context(), "Account", upd, CollectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Success || res[0].ID != "001A" {
		t.Errorf("update 0 = %+v", res[0])
	}
	if res[1].Success || res[1].Errors[0].StatusCode != CodeMissingID {
		t.Errorf("update 1 = %+v, want %s", res[1], CodeMissingID)
	}
	if res[2].Success || res[2].Errors[0].StatusCode != "REQUIRED_FIELD_MISSING" {
		t.Errorf("update 2 = %+v", res[2])
	}
	calls := org.recorded()
	if len(calls) != 1 || calls[0].Method != "PATCH" || len(calls[0].Records) != 2 {
		t.Fatalf("update calls = %+v", calls)
	}

	ups := makeRecords(201, func(i int) string { return "ok" })
	res, err = c.Composite.UpsertRecords(t.Context(), "Account", "Ext__c", ups, CollectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 201 || !res[0].Success || !res[0].Created || res[1].Created {
		t.Errorf("upsert results: %+v %+v (len %d)", res[0], res[1], len(res))
	}
	calls = org.recorded()[1:]
	if len(calls) != 2 || calls[0].Path != "/services/data/v62.0/composite/sobjects/Account/Ext__c" || calls[0].Method != "PATCH" {
		t.Fatalf("upsert calls = %+v", calls)
	}

	ids := make([]string, 401)
	for i := range ids {
		ids[i] = fmt.Sprintf("001%03d", i)
	}
	ids[5], ids[400] = "bad5", ""
	res, err = c.Composite.DeleteRecords(t.Context(), ids, CollectionOptions{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		switch i {
		case 5:
			if r.Success || r.ID != "bad5" || r.Errors[0].StatusCode != "ENTITY_IS_DELETED" {
				t.Errorf("delete 5 = %+v", r)
			}
		case 400:
			if r.Success || r.Errors[0].StatusCode != CodeMissingID {
				t.Errorf("delete 400 = %+v", r)
			}
		default:
			if !r.Success || r.ID != ids[i] {
				t.Fatalf("delete %d = %+v", i, r)
			}
		}
	}
	calls = org.recorded()[3:]
	if len(calls) != 2 || calls[0].Method != "DELETE" || !strings.Contains(calls[0].Query, "allOrNone=false") {
		t.Fatalf("delete calls = %+v", calls)
	}
}

func TestRetrieveRecords(t *testing.T) {
	t.Parallel()
	org := &collectionsOrg{}
	c, _ := newFakeOrgClient(t, org)
	ids := make([]string, 4500)
	for i := range ids {
		ids[i] = fmt.Sprintf("001%05d", i)
	}
	ids[2001] = "missing"
	recs, err := c.Composite.RetrieveRecords(t.Context(), "Account", ids, []string{"Id", "Name"}, CollectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(ids) {
		t.Fatalf("%d records for %d ids", len(recs), len(ids))
	}
	for i, r := range recs {
		if i == 2001 {
			if r != nil {
				t.Errorf("missing id returned %v", r)
			}
			continue
		}
		if r["Id"] != ids[i] {
			t.Fatalf("record %d = %v", i, r)
		}
	}
	if n := org.retrieveHits.Load(); n != 3 {
		t.Errorf("%d retrieve calls, want 3", n)
	}
	if _, err := c.Composite.RetrieveRecords(t.Context(), "Account", ids[:1], nil, CollectionOptions{}); err == nil {
		t.Error("retrieve without fields succeeded")
	}
}

func TestCollectionsCancelled(t *testing.T) {
	t.Parallel()
	org := &collectionsOrg{}
	c, _ := newFakeOrgClient(t, org)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	recs := makeRecords(300, func(int) string { return "ok" })
	res, err := c.Composite.CreateRecords(ctx, "Account", recs, CollectionOptions{})
	if err == nil {
		t.Fatal("no error for a cancelled context")
	}
	if len(res) != 300 {
		t.Fatalf("%d results", len(res))
	}
	for i, r := range res {
		if r.Success || len(r.Errors) != 1 {
			t.Fatalf("record %d = %+v", i, r)
		}
	}
}

// TestCollectionsOrgUnreachable: an insert call whose every attempt found nothing listening
// never reached Salesforce: its records are CodeNotProcessed, and the error says the org
// could not be reached.
func TestCollectionsOrgUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(&collectionsOrg{})
	c, err := New(srv.URL, WithHTTPClient(srv.Client()), WithAccessToken("t"), WithRetry(fastRetry()))
	if err != nil {
		t.Fatal(err)
	}
	srv.Close() // nothing listens at the address any more
	recs := makeRecords(250, func(int) string { return "ok" })
	res, err := c.Composite.CreateRecords(t.Context(), "Account", recs, CollectionOptions{})
	var te *TransportError
	if !errors.As(err, &te) || !notSent(te.Err) {
		t.Fatalf("err = %v, want a *TransportError of a connection never made", err)
	}
	if len(res) != len(recs) {
		t.Fatalf("%d results for %d records", len(res), len(recs))
	}
	for i, r := range res {
		if r.Success || len(r.Errors) != 1 || r.Errors[0].StatusCode != CodeNotProcessed {
			t.Fatalf("record %d = %+v, want %s", i, r, CodeNotProcessed)
		}
	}
}

func TestEncodeRecords(t *testing.T) {
	t.Parallel()
	recs := []map[string]any{{}, {"Name": "A", "N": 1}, {"attributes": map[string]any{"type": "Lead"}, "LastName": "L"}}
	b, err := encodeRecords("Account", true, recs, []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"allOrNone":true,"records":[{"attributes":{"type":"Account"}},{"attributes":{"type":"Account"},"N":1,"Name":"A"},{"LastName":"L","attributes":{"type":"Lead"}}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if _, err := encodeRecords("Account", false, []map[string]any{{"F": make(chan int)}}, []int{0}); err == nil {
		t.Error("unencodable record accepted")
	}
}

func TestAPIVersionGates(t *testing.T) {
	t.Parallel()
	recs := []map[string]any{{"Name": "x"}}
	tests := []struct {
		version, feature string
		call             func(c *Client) error
	}{
		{"41.0", "42.0", func(c *Client) error {
			_, err := c.Composite.CreateRecords(t.Context(), "Account", recs, CollectionOptions{})
			return err
		}},
		{"41.0", "42.0", func(c *Client) error {
			_, err := c.Composite.DeleteRecords(t.Context(), []string{"001"}, CollectionOptions{})
			return err
		}},
		{"45.0", "46.0", func(c *Client) error {
			_, err := c.Composite.UpsertRecords(t.Context(), "Account", "Ext__c", recs, CollectionOptions{})
			return err
		}},
		{"40.0", "41.0", func(c *Client) error {
			_, err := c.Bulk2.CreateIngestJob(t.Context(), IngestJobRequest{Object: "A", Operation: "insert"})
			return err
		}},
		{"48.0", "49.0", func(c *Client) error {
			_, err := c.Bulk2.CreateIngestJob(t.Context(), IngestJobRequest{Object: "Lead", Operation: "insert", AssignmentRuleID: "01Q"})
			return err
		}},
		{"46.0", "47.0", func(c *Client) error {
			_, err := c.Bulk2.CreateQueryJob(t.Context(), QueryJobRequest{Query: "SELECT Id FROM Account"})
			return err
		}},
	}
	for _, tt := range tests {
		rec := &recorder{h: func(w http.ResponseWriter, r *http.Request, body string) {}}
		c, _ := newFakeOrgClient(t, rec, WithAPIVersion(tt.version))
		err := tt.call(c)
		var ve *APIVersionError
		if !errors.As(err, &ve) || ve.NeedAtLeast != tt.feature || ve.Have != tt.version {
			t.Errorf("API %s: err = %v, want needs %s", tt.version, err, tt.feature)
		}
		if len(rec.all()) != 0 {
			t.Errorf("API %s: request sent", tt.version)
		}
	}
}
