package conformance

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// loadInput is a Contact CSV of n rows and the status code each bad row must fail with
// (keyed by 1-based input row number).
type loadInput struct {
	csv  []byte
	n    int
	bad  map[int64]string
	name func(row int64) string // LastName of a good row
}

// newLoadInput builds n Contact rows e.Name(0..n-1); rows listed in missing have no
// LastName, rows in tooLong an 81+ character one.
func newLoadInput(e *Env, n int, missing, tooLong []int64) loadInput {
	in := loadInput{n: n, bad: map[int64]string{}, name: func(row int64) string { return e.Name(int(row - 1)) }}
	var b strings.Builder
	b.WriteString("FirstName,LastName,Email\n")
	for row := int64(1); row <= int64(n); row++ {
		last := in.name(row)
		switch {
		case slices.Contains(missing, row):
			last = ""
			in.bad[row] = "REQUIRED_FIELD_MISSING"
		case slices.Contains(tooLong, row):
			last += strings.Repeat("z", 80)
			in.bad[row] = "STRING_TOO_LONG"
		}
		fmt.Fprintf(&b, "Load %d,%s,l%d@example.com\n", row, last, row)
	}
	in.csv = []byte(b.String())
	return in
}

// collector is a load.Sink keeping every RowResult.
type collector struct {
	mu   sync.Mutex
	rows []load.RowResult
}

func (c *collector) Start([]string) error { return nil }

func (c *collector) Write(r *load.RowResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rows = append(c.rows, *r)
	return nil
}

// loadOptions are the options every scenario load uses on e.
func loadOptions(t *testing.T, e *Env, api load.API) load.Options {
	return load.Options{
		Object:          "Contact",
		Operation:       load.Insert,
		API:             api,
		BatchSize:       2000, // several jobs (Bulk 2.0) or batches (Bulk 1.0) for 5,000 rows
		Concurrency:     2,
		Preflight:       load.PreflightOff, // bad rows must reach the org and fail there
		MinPollInterval: e.PollMin,
		MaxPollInterval: e.PollMax,
		TempDir:         t.TempDir(),
	}
}

// checkLoad asserts that every input row has exactly one outcome, that bad rows failed with
// their codes and good rows created the record with their values, and returns the record
// id of every good row.
func checkLoad(t *testing.T, e *Env, in loadInput, sum *load.Summary, got []load.RowResult) map[int64]string {
	t.Helper()
	good := int64(in.n - len(in.bad))
	if sum.Rows != int64(in.n) || sum.Succeeded != good || sum.Created != good || sum.Failed != int64(len(in.bad)) || sum.NotProcessed != 0 {
		t.Errorf("summary: rows %d succeeded %d created %d failed %d not processed %d, want %d %d %d %d 0",
			sum.Rows, sum.Succeeded, sum.Created, sum.Failed, sum.NotProcessed, in.n, good, good, len(in.bad))
	}
	wantCodes := map[string]int64{}
	for _, code := range in.bad {
		wantCodes[code]++
	}
	for code, k := range wantCodes {
		if sum.ErrorCodes[code] != k {
			t.Errorf("summary error codes %v, want %v", sum.ErrorCodes, wantCodes)
			break
		}
	}
	if len(got) != in.n {
		t.Errorf("%d row results for %d input rows", len(got), in.n)
	}
	ids := make(map[int64]string, in.n)
	outcomes := make(map[int64]int, in.n)
	for _, r := range got {
		outcomes[r.Row]++
		if outcomes[r.Row] > 1 {
			t.Errorf("row %d has %d outcomes", r.Row, outcomes[r.Row])
			continue
		}
		if code, bad := in.bad[r.Row]; bad {
			if r.Outcome != load.Failed || r.Error == nil || r.Error.StatusCode != code || r.Error.Message == "" {
				t.Errorf("bad row %d: outcome %v error %+v, want Failed %s with a message", r.Row, r.Outcome, r.Error, code)
			}
			continue
		}
		if r.Outcome != load.Succeeded || r.ID == "" || !r.Created || r.Error != nil {
			t.Errorf("row %d: outcome %v id %q created %v error %+v, want a created record", r.Row, r.Outcome, r.ID, r.Created, r.Error)
			continue
		}
		ids[r.Row] = r.ID
	}
	for row := int64(1); row <= int64(in.n); row++ {
		if outcomes[row] == 0 {
			t.Errorf("row %d has no outcome", row)
		}
	}
	// The org holds exactly the good rows, each under the id reported for its row.
	org := e.Contacts(t)
	if len(org) != int(good) {
		t.Errorf("org has %d of the scenario's contacts, want %d", len(org), good)
	}
	for row, id := range ids {
		if org[id] != in.name(row) {
			t.Fatalf("row %d reported id %s, which the org holds as %q", row, id, org[id])
		}
	}
	return ids
}

