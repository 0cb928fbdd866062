package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/bulk"
	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// emulatorConnect logs in to srv.
func emulatorConnect(srv *salesforcetest.Server) connectFunc {
	return func(context.Context, *slog.Logger) (*salesforce.Client, error) {
		return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	}
}

// runResultsTest runs sfbatch results with args and returns the exit code and what it printed.
func runResultsTest(t *testing.T, connect connectFunc, ro *resultsOptions, args ...string) (int, string) {
	t.Helper()
	return runResultsTestCtx(t, t.Context(), connect, ro, args...)
}

func runResultsTestCtx(t *testing.T, ctx context.Context, connect connectFunc, ro *resultsOptions, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd := newResultsCmd(ios)
	cmd.SetContext(ctx)
	o, err := ro.loadOptions(cmd, ios, args)
	if err == nil && o != nil {
		_, err = runLoadWith(cmd, ios, connect, o)
	}
	return exitCode(err), out.String() + errOut.String() + fmt.Sprint(err)
}

// running counts jobs left running: not aborted, not finished.
func running(states map[string]int) int {
	return states[salesforce.JobStateUploadComplete] + states[salesforce.JobStateInProgress]
}

// ingestJobs counts the org's Bulk API 2.0 ingest jobs by state.
func ingestJobs(t *testing.T, c *salesforce.Client) map[string]int {
	t.Helper()
	got := map[string]int{}
	for j, err := range c.Bulk2.ListIngestJobs(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		got[j.State]++
	}
	return got
}

func countOutcomes(t *testing.T, path string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, oc := range outcomes(t, path) {
		counts[oc]++
	}
	return counts
}

