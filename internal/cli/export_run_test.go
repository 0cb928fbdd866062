package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/internal/browsertest"
	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// readEvents returns the events of an events.jsonl, each as a map.
func readEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("events.jsonl line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// exportRunFolder exports 1,200 Contacts through Bulk API 2.0 in pages of 500 with
// --report, after one 503 on the query job's creation, and returns the run folder and the
// output file.
func exportRunFolder(t *testing.T) (string, string) {
	t.Helper()
	srv := salesforcetest.New(t)
	ctx := t.Context()
	const n = 1200
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"LastName": fmt.Sprintf("Row%04d", i)}
	}
	if _, err := srv.Insert(ctx, "Contact", recs...); err != nil {
		t.Fatal(err)
	}
	if err := srv.FailNext(1, "POST", "/services/data/*/jobs/query", http.StatusServiceUnavailable, "SERVER_UNAVAILABLE"); err != nil {
		t.Fatal(err)
	}
	connect := func(_ context.Context, log *slog.Logger) (*salesforce.Client, error) {
		return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()),
			salesforce.WithLogger(log), salesforce.WithRetry(salesforce.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
	}
	base := t.TempDir()
	out, dir := filepath.Join(base, "contacts.csv"), filepath.Join(base, "run")
	o := &exportOptions{Query: "SELECT LastName FROM Contact", Output: out, API: "bulk2", PageSize: 500, Concurrency: 1,
		ColumnDelimiter: "COMMA", LineEnding: "LF", RunDir: dir, Report: true, command: "sfbatch export -q 'SELECT LastName FROM Contact'"}
	var stdout, stderr bytes.Buffer
	sum, err := runExportWith(ctx, &IOStreams{Out: &stdout, ErrOut: &stderr}, connect, o)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, stderr.String())
	}
	if sum.Rows != n {
		t.Fatalf("exported %d rows, want %d", sum.Rows, n)
	}
	// The folder is printed at start and at the end.
	if got := strings.Count(stderr.String(), "run folder: "+dir); got != 2 {
		t.Errorf("run folder printed %d times, want 2:\n%s", got, stderr.String())
	}
	return dir, out
}

