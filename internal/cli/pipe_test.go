package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// pipeRun is what one sfbatch pipe invocation produced.
type pipeRun struct {
	code   int
	out    []byte
	stderr string
	events []map[string]any
}

// event returns the first event of kind.
func (r *pipeRun) event(kind string) map[string]any {
	for _, e := range r.events {
		if e["event"] == kind {
			return e
		}
	}
	return nil
}

// handshakeLine is the --handshake line that logs in to srv.
func handshakeLine(t *testing.T, srv *salesforcetest.Server, token string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]string{"accessToken": token, "instanceUrl": srv.URL(), "caCert": string(srv.CACertPEM())})
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// runPipeCmd runs sfbatch pipe in process with stdin, and parses standard error, which must
// be JSON Lines events only.
func runPipeCmd(t *testing.T, stdin []byte, args ...string) *pipeRun {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(t.Context(), &IOStreams{In: bytes.NewReader(stdin), Out: &out, ErrOut: &errOut}, append([]string{"pipe"}, args...))
	r := &pipeRun{code: code, out: out.Bytes(), stderr: errOut.String()}
	sc := bufio.NewScanner(strings.NewReader(errOut.String()))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e["event"] == nil {
			t.Fatalf("standard error line %q is not a JSON event", sc.Text())
		}
		r.events = append(r.events, e)
	}
	return r
}

// readArrowResults reads an Arrow result stream into one record per column name.
func readArrowResults(t *testing.T, b []byte) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	rd, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("result stream: %v", err)
	}
	defer rd.Release()
	var recs []arrow.RecordBatch
	for rd.Next() {
		rec := rd.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := rd.Err(); err != nil {
		t.Fatalf("result stream: %v", err)
	}
	return rd.Schema(), recs
}

// column returns column name of every batch, concatenated, as ValueStr texts ("(null)" for
// nulls).
func column(t *testing.T, schema *arrow.Schema, recs []arrow.RecordBatch, name string) []string {
	t.Helper()
	idx := schema.FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("result schema has no column %s: %v", name, schema)
	}
	var out []string
	for _, r := range recs {
		c := r.Column(idx[0])
		for i := range c.Len() {
			if c.IsNull(i) {
				out = append(out, "(null)")
			} else {
				out = append(out, c.ValueStr(i))
			}
		}
	}
	return out
}

// typedStream is the Arrow input of TestPipeArrowEveryType: one column per Arrow type Spark
// sends, into the fields of Typed__c.
func typedStream(t *testing.T, rows int, nanRow int) (*arrow.Schema, []byte) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "Name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "Ext__c", Type: arrow.BinaryTypes.LargeString},
		{Name: "Small__c", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "Medium__c", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "Qty__c", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "Big__c", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "Unsigned__c", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "Ratio__c", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "Weight__c", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "Amount__c", Type: &arrow.Decimal128Type{Precision: 18, Scale: 2}, Nullable: true},
		{Name: "Paid__c", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "Due__c", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "Local_At__c", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "At__c", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "Blob__c", Type: arrow.BinaryTypes.Binary, Nullable: true},
	}, nil)
	base := time.Date(2024, 7, 1, 9, 30, 0, 0, time.UTC)
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range rows {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("Row %d", i+1))
		b.Field(1).(*array.LargeStringBuilder).Append(fmt.Sprintf("T-%04d", i+1))
		if i%5 == 4 { // every fifth row: nulls in the other columns
			for c := 2; c < len(schema.Fields()); c++ {
				b.Field(c).AppendNull()
			}
		} else {
			b.Field(2).(*array.Int8Builder).Append(int8(-i % 100))
			b.Field(3).(*array.Int16Builder).Append(int16(1000 + i))
			b.Field(4).(*array.Int32Builder).Append(int32(100000 + i))
			b.Field(5).(*array.Int64Builder).Append(int64(1e12) + int64(i))
			b.Field(6).(*array.Uint32Builder).Append(uint32(3000 + i))
			b.Field(7).(*array.Float32Builder).Append(0.25 + float32(i))
			w64 := 1.5 + float64(i)/8
			if i == nanRow {
				w64 = math.NaN()
			}
			b.Field(8).(*array.Float64Builder).Append(w64)
			b.Field(9).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(123456 + i)))
			b.Field(10).(*array.BooleanBuilder).Append(i%2 == 0)
			b.Field(11).(*array.Date32Builder).Append(arrow.Date32FromTime(base.AddDate(0, 0, i)))
			b.Field(12).(*array.TimestampBuilder).Append(arrow.Timestamp(base.Add(time.Duration(i) * time.Minute).UnixMicro()))
			b.Field(13).(*array.TimestampBuilder).Append(arrow.Timestamp(base.Add(time.Duration(i) * time.Minute).UnixMicro()))
			b.Field(14).(*array.BinaryBuilder).Append([]byte{byte(i), 0xff, 'x'})
		}
		if (i+1)%4 == 0 || i == rows-1 { // several batches
			rec := b.NewRecordBatch()
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			rec.Release()
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return schema, buf.Bytes()
}