func readSummaryFile(t *testing.T, dir string) summaryFileDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, summaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc summaryFileDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestResultsSettlesFromJobs: a Bulk API 2.0 insert whose result download failed leaves rows
// unknown; sfbatch results DIR settles them from the kept job id, creates no job and sends
// nothing, and rewrites the result files and summary.json.
func TestResultsSettlesFromJobs(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	connect := emulatorConnect(srv)
	c, _ := connect(t.Context(), nil)
	const n = 300
	input := writeContacts(t, n)
	dir := filepath.Join(t.TempDir(), "out")
	o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "bulk2", BatchSize: 100, Concurrency: 1,
		ColumnDelimiter: "COMMA", LineEnding: "LF", input: input, OutputDir: dir}
	if err := srv.FailNext(1, "GET", "/services/data/*/jobs/ingest/*/successfulResults*", 400, "INVALIDJOB"); err != nil {
		t.Fatal(err)
	}
	_, code, msg := runLoadTest(t, connect, o)
	if code != ExitRowsFailed {
		t.Fatalf("load: exit %d: %s", code, msg)
	}
	if got := countOutcomes(t, filepath.Join(dir, load.ResultsFile)); got["unknown"] != 100 || got["succeeded"] != 200 {
		t.Fatalf("outcomes after the load %v: want 100 unknown", got)
	}
	jobs := ingestJobs(t, c)

	// A login that fails, or a results run cancelled at once, change nothing.
	before, err := os.ReadFile(filepath.Join(dir, load.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	refused := func(context.Context, *slog.Logger) (*salesforce.Client, error) {
		return nil, &loginError{&salesforce.APIError{StatusCode: 401, ErrorCode: "INVALID_SESSION_ID", Message: "Session expired or invalid"}}
	}
	if code, msg = runResultsTest(t, refused, &resultsOptions{}, dir); code != ExitAuth || !strings.Contains(msg, "unchanged") {
		t.Errorf("results with a refused login: exit %d: %s", code, msg)
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if code, msg = runResultsTestCtx(t, cancelled, connect, &resultsOptions{}, dir); code != ExitCancelled {
		t.Errorf("cancelled results: exit %d: %s", code, msg)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, load.ResultsFile)); !bytes.Equal(after, before) {
		t.Errorf("results.csv changed by results runs that stopped:\n%s", after)
	}
	if doc := readSummaryFile(t, dir); doc.State != "failed" {
		t.Errorf("summary.json state %q after results runs that stopped, want the run's failed", doc.State)
	}

	code, msg = runResultsTest(t, connect, &resultsOptions{}, dir)
	if code != ExitOK {
		t.Fatalf("results: exit %d: %s", code, msg)
	}
	if got := countOutcomes(t, filepath.Join(dir, load.ResultsFile)); got["succeeded"] != n {
		t.Errorf("outcomes after results %v: want all %d succeeded", got, n)
	}
	if got := ingestJobs(t, c); fmt.Sprint(got) != fmt.Sprint(jobs) {
		t.Errorf("jobs changed by results: %v, before %v", got, jobs)
	}
	if c := srv.Count("Contact"); c != n {
		t.Errorf("%d contacts in the org, want %d", c, n)
	}
	if doc := readSummaryFile(t, dir); doc.State != "completed" || doc.Succeeded != n || doc.Unknown != 0 {
		t.Errorf("summary.json: state %s, %d succeeded, %d unknown", doc.State, doc.Succeeded, doc.Unknown)
	}
	if _, err := os.Stat(filepath.Join(dir, load.PartsDir)); err == nil {
		t.Error("part files left after every row was settled")
	}
	// Run again on the completed run: nothing to settle, the same answer.
	if code, msg = runResultsTest(t, connect, &resultsOptions{}, dir); code != ExitOK || !strings.Contains(msg, "completed") {
		t.Errorf("results of a completed run: exit %d: %s", code, msg)
	}
	if code, _ = runResultsTest(t, connect, &resultsOptions{}, t.TempDir()); code != ExitUsage {
		t.Errorf("results of a folder without a run: exit %d, want %d", code, ExitUsage)
	}
}

// advanceUntil moves the emulated clock on until done reports true (Salesforce's background
// workers run on it).
func advanceUntil(t *testing.T, fake *clock.Fake, done func() bool) {
	t.Helper()
	for !done() {
		if t.Context().Err() != nil {
			t.Fatal("the emulated jobs never finished")
		}
		fake.Advance(time.Minute)
		time.Sleep(10 * time.Millisecond) // let the workers run: not an assertion on time
	}
}

// TestAsyncThenResults: --async creates and fills the jobs, writes run.db, events.jsonl and
// summary.json (state submitted) and no result file, leaves the jobs running and exits 0;
// sfbatch results DIR, while Salesforce still processes them, leaves the rows unknown and
// exits 6, and once they finished settles every row without sending anything.
func TestAsyncThenResults(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	srv := salesforcetest.New(t, salesforcetest.WithClock(fake),
		salesforcetest.WithBulkOptions(bulk.Options{Profile: bulk.Realistic{BatchStartLatency: time.Minute}}))
	connect := emulatorConnect(srv)
	c, _ := connect(t.Context(), nil)
	const n = 300
	input := writeContacts(t, n)
	dir := filepath.Join(t.TempDir(), "out")
	o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "auto", BatchSize: 100, Concurrency: 2,
		ColumnDelimiter: "COMMA", LineEnding: "LF", input: input, OutputDir: dir, Async: true}
	res, code, msg := runLoadTest(t, connect, o)
	if code != ExitOK {
		t.Fatalf("--async: exit %d: %s", code, msg)
	}
	if !strings.Contains(msg, "sfbatch results "+dir) || !strings.Contains(msg, "--resume "+dir) {
		t.Errorf("--async printed no command that continues: %s", msg)
	}
	if res.Summary.Submitted != n {
		t.Errorf("%d rows submitted, want %d", res.Summary.Submitted, n)
	}
	for _, f := range []string{load.ResultsFile, load.SuccessFile, load.FailureFile, load.UnprocessedFile, load.UnknownFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s written by --async", f)
		}
	}
	for _, f := range []string{runJournalFile, eventsFile, summaryFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("--async: %v", err)
		}
	}
	if doc := readSummaryFile(t, dir); doc.State != "submitted" || len(doc.Jobs) != 3 || doc.ExitCode != 0 {
		t.Errorf("summary.json: state %q, jobs %v, exit %d", doc.State, doc.Jobs, doc.ExitCode)
	}
	if got := ingestJobs(t, c); running(got) != 3 {
		t.Errorf("jobs after --async: %v, want 3 left running", got)
	}

	// Salesforce has not started them: results leaves every row unknown and exits 6.
	code, msg = runResultsTest(t, connect, &resultsOptions{}, dir)
	if code != ExitWaitTimeout || !strings.Contains(msg, "sfbatch results "+dir) {
		t.Fatalf("results while jobs run: exit %d: %s", code, msg)
	}
	if got := countOutcomes(t, filepath.Join(dir, load.ResultsFile)); got["unknown"] != n {
		t.Errorf("outcomes while jobs run: %v", got)
	}
	if got := ingestJobs(t, c); running(got) != 3 {
		t.Errorf("jobs after results: %v, want them still running", got)
	}

	advanceUntil(t, fake, func() bool { return ingestJobs(t, c)[salesforce.JobStateJobComplete] == 3 })
	code, msg = runResultsTest(t, connect, &resultsOptions{}, dir)
	if code != ExitOK {
		t.Fatalf("results after the jobs finished: exit %d: %s", code, msg)
	}
	if got := countOutcomes(t, filepath.Join(dir, load.ResultsFile)); got["succeeded"] != n {
		t.Errorf("outcomes: %v", got)
	}
	if got := ingestJobs(t, c); got[salesforce.JobStateJobComplete] != 3 || len(got) != 1 {
		t.Errorf("jobs: %v", got)
	}
	if c := srv.Count("Contact"); c != n {
		t.Errorf("%d contacts, want %d", c, n)
	}
}

