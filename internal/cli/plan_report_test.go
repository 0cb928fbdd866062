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
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/internal/browsertest"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// planReportRun runs a plan of Accounts (a self-lookup, ParentId) and Contacts (AccountId,
// and ReportsToId to each other) through Bulk API 2.0 with --report, against the emulator:
// a few Contacts fail (a date that does not exist), so their children's ReportsToId cannot
// be set in the second pass; one job create is answered 503 first. It returns the run folder.
func planReportRun(t *testing.T) string {
	t.Helper()
	srv := salesforcetest.New(t)
	dir := t.TempDir()
	acc := []string{"LegacyId,Name,ParentId"}
	con := []string{"LegacyId,LastName,AccountId,ReportsToId,Birthdate"}
	const n = 300
	for i := 1; i <= n; i++ {
		parent := ""
		if i%10 == 1 && i < n {
			parent = fmt.Sprintf("A-%d", i+1)
		}
		acc = append(acc, fmt.Sprintf("A-%d,Account %d,%s", i, i, parent))
		boss, date := "", fmt.Sprintf("%02d/%02d/1980", i%28+1, i%12+1)
		if i > 1 {
			boss = fmt.Sprintf("C-%d", i-1)
		}
		if i%50 == 7 {
			date = "31/02/1980"
		}
		con = append(con, fmt.Sprintf("C-%d,Person %d,A-%d,%s,%s", i, i, (i-1)/3+1, boss, date))
	}
	for name, lines := range map[string][]string{"accounts.csv": acc, "contacts.csv": con} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(file, []byte(`version: 1
defaults:
  dateFormat: DD/MM/YYYY
  api: bulk2
  batchSize: 100
objects:
  - object: Contact
    source: contacts.csv
    key: LegacyId
  - object: Account
    source: accounts.csv
    key: LegacyId
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := srv.FailNext(1, "POST", "/services/data/*/jobs/ingest", http.StatusServiceUnavailable, "SERVER_UNAVAILABLE"); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd, _, err := NewRootCmd(ios).Find([]string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	cmd.SetContext(t.Context())
	runDir := filepath.Join(dir, "run")
	opts := &planOptions{file: file, OutputDir: runDir, Quiet: true, Report: true,
		connect: func(_ context.Context, log *slog.Logger) (*salesforce.Client, error) {
			return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()),
				salesforce.WithLogger(log), salesforce.WithRetry(salesforce.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
		}}
	if err := runPlan(cmd, ios, opts); exitCodeOf(err) != ExitRowsFailed {
		t.Fatalf("run: exit %d (%v), want %d: %s", exitCodeOf(err), err, ExitRowsFailed, errOut.String())
	}
	return runDir
}

// TestPlanReportInBrowser opens the report of a real plan run (sfbatch run --report) in
// headless Chromium: no console message, every chart drawn (the object graph among them),
// and each step's row counts by outcome equal those in the step's results.csv; each step's
// own report shows its step's counts.
func TestPlanReportInBrowser(t *testing.T) {
	bin := browsertest.Find()
	if bin == "" {
		t.Skip(browsertest.SkipMessage)
	}
	dir := planReportRun(t)
	steps, err := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*"))
	if err != nil || len(steps) != 4 {
		t.Fatalf("step folders %v, %v; want 4 (Account, Contact, and their second passes)", steps, err)
	}
	charts := regexp.MustCompile(`data-charts-want="(\d+)" data-charts="(\d+)"`)
	number := func(s string) int64 {
		n, err := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	dom, logs := browsertest.Run(t, bin, filepath.Join(dir, "report.html"), "--dump-dom")
	for _, line := range browsertest.ConsoleLines(logs) {
		t.Errorf("plan page: console message: %s", line)
	}
	if strings.Contains(dom, "data-errors=") {
		t.Errorf("plan page: script errors")
	}
	if m := charts.FindStringSubmatch(dom); m == nil || m[1] != m[2] {
		t.Errorf("plan page: charts (want, drawn) %v", m)
	}
	if !strings.Contains(dom, `id="chart-graph"`) || !strings.Contains(dom, "<canvas") {
		t.Errorf("plan page: no object graph")
	}
	var total, failed int64
	for _, step := range steps {
		name := filepath.Base(step)
		byOutcome, _ := resultCounts(t, filepath.Join(step, "results.csv"))
		var rows int64
		for _, n := range byOutcome {
			rows += n
		}
		total += rows
		failed += byOutcome["failed"]
		row := regexp.MustCompile(`(?s)<tr data-step="` + regexp.QuoteMeta(name) + `">(.*?)</tr>`).FindStringSubmatch(dom)
		if row == nil {
			t.Errorf("plan page: no row for step %s", name)
			continue
		}
		if m := regexp.MustCompile(`data-step-rows="\d+">([\d,]+)<`).FindStringSubmatch(row[1]); m == nil || number(m[1]) != rows {
			t.Errorf("plan page: step %s shows rows %v, results.csv has %d", name, m, rows)
		}
		for _, oc := range []string{"succeeded", "failed", "not_processed"} {
			m := regexp.MustCompile(`data-step-outcome="` + oc + `" data-rows="\d+">([\d,]+)<`).FindStringSubmatch(row[1])
			if m == nil || number(m[1]) != byOutcome[oc] {
				t.Errorf("plan page: step %s shows %s %v, results.csv has %d", name, oc, m, byOutcome[oc])
			}
		}
		if !strings.Contains(row[1], `href="`+name+`/report.html"`) || !strings.Contains(row[1], `href="`+name+`/results.csv"`) {
			t.Errorf("plan page: step %s does not link its report and results", name)
		}

		sdom, slogs := browsertest.Run(t, bin, filepath.Join(step, "report.html"), "--dump-dom")
		for _, line := range browsertest.ConsoleLines(slogs) {
			t.Errorf("step %s page: console message: %s", name, line)
		}
		if m := charts.FindStringSubmatch(sdom); m == nil || m[1] != m[2] {
			t.Errorf("step %s page: charts (want, drawn) %v", name, m)
		}
		if !strings.Contains(sdom, fmt.Sprintf(`data-total="%d">`, rows)) ||
			!strings.Contains(sdom, fmt.Sprintf(`data-outcome="failed" data-rows="%d">`, byOutcome["failed"])) {
			t.Errorf("step %s page does not show its %d rows and %d failed", name, rows, byOutcome["failed"])
		}
		if m := regexp.MustCompile(`Timeline of jobs and batches \((\d+)`).FindStringSubmatch(sdom); m == nil || m[1] == "0" {
			t.Errorf("step %s page: no job on its timeline: %v", name, m)
		}
	}
	if failed == 0 {
		t.Fatalf("the plan run should have failed rows")
	}
	if m := regexp.MustCompile(`data-total="\d+">([\d,]+)<`).FindStringSubmatch(dom); m == nil || number(m[1]) != total {
		t.Errorf("plan page shows %v rows in all, the steps' results.csv have %d", m, total)
	}
	if !strings.Contains(dom, `data-cause="503 SERVER_UNAVAILABLE"`) {
		t.Errorf("plan page does not show the request retried after 503")
	}
	if shot := os.Getenv("SFBATCH_PLAN_REPORT_SCREENSHOT"); shot != "" {
		if shot, err = filepath.Abs(shot); err != nil {
			t.Fatal(err)
		}
		browsertest.Run(t, bin, filepath.Join(dir, "report.html"), "--screenshot="+shot, "--window-size=1280,2400", "--hide-scrollbars")
		t.Logf("screenshot: %s", shot)
	}
}