// TestPipeArrowEveryType sends one Arrow column of every type Spark sends through pipe into
// the emulator, with every column echoed as a key: the result stream has one row per input
// row, the key columns come back with their input types and values, and the org holds the
// Salesforce form of each value (the wall-clock timestamp read in --time-zone). A NaN fails
// its row, unsent.
func TestPipeArrowEveryType(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t, salesforcetest.WithSchemaFile("testdata/pipe_schema.json"))
	const rows, nanRow = 11, 6
	schema, stream := typedStream(t, rows, nanRow)
	var keys []string
	for _, f := range schema.Fields() {
		keys = append(keys, f.Name)
	}
	stdin := append(handshakeLine(t, srv, srv.AccessToken()), stream...)
	r := runPipeCmd(t, stdin, "upsert", "-s", "Typed__c", "-i", "Ext__c", "--handshake",
		"--key-columns", strings.Join(keys, ","), "--time-zone", "Europe/Paris")
	if r.code != ExitRowsFailed {
		t.Fatalf("exit %d, want %d (one NaN row); stderr:\n%s", r.code, ExitRowsFailed, r.stderr)
	}
	outSchema, recs := readArrowResults(t, r.out)
	wantNames := append(append([]string(nil), pipeResultColumns...), keys...)
	var gotNames []string
	for i, f := range outSchema.Fields() {
		gotNames = append(gotNames, f.Name)
		if i >= len(pipeResultColumns) && !arrow.TypeEqual(f.Type, schema.Field(i-len(pipeResultColumns)).Type) {
			t.Errorf("key column %s has type %s, input had %s", f.Name, f.Type, schema.Field(i-len(pipeResultColumns)).Type)
		}
	}
	if diff := cmp.Diff(wantNames, gotNames); diff != "" {
		t.Fatalf("result columns (-want +got):\n%s", diff)
	}
	// Order the result rows by sf__Row and compare the echoed keys with the input's.
	rowNums := column(t, outSchema, recs, "sf__Row")
	order := make([]int, len(rowNums))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return strings.Compare(fmt.Sprintf("%06s", rowNums[a]), fmt.Sprintf("%06s", rowNums[b]))
	})
	inRd, err := ipc.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	defer inRd.Release()
	var inRecs []arrow.RecordBatch
	for inRd.Next() {
		rec := inRd.RecordBatch()
		rec.Retain()
		inRecs = append(inRecs, rec)
	}
	outcomes := column(t, outSchema, recs, "sf__Outcome")
	codes := column(t, outSchema, recs, "sf__ErrorCode")
	for _, k := range keys {
		in := column(t, schema, inRecs, k)
		out := column(t, outSchema, recs, k)
		for i, j := range order {
			if rowNums[j] != fmt.Sprint(i+1) {
				t.Fatalf("result rows %v are not 1..%d once each", rowNums, rows)
			}
			if out[j] != in[i] {
				t.Errorf("row %d key %s = %q, input %q", i+1, k, out[j], in[i])
			}
		}
	}
	for i, j := range order {
		want, wantCode := "succeeded", "(null)"
		if i == nanRow {
			want, wantCode = "failed", StatusInvalidValue
		}
		if outcomes[j] != want || codes[j] != wantCode {
			t.Errorf("row %d: %s %s, want %s %s", i+1, outcomes[j], codes[j], want, wantCode)
		}
	}
	if got := srv.Count("Typed__c"); got != rows-1 {
		t.Errorf("%d records in the org, want %d", got, rows-1)
	}
	// What the org holds for row 2 (index 1): the Salesforce form of each value.
	ids := column(t, outSchema, recs, "sf__Id")
	rec, err := srv.Get(t.Context(), "Typed__c", ids[order[1]], "Small__c", "Medium__c", "Qty__c", "Big__c", "Unsigned__c", "Ratio__c",
		"Weight__c", "Amount__c", "Paid__c", "Due__c", "Local_At__c", "At__c", "Blob__c")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, v := range rec {
		if k != "attributes" && k != "Id" {
			got[k] = fmt.Sprint(v)
		}
	}
	want := map[string]string{"Small__c": "-1", "Medium__c": "1001", "Qty__c": "100001", "Big__c": "1.000000000001e+12",
		"Unsigned__c": "3001", "Ratio__c": "1.25", "Weight__c": "1.625", "Amount__c": "1234.57", "Paid__c": "false",
		"Due__c": "2024-07-02", "Local_At__c": "2024-07-01T07:31:00.000+0000", "At__c": "2024-07-01T09:31:00.000+0000", "Blob__c": "Af94"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record of row 2 (-want +got):\n%s", diff)
	}
	sum := r.event("summary")
	if sum == nil || fmt.Sprint(sum["counts"]) != "map[failed:1 notProcessed:0 succeeded:10 unknown:0]" {
		t.Errorf("summary event %v", sum)
	}
	if strings.Contains(r.stderr, srv.AccessToken()) {
		t.Error("the access token is on standard error")
	}
}