// TestAsyncThenResume: a submitted run is finished by the load command with --resume, which
// collects the submitted jobs and sends nothing again; Bulk API 1.0 as well.
func TestAsyncThenResume(t *testing.T) {
	t.Parallel()
	for _, api := range []string{"bulk2", "bulk1"} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			srv := salesforcetest.New(t)
			connect := emulatorConnect(srv)
			const n = 250
			input := writeContacts(t, n)
			dir := filepath.Join(t.TempDir(), "out")
			o := &loadOptions{Operation: load.Insert, Object: "Contact", API: api, BatchSize: 100, Concurrency: 2,
				ColumnDelimiter: "COMMA", LineEnding: "LF", input: input, OutputDir: dir, Async: true}
			res, code, msg := runLoadTest(t, connect, o)
			if code != ExitOK || res.Summary.Submitted != n {
				t.Fatalf("--async: exit %d, %d submitted: %s", code, res.Summary.Submitted, msg)
			}
			if _, err := os.Stat(filepath.Join(dir, load.ResultsFile)); err == nil {
				t.Error("results.csv written by --async")
			}
			o2 := *o
			o2.Async, o2.Resume = false, dir
			res, code, msg = runLoadTest(t, connect, &o2)
			if code != ExitOK {
				t.Fatalf("--resume: exit %d: %s", code, msg)
			}
			if got := countOutcomes(t, filepath.Join(dir, load.ResultsFile)); got["succeeded"] != n {
				t.Errorf("outcomes: %v", got)
			}
			for _, j := range res.Summary.Jobs {
				if j.Batch != -1 {
					t.Errorf("--resume sent a new job or batch: %+v", j)
				}
			}
			if c := srv.Count("Contact"); c != n {
				t.Errorf("%d contacts, want %d", c, n)
			}
			if doc := readSummaryFile(t, dir); doc.State != "completed" {
				t.Errorf("summary.json state %q", doc.State)
			}
		})
	}
}

// TestAsyncUsage: --async refuses sObject Collections, --wait and --resume (exit 2, nothing
// sent); with --api auto it picks Bulk API 2.0 even for a small input.
func TestAsyncUsage(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	connect := emulatorConnect(srv)
	input := writeContacts(t, 3)
	base := loadOptions{Operation: load.Upsert, Object: "Contact", ExternalID: "Id", API: "collections",
		ColumnDelimiter: "COMMA", LineEnding: "LF", input: input, Async: true}
	for name, edit := range map[string]func(*loadOptions){
		"collections": func(*loadOptions) {},
		"wait":        func(o *loadOptions) { o.API, o.Wait = "bulk2", time.Minute },
		"resume":      func(o *loadOptions) { o.API, o.Resume = "bulk2", t.TempDir() },
	} {
		o := base
		o.OutputDir = filepath.Join(t.TempDir(), "out")
		edit(&o)
		ios := &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
		cmd := newLoadCmds(ios)[0]
		cmd.SetContext(t.Context())
		if _, err := runLoadWith(cmd, ios, connect, &o); exitCode(err) != ExitUsage {
			t.Errorf("%s: exit %d, want %d: %v", name, exitCode(err), ExitUsage, err)
		}
	}
	o := base
	o.Operation, o.ExternalID, o.API, o.OutputDir = load.Insert, "", "auto", filepath.Join(t.TempDir(), "out")
	res, code, msg := runLoadTest(t, connect, &o)
	if code != ExitOK || res.Summary.API != load.Bulk2 || res.Summary.Submitted != 3 {
		t.Errorf("--async --api auto: exit %d, API %v, %d submitted: %s", code, res.Summary.API, res.Summary.Submitted, msg)
	}
}

