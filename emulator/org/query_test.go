package org

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type queryFixture struct {
	o                  *Org
	acme, globex       string
	alpha, beta, gamma string
	delta              string
}

func newQueryFixture(t *testing.T) *queryFixture {
	t.Helper()
	o, _ := newOrg(t, customSchema(t))
	f := &queryFixture{o: o}
	a := mustInsert(t, o, "Account",
		map[string]any{"Name": "Acme", "Industry": "Banking", "AnnualRevenue": 100.0, "External_Id__c": "A1"},
		map[string]any{"Name": "Globex", "AnnualRevenue": "50"},
		map[string]any{"Name": "Initech"})
	f.acme, f.globex = a[0], a[1]
	c := mustInsert(t, o, "Contact",
		map[string]any{"FirstName": "Ann", "LastName": "Alpha", "Email": "ann@x.com", "Birthdate": "1990-01-01", "DoNotCall": true, "AccountId": f.acme},
		map[string]any{"FirstName": "Bob", "LastName": "Beta", "Email": "bob@x.com", "Birthdate": "2026-03-01", "AccountId": f.globex},
		map[string]any{"LastName": "Gamma"},
		map[string]any{"FirstName": "ann", "LastName": "delta", "Birthdate": "2026-03-04"})
	f.alpha, f.beta, f.gamma, f.delta = c[0], c[1], c[2], c[3]
	mustInsert(t, o, "Invoice__c",
		map[string]any{"Name": "I1", "Tags__c": "Red;Green"},
		map[string]any{"Name": "I2", "Tags__c": "Blue"},
		map[string]any{"Name": "I3"})
	return f
}

// queryColumn returns one column of every row as strings.
func queryColumn(t *testing.T, o *Org, q string, col int) []string {
	t.Helper()
	r, err := o.Query(t.Context(), q, false)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := []string{}
	for i := range r.Len() {
		out = append(out, FormatCSV(r.Values(i)[col]))
	}
	return out
}

func TestQueryWhere(t *testing.T) {
	t.Parallel()
	f := newQueryFixture(t)
	for _, tc := range []struct {
		where string
		want  []string
	}{
		{"FirstName = 'ann'", []string{"Alpha", "delta"}},
		{"FirstName != 'Ann'", []string{"Beta", "Gamma"}},
		{"FirstName <> 'Ann'", []string{"Beta", "Gamma"}},
		{"FirstName = null", []string{"Gamma"}},
		{"FirstName != null", []string{"Alpha", "Beta", "delta"}},
		{"LastName LIKE 'a%'", []string{"Alpha"}},
		{"LastName LIKE '_eta'", []string{"Beta"}},
		{"Email LIKE '%@x.com'", []string{"Alpha", "Beta"}},
		{"LastName IN ('alpha', 'Gamma')", []string{"Alpha", "Gamma"}},
		{"LastName NOT IN ('Alpha')", []string{"Beta", "delta", "Gamma"}},
		{"FirstName NOT IN ('Bob')", []string{"Alpha", "delta", "Gamma"}},
		{"LastName > 'c'", []string{"delta", "Gamma"}},
		{"LastName <= 'beta'", []string{"Alpha", "Beta"}},
		{"DoNotCall = true", []string{"Alpha"}},
		{"DoNotCall = false", []string{"Beta", "delta", "Gamma"}},
		{"Birthdate < 2000-01-01", []string{"Alpha"}},
		{"Birthdate = 2026-03-01", []string{"Beta"}},
		{"Birthdate > 2026-03-01", []string{"delta"}},
		{"Birthdate >= 2026-03-01", []string{"Beta", "delta"}},
		{"Birthdate = TODAY", []string{"delta"}},
		{"Birthdate = YESTERDAY", []string{}},
		{"Birthdate = LAST_N_DAYS:7", []string{"Beta", "delta"}},
		{"Birthdate < LAST_N_DAYS:7", []string{"Alpha"}},
		{"Birthdate = THIS_MONTH", []string{"Beta", "delta"}},
		{"CreatedDate = TODAY", []string{"Alpha", "Beta", "delta", "Gamma"}},
		{"CreatedDate > TODAY", []string{}},
		{"CreatedDate < 2026-03-04T05:06:08Z", []string{"Alpha", "Beta", "delta", "Gamma"}},
		{"CreatedDate > 2026-03-04T05:06:07Z", []string{}},
		{"CreatedDate = 2026-03-04T05:06:07.000+0000", []string{"Alpha", "Beta", "delta", "Gamma"}},
		{"Account.Name = 'Acme'", []string{"Alpha"}},
		{"Account.Industry = null", []string{"Beta", "delta", "Gamma"}},
		{"Account.AnnualRevenue > 60", []string{"Alpha"}},
		{"Account.AnnualRevenue IN (50, 70)", []string{"Beta"}},
		{"Account.Owner.Username = '" + DefaultUsername + "'", []string{"Alpha", "Beta"}},
		{"Contact.LastName = 'Gamma'", []string{"Gamma"}},
		{"NOT (LastName = 'Alpha') AND (FirstName = 'Bob' OR FirstName = null)", []string{"Beta", "Gamma"}},
		{"AccountId = '" + f.acme[:15] + "'", []string{"Alpha"}},
		{"Id = '" + strings.ToLower(f.beta) + "'", []string{"Beta"}},
		{"Id IN ('" + f.gamma + "', '" + f.delta[:15] + "')", []string{"delta", "Gamma"}},
		{"AccountId != null AND Id >= '" + f.beta + "'", []string{"Beta"}},
	} {
		q := "SELECT LastName FROM Contact WHERE " + tc.where + " ORDER BY LastName"
		if diff := cmp.Diff(tc.want, queryColumn(t, f.o, q, 0)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.where, diff)
		}
	}
}

