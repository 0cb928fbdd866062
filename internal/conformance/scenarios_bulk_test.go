package conformance

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
)

// readCSV reads a whole CSV result file (header first) and closes it.
func readCSV(t *testing.T, what string, rc io.ReadCloser, err error) [][]string {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer rc.Close()
	r := csv.NewReader(rc)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: reading CSV: %v", what, err)
	}
	return recs
}

// contactCSV returns a Contact CSV (FirstName, LastName, Email) of rows e.Name(from..from+n-1),
// with LastName left empty at the given offsets (REQUIRED_FIELD_MISSING).
func contactCSV(e *Env, from, n int, missing ...int) []byte {
	var b strings.Builder
	b.WriteString("FirstName,LastName,Email\n")
	for i := range n {
		last := e.Name(from + i)
		if slices.Contains(missing, i) {
			last = ""
		}
		fmt.Fprintf(&b, "F%d,%s,c%d@example.com\n", from+i, last, from+i)
	}
	return []byte(b.String())
}

// testBulk2Ingest: a Bulk API 2.0 insert job with one failing row completes with the right
// counters; successful, failed and unprocessed results account for every row once, with
// their original columns. An aborted job creates nothing.
func testBulk2Ingest(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	ctx := t.Context()
	bulk := e.Client.Bulk2
	const n, bad = 100, 41

	job, err := bulk.CreateIngestJob(ctx, salesforce.IngestJobRequest{Object: "Contact", Operation: "insert"})
	if err != nil {
		t.Fatalf("CreateIngestJob: %v", err)
	}
	t.Cleanup(func() { _ = bulk.DeleteIngestJob(context.Background(), job.ID) })
	if job.State != salesforce.JobStateOpen || job.Object != "Contact" || job.Operation != "insert" {
		t.Fatalf("new job = %+v", job)
	}
	if err := bulk.UploadJobData(ctx, job.ID, salesforce.BytesBody(contactCSV(e, 0, n, bad))); err != nil {
		t.Fatalf("UploadJobData: %v", err)
	}
	// A second upload to the same job is refused.
	if err := bulk.UploadJobData(ctx, job.ID, salesforce.BytesBody(contactCSV(e, n, 1))); err == nil {
		t.Error("second upload to one job succeeded")
	}
	closed, err := bulk.CloseIngestJob(ctx, job.ID)
	if err != nil {
		t.Fatalf("CloseIngestJob: %v", err)
	}
	if closed.State != salesforce.JobStateUploadComplete {
		t.Errorf("closed job state %q", closed.State)
	}
	e.WaitFor(t, "ingest job", func(ctx context.Context) (bool, error) {
		j, err := bulk.GetIngestJob(ctx, job.ID)
		if err == nil {
			job = j
		}
		return err == nil && j.Terminal(), err
	})
	if job.State != salesforce.JobStateJobComplete || job.NumberRecordsProcessed != n || job.NumberRecordsFailed != 1 {
		t.Fatalf("finished job: state %q processed %d failed %d (%s), want JobComplete %d 1",
			job.State, job.NumberRecordsProcessed, job.NumberRecordsFailed, job.ErrorMessage, n)
	}

	rc, err := bulk.SuccessfulResults(ctx, job.ID)
	ok := readCSV(t, "successful results", rc, err)
	rc, err = bulk.FailedResults(ctx, job.ID)
	failed := readCSV(t, "failed results", rc, err)
	rc, err = bulk.UnprocessedRecords(ctx, job.ID)
	unprocessed := readCSV(t, "unprocessed records", rc, err)

	if want := []string{"sf__Id", "sf__Created", "FirstName", "LastName", "Email"}; len(ok) == 0 || !slices.Equal(ok[0], want) {
		t.Fatalf("successful results header %v, want %v", first(ok), want)
	}
	if want := []string{"sf__Id", "sf__Error", "FirstName", "LastName", "Email"}; len(failed) == 0 || !slices.Equal(failed[0], want) {
		t.Fatalf("failed results header %v, want %v", first(failed), want)
	}
	if len(unprocessed) > 1 {
		t.Errorf("%d unprocessed records in a completed job", len(unprocessed)-1)
	}
	if len(ok)-1 != n-1 || len(failed)-1 != 1 {
		t.Fatalf("%d successful + %d failed rows, want %d + 1", len(ok)-1, len(failed)-1, n-1)
	}
	org := e.Contacts(t)
	seen := map[string]bool{}
	for _, row := range ok[1:] {
		id, created, last := row[0], row[1], row[3]
		if created != "true" || org[id] != last || seen[last] {
			t.Errorf("successful row %v: created %q, org has %q (seen before %v)", row, created, org[id], seen[last])
		}
		seen[last] = true
	}
	f := failed[1]
	if e := salesforce.ParseResultError(f[1]); f[0] != "" || e.StatusCode != "REQUIRED_FIELD_MISSING" || !slices.Contains(e.Fields, "LastName") {
		t.Errorf("failed row %v: error parsed as %+v, want REQUIRED_FIELD_MISSING on LastName and no id", f, e)
	}
	if f[2] != fmt.Sprintf("F%d", bad) || f[4] != fmt.Sprintf("c%d@example.com", bad) {
		t.Errorf("failed row %v does not carry the original columns of row %d", f, bad)
	}
	if len(org) != n-1 {
		t.Errorf("org has %d of the scenario's contacts, want %d", len(org), n-1)
	}

	// An aborted job processes nothing; what it holds is unprocessed.
	job2, err := bulk.CreateIngestJob(ctx, salesforce.IngestJobRequest{Object: "Contact", Operation: "insert"})
	if err != nil {
		t.Fatalf("CreateIngestJob: %v", err)
	}
	t.Cleanup(func() { _ = bulk.DeleteIngestJob(context.Background(), job2.ID) })
	if err := bulk.UploadJobData(ctx, job2.ID, salesforce.BytesBody(contactCSV(e, 1000, 10))); err != nil {
		t.Fatalf("UploadJobData: %v", err)
	}
	aborted, err := bulk.AbortIngestJob(ctx, job2.ID)
	if err != nil {
		t.Fatalf("AbortIngestJob: %v", err)
	}
	if aborted.State != salesforce.JobStateAborted {
		t.Errorf("aborted job state %q", aborted.State)
	}
	if _, err := bulk.CloseIngestJob(ctx, job2.ID); err == nil {
		t.Error("closing an aborted job succeeded")
	}
	rc, err = bulk.UnprocessedRecords(ctx, job2.ID)
	unprocessed = readCSV(t, "unprocessed records of the aborted job", rc, err)
	if e.Strict() && len(unprocessed) != 11 {
		t.Errorf("aborted job: %d unprocessed rows, want the 10 uploaded", len(unprocessed)-1)
	}
	for _, row := range unprocessed[min(1, len(unprocessed)):] {
		if len(row) != 3 || !strings.HasPrefix(row[1], e.Prefix) {
			t.Errorf("unprocessed row %v is not an uploaded row", row)
		}
	}
	if got := len(e.Contacts(t)); got != n-1 {
		t.Errorf("after the aborted job the org has %d of the scenario's contacts, want %d", got, n-1)
	}
}

