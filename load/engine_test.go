package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

var contactHeader = []string{"External_Id__c", "LastName", "FirstName", "Email", "Title"}

// contacts returns n contact rows with unique external ids.
func contacts(n int, prefix string) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("%s-%05d", prefix, i+1), fmt.Sprintf("Last%d", i+1), "First", fmt.Sprintf("c%d@example.com", i+1), "Engineer"}
	}
	return rows
}

func rowsSource(header []string, rows [][]string) Source {
	return RowsSource(header, slices.Values(rows))
}

var apis = []API{Bulk2, Bulk1, Collections}

func TestEveryOperationThroughEveryAPI(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			f := newFakeOrg()
			l := f.loader(t)
			const n = 450
			opts := fastOptions(Options{Object: "Contact", API: api, BatchSize: 100})

			// insert
			col := newCollector(t)
			sum, err := l.Load(ctx, rowsSource(contactHeader, contacts(n, "E")), col, opts)
			if err != nil {
				t.Fatalf("insert: %v", err)
			}
			col.check(n)
			if sum.Succeeded != n || sum.Created != n || sum.Rows != n {
				t.Fatalf("insert summary = %+v", sum)
			}
			if got := f.count("Contact"); got != n {
				t.Fatalf("org has %d contacts, want %d", got, n)
			}
			if len(sum.Jobs) != 5 {
				t.Errorf("insert used %d jobs/batches/calls, want 5", len(sum.Jobs))
			}
			ids := make([]string, n)
			for i := range ids {
				r := col.byRow[int64(i+1)]
				ids[i] = r.ID
				if r.Outcome != Succeeded || !r.Created || r.ID == "" || r.Values[0] != fmt.Sprintf("E-%05d", i+1) {
					t.Fatalf("row %d = %+v", i+1, r)
				}
			}

			// update
			upd := make([][]string, n)
			for i := range upd {
				upd[i] = []string{ids[i], "Manager"}
			}
			col = newCollector(t)
			opts.Operation = Update
			sum, err = l.Load(ctx, rowsSource([]string{"Id", "Title"}, upd), col, opts)
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			col.check(n)
			if sum.Succeeded != n || sum.Created != 0 {
				t.Fatalf("update summary = %+v", sum)
			}
			if got := f.get("Contact", ids[7])["title"]; got != "Manager" {
				t.Fatalf("title after update = %q", got)
			}

			// upsert: first half existing, then 50 new
			ups := append(contacts(n/2, "E"), contacts(50, "NEW")...)
			col = newCollector(t)
			opts.Operation, opts.ExternalIDField = Upsert, "External_Id__c"
			sum, err = l.Load(ctx, rowsSource(contactHeader, ups), col, opts)
			if err != nil {
				t.Fatalf("upsert: %v", err)
			}
			col.check(len(ups))
			if sum.Succeeded != int64(len(ups)) || sum.Created != 50 {
				t.Fatalf("upsert summary = %+v", sum)
			}
			if col.byRow[1].Created || !col.byRow[int64(n/2+1)].Created {
				t.Errorf("upsert created flags wrong: %v %v", col.byRow[1].Created, col.byRow[int64(n/2+1)].Created)
			}

			// delete (and hardDelete through the bulk APIs)
			del := make([][]string, n)
			for i := range del {
				del[i] = []string{ids[i]}
			}
			opts.Operation, opts.ExternalIDField = Delete, ""
			if api != Collections {
				opts.Operation = HardDelete
			}
			col = newCollector(t)
			sum, err = l.Load(ctx, rowsSource([]string{"Id"}, del), col, opts)
			if err != nil {
				t.Fatalf("delete: %v", err)
			}
			col.check(n)
			if sum.Succeeded != n {
				t.Fatalf("delete summary = %+v", sum)
			}
			if got := f.count("Contact"); got != 50 {
				t.Fatalf("org has %d contacts after delete, want 50", got)
			}
		})
	}
}

func TestAutoPicksCollectionsForSmallInputs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rows int
		want API
	}{{10, Collections}, {30, Collections}, {31, Bulk2}, {200, Bulk2}} {
		t.Run(fmt.Sprint(tc.rows), func(t *testing.T) {
			t.Parallel()
			f := newFakeOrg()
			col := newCollector(t)
			sum, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, contacts(tc.rows, "A")), col,
				fastOptions(Options{Object: "Contact", CollectionsThreshold: 30}))
			if err != nil {
				t.Fatal(err)
			}
			col.check(tc.rows)
			if sum.API != tc.want || sum.Succeeded != int64(tc.rows) {
				t.Fatalf("API = %v, succeeded %d; want %v, %d", sum.API, sum.Succeeded, tc.want, tc.rows)
			}
		})
	}
}

func TestSplitting(t *testing.T) {
	t.Parallel()
	rows := contacts(1000, "S")
	hdr := sfcsv.EncodedSize(contactHeader, sfcsv.Comma, sfcsv.LF)
	row := sfcsv.EncodedSize(rows[0], sfcsv.Comma, sfcsv.LF)
	// packed is how many uploads greedy packing under a byte limit needs.
	packed := func(limit int) int {
		n, size := 1, hdr.Bytes
		for _, r := range rows {
			b := sfcsv.EncodedSize(r, sfcsv.Comma, sfcsv.LF).Bytes
			if size+b > limit {
				n, size = n+1, hdr.Bytes
			}
			size += b
		}
		return n
	}
	for _, tc := range []struct {
		name      string
		opts      Options
		wantJobs  int
		maxUpload int
	}{
		{"bulk2 records", Options{API: Bulk2, BatchSize: 300}, 4, 0},
		{"bulk2 bytes", Options{API: Bulk2, MaxBytesPerJob: int64(hdr.Bytes + 100*row.Bytes)}, packed(hdr.Bytes + 100*row.Bytes), hdr.Bytes + 100*row.Bytes},
		{"bulk1 records", Options{API: Bulk1, BatchSize: 250}, 4, 0},
		{"bulk1 bytes", Options{API: Bulk1, MaxBytesPerBatch: int64(hdr.Bytes + 333*row.Bytes)}, packed(hdr.Bytes + 333*row.Bytes), hdr.Bytes + 333*row.Bytes},
		{"bulk1 default", Options{API: Bulk1}, 1, 0},
		{"collections", Options{API: Collections}, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeOrg()
			col := newCollector(t)
			tc.opts.Object = "Contact"
			sum, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, rows), col, fastOptions(tc.opts))
			if err != nil {
				t.Fatal(err)
			}
			col.check(len(rows))
			if len(sum.Jobs) != tc.wantJobs {
				t.Errorf("%d chunks, want %d", len(sum.Jobs), tc.wantJobs)
			}
			for _, u := range f.uploads {
				if tc.maxUpload > 0 && u > tc.maxUpload {
					t.Errorf("upload of %d bytes over the %d limit", u, tc.maxUpload)
				}
			}
			if sum.Succeeded != 1000 {
				t.Errorf("succeeded = %d", sum.Succeeded)
			}
		})
	}
}

