package report_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/internal/browsertest"
	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/report"
)

const runID = "20260101T020000Z-abcdef01"

// t0 is when the run of knownRun started.
var t0 = time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)

// knownRun writes a run folder with known figures: 11 rows (6 succeeded, 4 of them created;
// 3 failed: 2 REQUIRED_FIELD_MISSING on LastName, 1 INVALID_EMAIL_ADDRESS on Email whose
// message repeats the value; 1 not processed; 1 unknown), two jobs of 5 rows each that
// overlap for one second, two request retries (a 503 and a 429, 1.5 s of waiting), one
// retry pass of 2 rows, and a line cut short by a crash.
func knownRun(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("results.csv", `sf__Row,sf__Outcome,sf__Id,sf__Created,sf__Error,LastName,Email
1,succeeded,003A,true,,Ann,ann@example.com
2,failed,,false,REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --,,bob@example.com
3,succeeded,003C,true,,Cid,cid@example.com
4,failed,,false,INVALID_EMAIL_ADDRESS:Email: invalid email address: dee-at-example:Email --,Dee,dee-at-example
5,succeeded,003E,false,,Eve,eve@example.com
6,not_processed,,false,SFBATCH_ABORTED:the job was aborted: --,Fay,fay@example.com
7,succeeded,003G,true,,Gus,gus@example.com
8,failed,,false,REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --,,hal@example.com
9,succeeded,003I,true,,Ivy,ivy@example.com
10,unknown,,false,SFBATCH_NO_RESULT:no result:,Jon,jon@example.com
11,succeeded,003K,false,,Kit,kit@example.com
`)
	ts := func(sec float64) string {
		return t0.Add(time.Duration(sec * float64(time.Second))).Format(time.RFC3339Nano)
	}
	write("events.jsonl", strings.Join([]string{
		fmt.Sprintf(`{"event":"run_started","run_id":%q,"object":"Contact","operation":"insert","input":"/data/c.csv","command":"sfbatch insert --sobject=Contact /data/c.csv","version":"v1.2.3","time":%q}`, runID, ts(0)),
		fmt.Sprintf(`{"event":"connected","instance_url":"https://example.my.salesforce.com","api_version":"62.0","time":%q}`, ts(0.1)),
		fmt.Sprintf(`{"event":"job","api":"bulk2","job":"750A","state":"Open","time":%q}`, ts(1)),
		fmt.Sprintf(`{"event":"request_retried","error":"salesforce: PUT https://x/services/data/v62.0/jobs/ingest/750A/batches: 503 SERVER_UNAVAILABLE: try later","url":"https://x/services/data/v62.0/jobs/ingest/750A/batches","method":"PUT","wait":"500ms","time":%q}`, ts(1.5)),
		fmt.Sprintf(`{"event":"job","api":"bulk2","job":"750B","state":"Open","time":%q}`, ts(2)),
		fmt.Sprintf(`{"event":"job","api":"bulk2","job":"750A","state":"UploadComplete","time":%q}`, ts(2.5)),
		fmt.Sprintf(`{"event":"job","api":"bulk2","job":"750A","state":"JobComplete","time":%q}`, ts(3)),
		fmt.Sprintf(`{"event":"request_retried","error":"salesforce: GET https://x/services/data/v62.0/limits: 429 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.","url":"https://x/services/data/v62.0/limits","method":"GET","wait":"1s","time":%q}`, ts(3.5)),
		fmt.Sprintf(`{"event":"job","api":"bulk2","job":"750B","state":"JobComplete","time":%q}`, ts(4)),
		fmt.Sprintf(`{"event":"job_info","api":"bulk2","job":"750B","total_processing_ms":1200,"api_active_processing_ms":900,"apex_processing_ms":0,"time":%q}`, ts(4)),
		fmt.Sprintf(`{"event":"rows_retried","api":"bulk2","pass":1,"rows":2,"time":%q}`, ts(4.2)),
		fmt.Sprintf(`{"event":"api_usage","used":120,"max":15000,"time":%q}`, ts(5)),
		fmt.Sprintf(`{"event":"run_finished","run_id":%q,"state":"completed","exit_code":3,"time":%q}`, runID, ts(6)),
		`{"event":"job","job":"750C","sta`, // cut short by a crash
	}, "\n"))
	write("summary.json", fmt.Sprintf(`{"run_id":%q,"state":"completed","exit_code":3,"object":"Contact","operation":"insert","api":"bulk2","input":{"path":"/data/c.csv"}}`, runID))
	ctx := context.Background()
	st, err := jobstore.Open(ctx, filepath.Join(dir, "run.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateRun(ctx, jobstore.Run{ID: runID, Object: "Contact", Operation: "insert", InputPath: "/data/c.csv"}); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"750A", "750B"} {
		if err := st.RecordJob(ctx, jobstore.JobRecord{RunID: runID, JobID: id, API: jobstore.APIBulk2, FirstRow: int64(5*i + 1), LastRow: int64(5*i + 5)}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBuildKnownRun(t *testing.T) {
	d, err := report.Build(t.Context(), knownRun(t), report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := d.Run
	if r.ID != runID || r.Command != "sfbatch insert --sobject=Contact /data/c.csv" || r.Version != "v1.2.3" ||
		r.Org != "https://example.my.salesforce.com" || r.APIVersion != "62.0" || r.State != "completed" ||
		r.ExitCode == nil || *r.ExitCode != 3 || r.API != "bulk2" {
		t.Errorf("run %+v", r)
	}
	if !r.Start.Equal(t0) || r.Duration() != 6*time.Second {
		t.Errorf("start %v, duration %v; want %v, 6s", r.Start, r.Duration(), t0)
	}
	if got := fmt.Sprint(d.Outcomes); got != "[{succeeded 6} {failed 3} {not_processed 1} {unknown 1}]" {
		t.Errorf("outcomes %s", got)
	}
	if d.Rows != 11 || d.Created != 4 {
		t.Errorf("rows %d, created %d; want 11, 4", d.Rows, d.Created)
	}
	var codes []string
	for _, g := range d.ByCode {
		codes = append(codes, fmt.Sprintf("%s=%d%v", g.Name, g.Rows, g.Related))
	}
	if got := strings.Join(codes, " "); got != "REQUIRED_FIELD_MISSING=2[{LastName 2}] INVALID_EMAIL_ADDRESS=1[{Email 1}] "+
		"SFBATCH_ABORTED=1[{(no field) 1}] SFBATCH_NO_RESULT=1[{(no field) 1}]" {
		t.Errorf("by code: %s", got)
	}
	var fields []string
	for _, g := range d.ByField {
		fields = append(fields, fmt.Sprintf("%s=%d", g.Name, g.Rows))
	}
	if got := strings.Join(fields, " "); got != "(no field)=2 LastName=2 Email=1" {
		t.Errorf("by field: %s", got)
	}
	if len(d.Jobs) != 2 {
		t.Fatalf("jobs %+v", d.Jobs)
	}
	a, b := d.Jobs[0], d.Jobs[1]
	if a.ID != "750A" || a.Rows != 5 || len(a.States) != 3 || a.Final != "JobComplete" || a.Retries != 1 ||
		a.End().Sub(a.Start()) != 2*time.Second {
		t.Errorf("job A %+v", a)
	}
	if b.ID != "750B" || b.Rows != 5 || b.TotalProcessingMs == nil || *b.TotalProcessingMs != 1200 ||
		*b.APIActiveProcessingMs != 900 || *b.ApexProcessingMs != 0 || b.Retries != 0 {
		t.Errorf("job B %+v", b)
	}
	if got := fmt.Sprint(d.Causes); got != "[{429 REQUEST_LIMIT_EXCEEDED 1 1} {503 SERVER_UNAVAILABLE 1 0.5}]" {
		t.Errorf("causes %s", got)
	}
	if len(d.Retries) != 2 || d.Retries[0].Job != "750A" || d.Retries[0].WaitMs != 500 || d.Retries[1].Job != "" {
		t.Errorf("retries %+v", d.Retries)
	}
	if len(d.RowRetries) != 1 || d.RowRetries[0].Rows != 2 || d.RowRetries[0].Pass != 1 {
		t.Errorf("row retries %+v", d.RowRetries)
	}
	if d.Usage == nil || d.Usage.Used != 120 || d.Usage.Max != 15000 {
		t.Errorf("usage %+v", d.Usage)
	}
	// Jobs span 1 s .. 4 s: 3 s in 50 ms buckets. A ends at 3 s, B at 4 s; both are in
	// flight from 2 s to 3 s.
	s := d.Series
	if s.BucketSec != 0.05 || len(s.Times) != 61 || !s.Times[0].Equal(t0.Add(time.Second)) {
		t.Fatalf("series: %v s buckets, %d of them, from %v", s.BucketSec, len(s.Times), s.Times[0])
	}
	var done int64
	peak := 0
	for i := range s.Times {
		done += s.RowsDone[i]
		peak = max(peak, s.Concurrency[i])
	}
	if done != 10 || s.RowsDone[40] != 5 || s.RowsDone[60] != 5 || peak != 2 || s.Concurrency[0] != 1 ||
		s.Concurrency[30] != 2 || s.Concurrency[50] != 1 {
		t.Errorf("rows done %v, concurrency %v", s.RowsDone, s.Concurrency)
	}
	var names []string
	for _, f := range d.Files {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); got != "results.csv summary.json events.jsonl run.db" {
		t.Errorf("files %s", got)
	}
}

// TestValuesAndMask: without Values a report holds no cell value and no message; with it,
// examples per code, and a masked field's value is hidden in the cells and in the message.
func TestValuesAndMask(t *testing.T) {
	dir := knownRun(t)
	var plain bytes.Buffer
	d, err := report.Build(t.Context(), dir, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := report.Write(&plain, d, "sfbatch test", "", false); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"dee-at-example", "bob@example.com", "invalid email address"} {
		if strings.Contains(plain.String(), v) {
			t.Errorf("report without values shows %q", v)
		}
	}
	d, err = report.Build(t.Context(), dir, report.Options{Values: true, Mask: []string{"email"}, Examples: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.ByCode[0].Examples) != 1 || d.ByCode[0].Examples[0].Row != "2" {
		t.Fatalf("examples of %s: %+v", d.ByCode[0].Name, d.ByCode[0].Examples)
	}
	ex := d.ByCode[1].Examples[0]
	if ex.Message != "INVALID_EMAIL_ADDRESS:Email: invalid email address: ****:Email --" || fmt.Sprint(ex.Values) != "[Dee ****]" {
		t.Errorf("masked example %+v", ex)
	}
	var html bytes.Buffer
	if err := report.Write(&html, d, "sfbatch test", "", true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html.String(), "dee-at-example") || !strings.Contains(html.String(), "LastName=Dee") {
		t.Errorf("report with masked values: masked value shown or example missing")
	}
}

// TestWriteFileSelfContained: the page inlines its scripts and loads nothing, and links to
// the run folder's files relative to where it is written.
func TestWriteFileSelfContained(t *testing.T) {
	dir := knownRun(t)
	path, err := report.WriteFile(t.Context(), dir, "", "sfbatch test", report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, report.FileName) {
		t.Errorf("written to %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if loc := regexp.MustCompile(`(?i)<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//`).FindString(page); loc != "" {
		t.Errorf("the page loads something: %s", loc)
	}
	for _, want := range []string{`<a href="results.csv">`, "echarts", `data-outcome="unknown" data-rows="1">1<`,
		`data-total="11">11<`, "1,200", "120 of 15,000"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	other := filepath.Join(t.TempDir(), "elsewhere.html")
	if _, err := report.WriteFile(t.Context(), dir, other, "sfbatch test", report.Options{}); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(other)
	rel, _ := filepath.Rel(filepath.Dir(other), dir)
	if !strings.Contains(string(b), `<a href="`+filepath.ToSlash(rel)+`/results.csv">`) {
		t.Errorf("links of a page written elsewhere do not lead to %s", rel)
	}
}

// TestBuildEmptyFolder: a folder with no run is an error naming what is missing; a run that
// crashed before results.csv still has a report, which says so.
func TestBuildEmptyFolder(t *testing.T) {
	if _, err := report.Build(t.Context(), t.TempDir(), report.Options{}); err == nil || !strings.Contains(err.Error(), "holds no run") {
		t.Errorf("empty folder: %v", err)
	}
	dir := knownRun(t)
	os.Remove(filepath.Join(dir, "results.csv"))
	os.Remove(filepath.Join(dir, "summary.json"))
	d, err := report.Build(t.Context(), dir, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Notes) != 2 || len(d.Jobs) != 2 || d.Rows != 0 {
		t.Errorf("notes %q, %d jobs, %d rows", d.Notes, len(d.Jobs), d.Rows)
	}
}

// largeRun writes a run folder of rows failed rows (spread over 700 error codes and 30
// fields, so the caps apply) and jobs jobs.
func largeRun(tb testing.TB, rows, jobs int) string {
	tb.Helper()
	dir := tb.TempDir()
	f, err := os.Create(filepath.Join(dir, "results.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "sf__Row,sf__Outcome,sf__Id,sf__Created,sf__Error,Name,Email,Phone")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(w, "%d,failed,,false,CODE_%d:value %d is wrong:Field_%d__c --,name %d,e%d@example.com,555-%07d\n", i, i%700, i, i%30, i, i, i)
	}
	w.Flush()
	f.Close()
	var ev strings.Builder
	for j := range jobs {
		id := fmt.Sprintf("750%015d", j)
		start := t0.Add(time.Duration(j) * 100 * time.Millisecond)
		for k, st := range []string{"Open", "UploadComplete", "InProgress", "JobComplete"} {
			fmt.Fprintf(&ev, `{"event":"job","api":"bulk2","job":%q,"state":%q,"time":%q}`+"\n", id, st,
				start.Add(time.Duration(k)*time.Second).Format(time.RFC3339Nano))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "events.jsonl"), []byte(ev.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// TestLargeRunAggregates: many failed rows and 10,000 jobs make a page whose size
// depends on the jobs and the caps, not on the rows; memory stays bounded while
// results.csv is streamed.
func TestLargeRunAggregates(t *testing.T) {
	// A million rows take a few seconds; BenchmarkBuildMillionFailedRows measures them.
	rows := 250_000
	if testing.Short() {
		rows = 50_000
	}
	dir := largeRun(t, rows, 10_000)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	d, err := report.Build(t.Context(), dir, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := report.Write(&html, d, "sfbatch test", "", false); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if d.Rows != int64(rows) || len(d.ByCode) != report.MaxGroups+1 || len(d.ByField) != 30 || len(d.Jobs) != 10_000 {
		t.Errorf("%d rows, %d codes, %d fields, %d jobs", d.Rows, len(d.ByCode), len(d.ByField), len(d.Jobs))
	}
	var other int64
	for _, g := range d.ByCode {
		if g.Name == "(other)" {
			other = g.Rows
		}
	}
	if want := int64(rows) * 200 / 700; other < want-200 || other > want+200 {
		t.Errorf("%d rows under (other), want about %d", other, want)
	}
	if html.Len() > 8<<20 {
		t.Errorf("page of %d bytes for 10,000 jobs", html.Len())
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 256<<20 {
		t.Errorf("heap grew by %d MiB", grew>>20)
	}
	t.Logf("%d failed rows, 10,000 jobs: built and rendered in %v, page %d KiB", rows, elapsed.Round(time.Millisecond), html.Len()>>10)
}

func BenchmarkBuildMillionFailedRows(b *testing.B) {
	dir := largeRun(b, 1_000_000, 10_000)
	b.ResetTimer()
	for range b.N {
		d, err := report.Build(context.Background(), dir, report.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := report.Write(new(bytes.Buffer), d, "bench", "", false); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLargeReportInBrowser: the page of a run of 10,000 jobs and 50,000 failed rows (500
// error codes and more) loads in headless Chromium with no console message, draws its
// charts, and shows its counts.
func TestLargeReportInBrowser(t *testing.T) {
	bin := browsertest.Find()
	if bin == "" {
		t.Skip(browsertest.SkipMessage)
	}
	dir := largeRun(t, 50_000, 10_000)
	page, err := report.WriteFile(t.Context(), dir, "", "sfbatch test", report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	dom, logs := browsertest.Run(t, bin, page, "--dump-dom")
	elapsed := time.Since(start)
	for _, line := range browsertest.ConsoleLines(logs) {
		t.Errorf("console message: %s", line)
	}
	if strings.Contains(dom, "data-errors=") || !strings.Contains(dom, `data-charts="5"`) {
		t.Errorf("the page did not draw its charts without errors")
	}
	if !strings.Contains(dom, `data-outcome="failed" data-rows="50000">50,000<`) ||
		!strings.Contains(dom, "Timeline of jobs and batches (10,000)") {
		t.Errorf("the page does not show 50,000 failed rows and 10,000 jobs")
	}
	t.Logf("10,000 jobs: loaded and drawn by headless Chromium in %v (browser start included)", elapsed.Round(time.Millisecond))
}