// checkResultsFile asserts that results.csv lists every input row once, in input order.
func checkResultsFile(t *testing.T, dir string, in loadInput) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, load.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("reading %s: %v", load.ResultsFile, err)
	}
	if len(recs) != in.n+1 {
		t.Fatalf("%s has %d rows, want %d and a header", load.ResultsFile, len(recs)-1, in.n)
	}
	for i, r := range recs[1:] {
		if r[0] != strconv.Itoa(i+1) {
			t.Fatalf("%s line %d is input row %q, want %d", load.ResultsFile, i+2, r[0], i+1)
		}
	}
}

func testLoad(t *testing.T, e *Env, api load.API) {
	e.CleanupContacts(t)
	in := newLoadInput(e, 5000, []int64{100, 2500, 5000}, []int64{3001})
	var got collector
	dir := t.TempDir()
	files, err := load.CSVSinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := load.Load(t.Context(), e.Client, load.CSVSource(bytes.NewReader(in.csv), "contacts.csv", load.CSVOptions{}),
		load.MultiSink(&got, files), loadOptions(t, e, api))
	if cerr := files.Close(); cerr != nil {
		t.Errorf("closing result files: %v", cerr)
	}
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if sum.API != api {
		t.Errorf("summary API %v, want %v", sum.API, api)
	}
	if len(sum.Jobs) < 3 {
		t.Errorf("%d jobs/batches for 5,000 rows of 2,000, want at least 3", len(sum.Jobs))
	}
	checkLoad(t, e, in, sum, got.rows)
	checkResultsFile(t, dir, in)
}

// testLoadBulk2: the load engine puts 5,000 rows with four bad ones through Bulk API 2.0.
func testLoadBulk2(t *testing.T, e *Env) { testLoad(t, e, load.Bulk2) }

// testLoadBulk1: the same through Bulk API 1.0.
func testLoadBulk1(t *testing.T, e *Env) { testLoad(t, e, load.Bulk1) }