func TestChunkFitsCharacters(t *testing.T) {
	t.Parallel()
	// Multibyte text: bytes and characters differ, both limits apply.
	lim := limits{records: 100, bytes: 1000, chars: 100}
	c := &chunk{bytes: 10, chars: 10}
	row := sfcsv.EncodedSize([]string{strings.Repeat("é", 40)}, sfcsv.Comma, sfcsv.LF)
	if row.Bytes != 81 || row.Chars != 41 {
		t.Fatalf("EncodedSize = %+v", row)
	}
	c.add(rowMeta{}, nil, nil, row)
	if !c.fits(lim, row) == true {
		// 10+41+41 = 92 chars: fits
		t.Fatalf("second row should fit: %+v", c)
	}
	c.add(rowMeta{}, nil, nil, row)
	if c.fits(lim, row) {
		t.Fatalf("third row should not fit (133 chars > 100)")
	}
	if msg := tooLarge(Bulk1, limits{bytes: 50, chars: 1000}, sfcsv.RowSize{Bytes: 10, Chars: 10}, row); msg == "" {
		t.Fatal("row of 81 bytes should be too large for 50")
	}
	if msg := tooLarge(Bulk1, limits{bytes: 5000, chars: 40}, sfcsv.RowSize{Bytes: 10, Chars: 10}, row); !strings.Contains(msg, "characters") {
		t.Fatalf("char limit message = %q", msg)
	}
}

func TestRowAloneOverLimitFailsOnlyThatRow(t *testing.T) {
	t.Parallel()
	for _, api := range []API{Bulk2, Bulk1} {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			f := newFakeOrg()
			rows := contacts(20, "L")
			rows[6][4] = strings.Repeat("x", 2000)
			col := newCollector(t)
			opts := Options{Object: "Contact", API: api, MaxBytesPerJob: 1000, MaxBytesPerBatch: 1000, Preflight: PreflightOff}
			sum, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, rows), col, fastOptions(opts))
			if err != nil {
				t.Fatal(err)
			}
			col.check(20)
			r := col.byRow[7]
			if r.Outcome != Failed || r.Error.StatusCode != StatusRowTooLarge || !strings.Contains(r.Error.Message, "1000 bytes") {
				t.Fatalf("row 7 = %+v %+v", r, r.Error)
			}
			if sum.Succeeded != 19 || sum.Failed != 1 {
				t.Fatalf("summary = %+v", sum)
			}
		})
	}
}

func TestBulk2JoinDuplicatesReorderedPartial(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	f.shuffle = rand.New(rand.NewPCG(1, 2))
	rows := contacts(300, "J")
	// Identical rows: three copies of the same contact (no external id, so all insert).
	hdr := []string{"LastName", "FirstName", "Title"}
	var in [][]string
	for i, r := range rows {
		v := []string{r[1], "F", "T"}
		switch {
		case i%50 == 0:
			v = []string{"Same", "F", "T"} // duplicates
		case i%7 == 0:
			v = []string{"", "NoLastName", "T"} // REQUIRED_FIELD_MISSING
		case i == 13:
			v = []string{"Dropped", "F", "T"}
		}
		in = append(in, v)
	}
	f.dropResult = map[string]bool{"Dropped": true}
	col := newCollector(t)
	sum, err := f.loader(t).Load(t.Context(), rowsSource(hdr, in), col, fastOptions(Options{Object: "Contact", API: Bulk2, BatchSize: 120, Preflight: PreflightOff}))
	if err != nil {
		t.Fatal(err)
	}
	col.check(len(in))
	ids := map[string]bool{}
	for i, v := range in {
		r := col.byRow[int64(i+1)]
		if !slices.Equal(r.Values, v) {
			t.Fatalf("row %d values %q, want %q", i+1, r.Values, v)
		}
		switch {
		case v[0] == "Dropped":
			if r.Outcome != Unknown || r.Error.StatusCode != StatusNoResult {
				t.Errorf("dropped row %d = %v %+v", i+1, r.Outcome, r.Error)
			}
		case v[0] == "":
			if r.Outcome != Failed || r.Error.StatusCode != "REQUIRED_FIELD_MISSING" || !slices.Equal(r.Error.Fields, []string{"LastName"}) {
				t.Errorf("row %d = %v %+v", i+1, r.Outcome, r.Error)
			}
		default:
			if r.Outcome != Succeeded || ids[r.ID] {
				t.Errorf("row %d = %v id %s (dup %v)", i+1, r.Outcome, r.ID, ids[r.ID])
			}
			ids[r.ID] = true
		}
	}
	if sum.Unknown != 1 || sum.ErrorCodes["REQUIRED_FIELD_MISSING"] != sum.Failed {
		t.Errorf("summary %+v", sum)
	}
}

