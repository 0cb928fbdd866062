package conformance

import (
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
)

// testCompositeBatchStrings: text with the characters Salesforce HTML-entity encodes in
// composite batch results (&, <, >, ", ', \) and text that already looks like an entity
// round-trips through composite batch subrequests exactly, and is stored as sent (checked
// with a plain REST query, which does not encode).
func testCompositeBatchStrings(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	ctx := t.Context()
	values := []string{
		e.Name(0) + ` O'Brien & "Sons" <b> \ x`,
		e.Name(1) + ` &quot; &amp; &#39; &lt;`,
	}
	b := e.Client.Composite.NewBatch(salesforce.BatchOptions{HaltOnError: true})
	var creates []*salesforce.CreateSubrequest
	for _, v := range values {
		creates = append(creates, b.SObjects.Create("Contact", map[string]any{"LastName": v}))
	}
	if err := b.Execute(ctx); err != nil {
		t.Fatalf("creating: %v", err)
	}
	b = e.Client.Composite.NewBatch(salesforce.BatchOptions{HaltOnError: true})
	var gets []*salesforce.GetSubrequest
	for i, c := range creates {
		if c.ID() == "" {
			t.Fatalf("create %d: %v", i, c.Err())
		}
		gets = append(gets, b.SObjects.Get("Contact", c.ID(), "LastName"))
	}
	q := b.Query("SELECT Id, LastName FROM Contact WHERE LastName LIKE " + e.Like() + " ORDER BY LastName")
	if err := b.Execute(ctx); err != nil {
		t.Fatalf("reading: %v", err)
	}
	for i, g := range gets {
		if got := g.Record()["LastName"]; got != values[i] {
			t.Errorf("composite batch get %d: LastName %q, want %q", i, got, values[i])
		}
	}
	recs := q.Records()
	if len(recs) != len(values) {
		t.Fatalf("composite batch query: %d records, want %d", len(recs), len(values))
	}
	for i, r := range recs {
		if r["LastName"] != values[i] {
			t.Errorf("composite batch query record %d: LastName %q, want %q", i, r["LastName"], values[i])
		}
	}
	stored := e.Contacts(t)
	for i, c := range creates {
		if stored[c.ID()] != values[i] {
			t.Errorf("REST query of contact %d: LastName %q, want %q", i, stored[c.ID()], values[i])
		}
	}
}