// testExtract: rows loaded by the load engine come back exactly, through every extract API.
func testExtract(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	const n = 3000
	in := newLoadInput(e, n, nil, nil)
	var got collector
	sum, err := load.Load(t.Context(), e.Client, load.CSVSource(bytes.NewReader(in.csv), "contacts.csv", load.CSVOptions{}), &got, loadOptions(t, e, load.Bulk2))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	ids := checkLoad(t, e, in, sum, got.rows)
	want := make(map[string][]string, n) // Id -> LastName, Email
	for row, id := range ids {
		want[id] = []string{in.name(row), fmt.Sprintf("l%d@example.com", row)}
	}
	query := "SELECT Id, LastName, Email FROM Contact WHERE LastName LIKE " + e.Like()

	tests := []struct {
		name string
		opts extract.Options
	}{
		{"bulk2", extract.Options{API: extract.APIBulk2, PageSize: 1000}},
		{"bulk2 ordered pages", extract.Options{API: extract.APIBulk2, PageSize: 700, Concurrency: 1}},
		{"bulk1", extract.Options{API: extract.APIBulk1}},
		{"rest", extract.Options{API: extract.APIREST, PageSize: 1000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			opts := tt.opts
			opts.Query, opts.Output = query, &out
			opts.PollInterval, opts.MaxPollInterval = e.PollMin, e.PollMax
			opts.TempDir = t.TempDir()
			sum, err := extract.Run(t.Context(), e.Client, opts)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if sum.API != opts.API || sum.Rows != n {
				t.Errorf("summary: API %s rows %d, want %s %d", sum.API, sum.Rows, opts.API, n)
			}
			recs, err := csv.NewReader(&out).ReadAll()
			if err != nil {
				t.Fatalf("reading the CSV output: %v", err)
			}
			if len(recs) == 0 || !slices.Equal(recs[0], []string{"Id", "LastName", "Email"}) {
				t.Fatalf("header %v", first(recs))
			}
			if len(recs)-1 != n {
				t.Errorf("%d rows, want %d", len(recs)-1, n)
			}
			seen := map[string]bool{}
			for _, r := range recs[1:] {
				if w, ok := want[r[0]]; !ok || seen[r[0]] || !slices.Equal(r[1:], w) {
					t.Fatalf("row %v: loaded as %v (known %v), seen before %v", r, w, ok, seen[r[0]])
				}
				seen[r[0]] = true
			}
		})
	}

	t.Run("rows iterator", func(t *testing.T) {
		t.Parallel()
		count := 0
		for row, err := range extract.Rows(t.Context(), e.Client, extract.Options{Query: query, API: extract.APIBulk2, PollInterval: e.PollMin, MaxPollInterval: e.PollMax, TempDir: t.TempDir()}) {
			if err != nil {
				t.Fatalf("Rows: %v", err)
			}
			id, _ := row.Get("Id")
			email, _ := row.Get("email") // case-insensitive
			if w := want[id]; w == nil || w[1] != email {
				t.Fatalf("row %v, loaded as %v", row.Values, w)
			}
			count++
		}
		if count != n {
			t.Errorf("%d rows, want %d", count, n)
		}
	})
}

