package org

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfbatch/sfbatch/emulator/clock"
)

func TestIDs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"001A0000006Vm9r", "001A0000006Vm9rIAC", true},
		{"001A0000006Vm9rIAC", "001A0000006Vm9rIAC", true},
		{"001a0000006vm9riac", "001A0000006Vm9rIAC", true}, // 18 chars are case-insensitive
		{"0035g00000Kq1aB", "0035g00000Kq1aBAAR", true},
		{"00000000000000000", "", false},
		{"001A0000006Vm9r!", "", false},
		{"001A0000006Vm9rI9C", "", false}, // '9' is not a checksum character
		{"0010000000000009AA", "", false}, // checksum marks a digit as upper case
		{"", "", false},
	} {
		got, ok := NormalizeID(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeID(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	// Minted ids are valid, prefixed, increasing and deterministic per seed.
	a, b := newIDGen(0), newIDGen(0)
	c := newIDGen(7)
	prev := ""
	for range 100 {
		id := a.mint("003")
		if n, ok := NormalizeID(id); !ok || n != id || !strings.HasPrefix(id, "0035g0") || id <= prev {
			t.Fatalf("minted %q (prev %q)", id, prev)
		}
		prev = id
		if id2 := b.mint("003"); id2 != id {
			t.Fatalf("same seed minted %q and %q", id, id2)
		}
		if id3 := c.mint("003"); id3 == id {
			t.Fatalf("different seeds minted the same id %q", id)
		}
	}
	g := newIDGen(0)
	g.observe(prev)
	if id := g.mint("003"); id <= prev {
		t.Errorf("after observe(%s) minted %s", prev, id)
	}
}

func TestPersistenceRestart(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "org.db")
	clk := clock.NewFake(t0)
	o, err := New(Options{DataFile: file, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	acct := mustInsert(t, o, "Account", map[string]any{"Name": "Acme", "External_Id__c": "A1", "AnnualRevenue": 12.5})[0]
	ids := mustInsert(t, o, "Contact",
		map[string]any{"LastName": "Keep", "Birthdate": "1990-05-06", "AccountId": acct, "DoNotCall": true,
			"Description": "line1\n\"quoted\" \\ tab\t é \x01 ✓"},
		map[string]any{"LastName": "Recycled"},
		map[string]any{"LastName": "Hard"})
	res := o.Write(t.Context(), "", []WriteRequest{
		{Op: OpUpdate, Object: "Contact", ID: ids[0], Fields: map[string]any{"Email": "k@example.com"}},
		{Op: OpDelete, Object: "Contact", ID: ids[1]},
		{Op: OpHardDelete, Object: "Contact", ID: ids[2]},
	}, false)
	for _, r := range res {
		if !r.Success {
			t.Fatal(r.Errors)
		}
	}
	// A rolled-back write leaves no trace in the file.
	o.Write(t.Context(), "", []WriteRequest{
		{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "Ghost"}},
		{Op: OpInsert, Object: "Contact", Fields: map[string]any{}},
	}, true)
	user := o.DefaultUserID()
	before, err := o.Get(t.Context(), "Contact", ids[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}

	o2, err := New(Options{DataFile: file, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	if o2.DefaultUserID() != user {
		t.Errorf("default user %s, want %s", o2.DefaultUserID(), user)
	}
	after, err := o2.Get(t.Context(), "Contact", ids[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("record after restart (-before +after):\n%s", diff)
	}
	r, err := o2.Query(t.Context(), "SELECT LastName, IsDeleted, Account.AnnualRevenue FROM Contact ORDER BY LastName", true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range r.Len() {
		got = append(got, fmt.Sprint(r.Values(i)))
	}
	if diff := cmp.Diff([]string{"[Keep false 12.5]", "[Recycled true <nil>]"}, got); diff != "" {
		t.Errorf("rows after restart (-want +got):\n%s", diff)
	}
	// Indexes and the id counter are rebuilt.
	if res := writeOne(t, o2, WriteRequest{Op: OpInsert, Object: "Account", Fields: map[string]any{"Name": "Dup", "External_Id__c": "A1"}}); res.Success {
		t.Error("duplicate external id accepted after restart")
	}
	nid := mustInsert(t, o2, "Contact", map[string]any{"LastName": "New", "Account.External_Id__c": "A1"})[0]
	for _, id := range ids {
		if nid == id {
			t.Errorf("new id %s reuses an old one", nid)
		}
	}
}

func TestConcurrentWritesAndQueries(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, nil)
	const writers, perWriter = 4, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				res := o.Write(t.Context(), "", []WriteRequest{
					{Op: OpUpsert, Object: "Contact", ExternalIDField: "External_Id__c", Fields: map[string]any{"External_Id__c": fmt.Sprintf("W%d-%d", w, i), "LastName": "L"}},
					{Op: OpUpsert, Object: "Contact", ExternalIDField: "External_Id__c", Fields: map[string]any{"External_Id__c": "shared", "LastName": fmt.Sprint(w)}},
				}, false)
				for _, r := range res {
					if !r.Success {
						t.Errorf("write: %+v", r.Errors)
					}
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range perWriter {
				r, err := o.Query(t.Context(), "SELECT Id, LastName FROM Contact WHERE LastName != null ORDER BY LastName", false)
				if err != nil {
					t.Error(err)
					return
				}
				for i := range r.Len() {
					_ = r.Record(i)
				}
				_ = o.Limits()
				_ = o.Consume(LimitDailyAPIRequests, 1)
			}
		}()
	}
	wg.Wait()
	if n, want := o.Count("Contact"), writers*perWriter+1; n != want {
		t.Errorf("Count = %d, want %d", n, want)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	o, clk := newOrg(t, nil)
	l := o.Limits()
	if got := l[LimitDailyAPIRequests]; got != (Limit{Max: 15000, Remaining: 15000}) {
		t.Errorf("DailyApiRequests = %+v", got)
	}
	for _, name := range []string{LimitDailyBulkAPIBatches, LimitDailyBulkV2QueryJobs, LimitDailyBulkV2QueryFileStorageMB, LimitDataStorageMB, LimitFileStorageMB} {
		if _, ok := l[name]; !ok {
			t.Errorf("limit %s missing", name)
		}
	}
	o.SetLimit(LimitDailyAPIRequests, 100, 2)
	if err := o.Consume(LimitDailyAPIRequests, 2); err != nil {
		t.Fatal(err)
	}
	err := o.Consume(LimitDailyAPIRequests, 1)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != CodeRequestLimitExceeded || e.Message != "TotalRequests Limit exceeded." {
		t.Fatalf("Consume when exhausted = %v", err)
	}
	if got := o.Limits()[LimitDailyAPIRequests]; got != (Limit{Max: 100, Remaining: 0}) {
		t.Errorf("after exhausting = %+v", got)
	}
	clk.Advance(24 * time.Hour)
	if got := o.Limits()[LimitDailyAPIRequests]; got.Remaining != 100 {
		t.Errorf("after a day = %+v, want reset", got)
	}
	if err := o.Consume("NoSuchLimit", 1); err == nil {
		t.Error("unknown limit accepted")
	}
}

func TestRowFaults(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, nil)
	o.InjectRowFault(RowFault{Object: "contact", Field: "LastName", Value: "Locked", StatusCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record", Count: 2})
	req := WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "Locked"}}
	other := WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "Free"}}
	res := o.Write(t.Context(), "", []WriteRequest{req, other, req, req}, false)
	want := []bool{false, true, false, true}
	for i, r := range res {
		if r.Success != want[i] {
			t.Errorf("row %d success = %v, want %v", i, r.Success, want[i])
		}
	}
	if e := res[0].Errors[0]; e.StatusCode != "UNABLE_TO_LOCK_ROW" || e.Message != "unable to obtain exclusive access to this record" {
		t.Errorf("fault error = %+v", e)
	}
	o.InjectRowFault(RowFault{Match: func(f map[string]any) bool { return f["LastName"] == "X" }, StatusCode: "UNKNOWN_EXCEPTION", Message: "boom"})
	for range 3 {
		if r := writeOne(t, o, WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X"}}); r.Success {
			t.Error("unlimited fault did not fire")
		}
	}
	o.ClearRowFaults()
	if r := writeOne(t, o, WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X"}}); !r.Success {
		t.Errorf("after ClearRowFaults: %+v", r.Errors)
	}
}

func TestSchema(t *testing.T) {
	t.Parallel()
	s := DefaultSchema()
	var names []string
	for _, ob := range s.Objects() {
		names = append(names, ob.Name)
	}
	if diff := cmp.Diff([]string{"Account", "Attachment", "Case", "Contact", "ContentDocument", "ContentDocumentLink", "ContentVersion", "Lead", "Opportunity", "OpportunityContactRole", "Organization", "Profile", "RecordType", "User"}, names); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	con, _ := s.Object("contact")
	for _, tc := range []struct {
		field                                       string
		typ                                         string
		required, createable, unique, ext, caseSens bool
		length                                      int
	}{
		{"Id", TypeID, false, false, false, false, false, 18},
		{"LastName", TypeString, true, true, false, false, false, 80},
		{"Name", TypeString, false, false, false, false, false, 121},
		{"Email", TypeEmail, false, true, false, false, false, 80},
		{"Description", TypeTextArea, false, true, false, false, false, 32000},
		{"External_Id__c", TypeString, false, true, true, true, true, 255},
		{"AccountId", TypeReference, false, true, false, false, false, 18},
		{"OwnerId", TypeReference, false, true, false, false, false, 18},
		{"CreatedDate", TypeDateTime, false, false, false, false, false, 0},
	} {
		f, ok := con.Field(tc.field)
		if !ok {
			t.Errorf("Contact.%s missing", tc.field)
			continue
		}
		if f.Type != tc.typ || f.Required() != tc.required || f.Createable != tc.createable || f.Unique != tc.unique ||
			f.ExternalID != tc.ext || f.CaseSensitive != tc.caseSens || f.Length != tc.length {
			t.Errorf("Contact.%s = %+v", tc.field, f)
		}
	}
	if f, _ := con.Relationship("account"); f == nil || f.Name != "AccountId" {
		t.Errorf("relationship Account = %v", f)
	}
	acct, _ := s.Object("Account")
	if !cmp.Equal(acct.KeyPrefix, "001") || len(acct.ChildRelationships) == 0 {
		t.Errorf("Account prefix %s, child relationships %v", acct.KeyPrefix, acct.ChildRelationships)
	}
	cs := customSchema(t)
	inv, ok := cs.Object("Invoice__c")
	if !ok || !inv.Custom || inv.KeyPrefix != "a01" {
		t.Fatalf("Invoice__c = %+v", inv)
	}
	if f, _ := inv.Relationship("Parent__r"); f == nil || f.Name != "Parent__c" {
		t.Errorf("default relationship name for Parent__c: %v", f)
	}
	if f, _ := cs.Object("Contact"); f == nil {
		t.Error("Contact lost in merge")
	} else if _, ok := f.Field("Score__c"); !ok {
		t.Error("Contact.Score__c not merged")
	}
}

func TestLoadSchemaFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"badtype.json":    `{"objects":[{"name":"X__c","fields":[{"name":"A__c","type":"blob"}]}]}`,
		"badref.json":     `{"objects":[{"name":"X__c","fields":[{"name":"A__c","type":"reference","referenceTo":"Nope__c"}]}]}`,
		"dupprefix.json":  `{"objects":[{"name":"X__c","keyPrefix":"001","fields":[]}]}`,
		"unknown.json":    `{"objects":[{"name":"X__c","flds":[]}]}`,
		"sysfield.json":   `{"objects":[{"name":"Contact","fields":[{"name":"Id","type":"string"}]}]}`,
		"baddefault.json": `{"objects":[{"name":"X__c","fields":[{"name":"P__c","type":"picklist","values":["A"],"restricted":true,"default":"B"}]}]}`,
		// Two concatenated documents: the second's objects must not be dropped silently.
		"twodocs.json": `{"objects":[{"name":"X__c","fields":[]}]} {"objects":[{"name":"Y__c","fields":[]}]}`,
	} {
		p := filepath.Join(dir, name)
		if err := writeFile(p, body); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSchemaFile(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := LoadSchemaFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestLookupAndWriteKeys(t *testing.T) {
	t.Parallel()
	o, _ := newOrg(t, customSchema(t))
	acct := mustInsert(t, o, "Account", map[string]any{"Name": "Acme", "External_Id__c": "A1"})[0]
	inv := mustInsert(t, o, "Invoice__c",
		map[string]any{"Name": "I1", "Legacy_Key__c": "K", "attributes": map[string]any{"type": "Invoice__c"}},
		map[string]any{"Name": "I2", "Legacy_Key__c": "k", "Account__r.External_Id__c": "A1"})
	for _, tc := range []struct {
		object, field, value string
		want                 []string
		code                 string
	}{
		{"Account", "External_Id__c", "A1", []string{acct}, ""},
		{"Account", "external_id__c", "a1", []string{}, ""},
		{"Account", "Id", acct[:15], []string{acct}, ""},
		{"Invoice__c", "Legacy_Key__c", "K", inv, ""},
		{"User", "Username", strings.ToUpper(DefaultUsername), []string{o.DefaultUserID()}, ""},
		{"Account", "Name", "acme", []string{acct}, ""}, // Name is an idLookup field, not unique: scanned
		{"Account", "Industry", "Banking", nil, CodeNotFound},
		{"Nope", "Id", acct, nil, CodeNotFound},
	} {
		got, err := o.Lookup(t.Context(), tc.object, tc.field, tc.value)
		if tc.code != "" {
			if e, ok := err.(*Error); !ok || e.StatusCode != tc.code {
				t.Errorf("Lookup(%s.%s) error = %v, want %s", tc.object, tc.field, err, tc.code)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) || len(got) > 0 && !cmp.Equal(got, tc.want) {
			t.Errorf("Lookup(%s.%s=%s) = %v, %v; want %v", tc.object, tc.field, tc.value, got, err, tc.want)
		}
	}
	// Indexed equality (the query fast path) finds the same rows as a scan.
	for _, all := range []bool{false, true} {
		r, err := o.Query(t.Context(), "SELECT Id FROM User WHERE Username = '"+strings.ToUpper(DefaultUsername)+"' AND IsActive = true", all)
		if err != nil || r.Len() != 1 || r.Values(0)[0] != o.DefaultUserID() {
			t.Errorf("query by Username (all=%v): %v %v", all, r, err)
		}
	}
	got, _ := o.Get(t.Context(), "Invoice__c", inv[1], []string{"Account__c"})
	if got["Account__c"] != acct {
		t.Errorf("Account__c = %v, want %s", got["Account__c"], acct)
	}
	for key, want := range map[string]bool{
		"LastName": true, "lastname": true, "Account.External_Id__c": true, "account.id": true, "Account.Name": true, "Account.Industry": false,
		"Foo": false, "Owner.Username": true, "Owner:User.Username": true, "Owner:Group.Name": false, "ReportsTo.Email": true, "Account.Parent.Name": false,
	} {
		if got := o.WriteKeyValid("Contact", key); got != want {
			t.Errorf("WriteKeyValid(Contact, %q) = %v, want %v", key, got, want)
		}
	}
}

func TestSeedDeterminism(t *testing.T) {
	t.Parallel()
	ids := func(seed int64) []string {
		o, err := New(Options{Seed: seed, Clock: clock.NewFake(t0)})
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		return append(mustInsert(t, o, "Account", map[string]any{"Name": "A"}), o.ID(), o.DefaultUserID())
	}
	a, b, c := ids(5), ids(5), ids(6)
	if !cmp.Equal(a, b) {
		t.Errorf("same seed, different ids: %v %v", a, b)
	}
	if a[0] == c[0] || a[1] == c[1] {
		t.Errorf("different seeds, same ids: %v %v", a, c)
	}
	if !strings.HasPrefix(a[1], "00D") || !strings.HasPrefix(a[2], "005") {
		t.Errorf("org id %s, user id %s", a[1], a[2])
	}
	if _, err := New(Options{OrgID: "001000000000000"}); err == nil {
		t.Error("non-00D OrgID accepted")
	}
	o, err := New(Options{OrgID: "00D000000000001"})
	if err != nil || o.ID() != To18("00D000000000001") {
		t.Errorf("OrgID = %v, %v", o, err)
	}
}

func TestDataFileWriteFailureRollsBack(t *testing.T) {
	t.Parallel()
	o, err := New(Options{DataFile: filepath.Join(t.TempDir(), "org.db"), Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	before := o.Count("Contact")
	o.store.db.Close() // the next save fails
	res := o.Write(t.Context(), "", []WriteRequest{{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "X"}}}, false)
	if res[0].Success || res[0].Errors[0].StatusCode != "UNKNOWN_EXCEPTION" {
		t.Errorf("result = %+v, want UNKNOWN_EXCEPTION", res[0])
	}
	if n := o.Count("Contact"); n != before {
		t.Errorf("Count = %d, want %d (rolled back)", n, before)
	}
}
