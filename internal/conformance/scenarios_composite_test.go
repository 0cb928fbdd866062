package conformance

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
)

// testCompositeBatch: a composite batch of more than 25 subrequests runs as several calls in
// order; with haltOnError a failure skips the rest of its call and every later call.
func testCompositeBatch(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	ctx := t.Context()

	t.Run("all succeed", func(t *testing.T) {
		b := e.Client.Composite.NewBatch(salesforce.BatchOptions{HaltOnError: true})
		var creates []*salesforce.CreateSubrequest
		for i := range 30 {
			creates = append(creates, b.SObjects.Create("Contact", map[string]any{"LastName": e.Name(i)}))
		}
		q := b.Query("SELECT Id, LastName FROM Contact WHERE LastName LIKE " + e.Like() + " ORDER BY LastName")
		get := b.SObjects.Get("Contact", "003000000000000AAA", "LastName") // well-formed id, no record
		if b.Len() != 32 {
			t.Fatalf("batch has %d subrequests", b.Len())
		}
		// get fails, but it is last: nothing is halted.
		if err := b.Execute(ctx); err != nil {
			t.Fatalf("Execute: %v", err)
		}
		ids := map[string]bool{}
		for i, c := range creates {
			if !c.Done() || !c.Success() || c.StatusCode() != 201 || c.ID() == "" {
				t.Fatalf("create %d: done %v status %d id %q err %v", i, c.Done(), c.StatusCode(), c.ID(), c.Err())
			}
			ids[c.ID()] = true
		}
		// The query runs in the second call, after every create of both calls.
		if q.TotalSize() != 30 || len(q.Records()) != 30 {
			t.Errorf("query in the second call: totalSize %d, %d records, want 30", q.TotalSize(), len(q.Records()))
		}
		for i, r := range q.Records() {
			if r["LastName"] != e.Name(i) || !ids[fmt.Sprint(r["Id"])] {
				t.Errorf("query record %d = %v", i, r)
			}
		}
		if get.Success() || get.StatusCode() != 404 || !salesforce.IsErrorCode(get.Err(), "NOT_FOUND") {
			t.Errorf("get of a missing record: status %d err %v, want 404 NOT_FOUND", get.StatusCode(), get.Err())
		}
	})

	t.Run("halt on error", func(t *testing.T) {
		b := e.Client.Composite.NewBatch(salesforce.BatchOptions{HaltOnError: true})
		var subs []*salesforce.CreateSubrequest
		for i := range 40 {
			fields := map[string]any{"LastName": e.Name(100 + i)}
			if i == 27 { // in the second call: LastName is required
				fields = map[string]any{"FirstName": e.Name(100 + i)}
			}
			subs = append(subs, b.SObjects.Create("Contact", fields))
		}
		if err := b.Execute(ctx); err != nil {
			t.Fatalf("Execute: %v", err)
		}
		for i, s := range subs {
			switch {
			case i < 27:
				if !s.Success() || s.ID() == "" {
					t.Errorf("subrequest %d: status %d err %v, want created", i, s.StatusCode(), s.Err())
				}
			case i == 27:
				if !s.Done() || s.StatusCode() != 400 || !salesforce.IsErrorCode(s.Err(), "REQUIRED_FIELD_MISSING") {
					t.Errorf("subrequest %d: status %d err %v, want 400 REQUIRED_FIELD_MISSING", i, s.StatusCode(), s.Err())
				}
			default: // halted by Salesforce (rest of call 2) or never sent (call 3)
				if s.Success() || s.StatusCode() != 412 || !salesforce.IsErrorCode(s.Err(), salesforce.CodeBatchProcessingHalted) {
					t.Errorf("subrequest %d: status %d err %v, want 412 %s", i, s.StatusCode(), s.Err(), salesforce.CodeBatchProcessingHalted)
				}
				if want := i < 50; s.Done() != want {
					t.Errorf("subrequest %d: Done %v, want %v", i, s.Done(), want)
				}
			}
		}
		got := e.Contacts(t)
		created := 0
		for _, name := range got {
			if name >= e.Name(100) {
				created++
			}
		}
		if created != 27 {
			t.Errorf("%d contacts created by the halted batch, want 27", created)
		}
	})

	t.Run("auto raise", func(t *testing.T) {
		b := e.Client.Composite.NewBatch(salesforce.BatchOptions{AutoRaise: true, GroupErrors: true})
		b.SObjects.Create("Contact", map[string]any{"FirstName": "no last name"})
		ok := b.SObjects.Create("Contact", map[string]any{"LastName": e.Name(200)})
		b.SObjects.Update("Contact", "003000000000000AAA", map[string]any{"LastName": e.Name(201)})
		err := b.Execute(ctx)
		if !hasCode(err, "REQUIRED_FIELD_MISSING") || !hasCode(err, "NOT_FOUND") {
			t.Errorf("Execute with AutoRaise and GroupErrors: %v, want REQUIRED_FIELD_MISSING and NOT_FOUND", err)
		}
		if !ok.Success() {
			t.Errorf("independent create without haltOnError: %v", ok.Err())
		}
	})
}

