package load

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/jobstore"
)

func TestJournalRecordsJobsAndDoneRows(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			store, err := jobstore.Open(ctx, filepath.Join(t.TempDir(), "runs.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			if err := store.CreateRun(ctx, jobstore.Run{ID: "run-1", Object: "Contact", Operation: "insert"}); err != nil {
				t.Fatal(err)
			}
			f := newFakeOrg()
			f.fault = func(_ string, row map[string]string, attempt int) *RowError {
				if row["external_id__c"] == "W-00007" && attempt == 1 {
					return &RowError{StatusCode: "UNABLE_TO_LOCK_ROW", Message: "locked"}
				}
				return nil
			}
			col := newCollector(t)
			sum, err := f.loader(t).Load(ctx, rowsSource(contactHeader, contacts(95, "W")), col,
				fastOptions(Options{Object: "Contact", API: api, BatchSize: 40, Journal: store, RunID: "run-1"}))
			if err != nil {
				t.Fatal(err)
			}
			col.check(95)
			all, err := store.Jobs(ctx, "run-1")
			if err != nil {
				t.Fatal(err)
			}
			var jobs []jobstore.JobRecord
			for _, j := range all {
				if strings.HasPrefix(j.JobID, creatingPrefix) {
					// A create request's placeholder: answered, so final.
					if !j.State.Final() {
						t.Errorf("placeholder %s left %s", j.JobID, j.State)
					}
					continue
				}
				jobs = append(jobs, j)
			}
			if len(jobs) != len(sum.Jobs) || len(jobs) != 4 {
				t.Fatalf("%d journal records, %d jobs: %+v", len(jobs), len(sum.Jobs), jobs)
			}
			var ranges []string
			for _, j := range jobs {
				if j.State != jobstore.JobResultsFetched {
					t.Errorf("job %s state %s", j.JobID, j.State)
				}
				ranges = append(ranges, fmt.Sprintf("p%d:%d-%d", j.Pass, j.FirstRow, j.LastRow))
			}
			done, err := store.DoneRanges(ctx, "run-1")
			if err != nil {
				t.Fatal(err)
			}
			if done.Rows() != 95 || len(done) != 1 {
				t.Fatalf("done ranges %v (jobs %v)", done, ranges)
			}
		})
	}
}

func TestJournalErrorStopsTheLoad(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, err := jobstore.Open(ctx, filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	f := newFakeOrg()
	// The run does not exist: recording the first job create request fails, so no job is
	// created.
	_, err = f.loader(t).Load(ctx, rowsSource(contactHeader, contacts(10, "Q")), nil,
		fastOptions(Options{Object: "Contact", API: Bulk2, Journal: store, RunID: "missing"}))
	if err == nil || f.calls["CreateIngestJob"] != 0 {
		t.Fatalf("err = %v, creates %d", err, f.calls["CreateIngestJob"])
	}
}