func TestLockErrorsRetriedUntilTheyConverge(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			f := newFakeOrg()
			f.fault = func(_ string, row map[string]string, attempt int) *RowError {
				if strings.HasSuffix(row["external_id__c"], "3") && attempt <= 2 {
					return &RowError{StatusCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record"}
				}
				return nil
			}
			var retried, done, total int64
			byCode := map[string]int64{}
			col := newCollector(t)
			opts := fastOptions(Options{Object: "Contact", API: api, BatchSize: 40, GroupBy: "LastName", RetrySerial: api == Bulk1,
				Progress: ProgressFunc(func(e Event) {
					switch e.Kind {
					case RowsRetried:
						retried += e.Rows
					case RowsRetriedCode:
						byCode[e.Code] += e.Rows
					case RowsDone:
						done += e.Rows
						total = e.Total
					}
				})})
			sum, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, contacts(200, "R")), col, opts)
			if err != nil {
				t.Fatal(err)
			}
			col.check(200)
			if sum.Succeeded != 200 || sum.Retried != 40 || retried != 40 || done != 200 || total != 200 {
				t.Fatalf("summary %+v, events: retried %d, done %d (total %d)", sum, retried, done, total)
			}
			if len(byCode) != 1 || byCode["UNABLE_TO_LOCK_ROW"] != 40 {
				t.Errorf("rows retried by code %v, want 40 UNABLE_TO_LOCK_ROW", byCode)
			}
			if r := col.byRow[3]; r.Attempts != 3 {
				t.Errorf("row 3 attempts = %d, want 3", r.Attempts)
			}
			if r := col.byRow[1]; r.Attempts != 1 {
				t.Errorf("row 1 attempts = %d, want 1", r.Attempts)
			}
			if r := col.byRow[3]; r.Batch < 0 || r.Batch >= 5 {
				t.Errorf("row 3 batch = %d, want one of the 5 first-pass batches", r.Batch)
			}
		})
	}
}

func TestLockErrorsGiveUpAfterMaxRetries(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	f.fault = func(_ string, row map[string]string, attempt int) *RowError {
		if row["external_id__c"] == "X-00002" {
			return &RowError{StatusCode: "UNABLE_TO_LOCK_ROW", Message: "locked"}
		}
		return nil
	}
	col := newCollector(t)
	sum, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, contacts(5, "X")), col, fastOptions(Options{Object: "Contact", API: Bulk2, MaxRetries: 2}))
	if err != nil {
		t.Fatal(err)
	}
	col.check(5)
	r := col.byRow[2]
	if r.Outcome != Failed || r.Error.StatusCode != "UNABLE_TO_LOCK_ROW" || r.Attempts != 3 {
		t.Fatalf("row 2 = %+v %+v", r, r.Error)
	}
	if sum.Failed != 1 || sum.Succeeded != 4 || sum.Retried != 2 {
		t.Fatalf("summary %+v", sum)
	}
}

func TestFailedJob(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		api       API
		op        Operation
		msg       string
		wantOK    int64
		wantFail  int64
		wantCode  string
		wantTries bool
	}{
		{"bulk2 upsert transient is retried", Bulk2, Upsert, "InternalError : server busy", 100, 0, "", true},
		{"bulk2 insert is not retried", Bulk2, Insert, "InternalError : server busy", 50, 50, "InternalError", false},
		{"bulk2 upsert permanent is not retried", Bulk2, Upsert, "InvalidBatch : Field name not found : Foo", 50, 50, "InvalidBatch", false},
		{"bulk1 upsert transient is retried", Bulk1, Upsert, "InternalError : server busy", 100, 0, "", true},
		{"bulk1 insert is not retried", Bulk1, Insert, "InternalError : server busy", 75, 0, "", false},
		{"bulk1 insert permanent", Bulk1, Insert, "InvalidBatch : Field name not found : Foo", 75, 25, "InvalidBatch", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeOrg()
			f.failJob[1] = tc.msg
			col := newCollector(t)
			opts := Options{Object: "Contact", API: tc.api, Operation: tc.op, BatchSize: 25}
			if tc.api == Bulk2 {
				opts.BatchSize = 0
			}
			if tc.op == Upsert {
				opts.ExternalIDField = "External_Id__c"
			}
			sum, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, contacts(100, "F")), col, fastOptions(opts))
			if err != nil {
				t.Fatal(err)
			}
			col.check(100)
			if sum.Succeeded != tc.wantOK || sum.Failed != tc.wantFail {
				t.Fatalf("summary %+v", sum)
			}
			if tc.wantCode != "" && sum.ErrorCodes[tc.wantCode] != tc.wantFail {
				t.Errorf("error codes %v", sum.ErrorCodes)
			}
			if (sum.Retried > 0) != tc.wantTries {
				t.Errorf("retried = %d", sum.Retried)
			}
		})
	}
}

func TestCancellationAbortsOpenJobs(t *testing.T) {
	t.Parallel()
	for _, leave := range []bool{false, true} {
		for _, api := range []API{Bulk2, Bulk1} {
			t.Run(fmt.Sprintf("%v/leave=%v", api, leave), func(t *testing.T) {
				t.Parallel()
				f := newFakeOrg()
				f.pollsToComplete = 1 << 30 // never completes
				ctx, cancel := context.WithCancel(t.Context())
				var polls atomic.Int32
				f.onPoll = func() {
					if polls.Add(1) == 6 {
						cancel()
					}
				}
				col := newCollector(t)
				opts := fastOptions(Options{Object: "Contact", API: api, BatchSize: 50, Concurrency: 3, LeaveJobsOpen: leave})
				sum, err := f.loader(t).Load(ctx, rowsSource(contactHeader, contacts(500, "C")), col, opts)
				var le *Error
				if !errors.As(err, &le) || !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want *Error wrapping context.Canceled", err)
				}
				if len(le.Jobs) == 0 {
					t.Fatal("error names no open jobs")
				}
				for _, j := range le.Jobs {
					if !strings.Contains(err.Error(), j.ID) {
						t.Errorf("error %q does not name job %s", err, j.ID)
					}
					f.mu.Lock()
					state := f.jobs[j.ID].state
					f.mu.Unlock()
					if leave == (state == "Aborted") {
						t.Errorf("job %s state %s (leave=%v)", j.ID, state, leave)
					}
				}
				// Every input row, read before the cancellation or drained after it, has
				// exactly one outcome; none succeeded. Rows of jobs aborted before they
				// processed anything are not processed; rows of jobs left running may yet be
				// saved: their outcome is unknown.
				if sum.Rows != 500 || len(col.byRow) != 500 || sum.NotProcessed+sum.Unknown != 500 || (!leave && sum.Unknown != 0) || (leave && sum.Unknown == 0) {
					t.Errorf("rows %d, outcomes %d, summary %+v", sum.Rows, len(col.byRow), sum)
				}
			})
		}
	}
}

