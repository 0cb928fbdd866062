package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfbatch/sfbatch/emulator"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// writeContacts writes n contact rows to a CSV file and returns its path.
func writeContacts(t *testing.T, n int) string {
	t.Helper()
	var in strings.Builder
	in.WriteString("LastName,Email\n")
	for i := range n {
		fmt.Fprintf(&in, "Row%04d,r%d@example.com\n", i, i)
	}
	path := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(path, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// outcomes reads results.csv: row -> sf__Outcome.
func outcomes(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := sfcsv.NewReader(f, sfcsv.ReaderOptions{})
	if _, err := rd.Header(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for {
		rec, err := rd.Read()
		if err != nil {
			return got
		}
		if _, dup := got[rec[0]]; dup {
			t.Errorf("row %s twice in results.csv", rec[0])
		}
		got[rec[0]] = rec[1]
	}
}

func runLoadTest(t *testing.T, connect connectFunc, o *loadOptions) (*loadOutcome, int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	cmd := newLoadCmds(ios)[0]
	cmd.SetContext(t.Context())
	res, err := runLoadWith(cmd, ios, connect, o)
	return res, exitCodeOf(err), errOut.String() + fmt.Sprint(err)
}

// exitCodeOf is the exit code Run gives err.
func exitCodeOf(err error) int {
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case err != nil:
		return ExitError
	}
	return ExitOK
}

// TestLoadOrgUnusable: an org that cannot be reached, a login it refuses, or a session that
// expired and cannot be renewed stop the run before any job is created: every row is not
// processed (listed in unprocessed.csv), exit 5 or 4, and the run folder says so.
func TestLoadOrgUnusable(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	const n = 50
	input := writeContacts(t, n)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + ln.Addr().String()
	ln.Close()
	expired := srv.AccessToken()
	srv.ExpireSessions()
	noSOAP := salesforcetest.New(t, salesforcetest.WithConfig(func(cfg *emulator.Config) { cfg.SOAPLoginDisabled = true }))
	cases := []struct {
		name        string
		connect     connectFunc
		api         string
		want        int
		noPreflight bool // first contact is the job or call itself
	}{
		{"unreachable at login", func(ctx context.Context, _ *slog.Logger) (*salesforce.Client, error) {
			p := &Profile{LoginURL: closed, Username: "u@example.com", Password: "p"}
			return p.client(ctx)
		}, "auto", ExitUnreachable, false},
		{"unreachable at preflight", func(context.Context, *slog.Logger) (*salesforce.Client, error) {
			return salesforce.New(closed, salesforce.WithAccessToken("00Dx!token"), salesforce.WithRetry(salesforce.RetryPolicy{MaxAttempts: 1}))
		}, "bulk2", ExitUnreachable, false},
		{"unreachable at job creation", func(context.Context, *slog.Logger) (*salesforce.Client, error) {
			return salesforce.New(closed, salesforce.WithAccessToken("00Dx!token"), salesforce.WithRetry(salesforce.RetryPolicy{MaxAttempts: 1}))
		}, "bulk1", ExitUnreachable, true},
		{"expired session at job creation", func(context.Context, *slog.Logger) (*salesforce.Client, error) {
			return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(expired))
		}, "bulk2", ExitAuth, true},
		{"expired session at the first call", func(context.Context, *slog.Logger) (*salesforce.Client, error) {
			return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(expired))
		}, "collections", ExitAuth, true},
		{"login refused", func(ctx context.Context, _ *slog.Logger) (*salesforce.Client, error) {
			return salesforce.Login(ctx, salesforce.LoginConfig{LoginURL: srv.LoginURL(), Username: srv.Credentials().Username,
				Password: "wrong", HTTPClient: srv.Client()})
		}, "bulk1", ExitAuth, false},
		{"expired session", func(context.Context, *slog.Logger) (*salesforce.Client, error) {
			return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(expired))
		}, "collections", ExitAuth, false},
		// SOAP reports the refusal as a 500 fault: a refused login, not an org that is down.
		{"SOAP login() refused by the org", func(ctx context.Context, _ *slog.Logger) (*salesforce.Client, error) {
			return salesforce.Login(ctx, salesforce.LoginConfig{LoginURL: noSOAP.LoginURL(), Username: noSOAP.Credentials().Username,
				Password: noSOAP.Credentials().Password + noSOAP.Credentials().SecurityToken, HTTPClient: noSOAP.Client()})
		}, "bulk2", ExitAuth, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "out")
			o := &loadOptions{Operation: load.Insert, Object: "Contact", API: tc.api, ColumnDelimiter: "COMMA", LineEnding: "LF",
				input: input, OutputDir: dir, Quiet: true, NoPreflight: tc.noPreflight}
			res, code, msg := runLoadTest(t, tc.connect, o)
			if code != tc.want {
				t.Fatalf("exit %d, want %d: %s", code, tc.want, msg)
			}
			if s := res.Summary; s.Rows != n || s.NotProcessed != n || s.Failed != 0 || len(jobIDs(s)) != 0 {
				t.Errorf("summary %+v, want every row not processed and no job", s)
			}
			for row, oc := range outcomes(t, res.Files["results"]) {
				if oc != "not_processed" {
					t.Errorf("row %s: %s", row, oc)
				}
			}
			b, _ := os.ReadFile(res.Files["unprocessed"])
			if got := strings.Count(string(b), "\n"); got != n+1 {
				t.Errorf("unprocessed.csv has %d lines, want %d", got, n+1)
			}
			sum, _ := os.ReadFile(filepath.Join(dir, summaryFile))
			if !strings.Contains(string(sum), fmt.Sprintf(`"exit_code": %d`, tc.want)) || !strings.Contains(string(sum), `"state": "failed"`) {
				t.Errorf("summary.json:\n%s", sum)
			}
		})
	}
	if got := srv.Count("Contact"); got != 0 {
		t.Errorf("%d contacts in the org", got)
	}
}

