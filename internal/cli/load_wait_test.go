package cli

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/bulk"
	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// TestLoadWaitRunsOut: when --wait runs out while Salesforce is still processing a job, the
// job is left running (not aborted), its rows are unknown, rows never sent are not
// processed, the command that continues is printed and the exit code is 6. The printed
// --resume then finishes the run with every row loaded exactly once.
func TestLoadWaitRunsOut(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	srv := salesforcetest.New(t, salesforcetest.WithClock(fake),
		salesforcetest.WithBulkOptions(bulk.Options{Profile: bulk.Realistic{BatchStartLatency: time.Minute}}))
	connect := func(context.Context, *slog.Logger) (*salesforce.Client, error) {
		return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	}
	const n = 300
	input := writeContacts(t, n)
	dir := filepath.Join(t.TempDir(), "out")
	o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "bulk2", BatchSize: 100, Concurrency: 1,
		ColumnDelimiter: "COMMA", LineEnding: "LF", input: input, OutputDir: dir, Wait: 2 * time.Second}
	res, code, msg := runLoadTest(t, connect, o)
	if code != ExitWaitTimeout {
		t.Fatalf("exit %d, want %d: %s", code, ExitWaitTimeout, msg)
	}
	if !strings.Contains(msg, "--resume "+dir) {
		t.Errorf("no command that continues in the output: %s", msg)
	}
	got := outcomes(t, res.Files["results"])
	if len(got) != n {
		t.Fatalf("%d rows in results.csv, want %d", len(got), n)
	}
	counts := map[string]int{}
	for _, oc := range got {
		counts[oc]++
	}
	if counts["unknown"] == 0 || counts["succeeded"]+counts["failed"] != 0 || counts["unknown"]+counts["not_processed"] != n {
		t.Errorf("outcomes %v: want the running job's rows unknown and the rest not processed", counts)
	}
	// The job Salesforce was processing is still running, not aborted.
	c, err := connect(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, j := range res.Summary.Jobs {
		if j.JobID == "" {
			continue
		}
		ij, err := c.Bulk2.GetIngestJob(t.Context(), j.JobID)
		if err != nil {
			t.Fatal(err)
		}
		switch ij.State {
		case "UploadComplete", "InProgress":
			running++
		case "Aborted":
			// a job that never received its data may be aborted
		default:
			t.Errorf("job %s is %s", j.JobID, ij.State)
		}
	}
	if running == 0 {
		t.Errorf("no job left running: %+v", res.Summary.Jobs)
	}

	// Salesforce finishes the job; the printed command collects it and loads the rest.
	fake.Advance(time.Minute)
	o2 := *o
	o2.Wait, o2.Resume = 0, dir
	go func() { // later jobs of the resume wait on the emulated clock too
		for ctx := t.Context(); ctx.Err() == nil; {
			time.Sleep(50 * time.Millisecond)
			fake.Advance(time.Minute)
		}
	}()
	res, code, msg = runLoadTest(t, connect, &o2)
	if code != ExitOK {
		t.Fatalf("resume: exit %d: %s", code, msg)
	}
	for row, oc := range outcomes(t, res.Files["results"]) {
		if oc != "succeeded" {
			t.Errorf("row %s: %s after the resume", row, oc)
		}
	}
	if c := srv.Count("Contact"); c != n {
		t.Errorf("%d contacts in the org, want %d", c, n)
	}
}