func TestDeadlineAbortsCleanly(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	f.pollsToComplete = 1 << 30
	col := newCollector(t)
	opts := fastOptions(Options{Object: "Contact", API: Bulk2, Deadline: 30e6})
	_, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, contacts(50, "D")), col, opts)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	col.check(50)
	if f.calls["AbortIngestJob"] != 1 {
		t.Errorf("abort calls = %d", f.calls["AbortIngestJob"])
	}
}

func TestCreateJobErrorIsTyped(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	f.createErr = &salesforce.APIError{StatusCode: 400, ErrorCode: "INVALIDENTITY", Message: "Entity 'Nope' is not supported"}
	col := newCollector(t)
	sum, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, contacts(10, "E")), col, fastOptions(Options{Object: "Contact", API: Bulk2, Preflight: PreflightOff}))
	var ae *salesforce.APIError
	var le *Error
	if !errors.As(err, &ae) || !errors.As(err, &le) || ae.ErrorCode != "INVALIDENTITY" {
		t.Fatalf("err = %v", err)
	}
	col.check(10)
	if sum.NotProcessed != 10 {
		t.Errorf("summary %+v", sum)
	}
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		opts   Options
		header []string
		rows   [][]string
		want   []Problem
	}{
		{"unknown column", Options{Object: "Contact"}, []string{"LastName", "Nope__c"}, [][]string{{"a", "b"}},
			[]Problem{{Column: "Nope__c", Code: "INVALID_FIELD", Message: "No such column 'Nope__c' on sobject of type Contact"}}},
		{"not createable", Options{Object: "Account"}, []string{"Name", "CreatedDate"}, [][]string{{"a", ""}},
			[]Problem{{Column: "CreatedDate", Code: "INVALID_FIELD_FOR_INSERT_UPDATE", Message: "Unable to create/update fields: CreatedDate. The field is not createable."}}},
		{"required missing", Options{Object: "Contact"}, []string{"FirstName"}, [][]string{{"a"}},
			[]Problem{{Column: "LastName", Code: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [LastName]"}}},
		{"not an external id", Options{Object: "Contact", Operation: Upsert, ExternalIDField: "Title"}, []string{"LastName", "Title"}, [][]string{{"a", "b"}},
			[]Problem{{Code: "INVALID_FIELD", Message: "Options.ExternalIDField: Contact.Title is not an external id field"}}},
		{"bad relationship", Options{Object: "Contact"}, []string{"LastName", "Boss.Email"}, [][]string{{"a", "b"}},
			[]Problem{{Column: "Boss.Email", Code: "INVALID_FIELD", Message: "No such relationship 'Boss' on Contact"}}},
		{"rows", Options{Object: "Account", PreflightRows: AbortOnRowProblems}, []string{"Name", "NumberOfEmployees", "Industry"}, [][]string{{"ok", "5", ""}, {"", "x", ""}, {"ok", "", strings.Repeat("i", 41)}},
			[]Problem{
				{Row: 2, Column: "Name", Code: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [Name]"},
				{Row: 2, Column: "NumberOfEmployees", Code: "INVALID_TYPE_ON_FIELD_IN_RECORD", Message: "NumberOfEmployees: value not of required type: x"},
				{Row: 3, Column: "Industry", Code: "STRING_TOO_LONG", Message: "Industry: data value too large: iiiiiiiiiiiiiiiiiiii... (max length=40)"},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, api := range []API{Bulk2, Collections} {
				f := newFakeOrg()
				opts := tc.opts
				opts.API = api
				_, err := f.loader(t).Load(t.Context(), rowsSource(tc.header, tc.rows), nil, fastOptions(opts))
				var pe *PreflightError
				if !errors.As(err, &pe) {
					t.Fatalf("%v: err = %v, want *PreflightError", api, err)
				}
				if diff := cmp.Diff(tc.want, pe.Problems); diff != "" {
					t.Errorf("%v: problems (-want +got):\n%s", api, diff)
				}
				if n := f.calls["CreateIngestJob"] + f.calls["collections.insert"] + f.calls["collections.upsert"]; n != 0 {
					t.Errorf("%v: %d jobs created despite preflight errors", api, n)
				}
			}
		})
	}
}

func TestPreflightFailsBadRowsOnly(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			f := newFakeOrg()
			rows := [][]string{{"ok", "5"}, {"", "7"}, {"fine", "x"}, {"good", ""}}
			col := newCollector(t)
			sum, err := f.loader(t).Load(t.Context(), rowsSource([]string{"Name", "NumberOfEmployees"}, rows), col, fastOptions(Options{Object: "Account", API: api}))
			if err != nil {
				t.Fatal(err)
			}
			col.check(4)
			if sum.Succeeded != 2 || sum.Failed != 2 || f.count("Account") != 2 {
				t.Fatalf("summary %+v, org has %d", sum, f.count("Account"))
			}
			r2, r3 := col.byRow[2], col.byRow[3]
			if r2.Error.StatusCode != "REQUIRED_FIELD_MISSING" || !slices.Equal(r2.Error.Fields, []string{"Name"}) || r2.Attempts != 0 {
				t.Errorf("row 2 = %+v %+v", r2, r2.Error)
			}
			if r3.Error.StatusCode != "INVALID_TYPE_ON_FIELD_IN_RECORD" || !strings.Contains(r3.Error.Message, "NumberOfEmployees") {
				t.Errorf("row 3 = %+v", r3.Error)
			}
		})
	}
}