func TestQueryMultipicklist(t *testing.T) {
	t.Parallel()
	f := newQueryFixture(t)
	for _, tc := range []struct {
		where string
		want  []string
	}{
		{"Tags__c INCLUDES ('red')", []string{"I1"}},
		{"Tags__c INCLUDES ('Blue', 'Red;Green')", []string{"I1", "I2"}},
		{"Tags__c INCLUDES ('Red;Blue')", []string{}},
		{"Tags__c EXCLUDES ('Red')", []string{"I2", "I3"}},
		{"Tags__c = 'Blue'", []string{"I2"}},
		{"Tags__c = null", []string{"I3"}},
	} {
		q := "SELECT Name FROM Invoice__c WHERE " + tc.where + " ORDER BY Name"
		if diff := cmp.Diff(tc.want, queryColumn(t, f.o, q, 0)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.where, diff)
		}
	}
}

func TestQueryOrderLimitOffset(t *testing.T) {
	t.Parallel()
	f := newQueryFixture(t)
	for _, tc := range []struct {
		tail string
		want []string
	}{
		{"", []string{"Alpha", "Beta", "Gamma", "delta"}}, // insertion order
		{"ORDER BY FirstName", []string{"Gamma", "Alpha", "delta", "Beta"}},
		{"ORDER BY FirstName ASC NULLS LAST", []string{"Alpha", "delta", "Beta", "Gamma"}},
		{"ORDER BY FirstName DESC", []string{"Beta", "Alpha", "delta", "Gamma"}},
		{"ORDER BY FirstName DESC NULLS FIRST", []string{"Gamma", "Beta", "Alpha", "delta"}},
		{"ORDER BY Account.Name DESC NULLS FIRST, LastName", []string{"delta", "Gamma", "Beta", "Alpha"}},
		{"ORDER BY Birthdate DESC", []string{"delta", "Beta", "Alpha", "Gamma"}},
		{"ORDER BY DoNotCall DESC, LastName DESC", []string{"Alpha", "Gamma", "delta", "Beta"}},
		{"ORDER BY LastName LIMIT 2 OFFSET 1", []string{"Beta", "delta"}},
		{"ORDER BY LastName LIMIT 0", []string{}},
		{"ORDER BY LastName OFFSET 10", []string{}},
	} {
		q := "SELECT LastName FROM Contact " + tc.tail
		if diff := cmp.Diff(tc.want, queryColumn(t, f.o, q, 0)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.tail, diff)
		}
	}
}