// testSessionExpiry: every session of the org expires in the middle of a load (Bulk API 2.0
// and 1.0) and of an extraction; the client logs in again and nothing is lost or doubled.
// It runs on an emulator of its own, since expiring sessions affects every client.
func testSessionExpiry(t *testing.T, e *Env) {
	srv, c := newEmulator(t)
	e = &Env{Target: e.Target, Prefix: e.Prefix}
	e.Client, e.Emulator = c, srv

	token := func() string {
		tok, err := c.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	const n = 3000
	in := newLoadInput(e, n, nil, nil)
	for i, api := range []load.API{load.Bulk2, load.Bulk1} {
		before := token()
		var once sync.Once
		expired := 0
		opts := loadOptions(t, e, api)
		opts.BatchSize = 1000
		opts.Concurrency = 1
		opts.Progress = load.ProgressFunc(func(ev load.Event) {
			// After the first job or batch is under way, with more to upload.
			if ev.Kind == load.JobState {
				once.Do(func() { expired = srv.ExpireSessions() })
			}
		})
		// Each API loads into its own rows, so both loads can be checked alike.
		in := in
		if i == 1 {
			e.Prefix += "b"
			in = newLoadInput(e, n, nil, nil)
		}
		e.CleanupContacts(t)
		var got collector
		sum, err := load.Load(t.Context(), c, load.CSVSource(bytes.NewReader(in.csv), "contacts.csv", load.CSVOptions{}), &got, opts)
		if err != nil {
			t.Fatalf("%v load across session expiry: %v", api, err)
		}
		if expired == 0 {
			t.Fatalf("%v: no session was expired during the load", api)
		}
		checkLoad(t, e, in, sum, got.rows)
		if token() == before {
			t.Errorf("%v: the session was not renewed", api)
		}
	}

	for _, api := range []extract.API{extract.APIBulk2, extract.APIREST} {
		before := token()
		var once sync.Once
		var out bytes.Buffer
		sum, err := extract.Run(t.Context(), c, extract.Options{
			Query:    "SELECT Id, LastName FROM Contact WHERE LastName LIKE " + e.Like(),
			API:      api,
			PageSize: 500, Concurrency: 1,
			PollInterval: e.PollMin, MaxPollInterval: e.PollMax,
			Output: &out, TempDir: t.TempDir(),
			Progress: func(extract.Progress) { once.Do(func() { srv.ExpireSessions() }) },
		})
		if err != nil {
			t.Fatalf("%s extract across session expiry: %v", api, err)
		}
		lines := bytes.Count(out.Bytes(), []byte("\n"))
		if sum.Rows != n || lines != n+1 {
			t.Errorf("%s: %d rows, %d lines, want %d rows", api, sum.Rows, lines, n)
		}
		if token() == before {
			t.Errorf("%s: the session was not renewed", api)
		}
	}
}

// testLoadUpsert: upserts by External_Id__c through the load engine report, per row, whether
// they created or updated a record, and updates land on the records created before, through
// each API.
func testLoadUpsert(t *testing.T, e *Env) {
	if !hasContactExternalID(t, e) {
		t.Skip("Contact.External_Id__c missing on this org")
	}
	e.CleanupContacts(t)
	for tag, api := range map[string]load.API{"b2": load.Bulk2, "b1": load.Bulk1, "co": load.Collections} {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			e := &Env{Target: e.Target, Prefix: e.Prefix + tag}
			const before, n = 300, 500
			rows := func(from, to int, version string) load.Source {
				var b strings.Builder
				b.WriteString("External_Id__c,LastName\n")
				for i := from; i < to; i++ {
					fmt.Fprintf(&b, "%sx%05d,%s%s\n", e.Prefix, i, e.Name(i), version)
				}
				return load.CSVSource(strings.NewReader(b.String()), "upsert.csv", load.CSVOptions{})
			}
			opts := loadOptions(t, e, api)
			opts.Operation, opts.ExternalIDField = load.Upsert, "External_Id__c"
			opts.BatchSize = 200
			var first collector
			if _, err := load.Load(t.Context(), e.Client, rows(0, before, ""), &first, opts); err != nil {
				t.Fatalf("first upsert: %v", err)
			}
			ids := map[int64]string{}
			for _, r := range first.rows {
				if r.Outcome != load.Succeeded || !r.Created {
					t.Fatalf("first upsert row %d: %v created %v %+v", r.Row, r.Outcome, r.Created, r.Error)
				}
				ids[r.Row] = r.ID
			}
			var second collector
			sum, err := load.Load(t.Context(), e.Client, rows(0, n, "v2"), &second, opts)
			if err != nil {
				t.Fatalf("second upsert: %v", err)
			}
			if sum.Succeeded != n || sum.Created != n-before || len(second.rows) != n {
				t.Errorf("second upsert: %d succeeded, %d created, %d results; want %d, %d, %d", sum.Succeeded, sum.Created, len(second.rows), n, n-before, n)
			}
			for _, r := range second.rows {
				existed := r.Row <= before
				if r.Outcome != load.Succeeded || r.Created == existed || (existed && r.ID != ids[r.Row]) {
					t.Errorf("second upsert row %d: %v created %v id %s (first load: %q)", r.Row, r.Outcome, r.Created, r.ID, ids[r.Row])
				}
			}
			org := e.Contacts(t)
			if len(org) != n {
				t.Errorf("org has %d contacts, want %d", len(org), n)
			}
			for _, name := range org {
				if !strings.HasSuffix(name, "v2") {
					t.Fatalf("contact %q was not updated", name)
				}
			}
		})
	}
}

