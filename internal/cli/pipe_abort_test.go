package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/dirjournal"
	"github.com/sfbatch/sfbatch/emulator/bulk"
	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// abortResult is the object pipe --abort-run prints.
type abortResult struct {
	Status int          `json:"status"`
	Result abortSummary `json:"result"`
}

func parseAbort(t *testing.T, out []byte) abortSummary {
	t.Helper()
	var r abortResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("--abort-run output %q: %v", out, err)
	}
	return r.Result
}

func jobIDsOf(jobs []abortedRunJob) []string {
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.JobID)
	}
	slices.Sort(ids)
	return ids
}

// openIngestJobs lists the emulator's Bulk API 2.0 jobs still Open.
func openIngestJobs(t *testing.T, c *salesforce.Client) []string {
	t.Helper()
	var open []string
	for j, err := range c.Bulk2.ListIngestJobs(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if j.State == salesforce.JobStateOpen {
			open = append(open, j.ID)
		}
	}
	return open
}

// TestPipeAbortRunFromJournals lays out the journals of one run's partitions as failed
// attempts leave them (a job created without data, a job uploaded but never closed, a job
// closed that Salesforce is processing, a completed partition, a partition that never
// started) and runs pipe --abort-run over their parent directory: the Open jobs are aborted,
// the job Salesforce is processing is left running and named in the message with its rows,
// which will load, the message says loaded rows stay in the org, and a later attempt of the
// run sends nothing.
func TestPipeAbortRunFromJournals(t *testing.T) {
	t.Parallel()
	// On the fake clock a closed job stays UploadComplete: Salesforce "is processing" it.
	fake := clock.NewFake(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	srv := salesforcetest.New(t, salesforcetest.WithClock(fake),
		salesforcetest.WithBulkOptions(bulk.Options{Profile: bulk.Realistic{BatchStartLatency: time.Hour}}))
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const runID = "run-abort"
	root := filepath.Join(t.TempDir(), runID)
	csv := []byte("LastName\nA\nB\nC\n")

	// journal writes one partition's journal as an attempt that stopped would leave it.
	journal := func(part string, steps func(j *dirjournal.Dir)) {
		t.Helper()
		j, err := dirjournal.Open(ctx, filepath.Join(root, part), runID, dirjournal.Options{LeasePeriod: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		if err := j.CreateRun(ctx, jobstore.Run{ID: runID, Object: "Contact", Operation: "insert", InputPath: "stdin"}); err != nil {
			t.Fatal(err)
		}
		steps(j)
	}
	newJob := func(j *dirjournal.Dir, upload, closeIt bool) string {
		t.Helper()
		job, err := c.Bulk2.CreateIngestJob(ctx, salesforce.IngestJobRequest{Object: "Contact", Operation: "insert", LineEnding: "LF"})
		if err != nil {
			t.Fatal(err)
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(j.RecordJob(ctx, jobstore.JobRecord{RunID: runID, JobID: job.ID, API: jobstore.APIBulk2, FirstRow: 1, LastRow: 3}))
		if upload {
			must(c.Bulk2.UploadJobData(ctx, job.ID, salesforce.BytesBody(csv)))
			must(j.UpdateJobState(ctx, runID, job.ID, jobstore.JobUploaded))
		}
		if closeIt {
			_, err := c.Bulk2.CloseIngestJob(ctx, job.ID)
			must(err)
			must(j.UpdateJobState(ctx, runID, job.ID, jobstore.JobClosed))
		}
		return job.ID
	}
	var empty, uploaded, closed string
	journal("part-00000", func(j *dirjournal.Dir) { empty = newJob(j, false, false) })
	journal("part-00001", func(j *dirjournal.Dir) { uploaded = newJob(j, true, false) })
	journal("part-00002", func(j *dirjournal.Dir) { closed = newJob(j, true, true) })
	journal("part-00003", func(j *dirjournal.Dir) {
		if err := j.UpdateRunState(ctx, runID, jobstore.RunCompleted, ""); err != nil {
			t.Fatal(err)
		}
	})

	r := runPipeCmd(t, handshakeLine(t, srv, srv.AccessToken()), "--abort-run", "--handshake", "--run-id", runID,
		"--journal-dir", root, "--lease-period", "1s")
	if r.code != ExitOK {
		t.Fatalf("--abort-run: exit %d\n%s", r.code, r.stderr)
	}
	s := parseAbort(t, r.out)
	if s.Journals != 4 || s.Completed != 1 {
		t.Errorf("journals %d, completed %d; want 4 and 1", s.Journals, s.Completed)
	}
	if got, want := jobIDsOf(s.Aborted), slices.Sorted(slices.Values([]string{empty, uploaded})); !slices.Equal(got, want) {
		t.Errorf("aborted %v, want %v", got, want)
	}
	if got := jobIDsOf(s.Processing); !slices.Equal(got, []string{closed}) {
		t.Errorf("processing %v, want [%s]", got, closed)
	}
	if s.RowsNotProcessed != 6 || s.RowsLoading != 3 {
		t.Errorf("rows not processed %d, loading %d; want 6 and 3", s.RowsNotProcessed, s.RowsLoading)
	}
	for _, want := range []string{closed, "3 row(s) will load", "stay in the org"} {
		if !strings.Contains(s.Message, want) {
			t.Errorf("message lacks %q: %s", want, s.Message)
		}
	}
	for id, want := range map[string]string{empty: "Aborted", uploaded: "Aborted", closed: "UploadComplete InProgress"} {
		j, err := c.Bulk2.GetIngestJob(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(strings.Fields(want), j.State) {
			t.Errorf("job %s is %s, want %s", id, j.State, want)
		}
	}
	if open := openIngestJobs(t, c); len(open) != 0 {
		t.Errorf("Open jobs left: %v", open)
	}

	// A later attempt of the aborted run sends nothing.
	late := runPipeCmd(t, append(handshakeLine(t, srv, srv.AccessToken()), csv...), "insert", "-s", "Contact", "--format", "csv",
		"--handshake", "--run-id", runID, "--journal-dir", filepath.Join(root, "part-00001"), "--lease-period", "1s")
	if late.code != ExitUsage || !strings.Contains(late.stderr, "RunAborted") {
		t.Errorf("attempt after the abort: exit %d\n%s", late.code, late.stderr)
	}
	if n := srv.Count("Contact"); n != 0 {
		t.Errorf("%d contacts, want 0 (the only closed job has not been processed)", n)
	}
}

// TestPipeAbortRunAfterKill kills an attempt (kill -9, the test-only hook) right after its
// first upload, which leaves a Bulk API 2.0 job Open at Salesforce and the journal's lease
// unreleased; sfbatch pipe --abort-run, a real process, waits out the lease, aborts that
// job and reports its rows not loaded: no job stays Open and no contact was created.
func TestPipeAbortRunAfterKill(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "run-9")
	args := []string{"insert", "-s", "Contact", "--format", "csv", "--api", "bulk2", "--batch-size", "50", "--concurrency", "1",
		"--run-id", "run-9", "--journal-dir", filepath.Join(root, "part-00000"), "--lease-period", "300ms"}
	p := startPipe(t, srv, contactsCSV(200, false), []string{envKillAfterSent + "=1"}, args...)
	if code := p.wait(); code != -int(syscall.SIGKILL) {
		t.Fatalf("attempt ended with %d, not killed\n%s", code, p.stderr.String())
	}
	if open := openIngestJobs(t, c); len(open) != 1 {
		t.Fatalf("Open jobs after the kill: %v, want one", open)
	}
	a := startPipe(t, srv, nil, nil, "--abort-run", "--run-id", "run-9", "--journal-dir", root, "--lease-period", "300ms")
	if code := a.wait(); code != 0 {
		t.Fatalf("--abort-run: exit %d\n%s", code, a.stderr.String())
	}
	s := parseAbort(t, a.stdout.Bytes())
	if len(s.Aborted) != 1 || s.Aborted[0].Rows != 50 || s.Aborted[0].Journal != string(jobstore.JobUploaded) || s.Aborted[0].Partition != "part-00000" {
		t.Errorf("aborted %+v, want the one uploaded job of 50 rows of part-00000", s.Aborted)
	}
	if !strings.Contains(s.Message, "stay in the org") || !strings.Contains(s.Message, fmt.Sprintf("%d row(s) were not loaded", 50)) {
		t.Errorf("message: %s", s.Message)
	}
	if open := openIngestJobs(t, c); len(open) != 0 {
		t.Errorf("Open jobs left: %v", open)
	}
	if n := srv.Count("Contact"); n != 0 {
		t.Errorf("%d contacts, want 0", n)
	}
}

// TestPipeAbortRunLeavesBusyJournal: a journal whose owner keeps renewing its lease is not
// touched: --abort-run waits three lease periods, reports it busy and exits 1, without a
// login (no job needed a call).
func TestPipeAbortRunLeavesBusyJournal(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "run-busy")
	j, err := dirjournal.Open(t.Context(), filepath.Join(root, "part-00000"), "run-busy", dirjournal.Options{LeasePeriod: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	r := runPipeCmd(t, nil, "--abort-run", "--run-id", "run-busy", "--journal-dir", root, "--lease-period", "200ms")
	if r.code != ExitError {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitError, r.stderr)
	}
	s := parseAbort(t, r.out)
	if len(s.Busy) != 1 || !strings.HasSuffix(s.Busy[0], "part-00000") || len(s.Aborted) != 0 {
		t.Errorf("summary %+v: want part-00000 busy and nothing aborted", s)
	}
	if e := r.event("error"); e == nil || !strings.Contains(fmt.Sprint(e["message"]), "still owned by a running attempt") {
		t.Errorf("error event %v", e)
	}
}

// TestPipeAbortRunBulk1: a Bulk API 1.0 job without batches (its only batch recorded under
// the placeholder of a batch being added, never added) is aborted; a job with a batch that
// Salesforce has queued is closed, not aborted, and its batch's rows are reported loading.
func TestPipeAbortRunBulk1(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	srv := salesforcetest.New(t, salesforcetest.WithClock(fake),
		salesforcetest.WithBulkOptions(bulk.Options{Profile: bulk.Realistic{BatchStartLatency: time.Hour}}))
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const runID = "run-b1"
	root := filepath.Join(t.TempDir(), runID)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	j, err := dirjournal.Open(ctx, filepath.Join(root, "part-00000"), runID, dirjournal.Options{LeasePeriod: time.Second})
	must(err)
	must(j.CreateRun(ctx, jobstore.Run{ID: runID, Object: "Contact", Operation: "insert", InputPath: "stdin"}))
	empty, err := c.Bulk1.CreateJob(ctx, salesforce.JobRequest{Object: "Contact", Operation: "insert"})
	must(err)
	must(j.RecordJob(ctx, jobstore.JobRecord{RunID: runID, JobID: empty.ID, BatchID: "pending-x-p0-0", API: jobstore.APIBulk1, FirstRow: 1, LastRow: 2}))
	busy, err := c.Bulk1.CreateJob(ctx, salesforce.JobRequest{Object: "Contact", Operation: "insert"})
	must(err)
	b, err := c.Bulk1.AddBatch(ctx, busy.ID, "text/csv", salesforce.BytesBody([]byte("LastName\nA\nB\nC\n")))
	must(err)
	must(j.RecordJob(ctx, jobstore.JobRecord{RunID: runID, JobID: busy.ID, BatchID: b.ID, API: jobstore.APIBulk1, FirstRow: 3, LastRow: 5, State: jobstore.JobUploaded}))
	must(j.Close())

	r := runPipeCmd(t, handshakeLine(t, srv, srv.AccessToken()), "--abort-run", "--handshake", "--run-id", runID,
		"--journal-dir", root, "--lease-period", "1s")
	if r.code != ExitOK {
		t.Fatalf("--abort-run: exit %d\n%s", r.code, r.stderr)
	}
	s := parseAbort(t, r.out)
	if got := jobIDsOf(s.Aborted); !slices.Equal(got, []string{empty.ID}) {
		t.Errorf("aborted %v, want [%s]", got, empty.ID)
	}
	if got := jobIDsOf(s.Processing); !slices.Equal(got, []string{busy.ID}) || s.RowsLoading != 3 {
		t.Errorf("processing %v (%d rows), want [%s] (3 rows)", got, s.RowsLoading, busy.ID)
	}
	for id, want := range map[string]string{empty.ID: "Aborted", busy.ID: "Closed"} {
		got, err := c.Bulk1.GetJob(ctx, id)
		must(err)
		if got.State != want {
			t.Errorf("job %s is %s, want %s", id, got.State, want)
		}
	}
	got, err := c.Bulk1.GetBatch(ctx, busy.ID, b.ID)
	must(err)
	if got.State != salesforce.BatchStateQueued && got.State != salesforce.BatchStateInProgress {
		t.Errorf("batch %s is %s: it should be left to Salesforce", b.ID, got.State)
	}
}

// TestPipeAbortRunResumable: with --resumable the jobs Salesforce has not started are aborted
// but the run is not marked aborted, so a later attempt of the same run id (a stream's
// micro-batch that Spark runs again after a restart) sends their rows again, once.
func TestPipeAbortRunResumable(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const runID = "batchId=0"
	root := filepath.Join(t.TempDir(), runID)
	part := filepath.Join(root, "part-00000")
	csv := []byte("LastName\nA\nB\nC\n")
	j, err := dirjournal.Open(ctx, part, runID, dirjournal.Options{LeasePeriod: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.CreateRun(ctx, jobstore.Run{ID: runID, Object: "Contact", Operation: "insert", InputPath: "stdin"}); err != nil {
		t.Fatal(err)
	}
	job, err := c.Bulk2.CreateIngestJob(ctx, salesforce.IngestJobRequest{Object: "Contact", Operation: "insert", LineEnding: "LF"})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.RecordJob(ctx, jobstore.JobRecord{RunID: runID, JobID: job.ID, API: jobstore.APIBulk2, FirstRow: 1, LastRow: 3}); err != nil {
		t.Fatal(err)
	}
	if err := c.Bulk2.UploadJobData(ctx, job.ID, salesforce.BytesBody(csv)); err != nil {
		t.Fatal(err)
	}
	if err := j.UpdateJobState(ctx, runID, job.ID, jobstore.JobUploaded); err != nil {
		t.Fatal(err)
	}
	j.Close()

	if r := runPipeCmd(t, nil, "--resumable", "insert", "-s", "Contact"); r.code != ExitUsage {
		t.Errorf("--resumable without --abort-run: exit %d", r.code)
	}
	r := runPipeCmd(t, handshakeLine(t, srv, srv.AccessToken()), "--abort-run", "--resumable", "--handshake",
		"--run-id", runID, "--journal-dir", root, "--lease-period", "1s")
	if r.code != ExitOK {
		t.Fatalf("--abort-run --resumable: exit %d\n%s", r.code, r.stderr)
	}
	if got := jobIDsOf(parseAbort(t, r.out).Aborted); !slices.Equal(got, []string{job.ID}) {
		t.Errorf("aborted %v, want [%s]", got, job.ID)
	}
	again := runPipeCmd(t, append(handshakeLine(t, srv, srv.AccessToken()), csv...), "insert", "-s", "Contact", "--format", "csv",
		"--handshake", "--run-id", runID, "--journal-dir", part, "--lease-period", "1s")
	if again.code != ExitOK {
		t.Fatalf("attempt after a resumable abort: exit %d\n%s", again.code, again.stderr)
	}
	if n := srv.Count("Contact"); n != 3 {
		t.Errorf("%d contacts, want 3: the aborted job's rows sent again, once", n)
	}
}