func TestDryRunReportsEveryProblemAndSendsNothing(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	rows := [][]string{{"", "x", "a"}}
	for i := 0; i < 3000; i++ {
		rows = append(rows, []string{"n", "1", "b"})
	}
	rows = append(rows, []string{"", "2", "c"})
	col := newCollector(t)
	sum, err := f.loader(t).Load(t.Context(), rowsSource([]string{"Name", "NumberOfEmployees", "Bogus"}, rows), col, fastOptions(Options{Object: "Account", DryRun: true}))
	var pe *PreflightError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	want := []Problem{
		{Column: "Bogus", Code: "INVALID_FIELD", Message: "No such column 'Bogus' on sobject of type Account"},
		{Row: 1, Column: "Name", Code: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [Name]"},
		{Row: 1, Column: "NumberOfEmployees", Code: "INVALID_TYPE_ON_FIELD_IN_RECORD", Message: "NumberOfEmployees: value not of required type: x"},
		{Row: 3002, Column: "Name", Code: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [Name]"},
	}
	if diff := cmp.Diff(want, pe.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if sum.Rows != 3002 || len(col.byRow) != 3002 || len(f.calls) != 1 || f.calls["Describe"] != 1 {
		t.Errorf("rows %d, results %d, calls %v", sum.Rows, len(col.byRow), f.calls)
	}
	// Every row has the outcome the load would have given it before sending: its first
	// finding as a failure, or not processed.
	for row, r := range col.byRow {
		switch {
		case row == 1 || row == 3002:
			if r.Outcome != Failed || r.Error == nil || r.Error.StatusCode != "REQUIRED_FIELD_MISSING" || !strings.Contains(r.Error.Message, "dry run") {
				t.Errorf("row %d = %v %+v", row, r.Outcome, r.Error)
			}
		case r.Outcome != NotProcessed || r.Error == nil || r.Error.StatusCode != StatusDryRun:
			t.Errorf("row %d = %v %+v", row, r.Outcome, r.Error)
		}
	}
	if sum.Failed != 2 || sum.NotProcessed != 3000 {
		t.Errorf("summary %d failed, %d not processed", sum.Failed, sum.NotProcessed)
	}
	// A clean input gives nil.
	if _, err := f.loader(t).Load(t.Context(), rowsSource([]string{"Name"}, [][]string{{"a"}}), nil, fastOptions(Options{Object: "Account", DryRun: true})); err != nil {
		t.Errorf("clean dry run: %v", err)
	}
}

func TestPreflightUnknownObject(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	_, err := f.loader(t).Load(t.Context(), rowsSource([]string{"Name"}, [][]string{{"a"}}), nil, fastOptions(Options{Object: "Nope__c"}))
	var pe *PreflightError
	if !errors.As(err, &pe) || pe.Problems[0].Code != "INVALID_TYPE" {
		t.Fatalf("err = %v", err)
	}
}

func TestNulls(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		for _, nulls := range []Nulls{NullsLeaveUnchanged, NullsWrite} {
			t.Run(fmt.Sprintf("%v/%d", api, nulls), func(t *testing.T) {
				t.Parallel()
				f := newFakeOrg()
				l := f.loader(t)
				col := newCollector(t)
				if _, err := l.Load(t.Context(), rowsSource(contactHeader, contacts(3, "N")), col, fastOptions(Options{Object: "Contact", API: api})); err != nil {
					t.Fatal(err)
				}
				id := col.byRow[2].ID
				type upd struct {
					ID    string  `sf:"Id"`
					Title *string `sf:"Title"`
					Phone string
				}
				src, err := StructSource(slices.Values([]upd{{ID: id, Phone: "555"}}))
				if err != nil {
					t.Fatal(err)
				}
				col = newCollector(t)
				if _, err := l.Load(t.Context(), src, col, fastOptions(Options{Object: "Contact", API: api, Operation: Update, Nulls: nulls})); err != nil {
					t.Fatal(err)
				}
				col.check(1)
				rec := f.get("Contact", id)
				_, hasTitle := rec["title"]
				if hasTitle != (nulls == NullsLeaveUnchanged) || rec["phone"] != "555" {
					t.Fatalf("record after update = %v", rec)
				}
				want := []string{id, "", "555"}
				if nulls == NullsWrite {
					want[1] = "#N/A"
				}
				if got := col.byRow[1].Values; !slices.Equal(got, want) {
					t.Errorf("values sent = %q, want %q", got, want)
				}
			})
		}
	}
}

func TestParentChildByExternalID(t *testing.T) {
	t.Parallel()
	for _, api := range apis {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			f := newFakeOrg()
			l := f.loader(t)
			accts := [][]string{{"ACC-1", "Acme"}, {"ACC-2", "Globex"}}
			col := newCollector(t)
			_, err := l.Load(t.Context(), rowsSource([]string{"External_Id__c", "Name"}, accts), col,
				fastOptions(Options{Object: "Account", API: api, Operation: Upsert, ExternalIDField: "External_Id__c"}))
			if err != nil {
				t.Fatal(err)
			}
			acme := col.byRow[1].ID
			kids := [][]string{{"Lovelace", "ACC-1"}, {"Hopper", "ACC-2"}, {"Nobody", "ACC-9"}}
			col = newCollector(t)
			sum, err := l.Load(t.Context(), rowsSource([]string{"LastName", "Account.External_Id__c"}, kids), col,
				fastOptions(Options{Object: "Contact", API: api}))
			if err != nil {
				t.Fatal(err)
			}
			col.check(3)
			if got := f.get("Contact", col.byRow[1].ID)["accountid"]; got != acme {
				t.Errorf("AccountId = %q, want %q", got, acme)
			}
			if r := col.byRow[3]; r.Outcome != Failed || r.Error.StatusCode != "INVALID_FIELD" {
				t.Errorf("orphan row = %+v", r)
			}
			if sum.Succeeded != 2 {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}

func TestInputErrors(t *testing.T) {
	t.Parallel()
	t.Run("map key not in header", func(t *testing.T) {
		t.Parallel()
		f := newFakeOrg()
		rows := []map[string]any{{"LastName": "a"}, {"LastName": "b"}, {"LastName": "c", "Bogus": 1}, {"LastName": "d"}}
		col := newCollector(t)
		sum, err := f.loader(t).Load(t.Context(), MapSource([]string{"LastName"}, slices.Values(rows)), col, fastOptions(Options{Object: "Contact"}))
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		col.check(4)
		bad := col.byRow[3]
		if bad.Outcome != Failed || bad.Error.StatusCode != StatusInvalidRow || !strings.Contains(bad.Error.Message, "row 3, column Bogus") {
			t.Errorf("row 3 = %+v %+v", bad, bad.Error)
		}
		if sum.Succeeded != 3 || f.count("Contact") != 3 {
			t.Errorf("the other rows were not loaded: %+v", sum)
		}
	})
	t.Run("ragged csv", func(t *testing.T) {
		t.Parallel()
		f := newFakeOrg()
		in := "LastName,FirstName\nA,a\nB\nC,c\n"
		col := newCollector(t)
		_, err := f.loader(t).Load(t.Context(), CSVSource(strings.NewReader(in), "people.csv", CSVOptions{}), col, fastOptions(Options{Object: "Contact", API: Bulk2}))
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		col.check(3)
		if bad := col.byRow[2]; bad.Outcome != Failed || !strings.Contains(bad.Error.Message, "people.csv: row 2 (line 3), column FirstName") {
			t.Errorf("row 2 = %+v %+v", bad, bad.Error)
		}
	})
	t.Run("update without Id", func(t *testing.T) {
		t.Parallel()
		f := newFakeOrg()
		_, err := f.loader(t).Load(t.Context(), rowsSource([]string{"Title"}, [][]string{{"x"}}), nil, fastOptions(Options{Object: "Contact", Operation: Update}))
		var ie *InputError
		if !errors.As(err, &ie) || ie.Column != "Id" {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestOptionsValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{}, "Options.Object: required"},
		{Options{Object: "A", Operation: Upsert}, "Options.ExternalIDField: required for upsert"},
		{Options{Object: "A", Operation: "merge"}, "Options.Operation"},
		{Options{Object: "A", API: Bulk1, BatchSize: 10_001}, "Options.BatchSize"},
		{Options{Object: "A", API: Collections, BatchSize: 201}, "Options.BatchSize"},
		{Options{Object: "A", MaxBytesPerJob: MaxBulk2JobBytes + 1}, "Options.MaxBytesPerJob"},
		{Options{Object: "A", MaxBytesPerBatch: -1}, "Options.MaxBytesPerBatch"},
		{Options{Object: "A", Serial: true}, "Options.Serial"},
		{Options{Object: "A", ColumnDelimiter: 'x'}, "Options.ColumnDelimiter"},
		{Options{Object: "A", API: Bulk1, ColumnDelimiter: sfcsv.Tab}, "Options.ColumnDelimiter: Bulk API 1.0"},
		{Options{Object: "A", Journal: (*jobstore.Store)(nil)}, "Options.RunID"},
		{Options{Object: "A", API: Collections, Operation: HardDelete}, "Options.API"},
		{Options{Object: "A", MinPollInterval: 10e9, MaxPollInterval: 1e9}, "Options.MaxPollInterval"},
	} {
		_, err := tc.opts.resolve()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.opts, err, tc.want)
		}
	}
	if _, err := (Options{Object: "Contact"}).resolve(); err != nil {
		t.Errorf("minimal options: %v", err)
	}
}

func TestBatchesListPerBatch(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	var b Batches
	_, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, contacts(25, "B")), &b, fastOptions(Options{Object: "Contact", API: Bulk1, BatchSize: 10}))
	if err != nil {
		t.Fatal(err)
	}
	lists := b.Lists()
	var sizes []int
	for _, l := range lists {
		sizes = append(sizes, len(l))
	}
	if !slices.Equal(sizes, []int{10, 10, 5}) {
		t.Fatalf("batch sizes %v", sizes)
	}
	if lists[1][0].Row != 11 || lists[2][4].Row != 25 || lists[1][0].BatchID == lists[0][0].BatchID {
		t.Errorf("lists = %+v", lists[1][0])
	}
}

func TestCSVFiles(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	f.shuffle = rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	sinks, err := CSVSinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	sinks.runMax = 7 // force several sorted runs
	rows := contacts(40, "K")
	rows[4][1] = "" // REQUIRED_FIELD_MISSING
	_, err = f.loader(t).Load(t.Context(), rowsSource(contactHeader, rows), sinks, fastOptions(Options{Object: "Contact", API: Bulk2, BatchSize: 15, Preflight: PreflightOff}))
	if err != nil {
		t.Fatal(err)
	}
	if err := sinks.Close(); err != nil {
		t.Fatal(err)
	}
	read := func(name string) [][]string { return readCSVFile(t, filepath.Join(dir, name)) }
	res := read(ResultsFile)
	if len(res) != 41 {
		t.Fatalf("results has %d lines", len(res))
	}
	for i, r := range res[1:] {
		if r[0] != fmt.Sprint(i+1) {
			t.Fatalf("results line %d is row %s: not in input order", i+1, r[0])
		}
	}
	fail := read(FailureFile)
	want := []string{"sf__Row", "sf__Id", "sf__Error", "External_Id__c", "LastName", "FirstName", "Email", "Title"}
	if !slices.Equal(fail[0], want) || len(fail) != 2 || fail[1][0] != "5" || !strings.HasPrefix(fail[1][2], "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName") {
		t.Fatalf("failure file = %q", fail)
	}
	if ok := read(SuccessFile); len(ok) != 40 || ok[1][0] != "1" {
		t.Fatalf("success file has %d lines", len(ok))
	}
}

// TestOutcomesExactlyOnce is the property: for any input and any injected row failures
// (retryable or not, dropped results, failed jobs), every input row gets exactly one outcome.
func TestOutcomesExactlyOnce(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			checkExactlyOnce(t, seed)
		})
	}
}

