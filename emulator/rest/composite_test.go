package rest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

type compositeOut struct {
	CompositeResponse []struct {
		Body           json.RawMessage   `json:"body"`
		HTTPHeaders    map[string]string `json:"httpHeaders"`
		HTTPStatusCode int               `json:"httpStatusCode"`
		ReferenceID    string            `json:"referenceId"`
	} `json:"compositeResponse"`
}

func TestCompositeReferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"allOrNone":true,"collateSubrequests":false,"compositeRequest":[
	 {"method":"POST","url":"/services/data/v59.0/sobjects/Account","referenceId":"refAcct","body":{"Name":"Acme"}},
	 {"method":"POST","url":"/services/data/v59.0/sobjects/Contact","referenceId":"refCont","body":{"LastName":"Lovelace","AccountId":"@{refAcct.id}"}},
	 {"method":"GET","url":"/services/data/v59.0/query/?q=SELECT+Id,Account.Name+FROM+Contact+WHERE+AccountId='@{refAcct.id}'","referenceId":"refQ"},
	 {"method":"PATCH","url":"/services/data/v59.0/sobjects/Contact/@{refQ.records[0].Id}","referenceId":"refUpd","body":{"FirstName":"Ada"}},
	 {"method":"GET","url":"/services/data/v59.0/sobjects/Contact/@{refCont.id}?fields=FirstName,AccountId","referenceId":"refGet"}]}`
	r := e.do("POST", "/services/data/v59.0/composite", body)
	if r.status != 200 || r.header.Get("Content-Type") != jsonCT {
		t.Fatalf("composite: %d %s", r.status, r.body)
	}
	var out compositeOut
	e.json(r, &out)
	if len(out.CompositeResponse) != 5 {
		t.Fatalf("%d subresponses: %s", len(out.CompositeResponse), r.body)
	}
	wantStatus := []int{201, 201, 200, 204, 200}
	for i, sr := range out.CompositeResponse {
		if sr.HTTPStatusCode != wantStatus[i] {
			t.Errorf("subrequest %d (%s): %d %s", i, sr.ReferenceID, sr.HTTPStatusCode, sr.Body)
		}
	}
	var acct struct{ ID string }
	_ = json.Unmarshal(out.CompositeResponse[0].Body, &acct)
	if out.CompositeResponse[0].HTTPHeaders["Location"] != "/services/data/v59.0/sobjects/Account/"+acct.ID {
		t.Errorf("Location = %q", out.CompositeResponse[0].HTTPHeaders["Location"])
	}
	if string(out.CompositeResponse[3].Body) != "null" {
		t.Errorf("204 body = %s, want null", out.CompositeResponse[3].Body)
	}
	if got := string(out.CompositeResponse[4].Body); !strings.Contains(got, `"FirstName":"Ada"`) || !strings.Contains(got, `"AccountId":"`+acct.ID+`"`) {
		t.Errorf("read back: %s", got)
	}
}

func TestCompositeAllOrNoneRollsBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.insertContacts(1, "Keep")
	before := e.org.Count("Account")
	body := `{"allOrNone":true,"compositeRequest":[
	 {"method":"POST","url":"/services/data/v62.0/sobjects/Account","referenceId":"a","body":{"Name":"Rolled"}},
	 {"method":"PATCH","url":"/services/data/v62.0/sobjects/Contact/` + ids[0] + `","referenceId":"u","body":{"LastName":"Changed"}},
	 {"method":"DELETE","url":"/services/data/v62.0/sobjects/Contact/` + ids[0] + `","referenceId":"d"},
	 {"method":"POST","url":"/services/data/v62.0/sobjects/Contact","referenceId":"bad","body":{"FirstName":"NoLast"}},
	 {"method":"POST","url":"/services/data/v62.0/sobjects/Account","referenceId":"after","body":{"Name":"Never"}}]}`
	var out compositeOut
	r := e.do("POST", "/services/data/v62.0/composite", body)
	e.json(r, &out)
	halted := `[{"message":"The transaction was rolled back since another operation in the same transaction failed.","errorCode":"PROCESSING_HALTED"}]`
	for i, sr := range out.CompositeResponse {
		switch i {
		case 3:
			if sr.HTTPStatusCode != 400 || !strings.Contains(string(sr.Body), "REQUIRED_FIELD_MISSING") {
				t.Errorf("failing subrequest: %d %s", sr.HTTPStatusCode, sr.Body)
			}
		default:
			if sr.HTTPStatusCode != 400 || string(sr.Body) != halted || len(sr.HTTPHeaders) != 0 {
				t.Errorf("subrequest %d: %d %s", i, sr.HTTPStatusCode, sr.Body)
			}
		}
	}
	if got := e.org.Count("Account"); got != before {
		t.Errorf("Account count %d after rollback, want %d", got, before)
	}
	rec, err := e.org.Get(t.Context(), "Contact", ids[0], []string{"LastName", "IsDeleted"})
	if err != nil || rec["LastName"] != "Keep" || rec["IsDeleted"] != false {
		t.Errorf("contact after rollback: %v %v", rec, err)
	}
}

func TestCompositeWithoutAllOrNone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"compositeRequest":[
	 {"method":"POST","url":"/services/data/v62.0/sobjects/Contact","referenceId":"bad","body":{"FirstName":"NoLast"}},
	 {"method":"PATCH","url":"/services/data/v62.0/sobjects/Contact/@{bad.id}","referenceId":"dep","body":{"FirstName":"x"}},
	 {"method":"POST","url":"/services/data/v62.0/sobjects/Account","referenceId":"ok","body":{"Name":"Fine"}}]}`
	var out compositeOut
	e.json(e.do("POST", "/services/data/v62.0/composite", body), &out)
	if out.CompositeResponse[0].HTTPStatusCode != 400 || out.CompositeResponse[2].HTTPStatusCode != 201 {
		t.Errorf("statuses: %+v", out.CompositeResponse)
	}
	dep := out.CompositeResponse[1]
	if dep.HTTPStatusCode != 400 || !strings.Contains(string(dep.Body), `"errorCode":"PROCESSING_HALTED"`) ||
		!strings.Contains(string(dep.Body), "Invalid reference specified. No value for bad.id found in bad.") {
		t.Errorf("dependent subrequest: %d %s", dep.HTTPStatusCode, dep.Body)
	}
}

func TestCompositeValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var subs []string
	for i := range MaxCompositeSubrequests + 1 {
		subs = append(subs, fmt.Sprintf(`{"method":"GET","url":"/services/data/v62.0/limits","referenceId":"r%d"}`, i))
	}
	for name, body := range map[string]string{
		"too many":      `{"compositeRequest":[` + strings.Join(subs, ",") + `]}`,
		"bad reference": `{"compositeRequest":[{"method":"GET","url":"/services/data/v62.0/limits","referenceId":"bad-id"}]}`,
		"duplicate":     `{"compositeRequest":[{"method":"GET","url":"/services/data/v62.0/limits","referenceId":"a"},{"method":"GET","url":"/services/data/v62.0/limits","referenceId":"a"}]}`,
		"relative url":  `{"compositeRequest":[{"method":"GET","url":"v62.0/limits","referenceId":"a"}]}`,
		"empty":         `{"compositeRequest":[]}`,
		"not json":      `{`,
	} {
		if r := e.do("POST", "/services/data/v62.0/composite", body); r.status != 400 || !strings.HasPrefix(r.body, `[{"message":`) {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	r := e.do("GET", "/services/data/v62.0/composite", "")
	if r.status != 200 || !strings.Contains(r.body, `"batch":"/services/data/v62.0/composite/batch"`) {
		t.Errorf("GET composite: %d %s", r.status, r.body)
	}
}

func TestCompositeBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := e.insertContacts(1, "Batch")
	body := `{"batchRequests":[
	 {"method":"PATCH","url":"v62.0/sobjects/Contact/` + ids[0] + `","richInput":{"FirstName":"Rich"}},
	 {"method":"GET","url":"v62.0/sobjects/Contact/` + ids[0] + `?fields=FirstName"},
	 {"method":"POST","url":"v62.0/sobjects/Contact","richInput":{"FirstName":"NoLast"}},
	 {"method":"GET","url":"v62.0/query?q=SELECT+COUNT()+FROM+Contact"}]}`
	r := e.do("POST", "/services/data/v62.0/composite/batch", body)
	want := `{"hasErrors":true,"results":[{"statusCode":204,"result":null},{"statusCode":200,"result":{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/` + ids[0] + `"},"FirstName":"Rich"}},{"statusCode":400,"result":[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]},{"statusCode":200,"result":{"totalSize":1,"done":true,"records":[]}}]}`
	if r.status != 200 || r.body != want {
		t.Errorf("batch:\n got %d %s\nwant %s", r.status, r.body, want)
	}
	r = e.do("POST", "/services/data/v62.0/composite/batch", strings.Replace(body, `{"batchRequests"`, `{"haltOnError":true,"batchRequests"`, 1))
	if !strings.HasSuffix(r.body, `{"statusCode":412,"result":[{"message":"Batch processing halted per request","errorCode":"BATCH_PROCESSING_HALTED"}]}]}`) {
		t.Errorf("haltOnError: %s", r.body)
	}
	var subs []string
	for range MaxBatchSubrequests + 1 {
		subs = append(subs, `{"method":"GET","url":"v62.0/limits"}`)
	}
	if r := e.do("POST", "/services/data/v62.0/composite/batch", `{"batchRequests":[`+strings.Join(subs, ",")+`]}`); r.status != 400 {
		t.Errorf("26 subrequests: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/services/data/v62.0/composite/batch", `{"batchRequests":[{"method":"FETCH","url":"v62.0/limits"}]}`); r.status != 400 {
		t.Errorf("bad method: %d %s", r.status, r.body)
	}
}

type saveResult struct {
	ID      *string `json:"id"`
	Success bool    `json:"success"`
	Created *bool   `json:"created"`
	Errors  []struct {
		StatusCode string   `json:"statusCode"`
		Message    string   `json:"message"`
		Fields     []string `json:"fields"`
	} `json:"errors"`
}

// TestCollectionsTrace follows jsforce.rest-collections: create, retrieve
// by POST, update with lowercase "id", delete by ids.
func TestCollectionsTrace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var recs []string
	for i := range 5 {
		recs = append(recs, fmt.Sprintf(`{"attributes":{"type":"Contact"},"FirstName":"F%d","LastName":"AccRlCap","Email":"accrlcap.%d@example.com"}`, i, i))
	}
	r := e.do("POST", "/services/data/v62.0/composite/sobjects", `{"allOrNone":false,"records":[`+strings.Join(recs, ",")+`]}`)
	var created []saveResult
	e.json(r, &created)
	if r.status != 200 || len(created) != 5 || !strings.HasPrefix(r.body, `[{"id":"003`) || !strings.Contains(r.body, `"success":true,"errors":[]}`) {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var ids []string
	for _, c := range created {
		ids = append(ids, *c.ID)
	}
	idsJSON, _ := json.Marshal(ids)
	r = e.do("POST", "/services/data/v62.0/composite/sobjects/Contact", `{"ids":`+string(idsJSON)+`,"fields":["Id","FirstName","LastName"]}`)
	if want := `{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/` + ids[0] + `"},"Id":"` + ids[0] + `","FirstName":"F0","LastName":"AccRlCap"}`; r.status != 200 || !strings.HasPrefix(r.body, "["+want+",") {
		t.Errorf("retrieve: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/services/data/v62.0/composite/sobjects/Contact?ids="+ids[0]+",003000000000000AAA&fields=FirstName", "")
	if !strings.HasSuffix(r.body, ",null]") {
		t.Errorf("retrieve with missing id: %s", r.body)
	}
	var upd []string
	for i, id := range ids {
		upd = append(upd, fmt.Sprintf(`{"id":"%s","attributes":{"type":"Contact"},"FirstName":"C%d"}`, id, i))
	}
	r = e.do("PATCH", "/services/data/v62.0/composite/sobjects", `{"allOrNone":false,"records":[`+strings.Join(upd, ",")+`]}`)
	if r.status != 200 || strings.Count(r.body, `"success":true`) != 5 {
		t.Errorf("update: %s", r.body)
	}
	if rec, _ := e.org.Get(t.Context(), "Contact", ids[4], []string{"FirstName"}); rec["FirstName"] != "C4" {
		t.Errorf("after update: %v", rec)
	}
	r = e.do("DELETE", "/services/data/v62.0/composite/sobjects?ids="+strings.Join(ids, ","), "")
	if r.status != 200 || strings.Count(r.body, `"success":true`) != 5 || e.org.Count("Contact") != 0 {
		t.Errorf("delete: %s (count %d)", r.body, e.org.Count("Contact"))
	}
}

func TestCollectionsErrorsAndAllOrNone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"allOrNone":%v,"records":[{"attributes":{"type":"Contact"},"LastName":"Ok"},{"attributes":{"type":"Contact"},"FirstName":"NoLast"}]}`
	var res []saveResult
	e.json(e.do("POST", "/services/data/v62.0/composite/sobjects/", fmt.Sprintf(body, false)), &res)
	if !res[0].Success || res[1].Success || res[1].ID != nil || res[1].Errors[0].StatusCode != "REQUIRED_FIELD_MISSING" ||
		fmt.Sprint(res[1].Errors[0].Fields) != "[LastName]" {
		t.Errorf("partial: %+v", res)
	}
	r := e.do("POST", "/services/data/v62.0/composite/sobjects", fmt.Sprintf(body, true))
	want := `[{"id":null,"success":false,"errors":[{"statusCode":"ALL_OR_NONE_OPERATION_ROLLED_BACK","message":"Record rolled back because not all records were valid and the request was using AllOrNone header","fields":[]}]},` +
		`{"id":null,"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [LastName]","fields":["LastName"]}]}]`
	if r.status != 200 || r.body != want {
		t.Errorf("allOrNone:\n got %s\nwant %s", r.body, want)
	}
	if got := e.org.Count("Contact"); got != 1 {
		t.Errorf("%d contacts, want 1 (from the partial call)", got)
	}
	var many []string
	for range MaxCollectionRecords + 1 {
		many = append(many, `{"attributes":{"type":"Contact"},"LastName":"x"}`)
	}
	if r := e.do("POST", "/services/data/v62.0/composite/sobjects", `{"records":[`+strings.Join(many, ",")+`]}`); r.status != 400 || !strings.Contains(r.body, "EXCEEDED_ID_LIMIT") {
		t.Errorf("201 records: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/services/data/v62.0/composite/sobjects", `{"records":[{"LastName":"x"}]}`); r.status != 400 {
		t.Errorf("missing type: %d %s", r.status, r.body)
	}
}

// TestCollectionsUpsertInComposite follows go-salesforce.composite: a
// collections upsert nested as a composite subrequest, twice.
func TestCollectionsUpsertInComposite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var recs []string
	for i := range 3 {
		// An empty Id (a zero-valued struct field) is not an Id.
		recs = append(recs, fmt.Sprintf(`{"Id":"","Email":"c%d@example.com","External_Id__c":"X-%d","FirstName":"F%d","LastName":"Up","attributes":{"type":"Contact"}}`, i, i, i))
	}
	body := `{"allOrNone":true,"compositeRequest":[{"body":{"allOrNone":true,"records":[` + strings.Join(recs, ",") +
		`]},"method":"PATCH","url":"/services/data/v63.0/composite/sobjects/Contact/External_Id__c","referenceId":"refObj0"}]}`
	for round, wantCreated := range []bool{true, false} {
		var out compositeOut
		e.json(e.do("POST", "/services/data/v63.0/composite", body), &out)
		var res []saveResult
		if err := json.Unmarshal(out.CompositeResponse[0].Body, &res); err != nil || len(res) != 3 {
			t.Fatalf("round %d: %s", round, out.CompositeResponse[0].Body)
		}
		for _, r := range res {
			if !r.Success || r.Created == nil || *r.Created != wantCreated {
				t.Errorf("round %d: %+v", round, r)
			}
		}
	}
	if got := e.org.Count("Contact"); got != 3 {
		t.Errorf("%d contacts, want 3", got)
	}
	// Delete through a nested collections call with a trailing slash.
	var out compositeOut
	e.json(e.do("POST", "/services/data/v63.0/composite", `{"allOrNone":true,"compositeRequest":[{"body":{"allOrNone":false,"records":null},"method":"DELETE","url":"/services/data/v63.0/composite/sobjects/?ids=`+
		strings.Join(e.contactIDs(), ",")+`&allOrNone=false","referenceId":"del"}]}`), &out)
	if out.CompositeResponse[0].HTTPStatusCode != 200 || e.org.Count("Contact") != 0 {
		t.Errorf("nested delete: %s", out.CompositeResponse[0].Body)
	}
}

