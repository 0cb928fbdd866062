package cli

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestPipeExportPartitions reads one query as three id-range partitions, one of them empty:
// every partition's Arrow schema is the same, fixed from the field list and describe (dates
// as date32, booleans as bool, datetimes as timestamps), and together they hold every record
// once with typed values.
func TestPipeExportPartitions(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	var recs []map[string]any
	for i := range 10 {
		recs = append(recs, map[string]any{"LastName": fmt.Sprintf("Exp%02d", i), "Birthdate": fmt.Sprintf("1990-01-%02d", i+1), "DoNotCall": i%2 == 0})
	}
	ids, err := srv.Insert(t.Context(), "Contact", recs...)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	mid := ids[len(ids)/2]
	const query = "SELECT Id, LastName, Birthdate, DoNotCall, CreatedDate FROM Contact"
	var schemas []*arrow.Schema
	got := map[string]string{}
	for _, rg := range []string{"," + mid, mid + ",", "003ZZZZZZZZZZZZ,"} {
		r := runPipeCmd(t, handshakeLine(t, srv, srv.AccessToken()), "--export", "--handshake", "-q", query, "--id-range", rg)
		if r.code != ExitOK {
			t.Fatalf("range %s: exit %d\n%s", rg, r.code, r.stderr)
		}
		schema, batches := readArrowResults(t, r.out)
		schemas = append(schemas, schema)
		idCol := column(t, schema, batches, "Id")
		names := column(t, schema, batches, "LastName")
		births := column(t, schema, batches, "Birthdate")
		calls := column(t, schema, batches, "DoNotCall")
		for i, id := range idCol {
			if _, dup := got[id]; dup {
				t.Errorf("%s in two partitions", id)
			}
			got[id] = names[i] + " " + births[i] + " " + calls[i]
		}
	}
	want := []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.String, arrow.FixedWidthTypes.Date32,
		arrow.FixedWidthTypes.Boolean, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}}
	for i, s := range schemas {
		if !s.Equal(schemas[0]) {
			t.Errorf("partition %d schema %v differs from %v", i, s, schemas[0])
		}
	}
	for i, f := range schemas[0].Fields() {
		if !arrow.TypeEqual(f.Type, want[i]) {
			t.Errorf("column %s: %s, want %s", f.Name, f.Type, want[i])
		}
	}
	if len(got) != len(ids) {
		t.Fatalf("%d records exported, want %d", len(got), len(ids))
	}
	for _, id := range ids {
		v := got[id]
		f := strings.Fields(v)
		if len(f) != 3 || !strings.HasPrefix(f[0], "Exp") {
			t.Errorf("%s: %q", id, v)
			continue
		}
		n := 0
		fmt.Sscanf(f[0], "Exp%d", &n)
		wantBirth := time.Date(1990, 1, n+1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		if f[1] != wantBirth || f[2] != fmt.Sprint(n%2 == 0) {
			t.Errorf("%s: %q, want birthdate %s and DoNotCall %v", id, v, wantBirth, n%2 == 0)
		}
	}
}

