package salesforce

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/salesforcetest"
)

// emulatorTokens logs in to the emulator; after ExpireSessions it hands out a new session.
type emulatorTokens struct{ srv *salesforcetest.Server }

func (e emulatorTokens) Token(context.Context) (*Token, error) {
	return &Token{AccessToken: e.srv.AccessToken(), InstanceURL: e.srv.URL()}, nil
}

func newEmulatorClient(t *testing.T, opts ...salesforcetest.Option) (*Client, *salesforcetest.Server) {
	t.Helper()
	srv := salesforcetest.New(t, opts...)
	c, err := New(srv.URL(), WithHTTPClient(srv.Client()), WithTokenSource(emulatorTokens{srv}), WithRetry(fastRetry()))
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// waitFor polls check with a short timer until it reports done, the context ends, or a minute
// passes.
func waitFor(t *testing.T, what string, check func() (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	delay := time.Millisecond
	for {
		done, err := check()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if done {
			return
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-timer.C:
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

func readCSV(t *testing.T, rc io.ReadCloser, err error) [][]string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	recs, err := csv.NewReader(rc).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestEmulatorBulk2IngestAndQuery(t *testing.T) {
	t.Parallel()
	c, srv := newEmulatorClient(t)
	ctx := t.Context()

	job, err := c.Bulk2.CreateIngestJob(ctx, IngestJobRequest{Object: "Contact", Operation: "insert", ColumnDelimiter: "PIPE"})
	if err != nil {
		t.Fatal(err)
	}
	if job.State != JobStateOpen || job.ColumnDelimiter != "PIPE" {
		t.Fatalf("created job = %+v", job)
	}
	var data strings.Builder
	data.WriteString("FirstName|LastName|Email\n")
	const rows = 25
	for i := range rows {
		last := fmt.Sprintf("Emu%02d", i)
		if i == 7 {
			last = "" // LastName is required: this row fails
		}
		fmt.Fprintf(&data, "F%d|%s|e%d@example.com\n", i, last, i)
	}
	if err := c.Bulk2.UploadJobData(ctx, job.ID, BytesBody([]byte(data.String()))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Bulk2.CloseIngestJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ingest job", func() (bool, error) {
		j, err := c.Bulk2.GetIngestJob(ctx, job.ID)
		if err == nil {
			job = j
		}
		return err == nil && j.Terminal(), err
	})
	if job.State != JobStateJobComplete || job.NumberRecordsProcessed != rows || job.NumberRecordsFailed != 1 {
		t.Fatalf("finished job = %+v", job)
	}
	rc, err := c.Bulk2.SuccessfulResults(ctx, job.ID)
	ok := readCSVDelim(t, rc, err, '|')
	rc, err = c.Bulk2.FailedResults(ctx, job.ID)
	failed := readCSVDelim(t, rc, err, '|')
	if len(ok) != rows || len(failed) != 2 {
		t.Fatalf("%d successful rows, %d failed rows (with headers)", len(ok)-1, len(failed)-1)
	}
	if ok[0][0] != "sf__Id" || failed[0][1] != "sf__Error" {
		t.Errorf("headers %q / %q", ok[0], failed[0])
	}
	if e := ParseResultError(failed[1][1]); e.StatusCode != "REQUIRED_FIELD_MISSING" {
		t.Errorf("failed row error %q parsed as %+v", failed[1][1], e)
	}
	if n := srv.Org().Count("Contact"); n < rows-1 {
		t.Errorf("org has %d contacts", n)
	}

	// Listing finds the job.
	found := false
	for j, err := range c.Bulk2.ListIngestJobs(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || j.ID == job.ID
	}
	if !found {
		t.Errorf("job %s not listed", job.ID)
	}

	q, err := c.Bulk2.CreateQueryJob(ctx, QueryJobRequest{Query: "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Emu%'"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "query job", func() (bool, error) {
		j, err := c.Bulk2.GetQueryJob(ctx, q.ID)
		if err == nil {
			q = j
		}
		return err == nil && j.Terminal(), err
	})
	if q.State != JobStateJobComplete {
		t.Fatalf("query job = %+v", q)
	}
	var got, pages int
	for page, err := range c.Bulk2.IterQueryResults(ctx, q.ID, 10) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		recs := readCSV(t, io.NopCloser(page.Body), nil)
		if page.NumberOfRecords != len(recs)-1 {
			t.Errorf("page says %d records, has %d", page.NumberOfRecords, len(recs)-1)
		}
		got += len(recs) - 1
	}
	if got != rows-1 || pages != 3 {
		t.Errorf("query returned %d rows in %d pages, want %d in 3", got, pages, rows-1)
	}

	if err := c.Bulk2.DeleteIngestJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Bulk2.GetIngestJob(ctx, job.ID); !IsErrorCode(err, "NOT_FOUND") {
		t.Errorf("deleted job: err = %v", err)
	}
}

func readCSVDelim(t *testing.T, rc io.ReadCloser, err error, comma rune) [][]string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	r := csv.NewReader(rc)
	r.Comma = comma
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestEmulatorBulk2AbortAndSessionExpiry(t *testing.T) {
	t.Parallel()
	c, srv := newEmulatorClient(t)
	ctx := t.Context()
	job, err := c.Bulk2.CreateIngestJob(ctx, IngestJobRequest{Object: "Account", Operation: "upsert", ExternalIDFieldName: "Id"})
	if err != nil {
		t.Fatal(err)
	}
	srv.ExpireSessions()
	aborted, err := c.Bulk2.AbortIngestJob(ctx, job.ID)
	if err != nil {
		t.Fatalf("abort after session expiry: %v", err)
	}
	if aborted.State != JobStateAborted {
		t.Errorf("state = %s", aborted.State)
	}
	if _, err := c.Bulk2.CloseIngestJob(ctx, job.ID); err == nil {
		t.Error("closing an aborted job succeeded")
	}
}

func TestEmulatorBulk2Upsert(t *testing.T) {
	t.Parallel()
	c, srv := newEmulatorClient(t)
	ctx := t.Context()
	if _, err := srv.Insert(ctx, "Account", map[string]any{"Name": "Old", "External_Id__c": "X-1"}); err != nil {
		t.Fatal(err)
	}
	job, err := c.Bulk2.CreateIngestJob(ctx, IngestJobRequest{Object: "Account", Operation: "upsert", ExternalIDFieldName: "External_Id__c", LineEnding: "CRLF"})
	if err != nil {
		t.Fatal(err)
	}
	data := "External_Id__c,Name\r\nX-1,Updated\r\nX-2,Created\r\n"
	if err := c.Bulk2.UploadJobData(ctx, job.ID, BytesBody([]byte(data))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Bulk2.CloseIngestJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "upsert job", func() (bool, error) {
		j, err := c.Bulk2.GetIngestJob(ctx, job.ID)
		if err == nil {
			job = j
		}
		return err == nil && j.Terminal(), err
	})
	if job.State != JobStateJobComplete || job.NumberRecordsFailed != 0 {
		t.Fatalf("job = %+v", job)
	}
	rc, err := c.Bulk2.SuccessfulResults(ctx, job.ID)
	recs := readCSV(t, rc, err)
	created := map[string]string{}
	for _, r := range recs[1:] {
		created[r[2]] = r[1]
	}
	if created["X-1"] != "false" || created["X-2"] != "true" {
		t.Errorf("sf__Created by external id = %v", created)
	}
}

func TestEmulatorBulk2MultipartAndResultPages(t *testing.T) {
	t.Parallel()
	c, _ := newEmulatorClient(t)
	ctx := t.Context()
	var data strings.Builder
	data.WriteString("Name,External_Id__c\n")
	for i := range 9 {
		fmt.Fprintf(&data, "MP %d,MP-%d\n", i, i)
	}
	job, err := c.Bulk2.CreateIngestJobWithData(ctx, IngestJobRequest{Object: "Account", Operation: "insert"}, BytesBody([]byte(data.String())))
	if err != nil {
		t.Fatal(err)
	}
	if job.State != JobStateUploadComplete {
		t.Fatalf("multipart job state = %s", job.State)
	}
	waitFor(t, "multipart job", func() (bool, error) {
		j, err := c.Bulk2.GetIngestJob(ctx, job.ID)
		if err == nil {
			job = j
		}
		return err == nil && j.Terminal(), err
	})
	if job.State != JobStateJobComplete || job.NumberRecordsProcessed != 9 || job.NumberRecordsFailed != 0 {
		t.Fatalf("job = %+v", job)
	}

	q, err := c.Bulk2.CreateQueryJob(ctx, QueryJobRequest{Query: "SELECT Id, Name FROM Account WHERE Name LIKE 'MP %'"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "query job", func() (bool, error) {
		j, err := c.Bulk2.GetQueryJob(ctx, q.ID)
		return err == nil && j.Terminal(), err
	})
	pages, err := c.Bulk2.QueryResultPages(ctx, q.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 5 {
		t.Errorf("%d result pages, want 5", len(pages))
	}
	total := 0
	for _, p := range pages {
		res, err := c.Bulk2.QueryResultPage(ctx, p)
		recs := readCSV(t, res.Body, err)
		total += len(recs) - 1
	}
	if total != 9 {
		t.Errorf("%d rows over the pages, want 9", total)
	}
}