// TestResultsMatchBy: an insert through sObject Collections whose first call was applied but
// whose answer was lost, and whose second call never arrived, leaves both calls' rows
// unknown (the input has no external id). sfbatch results DIR leaves them unknown; with
// --match-by LastName,Email a row with exactly one matching record succeeds with its id, a
// row with none is not processed (and reloading unprocessed.csv duplicates nothing), and a
// row with two stays unknown, naming them.
func TestResultsMatchBy(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	connect := emulatorConnect(srv)
	c, _ := connect(t.Context(), nil)
	const n = 10
	input := writeContacts(t, n)
	dir := filepath.Join(t.TempDir(), "out")
	o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "collections", BatchSize: 5, Concurrency: 1,
		ColumnDelimiter: "COMMA", LineEnding: "LF", input: input, OutputDir: dir}
	for _, f := range []salesforcetest.Fault{
		{Method: "POST", Path: "/services/data/*/composite/sobjects", Drop: true, After: true}, // applied, answer lost
		{Method: "POST", Path: "/services/data/*/composite/sobjects", Drop: true},              // never applied
	} {
		if _, err := srv.AddFault(f); err != nil {
			t.Fatal(err)
		}
	}
	_, code, msg := runLoadTest(t, connect, o)
	if code != ExitRowsFailed {
		t.Fatalf("load: exit %d: %s", code, msg)
	}
	srv.ClearFaults()
	if got := countOutcomes(t, filepath.Join(dir, load.ResultsFile)); got["unknown"] != n {
		t.Fatalf("outcomes after the load: %v, want all unknown", got)
	}
	if c := srv.Count("Contact"); c != 5 {
		t.Fatalf("%d contacts in the org, want the first call's 5", c)
	}
	// Without --match-by nothing can settle them.
	if code, msg = runResultsTest(t, connect, &resultsOptions{}, dir); code != ExitRowsFailed {
		t.Fatalf("results: exit %d: %s", code, msg)
	}
	if got := countOutcomes(t, filepath.Join(dir, load.ResultsFile)); got["unknown"] != n {
		t.Fatalf("outcomes after results without --match-by: %v", got)
	}
	// Someone else creates a second Contact like row 1.
	if _, err := srv.Insert(t.Context(), "Contact", map[string]any{"LastName": "Row0000", "Email": "r0@example.com"}); err != nil {
		t.Fatal(err)
	}
	code, msg = runResultsTest(t, connect, &resultsOptions{MatchBy: []string{"LastName", "Email"}}, dir)
	if code != ExitRowsFailed {
		t.Fatalf("results --match-by: exit %d: %s", code, msg)
	}
	full := readResultRows(t, filepath.Join(dir, load.ResultsFile))
	for row := 1; row <= n; row++ {
		r := full[fmt.Sprint(row)]
		switch {
		case row == 1:
			if r["sf__Outcome"] != "unknown" || !strings.Contains(r["sf__Error"], "2 records match") {
				t.Errorf("row 1 (two matches): %v", r)
			}
		case row <= 5:
			if r["sf__Outcome"] != "succeeded" || r["sf__Id"] == "" {
				t.Errorf("row %d (one match): %v", row, r)
				continue
			}
			rec, err := srv.Get(t.Context(), "Contact", r["sf__Id"], "LastName")
			if err != nil || rec["LastName"] != r["LastName"] {
				t.Errorf("row %d: id %s is %v (%v)", row, r["sf__Id"], rec, err)
			}
		default:
			if r["sf__Outcome"] != "not_processed" {
				t.Errorf("row %d (no match): %v", row, r)
			}
		}
	}
	// Reloading unprocessed.csv creates each missing contact once.
	reload := &loadOptions{Operation: load.Insert, Object: "Contact", API: "collections", ColumnDelimiter: "COMMA", LineEnding: "LF",
		input: filepath.Join(dir, load.UnprocessedFile), OutputDir: filepath.Join(t.TempDir(), "reload")}
	if _, code, msg := runLoadTest(t, connect, reload); code != ExitOK {
		t.Fatalf("reload: exit %d: %s", code, msg)
	}
	emails := map[string]int{}
	for rec, err := range c.Query(t.Context(), "SELECT Email FROM Contact") {
		if err != nil {
			t.Fatal(err)
		}
		v, _ := rec.Get("Email")
		emails[fmt.Sprint(v)]++
	}
	for i := range n {
		want := 1
		if i == 0 {
			want = 2 // row 1 and the other client's record
		}
		if got := emails[fmt.Sprintf("r%d@example.com", i)]; got != want {
			t.Errorf("r%d@example.com: %d contacts, want %d", i, got, want)
		}
	}
}