// contactsArrow is an Arrow stream of n contacts in batches of per rows; cut > 0 cuts the
// stream's bytes there (a producer that died mid-stream).
func contactsArrow(t *testing.T, n, per int) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "LastName", Type: arrow.BinaryTypes.String},
		{Name: "Email", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("Row%04d", i+1))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("r%d@example.com", i+1))
		if (i+1)%per == 0 || i == n-1 {
			rec := b.NewRecordBatch()
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			rec.Release()
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestPipeEmptyStream: a schema without batches is an empty run: exit 0, a result stream
// with the result schema and no rows, a summary of zeros, and no login (the token is bogus).
func TestPipeEmptyStream(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	stdin := append(handshakeLine(t, srv, "not-a-token"), contactsArrow(t, 0, 1)...)
	r := runPipeCmd(t, stdin, "insert", "-s", "Contact", "--handshake", "--key-columns", "LastName")
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	schema, recs := readArrowResults(t, r.out)
	if n := len(column(t, schema, recs, "sf__Row")); n != 0 || schema.NumFields() != len(pipeResultColumns)+1 {
		t.Errorf("%d result rows, schema %v", n, schema)
	}
	if s := r.event("summary"); s == nil || s["rows"] != 0.0 {
		t.Errorf("summary %v", s)
	}
}

// TestPipeTruncatedStream: a stream that breaks off in its third batch ends the run with an
// error event naming the broken stream; the six rows read before it each have exactly one
// result row, and the org holds exactly the rows labelled succeeded.
func TestPipeTruncatedStream(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	stream := contactsArrow(t, 9, 3)
	stream = stream[:len(stream)-60] // into the third batch's body
	r := runPipeCmd(t, append(handshakeLine(t, srv, srv.AccessToken()), stream...), "insert", "-s", "Contact", "--handshake")
	if r.code != ExitRowsFailed && r.code != ExitUsage {
		t.Fatalf("exit %d, want %d or %d; stderr:\n%s", r.code, ExitRowsFailed, ExitUsage, r.stderr)
	}
	e := r.event("error")
	if e == nil || e["status"] != float64(r.code) || !strings.Contains(fmt.Sprint(e["message"]), "truncated or malformed") {
		t.Errorf("error event %v", e)
	}
	schema, recs := readArrowResults(t, r.out)
	rows, outcomes := column(t, schema, recs, "sf__Row"), column(t, schema, recs, "sf__Outcome")
	slices.Sort(rows)
	if diff := cmp.Diff([]string{"1", "2", "3", "4", "5", "6"}, rows); diff != "" {
		t.Errorf("result rows (-want +got):\n%s", diff)
	}
	succeeded := 0
	for _, o := range outcomes {
		switch o {
		case "succeeded":
			succeeded++
		case "not_processed":
		default:
			t.Errorf("outcome %q", o)
		}
	}
	if n := srv.Count("Contact"); n != succeeded {
		t.Errorf("%d contacts in the org, %d rows succeeded", n, succeeded)
	}
}

// TestPipeCSVAndJSONL runs the text formats: results in the same format, keys echoed, a null
// JSON value skipped or cleared by --null-value.
func TestPipeCSVAndJSONL(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	csvIn := "LastName,Email\nAda,ada@example.com\nAlan,not-an-email\n"
	r := runPipeCmd(t, append(handshakeLine(t, srv, srv.AccessToken()), csvIn...), "insert", "-s", "Contact", "--handshake",
		"--format", "csv", "--key-columns", "Email")
	if r.code != ExitRowsFailed {
		t.Fatalf("csv: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(r.out)), "\n")
	if len(lines) != 3 || lines[0] != strings.Join(pipeResultColumns, ",")+",Email" {
		t.Fatalf("csv output:\n%s", r.out)
	}
	slices.Sort(lines[1:])
	if !strings.HasPrefix(lines[1], "1,succeeded,003") || !strings.HasSuffix(lines[1], ",true,,,,,,ada@example.com") ||
		!strings.HasPrefix(lines[2], "2,failed,,,INVALID_EMAIL_ADDRESS,") || !strings.HasSuffix(lines[2], ",not-an-email") {
		t.Errorf("csv rows:\n%s", strings.Join(lines[1:], "\n"))
	}

	id := func(line string) string { return strings.Split(line, ",")[2] }(lines[1])
	// Update with a null Phone: skip leaves the stored phone, clear empties it.
	for _, tc := range []struct {
		null string
		want any
	}{{"skip", "555-0100"}, {"clear", nil}} {
		pre := fmt.Sprintf(`{"Id":%q,"Phone":"555-0100"}`+"\n", id)
		if r := runPipeCmd(t, append(handshakeLine(t, srv, srv.AccessToken()), pre...), "update", "-s", "Contact", "--handshake", "--format", "jsonl"); r.code != ExitOK {
			t.Fatalf("jsonl set phone: exit %d\n%s", r.code, r.stderr)
		}
		in := fmt.Sprintf(`{"Id":%q,"Phone":null,"Title":"Dr"}`+"\n", id)
		r := runPipeCmd(t, append(handshakeLine(t, srv, srv.AccessToken()), in...), "update", "-s", "Contact", "--handshake",
			"--format", "jsonl", "--null-value", tc.null, "--key-columns", "Id,Phone")
		if r.code != ExitOK {
			t.Fatalf("jsonl %s: exit %d\n%s", tc.null, r.code, r.stderr)
		}
		var res map[string]any
		if err := json.Unmarshal(r.out, &res); err != nil {
			t.Fatalf("jsonl output %q: %v", r.out, err)
		}
		if res["sf__Row"] != 1.0 || res["sf__Outcome"] != "succeeded" || res["Id"] != id || res["Phone"] != nil || res["sf__Created"] != false {
			t.Errorf("jsonl %s result %v", tc.null, res)
		}
		rec, err := srv.Get(t.Context(), "Contact", id, "Phone", "Title")
		if err != nil {
			t.Fatal(err)
		}
		if rec["Phone"] != tc.want || rec["Title"] != "Dr" {
			t.Errorf("--null-value %s: record %v, want Phone %v", tc.null, rec, tc.want)
		}
	}
}

// TestPipeExitCodes checks the contracts' exit codes and that each failure is one error
// event on standard error, never with a secret in it.
func TestPipeExitCodes(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	good := handshakeLine(t, srv, srv.AccessToken())
	stream := contactsArrow(t, 2, 2)
	nested := func() []byte {
		schema := arrow.NewSchema([]arrow.Field{{Name: "Tags", Type: arrow.ListOf(arrow.BinaryTypes.String)}}, nil)
		var buf bytes.Buffer
		w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
		w.Close()
		return buf.Bytes()
	}()
	unreachable, _ := json.Marshal(map[string]string{"accessToken": "secret-token-1", "instanceUrl": "https://127.0.0.1:1"})
	for _, tc := range []struct {
		name  string
		stdin []byte
		args  []string
		code  int
		event string
	}{
		{"no operation", stream, []string{"-s", "Contact"}, ExitUsage, "UsageError"},
		{"bad operation", stream, []string{"merge", "-s", "Contact"}, ExitUsage, "UsageError"},
		{"no object", stream, []string{"insert"}, ExitUsage, "UsageError"},
		{"unknown flag", stream, []string{"insert", "-s", "Contact", "--password", "x"}, ExitUsage, "UsageError"},
		{"bad format", stream, []string{"insert", "-s", "Contact", "--format", "xml"}, ExitUsage, "UsageError"},
		{"bad zone", stream, []string{"insert", "-s", "Contact", "--time-zone", "Mars/Olympus"}, ExitUsage, "UsageError"},
		{"bad share", stream, []string{"insert", "-s", "Contact", "--max-api-share", "150%"}, ExitUsage, "UsageError"},
		{"bad key column", append(good, stream...), []string{"insert", "-s", "Contact", "--handshake", "--key-columns", "Nope"}, ExitUsage, "UsageError"},
		{"nested type", append(good, nested...), []string{"insert", "-s", "Contact", "--handshake"}, ExitUsage, "InputError"},
		{"not arrow", append(good, "LastName\nX\n"...), []string{"insert", "-s", "Contact", "--handshake"}, ExitUsage, "InputError"},
		{"bad handshake", append([]byte("{\"password\":\"secret-token-1\"}\n"), stream...), []string{"insert", "-s", "Contact", "--handshake"}, ExitUsage, "UsageError"},
		{"unknown column", append(good, contactsCSVWith("Nope__c")...), []string{"insert", "-s", "Contact", "--handshake", "--format", "csv"}, ExitUsage, "InputError"},
		{"bad token", append(handshakeLine(t, srv, "secret-token-1"), stream...), []string{"insert", "-s", "Contact", "--handshake"}, ExitAuth, "AuthError"},
		{"unreachable", append(append(unreachable, '\n'), stream...), []string{"insert", "-s", "Contact", "--handshake"}, ExitUnreachable, "OrgUnreachableError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runPipeCmd(t, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			e := r.event("error")
			if e == nil || e["status"] != float64(tc.code) || e["name"] != tc.event || e["message"] == "" {
				t.Errorf("error event %v, want status %d name %s", e, tc.code, tc.event)
			}
			if strings.Contains(r.stderr, "secret-token-1") || strings.Contains(r.stderr, srv.AccessToken()) {
				t.Errorf("a secret is on standard error:\n%s", r.stderr)
			}
		})
	}
	if n := srv.Count("Contact"); n != 0 {
		t.Errorf("%d contacts created by runs that must send nothing", n)
	}
}

func contactsCSVWith(col string) string {
	return "LastName," + col + "\nX,1\n"
}

// TestPipeOutcome checks the labels of rows the engine did not process: an engine with its
// own unknown outcome is taken at its word; without one, a row is unknown when a request
// carrying it may have been applied.
func TestPipeOutcome(t *testing.T) {
	t.Parallel()
	precise := load.Outcome(load.NotProcessed+1).String() == "unknown"
	guess := func(heuristic string) string {
		if precise {
			return "not_processed"
		}
		return heuristic
	}
	jobs := &jobWatch{}
	jobs.event(load.Event{Kind: load.JobState, API: load.Bulk2, JobID: "750open", State: "Open"})
	jobs.event(load.Event{Kind: load.JobState, API: load.Bulk2, JobID: "750open", State: "Aborted"})
	jobs.event(load.Event{Kind: load.JobState, API: load.Bulk2, JobID: "750ran", State: "Open"})
	jobs.event(load.Event{Kind: load.JobState, API: load.Bulk2, JobID: "750ran", State: "UploadComplete"})
	aborted := &load.RowError{StatusCode: load.StatusAborted, Message: "the load stopped"}
	unknownEngine := "not_processed"
	if precise {
		unknownEngine = "unknown"
	}
	for _, tc := range []struct {
		r    load.RowResult
		want string
	}{
		{load.RowResult{Outcome: load.Succeeded}, "succeeded"},
		{load.RowResult{Outcome: load.Failed, Error: &load.RowError{StatusCode: "X"}}, "failed"},
		{load.RowResult{Outcome: load.NotProcessed + 1}, unknownEngine},
		{load.RowResult{Outcome: load.NotProcessed, Error: aborted}, "not_processed"},                                // never sent
		{load.RowResult{Outcome: load.NotProcessed, Error: aborted, Attempts: 1, JobID: "750open"}, "not_processed"}, // job never closed
		{load.RowResult{Outcome: load.NotProcessed, Error: aborted, Attempts: 1, JobID: "750ran"}, guess("unknown")}, // job was processing
		{load.RowResult{Outcome: load.NotProcessed, Error: aborted, Attempts: 1}, guess("unknown")},                  // a call in flight
		{load.RowResult{Outcome: load.NotProcessed, Error: &load.RowError{Message: "whether it was inserted is unknown"}}, guess("unknown")},
	} {
		if got := pipeOutcome(&tc.r, jobs); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.r, got, tc.want)
		}
	}
}
