package rest

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/emulator/org"
)

// TestCompoundFields checks that describe lists address fields and their components as
// Salesforce does (components name their compound field in compoundFieldName) and that a
// REST query returns a compound field as one nested value, null when every component is.
func TestCompoundFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var d struct{ Fields []map[string]any }
	e.json(e.do("GET", "/services/data/v62.0/sobjects/Account/describe", ""), &d)
	type field struct{ Name, Type, Compound string }
	var got []field
	for _, f := range d.Fields {
		c, _ := f["compoundFieldName"].(string)
		if _, ok := f["compoundFieldName"]; !ok {
			t.Fatalf("%s: describe lacks compoundFieldName", f["name"])
		}
		if c == "BillingAddress" || f["name"] == "BillingAddress" {
			got = append(got, field{f["name"].(string), f["type"].(string), c})
		}
		if f["name"] == "BillingAddress" && (f["createable"] != false || f["updateable"] != false || f["soapType"] != "urn:address" || f["filterable"] != false) {
			t.Errorf("BillingAddress: %v", f)
		}
	}
	want := []field{
		{"BillingStreet", "textarea", "BillingAddress"}, {"BillingCity", "string", "BillingAddress"},
		{"BillingState", "string", "BillingAddress"}, {"BillingPostalCode", "string", "BillingAddress"},
		{"BillingCountry", "string", "BillingAddress"}, {"BillingLatitude", "double", "BillingAddress"},
		{"BillingLongitude", "double", "BillingAddress"}, {"BillingGeocodeAccuracy", "picklist", "BillingAddress"},
		{"BillingAddress", "address", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Account's billing address fields (-want +got):\n%s", diff)
	}
	res := e.org.Write(t.Context(), "", []org.WriteRequest{
		{Op: org.OpInsert, Object: "Account", Fields: map[string]any{"Name": "A", "BillingCity": "Paris", "BillingLatitude": "48.8566", "BillingGeocodeAccuracy": "City"}},
		{Op: org.OpInsert, Object: "Account", Fields: map[string]any{"Name": "B"}},
	}, true)
	for _, r := range res {
		if !r.Success {
			t.Fatalf("insert: %+v", r.Errors)
		}
	}
	r := e.do("GET", "/services/data/v62.0/query?q="+url.QueryEscape("SELECT Name, BillingAddress FROM Account ORDER BY Name"), "")
	var q struct{ Records []map[string]json.RawMessage }
	e.json(r, &q)
	if len(q.Records) != 2 {
		t.Fatalf("query: %s", r.body)
	}
	var a map[string]any
	if err := json.Unmarshal(q.Records[0]["BillingAddress"], &a); err != nil {
		t.Fatal(err)
	}
	wantA := map[string]any{"street": nil, "city": "Paris", "state": nil, "postalCode": nil, "country": nil,
		"latitude": 48.8566, "longitude": nil, "geocodeAccuracy": "City"}
	if diff := cmp.Diff(wantA, a); diff != "" {
		t.Errorf("BillingAddress (-want +got):\n%s", diff)
	}
	if s := string(q.Records[1]["BillingAddress"]); s != "null" {
		t.Errorf("an empty address is %s, want null", s)
	}
	if r := e.do("POST", "/services/data/v62.0/sobjects/Account", `{"Name":"C","BillingAddress":"x"}`); r.status != 400 {
		t.Errorf("a write of the compound field: %d %s", r.status, r.body)
	}
}