// readResultRows reads results.csv: row -> column -> value.
func readResultRows(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := sfcsv.NewReader(f, sfcsv.ReaderOptions{})
	hdr, err := rd.Header()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for {
		rec, err := rd.Read()
		if err != nil {
			return out
		}
		m := map[string]string{}
		for i, h := range hdr {
			m[h] = rec[i]
		}
		out[rec[0]] = m
	}
}

// TestResumeMatchBy: --resume accepts --match-by: of an insert through sObject Collections
// whose first call was applied but whose answer was lost and whose second call never arrived,
// the rows found by their fields succeed with their ids and the rows not found are sent
// again, so every contact exists exactly once.
func TestResumeMatchBy(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	connect := emulatorConnect(srv)
	const n = 10
	input := writeContacts(t, n)
	dir := filepath.Join(t.TempDir(), "out")
	o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "collections", BatchSize: 5, Concurrency: 1,
		ColumnDelimiter: "COMMA", LineEnding: "LF", input: input, OutputDir: dir}
	for _, f := range []salesforcetest.Fault{
		{Method: "POST", Path: "/services/data/*/composite/sobjects", Drop: true, After: true},
		{Method: "POST", Path: "/services/data/*/composite/sobjects", Drop: true},
	} {
		if _, err := srv.AddFault(f); err != nil {
			t.Fatal(err)
		}
	}
	if _, code, msg := runLoadTest(t, connect, o); code != ExitRowsFailed {
		t.Fatalf("load: exit %d: %s", code, msg)
	}
	srv.ClearFaults()
	o2 := *o
	o2.Resume, o2.MatchBy = dir, []string{"LastName", "Email"}
	if _, code, msg := runLoadTest(t, connect, &o2); code != ExitOK {
		t.Fatalf("--resume --match-by: exit %d: %s", code, msg)
	}
	if got := countOutcomes(t, filepath.Join(dir, load.ResultsFile)); got["succeeded"] != n {
		t.Errorf("outcomes: %v", got)
	}
	if c := srv.Count("Contact"); c != n {
		t.Errorf("%d contacts, want %d", c, n)
	}
}

// TestResultsAfterWaitRunsOut: after --wait ran out, sfbatch results DIR settles the rows of
// the jobs that finished since, keeps the rows never sent not processed (exit 3), and names
// the --resume command that sends them; nothing is sent until it runs.
func TestResultsAfterWaitRunsOut(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	srv := salesforcetest.New(t, salesforcetest.WithClock(fake),
		salesforcetest.WithBulkOptions(bulk.Options{Profile: bulk.Realistic{BatchStartLatency: time.Minute}}))
	connect := emulatorConnect(srv)
	c, _ := connect(t.Context(), nil)
	const n = 300
	input := writeContacts(t, n)
	dir := filepath.Join(t.TempDir(), "out")
	o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "bulk2", BatchSize: 100, Concurrency: 1,
		ColumnDelimiter: "COMMA", LineEnding: "LF", input: input, OutputDir: dir, Wait: 2 * time.Second}
	if _, code, msg := runLoadTest(t, connect, o); code != ExitWaitTimeout {
		t.Fatalf("exit %d, want %d: %s", code, ExitWaitTimeout, msg)
	}
	before := countOutcomes(t, filepath.Join(dir, load.ResultsFile))
	if before["unknown"] == 0 || before["not_processed"] == 0 {
		t.Fatalf("outcomes after --wait ran out: %v, want some unknown and some not processed", before)
	}
	advanceUntil(t, fake, func() bool { return running(ingestJobs(t, c)) == 0 })
	contacts := srv.Count("Contact")
	code, msg := runResultsTest(t, connect, &resultsOptions{}, dir)
	if code != ExitRowsFailed || !strings.Contains(msg, "--resume "+dir) {
		t.Fatalf("results: exit %d: %s", code, msg)
	}
	got := countOutcomes(t, filepath.Join(dir, load.ResultsFile))
	if got["succeeded"] != before["unknown"] || got["not_processed"] != before["not_processed"] || got["unknown"] != 0 {
		t.Errorf("outcomes %v, before %v: want the unknown rows settled and the unsent ones not processed", got, before)
	}
	if srv.Count("Contact") != contacts {
		t.Errorf("results sent rows: %d contacts, then %d", contacts, srv.Count("Contact"))
	}
	if doc := readSummaryFile(t, dir); doc.State == "completed" {
		t.Errorf("summary.json: state %s with rows never sent", doc.State)
	}
}
