package org

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, customSchema(t))
	acct := mustInsert(t, o, "Account", map[string]any{"Name": "Acme", "External_Id__c": "ACME"})[0]
	con := mustInsert(t, o, "Contact", map[string]any{"LastName": "Taken", "External_Id__c": "C-1"})[0]
	gone := mustInsert(t, o, "Contact", map[string]any{"LastName": "Gone"})[0]
	if r := writeOne(t, o, WriteRequest{Op: OpDelete, Object: "Contact", ID: gone}); !r.Success {
		t.Fatal(r.Errors)
	}
	mustInsert(t, o, "Invoice__c", map[string]any{"Name": "I1", "Legacy_Key__c": "K"}, map[string]any{"Name": "I2", "Legacy_Key__c": "k"})
	missingAcct := To18("001" + "5g0" + "zzzzzzzzz")
	long81 := strings.Repeat("a", 69) + "@example.com"

	for _, tc := range []struct {
		name string
		req  WriteRequest
		want Error
	}{
		{"required", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"FirstName": "Bob"}},
			Error{CodeRequiredFieldMissing, "Required fields are missing: [LastName]", []string{"LastName"}}},
		{"required several", WriteRequest{Op: OpInsert, Object: "Lead", Fields: map[string]any{}},
			Error{CodeRequiredFieldMissing, "Required fields are missing: [LastName, Company]", []string{"LastName", "Company"}}},
		{"required set null", WriteRequest{Op: OpUpdate, Object: "Contact", ID: con, Fields: map[string]any{"LastName": nil}},
			Error{CodeRequiredFieldMissing, "Required fields are missing: [LastName]", []string{"LastName"}}},
		{"required empty string", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": ""}},
			Error{CodeRequiredFieldMissing, "Required fields are missing: [LastName]", []string{"LastName"}}},
		{"unknown field", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "Foo": "1"}},
			Error{CodeInvalidField, "No such column 'Foo' on sobject of type Contact", []string{"Foo"}}},
		{"unknown field wins over bad value", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"Birthdate": "abc", "Bar": "1"}},
			Error{CodeInvalidField, "No such column 'Bar' on sobject of type Contact", []string{"Bar"}}},
		{"unknown relationship field", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "Account.Nope__c": "1"}},
			Error{CodeInvalidField, "No such column 'Account.Nope__c' on sobject of type Contact", []string{"Account.Nope__c"}}},
		{"id on insert", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "Id": con}},
			Error{CodeInvalidField, "Record ID: cannot specify Id in an insert call", []string{"Id"}}},
		{"not createable", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "Name": "N", "CreatedDate": "2020-01-01T00:00:00Z"}},
			Error{CodeInvalidFieldForInsert, "Unable to create/update fields: CreatedDate, Name. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", []string{"CreatedDate", "Name"}}},
		{"not updateable", WriteRequest{Op: OpUpdate, Object: "Contact", ID: con, Fields: map[string]any{"IsDeleted": "true"}},
			Error{CodeInvalidFieldForInsert, "Unable to create/update fields: IsDeleted. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", []string{"IsDeleted"}}},
		{"string too long", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "Email": long81}},
			Error{CodeStringTooLong, "Email: data value too large: " + long81 + " (max length=80)", []string{"Email"}}},
		{"bad date", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "Birthdate": "abc"}},
			Error{CodeInvalidType, "Birthdate: value not of required type: abc", []string{"Birthdate"}}},
		{"bad boolean", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "DoNotCall": "maybe"}},
			Error{CodeInvalidType, "Do Not Call: value not of required type: maybe", []string{"DoNotCall"}}},
		{"bad int", WriteRequest{Op: OpInsert, Object: "Account", Fields: map[string]any{"Name": "X", "NumberOfEmployees": "1.5"}},
			Error{CodeInvalidType, "Employees: value not of required type: 1.5", []string{"NumberOfEmployees"}}},
		{"bad currency from JSON bool", WriteRequest{Op: OpInsert, Object: "Account", Fields: map[string]any{"Name": "X", "AnnualRevenue": true}},
			Error{CodeInvalidType, "Annual Revenue: value not of required type: true", []string{"AnnualRevenue"}}},
		{"number out of range", WriteRequest{Op: OpInsert, Object: "Account", Fields: map[string]any{"Name": "X", "NumberOfEmployees": "100000000"}},
			Error{CodeNumberOutsideValidRange, "Employees: value outside of valid range on numeric field: 100000000", []string{"NumberOfEmployees"}}},
		{"number out of range from JSON", WriteRequest{Op: OpInsert, Object: "Account", Fields: map[string]any{"Name": "X", "AnnualRevenue": 1e16}},
			Error{CodeNumberOutsideValidRange, "Annual Revenue: value outside of valid range on numeric field: 10000000000000000", []string{"AnnualRevenue"}}},
		{"bad datetime", WriteRequest{Op: OpInsert, Object: "Invoice__c", Fields: map[string]any{"Name": "X", "Sent_At__c": "2024-13-01T00:00:00Z"}},
			Error{CodeInvalidType, "Sent At: value not of required type: 2024-13-01T00:00:00Z", []string{"Sent_At__c"}}},
		{"bad email", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "Email": "nope"}},
			Error{CodeInvalidEmail, "Email: invalid email address: nope", []string{"Email"}}},
		{"restricted picklist", WriteRequest{Op: OpInsert, Object: "Lead", Fields: map[string]any{"LastName": "X", "Company": "C", "Status": "Bogus"}},
			Error{CodeRestrictedPicklist, "Status: bad value for restricted picklist field: Bogus", []string{"Status"}}},
		{"restricted multipicklist", WriteRequest{Op: OpInsert, Object: "Invoice__c", Fields: map[string]any{"Name": "X", "Tags__c": "Red;Pink"}},
			Error{CodeRestrictedPicklist, "Tags: bad value for restricted picklist field: Pink", []string{"Tags__c"}}},
		{"duplicate value", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "External_Id__c": "C-1"}},
			Error{CodeDuplicateValue, "duplicate value found: External_Id__c duplicates value on record with id: " + con, []string{}}},
		{"duplicate username case-insensitive", WriteRequest{Op: OpInsert, Object: "User", Fields: map[string]any{"Username": strings.ToUpper(DefaultUsername), "LastName": "U", "Email": "u@example.com", "Alias": "u"}},
			Error{CodeDuplicateValue, "duplicate value found: Username duplicates value on record with id: " + o.DefaultUserID(), []string{}}},
		{"duplicate external id on upsert", WriteRequest{Op: OpUpsert, Object: "Invoice__c", ExternalIDField: "Legacy_Key__c", Fields: map[string]any{"Legacy_Key__c": "K", "Name": "Z"}},
			Error{CodeDuplicateExternalID, "", []string{"Legacy_Key__c"}}},
		{"missing parent id", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "AccountId": missingAcct}},
			Error{CodeInvalidCrossReference, "invalid cross reference id", []string{"AccountId"}}},
		{"missing parent external id", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "Account.External_Id__c": "nope"}},
			Error{CodeInvalidField, "Foreign key external ID: nope not found for field External_Id__c in entity Account", []string{}}},
		{"external id is case-sensitive", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "Account.External_Id__c": "acme"}},
			Error{CodeInvalidField, "Foreign key external ID: acme not found for field External_Id__c in entity Account", []string{}}},
		{"malformed parent id", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "AccountId": "abc"}},
			Error{CodeMalformedID, "Account ID: id value of incorrect type: abc", []string{"AccountId"}}},
		{"parent id of wrong object", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "AccountId": con}},
			Error{CodeFieldIntegrity, "Account ID: id value of incorrect type: " + con, []string{"AccountId"}}},
		{"deleted parent", WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X", "ReportsToId": gone}},
			Error{CodeEntityIsDeleted, "entity is deleted", []string{"ReportsToId"}}},
		{"update malformed id", WriteRequest{Op: OpUpdate, Object: "Contact", ID: "xyz", Fields: map[string]any{"LastName": "Y"}},
			Error{CodeMalformedID, "Contact ID: id value of incorrect type: xyz", []string{"Id"}}},
		{"update id of other object", WriteRequest{Op: OpUpdate, Object: "Contact", ID: acct, Fields: map[string]any{"LastName": "Y"}},
			Error{CodeMalformedID, "Contact ID: id value of incorrect type: " + acct, []string{"Id"}}},
		{"update missing id", WriteRequest{Op: OpUpdate, Object: "Contact", Fields: map[string]any{"LastName": "Y"}},
			Error{CodeMissingArgument, "Id not specified in an update call", []string{}}},
		{"update unknown id", WriteRequest{Op: OpUpdate, Object: "Contact", ID: To18("0035g0zzzzzzzzz"), Fields: map[string]any{"LastName": "Y"}},
			Error{CodeNotFound, MessageNotFound, []string{}}},
		{"update deleted", WriteRequest{Op: OpUpdate, Object: "Contact", ID: gone, Fields: map[string]any{"LastName": "Y"}},
			Error{CodeEntityIsDeleted, "entity is deleted", []string{}}},
		{"delete deleted", WriteRequest{Op: OpDelete, Object: "Contact", Fields: map[string]any{"Id": gone}},
			Error{CodeEntityIsDeleted, "entity is deleted", []string{}}},
		{"delete missing id", WriteRequest{Op: OpDelete, Object: "Contact", Fields: map[string]any{"Id": ""}},
			Error{CodeMissingArgument, "Id not specified in a delete call", []string{}}},
		{"undelete live", WriteRequest{Op: OpUndelete, Object: "Contact", ID: con},
			Error{CodeUndeleteFailed, "Entity is not in the recycle bin", []string{}}},
		{"upsert without key value", WriteRequest{Op: OpUpsert, Object: "Contact", ExternalIDField: "External_Id__c", Fields: map[string]any{"LastName": "Y"}},
			Error{CodeMissingArgument, "External_Id__c not specified", []string{}}},
		{"upsert on unknown field", WriteRequest{Op: OpUpsert, Object: "Contact", ExternalIDField: "Foo__c", Fields: map[string]any{"LastName": "Y"}},
			Error{CodeNotFound, "Provided external ID field does not exist or is not accessible: Foo__c", []string{}}},
		{"upsert on non-external field", WriteRequest{Op: OpUpsert, Object: "Contact", ExternalIDField: "LastName", Fields: map[string]any{"LastName": "Y"}},
			Error{CodeNotFound, "Provided external ID field does not exist or is not accessible: LastName", []string{}}},
		{"unknown object", WriteRequest{Op: OpInsert, Object: "Foo", Fields: map[string]any{"Name": "Y"}},
			Error{CodeInvalidTypeObject, "sObject type 'Foo' is not supported.", []string{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := writeOne(t, o, tc.req)
			if got.Success || len(got.Errors) != 1 {
				t.Fatalf("result = %+v, want one error", got)
			}
			g := got.Errors[0]
			if tc.want.Message == "" { // message checked by prefix below
				if !strings.HasPrefix(g.Message, "Legacy Key: more than one record found for external id field: [") {
					t.Errorf("message = %q", g.Message)
				}
				g.Message = ""
			}
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if tc.req.Op != OpInsert {
				return
			}
			// The columnar form of the same insert fails the same way.
			col := writeOne(t, o, columnarRequest(tc.req))
			if col.Success || len(col.Errors) != 1 {
				t.Fatalf("columnar result = %+v, want one error", col)
			}
			if tc.want.Message == "" {
				col.Errors[0].Message = ""
			}
			if diff := cmp.Diff(tc.want, col.Errors[0]); diff != "" {
				t.Errorf("columnar error mismatch (-want +got):\n%s", diff)
			}
			// And so does the columnar form with unboxed strings.
			ptr := writeOne(t, o, pointerRequest(tc.req))
			if ptr.Success || len(ptr.Errors) != 1 {
				t.Fatalf("*string result = %+v, want one error", ptr)
			}
			if tc.want.Message == "" {
				ptr.Errors[0].Message = ""
			}
			if diff := cmp.Diff(tc.want, ptr.Errors[0]); diff != "" {
				t.Errorf("*string error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// columnarRequest returns req in the columnar form, its fields in sorted
// order after a column the row leaves out.
func columnarRequest(req WriteRequest) WriteRequest {
	cols := []string{"Description"}
	vals := []any{Unset{}}
	for _, k := range slices.Sorted(maps.Keys(req.Fields)) {
		cols = append(cols, k)
		vals = append(vals, req.Fields[k])
	}
	req.Fields, req.Columns, req.Values = nil, cols, vals
	return req
}

// pointerRequest is columnarRequest with every string value given as a
// *string.
func pointerRequest(req WriteRequest) WriteRequest {
	req = columnarRequest(req)
	vals := slices.Clone(req.Values)
	for i, v := range vals {
		if s, ok := v.(string); ok {
			vals[i] = &s
		}
	}
	req.Values = vals
	return req
}

func TestInsertColumnsLikeFields(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, customSchema(t))
	acct := mustInsert(t, o, "Account", map[string]any{"Name": "Analytical Engines"})[0]
	fields := map[string]any{"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com", "DoNotCall": nil, "Birthdate": "1815-12-10",
		"AccountId": acct[:15], "LeadSource": "web", "MailingLatitude": "51.5", "HasOptedOutOfEmail": "true"}
	a := writeOne(t, o, WriteRequest{Op: OpInsert, Object: "Contact", Fields: fields})
	b := writeOne(t, o, columnarRequest(WriteRequest{Op: OpInsert, Object: "Contact", Fields: fields}))
	c := writeOne(t, o, pointerRequest(WriteRequest{Op: OpInsert, Object: "Contact", Fields: fields}))
	if !a.Success || !b.Success || !b.Created || !c.Success || !c.Created {
		t.Fatalf("results %+v %+v %+v", a, b, c)
	}
	want := []string{"FirstName", "LastName", "Name", "Email", "DoNotCall", "Birthdate", "Description", "OwnerId", "AccountId", "LeadSource", "MailingLatitude", "HasOptedOutOfEmail"}
	ra, err := o.Get(t.Context(), "Contact", a.ID, want)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := o.Get(t.Context(), "Contact", b.ID, want)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := o.Get(t.Context(), "Contact", c.ID, want)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range want {
		if !reflect.DeepEqual(ra[f], rb[f]) || !reflect.DeepEqual(ra[f], rc[f]) {
			t.Errorf("%s: fields %#v, columns %#v, *string columns %#v", f, ra[f], rb[f], rc[f])
		}
	}
	if ra["Name"] != "Ada Lovelace" || ra["AccountId"] != acct || ra["MailingLatitude"] != 51.5 {
		t.Errorf("inserted %v", ra)
	}
	// With a row fault set, a columnar request is matched like a map.
	o.InjectRowFault(RowFault{Object: "Contact", Field: "LastName", Value: "Faulty", Message: "boom"})
	r := writeOne(t, o, columnarRequest(WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "Faulty"}}))
	if r.Success || r.Errors[0].Message != "boom" {
		t.Fatalf("fault not applied: %+v", r)
	}
	r = writeOne(t, o, pointerRequest(WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "Faulty"}}))
	if r.Success || r.Errors[0].Message != "boom" {
		t.Fatalf("fault not applied to *string: %+v", r)
	}
}

