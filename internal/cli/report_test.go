package cli

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/internal/browsertest"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// reportRun runs a load against the emulator that has everything a report shows: several
// Bulk API 2.0 jobs, rows that fail (a missing required field, a rejected e-mail address),
// rows retried after a lock error, and requests retried after 503 and 429 answers. It
// returns the run folder. The run has --report, so it also records Salesforce's processing
// time of each job.
func reportRun(t *testing.T) string {
	t.Helper()
	srv := salesforcetest.New(t)
	var in strings.Builder
	in.WriteString("LastName,Email,Phone\n")
	for i := range 600 {
		last, email := fmt.Sprintf("Row%04d", i), fmt.Sprintf("r%d@example.com", i)
		switch {
		case i%50 == 7:
			last = "" // REQUIRED_FIELD_MISSING on LastName
		case i%40 == 3:
			email = "not-an-address-" + fmt.Sprint(i)
		}
		fmt.Fprintf(&in, "%s,%s,555-%04d\n", last, email, i)
	}
	input := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(input, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	srv.Org().InjectRowFault(salesforcetest.RowFault{Object: "Contact", Match: func(f map[string]any) bool {
		s, _ := f["LastName"].(string)
		return strings.HasSuffix(s, "5")
	}, StatusCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record", Count: 12})
	if err := srv.FailNext(2, "POST", "/services/data/*/jobs/ingest", http.StatusServiceUnavailable, "SERVER_UNAVAILABLE"); err != nil {
		t.Fatal(err)
	}
	if err := srv.FailNext(1, "GET", "/services/data/*/jobs/ingest/*/successfulResults*", http.StatusTooManyRequests, "REQUEST_LIMIT_EXCEEDED"); err != nil {
		t.Fatal(err)
	}
	connect := func(_ context.Context, log *slog.Logger) (*salesforce.Client, error) {
		return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()),
			salesforce.WithLogger(log), salesforce.WithRetry(salesforce.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
	}
	dir := filepath.Join(t.TempDir(), "run")
	o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "bulk2", BatchSize: 100, Concurrency: 3,
		ColumnDelimiter: "COMMA", LineEnding: "LF", input: input, OutputDir: dir, Quiet: true, Report: true}
	// The command as typed, for the report's "Command" line.
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd, _, err := NewRootCmd(ios).Find([]string{"insert"})
	if err != nil {
		t.Fatal(err)
	}
	for flag, v := range map[string]string{"sobject": "Contact", "api": "bulk2", "batch-size": "100", "concurrency": "3", "report": "true"} {
		if err := cmd.Flags().Set(flag, v); err != nil {
			t.Fatal(err)
		}
	}
	cmd.SetContext(t.Context())
	_, err = runLoadWith(cmd, ios, connect, o)
	if code, msg := exitCodeOf(err), errOut.String()+fmt.Sprint(err); code != ExitRowsFailed {
		t.Fatalf("exit %d, want %d: %s", code, ExitRowsFailed, msg)
	}
	return dir
}

// resultCounts reads results.csv: rows by sf__Outcome and rows not succeeded by error code.
func resultCounts(t *testing.T, path string) (map[string]int64, map[string]int64) {
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
	outcome, code := slices.Index(hdr, "sf__Outcome"), slices.Index(hdr, "sf__ErrorCode")
	if outcome < 0 || code < 0 {
		t.Fatalf("results.csv header %v", hdr)
	}
	byOutcome, byCode := map[string]int64{}, map[string]int64{}
	for {
		rec, err := rd.Read()
		if err != nil {
			break
		}
		byOutcome[rec[outcome]]++
		if rec[outcome] != "succeeded" {
			byCode[rec[code]]++
		}
	}
	return byOutcome, byCode
}

// TestReportInBrowser makes the report of a real run against the emulator (several Bulk
// API 2.0 jobs, failed rows, rows retried after lock errors, requests retried after 503 and
// 429) and opens it in headless Chromium: the page loads with no console message and no
// script error, draws its charts, and the numbers it shows equal those in results.csv. A
// screenshot is written to $SFBATCH_REPORT_SCREENSHOT (for the README), else a temporary
// folder.
func TestReportInBrowser(t *testing.T) {
	bin := browsertest.Find()
	if bin == "" {
		t.Skip(browsertest.SkipMessage)
	}
	dir := reportRun(t)
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd := newReportCmd(ios)
	cmd.SetArgs([]string{dir})
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("sfbatch report: %v\n%s", err, errOut.String())
	}
	page := strings.TrimSpace(out.String())
	if page != filepath.Join(dir, "report.html") {
		t.Fatalf("report written to %q", page)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if loc := regexp.MustCompile(`(?i)<(script|link|img|iframe)[^>]+(src|href)=["']?https?:`).Find(html); loc != nil {
		t.Errorf("the page loads something from the network: %s", loc)
	}

	dom, logs := browsertest.Run(t, bin, page, "--dump-dom")
	for _, line := range browsertest.ConsoleLines(logs) {
		t.Errorf("console message: %s", line)
	}
	if m := regexp.MustCompile(`data-errors="(\d+)"[^>]*data-last-error="([^"]*)"`).FindStringSubmatch(dom); m != nil {
		t.Errorf("%s script errors, the last: %s", m[1], m[2])
	}
	// Outcomes, codes, fields, timeline, throughput, API usage, processing times; and
	// concurrency over time when the run changed its concurrency (lock errors do).
	charts := "7"
	if ev, err := os.ReadFile(filepath.Join(dir, "events.jsonl")); err == nil && strings.Contains(string(ev), `"event":"concurrency"`) {
		charts = "8"
	}
	if m := regexp.MustCompile(`data-charts-want="(\d+)" data-charts="(\d+)"`).FindStringSubmatch(dom); m == nil || m[1] != m[2] || m[1] != charts {
		t.Errorf("the page did not draw its %s charts (want, drawn): %v", charts, m)
	}
	if !strings.Contains(dom, "<canvas") {
		t.Errorf("no chart canvas in the page")
	}

	byOutcome, byCode := resultCounts(t, filepath.Join(dir, "results.csv"))
	var total int64
	for _, n := range byOutcome {
		total += n
	}
	shown := func(re string) map[string]int64 {
		got := map[string]int64{}
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(dom, -1) {
			n, err := strconv.ParseInt(strings.ReplaceAll(m[2], ",", ""), 10, 64)
			if err != nil {
				t.Fatalf("%q: %v", m[0], err)
			}
			got[m[1]] = n
		}
		return got
	}
	if got := shown(`data-(total)="\d+">([\d,]+)<`); got["total"] != total || total != 600 {
		t.Errorf("page shows %d rows, results.csv has %d (want 600)", got["total"], total)
	}
	gotOutcome := shown(`data-outcome="(\w+)" data-rows="\d+">([\d,]+)<`)
	for name, n := range byOutcome {
		if gotOutcome[name] != n {
			t.Errorf("page shows %d %s rows, results.csv has %d", gotOutcome[name], name, n)
		}
	}
	if byOutcome["failed"] == 0 || byOutcome["succeeded"] == 0 {
		t.Fatalf("the run should have succeeded and failed rows: %v", byOutcome)
	}
	gotCode := shown(`<tr data-code="(\w+)"><td><code>\w+</code></td><td class="num" data-rows="\d+">([\d,]+)<`)
	if len(gotCode) != len(byCode) {
		t.Errorf("page shows codes %v, results.csv has %v", gotCode, byCode)
	}
	for code, n := range byCode {
		if gotCode[code] != n {
			t.Errorf("page shows %d rows with %s, results.csv has %d", gotCode[code], code, n)
		}
	}
	gotCause := shown(`<tr data-cause="([^"]+)"><td><code>[^<]+</code></td><td class="num">([\d,]+)<`)
	if gotCause["503 SERVER_UNAVAILABLE"] != 2 || gotCause["429 REQUEST_LIMIT_EXCEEDED"] != 1 {
		t.Errorf("page shows request retries %v, want 2 of 503 SERVER_UNAVAILABLE and 1 of 429 REQUEST_LIMIT_EXCEEDED", gotCause)
	}
	if !strings.Contains(dom, `<b id="rows-retried">12</b>`) ||
		!strings.Contains(dom, `<tr data-retry-code="UNABLE_TO_LOCK_ROW"><td><code>UNABLE_TO_LOCK_ROW</code></td><td class="num" data-rows="12">12<`) {
		t.Errorf("page does not show the 12 rows retried after UNABLE_TO_LOCK_ROW")
	}
	if !strings.Contains(dom, `id="chart-usage"`) || !strings.Contains(dom, `id="chart-processing"`) {
		t.Errorf("page has no API usage or processing time chart")
	}
	if m := regexp.MustCompile(`Timeline of jobs and batches \((\d+)`).FindStringSubmatch(dom); m == nil || m[1] != "7" {
		t.Errorf("timeline heading %v, want 7 jobs (6 first-pass jobs and 1 retry job)", m)
	}
	if got := strings.Count(dom, "<tr data-job-times="); got != 7 {
		t.Errorf("page shows Bulk API 2.0 processing times of %d jobs, want 7", got)
	}
	if strings.Contains(dom, "not-an-address") {
		t.Errorf("the page shows cell values without --report-values")
	}

	shot := os.Getenv("SFBATCH_REPORT_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "report.png")
	} else if shot, err = filepath.Abs(shot); err != nil {
		t.Fatal(err)
	}
	browsertest.Run(t, bin, page, "--screenshot="+shot, "--window-size=1280,3500", "--hide-scrollbars")
	png, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
}