// testLoadAuto: a small input goes through sObject Collections on its own, with the same
// one-outcome-per-row guarantee.
func testLoadAuto(t *testing.T, e *Env) {
	e.CleanupContacts(t)
	in := newLoadInput(e, 450, []int64{7}, []int64{401})
	var got collector
	sum, err := load.Load(t.Context(), e.Client, load.CSVSource(bytes.NewReader(in.csv), "contacts.csv", load.CSVOptions{}), &got, loadOptions(t, e, load.Auto))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if sum.API != load.Collections {
		t.Errorf("API auto chose %v for %d rows, want collections", sum.API, in.n)
	}
	checkLoad(t, e, in, sum, got.rows)
}

// testFaults: HTTP 503s, dropped connections on safe requests and UNABLE_TO_LOCK_ROW row
// failures during a load neither lose nor double a row: the client retries the requests, the
// engine resubmits the locked rows, and every row succeeds exactly once. Emulator only, on an
// org of its own (faults are org-wide).
func testFaults(t *testing.T, e *Env) {
	srv, c := newEmulator(t)
	tests := []struct {
		api    load.API
		faults []salesforcetest.Fault
	}{
		{load.Bulk2, []salesforcetest.Fault{
			{Method: "PUT", Path: "/services/data/*/jobs/ingest/*/batches", Status: 503, Times: 2},
			{Method: "GET", Path: "/services/data/*/jobs/ingest/*", Status: 503, Times: 3, RetryAfter: 1},
			{Method: "GET", Path: "/services/data/*/jobs/ingest/*/successfulResults*", Drop: true, Times: 1},
		}},
		{load.Bulk1, []salesforcetest.Fault{
			{Method: "POST", Path: "/services/async/*/job/*/batch", Status: 503, Times: 2},
			{Method: "GET", Path: "/services/async/*/job/*/batch/*/result", Drop: true, Times: 1},
		}},
		{load.Collections, []salesforcetest.Fault{
			{Method: "POST", Path: "/services/data/*/composite/sobjects", Status: 503, Times: 2},
		}},
	}
	for i, tt := range tests {
		t.Run(tt.api.String(), func(t *testing.T) {
			e := &Env{Target: e.Target, Prefix: fmt.Sprintf("%s%d", e.Prefix, i)}
			e.Client, e.Emulator = c, srv
			srv.ClearFaults()
			t.Cleanup(srv.ClearFaults)
			for _, f := range tt.faults {
				if _, err := srv.AddFault(f); err != nil {
					t.Fatal(err)
				}
			}
			srv.Org().InjectRowFault(org.RowFault{
				Object: "Contact", StatusCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record", Count: 40,
				Match: func(f map[string]any) bool { s, _ := f["LastName"].(string); return strings.HasSuffix(s, "7") },
			})
			t.Cleanup(srv.Org().ClearRowFaults)
			in := newLoadInput(e, 1500, nil, nil)
			opts := loadOptions(t, e, tt.api)
			opts.BatchSize = min(500, opts.BatchSize)
			if tt.api == load.Collections {
				opts.BatchSize = 200
			}
			opts.RetryBackoff = time.Millisecond
			var got collector
			sum, err := load.Load(t.Context(), c, load.CSVSource(bytes.NewReader(in.csv), "contacts.csv", load.CSVOptions{}), &got, opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			checkLoad(t, e, in, sum, got.rows)
			// Every request fault was met (spent faults leave the list).
			var active []struct {
				Fault     salesforcetest.Fault `json:"fault"`
				Remaining int                  `json:"remaining"`
			}
			if err := c.Call(t.Context(), "GET", "/_emulator/faults", nil, &active); err != nil {
				t.Fatalf("listing faults: %v", err)
			}
			for _, f := range active {
				if f.Remaining != 0 {
					t.Errorf("fault %s %s was not met (%d left): the scenario did not exercise it", f.Fault.Method, f.Fault.Path, f.Remaining)
				}
			}
			if sum.Retried < 40 {
				t.Errorf("%d rows resubmitted, want at least the 40 locked ones", sum.Retried)
			}
			retried := 0
			for _, r := range got.rows {
				if r.Attempts > 1 {
					retried++
				}
			}
			if retried < 40 {
				t.Errorf("%d rows took more than one attempt, want at least 40", retried)
			}
		})
	}
}