func TestInsertDefaultsAndSystemFields(t *testing.T) {
	t.Parallel()
	o, clk := newOrg(t, nil)
	id := mustInsert(t, o, "Lead", map[string]any{"lastname": "Lee", "COMPANY": "Co", "FirstName": "Ann", "NumberOfEmployees": 12.0})[0]
	if !strings.HasPrefix(id, "00Q") || len(id) != 18 {
		t.Fatalf("id = %q", id)
	}
	got, err := o.Get(t.Context(), "lead", id[:15], []string{"Name", "Status", "OwnerId", "CreatedById", "CreatedDate", "IsConverted", "NumberOfEmployees"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"attributes":        map[string]any{"type": "Lead", "url": "/services/data/v62.0/sobjects/Lead/" + id},
		"Name":              "Ann Lee",
		"Status":            "Open - Not Contacted",
		"OwnerId":           o.DefaultUserID(),
		"CreatedById":       o.DefaultUserID(),
		"CreatedDate":       "2026-03-04T05:06:07.000+0000",
		"IsConverted":       false,
		"NumberOfEmployees": 12.0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get mismatch (-want +got):\n%s", diff)
	}
	clk.Advance(90 * 1e9)
	if r := writeOne(t, o, WriteRequest{Op: OpUpdate, Object: "Lead", Fields: map[string]any{"Id": id, "FirstName": nil}}); !r.Success {
		t.Fatal(r.Errors)
	}
	got, _ = o.Get(t.Context(), "Lead", id, []string{"Name", "CreatedDate", "LastModifiedDate", "SystemModstamp"})
	if got["Name"] != "Lee" || got["CreatedDate"] != "2026-03-04T05:06:07.000+0000" ||
		got["LastModifiedDate"] != "2026-03-04T05:07:37.000+0000" || got["SystemModstamp"] != "2026-03-04T05:07:37.000+0000" {
		t.Errorf("after update: %v", got)
	}
}

func TestGetErrors(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, nil)
	id := mustInsert(t, o, "Contact", map[string]any{"LastName": "X"})[0]
	for _, tc := range []struct {
		object, id string
		fields     []string
		code       string
	}{
		{"Contact", "bad", nil, CodeMalformedID},
		{"Contact", To18("0035g0zzzzzzzzz"), nil, CodeNotFound},
		{"Nope", id, nil, CodeNotFound},
		{"Contact", id, []string{"Foo"}, CodeInvalidField},
	} {
		_, err := o.Get(t.Context(), tc.object, tc.id, tc.fields)
		e, ok := err.(*Error)
		if !ok || e.StatusCode != tc.code {
			t.Errorf("Get(%s, %s, %v) error = %v, want %s", tc.object, tc.id, tc.fields, err, tc.code)
		}
	}
}