// testCompositeAllOrNone: /composite resolves @{ref.field} references between subrequests,
// and with allOrNone one failure rolls back every earlier write.
func testCompositeAllOrNone(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	e.CleanupAccounts(t)
	ctx := t.Context()

	b := e.Client.Composite.NewComposite(salesforce.CompositeOptions{AllOrNone: true})
	acct := b.Create("acct", "Account", map[string]any{"Name": e.Name(1)})
	contact := b.Create("cont", "Contact", map[string]any{"LastName": e.Name(2), "AccountId": acct.ID()})
	b.Get("got", "Contact", contact.ID(), "LastName", "AccountId")
	b.Query("q", "SELECT Id, Account.Name FROM Contact WHERE AccountId = '"+acct.ID()+"'")
	res, err := b.Execute(ctx)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if errs := res.Errs(); len(errs) != 0 {
		t.Fatalf("subrequest errors: %v", errs)
	}
	var created struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	a, _ := res.Get("acct")
	if err := a.Decode(&created); err != nil || !created.Success || created.ID == "" || a.HTTPStatusCode != 201 {
		t.Fatalf("account subresponse: %v %+v status %d", err, created, a.HTTPStatusCode)
	}
	acctID := created.ID
	cont, _ := res.Get("cont")
	if err := cont.Decode(&created); err != nil || !created.Success || created.ID == "" {
		t.Fatalf("contact subresponse: %v %+v", err, created)
	}
	contactID := created.ID
	got, _ := res.Get("got")
	var rec map[string]any
	if err := got.Decode(&rec); err != nil || rec["AccountId"] != acctID || rec["LastName"] != e.Name(2) {
		t.Errorf("get through references: %v %v, want AccountId %s", err, rec, acctID)
	}
	q, _ := res.Get("q")
	var page struct {
		TotalSize int `json:"totalSize"`
		Records   []struct {
			Account struct {
				Name string `json:"Name"`
			} `json:"Account"`
		} `json:"records"`
	}
	if err := q.Decode(&page); err != nil || page.TotalSize != 1 || len(page.Records) != 1 || page.Records[0].Account.Name != e.Name(1) {
		t.Errorf("query through a reference: %v %+v", err, page)
	}

	// allOrNone: the third subrequest fails, so the account and contact before it are
	// rolled back and report PROCESSING_HALTED.
	b = e.Client.Composite.NewComposite(salesforce.CompositeOptions{AllOrNone: true})
	acct = b.Create("acct2", "Account", map[string]any{"Name": e.Name(3)})
	b.Create("cont2", "Contact", map[string]any{"LastName": e.Name(4), "AccountId": acct.ID()})
	b.Create("bad", "Contact", map[string]any{"FirstName": e.Name(5), "AccountId": acct.ID()})
	res, err = b.Execute(ctx)
	if err != nil {
		t.Fatalf("Execute (allOrNone): %v", err)
	}
	if len(res.Subresponses) != 3 {
		t.Fatalf("%d subresponses, want 3", len(res.Subresponses))
	}
	bad, _ := res.Get("bad")
	if bad.Success() || !salesforce.IsErrorCode(bad.Err(), "REQUIRED_FIELD_MISSING") {
		t.Errorf("bad: status %d err %v, want REQUIRED_FIELD_MISSING", bad.HTTPStatusCode, bad.Err())
	}
	for _, ref := range []string{"acct2", "cont2"} {
		s, _ := res.Get(ref)
		if s.Success() || !salesforce.IsErrorCode(s.Err(), salesforce.CodeProcessingHalted) {
			t.Errorf("%s: status %d err %v, want %s", ref, s.HTTPStatusCode, s.Err(), salesforce.CodeProcessingHalted)
		}
	}
	accts, err := e.IDs(ctx, "SELECT Id FROM Account WHERE Name LIKE "+e.Like())
	if err != nil || len(accts) != 1 || accts[0] != acctID {
		t.Errorf("accounts after rollback: %v %v, want only %s", accts, err, acctID)
	}
	contacts := e.Contacts(t)
	if len(contacts) != 1 || contacts[contactID] != e.Name(2) {
		t.Errorf("contacts after rollback: %v, want only %s", contacts, e.Name(2))
	}
}

