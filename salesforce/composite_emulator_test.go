package salesforce

import (
	"fmt"
	"testing"
)

func TestEmulatorCompositeBatch(t *testing.T) {
	t.Parallel()
	c, srv := newEmulatorClient(t)
	ctx := t.Context()
	ids, err := srv.Insert(ctx, "Account", map[string]any{"Name": "Acme"}, map[string]any{"Name": "Globex"})
	if err != nil {
		t.Fatal(err)
	}

	b := c.Composite.NewBatch(BatchOptions{HaltOnError: true})
	q := b.Query("SELECT Id, Name FROM Account ORDER BY Name")
	created := b.SObjects.Create("Contact", map[string]any{"FirstName": "Jon", "LastName": "Doe"})
	got := b.SObjects.Get("Account", ids[0], "Name")
	upd := b.SObjects.Update("Account", ids[1], map[string]any{"Name": "Globex Corp"})
	var fill []*CreateSubrequest
	for i := range 25 {
		fill = append(fill, b.SObjects.Create("Contact", map[string]any{"LastName": fmt.Sprintf("Fill%d", i)}))
	}
	bad := b.SObjects.Create("Contact", map[string]any{"FirstName": "No last name"}) // subrequest 30: second call
	after := b.SObjects.Create("Contact", map[string]any{"LastName": "Never"})
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	if recs := q.Records(); len(recs) != 2 || recs[0]["Name"] != "Acme" {
		t.Errorf("query records = %v", recs)
	}
	if created.ID() == "" || got.Record()["Name"] != "Acme" || !upd.Success() {
		t.Errorf("create %q (%v), get %v, update %d", created.ID(), created.Err(), got.Record(), upd.StatusCode())
	}
	for i, f := range fill {
		if f.ID() == "" {
			t.Fatalf("fill %d: %v", i, f.Err())
		}
	}
	if !IsErrorCode(bad.Err(), "REQUIRED_FIELD_MISSING") {
		t.Errorf("bad: %v", bad.Err())
	}
	if after.Success() || !IsErrorCode(after.Err(), CodeBatchProcessingHalted) {
		t.Errorf("after: status %d err %v", after.StatusCode(), after.Err())
	}
	if n := srv.Org().Count("Contact"); n != 26 {
		t.Errorf("org has %d contacts, want 26", n)
	}
}

func TestEmulatorComposite(t *testing.T) {
	t.Parallel()
	c, srv := newEmulatorClient(t)
	ctx := t.Context()
	b := c.Composite.NewComposite(CompositeOptions{AllOrNone: true})
	acct := b.Create("refAcct", "Account", map[string]any{"Name": "Composite Co"})
	b.Create("refCont", "Contact", map[string]any{"LastName": "Lovelace", "AccountId": acct.ID()})
	b.Query("refQ", "SELECT Id FROM Contact WHERE AccountId = '"+acct.ID()+"'")
	res, err := b.Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if errs := res.Errs(); len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	q, _ := res.Get("refQ")
	var page struct {
		TotalSize int `json:"totalSize"`
	}
	if err := q.Decode(&page); err != nil || page.TotalSize != 1 {
		t.Errorf("query subresponse: %v %+v", err, page)
	}

	// allOrNone: one failure rolls back the rest.
	before := srv.Org().Count("Account")
	b = c.Composite.NewComposite(CompositeOptions{AllOrNone: true})
	b.Create("a1", "Account", map[string]any{"Name": "Rolled back"})
	b.Create("c1", "Contact", map[string]any{"FirstName": "No last name"})
	res, err = b.Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a1, _ := res.Get("a1")
	if a1.Success() || !IsErrorCode(a1.Err(), CodeProcessingHalted) {
		t.Errorf("a1 = %d %s", a1.HTTPStatusCode, a1.Body)
	}
	if n := srv.Org().Count("Account"); n != before {
		t.Errorf("accounts %d -> %d after rollback", before, n)
	}
}

func TestEmulatorCollections(t *testing.T) {
	t.Parallel()
	c, srv := newEmulatorClient(t)
	ctx := t.Context()
	recs := make([]map[string]any, 450)
	for i := range recs {
		recs[i] = map[string]any{"LastName": fmt.Sprintf("Coll%03d", i)}
		if i%100 == 3 {
			recs[i] = map[string]any{"FirstName": "missing last name"}
		}
	}
	res, err := c.Composite.CreateRecords(ctx, "Contact", recs, CollectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, r := range res {
		if i%100 == 3 {
			if r.Success || len(r.Errors) == 0 || r.Errors[0].StatusCode != "REQUIRED_FIELD_MISSING" {
				t.Fatalf("record %d = %+v", i, r)
			}
			continue
		}
		if !r.Success || r.ID == "" {
			t.Fatalf("record %d = %+v", i, r)
		}
		ids = append(ids, r.ID)
	}
	if n := srv.Org().Count("Contact"); n != len(ids) {
		t.Errorf("org has %d contacts, want %d", n, len(ids))
	}

	got, err := c.Composite.RetrieveRecords(ctx, "Contact", ids, []string{"Id", "LastName"}, CollectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if r == nil || r["Id"] != ids[i] {
			t.Fatalf("retrieved %d = %v, want id %s", i, r, ids[i])
		}
	}

	upd := make([]map[string]any, len(ids))
	for i, id := range ids {
		upd[i] = map[string]any{"Id": id, "Title": "Updated"}
	}
	res, err = c.Composite.UpdateRecords(ctx, "Contact", upd, CollectionOptions{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.Success || r.ID != ids[i] {
			t.Fatalf("update %d = %+v", i, r)
		}
	}

	res, err = c.Composite.DeleteRecords(ctx, ids, CollectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.Success || r.ID != ids[i] {
			t.Fatalf("delete %d = %+v", i, r)
		}
	}
	if n := srv.Org().Count("Contact"); n != 0 {
		t.Errorf("org has %d contacts after delete", n)
	}
}

func TestEmulatorUpserts(t *testing.T) {
	t.Parallel()
	c, srv := newEmulatorClient(t)
	ctx := t.Context()
	if _, err := srv.Insert(ctx, "Account", map[string]any{"Name": "Old", "External_Id__c": "E-0"}); err != nil {
		t.Fatal(err)
	}
	recs := make([]map[string]any, 205)
	for i := range recs {
		recs[i] = map[string]any{"External_Id__c": fmt.Sprintf("E-%d", i), "Name": fmt.Sprintf("Upserted %d", i)}
	}
	res, err := c.Composite.UpsertRecords(ctx, "Account", "External_Id__c", recs, CollectionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.Success || r.ID == "" || r.Created != (i != 0) {
			t.Fatalf("upsert %d = %+v", i, r)
		}
	}
	if n := srv.Org().Count("Account"); n != 205 {
		t.Errorf("org has %d accounts, want 205", n)
	}

	b := c.Composite.NewBatch(BatchOptions{AutoRaise: true})
	existing := b.SObjects.Upsert("Account", "External_Id__c", map[string]any{"External_Id__c": "E-1", "Name": "Again"})
	fresh := b.SObjects.Upsert("Account", "External_Id__c", map[string]any{"External_Id__c": "E-new", "Name": "Fresh"})
	if err := b.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	if existing.ID() != res[1].ID || existing.Created() || fresh.ID() == "" || !fresh.Created() {
		t.Errorf("batch upserts: %q %v / %q %v", existing.ID(), existing.Created(), fresh.ID(), fresh.Created())
	}
}