// expireAfter is a transport that expires the emulator's sessions after the first request
// that trigger matches has been answered, so the session is lost mid-run.
type expireAfter struct {
	rt      http.RoundTripper
	srv     *salesforcetest.Server
	trigger func(*http.Request) bool
	done    atomic.Bool
}

func (e *expireAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := e.rt.RoundTrip(r)
	if err == nil && e.trigger(r) && e.done.CompareAndSwap(false, true) {
		e.srv.ExpireSessions()
	}
	return resp, err
}

// TestLoadSessionLostMidRun: a session that expires mid-run and cannot be renewed leaves the
// rows never sent not processed, never failed, through every API; every row has one outcome
// and the exit code is 3.
func TestLoadSessionLostMidRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		api     string
		trigger func(*http.Request) bool
	}{
		{"bulk2", func(r *http.Request) bool { // the first job closed
			return r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/jobs/ingest/")
		}},
		{"bulk1", func(r *http.Request) bool { // the first batch added
			return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/batch")
		}},
		{"collections", func(r *http.Request) bool { // the first call answered
			return r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/composite/sobjects")
		}},
	} {
		t.Run(tc.api, func(t *testing.T) {
			t.Parallel()
			srv := salesforcetest.New(t)
			const n = 400
			input := writeContacts(t, n)
			hc := *srv.Client()
			hc.Transport = &expireAfter{rt: srv.Client().Transport, srv: srv, trigger: tc.trigger}
			connect := func(context.Context, *slog.Logger) (*salesforce.Client, error) {
				return salesforce.New(srv.URL(), salesforce.WithHTTPClient(&hc), salesforce.WithAccessToken(srv.AccessToken()))
			}
			o := &loadOptions{Operation: load.Insert, Object: "Contact", API: tc.api, BatchSize: 100, Concurrency: 1,
				ColumnDelimiter: "COMMA", LineEnding: "LF", input: input, OutputDir: filepath.Join(t.TempDir(), "out"), Quiet: true}
			res, code, msg := runLoadTest(t, connect, o)
			if code != ExitRowsFailed {
				t.Fatalf("exit %d, want %d: %s", code, ExitRowsFailed, msg)
			}
			got := outcomes(t, res.Files["results"])
			if len(got) != n {
				t.Fatalf("%d rows in results.csv, want %d", len(got), n)
			}
			notProcessed := 0
			for row, oc := range got {
				switch oc {
				case "failed":
					t.Errorf("row %s failed; a row that was never sent must be not processed", row)
				case "not_processed":
					notProcessed++
				}
			}
			if inOrg := srv.Count("Contact"); notProcessed < n-100 || inOrg > 100 {
				t.Errorf("%d rows not processed, %d in the org; want the 300 rows after the first chunk not processed", notProcessed, inOrg)
			}
		})
	}
}

