package load_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/bulk"
	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// emulator starts an org over loopback HTTPS and a client for it.
func emulator(t *testing.T, opts ...salesforcetest.Option) (*salesforcetest.Server, *salesforce.Client) {
	t.Helper()
	srv := salesforcetest.New(t, opts...)
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// results is a Sink that fails the test on a second outcome for a row.
type results struct {
	t     *testing.T
	mu    sync.Mutex
	byRow map[int64]load.RowResult
}

func newResults(t *testing.T) *results { return &results{t: t, byRow: map[int64]load.RowResult{}} }

func (r *results) Start([]string) error { return nil }

func (r *results) Write(res *load.RowResult) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.byRow[res.Row]; dup {
		r.t.Errorf("row %d: second outcome", res.Row)
	}
	r.byRow[res.Row] = *res
	return nil
}

func (r *results) check(n int) {
	r.t.Helper()
	if len(r.byRow) != n {
		r.t.Fatalf("%d outcomes for %d rows", len(r.byRow), n)
	}
	for i := int64(1); i <= int64(n); i++ {
		if _, ok := r.byRow[i]; !ok {
			r.t.Fatalf("row %d has no outcome", i)
		}
	}
}

func quick(o load.Options) load.Options {
	o.MinPollInterval = 2 * time.Millisecond
	o.MaxPollInterval = 20 * time.Millisecond
	o.RetryBackoff = time.Millisecond
	return o
}

var emuHeader = []string{"External_Id__c", "LastName", "FirstName", "Email", "Title"}

func emuContacts(n int, prefix string) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("%s-%05d", prefix, i+1), fmt.Sprintf("Last%d", i+1), "Ada", fmt.Sprintf("a%d@example.com", i+1), "Engineer"}
	}
	return rows
}

func src(header []string, rows [][]string) load.Source {
	return load.RowsSource(header, slices.Values(rows))
}

func TestEmulatorEveryOperationThroughEveryAPI(t *testing.T) {
	t.Parallel()
	for _, api := range []load.API{load.Bulk2, load.Bulk1, load.Collections} {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv, c := emulator(t)
			l := load.New(c)
			const n = 250
			opts := quick(load.Options{Object: "Contact", API: api, BatchSize: 100})

			res := newResults(t)
			sum, err := l.Load(ctx, src(emuHeader, emuContacts(n, "E")), res, opts)
			if err != nil {
				t.Fatalf("insert: %v", err)
			}
			res.check(n)
			if sum.Succeeded != n || sum.Created != n || srv.Count("Contact") != n {
				t.Fatalf("insert: %+v; org has %d", sum, srv.Count("Contact"))
			}
			ids := make([]string, n)
			for i := range ids {
				ids[i] = res.byRow[int64(i+1)].ID
			}
			rec, err := srv.Get(ctx, "Contact", ids[41], "LastName", "External_Id__c")
			if err != nil || rec["LastName"] != "Last42" || rec["External_Id__c"] != "E-00042" {
				t.Fatalf("row 42 -> %s: %v %v", ids[41], rec, err)
			}

			upd := make([][]string, n)
			for i := range upd {
				upd[i] = []string{ids[i], "Manager"}
			}
			opts.Operation = load.Update
			res = newResults(t)
			if sum, err = l.Load(ctx, src([]string{"Id", "Title"}, upd), res, opts); err != nil || sum.Succeeded != n || sum.Created != 0 {
				t.Fatalf("update: %+v %v", sum, err)
			}
			if rec, _ := srv.Get(ctx, "Contact", ids[7], "Title"); rec["Title"] != "Manager" {
				t.Fatalf("title = %v", rec["Title"])
			}

			ups := append(emuContacts(100, "E"), emuContacts(20, "NEW")...)
			opts.Operation, opts.ExternalIDField = load.Upsert, "External_Id__c"
			res = newResults(t)
			if sum, err = l.Load(ctx, src(emuHeader, ups), res, opts); err != nil || sum.Succeeded != 120 || sum.Created != 20 {
				t.Fatalf("upsert: %+v %v", sum, err)
			}
			res.check(120)
			if res.byRow[1].Created || res.byRow[1].ID != ids[0] || !res.byRow[101].Created {
				t.Errorf("upsert rows: %+v %+v", res.byRow[1], res.byRow[101])
			}

			del := make([][]string, n)
			for i := range del {
				del[i] = []string{ids[i]}
			}
			opts.Operation, opts.ExternalIDField = load.Delete, ""
			if api != load.Collections {
				opts.Operation = load.HardDelete
			}
			res = newResults(t)
			if sum, err = l.Load(ctx, src([]string{"Id"}, del), res, opts); err != nil || sum.Succeeded != n {
				t.Fatalf("delete: %+v %v", sum, err)
			}
			if got := srv.Count("Contact"); got != 20 {
				t.Fatalf("org has %d contacts after delete, want 20", got)
			}
		})
	}
}

