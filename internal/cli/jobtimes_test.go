package cli

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
)

// TestRecordJobTimesFromPolls: processing times the engine read in its final polls become
// job_info events without a request (the client is nil: a request would be skipped, and the
// Bulk API 2.0 job without times would then have no event), in the order of the jobs, one per
// finished Bulk API 1.0 batch.
func TestRecordJobTimesFromPolls(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ev, err := openEventLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	times := func(ms int64) *load.ProcessingTimes {
		return &load.ProcessingTimes{TotalMS: ms, APIActiveMS: ms / 2, ApexMS: 1, RecordsProcessed: 10, RecordsFailed: 1}
	}
	sum := &load.Summary{Jobs: []load.JobInfo{
		{API: load.Bulk2, JobID: "750A", State: salesforce.JobStateJobComplete, Times: times(100)},
		{API: load.Bulk2, JobID: "750B", State: salesforce.JobStateJobComplete}, // collected on resume: needs a lookup
		{API: load.Bulk2, JobID: "750C", State: salesforce.JobStateAborted, Times: times(5)},
		{API: load.Bulk1, JobID: "750D", BatchID: "751A", State: salesforce.BatchStateCompleted, Times: times(300)},
		{API: load.Bulk1, JobID: "750D", BatchID: "751B", State: salesforce.BatchStateFailed, Times: times(400)},
		{API: load.Collections, State: "Completed"},
	}}
	recordJobTimes(context.Background(), nil, ev, sum)
	if err := ev.f.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range readEvents(t, filepath.Join(dir, eventsFile)) {
		if e["event"] != "job_info" {
			continue
		}
		got = append(got, e["job"].(string)+"/"+fmtAny(e["batch"])+"/"+fmtAny(e["total_processing_ms"])+"/"+fmtAny(e["api_active_processing_ms"]))
	}
	want := []string{"750A/<nil>/100/50", "750D/751A/300/150", "750D/751B/400/200"}
	if len(got) != len(want) {
		t.Fatalf("job_info events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %s, want %s", i, got[i], want[i])
		}
	}
}

func fmtAny(v any) string {
	if v == nil {
		return "<nil>"
	}
	switch x := v.(type) {
	case float64:
		return strconv.FormatInt(int64(x), 10)
	case string:
		return x
	}
	return "?"
}
