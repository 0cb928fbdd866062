package conformance

import (
	"context"
	"slices"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
)

// testBulk2JobProgress closes two Bulk API 2.0 ingest jobs back to back and follows both to
// the end: a closed job only moves forward (UploadComplete, InProgress, JobComplete, any of
// them possibly unseen), has processed nothing while it is UploadComplete (queued, not
// started), and ends with every record processed.
func testBulk2JobProgress(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	ctx := t.Context()
	bulk := e.Client.Bulk2
	sizes := []int{20, 5}
	ids := make([]string, len(sizes))
	from := 0
	for i, n := range sizes {
		job, err := bulk.CreateIngestJob(ctx, salesforce.IngestJobRequest{Object: "Contact", Operation: "insert"})
		if err != nil {
			t.Fatalf("CreateIngestJob: %v", err)
		}
		ids[i] = job.ID
		t.Cleanup(func() { _ = bulk.DeleteIngestJob(context.Background(), job.ID) })
		if err := bulk.UploadJobData(ctx, job.ID, salesforce.BytesBody(contactCSV(e, from, n))); err != nil {
			t.Fatalf("UploadJobData: %v", err)
		}
		from += n
	}
	order := []string{salesforce.JobStateUploadComplete, salesforce.JobStateInProgress, salesforce.JobStateJobComplete}
	last := make([]int, len(ids))
	for i, id := range ids {
		closed, err := bulk.CloseIngestJob(ctx, id)
		if err != nil {
			t.Fatalf("CloseIngestJob: %v", err)
		}
		if closed.State != salesforce.JobStateUploadComplete {
			t.Errorf("job %d: closed job state %q", i, closed.State)
		}
	}
	finished := make([]*salesforce.IngestJob, len(ids))
	e.WaitFor(t, "ingest jobs", func(ctx context.Context) (bool, error) {
		done := true
		for i, id := range ids {
			if finished[i] != nil {
				continue
			}
			j, err := bulk.GetIngestJob(ctx, id)
			if err != nil {
				return false, err
			}
			k := slices.Index(order, j.State)
			switch {
			case k < 0 && !j.Terminal():
				t.Errorf("job %d: state %q after it was closed", i, j.State)
			case k >= 0 && k < last[i]:
				t.Errorf("job %d: back to %s after %s", i, j.State, order[last[i]])
			case k >= 0:
				last[i] = k
			}
			if j.State == salesforce.JobStateUploadComplete && j.NumberRecordsProcessed != 0 {
				t.Errorf("job %d: %d records processed while UploadComplete", i, j.NumberRecordsProcessed)
			}
			if j.Terminal() {
				finished[i] = j
			} else {
				done = false
			}
		}
		return done, nil
	})
	for i, j := range finished {
		if j.State != salesforce.JobStateJobComplete || j.NumberRecordsProcessed != int64(sizes[i]) {
			t.Errorf("job %d: state %q processed %d (%s), want JobComplete %d", i, j.State, j.NumberRecordsProcessed, j.ErrorMessage, sizes[i])
		}
	}
}