func TestEmulatorPartialFailuresAndDuplicates(t *testing.T) {
	t.Parallel()
	for _, api := range []load.API{load.Bulk2, load.Bulk1, load.Collections} {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			_, c := emulator(t)
			rows := emuContacts(60, "P")
			rows[0][4] = "Multi\nline, \"quoted\" \u00e9t\u00e9 \u2713"
			rows[1][4] = "#N/A"
			for i := range rows {
				switch {
				case i%10 == 3:
					rows[i][1] = "" // REQUIRED_FIELD_MISSING
				case i%10 == 5:
					rows[i] = []string{"", "Twin", "Same", "twin@example.com", "T"} // identical rows
				}
			}
			res := newResults(t)
			sum, err := load.New(c).Load(t.Context(), src(emuHeader, rows), res, quick(load.Options{Object: "Contact", API: api, BatchSize: 25, Preflight: load.PreflightOff}))
			if err != nil {
				t.Fatal(err)
			}
			res.check(60)
			seen := map[string]bool{}
			for i, row := range rows {
				r := res.byRow[int64(i+1)]
				if !slices.Equal(r.Values, row) {
					t.Errorf("row %d values %q, want %q", i+1, r.Values, row)
				}
				if row[1] == "" {
					if r.Outcome != load.Failed || r.Error.StatusCode != "REQUIRED_FIELD_MISSING" {
						t.Errorf("row %d = %v %+v", i+1, r.Outcome, r.Error)
					}
					continue
				}
				if r.Outcome != load.Succeeded || seen[r.ID] {
					t.Errorf("row %d = %v id %q (seen %v)", i+1, r.Outcome, r.ID, seen[r.ID])
				}
				seen[r.ID] = true
			}
			if sum.Failed != 6 || sum.ErrorCodes["REQUIRED_FIELD_MISSING"] != 6 {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}

func TestEmulatorLockErrorsConverge(t *testing.T) {
	t.Parallel()
	for _, api := range []load.API{load.Bulk2, load.Bulk1} {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			srv, c := emulator(t)
			srv.Bulk().FailRows(org.RowFault{Object: "Contact", Field: "Title", Value: "Locked", StatusCode: "UNABLE_TO_LOCK_ROW",
				Message: "unable to obtain exclusive access to this record", Count: 30})
			rows := emuContacts(100, "K")
			for i := 0; i < 100; i += 5 {
				rows[i][4] = "Locked"
			}
			res := newResults(t)
			opts := quick(load.Options{Object: "Contact", API: api, BatchSize: 30, MaxRetries: 3, RetrySerial: api == load.Bulk1})
			sum, err := load.New(c).Load(t.Context(), src(emuHeader, rows), res, opts)
			if err != nil {
				t.Fatal(err)
			}
			res.check(100)
			if sum.Succeeded != 100 || sum.Retried != 30 || srv.Count("Contact") != 100 {
				t.Fatalf("summary %+v, org has %d", sum, srv.Count("Contact"))
			}
		})
	}
}