func checkExactlyOnce(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed*7))
	f := newFakeOrg()
	f.shuffle = rand.New(rand.NewPCG(seed, 1))
	n := rng.IntN(400)
	rows := make([][]string, n)
	for i := range rows {
		last := fmt.Sprintf("L%d", rng.IntN(n/3+1)) // duplicates likely
		if rng.IntN(10) == 0 {
			last = ""
		}
		rows[i] = []string{last, fmt.Sprint(rng.IntN(3))}
	}
	f.dropResult = map[string]bool{"L1": rng.IntN(2) == 0}
	if rng.IntN(3) == 0 {
		f.failJob[1+rng.IntN(3)] = "InternalError : injected"
	}
	f.fault = func(_ string, row map[string]string, attempt int) *RowError {
		switch rng.IntN(8) {
		case 0:
			return &RowError{StatusCode: "UNABLE_TO_LOCK_ROW", Message: "locked"}
		case 1:
			return &RowError{StatusCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "nope: with colon"}
		}
		return nil
	}
	api := apis[rng.IntN(len(apis))]
	ops := []Operation{Insert, Upsert}
	op := ops[rng.IntN(2)]
	opts := fastOptions(Options{Object: "Contact", API: api, Operation: op, BatchSize: 1 + rng.IntN(150), Preflight: PreflightOff, MaxRetries: rng.IntN(3)})
	if api == Collections {
		opts.BatchSize = min(opts.BatchSize, 200)
	}
	if op == Upsert {
		opts.ExternalIDField = "LastName"
	}
	if rng.IntN(2) == 0 {
		opts.GroupBy = "Title"
	}
	col := newCollector(t)
	sum, err := f.loader(t).Load(t.Context(), rowsSource([]string{"LastName", "Title"}, rows), col, opts)
	if err != nil {
		t.Fatalf("%v %v: %v", api, op, err)
	}
	col.check(n)
	if sum.Succeeded+sum.Failed+sum.NotProcessed+sum.Unknown != int64(n) || sum.Rows != int64(n) {
		t.Fatalf("summary %+v for %d rows", sum, n)
	}
	for i := 1; i <= n; i++ {
		r := col.byRow[int64(i)]
		if r == nil {
			continue
		}
		if !slices.Equal(r.Values, rows[i-1]) && r.Values != nil {
			t.Errorf("row %d values %q, want %q", i, r.Values, rows[i-1])
		}
		if (r.Outcome == Succeeded) != (r.Error == nil) {
			t.Errorf("row %d: outcome %v with error %v", i, r.Outcome, r.Error)
		}
	}
}