func first(recs [][]string) []string {
	if len(recs) == 0 {
		return nil
	}
	return recs[0]
}

// testBulk2Query: a Bulk API 2.0 query job's results come in pages linked by Sforce-Locator,
// each page counted in Sforce-NumberOfRecords, every row once; resultPages (API 58.0+) lists
// the same pages for parallel download.
func testBulk2Query(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	ctx := t.Context()
	bulk := e.Client.Bulk2
	const n, pageSize = 250, 100
	want := createContacts(t, e, n)

	job, err := bulk.CreateQueryJob(ctx, salesforce.QueryJobRequest{Query: "SELECT Id, LastName, Email FROM Contact WHERE LastName LIKE " + e.Like()})
	if err != nil {
		t.Fatalf("CreateQueryJob: %v", err)
	}
	t.Cleanup(func() { _ = bulk.DeleteQueryJob(context.Background(), job.ID) })
	e.WaitFor(t, "query job", func(ctx context.Context) (bool, error) {
		j, err := bulk.GetQueryJob(ctx, job.ID)
		if err == nil {
			job = j
		}
		return err == nil && j.Terminal(), err
	})
	if job.State != salesforce.JobStateJobComplete || job.NumberRecordsProcessed != n {
		t.Fatalf("query job: state %q processed %d (%s), want JobComplete %d", job.State, job.NumberRecordsProcessed, job.ErrorMessage, n)
	}

	check := func(t *testing.T, pages [][][]string, counts []int) {
		t.Helper()
		seen := map[string]bool{}
		var sizes []int
		for p, recs := range pages {
			if want := []string{"Id", "LastName", "Email"}; len(recs) == 0 || !slices.Equal(recs[0], want) {
				t.Fatalf("page %d header %v, want %v (SELECT order)", p, first(recs), want)
			}
			rows := recs[1:]
			sizes = append(sizes, len(rows))
			if counts[p] != len(rows) {
				t.Errorf("page %d: Sforce-NumberOfRecords %d, %d rows", p, counts[p], len(rows))
			}
			if len(rows) > pageSize {
				t.Errorf("page %d has %d rows, more than maxRecords %d", p, len(rows), pageSize)
			}
			for _, r := range rows {
				if want[r[0]] != r[1] || seen[r[0]] {
					t.Errorf("row %v: created as %q, seen before %v", r, want[r[0]], seen[r[0]])
				}
				seen[r[0]] = true
			}
		}
		if len(seen) != n {
			t.Errorf("%d distinct rows, want %d", len(seen), n)
		}
		if len(sizes) < 3 || (e.Strict() && fmt.Sprint(sizes) != "[100 100 50]") {
			t.Errorf("page sizes %v, want 3 pages of at most %d (emulator: [100 100 50])", sizes, pageSize)
		}
	}

	t.Run("locator", func(t *testing.T) {
		var pages [][][]string
		var counts []int
		locator := ""
		for {
			page, err := bulk.QueryResults(ctx, job.ID, locator, pageSize)
			if err != nil {
				t.Fatalf("QueryResults page %d: %v", len(pages), err)
			}
			recs := readCSV(t, fmt.Sprintf("page %d", len(pages)), page.Body, nil)
			pages = append(pages, recs)
			counts = append(counts, page.NumberOfRecords)
			if page.Locator == "" {
				break
			}
			if len(pages) > n {
				t.Fatal("locators do not end")
			}
			locator = page.Locator
		}
		check(t, pages, counts)
	})

	t.Run("result pages", func(t *testing.T) {
		list, err := bulk.QueryResultPages(ctx, job.ID, pageSize)
		if err != nil {
			t.Fatalf("QueryResultPages: %v", err)
		}
		var pages [][][]string
		var counts []int
		// Fetch in reverse: pages are independent of each other.
		for i := len(list) - 1; i >= 0; i-- {
			page, err := bulk.QueryResultPage(ctx, list[i])
			if err != nil {
				t.Fatalf("QueryResultPage %d: %v", i, err)
			}
			pages = append(pages, readCSV(t, fmt.Sprintf("result page %d", i), page.Body, nil))
			counts = append(counts, page.NumberOfRecords)
		}
		slices.Reverse(pages)
		slices.Reverse(counts)
		check(t, pages, counts)
	})
}