func TestEmulatorParentChild(t *testing.T) {
	t.Parallel()
	for _, api := range []load.API{load.Bulk2, load.Bulk1, load.Collections} {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv, c := emulator(t)
			l := load.New(c)
			res := newResults(t)
			_, err := l.Load(ctx, src([]string{"External_Id__c", "Name"}, [][]string{{"ACC-1", "Acme"}, {"ACC-2", "Globex"}}), res,
				quick(load.Options{Object: "Account", API: api, Operation: load.Upsert, ExternalIDField: "External_Id__c"}))
			if err != nil {
				t.Fatal(err)
			}
			acme := res.byRow[1].ID
			res = newResults(t)
			sum, err := l.Load(ctx, src([]string{"LastName", "Account.External_Id__c"}, [][]string{{"Lovelace", "ACC-1"}, {"Hopper", "ACC-2"}, {"Orphan", "ACC-404"}}), res,
				quick(load.Options{Object: "Contact", API: api}))
			if err != nil {
				t.Fatal(err)
			}
			res.check(3)
			rec, err := srv.Get(ctx, "Contact", res.byRow[1].ID, "AccountId")
			if err != nil || rec["AccountId"] != acme {
				t.Fatalf("AccountId = %v (%v), want %s", rec["AccountId"], err, acme)
			}
			if sum.Succeeded != 2 || res.byRow[3].Outcome != load.Failed {
				t.Errorf("summary %+v, orphan %+v", sum, res.byRow[3])
			}
		})
	}
}

func TestEmulatorNulls(t *testing.T) {
	t.Parallel()
	for _, api := range []load.API{load.Bulk2, load.Bulk1, load.Collections} {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srv, c := emulator(t)
			ids, err := srv.Insert(ctx, "Contact", map[string]any{"LastName": "A", "Title": "Boss", "Phone": "1"}, map[string]any{"LastName": "B", "Title": "Boss", "Phone": "1"})
			if err != nil {
				t.Fatal(err)
			}
			l := load.New(c)
			for i, nulls := range []load.Nulls{load.NullsLeaveUnchanged, load.NullsWrite} {
				res := newResults(t)
				_, err := l.Load(ctx, src([]string{"Id", "Title", "Phone"}, [][]string{{ids[i], "", "2"}}), res,
					quick(load.Options{Object: "Contact", API: api, Operation: load.Update, Nulls: nulls}))
				if err != nil || res.byRow[1].Outcome != load.Succeeded {
					t.Fatalf("%v: %v %+v", nulls, err, res.byRow[1])
				}
				rec, _ := srv.Get(ctx, "Contact", ids[i], "Title", "Phone")
				wantTitle := any("Boss")
				if nulls == load.NullsWrite {
					wantTitle = nil
				}
				if rec["Title"] != wantTitle || rec["Phone"] != "2" {
					t.Errorf("nulls %v: record %v", nulls, rec)
				}
			}
		})
	}
}

func TestEmulatorFailedJob(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		op      load.Operation
		wantOK  int64
		retried bool
	}{{load.Upsert, 40, true}, {load.Insert, 0, false}} {
		t.Run(string(tc.op), func(t *testing.T) {
			t.Parallel()
			srv, c := emulator(t)
			srv.Bulk().FailNextJob("InternalError : injected job failure")
			res := newResults(t)
			opts := quick(load.Options{Object: "Contact", API: load.Bulk2, Operation: tc.op})
			if tc.op == load.Upsert {
				opts.ExternalIDField = "External_Id__c"
			}
			sum, err := load.New(c).Load(t.Context(), src(emuHeader, emuContacts(40, "J")), res, opts)
			if err != nil {
				t.Fatal(err)
			}
			res.check(40)
			if sum.Succeeded != tc.wantOK || (sum.Retried > 0) != tc.retried || sum.Succeeded+sum.Failed+sum.NotProcessed != 40 {
				t.Fatalf("summary %+v", sum)
			}
			if int64(srv.Count("Contact")) != sum.Succeeded {
				t.Errorf("org has %d contacts, %d succeeded", srv.Count("Contact"), sum.Succeeded)
			}
		})
	}
}