func FuzzOutcomesExactlyOnce(f *testing.F) {
	for _, s := range []uint64{13, 99, 12345} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { checkExactlyOnce(t, seed) })
}

func TestGroupByExternalSort(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	l := f.loader(t)
	l.sortRun = 17 // several spilled runs
	rows := contacts(200, "G")
	for i, r := range rows {
		r[4] = fmt.Sprintf("T%02d", (i*37)%23)
	}
	var order []string
	col := newCollector(t)
	sink := MultiSink(col, SinkFunc(func(r *RowResult) error {
		order = append(order, r.Values[4])
		return nil
	}))
	sum, err := l.Load(t.Context(), rowsSource(contactHeader, rows), sink, fastOptions(Options{Object: "Contact", API: Bulk1, GroupBy: "Title", Concurrency: 1, BatchSize: 50}))
	if err != nil {
		t.Fatal(err)
	}
	col.check(200)
	if !slices.IsSorted(order) || sum.Succeeded != 200 {
		t.Fatalf("not grouped: %v", order[:20])
	}
}

func TestSinkErrorStopsTheLoad(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	boom := errors.New("disk full")
	_, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, contacts(300, "Z")), SinkFunc(func(*RowResult) error { return boom }),
		fastOptions(Options{Object: "Contact", API: Bulk2, BatchSize: 100, Concurrency: 1}))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}

func TestParseBulkError(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]RowError{
		"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --": {StatusCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [LastName]", Fields: []string{"LastName"}},
		"UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--":     {StatusCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record"},
		"garbage": {StatusCode: "UNKNOWN_EXCEPTION", Message: "garbage"},
	} {
		got := parseBulkError(in)
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", in, diff)
		}
	}
}

var _ = io.EOF

func TestResultsIterator(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	seen := map[int64]bool{}
	for r, err := range f.loader(t).Results(t.Context(), rowsSource(contactHeader, contacts(120, "I")), fastOptions(Options{Object: "Contact", API: Bulk2, BatchSize: 50})) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[r.Row] || r.Outcome != Succeeded {
			t.Fatalf("row %d: %v (seen %v)", r.Row, r.Outcome, seen[r.Row])
		}
		seen[r.Row] = true
	}
	if len(seen) != 120 {
		t.Fatalf("%d results", len(seen))
	}
	// Stopping early cancels the load without leaking or blocking.
	n := 0
	for _, err := range f.loader(t).Results(t.Context(), rowsSource(contactHeader, contacts(300, "J")), fastOptions(Options{Object: "Contact", API: Bulk2, BatchSize: 50})) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
}

