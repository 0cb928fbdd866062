package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
)

// testLoadInvalidRows: rows the reader can delimit but not accept (a cell too many, a cell
// too few, invalid UTF-8, a NUL byte) fail alone as SFBATCH_INVALID_ROW and are never sent;
// every other row is created, through each API.
func testLoadInvalidRows(t *testing.T, e *Env) {
	for _, api := range []load.API{load.Collections, load.Bulk2, load.Bulk1} {
		e := &Env{Target: e.Target, Prefix: e.Prefix + api.String()}
		e.CleanupContacts(t)
		var in bytes.Buffer
		in.WriteString("LastName,Title\n")
		bad := map[int64]string{3: "column 3", 5: "column Title", 7: "invalid UTF-8", 9: "NUL byte"}
		const n = 10
		for i := int64(1); i <= n; i++ {
			switch i {
			case 3:
				fmt.Fprintf(&in, "%s,t,extra\n", e.Name(int(i)))
			case 5:
				fmt.Fprintf(&in, "%s\n", e.Name(int(i)))
			case 7:
				fmt.Fprintf(&in, "%s,\xff\n", e.Name(int(i)))
			case 9:
				fmt.Fprintf(&in, "%s\x00,t\n", e.Name(int(i)))
			default:
				fmt.Fprintf(&in, "%s,t\n", e.Name(int(i)))
			}
		}
		var got collector
		opts := loadOptions(t, e, api)
		opts.BatchSize = 0
		sum, err := load.Load(t.Context(), e.Client, load.CSVSource(bytes.NewReader(in.Bytes()), "contacts.csv", load.CSVOptions{}), &got, opts)
		if err != nil {
			t.Fatalf("%v: Load: %v", api, err)
		}
		if sum.Rows != n || sum.Succeeded != n-int64(len(bad)) || sum.Failed != int64(len(bad)) {
			t.Errorf("%v: summary %+v", api, sum)
		}
		for _, r := range got.rows {
			want, isBad := bad[r.Row]
			switch {
			case isBad && (r.Outcome != load.Failed || r.Error.StatusCode != load.StatusInvalidRow || r.Attempts != 0 ||
				!strings.Contains(r.Error.Message, fmt.Sprintf("contacts.csv: row %d (line %d)", r.Row, r.Row+1)) || !strings.Contains(r.Error.Message, want)):
				t.Errorf("%v: row %d = %v %+v, want failed %s naming %q", api, r.Row, r.Outcome, r.Error, load.StatusInvalidRow, want)
			case !isBad && r.Outcome != load.Succeeded:
				t.Errorf("%v: row %d = %v %+v, want succeeded", api, r.Row, r.Outcome, r.Error)
			}
		}
		if got := countContacts(t, e); got != n-len(bad) {
			t.Errorf("%v: %d contacts in the org, want %d", api, got, n-len(bad))
		}
	}
}

// testLoadSessionRefused: a session the org refuses (and that cannot be renewed) stops the
// load at its first request, before any job exists: every row is not processed, and the
// error is one the caller recognises as an org that cannot be used.
func testLoadSessionRefused(t *testing.T, e *Env) {
	hc := http.DefaultClient
	if e.Emulator != nil {
		hc = e.Emulator.Client()
	}
	bogus, err := salesforce.New(e.Client.InstanceURL(), salesforce.WithHTTPClient(hc), salesforce.WithAccessToken("00D000000000000!NotAValidSessionForThisOrg"))
	if err != nil {
		t.Fatal(err)
	}
	in := newLoadInput(e, 50, nil, nil)
	for _, api := range []load.API{load.Bulk2, load.Bulk1, load.Collections} {
		for _, pre := range []load.Preflight{load.PreflightAuto, load.PreflightOff} {
			var got collector
			opts := loadOptions(t, e, api)
			opts.Preflight, opts.BatchSize = pre, 0
			sum, err := load.Load(t.Context(), bogus, load.CSVSource(bytes.NewReader(in.csv), "contacts.csv", load.CSVOptions{}), &got, opts)
			var le *load.Error
			if !errors.As(err, &le) || !load.OrgUnusable(err) || load.Unreachable(err) {
				t.Fatalf("%v preflight %v: err = %v, want a *load.Error the org refused", api, pre, err)
			}
			if sum.Rows != 50 || sum.NotProcessed != 50 || sum.Failed != 0 || len(got.rows) != 50 {
				t.Errorf("%v preflight %v: summary %+v, %d outcomes; want 50 rows not processed", api, pre, sum, len(got.rows))
			}
			for _, j := range sum.Jobs {
				if j.JobID != "" {
					t.Errorf("%v preflight %v: job %s was created", api, pre, j.JobID)
				}
			}
		}
	}
	if got := countContacts(t, e); got != 0 {
		t.Errorf("%d contacts in the org", got)
	}
}

// countContacts counts the scenario's contacts.
func countContacts(t *testing.T, e *Env) int {
	t.Helper()
	ids, err := e.IDs(t.Context(), "SELECT Id FROM Contact WHERE LastName LIKE "+e.Like())
	if err != nil {
		t.Fatal(err)
	}
	return len(ids)
}