// TestLoadResumeStdin: a run over standard input is journaled like a file. Resuming it with
// input that changed stops before anything is sent (exit 2: by its row hashes, or by the
// whole input's hash once the first run read it to the end); with the same input it
// finishes, every row once.
func TestLoadResumeStdin(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	b, err := os.ReadFile(writeContacts(t, n))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	run := func(stdin string, resume bool) (*loadOutcome, int, string) {
		var out, errOut bytes.Buffer
		ios := &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
		cmd := newLoadCmds(ios)[0]
		cmd.SetContext(t.Context())
		o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "bulk2", BatchSize: 100, Concurrency: 1,
			ColumnDelimiter: "COMMA", LineEnding: "LF", input: "-", OutputDir: dir}
		if resume {
			o.Resume = dir
		}
		res, err := runLoad(cmd, ios, c, o)
		return res, exitCodeOf(err), errOut.String() + fmt.Sprint(err)
	}
	if err := srv.FailNext(1, "GET", "/services/data/*/jobs/ingest/*/successfulResults*", 400, "INVALIDJOB"); err != nil {
		t.Fatal(err)
	}
	if _, code, msg := run(string(b), false); code == ExitOK {
		t.Fatalf("first run succeeded although its results could not be fetched: %s", msg)
	}
	before := srv.Count("Contact")
	countJobs := func() int {
		k := 0
		for _, err := range c.Bulk2.ListIngestJobs(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			k++
		}
		return k
	}
	jobs := countJobs()
	changed := strings.Replace(string(b), "Row0150,", "Changed,", 1)
	if _, code, msg := run(changed, true); code != ExitUsage || !(strings.Contains(msg, "row 151 differs") || strings.Contains(msg, "is not the one the run loaded")) || !strings.Contains(msg, "nothing was sent") {
		t.Fatalf("resume over changed input: exit %d: %s", code, msg)
	}
	if after := countJobs(); srv.Count("Contact") != before || after != jobs {
		t.Fatalf("resume over changed input sent data: %d -> %d contacts, %d -> %d jobs", before, srv.Count("Contact"), jobs, after)
	}
	res, code, msg := run(string(b), true)
	if code != ExitOK {
		t.Fatalf("resume: exit %d: %s", code, msg)
	}
	got := outcomes(t, res.Files["results"])
	for row, oc := range got {
		if oc != "succeeded" {
			t.Errorf("row %s: %s", row, oc)
		}
	}
	if len(got) != n || srv.Count("Contact") != n {
		t.Fatalf("%d rows in results.csv, %d contacts in the org; want %d", len(got), srv.Count("Contact"), n)
	}
}

// TestLoadEventsRecordRetries: events.jsonl records the job's transitions and a request
// retry with its cause, and the concurrency change it caused, each with a timestamp.
func TestLoadEventsRecordRetries(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	input := writeContacts(t, 10)
	if err := srv.FailNext(1, "POST", "/services/data/*/jobs/ingest", http.StatusServiceUnavailable, "SERVER_UNAVAILABLE"); err != nil {
		t.Fatal(err)
	}
	connect := func(_ context.Context, log *slog.Logger) (*salesforce.Client, error) {
		return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()),
			salesforce.WithLogger(log), salesforce.WithRetry(salesforce.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	}
	dir := filepath.Join(t.TempDir(), "out")
	o := &loadOptions{Operation: load.Insert, Object: "Contact", API: "bulk2", ColumnDelimiter: "COMMA", LineEnding: "LF",
		input: input, OutputDir: dir, Quiet: true}
	if _, code, msg := runLoadTest(t, connect, o); code != ExitOK {
		t.Fatalf("exit %d: %s", code, msg)
	}
	b, err := os.ReadFile(filepath.Join(dir, eventsFile))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	retried, backedOff := false, false
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("events.jsonl line %q: %v", line, err)
		}
		if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(ev["time"])); err != nil {
			t.Errorf("event without a timestamp: %s", line)
		}
		kinds = append(kinds, fmt.Sprint(ev["event"]))
		if ev["event"] == "request_retried" && strings.Contains(fmt.Sprint(ev["error"]), "503") {
			retried = true
		}
		if ev["event"] == "concurrency" {
			delete(ev, "time")
			want := map[string]any{"event": "concurrency", "api": "bulk2", "from": 4.0, "to": 2.0, "cause": "503"}
			if diff := cmp.Diff(want, ev); diff != "" {
				t.Errorf("concurrency event (-want +got):\n%s", diff)
			}
			backedOff = true
		}
	}
	if !retried {
		t.Errorf("no request_retried event with its cause in:\n%s", b)
	}
	if !backedOff {
		t.Errorf("no concurrency event for the 503 in:\n%s", b)
	}
	joined := strings.Join(kinds, " ")
	if !strings.HasPrefix(joined, "run_started") || !strings.Contains(joined, "job") || !strings.HasSuffix(joined, "run_finished") {
		t.Errorf("events: %s", joined)
	}
}