// TestPipeExportResultPages reads a finished Bulk API 2.0 query job page by page, one pipe
// --export --job per page, following the nextLocator of each summary event: every page has the
// fixed schema, and together they hold every record once.
func TestPipeExportResultPages(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	var recs []map[string]any
	for i := range 10 {
		recs = append(recs, map[string]any{"LastName": fmt.Sprintf("Page%02d", i), "DoNotCall": true})
	}
	ids, err := srv.Insert(t.Context(), "Contact", recs...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	const query = "SELECT Id, LastName, DoNotCall FROM Contact"
	job, err := c.Bulk2.CreateQueryJob(t.Context(), salesforce.QueryJobRequest{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	for job.State != salesforce.JobStateJobComplete {
		if job.Terminal() {
			t.Fatalf("query job ended %s", job.State)
		}
		if job, err = c.Bulk2.GetQueryJob(t.Context(), job.ID); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	locator, pages := "", 0
	var first *arrow.Schema
	for {
		args := []string{"--export", "--handshake", "-q", query, "--job", job.ID, "--max-records", "4"}
		if locator != "" {
			args = append(args, "--locator", locator)
		}
		r := runPipeCmd(t, handshakeLine(t, srv, srv.AccessToken()), args...)
		if r.code != ExitOK {
			t.Fatalf("page %d: exit %d\n%s", pages, r.code, r.stderr)
		}
		pages++
		schema, batches := readArrowResults(t, r.out)
		if first == nil {
			first = schema
		} else if !schema.Equal(first) {
			t.Errorf("page %d schema %v, first %v", pages, schema, first)
		}
		calls := column(t, schema, batches, "DoNotCall")
		for i, id := range column(t, schema, batches, "Id") {
			if seen[id] || calls[i] != "true" {
				t.Errorf("page %d: %s (DoNotCall %s) twice or mistyped", pages, id, calls[i])
			}
			seen[id] = true
		}
		next, _ := r.event("summary")["nextLocator"].(string)
		if next == "" {
			break
		}
		locator = next
		if pages > 10 {
			t.Fatal("pages never end")
		}
	}
	if pages != 3 || len(seen) != len(ids) {
		t.Errorf("%d pages, %d records; want 3 pages of 10 records", pages, len(seen))
	}
}

// TestPipeExportPKChunkBatches reads a Bulk API 1.0 query job created with PK chunking one
// batch at a time (pipe --export --job --batch): every batch has the fixed schema and the
// batches together hold every record once.
func TestPipeExportPKChunkBatches(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	var recs []map[string]any
	for i := range 10 {
		recs = append(recs, map[string]any{"LastName": fmt.Sprintf("Chunk%02d", i)})
	}
	ids, err := srv.Insert(t.Context(), "Contact", recs...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	const query = "SELECT Id, LastName FROM Contact"
	job, err := c.Bulk1.CreateJob(t.Context(), salesforce.JobRequest{Object: "Contact", Operation: "query", ContentType: "CSV",
		PKChunking: &salesforce.PKChunking{ChunkSize: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Bulk1.AddQueryBatch(t.Context(), job.ID, "CSV", query); err != nil {
		t.Fatal(err)
	}
	// Wait for the chunk batches (the original batch ends NotProcessed).
	var done []string
	for done == nil {
		batches, err := c.Bulk1.ListBatches(t.Context(), job.ID)
		if err != nil {
			t.Fatal(err)
		}
		all := len(batches) > 1
		for _, b := range batches {
			all = all && b.Terminal()
		}
		for _, b := range batches {
			if all && b.State == salesforce.BatchStateCompleted {
				done = append(done, b.ID)
			}
		}
		if all && done == nil {
			t.Fatalf("no chunk batch completed: %+v", batches)
		}
	}
	if len(done) < 3 {
		t.Fatalf("%d completed chunk batches, want at least 3 for 10 records in chunks of 4", len(done))
	}
	seen := map[string]bool{}
	var first *arrow.Schema
	for _, b := range done {
		r := runPipeCmd(t, handshakeLine(t, srv, srv.AccessToken()), "--export", "--handshake", "-q", query, "--job", job.ID, "--batch", b)
		if r.code != ExitOK {
			t.Fatalf("batch %s: exit %d\n%s", b, r.code, r.stderr)
		}
		schema, recs := readArrowResults(t, r.out)
		if first == nil {
			first = schema
		} else if !schema.Equal(first) {
			t.Errorf("batch %s schema %v, first %v", b, schema, first)
		}
		for _, id := range column(t, schema, recs, "Id") {
			if seen[id] {
				t.Errorf("%s in two batches", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != len(ids) {
		t.Errorf("%d records from the batches, want %d", len(seen), len(ids))
	}
}