func TestEmptyInputs(t *testing.T) {
	t.Parallel()
	for _, api := range append(apis, Auto) {
		f := newFakeOrg()
		col := newCollector(t)
		sum, err := f.loader(t).Load(t.Context(), CSVSource(strings.NewReader("LastName,FirstName\n"), "empty.csv", CSVOptions{}), col, fastOptions(Options{Object: "Contact", API: api}))
		if err != nil || sum.Rows != 0 || len(sum.Jobs) != 0 || len(col.byRow) != 0 {
			t.Errorf("%v: header only: %+v %v", api, sum, err)
		}
	}
	f := newFakeOrg()
	_, err := f.loader(t).Load(t.Context(), CSVSource(strings.NewReader(""), "nothing.csv", CSVOptions{}), nil, fastOptions(Options{Object: "Contact"}))
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "nothing.csv") {
		t.Errorf("no header: %v", err)
	}
}

func TestFailedJobWithoutResultFiles(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	f.failJob[1] = "InternalError : gone"
	f.noFailedResults = true
	col := newCollector(t)
	sum, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, contacts(30, "N")), col, fastOptions(Options{Object: "Contact", API: Bulk2}))
	if err != nil {
		t.Fatal(err)
	}
	col.check(30)
	// Half the rows were inserted before the job failed, but no result says which: the
	// outcome is unknown, never a claimed failure.
	if sum.Unknown != 30 || sum.ErrorCodes[StatusOutcomeUnknown] != 30 || !strings.Contains(col.byRow[1].Error.Message, "InternalError: gone") {
		t.Fatalf("summary %+v, row 1 %+v", sum, col.byRow[1].Error)
	}
	// An idempotent operation is resubmitted and converges.
	f = newFakeOrg()
	f.failJob[1] = "InternalError : gone"
	f.noFailedResults = true
	col = newCollector(t)
	sum, err = f.loader(t).Load(t.Context(), rowsSource(contactHeader, contacts(30, "N")), col,
		fastOptions(Options{Object: "Contact", API: Bulk2, Operation: Upsert, ExternalIDField: "External_Id__c"}))
	if err != nil || sum.Succeeded != 30 || f.count("Contact") != 30 {
		t.Fatalf("upsert: %v %+v, org has %d", err, sum, f.count("Contact"))
	}
}

func TestUnmatchedResultsAreReported(t *testing.T) {
	t.Parallel()
	f := newFakeOrg()
	f.mangleEcho = true
	col := newCollector(t)
	sum, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, contacts(20, "m")), col, fastOptions(Options{Object: "Contact", API: Bulk2}))
	if err != nil {
		t.Fatal(err)
	}
	col.check(20)
	if sum.Unknown != 20 || sum.Jobs[0].Unmatched != 20 || !strings.Contains(col.byRow[1].Error.Message, "20 result rows matched no input row") {
		t.Fatalf("summary %+v, row 1 %+v", sum, col.byRow[1].Error)
	}
}

// TestUnknownFile: rows of unknown outcome go to unknown.csv with their job and batch ids,
// never to unprocessed.csv, and results.csv has the contract's columns.
func TestUnknownFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sinks, err := CSVSinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := sinks.Start([]string{"LastName"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*RowResult{
		{Row: 1, Outcome: Succeeded, ID: "003A", Created: true, Values: []string{"A"}, JobID: "750J"},
		{Row: 2, Outcome: Unknown, Values: []string{"B"}, JobID: "750J", BatchID: "751B", Error: &RowError{StatusCode: StatusOutcomeUnknown, Message: "lost"}},
		{Row: 3, Outcome: NotProcessed, Values: []string{"C"}, Error: &RowError{StatusCode: StatusAborted, Message: "stopped"}},
	} {
		if err := sinks.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sinks.Close(); err != nil {
		t.Fatal(err)
	}
	read := func(name string) [][]string { return readCSVFile(t, filepath.Join(dir, name)) }
	want := [][]string{{"sf__Row", "sf__Job", "sf__Batch", "sf__Error", "LastName"}, {"2", "750J", "751B", "SFBATCH_OUTCOME_UNKNOWN:lost: --", "B"}}
	if got := read(UnknownFile); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("unknown.csv = %q, want %q", got, want)
	}
	if got := read(UnprocessedFile); len(got) != 2 || got[1][0] != "C" {
		t.Errorf("unprocessed.csv = %q, want only row 3", got)
	}
	res := read(ResultsFile)
	if !slices.Equal(res[0], append(slices.Clone(ResultColumns), "LastName")) {
		t.Errorf("results.csv header = %q", res[0])
	}
	wantRow2 := []string{"2", "unknown", "", "", StatusOutcomeUnknown, "lost", "", "750J", "751B", "B"}
	if !slices.Equal(res[2], wantRow2) {
		t.Errorf("results.csv row 2 = %q, want %q", res[2], wantRow2)
	}
}

// TestSettlementTable reads resends of rows whose first attempt had an unknown outcome.
func TestSettlementTable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		op   Operation
		in   RowResult
		want Outcome
	}{
		{Delete, RowResult{Outcome: Failed, Error: &RowError{StatusCode: "ENTITY_IS_DELETED", Message: "entity is deleted"}}, Succeeded},
		{HardDelete, RowResult{Outcome: Failed, Error: &RowError{StatusCode: "ENTITY_IS_DELETED", Message: "entity is deleted"}}, Succeeded},
		{Delete, RowResult{Outcome: Failed, Error: &RowError{StatusCode: "INVALID_CROSS_REFERENCE_KEY"}}, Failed},
		{Upsert, RowResult{Outcome: Succeeded, ID: "003A", Created: false}, Succeeded},
		{Update, RowResult{Outcome: Succeeded, ID: "003A"}, Succeeded},
		{Insert, RowResult{Outcome: Failed, Error: &RowError{StatusCode: "ENTITY_IS_DELETED"}}, Failed},
	} {
		r := &run{cfg: &config{Options: Options{Operation: tc.op}}}
		res := tc.in
		r.settle(&res)
		if res.Outcome != tc.want || (res.Outcome == Succeeded && res.Error != nil) {
			t.Errorf("%s %+v settles to %v %+v, want %v", tc.op, tc.in, res.Outcome, res.Error, tc.want)
		}
	}
}

// readCSVFile reads a whole CSV file, header first.
func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, recs := parseCSV(t, b)
	return append([][]string{h}, recs...)
}
