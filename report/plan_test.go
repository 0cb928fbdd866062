package report_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/internal/browsertest"
	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/report"
)

const planRunID = "20260101T030000Z-plan0001"

// knownPlan writes a plan's run folder with known figures: Account (a self-lookup set in a
// second pass) and Contact (a lookup to Account) in three steps; 01-Account has 3 rows (all
// succeeded, 3 created), 02-Contact 4 rows (2 succeeded, 1 failed REQUIRED_FIELD_MISSING on
// LastName, 1 not processed), 03-Account (the second pass) 1 row that failed
// INVALID_CROSS_REFERENCE_KEY on ParentId. The plan's events hold one job per step, each
// inside its step's window, and one job_info after the last step for 02-Contact's job.
func knownPlan(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("plan.json", fmt.Sprintf(`{"run_id":%q,"steps":[
 {"step":1,"dir":"01-Account","object":"Account","pass":1,"operation":"insert","source":"a.csv"},
 {"step":2,"dir":"02-Contact","object":"Contact","pass":1,"operation":"insert","source":"c.csv","after":["Account"]},
 {"step":3,"dir":"03-Account","object":"Account","pass":2,"operation":"update","source":"03-Account/input.csv","after":["Account"]}]}`, planRunID))
	write("summary.json", fmt.Sprintf(`{"run_id":%q,"state":"completed","exit_code":3,"plan":"p.yaml","steps":[{"step":1,"Rows":3}]}`, planRunID))
	write("01-Account/results.csv", "sf__Row,sf__Outcome,sf__Id,sf__Created,sf__ErrorCode,sf__Error,Name\n1,succeeded,001A,true,,,A\n2,succeeded,001B,true,,,B\n3,succeeded,001C,true,,,C\n")
	write("02-Contact/results.csv", "sf__Row,sf__Outcome,sf__Id,sf__Created,sf__ErrorCode,sf__Error,LastName\n"+
		"1,succeeded,003A,true,,,X\n2,failed,,false,REQUIRED_FIELD_MISSING,REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --,\n"+
		"3,succeeded,003C,true,,,Z\n4,not_processed,,false,SFBATCH_ABORTED,SFBATCH_ABORTED:aborted: --,W\n")
	write("02-Contact/summary.json", fmt.Sprintf(`{"step":2,"dir":"02-Contact","object":"Contact","pass":1,"operation":"insert","api":"bulk2","run_id":"%s-02","API":2,"Rows":4}`, planRunID))
	write("03-Account/results.csv", "sf__Row,sf__Outcome,sf__Id,sf__Created,sf__ErrorCode,sf__Error,Id,ParentId\n1,failed,,false,INVALID_CROSS_REFERENCE_KEY,INVALID_CROSS_REFERENCE_KEY:bad id:ParentId --,001A,001Z\n")
	ts := func(sec float64) string {
		return t0.Add(time.Duration(sec * float64(time.Second))).Format(time.RFC3339Nano)
	}
	var ev []string
	add := func(sec float64, format string, args ...any) {
		ev = append(ev, fmt.Sprintf(format, args...)[:len(fmt.Sprintf(format, args...))-1]+fmt.Sprintf(`,"time":%q}`, ts(sec)))
	}
	add(0, `{"event":"plan_started","run_id":%q,"steps":3}`, planRunID)
	add(0, `{"event":"run_started","kind":"plan","command":"sfbatch run p.yaml","version":"v9"}`)
	add(0.1, `{"event":"connected","instance_url":"https://plan.example","api_version":"62.0"}`)
	for i, st := range []string{"01-Account", "02-Contact", "03-Account"} {
		base := float64(10 * i)
		add(base+1, `{"event":"step_started","step":%d,"dir":%q}`, i+1, st)
		add(base+2, `{"event":"job","api":"bulk2","job":"750%d","state":"Open"}`, i+1)
		add(base+4, `{"event":"job","api":"bulk2","job":"750%d","state":"JobComplete"}`, i+1)
		add(base+5, `{"event":"step_finished","step":%d,"dir":%q}`, i+1, st)
	}
	add(31, `{"event":"job_info","api":"bulk2","job":"7502","total_processing_ms":800,"api_active_processing_ms":500,"apex_processing_ms":10}`)
	add(32, `{"event":"run_finished","state":"completed","exit_code":3}`)
	write("events.jsonl", strings.Join(ev, "\n")+"\n")
	ctx := context.Background()
	st, err := jobstore.Open(ctx, filepath.Join(dir, "run.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, rows := range []int64{3, 4, 1} {
		id := fmt.Sprintf("%s-%02d", planRunID, i+1)
		if err := st.CreateRun(ctx, jobstore.Run{ID: id, Object: "X", Operation: "insert", InputPath: "x.csv"}); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordJob(ctx, jobstore.JobRecord{RunID: id, JobID: fmt.Sprintf("750%d", i+1), API: jobstore.APIBulk2, FirstRow: 1, LastRow: rows}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBuildPlan: a plan's report has its object graph (nodes with their first pass's rows
// by outcome and the second pass's rows not set, one edge per lookup), each step's counts
// from its results.csv, every step's rows added up, and the timeline of all steps' jobs.
func TestBuildPlan(t *testing.T) {
	d, err := report.Build(t.Context(), knownPlan(t), report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != report.KindPlan || d.Plan == nil || d.Run.ID != planRunID || d.Run.Command != "sfbatch run p.yaml" || d.Run.Org != "https://plan.example" {
		t.Fatalf("kind %q, run %+v", d.Kind, d.Run)
	}
	p := d.Plan
	var nodes []string
	for _, n := range p.Nodes {
		nodes = append(nodes, fmt.Sprintf("%s:%d%v/%d", n.Object, n.Rows, n.Outcomes, n.LookupsNotSet))
	}
	if got := strings.Join(nodes, " "); got != "Account:3[{succeeded 3} {failed 0} {not_processed 0}]/1 "+
		"Contact:4[{succeeded 2} {failed 1} {not_processed 1}]/0" {
		t.Errorf("nodes %s", got)
	}
	if got := fmt.Sprint(p.Edges); got != "[{Contact Account false} {Account Account true}]" {
		t.Errorf("edges %s", got)
	}
	var steps []string
	for _, s := range p.Steps {
		steps = append(steps, fmt.Sprintf("%s:%d:%v:%d", s.Dir, s.Rows, s.Ran, len(s.ByCode)))
	}
	if got := strings.Join(steps, " "); got != "01-Account:3:true:0 02-Contact:4:true:2 03-Account:1:true:1" {
		t.Errorf("steps %s", got)
	}
	if got := fmt.Sprint(d.Outcomes); d.Rows != 8 || d.Created != 5 || got != "[{succeeded 5} {failed 2} {not_processed 1}]" {
		t.Errorf("all steps: %d rows, %d created, %s", d.Rows, d.Created, got)
	}
	if len(d.ByCode) != 3 || len(d.Jobs) != 3 || d.Jobs[1].Rows != 4 || d.Jobs[1].TotalProcessingMs == nil {
		t.Errorf("codes %v, jobs %+v", d.ByCode, d.Jobs)
	}
	var html bytes.Buffer
	if err := report.Write(&html, d, "sfbatch test", "", false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="chart-graph"`, `<tr data-step="02-Contact">`, `href="02-Contact/report.html"`,
		`data-step-outcome="failed" data-rows="1">1<`, `"self":"pass 2"`} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestBuildPlanStep: a step's report takes from the plan's events only what happened while
// the step ran (and its jobs' processing times, recorded after the last step), and its rows
// from the plan's journal.
func TestBuildPlanStep(t *testing.T) {
	dir := knownPlan(t)
	d, err := report.Build(t.Context(), filepath.Join(dir, "02-Contact"), report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != report.KindLoad || d.Run.ID != planRunID+"-02" || d.Run.Org != "https://plan.example" || d.Run.Command != "sfbatch run p.yaml" ||
		!d.Run.Start.Equal(t0.Add(11*time.Second)) || d.Run.Duration() != 4*time.Second {
		t.Errorf("run %+v", d.Run)
	}
	if len(d.Jobs) != 1 || d.Jobs[0].ID != "7502" || d.Jobs[0].Rows != 4 || d.Jobs[0].TotalProcessingMs == nil || *d.Jobs[0].TotalProcessingMs != 800 {
		t.Errorf("jobs %+v", d.Jobs)
	}
	if d.Rows != 4 || fmt.Sprint(d.Outcomes) != "[{succeeded 2} {failed 1} {not_processed 1}]" {
		t.Errorf("rows %d, outcomes %v", d.Rows, d.Outcomes)
	}
	// WriteFile on the plan writes each step's report too.
	if _, err := report.WriteFile(t.Context(), dir, "", "sfbatch test", report.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"01-Account", "02-Contact", "03-Account"} {
		if _, err := os.Stat(filepath.Join(dir, st, report.FileName)); err != nil {
			t.Errorf("step report: %v", err)
		}
	}
}

// TestEventsForTheReport: a synthetic events.jsonl with every kind of event the report
// charts beside job states: API usage over time, concurrency changes (the engine's
// {"event":"concurrency","api","from","to","cause"} lines), rows retried by error code
// with the wait before the pass, Bulk API 1.0 batches with Salesforce's processing times.
func TestEventsForTheReport(t *testing.T) {
	dir := eventsRun(t)
	d, err := report.Build(t.Context(), dir, report.Options{})
	checkEventsRun(t, dir, d, err)
}

// eventsRun writes a run folder whose events.jsonl has every kind of event above.
func eventsRun(t *testing.T) string {
	dir := t.TempDir()
	ts := func(sec float64) string {
		return t0.Add(time.Duration(sec * float64(time.Second))).Format(time.RFC3339Nano)
	}
	lines := []string{
		fmt.Sprintf(`{"event":"run_started","run_id":"r1","object":"Contact","operation":"update","time":%q}`, ts(0)),
		fmt.Sprintf(`{"event":"api_usage","used":100,"max":15000,"time":%q}`, ts(0.5)),
		fmt.Sprintf(`{"event":"batch","api":"bulk1","job":"750J","batch":"751A","state":"Queued","time":%q}`, ts(1)),
		fmt.Sprintf(`{"event":"concurrency","api":"bulk1","from":4,"to":2,"cause":"503 SERVER_UNAVAILABLE","time":%q}`, ts(1.5)),
		fmt.Sprintf(`{"event":"api_usage","used":140,"max":15000,"time":%q}`, ts(2)),
		fmt.Sprintf(`{"event":"batch","api":"bulk1","job":"750J","batch":"751A","state":"Completed","time":%q}`, ts(3)),
		fmt.Sprintf(`{"event":"request_retried","error":"salesforce: GET https://x/services/async/62.0/job/750J/batch: 429 REQUEST_LIMIT_EXCEEDED: slow down","url":"https://x/services/async/62.0/job/750J/batch","wait":"250ms","time":%q}`, ts(3.2)),
		fmt.Sprintf(`{"event":"rows_retried","api":"bulk1","rows":7,"pass":1,"wait":"2s","time":%q}`, ts(3.5)),
		fmt.Sprintf(`{"event":"rows_retried_code","api":"bulk1","rows":5,"pass":1,"code":"UNABLE_TO_LOCK_ROW","wait":"2s","time":%q}`, ts(3.5)),
		fmt.Sprintf(`{"event":"rows_retried_code","api":"bulk1","rows":2,"pass":1,"code":"UNABLE_TO_LOCK_ROW_AGAIN","wait":"2s","time":%q}`, ts(3.5)),
		fmt.Sprintf(`{"event":"concurrency","api":"bulk1","from":2,"to":3,"cause":"no throttling for 30s","time":%q}`, ts(5)),
		fmt.Sprintf(`{"event":"job_info","api":"bulk1","job":"750J","batch":"751A","total_processing_ms":1500,"api_active_processing_ms":1200,"apex_processing_ms":300,"time":%q}`, ts(6)),
		fmt.Sprintf(`{"event":"api_usage","used":150,"max":15000,"time":%q}`, ts(6)),
	}
	if err := os.WriteFile(filepath.Join(dir, "events.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func checkEventsRun(t *testing.T, dir string, d *report.Data, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.UsageSeries) != 3 || d.UsageSeries[1].Used != 140 || d.Usage.Used != 150 {
		t.Errorf("usage %+v", d.UsageSeries)
	}
	if got := fmt.Sprint(d.ConcurrencyChanges); len(d.ConcurrencyChanges) != 2 || d.ConcurrencyChanges[0].To != 2 ||
		d.ConcurrencyChanges[1].Cause != "no throttling for 30s" || !d.ConcurrencyChanges[0].Time.Equal(t0.Add(1500*time.Millisecond)) {
		t.Errorf("concurrency %s", got)
	}
	if got := fmt.Sprint(d.RetryCodes); got != "[{UNABLE_TO_LOCK_ROW 5} {UNABLE_TO_LOCK_ROW_AGAIN 2}]" {
		t.Errorf("retry codes %s", got)
	}
	if len(d.RowRetries) != 1 || d.RowRetries[0].WaitMs != 2000 {
		t.Errorf("row retries %+v", d.RowRetries)
	}
	if len(d.Jobs) != 1 || d.Jobs[0].Batch != "751A" || d.Jobs[0].TotalProcessingMs == nil || *d.Jobs[0].TotalProcessingMs != 1500 ||
		*d.Jobs[0].ApexProcessingMs != 300 {
		t.Errorf("jobs %+v", d.Jobs)
	}
	path, err := report.WriteFile(t.Context(), dir, "", "sfbatch test", report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{`id="chart-concurrency"`, `<span id="concurrency-changes">2</span>`, `id="chart-usage"`,
		`<span id="usage-spent">50</span>`, `data-retry-code="UNABLE_TO_LOCK_ROW"`, `data-job-times="750J/751A" data-api="bulk1"`,
		`<b id="throttle-wait">0.250</b>`, `"lock","retry pass 1: 7 rows"`, `"throttled","429 REQUEST_LIMIT_EXCEEDED"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestEventsReportInBrowser: the page of TestEventsForTheReport's events (concurrency
// changes, API usage, waits, Bulk API 1.0 processing times) draws every chart in headless
// Chromium with no console message.
func TestEventsReportInBrowser(t *testing.T) {
	bin := browsertest.Find()
	if bin == "" {
		t.Skip(browsertest.SkipMessage)
	}
	for _, dir := range []string{eventsRun(t), knownPlan(t)} {
		page, err := report.WriteFile(t.Context(), dir, "", "sfbatch test", report.Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkInBrowser(t, bin, page)
	}
}

// checkInBrowser opens page in headless Chromium: no console message, no script error,
// every chart drawn.
func checkInBrowser(t *testing.T, bin, page string) string {
	t.Helper()
	dom, logs := browsertest.Run(t, bin, page, "--dump-dom")
	for _, line := range browsertest.ConsoleLines(logs) {
		t.Errorf("%s: console message: %s", page, line)
	}
	m := regexp.MustCompile(`data-charts-want="(\d+)" data-charts="(\d+)"`).FindStringSubmatch(dom)
	if strings.Contains(dom, "data-errors=") || m == nil || m[1] != m[2] {
		t.Errorf("%s: charts (want, drawn) %v, or script errors", page, m)
	}
	return dom
}
