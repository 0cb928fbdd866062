package conformance

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
)

// testMatchByQuery: the query a settling load sends to settle an insert whose answer was lost
// by the fields the user names (load.Options.MatchBy): SELECT Id and the fields WHERE the
// first one is IN a list of escaped string literals (a quote, a backslash, double quotes) AND
// CreatedDate >= a date-time literal. A run whose collections insert is recorded in flight
// is settled against the target: a row with two matching records stays unknown, a row with
// one succeeds with its id, a row with none is not processed; nothing is sent.
func testMatchByQuery(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	ctx := t.Context()
	start := time.Now()
	n0, n1, n2 := e.Name(0)+"'q", e.Name(1)+`\b`, e.Name(2)
	title := `R\D "lab"`
	res, err := e.Client.Composite.CreateRecords(ctx, "Contact", []map[string]any{
		{"LastName": n0, "Title": title}, {"LastName": n0, "Title": strings.ToUpper(title)}, {"LastName": n1, "Title": "t2"},
	}, salesforce.CollectionOptions{})
	if err != nil {
		t.Fatalf("CreateRecords: %v", err)
	}
	for i, r := range res {
		if !r.Success {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	store, err := jobstore.Open(ctx, filepath.Join(t.TempDir(), "run.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.CreateRun(ctx, jobstore.Run{ID: "m1", Object: "Contact", Operation: "insert"}); err != nil {
		t.Fatal(err)
	}
	if err := store.RecordJob(ctx, jobstore.JobRecord{RunID: "m1", JobID: "collections-p0-0-m", API: jobstore.APICollections,
		FirstRow: 1, LastRow: 3, State: jobstore.JobUploaded}); err != nil {
		t.Fatal(err)
	}
	header := []string{"LastName", "Title"}
	rows := [][]string{{n0, title}, {n1, "t2"}, {n2, "t3"}}
	got := &collector{}
	opts := load.Options{Object: "Contact", API: load.Collections, Journal: store, RunID: "m1", Resume: true, Settle: true,
		MatchBy: []string{"LastName", "Title"}, MatchSince: start, TempDir: t.TempDir()}
	sum, err := load.New(e.Client).Load(ctx, load.RowsSource(header, func(yield func([]string) bool) {
		for _, r := range rows {
			if !yield(r) {
				return
			}
		}
	}), got, opts)
	if err != nil {
		t.Fatalf("settle: %v", err)
	}
	for _, j := range sum.Jobs {
		if j.Batch != -1 {
			t.Errorf("settling sent a job or call: %+v", j)
		}
	}
	by := map[int64]load.RowResult{}
	for _, r := range got.rows {
		by[r.Row] = r
	}
	if r := by[1]; r.Outcome != load.Unknown || r.Error == nil || !strings.Contains(r.Error.Message, "2 records match") {
		t.Errorf("row 1 (two records): %+v %+v", r, r.Error)
	}
	if r := by[2]; r.Outcome != load.Succeeded || r.ID != res[2].ID {
		t.Errorf("row 2 (one record %s): %+v", res[2].ID, r)
	}
	if r := by[3]; r.Outcome != load.NotProcessed {
		t.Errorf("row 3 (no record): %+v", r)
	}
	// The date-time bound: nothing created in the future.
	q := "SELECT Id, LastName, Title FROM Contact WHERE LastName IN ('" + strings.ReplaceAll(n0, "'", `\'`) + "') AND CreatedDate >= " +
		time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	for rec, err := range e.Client.Query(ctx, q) {
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		t.Errorf("%s returned %s", q, rec.ID())
	}
}