func TestUpsert(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, nil)
	up := func(fields map[string]any) WriteResult {
		return writeOne(t, o, WriteRequest{Op: OpUpsert, Object: "Contact", ExternalIDField: "external_id__c", Fields: fields})
	}
	r1 := up(map[string]any{"External_Id__c": "E-1", "LastName": "One"})
	if !r1.Success || !r1.Created {
		t.Fatalf("first upsert = %+v, want created", r1)
	}
	r2 := up(map[string]any{"External_Id__c": "E-1", "LastName": "Uno"})
	if !r2.Success || r2.Created || r2.ID != r1.ID {
		t.Fatalf("second upsert = %+v, want update of %s", r2, r1.ID)
	}
	r3 := up(map[string]any{"External_Id__c": "e-1", "LastName": "Other"}) // case-sensitive key: a new record
	if !r3.Success || !r3.Created || r3.ID == r1.ID {
		t.Fatalf("case-different upsert = %+v, want a new record", r3)
	}
	got, _ := o.Get(t.Context(), "Contact", r1.ID, []string{"LastName"})
	if got["LastName"] != "Uno" {
		t.Errorf("LastName = %v, want Uno", got["LastName"])
	}
	// By Id: with an id it updates, without it inserts.
	r4 := writeOne(t, o, WriteRequest{Op: OpUpsert, Object: "Contact", Fields: map[string]any{"Id": r1.ID, "LastName": "ById"}})
	r5 := writeOne(t, o, WriteRequest{Op: OpUpsert, Object: "Contact", ExternalIDField: "Id", Fields: map[string]any{"Id": nil, "LastName": "New"}})
	if !r4.Success || r4.Created || r4.ID != r1.ID || !r5.Success || !r5.Created {
		t.Errorf("upsert by Id: %+v %+v", r4, r5)
	}
	if n := o.Count("Contact"); n != 3 {
		t.Errorf("Count = %d, want 3", n)
	}
}