// testCollectionsCreate: 450 records with two bad ones through sObject Collections: three
// calls, one SaveResult per record in input order, the bad ones failing with their codes
// and the rest created.
func testCollectionsCreate(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	ctx := t.Context()
	const n = 450
	const missing, tooLong = 17, 333
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"LastName": e.Name(i), "Email": fmt.Sprintf("coll%d@example.com", i)}
	}
	recs[missing] = map[string]any{"FirstName": e.Name(missing)}
	recs[tooLong]["LastName"] = e.Name(tooLong) + strings.Repeat("x", 80) // LastName holds 80
	res, err := e.Client.Composite.CreateRecords(ctx, "Contact", recs, salesforce.CollectionOptions{})
	if err != nil {
		t.Fatalf("CreateRecords: %v", err)
	}
	if len(res) != n {
		t.Fatalf("%d results for %d records", len(res), n)
	}
	byID := map[string]int{}
	for i, r := range res {
		switch i {
		case missing, tooLong:
			want := map[int]string{missing: "REQUIRED_FIELD_MISSING", tooLong: "STRING_TOO_LONG"}[i]
			if r.Success || r.ID != "" || len(r.Errors) == 0 || r.Errors[0].StatusCode != want {
				t.Errorf("record %d = %+v, want failure %s", i, r, want)
			}
			if len(r.Errors) > 0 && (len(r.Errors[0].Fields) != 1 || r.Errors[0].Fields[0] != "LastName") {
				t.Errorf("record %d error fields %v, want [LastName]", i, r.Errors[0].Fields)
			}
		default:
			if !r.Success || r.ID == "" || !r.Created || len(r.Errors) != 0 {
				t.Fatalf("record %d = %+v, want created", i, r)
			}
			if _, dup := byID[r.ID]; dup {
				t.Fatalf("id %s returned twice", r.ID)
			}
			byID[r.ID] = i
		}
	}
	// Order kept: the record at each result position is the one sent at that position.
	got := e.Contacts(t)
	if len(got) != n-2 {
		t.Errorf("org has %d of the scenario's contacts, want %d", len(got), n-2)
	}
	for id, name := range got {
		i, ok := byID[id]
		if !ok || name != e.Name(i) {
			t.Fatalf("contact %s is %q, result position %d (known %v)", id, name, i, ok)
		}
	}

	// Partial failures on update and delete keep positions too.
	var ids []string
	for id := range byID {
		ids = append(ids, id)
	}
	ids = append(ids[:5], "003000000000000AAA")
	del, err := e.Client.Composite.DeleteRecords(ctx, ids, salesforce.CollectionOptions{})
	if err != nil {
		t.Fatalf("DeleteRecords: %v", err)
	}
	for i, r := range del {
		if i < 5 && (!r.Success || r.ID != ids[i]) {
			t.Errorf("delete %d = %+v", i, r)
		}
		if i == 5 && (r.Success || len(r.Errors) == 0) {
			t.Errorf("delete of a missing id = %+v, want a failure", r)
		}
	}
}

// hasCode reports whether err, or any error it wraps or joins, is an *APIError with code.
// (salesforce.IsErrorCode looks at the first *APIError only.)
func hasCode(err error, code string) bool {
	if ae, ok := err.(*salesforce.APIError); ok && ae.ErrorCode == code {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if hasCode(e, code) {
				return true
			}
		}
	case interface{ Unwrap() error }:
		return hasCode(u.Unwrap(), code)
	}
	return false
}
