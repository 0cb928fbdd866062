package bulk

import (
	"testing"
	"time"
)

// TestSplitTakesNoSlot: a closed Bulk API 2.0 job is cut into its batches at once, even when
// every worker is busy, and the batches queue in the order the jobs were closed; each job
// stays UploadComplete until a worker takes up its first batch.
func TestSplitTakesNoSlot(t *testing.T) {
	t.Parallel()
	w := newWalkEnv(t)
	w.occupyWorker()
	first := w.ingestWithData("LastName\nFirst1\nFirst2\n")
	second := w.ingestWithData("LastName\nSecond\n")
	wantStatus(t, w.patch(kindV2Ingest, first, stateUploadComplete), 200)
	wantStatus(t, w.patch(kindV2Ingest, second, stateUploadComplete), 200)

	// Both jobs' batches queue while the only worker is still busy.
	deadline := time.Now().Add(10 * time.Second)
	var queued []string
	for {
		w.svc.mu.Lock()
		queued = queued[:0]
		for _, p := range w.svc.pending {
			if p.batch != nil {
				queued = append(queued, p.job.id)
			}
		}
		w.svc.mu.Unlock()
		if len(queued) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if len(queued) != 2 || queued[0] != first || queued[1] != second {
		t.Fatalf("queued batches of jobs %v, want [%s %s]", queued, first, second)
	}
	for _, id := range []string{first, second} {
		if got := w.state(kindV2Ingest, id); got != stateUploadComplete {
			t.Errorf("job %s is %s while queued, want %s", id, got, stateUploadComplete)
		}
	}

	w.fc.Advance(walkLatency) // the blocker's batch ends; the first job's batch starts
	waitForWaiters(t, w.fc, 1)
	if got := w.state(kindV2Ingest, first); got != stateInProgress {
		t.Errorf("first job is %s once its batch started, want %s", got, stateInProgress)
	}
	if got := w.state(kindV2Ingest, second); got != stateUploadComplete {
		t.Errorf("second job is %s behind the first, want %s", got, stateUploadComplete)
	}
	w.finish()
	for _, id := range []string{first, second} {
		if got := w.state(kindV2Ingest, id); got != stateJobComplete {
			t.Errorf("job %s is %s, want %s", id, got, stateJobComplete)
		}
	}
}