func TestRelationshipByExternalID(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, nil)
	acct := mustInsert(t, o, "Account", map[string]any{"Name": "Acme", "External_Id__c": "A-1"})[0]
	con := mustInsert(t, o, "Contact", map[string]any{"LastName": "X", "account.external_id__c": "A-1"})[0]
	got, _ := o.Get(t.Context(), "Contact", con, []string{"AccountId"})
	if got["AccountId"] != acct {
		t.Fatalf("AccountId = %v, want %s", got["AccountId"], acct)
	}
	// By parent Id through the relationship, and 15-character ids.
	con2 := mustInsert(t, o, "Contact", map[string]any{"LastName": "Y", "Account.Id": acct[:15]})[0]
	con3 := mustInsert(t, o, "Contact", map[string]any{"LastName": "Z", "AccountId": strings.ToLower(acct)})[0]
	for _, id := range []string{con2, con3} {
		if got, _ := o.Get(t.Context(), "Contact", id, []string{"AccountId"}); got["AccountId"] != acct {
			t.Errorf("AccountId of %s = %v, want %s", id, got["AccountId"], acct)
		}
	}
	// An empty external id clears the lookup.
	if r := writeOne(t, o, WriteRequest{Op: OpUpdate, Object: "Contact", ID: con, Fields: map[string]any{"Account.External_Id__c": ""}}); !r.Success {
		t.Fatal(r.Errors)
	}
	if got, _ := o.Get(t.Context(), "Contact", con, []string{"AccountId"}); got["AccountId"] != nil {
		t.Errorf("AccountId = %v, want null", got["AccountId"])
	}
}