// TestExportRunFolder: an export writes a run folder like a load's: run.db with the run
// and its query job, events.jsonl with the job's states, every result page and the request
// retried with its cause, summary.json with rows, bytes, files and timings; --report
// writes report.html from it. A second export into the same --run-dir is refused.
func TestExportRunFolder(t *testing.T) {
	t.Parallel()
	dir, out := exportRunFolder(t)

	var sum exportSummaryDoc
	b, err := os.ReadFile(filepath.Join(dir, summaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	size := fileSize(out)
	abs, _ := filepath.Abs(out)
	if sum.Kind != "export" || sum.State != "completed" || sum.ExitCode != 0 || sum.Rows != 1200 || sum.Pages != 3 ||
		sum.Bytes != size || size == 0 || len(sum.Files) != 1 || sum.Files[0].Path != abs || sum.Files[0].Bytes != size ||
		len(sum.Jobs) != 1 || sum.Object != "Contact" || sum.API != "bulk2" || sum.Seconds <= 0 || sum.Finished.Before(sum.Started) {
		t.Errorf("summary.json %s", b)
	}

	var pageRows int64
	var pages, retries int
	states := map[string]bool{}
	for _, e := range readEvents(t, filepath.Join(dir, eventsFile)) {
		switch e["event"] {
		case "page":
			pageRows += int64(e["rows"].(float64))
			pages++
			if e["job"] != sum.Jobs[0] {
				t.Errorf("page of job %v, want %s", e["job"], sum.Jobs[0])
			}
		case "job":
			states[e["state"].(string)] = true
		case "request_retried":
			retries++
			if !strings.Contains(e["error"].(string), "503") {
				t.Errorf("retry cause %v", e["error"])
			}
		case "run_started":
			if e["kind"] != "export" || e["query"] != "SELECT LastName FROM Contact" {
				t.Errorf("run_started %v", e)
			}
		}
	}
	if pageRows != 1200 || pages != 3 || retries != 1 || !states["JobComplete"] || !states["UploadComplete"] && !states["InProgress"] {
		t.Errorf("events: %d rows in %d pages, %d retries, job states %v", pageRows, pages, retries, states)
	}

	st, err := jobstore.Open(t.Context(), filepath.Join(dir, runJournalFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run, err := st.GetRun(t.Context(), sum.RunID)
	if err != nil || run.Operation != "export" || run.State != jobstore.RunCompleted {
		t.Errorf("run.db run %+v, %v", run, err)
	}
	jobs, err := st.Jobs(t.Context(), sum.RunID)
	if err != nil || len(jobs) != 1 || jobs[0].JobID != sum.Jobs[0] || jobs[0].State != jobstore.JobResultsFetched {
		t.Errorf("run.db jobs %+v, %v", jobs, err)
	}

	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`data-export-rows="1200">1,200<`, `data-export-pages="3">3<`, `data-export-jobs="1">`,
		fmt.Sprintf(`data-file-bytes="%d"`, size), "SELECT LastName FROM Contact", `data-cause="503 SERVER_UNAVAILABLE"`} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}

	o := &exportOptions{Query: "SELECT LastName FROM Contact", Output: out, API: "bulk2", ColumnDelimiter: "COMMA", LineEnding: "LF", RunDir: dir}
	_, err = runExportWith(t.Context(), &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, func(context.Context, *slog.Logger) (*salesforce.Client, error) {
		t.Fatal("connected although the run folder holds a run")
		return nil, nil
	}, o)
	if err == nil || !isUsageError(err) || !strings.Contains(err.Error(), "never reused") {
		t.Errorf("second export into %s: %v", dir, err)
	}
}

// TestExportReportInBrowser opens an export's report in headless Chromium: no console
// message, every chart drawn, and the rows and bytes it shows equal the output file's.
func TestExportReportInBrowser(t *testing.T) {
	bin := browsertest.Find()
	if bin == "" {
		t.Skip(browsertest.SkipMessage)
	}
	dir, out := exportRunFolder(t)
	dom, logs := browsertest.Run(t, bin, filepath.Join(dir, "report.html"), "--dump-dom")
	for _, line := range browsertest.ConsoleLines(logs) {
		t.Errorf("console message: %s", line)
	}
	if m := regexp.MustCompile(`data-charts-want="(\d+)" data-charts="(\d+)"`).FindStringSubmatch(dom); m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("the page did not draw its charts (want, drawn): %v", m)
	}
	if strings.Contains(dom, "data-errors=") {
		t.Errorf("script errors in the page")
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Count(string(b), "\n") - 1 // the header
	if !strings.Contains(dom, fmt.Sprintf(`data-export-rows="%d">`, rows)) || !strings.Contains(dom, fmt.Sprintf(`data-file-bytes="%d"`, len(b))) {
		t.Errorf("the page does not show the output's %d rows and %d bytes", rows, len(b))
	}
	if shot := os.Getenv("SFBATCH_EXPORT_REPORT_SCREENSHOT"); shot != "" {
		if shot, err = filepath.Abs(shot); err != nil {
			t.Fatal(err)
		}
		browsertest.Run(t, bin, filepath.Join(dir, "report.html"), "--screenshot="+shot, "--window-size=1280,2200", "--hide-scrollbars")
		t.Logf("screenshot: %s", shot)
	}
}

// TestLoadRecordsBulk1BatchTimes: a Bulk API 1.0 load records Salesforce's processing
// times of each batch in events.jsonl (one batch list request per job), and its report
// shows them beside sfbatch's time.
func TestLoadRecordsBulk1BatchTimes(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	var in strings.Builder
	in.WriteString("LastName\n")
	for i := range 250 {
		fmt.Fprintf(&in, "Row%04d\n", i)
	}
	input := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(input, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	o := &loadOptions{Operation: "insert", Object: "Contact", API: "bulk1", BatchSize: 100, ColumnDelimiter: "COMMA", LineEnding: "LF",
		input: input, OutputDir: dir, Quiet: true}
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd, _, err := NewRootCmd(ios).Find([]string{"insert"})
	if err != nil {
		t.Fatal(err)
	}
	cmd.SetContext(t.Context())
	if _, err := runLoad(cmd, ios, testClient(t, srv), o); err != nil {
		t.Fatalf("load: %v\n%s", err, errOut.String())
	}
	batches := map[string]bool{}
	for _, e := range readEvents(t, filepath.Join(dir, eventsFile)) {
		if e["event"] == "job_info" {
			if e["api"] != "bulk1" || e["batch"] == nil || e["total_processing_ms"] == nil || e["apex_processing_ms"] == nil {
				t.Errorf("job_info %v", e)
			}
			batches[fmt.Sprint(e["batch"])] = true
		}
	}
	if len(batches) != 3 {
		t.Errorf("processing times of %d batches, want 3", len(batches))
	}
	writeRunReport(t.Context(), ios, dir, &reportOptions{}, true)
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(html), `data-api="bulk1"`); got != 3 {
		t.Errorf("report shows processing times of %d Bulk API 1.0 batches, want 3", got)
	}
}

// TestExportDefaultRunFolder: without --run-dir an export's run folder is a new
// sfbatch-runs/UTCTIME-SUFFIX, named as a load's, printed at start and end, and the next
// export gets another one.
func TestExportDefaultRunFolder(t *testing.T) {
	srv := salesforcetest.New(t)
	if _, err := srv.Insert(t.Context(), "Contact", map[string]any{"LastName": "Only"}); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	t.Chdir(work)
	folder := regexp.MustCompile(`run folder: (sfbatch-runs/\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6})`)
	var dirs []string
	for i := range 2 {
		var stderr bytes.Buffer
		o := &exportOptions{Query: "SELECT LastName FROM Contact", Output: filepath.Join(work, fmt.Sprintf("out%d.csv", i)), API: "rest",
			ColumnDelimiter: "COMMA", LineEnding: "LF"}
		if _, err := runExport(t.Context(), &IOStreams{Out: &bytes.Buffer{}, ErrOut: &stderr}, testClient(t, srv), o); err != nil {
			t.Fatalf("export: %v\n%s", err, stderr.String())
		}
		m := folder.FindAllStringSubmatch(stderr.String(), -1)
		if len(m) != 2 || m[0][1] != m[1][1] {
			t.Fatalf("run folder not printed at start and end:\n%s", stderr.String())
		}
		if _, err := os.Stat(filepath.Join(m[0][1], summaryFile)); err != nil {
			t.Errorf("no summary.json in %s: %v", m[0][1], err)
		}
		dirs = append(dirs, m[0][1])
	}
	if dirs[0] == dirs[1] {
		t.Errorf("two exports shared the run folder %s", dirs[0])
	}
}

// TestLoadEventsForTheReport: the events.jsonl of a real load (reportRun) holds what the
// report draws beside job states: rows retried by error code with the wait before the
// pass, requests retried with their cause and wait, the org's API usage, and Salesforce's
// processing time of every job.
func TestLoadEventsForTheReport(t *testing.T) {
	t.Parallel()
	dir := reportRun(t)
	byCode := map[string]float64{}
	var usage, infos int
	causes := map[string]int{}
	for _, e := range readEvents(t, filepath.Join(dir, eventsFile)) {
		switch e["event"] {
		case "rows_retried_code":
			byCode[e["code"].(string)] += e["rows"].(float64)
			if w, err := time.ParseDuration(fmt.Sprint(e["wait"])); err != nil || w <= 0 {
				t.Errorf("rows_retried_code without a wait: %v", e)
			}
		case "rows_retried":
			if w, err := time.ParseDuration(fmt.Sprint(e["wait"])); err != nil || w <= 0 {
				t.Errorf("rows_retried without a wait: %v", e)
			}
		case "request_retried":
			msg := fmt.Sprint(e["error"])
			switch {
			case strings.Contains(msg, "503 SERVER_UNAVAILABLE"):
				causes["503"]++
			case strings.Contains(msg, "429 REQUEST_LIMIT_EXCEEDED"):
				causes["429"]++
			}
			if w, err := time.ParseDuration(fmt.Sprint(e["wait"])); err != nil || w <= 0 {
				t.Errorf("request_retried without a wait: %v", e)
			}
		case "api_usage":
			usage++
			if e["used"].(float64) <= 0 || e["max"].(float64) <= 0 {
				t.Errorf("api_usage %v", e)
			}
		case "job_info":
			infos++
		}
	}
	if len(byCode) != 1 || byCode["UNABLE_TO_LOCK_ROW"] != 12 {
		t.Errorf("rows retried by code %v, want 12 UNABLE_TO_LOCK_ROW", byCode)
	}
	if causes["503"] != 2 || causes["429"] != 1 || usage == 0 || infos != 7 {
		t.Errorf("request retries %v, %d api_usage events, %d job_info events (want 7)", causes, usage, infos)
	}
}