func TestEmulatorCancelAbortsJobs(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv, c := emulator(t, salesforcetest.WithBulkOptions(bulk.Options{Clock: clk, Profile: bulk.Realistic{BatchStartLatency: time.Hour}}))
	ctx, cancel := context.WithCancel(t.Context())
	var once sync.Once
	progress := load.ProgressFunc(func(e load.Event) {
		if e.Kind == load.JobState && (e.State == "UploadComplete" || e.State == "InProgress") {
			once.Do(cancel)
		}
	})
	res := newResults(t)
	sum, err := load.New(c).Load(ctx, src(emuHeader, emuContacts(300, "X")), res, quick(load.Options{Object: "Contact", API: load.Bulk2, BatchSize: 100, Progress: progress}))
	var le *load.Error
	if !errors.As(err, &le) || !errors.Is(err, context.Canceled) || len(le.Jobs) == 0 {
		t.Fatalf("err = %v", err)
	}
	for _, j := range le.Jobs {
		got, gerr := c.Bulk2.GetIngestJob(t.Context(), j.ID)
		if gerr != nil || got.State != "Aborted" || !strings.Contains(err.Error(), j.ID) {
			t.Errorf("job %s: %v %v", j.ID, got, gerr)
		}
	}
	if int64(len(res.byRow)) != sum.Rows || sum.NotProcessed != sum.Rows || srv.Count("Contact") != 0 {
		t.Errorf("summary %+v, %d outcomes, org has %d", sum, len(res.byRow), srv.Count("Contact"))
	}
}

// TestEmulatorTransportFaults: 503s, dropped connections and an expired session neither lose
// nor duplicate rows.
func TestEmulatorTransportFaults(t *testing.T) {
	t.Parallel()
	for _, api := range []load.API{load.Bulk2, load.Bulk1, load.Collections} {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			srv, c := emulator(t)
			if _, err := srv.AddFault(salesforcetest.Fault{Method: "GET", Path: "*", Times: 3, Status: 503}); err != nil {
				t.Fatal(err)
			}
			if _, err := srv.AddFault(salesforcetest.Fault{Method: "PUT", Path: "*", Times: 1, Status: 503}); err != nil {
				t.Fatal(err)
			}
			if _, err := srv.AddFault(salesforcetest.Fault{Method: "GET", Path: "*", Times: 2, Drop: true}); err != nil {
				t.Fatal(err)
			}
			res := newResults(t)
			sum, err := load.New(c).Load(t.Context(), src(emuHeader, emuContacts(150, "T")), res, quick(load.Options{Object: "Contact", API: api, BatchSize: 50, Preflight: load.PreflightOff}))
			if err != nil {
				t.Fatal(err)
			}
			res.check(150)
			if sum.Succeeded != 150 || srv.Count("Contact") != 150 {
				t.Fatalf("summary %+v, org has %d", sum, srv.Count("Contact"))
			}
		})
	}
}

func TestEmulatorPreflight(t *testing.T) {
	t.Parallel()
	_, c := emulator(t)
	_, err := load.New(c).Load(t.Context(), src([]string{"LastName", "Shoe_Size__c"}, [][]string{{"a", "1"}}), nil, quick(load.Options{Object: "Contact"}))
	var pe *load.PreflightError
	if !errors.As(err, &pe) || pe.Problems[0].Column != "Shoe_Size__c" || pe.Problems[0].Code != "INVALID_FIELD" {
		t.Fatalf("err = %v", err)
	}
}

func TestEmulatorDelimiterAndLineEnding(t *testing.T) {
	t.Parallel()
	for _, d := range []sfcsv.Delimiter{sfcsv.Pipe, sfcsv.Tab, sfcsv.Semicolon} {
		t.Run(d.Name(), func(t *testing.T) {
			t.Parallel()
			srv, c := emulator(t)
			rows := emuContacts(30, "D")
			rows[3][4] = "has | pipe; semi\tand tab, comma"
			res := newResults(t)
			sum, err := load.New(c).Load(t.Context(), src(emuHeader, rows), res,
				quick(load.Options{Object: "Contact", API: load.Bulk2, ColumnDelimiter: d, LineEnding: sfcsv.CRLF}))
			if err != nil {
				t.Fatal(err)
			}
			res.check(30)
			rec, err := srv.Get(t.Context(), "Contact", res.byRow[4].ID, "Title")
			if sum.Succeeded != 30 || err != nil || rec["Title"] != rows[3][4] {
				t.Fatalf("summary %+v, title %q (%v)", sum, rec["Title"], err)
			}
		})
	}
}