func TestRecycleBin(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, nil)
	ids := mustInsert(t, o, "Contact", map[string]any{"LastName": "A", "External_Id__c": "X"}, map[string]any{"LastName": "B"})
	count := func(all bool) int {
		r, err := o.Query(t.Context(), "SELECT COUNT() FROM Contact", all)
		if err != nil {
			t.Fatal(err)
		}
		return r.TotalSize
	}
	if r := writeOne(t, o, WriteRequest{Op: OpDelete, Object: "Contact", ID: ids[0]}); !r.Success {
		t.Fatal(r.Errors)
	}
	if q, a := count(false), count(true); q != 1 || a != 2 {
		t.Fatalf("after delete: query %d, queryAll %d; want 1, 2", q, a)
	}
	r, err := o.Query(t.Context(), "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true", true)
	if err != nil || r.Len() != 1 || r.Values(0)[0] != ids[0] || r.Values(0)[1] != true {
		t.Fatalf("queryAll deleted = %v, %v", r, err)
	}
	// The deleted record's unique value is free again; undelete then collides.
	other := mustInsert(t, o, "Contact", map[string]any{"LastName": "C", "External_Id__c": "X"})[0]
	if r := writeOne(t, o, WriteRequest{Op: OpUndelete, Object: "Contact", ID: ids[0]}); r.Success || r.Errors[0].StatusCode != CodeDuplicateValue {
		t.Fatalf("undelete with a taken unique value = %+v", r)
	}
	if r := writeOne(t, o, WriteRequest{Op: OpHardDelete, Object: "Contact", ID: other}); !r.Success {
		t.Fatal(r.Errors)
	}
	if r := writeOne(t, o, WriteRequest{Op: OpUndelete, Object: "Contact", ID: ids[0]}); !r.Success {
		t.Fatal(r.Errors)
	}
	if q, a := count(false), count(true); q != 2 || a != 2 {
		t.Fatalf("after undelete and hard delete: query %d, queryAll %d; want 2, 2", q, a)
	}
	if _, err := o.Get(t.Context(), "Contact", other, nil); err == nil {
		t.Error("hard-deleted record still readable")
	}
}