// testBulk1InsertQuery: a Bulk API 1.0 CSV insert job of two batches gives one result per
// row in batch input order; a query job with PK chunking sets the original batch
// NotProcessed and returns every row once across the chunk batches.
func testBulk1InsertQuery(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	ctx := t.Context()
	bulk := e.Client.Bulk1
	const perBatch, bad = 60, 13 // row 13 of the second batch has no LastName

	job, err := bulk.CreateJob(ctx, salesforce.JobRequest{Object: "Contact", Operation: "insert", ContentType: "CSV"})
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	t.Cleanup(func() { _, _ = bulk.CloseJob(context.Background(), job.ID) })
	var batches []*salesforce.Batch
	for b := range 2 {
		var missing []int
		if b == 1 {
			missing = []int{bad}
		}
		batch, err := bulk.AddBatch(ctx, job.ID, "CSV", salesforce.BytesBody(contactCSV(e, b*perBatch, perBatch, missing...)))
		if err != nil {
			t.Fatalf("AddBatch %d: %v", b, err)
		}
		batches = append(batches, batch)
	}
	if _, err := bulk.CloseJob(ctx, job.ID); err != nil {
		t.Fatalf("CloseJob: %v", err)
	}
	e.WaitFor(t, "insert job", func(ctx context.Context) (bool, error) {
		j, err := bulk.GetJob(ctx, job.ID)
		if err == nil {
			job = j
		}
		return err == nil && j.Done(), err
	})
	if job.State != salesforce.JobStateClosed || job.NumberBatchesCompleted != 2 || job.NumberRecordsProcessed != 2*perBatch || job.NumberRecordsFailed != 1 {
		t.Errorf("finished job: state %q batches completed %d, records processed %d failed %d",
			job.State, job.NumberBatchesCompleted, job.NumberRecordsProcessed, job.NumberRecordsFailed)
	}

	org := e.Contacts(t)
	for b, batch := range batches {
		info, err := bulk.GetBatch(ctx, job.ID, batch.ID)
		if err != nil || info.State != salesforce.BatchStateCompleted || info.NumberRecordsProcessed != perBatch {
			t.Errorf("batch %d: %v %+v", b, err, info)
		}
		rc, err := bulk.BatchResults(ctx, job.ID, batch.ID)
		if err != nil {
			t.Fatalf("BatchResults %d: %v", b, err)
		}
		var results []salesforce.SaveResult
		for r, err := range salesforce.ReadBatchResults(rc, "CSV") {
			if err != nil {
				t.Fatalf("batch %d results: %v", b, err)
			}
			results = append(results, r)
		}
		rc.Close()
		if len(results) != perBatch {
			t.Fatalf("batch %d: %d results for %d rows", b, len(results), perBatch)
		}
		for i, r := range results {
			if b == 1 && i == bad {
				if r.Success || len(r.Errors) == 0 || r.Errors[0].StatusCode != "REQUIRED_FIELD_MISSING" {
					t.Errorf("batch %d row %d = %+v, want REQUIRED_FIELD_MISSING", b, i, r)
				}
				continue
			}
			// Result i belongs to input row i: the record with its id has row i's name.
			if want := e.Name(b*perBatch + i); !r.Success || !r.Created || org[r.ID] != want {
				t.Fatalf("batch %d row %d = %+v: org has %q under that id, want %q", b, i, r, org[r.ID], want)
			}
		}
	}
	if len(org) != 2*perBatch-1 {
		t.Errorf("org has %d of the scenario's contacts, want %d", len(org), 2*perBatch-1)
	}

	// Query with PK chunking. On the emulator, chunks of 50 ids make the scenario's 119
	// rows span at least three chunk batches whatever else the org holds.
	chunk := &salesforce.PKChunking{}
	if e.Strict() {
		chunk.ChunkSize = 50
	}
	qjob, err := bulk.CreateJob(ctx, salesforce.JobRequest{Object: "Contact", Operation: "query", ContentType: "CSV", PKChunking: chunk})
	if err != nil {
		t.Fatalf("CreateJob (query): %v", err)
	}
	t.Cleanup(func() { _, _ = bulk.CloseJob(context.Background(), qjob.ID) })
	orig, err := bulk.AddQueryBatch(ctx, qjob.ID, "CSV", "SELECT Id, LastName FROM Contact WHERE LastName LIKE "+e.Like())
	if err != nil {
		t.Fatalf("AddQueryBatch: %v", err)
	}
	var list []*salesforce.Batch
	e.WaitFor(t, "PK-chunked query", func(ctx context.Context) (bool, error) {
		l, err := bulk.ListBatches(ctx, qjob.ID)
		if err != nil {
			return false, err
		}
		list = l
		if len(l) < 2 {
			return false, nil
		}
		for _, b := range l {
			if !b.Terminal() {
				return false, nil
			}
		}
		return true, nil
	})
	seen := map[string]int{}
	withRows := 0
	for _, b := range list {
		if b.ID == orig.ID {
			if b.State != salesforce.BatchStateNotProcessed {
				t.Errorf("original batch state %q, want %s", b.State, salesforce.BatchStateNotProcessed)
			}
			continue
		}
		if b.State != salesforce.BatchStateCompleted {
			t.Errorf("chunk batch %s: %s %s", b.ID, b.State, b.StateMessage)
			continue
		}
		ids, err := bulk.QueryResultList(ctx, qjob.ID, b.ID)
		if err != nil {
			t.Fatalf("QueryResultList: %v", err)
		}
		rows := 0
		for _, rid := range ids {
			rc, err := bulk.QueryResult(ctx, qjob.ID, b.ID, rid)
			recs := readCSV(t, "query result", rc, err)
			if len(recs) == 0 || !slices.Equal(recs[0], []string{"Id", "LastName"}) {
				if len(recs) <= 1 { // an empty chunk may say "Records not found for this query"
					continue
				}
				t.Fatalf("query result header %v", recs[0])
			}
			for _, r := range recs[1:] {
				seen[r[0]]++
				rows++
				if org[r[0]] != r[1] {
					t.Errorf("query row %v: org has %q", r, org[r[0]])
				}
			}
		}
		if rows > 0 {
			withRows++
		}
	}
	if len(seen) != len(org) {
		t.Errorf("PK-chunked query returned %d distinct rows, want %d", len(seen), len(org))
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("row %s returned %d times", id, k)
		}
	}
	if e.Strict() && withRows < 3 {
		t.Errorf("the rows came from %d chunk batches, want at least 3 with chunks of 50", withRows)
	}
}

