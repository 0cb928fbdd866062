package conformance

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
)

// testBulk2UploadFraming: a Bulk API 2.0 upload is accepted whether it is sent with a
// Content-Length (how sfbatch sends a chunk file or bytes) or chunked (a body of unknown
// length, how a streaming client sends it), and every row of either is processed.
func testBulk2UploadFraming(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	ctx := t.Context()
	bulk := e.Client.Bulk2
	const n = 20
	framings := []struct {
		name string
		body func(data []byte) salesforce.Body
	}{
		{"content-length", salesforce.BytesBody},
		{"chunked", func(data []byte) salesforce.Body {
			// io.NopCloser hides the reader's length: net/http sends it chunked.
			return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		}},
	}
	for k, f := range framings {
		job, err := bulk.CreateIngestJob(ctx, salesforce.IngestJobRequest{Object: "Contact", Operation: "insert"})
		if err != nil {
			t.Fatalf("%s: CreateIngestJob: %v", f.name, err)
		}
		t.Cleanup(func() { _ = bulk.DeleteIngestJob(context.Background(), job.ID) })
		if err := bulk.UploadJobData(ctx, job.ID, f.body(contactCSV(e, k*n, n))); err != nil {
			t.Fatalf("%s: UploadJobData: %v", f.name, err)
		}
		if _, err := bulk.CloseIngestJob(ctx, job.ID); err != nil {
			t.Fatalf("%s: CloseIngestJob: %v", f.name, err)
		}
		e.WaitFor(t, "ingest job", func(ctx context.Context) (bool, error) {
			j, err := bulk.GetIngestJob(ctx, job.ID)
			if err == nil {
				job = j
			}
			return err == nil && j.Terminal(), err
		})
		if job.State != salesforce.JobStateJobComplete || job.NumberRecordsProcessed != n || job.NumberRecordsFailed != 0 {
			t.Errorf("%s: job %s processed %d failed %d (%s), want JobComplete %d 0",
				f.name, job.State, job.NumberRecordsProcessed, job.NumberRecordsFailed, job.ErrorMessage, n)
		}
	}
	if got := len(e.Contacts(t)); got != 2*n {
		t.Errorf("%d Contacts in the org, want %d", got, 2*n)
	}
}