func TestAllOrNoneRollback(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, nil)
	keep := mustInsert(t, o, "Contact", map[string]any{"LastName": "Keep", "External_Id__c": "K"})[0]
	before := o.Count("Contact")
	res := o.Write(t.Context(), "", []WriteRequest{
		{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "New", "External_Id__c": "N"}},
		{Op: OpUpdate, Object: "Contact", ID: keep, Fields: map[string]any{"LastName": "Changed", "External_Id__c": "K2"}},
		{Op: OpInsert, Object: "Contact", Fields: map[string]any{"FirstName": "NoLast"}},
		{Op: OpDelete, Object: "Contact", ID: keep},
	}, true)
	want := []WriteResult{
		{Errors: []Error{{CodeAllOrNoneRolledBack, MessageAllOrNoneRolledBack, []string{}}}},
		{Errors: []Error{{CodeAllOrNoneRolledBack, MessageAllOrNoneRolledBack, []string{}}}},
		{Errors: []Error{{CodeRequiredFieldMissing, "Required fields are missing: [LastName]", []string{"LastName"}}}},
		{Errors: []Error{{CodeAllOrNoneRolledBack, MessageAllOrNoneRolledBack, []string{}}}},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("results (-want +got):\n%s", diff)
	}
	if n := o.Count("Contact"); n != before {
		t.Errorf("Count = %d, want %d", n, before)
	}
	got, _ := o.Get(t.Context(), "Contact", keep, []string{"LastName", "External_Id__c", "IsDeleted"})
	if got["LastName"] != "Keep" || got["External_Id__c"] != "K" || got["IsDeleted"] != false {
		t.Errorf("record after rollback = %v", got)
	}
	// The indexes were rolled back too: N is free, K is taken.
	if r := writeOne(t, o, WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "N", "External_Id__c": "N"}}); !r.Success {
		t.Errorf("insert of rolled-back key: %+v", r.Errors)
	}
	if r := writeOne(t, o, WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "K", "External_Id__c": "K"}}); r.Success {
		t.Error("duplicate of restored key accepted")
	}
	// Without allOrNone the valid rows stay.
	res = o.Write(t.Context(), "", []WriteRequest{
		{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "Ok"}},
		{Op: OpInsert, Object: "Contact", Fields: map[string]any{}},
	}, false)
	if !res[0].Success || res[1].Success {
		t.Errorf("partial write = %+v", res)
	}
}

