package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// seedTyped writes n Typed__c records straight into the emulator's org (not through a load)
// and returns their ids.
func seedTyped(t *testing.T, srv *salesforcetest.Server, n int) []string {
	t.Helper()
	reqs := make([]org.WriteRequest, 0, n)
	for i := 1; i <= n; i++ {
		f := map[string]any{
			"Name": fmt.Sprintf("Row %d", i), "Ext__c": fmt.Sprintf("T-%05d", i),
			"Qty__c": float64(i), "Amount__c": float64(i) + 0.25, "Paid__c": i%2 == 0,
			"Due__c": fmt.Sprintf("2024-%02d-%02d", 1+i%12, 1+i%28),
			"At__c":  time.Date(2024, 7, 1, 9, 30, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
		}
		if i%10 == 0 {
			delete(f, "Qty__c") // some nulls
		}
		reqs = append(reqs, org.WriteRequest{Op: org.OpInsert, Object: "Typed__c", Fields: f})
	}
	var ids []string
	for i, r := range srv.Org().Write(t.Context(), srv.UserID(), reqs, false) {
		if !r.Success {
			t.Fatalf("seeding record %d: %+v", i, r.Errors)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

// plannedRead is the part of a --plan's output the tests read.
type plannedRead struct {
	extract.ReadPlan
	Partitions []struct {
		extract.Partition
		Args []string `json:"args"`
	} `json:"partitions"`
}

// exportPlan runs pipe --export --plan and decodes the plan.
func exportPlan(t *testing.T, srv *salesforcetest.Server, args ...string) (plannedRead, map[string]any) {
	t.Helper()
	r := runPipeCmd(t, handshakeLine(t, srv, srv.AccessToken()), append([]string{"--export", "--plan", "--handshake"}, args...)...)
	if r.code != ExitOK {
		t.Fatalf("plan: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	var plan plannedRead
	var raw map[string]any
	if err := json.Unmarshal(r.out, &plan); err != nil {
		t.Fatalf("plan: %v: %s", err, r.out)
	}
	if err := json.Unmarshal(r.out, &raw); err != nil {
		t.Fatal(err)
	}
	return plan, raw
}

// readExportPartition runs pipe --export with a planned partition's arguments and returns
// its Arrow output.
func readExportPartition(t *testing.T, srv *salesforcetest.Server, index int, args []string) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	r := runPipeCmd(t, handshakeLine(t, srv, srv.AccessToken()), append([]string{"--export", "--handshake"}, args...)...)
	if r.code != ExitOK {
		t.Fatalf("partition %d (%q): exit %d; stderr:\n%s", index, args, r.code, r.stderr)
	}
	if s := r.event("summary"); s == nil {
		t.Fatalf("partition %d: no summary event: %s", index, r.stderr)
	}
	return readArrowResults(t, r.out)
}

// testClient is a client of srv.
func testClient(t *testing.T, srv *salesforcetest.Server) *salesforce.Client {
	t.Helper()
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const typedFields = "Id,Name,Qty__c,Amount__c,Paid__c,Due__c,At__c"

// TestPipeExportPages plans a read as one Bulk 2.0 job with a partition per result page,
// reads every partition in its own pipe (--job --locator --max-records, as the plan gives
// them) with the same declared schema, and gets every row exactly once with typed values; a
// later plan deletes the job once every page was read longer ago than --keep-jobs-for.
func TestPipeExportPages(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t, salesforcetest.WithSchemaFile("testdata/pipe_schema.json"))
	const n = 2500
	ids := seedTyped(t, srv, n)
	done := t.TempDir()
	plan, raw := exportPlan(t, srv, "-s", "Typed__c", "--fields", typedFields, "--page-size", "1000", "--done-dir", done)
	if len(plan.Partitions) != 3 || len(plan.Jobs) != 1 {
		t.Fatalf("partitions %d jobs %v, want 3 pages of one job", len(plan.Partitions), plan.Jobs)
	}
	wantTypes := map[string]string{"Id": "string", "Name": "string", "Qty__c": "long", "Amount__c": "double", "Paid__c": "boolean", "Due__c": "date", "At__c": "timestamp"}
	for _, f := range raw["sparkSchema"].(map[string]any)["fields"].([]any) {
		m := f.(map[string]any)
		if wantTypes[m["name"].(string)] != m["type"] {
			t.Errorf("spark type of %s = %v, want %s", m["name"], m["type"], wantTypes[m["name"].(string)])
		}
	}
	var got []string
	var firstSchema *arrow.Schema
	for _, p := range plan.Partitions {
		if p.Kind != extract.PartPage || !slices.Contains(p.Args, "--job") || !slices.Contains(p.Args, "--max-records") {
			t.Fatalf("partition %d: kind %s args %q, want a page read with --job and --max-records", p.Index, p.Kind, p.Args)
		}
		schema, recs := readExportPartition(t, srv, p.Index, append(p.Args, "--done-dir", done))
		if firstSchema == nil {
			firstSchema = schema
		} else if !schema.Equal(firstSchema) {
			t.Fatalf("partition %d schema %v differs from %v", p.Index, schema, firstSchema)
		}
		got = append(got, column(t, schema, recs, "Id")...)
		names := column(t, schema, recs, "Name")
		qty := column(t, schema, recs, "Qty__c")
		paid := column(t, schema, recs, "Paid__c")
		due := column(t, schema, recs, "Due__c")
		at := column(t, schema, recs, "At__c")
		for i, name := range names {
			var k int
			fmt.Sscanf(name, "Row %d", &k)
			wantQty := fmt.Sprint(k)
			if k%10 == 0 {
				wantQty = "(null)"
			}
			wantAt := time.Date(2024, 7, 1, 9, 30, 0, 0, time.UTC).Add(time.Duration(k) * time.Minute).Format(time.RFC3339)
			if qty[i] != wantQty || paid[i] != fmt.Sprint(k%2 == 0) || due[i] != fmt.Sprintf("2024-%02d-%02d", 1+k%12, 1+k%28) || at[i] != wantAt {
				t.Fatalf("row %q: qty %s paid %s due %s at %s", name, qty[i], paid[i], due[i], at[i])
			}
		}
	}
	for _, f := range firstSchema.Fields() {
		if want := plan.Columns[firstSchema.FieldIndices(f.Name)[0]].Kind.ArrowType(); !arrow.TypeEqual(f.Type, want) {
			t.Errorf("column %s: %s, want %s", f.Name, f.Type, want)
		}
	}
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Fatalf("read %d ids, want the %d seeded, each once", len(got), len(ids))
	}
	// The job is kept for another read of the same pages, and deleted by a later plan once
	// its pages were last read longer ago than --keep-jobs-for.
	c := testClient(t, srv)
	if _, err := c.Bulk2.GetQueryJob(t.Context(), plan.Jobs[0]); err != nil {
		t.Fatalf("query job %s is gone right after its pages were read: %v", plan.Jobs[0], err)
	}
	exportPlan(t, srv, "-q", "SELECT Id FROM Typed__c", "--done-dir", done, "--keep-jobs-for", "1h")
	if _, err := c.Bulk2.GetQueryJob(t.Context(), plan.Jobs[0]); err != nil {
		t.Fatalf("query job %s deleted within --keep-jobs-for: %v", plan.Jobs[0], err)
	}
	exportPlan(t, srv, "-q", "SELECT Id FROM Typed__c", "--done-dir", done, "--keep-jobs-for", "0s")
	if _, err := c.Bulk2.GetQueryJob(t.Context(), plan.Jobs[0]); err == nil {
		t.Errorf("query job %s still exists after a plan past --keep-jobs-for", plan.Jobs[0])
	}
}

// TestPipeExportPagesKeepZero plans a read with --keep-jobs-for 0: the reader of its last
// page deletes the query job at once, and its folder under --done-dir, so a completed read
// leaves no query job behind.
func TestPipeExportPagesKeepZero(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t, salesforcetest.WithSchemaFile("testdata/pipe_schema.json"))
	seedTyped(t, srv, 1200)
	done := t.TempDir()
	plan, _ := exportPlan(t, srv, "-s", "Typed__c", "--fields", "Id,Name", "--page-size", "500", "--done-dir", done, "--keep-jobs-for", "0s")
	if len(plan.Partitions) != 3 || len(plan.Jobs) != 1 {
		t.Fatalf("partitions %d jobs %v, want 3 pages of one job", len(plan.Partitions), plan.Jobs)
	}
	c := testClient(t, srv)
	rows := 0
	for i, p := range plan.Partitions {
		schema, recs := readExportPartition(t, srv, p.Index, append(p.Args, "--done-dir", done))
		rows += len(column(t, schema, recs, "Id"))
		_, err := c.Bulk2.GetQueryJob(t.Context(), plan.Jobs[0])
		if last := i == len(plan.Partitions)-1; last != (err != nil) {
			t.Fatalf("after reading page %d of %d: query job lookup: %v", i+1, len(plan.Partitions), err)
		}
	}
	if rows != 1200 {
		t.Errorf("read %d rows, want 1200", rows)
	}
	if _, err := os.Stat(filepath.Join(done, plan.Jobs[0])); !os.IsNotExist(err) {
		t.Errorf("the job's folder under --done-dir is still there: %v", err)
	}
}

// TestPipeExportIDRangeAndPKChunking reads the same rows split by sampled id ranges and by
// PK-chunk batches: every row exactly once either way.
func TestPipeExportIDRangeAndPKChunking(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t, salesforcetest.WithSchemaFile("testdata/pipe_schema.json"))
	ids := seedTyped(t, srv, 3000)
	slices.Sort(ids)
	for _, tc := range []struct {
		name  string
		args  []string
		parts int
	}{
		{"idRange", []string{"--partitioning", "idRange", "--partitions", "5"}, 5},
		{"pkChunking", []string{"--pk-chunking", "700"}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, _ := exportPlan(t, srv, append([]string{"-q", "SELECT Id, Qty__c FROM Typed__c"}, tc.args...)...)
			if len(plan.Partitions) != tc.parts {
				t.Fatalf("%d partitions, want %d", len(plan.Partitions), tc.parts)
			}
			var got []string
			for _, p := range plan.Partitions {
				schema, recs := readExportPartition(t, srv, p.Index, p.Args)
				part := column(t, schema, recs, "Id")
				if tc.name == "idRange" && (len(part) < 3000/5/2 || len(part) > 3000/5*2) {
					t.Errorf("id range %d holds %d rows, not within 2x of %d", p.Index, len(part), 3000/5)
				}
				got = append(got, part...)
			}
			slices.Sort(got)
			if !slices.Equal(got, ids) {
				t.Fatalf("read %d ids, want the %d seeded, each once", len(got), len(ids))
			}
		})
	}
}

// TestExportSince exports incrementally: the first run reads every row, a second run with
// no change reads none, and after an update and a delete the next run reads exactly those
// two (the deleted one with IsDeleted true). A window planned but not committed is planned
// again unchanged.
func TestExportSince(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t, salesforcetest.WithSchemaFile("testdata/pipe_schema.json"))
	ids := seedTyped(t, srv, 50)
	dir := t.TempDir()
	state := filepath.Join(dir, "state", "typed.json")
	export := func(name string) []string {
		t.Helper()
		out := filepath.Join(dir, name)
		o := &exportOptions{Object: "Typed__c", Fields: []string{"Id", "Name"}, Since: state, WatermarkField: extract.DefaultWatermarkField,
			Output: out, API: "auto", ColumnDelimiter: "COMMA", LineEnding: "LF", Quiet: true, RunDir: filepath.Join(dir, "runs", name)}
		if _, err := runExport(t.Context(), &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, testClient(t, srv), o); err != nil {
			t.Fatalf("export %s: %v", name, err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if lines[0] != "Id,Name,IsDeleted" {
			t.Fatalf("header %q", lines[0])
		}
		return lines[1:]
	}
	if got := export("1.csv"); len(got) != 50 {
		t.Fatalf("first run read %d rows, want 50", len(got))
	}
	if got := export("2.csv"); len(got) != 0 {
		t.Fatalf("a run without changes read %v", got)
	}
	time.Sleep(5 * time.Millisecond) // the changes get a later SystemModstamp
	res := srv.Org().Write(t.Context(), srv.UserID(), []org.WriteRequest{
		{Op: org.OpUpdate, Object: "Typed__c", Fields: map[string]any{"Id": ids[3], "Name": "Changed"}},
		{Op: org.OpDelete, Object: "Typed__c", Fields: map[string]any{"Id": ids[7]}},
	}, false)
	for _, r := range res {
		if !r.Success {
			t.Fatalf("change: %+v", r.Errors)
		}
	}
	got := export("3.csv")
	slices.Sort(got)
	want := []string{ids[3] + ",Changed,false", ids[7] + ",Row 8,true"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("after an update and a delete: %q, want %q", got, want)
	}

	// Through pipe: another update and delete, a planned window kept until it is committed
	// (planned twice, the same window), read by its partitions with queryAll.
	time.Sleep(5 * time.Millisecond)
	for _, r := range srv.Org().Write(t.Context(), srv.UserID(), []org.WriteRequest{
		{Op: org.OpUpdate, Object: "Typed__c", Fields: map[string]any{"Id": ids[5], "Name": "Again"}},
		{Op: org.OpDelete, Object: "Typed__c", Fields: map[string]any{"Id": ids[9]}},
	}, false) {
		if !r.Success {
			t.Fatalf("change: %+v", r.Errors)
		}
	}
	p1, raw1 := exportPlan(t, srv, "-s", "Typed__c", "--fields", "Id,Name", "--since", state)
	p2, raw2 := exportPlan(t, srv, "-s", "Typed__c", "--fields", "Id,Name", "--since", state)
	if p1.Query != p2.Query || fmt.Sprint(raw1["window"]) != fmt.Sprint(raw2["window"]) {
		t.Fatalf("an uncommitted window changed: %v then %v", raw1["window"], raw2["window"])
	}
	// Its partitions read the window with queryAll (deleted rows too), through pipe's flags.
	if !p1.All || len(p1.Partitions) == 0 || !slices.Contains(p1.Partitions[0].Args, "--all-rows") {
		t.Fatalf("an incremental plan after the first run: all %v, partitions %+v", p1.All, p1.Partitions)
	}
	var read []string
	for _, p := range p1.Partitions {
		schema, recs := readExportPartition(t, srv, p.Index, p.Args)
		del := column(t, schema, recs, "IsDeleted")
		for i, id := range column(t, schema, recs, "Id") {
			read = append(read, id+","+del[i])
		}
	}
	slices.Sort(read)
	if want := []string{ids[5] + ",false", ids[9] + ",true"}; !slices.Equal(read, want) && !slices.Equal(read, []string{want[1], want[0]}) {
		t.Fatalf("the planned window read %q, want %q", read, want)
	}
	if r := runPipeCmd(t, nil, "--export", "--commit", "--since", state); r.code != ExitOK {
		t.Fatalf("commit: exit %d: %s", r.code, r.stderr)
	}
	p3, _ := exportPlan(t, srv, "-s", "Typed__c", "--fields", "Id,Name", "--since", state)
	var n int
	for _, p := range p3.Partitions {
		schema, recs := readExportPartition(t, srv, p.Index, p.Args)
		n += len(column(t, schema, recs, "Id"))
	}
	if n != 0 {
		t.Fatalf("after the commit, a window without changes read %d rows", n)
	}
}

// TestPipeExportPlanFlags: the planning flags need --plan, and --plan takes no partition.
func TestPipeExportPlanFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--export", "-q", "SELECT Id FROM Account", "--partitioning", "idRange"},
		{"--export", "-q", "SELECT Id FROM Account", "--since", "x.json"},
		{"--export", "--plan", "-q", "SELECT Id FROM Account", "--id-range", ","},
		{"--export", "--plan", "--commit", "--since", "x.json"},
		{"--export", "--commit"},
	} {
		if r := runPipeCmd(t, nil, args...); r.code != ExitUsage {
			t.Errorf("%q: exit %d, want %d (usage)\n%s", args, r.code, ExitUsage, r.stderr)
		}
	}
}