func (e *env) contactIDs() []string {
	res, err := e.org.Query(e.t.Context(), "SELECT Id FROM Contact", false)
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for i := range res.Len() {
		ids = append(ids, res.Values(i)[0].(string))
	}
	return ids
}

func TestCompositeTree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"records":[{"attributes":{"type":"Account","referenceId":"a1"},"Name":"Tree Co",
	  "Contacts":{"records":[{"attributes":{"type":"Contact","referenceId":"c1"},"LastName":"Leaf"},{"attributes":{"type":"Contact","referenceId":"c2"},"LastName":"Leaf2"}]}}]}`
	r := e.do("POST", "/services/data/v62.0/composite/tree/Account", body)
	var out struct {
		HasErrors bool
		Results   []struct{ ReferenceID, ID string }
	}
	e.json(r, &out)
	if r.status != 201 || out.HasErrors || len(out.Results) != 3 || out.Results[0].ReferenceID != "a1" {
		t.Fatalf("tree: %d %s", r.status, r.body)
	}
	rec, err := e.org.Get(t.Context(), "Contact", out.Results[1].ID, []string{"AccountId"})
	if err != nil || rec["AccountId"] != out.Results[0].ID {
		t.Errorf("child not linked: %v %v", rec, err)
	}
	bad := strings.Replace(body, `"LastName":"Leaf2"`, `"FirstName":"NoLast"`, 1)
	bad = strings.ReplaceAll(bad, `"a1"`, `"a9"`)
	r = e.do("POST", "/services/data/v62.0/composite/tree/Account", bad)
	if r.status != 400 || !strings.Contains(r.body, `"hasErrors":true`) || !strings.Contains(r.body, `"referenceId":"c2","errors":[{"statusCode":"REQUIRED_FIELD_MISSING"`) {
		t.Errorf("failing tree: %d %s", r.status, r.body)
	}
	if got := e.org.Count("Account"); got != 1 {
		t.Errorf("%d accounts after a failed tree, want 1", got)
	}
}

func TestCompositeGraph(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"graphs":[
	 {"graphId":"g1","compositeRequest":[
	   {"method":"POST","url":"/services/data/v62.0/sobjects/Account","referenceId":"a","body":{"Name":"G1"}},
	   {"method":"POST","url":"/services/data/v62.0/sobjects/Contact","referenceId":"c","body":{"LastName":"C","AccountId":"@{a.id}"}}]},
	 {"graphId":"g2","compositeRequest":[
	   {"method":"POST","url":"/services/data/v62.0/sobjects/Account","referenceId":"a","body":{"Name":"G2"}},
	   {"method":"POST","url":"/services/data/v62.0/sobjects/Contact","referenceId":"c","body":{"FirstName":"NoLast"}}]}]}`
	r := e.do("POST", "/services/data/v62.0/composite/graph", body)
	var out struct {
		Graphs []struct {
			GraphID       string
			IsSuccessful  bool
			GraphResponse compositeOut
		}
	}
	e.json(r, &out)
	if r.status != 200 || len(out.Graphs) != 2 || !out.Graphs[0].IsSuccessful || out.Graphs[1].IsSuccessful {
		t.Fatalf("graph: %d %s", r.status, r.body)
	}
	if got := e.org.Count("Account"); got != 1 {
		t.Errorf("%d accounts, want 1 (g2 rolled back)", got)
	}
	if sr := out.Graphs[1].GraphResponse.CompositeResponse[0]; sr.HTTPStatusCode != 400 || !strings.Contains(string(sr.Body), "PROCESSING_HALTED") {
		t.Errorf("g2 first node: %d %s", sr.HTTPStatusCode, sr.Body)
	}
	if r := e.do("POST", "/services/data/v49.0/composite/graph", body); r.status != 404 {
		t.Errorf("graph before v50: %d", r.status)
	}
}