func TestValueConversions(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, customSchema(t))
	id := mustInsert(t, o, "Invoice__c", map[string]any{
		"Name": "I", "Amount__c": "12.50", "Quantity__c": 3.0, "Paid__c": "TRUE", "Due__c": "2024-02-29Z",
		"Sent_At__c": "2024-01-03T23:52:01+02:00", "Tags__c": "red; Blue", "Weight__c": "1e3", "Channel__c": "Fax",
	})[0]
	got, err := o.Get(t.Context(), "Invoice__c", id, []string{"Amount__c", "Quantity__c", "Paid__c", "Due__c", "Sent_At__c", "Tags__c", "Weight__c", "Status__c", "Channel__c"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"attributes": map[string]any{"type": "Invoice__c", "url": "/services/data/v62.0/sobjects/Invoice__c/" + id},
		"Amount__c":  12.5, "Quantity__c": 3.0, "Paid__c": true, "Due__c": "2024-02-29",
		"Sent_At__c": "2024-01-03T21:52:01.000+0000", "Tags__c": "Red;Blue", "Weight__c": 1000.0,
		"Status__c": "Draft", "Channel__c": "Fax",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	// Picklist values in another case are stored as the picklist spells them, restricted
	// or not, as Salesforce does.
	id2 := mustInsert(t, o, "Invoice__c", map[string]any{"Name": "J", "Status__c": "pAID", "Channel__c": "web", "Tags__c": "GREEN"})[0]
	got, err = o.Get(t.Context(), "Invoice__c", id2, []string{"Status__c", "Channel__c", "Tags__c"})
	if err != nil {
		t.Fatal(err)
	}
	if got["Status__c"] != "Paid" || got["Channel__c"] != "Web" || got["Tags__c"] != "Green" {
		t.Errorf("picklists in another case stored as %v, want Paid, Web, Green", got)
	}
	if !strings.HasPrefix(id, "a01") {
		t.Errorf("id %s lacks key prefix a01", id)
	}
	w, _ := o.Object("widget__c")
	if w.KeyPrefix != "a00" || !w.Custom {
		t.Errorf("Widget__c prefix %q custom %v, want a00 true", w.KeyPrefix, w.Custom)
	}
}

func TestGetRecycled(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, nil)
	id := mustInsert(t, o, "Contact", map[string]any{"LastName": "X"})[0]
	writeOne(t, o, WriteRequest{Op: OpDelete, Object: "Contact", ID: id})
	_, err := o.Get(t.Context(), "Contact", id, nil)
	if e, ok := err.(*Error); !ok || e.StatusCode != CodeEntityIsDeleted {
		t.Errorf("Get of a recycled record: %v, want ENTITY_IS_DELETED", err)
	}
	if _, err := o.Get(t.Context(), "Account", id, nil); err == nil {
		t.Error("Get with an id of another object succeeded")
	}
}