// cancelAfter is a transport that cancels the run once the first job's failed results have
// been fetched: the job is finished and journaled, the rest of the run is interrupted.
type cancelAfter struct {
	rt     http.RoundTripper
	cancel context.CancelFunc
	once   atomic.Bool
}

func (c *cancelAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, "/unprocessedrecords") && c.once.CompareAndSwap(false, true) {
		c.cancel()
	}
	return resp, err
}

// TestLoadResumeCountsTheWholeRun: after --resume, the printed summary, summary.json and the
// exit code cover the rows the interrupted run finished as well as the resumed ones.
func TestLoadResumeCountsTheWholeRun(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t)
	const n = 300
	path := writeContacts(t, n)
	b, _ := os.ReadFile(path)
	// Row 7, in the first job, fails in Salesforce.
	os.WriteFile(path, []byte(strings.Replace(string(b), "r6@example.com", "not-an-email", 1)), 0o644)
	dir := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithCancel(t.Context())
	hc := *srv.Client()
	hc.Transport = &cancelAfter{rt: srv.Client().Transport, cancel: cancel}
	newOpts := func() *loadOptions {
		return &loadOptions{Operation: load.Insert, Object: "Contact", API: "bulk2", BatchSize: 100, Concurrency: 1,
			ColumnDelimiter: "COMMA", LineEnding: "LF", input: path, OutputDir: dir, Quiet: true}
	}
	var errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut}
	cmd := newLoadCmds(ios)[0]
	cmd.SetContext(ctx)
	_, err := runLoadWith(cmd, ios, func(context.Context, *slog.Logger) (*salesforce.Client, error) {
		return salesforce.New(srv.URL(), salesforce.WithHTTPClient(&hc), salesforce.WithAccessToken(srv.AccessToken()))
	}, newOpts())
	if code := exitCodeOf(err); code != ExitCancelled {
		t.Fatalf("interrupted run: exit %d: %v", code, err)
	}
	o := newOpts()
	o.Resume = dir
	connect := func(context.Context, *slog.Logger) (*salesforce.Client, error) {
		return salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	}
	res, code, msg := runLoadTest(t, connect, o)
	if code != ExitRowsFailed {
		t.Fatalf("resume: exit %d, want 3 (row 7 failed in the interrupted run): %s", code, msg)
	}
	if s := res.Summary; s.Rows != n || s.Succeeded != n-1 || s.Failed != 1 || s.ErrorCodes["INVALID_EMAIL_ADDRESS"] != 1 {
		t.Errorf("resumed summary %+v, want the whole run", s)
	}
	sum, _ := os.ReadFile(filepath.Join(dir, summaryFile))
	if !strings.Contains(string(sum), fmt.Sprintf(`"rows": %d`, n)) || !strings.Contains(string(sum), `"failed": 1`) {
		t.Errorf("summary.json:\n%s", sum)
	}
	if srv.Count("Contact") != n-1 {
		t.Errorf("%d contacts in the org, want %d", srv.Count("Contact"), n-1)
	}
}