func TestQueryCount(t *testing.T) {
	t.Parallel()
	f := newQueryFixture(t)
	r, err := f.o.Query(t.Context(), "SELECT COUNT() FROM Contact WHERE FirstName = 'ann'", false)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Count || r.TotalSize != 2 || r.Len() != 0 {
		t.Errorf("COUNT(): Count %v TotalSize %d Len %d; want true 2 0", r.Count, r.TotalSize, r.Len())
	}
	r, err = f.o.Query(t.Context(), "SELECT COUNT(Email) FROM Contact", false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Count || r.Len() != 1 || !cmp.Equal(r.Columns, []string{"expr0"}) || r.Values(0)[0] != 2.0 {
		t.Errorf("COUNT(Email): %+v %v", r, r.Values(0))
	}
	want := map[string]any{"attributes": map[string]any{"type": "AggregateResult"}, "expr0": 2.0}
	if diff := cmp.Diff(want, r.Record(0)); diff != "" {
		t.Errorf("aggregate record (-want +got):\n%s", diff)
	}
}

func TestQueryRecordShape(t *testing.T) {
	t.Parallel()
	f := newQueryFixture(t)
	r, err := f.o.Query(t.Context(), "SELECT id, lastname, account.name, Account.Owner.Alias, Birthdate, CreatedDate FROM contact WHERE LastName IN ('Alpha', 'Gamma') ORDER BY LastName", false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"id", "lastname", "account.name", "Account.Owner.Alias", "Birthdate", "CreatedDate"}, r.Columns); diff != "" {
		t.Errorf("Columns (-want +got):\n%s", diff)
	}
	if r.Object != "Contact" || r.TotalSize != 2 {
		t.Errorf("Object %q TotalSize %d", r.Object, r.TotalSize)
	}
	vals := r.Values(0)
	if _, ok := vals[4].(Date); !ok {
		t.Errorf("Birthdate value %T, want Date", vals[4])
	}
	if ts, ok := vals[5].(time.Time); !ok || !ts.Equal(t0) {
		t.Errorf("CreatedDate value %v, want %v", vals[5], t0)
	}
	if got := r.FormatCSV(vals[5]); got != "2026-03-04T05:06:07.000Z" {
		t.Errorf("FormatCSV(datetime) = %q", got)
	}
	r.APIVersion = "59.0"
	url := func(obj, id string) map[string]any {
		return map[string]any{"type": obj, "url": "/services/data/v59.0/sobjects/" + obj + "/" + id}
	}
	want0 := map[string]any{
		"attributes": url("Contact", f.alpha),
		"Id":         f.alpha, "LastName": "Alpha", "Birthdate": "1990-01-01", "CreatedDate": "2026-03-04T05:06:07.000+0000",
		"Account": map[string]any{
			"attributes": url("Account", f.acme),
			"Name":       "Acme",
			"Owner":      map[string]any{"attributes": url("User", f.o.DefaultUserID()), "Alias": "admin"},
		},
	}
	if diff := cmp.Diff(want0, r.Record(0)); diff != "" {
		t.Errorf("Record(0) (-want +got):\n%s", diff)
	}
	want1 := map[string]any{
		"attributes": url("Contact", f.gamma),
		"Id":         f.gamma, "LastName": "Gamma", "Birthdate": nil, "CreatedDate": "2026-03-04T05:06:07.000+0000",
		"Account": nil,
	}
	if diff := cmp.Diff(want1, r.Record(1)); diff != "" {
		t.Errorf("Record(1) (-want +got):\n%s", diff)
	}
}