func TestWriteMixedObjects(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, nil)
	res := o.Write(t.Context(), "", []WriteRequest{
		{Op: OpInsert, Object: "Account", Fields: map[string]any{"Name": "A", "ShippingCountry": "FR", "BillingCountry": "DE"}},
		{Op: OpInsert, Object: "Profile", Fields: map[string]any{"Name": "P"}},
		{Op: OpInsert, Object: "Opportunity", Fields: map[string]any{"Name": "O", "StageName": "Prospecting", "CloseDate": "2026-05-01", "Amount": "10"}},
		{Op: OpInsert, Object: "Case", Fields: map[string]any{"Subject": "S"}},
		{Op: OpInsert, Object: "Account", Fields: map[string]any{"Name": "B"}},
	}, false)
	for i, r := range res {
		if !r.Success {
			t.Errorf("row %d: %+v", i, r.Errors)
		}
	}
	got, _ := o.Get(t.Context(), "Account", res[4].ID, []string{"ShippingCountry", "BillingCountry"})
	if got["ShippingCountry"] != nil || got["BillingCountry"] != nil {
		t.Errorf("values leaked between requests: %v", got)
	}
	got, _ = o.Get(t.Context(), "Case", res[3].ID, []string{"Status", "Priority", "CaseNumber"})
	if got["Status"] != "New" || got["Priority"] != "Medium" || got["CaseNumber"] != "00001001" {
		t.Errorf("Case defaults: %v", got)
	}
}

func TestWriteAsUser(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, nil)
	u := mustInsert(t, o, "User", map[string]any{"Username": "second@example.com", "LastName": "Second", "Email": "second@example.com", "Alias": "sec"})[0]
	res := o.Write(t.Context(), u[:15], []WriteRequest{{Op: OpInsert, Object: "Account", Fields: map[string]any{"Name": "Mine"}}}, false)
	if !res[0].Success {
		t.Fatal(res[0].Errors)
	}
	got, _ := o.Get(t.Context(), "Account", res[0].ID, []string{"OwnerId", "CreatedById", "LastModifiedById"})
	if got["OwnerId"] != u || got["CreatedById"] != u || got["LastModifiedById"] != u {
		t.Errorf("owner fields = %v, want %s", got, u)
	}
	// A polymorphic-style key sets the owner by username.
	if r := writeOne(t, o, WriteRequest{Op: OpUpdate, Object: "Account", ID: res[0].ID, Fields: map[string]any{"Owner:User.Username": DefaultUsername}}); !r.Success {
		t.Fatal(r.Errors)
	}
	got, _ = o.Get(t.Context(), "Account", res[0].ID, []string{"OwnerId", "LastModifiedById"})
	if got["OwnerId"] != o.DefaultUserID() || got["LastModifiedById"] != o.DefaultUserID() {
		t.Errorf("after update = %v", got)
	}
}

// TestWriterSlabsFitTheWrite checks that a write of a few records does not
// allocate (and keep alive, through the records) a slab sized for 128.
func TestWriterSlabsFitTheWrite(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ left, wantRecords int }{{1, 1}, {3, 3}, {128, 128}, {5000, 128}, {0, 1}} {
		w := &writer{left: tt.left}
		v := w.newVals(40)
		w.newRecord(v)
		if got := len(w.recSlab) + 1; got != tt.wantRecords {
			t.Errorf("%d requests left: record slab of %d, want %d", tt.left, got, tt.wantRecords)
		}
	}
}