// testLostAnswerLookups: what the load engine reads to resolve a request whose answer was lost.
// A Bulk API 1.0 batch's request is the data uploaded (a lost batch add is found by content);
// an Open job of either Bulk API (Bulk 1.0 as Classic) is listed with its type, object,
// operation and a createdDate in Salesforce's layout (a lost job create is found among them).
func testLostAnswerLookups(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	ctx := t.Context()
	job, err := e.Client.Bulk1.CreateJob(ctx, salesforce.JobRequest{Object: "Contact", Operation: "insert", ContentType: "CSV"})
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	t.Cleanup(func() { _, _ = e.Client.Bulk1.AbortJob(context.Background(), job.ID) })
	data := contactCSV(e, 0, 3)
	batch, err := e.Client.Bulk1.AddBatch(ctx, job.ID, "CSV", salesforce.BytesBody(data))
	if err != nil {
		t.Fatalf("AddBatch: %v", err)
	}
	rc, err := e.Client.Bulk1.BatchRequest(ctx, job.ID, batch.ID)
	if err != nil {
		t.Fatalf("BatchRequest: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	norm := func(b []byte) string { return strings.TrimRight(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") }
	if err != nil || norm(got) != norm(data) {
		t.Errorf("batch request = %q (%v), want the uploaded %q", got, err, data)
	}

	ingest, err := e.Client.Bulk2.CreateIngestJob(ctx, salesforce.IngestJobRequest{Object: "Contact", Operation: "insert"})
	if err != nil {
		t.Fatalf("CreateIngestJob: %v", err)
	}
	t.Cleanup(func() { _, _ = e.Client.Bulk2.AbortIngestJob(context.Background(), ingest.ID) })
	// Both jobs are listed, the Bulk API 1.0 one as Classic: a resume finds the Open jobs of
	// either API that a killed run created but never recorded this way.
	want := map[string]string{ingest.ID: "V2Ingest", job.ID: "Classic"}
	found := map[string]bool{}
	for j, err := range e.Client.Bulk2.ListIngestJobs(ctx) {
		if err != nil {
			t.Fatalf("ListIngestJobs: %v", err)
		}
		typ, ok := want[j.ID]
		if !ok {
			continue
		}
		found[j.ID] = true
		if _, perr := time.Parse("2006-01-02T15:04:05.000-0700", j.CreatedDate); perr != nil || j.State != salesforce.JobStateOpen ||
			j.JobType != typ || j.Object != "Contact" || j.Operation != "insert" {
			t.Errorf("listed job = %+v (createdDate: %v), want an Open %s insert of Contact", j, perr, typ)
		}
	}
	for id, typ := range want {
		if !found[id] {
			t.Errorf("the new Open %s job %s is not listed", typ, id)
		}
	}
}