func TestQuerySnapshot(t *testing.T) {
	t.Parallel()
	f := newQueryFixture(t)
	r, err := f.o.Query(t.Context(), "SELECT LastName FROM Contact ORDER BY LastName", false)
	if err != nil {
		t.Fatal(err)
	}
	if res := writeOne(t, f.o, WriteRequest{Op: OpUpdate, Object: "Contact", ID: f.alpha, Fields: map[string]any{"LastName": "Zed"}}); !res.Success {
		t.Fatal(res.Errors)
	}
	mustInsert(t, f.o, "Contact", map[string]any{"LastName": "Later"})
	if r.Len() != 4 || r.Values(0)[0] != "Alpha" {
		t.Errorf("snapshot changed: Len %d first %v", r.Len(), r.Values(0)[0])
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	f := newQueryFixture(t)
	const suffix = " If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
	for _, tc := range []struct {
		q, code, msg string
	}{
		{"SELECT Foo FROM Contact", CodeInvalidField, "No such column 'Foo' on entity 'Contact'." + suffix},
		{"SELECT Id FROM Contact WHERE Account.Nope = 'x'", CodeInvalidField, "No such column 'Nope' on entity 'Account'." + suffix},
		{"SELECT Id FROM Contact ORDER BY Nope__c", CodeInvalidField, "No such column 'Nope__c' on entity 'Contact'." + suffix},
		{"SELECT Nope.Name FROM Contact", CodeInvalidField, "Didn't understand relationship 'Nope' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."},
		{"SELECT Id FROM Foo", CodeInvalidTypeObject, "sObject type 'Foo' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."},
		{"SELECT Id FROM Account WHERE NumberOfEmployees = '5'", CodeInvalidQueryFilterOperator, "value of filter criterion for field 'NumberOfEmployees' must be of type double and should not be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE LastName = 5", CodeInvalidQueryFilterOperator, "value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"},
		{"SELECT Id FROM Contact WHERE LastName INCLUDES ('a')", CodeInvalidQueryFilterOperator, "includes or excludes operator only valid on multipicklist field: LastName"},
		{"SELECT Id FROM Contact WHERE AccountId = 'abc'", CodeInvalidQueryFilterOperator, "invalid ID field: abc"},
		{"SELECT Id FROM Contact WHERE Id IN ('003', 'x')", CodeInvalidQueryFilterOperator, "invalid ID field: 003"},
		{"SELECT Id FROM Contact OFFSET 2001", CodeNumberOutsideValidRange, "Maximum SOQL offset allowed is 2000"},
		{"SELECT Id, COUNT() FROM Contact", CodeMalformedQuery, ""},
		{"SELECT Id FRM Contact", CodeMalformedQuery, ""},
		{"", CodeMalformedQuery, ""},
	} {
		_, err := f.o.Query(t.Context(), tc.q, false)
		qe, ok := err.(*QueryError)
		if !ok {
			t.Errorf("%q: error %v (%T), want *QueryError", tc.q, err, err)
			continue
		}
		if qe.Code != tc.code || tc.msg != "" && qe.Message != tc.msg || qe.Message == "" {
			t.Errorf("%q: got %s %q, want %s %q", tc.q, qe.Code, qe.Message, tc.code, tc.msg)
		}
	}
}

// TestResultSnapshot checks that a Result keeps the values its records and
// their parents had when the query ran, packed or not, and that Text and
// IsNull agree with Values.
func TestResultSnapshot(t *testing.T) {
	t.Parallel()
	f := newQueryFixture(t)
	o := f.o
	// Keep Globex's values unpacked, as a record whose values cannot be
	// packed is kept.
	o.mu.Lock()
	for _, r := range o.tables[mustObject(t, o, "Account")].rows {
		if r != nil && r.id() == f.globex {
			r.setData(packedData{x: r.values()})
		}
	}
	o.mu.Unlock()
	q := "SELECT Id, LastName, Account.Name, Account.AnnualRevenue, Birthdate, DoNotCall FROM Contact WHERE LastName IN ('Alpha', 'Beta', 'Gamma') ORDER BY LastName"
	res, err := o.Query(t.Context(), q, false)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{
		{f.alpha, "Alpha", "Acme", 100.0, Date{time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)}, true},
		{f.beta, "Beta", "Globex", 50.0, Date{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, false},
		{f.gamma, "Gamma", nil, nil, nil, false},
	}
	if len(res.unpacked) != 1 {
		t.Errorf("unpacked records %v, want Globex's", res.unpacked)
	}
	recBefore := res.Record(1)
	for _, w := range []WriteRequest{
		{Op: OpUpdate, Object: "Contact", ID: f.alpha, Fields: map[string]any{"LastName": "Changed", "Birthdate": nil}},
		{Op: OpUpdate, Object: "Account", ID: f.acme, Fields: map[string]any{"Name": "Changed"}},
		{Op: OpUpdate, Object: "Account", ID: f.globex, Fields: map[string]any{"Name": "Changed", "AnnualRevenue": 1.0}},
		{Op: OpUpdate, Object: "Contact", ID: f.gamma, Fields: map[string]any{"AccountId": f.acme}},
	} {
		if r := writeOne(t, o, w); !r.Success {
			t.Fatal(r.Errors)
		}
	}
	if res.Len() != len(want) {
		t.Fatalf("%d rows", res.Len())
	}
	for i, w := range want {
		if diff := cmp.Diff(w, res.Values(i)); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i, diff)
		}
		for c, v := range w {
			if got := res.Text(i, c); got != FormatCSV(v) {
				t.Errorf("Text(%d, %d) = %q, want %q", i, c, got, FormatCSV(v))
			}
			if got := res.IsNull(i, c); got != (v == nil) {
				t.Errorf("IsNull(%d, %d) = %v", i, c, got)
			}
		}
	}
	if diff := cmp.Diff(recBefore, res.Record(1)); diff != "" {
		t.Errorf("record changed (-before +after):\n%s", diff)
	}
	if acc := res.Record(1)["Account"].(map[string]any); acc["Name"] != "Globex" || acc["attributes"].(map[string]any)["url"] != "/services/data/v"+DefaultAPIVersion+"/sobjects/Account/"+f.globex {
		t.Errorf("Account %v", acc)
	}
	if acc, ok := res.Record(2)["Account"]; !ok || acc != nil {
		t.Errorf("Gamma's Account %v", acc)
	}
}

func mustObject(t *testing.T, o *Org, name string) *Object {
	t.Helper()
	ob, ok := o.schema.Object(name)
	if !ok {
		t.Fatal(name)
	}
	return ob
}
