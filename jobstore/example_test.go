package jobstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sfbatch/sfbatch/jobstore"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "jobstore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "runs.db")

	// First process: record the run and each step, then get killed.
	s, err := jobstore.Open(ctx, path)
	if err != nil {
		panic(err)
	}
	run := jobstore.Run{ID: "run-1", Object: "Contact", Operation: "insert", InputPath: "contacts.csv"}
	if err := s.CreateRun(ctx, run); err != nil {
		panic(err)
	}
	must(s.RecordJob(ctx, jobstore.JobRecord{RunID: "run-1", JobID: "7505g00000A", API: jobstore.APIBulk2, FirstRow: 2, LastRow: 10001}))
	must(s.UpdateJobState(ctx, "run-1", "7505g00000A", jobstore.JobUploaded))
	must(s.UpdateJobState(ctx, "run-1", "7505g00000A", jobstore.JobClosed))
	must(s.UpdateJobState(ctx, "run-1", "7505g00000A", jobstore.JobResultsFetched))
	must(s.MarkRowsDone(ctx, "run-1", 2, 10001))
	must(s.RecordJob(ctx, jobstore.JobRecord{RunID: "run-1", JobID: "7505g00000B", API: jobstore.APIBulk2, FirstRow: 10002, LastRow: 20001}))
	must(s.UpdateJobState(ctx, "run-1", "7505g00000B", jobstore.JobUploaded))
	must(s.Close())

	// The resumer: which jobs to finish, which rows are done.
	s, err = jobstore.Open(ctx, path)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	open, err := s.OpenJobs(ctx, "run-1")
	must(err)
	for _, j := range open {
		fmt.Printf("finish %s job %s (%s), rows %d-%d\n", j.API, j.JobID, j.State, j.FirstRow, j.LastRow)
	}
	done, err := s.DoneRanges(ctx, "run-1")
	must(err)
	fmt.Println("done:", done, "row 5000 done:", done.Contains(5000))
	// Output:
	// finish bulk2 job 7505g00000B (uploaded), rows 10002-20001
	// done: [{2 10001}] row 5000 done: true
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
