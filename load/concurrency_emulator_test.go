package load_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// concurrencyLog records the ConcurrencyChanged events of a load as "from->to cause".
type concurrencyLog struct {
	mu  sync.Mutex
	got []string
}

func (l *concurrencyLog) Event(e load.Event) {
	if e.Kind != load.ConcurrencyChanged {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, fmt.Sprintf("%d->%d %s", e.PrevConcurrency, e.Concurrency, e.Cause))
}

// fastRetryClient is a client of srv whose retries wait a millisecond.
func fastRetryClient(t *testing.T, srv *salesforcetest.Server) *salesforce.Client {
	t.Helper()
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()),
		salesforce.WithRetry(salesforce.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEmulatorConcurrencyBacksOffAndRecovers loads through the emulator while it reports
// congestion, and checks the sequence of concurrency values the engine went through. The
// layouts make the sequence independent of timing: lock errors are in the first seven chunks
// (every chunk of the first episode has one, so none releases its slot before the first
// decrease; the chunks started after it have one too), then clean chunks follow; a single 503
// can only be met in the first episode.
func TestEmulatorConcurrencyBacksOffAndRecovers(t *testing.T) {
	t.Parallel()
	const batch, lockedChunks, cleanChunks = 10, 7, 16
	backoff := []string{"4->2 UNABLE_TO_LOCK_ROW", "2->1 UNABLE_TO_LOCK_ROW", "1->2 recovered", "2->3 recovered", "3->4 recovered"}
	once503 := []string{"4->2 503", "2->3 recovered", "3->4 recovered"}
	tests := []struct {
		name  string
		api   load.API
		fault *salesforcetest.Fault
		want  []string
	}{
		{name: "bulk1 lock errors", api: load.Bulk1, want: backoff},
		{name: "bulk2 lock errors", api: load.Bulk2, want: backoff},
		{name: "collections lock errors", api: load.Collections, want: backoff},
		{name: "collections 503", api: load.Collections, want: once503,
			fault: &salesforcetest.Fault{Method: http.MethodPost, Path: "/services/data/*/composite/sobjects*", Status: http.StatusServiceUnavailable}},
		{name: "bulk2 503", api: load.Bulk2, want: once503,
			fault: &salesforcetest.Fault{Method: http.MethodPost, Path: "/services/data/*/jobs/ingest*", Status: http.StatusServiceUnavailable}},
		{name: "bulk1 503", api: load.Bulk1, want: once503,
			fault: &salesforcetest.Fault{Method: http.MethodPost, Path: "/services/async/*/job/*/batch", Status: http.StatusServiceUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := salesforcetest.New(t)
			c := fastRetryClient(t, srv)
			rows := emuContacts(batch*(lockedChunks+cleanChunks), "C")
			if tt.fault == nil {
				for i := range lockedChunks {
					rows[i*batch+3][4] = "Locked"
				}
				srv.Org().InjectRowFault(org.RowFault{Object: "Contact", Field: "Title", Value: "Locked", StatusCode: "UNABLE_TO_LOCK_ROW",
					Message: "unable to obtain exclusive access to this record", Count: lockedChunks})
			} else if _, err := srv.AddFault(*tt.fault); err != nil {
				t.Fatal(err)
			}
			log := &concurrencyLog{}
			res := newResults(t)
			opts := quick(load.Options{Object: "Contact", API: tt.api, BatchSize: batch, Concurrency: 4, Progress: log})
			sum, err := load.New(c).Load(t.Context(), src(emuHeader, rows), res, opts)
			if err != nil {
				t.Fatal(err)
			}
			res.check(len(rows))
			if sum.Succeeded != int64(len(rows)) || srv.Count("Contact") != len(rows) {
				t.Errorf("summary %+v, org has %d", sum, srv.Count("Contact"))
			}
			if diff := cmp.Diff(tt.want, log.got); diff != "" {
				t.Errorf("concurrency changes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEmulatorMaxAPIShare loads under a share of a small daily allowance: a load whose
// estimate does not fit sends nothing, and one that runs out part way stops sending, every
// row with one outcome, the unsent ones NotProcessed.
func TestEmulatorMaxAPIShare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      load.Options
		limit     string
		remaining int
		rows      int
		succeeded int64 // the rest are NotProcessed with StatusAPIShare
	}{
		// The preflight's describe and the limits read take 2 of the 10: the share of the 8
		// left is 4 calls of 10 rows.
		{name: "collections stops part way", opts: load.Options{API: load.Collections, BatchSize: 10, Concurrency: 1},
			limit: "DailyApiRequests", remaining: 10, rows: 60, succeeded: 40},
		{name: "collections estimate does not fit", opts: load.Options{BatchSize: 10},
			limit: "DailyApiRequests", remaining: 10, rows: 60, succeeded: 0},
		{name: "bulk2 estimate does not fit", opts: load.Options{API: load.Bulk2, BatchSize: 10, ExpectedRows: 60},
			limit: "DailyApiRequests", remaining: 100, rows: 60, succeeded: 0},
		{name: "bulk1 batches", opts: load.Options{API: load.Bulk1, BatchSize: 10, Concurrency: 1},
			limit: "DailyBulkApiBatches", remaining: 7, rows: 60, succeeded: 30},
		{name: "enough", opts: load.Options{API: load.Bulk2, BatchSize: 10, ExpectedRows: 60},
			limit: "DailyApiRequests", remaining: 1000, rows: 60, succeeded: 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := emulator(t)
			if err := srv.SetLimitRemaining(tt.limit, tt.remaining); err != nil {
				t.Fatal(err)
			}
			rows := emuContacts(tt.rows, "S")
			res := newResults(t)
			opts := tt.opts
			opts.Object, opts.MaxAPIShare = "Contact", 0.5
			sum, err := load.New(c).Load(t.Context(), src(emuHeader, rows), res, quick(opts))
			if err != nil {
				t.Fatal(err)
			}
			res.check(tt.rows)
			unsent := int64(tt.rows) - tt.succeeded
			if sum.Succeeded != tt.succeeded || sum.NotProcessed != unsent || sum.ErrorCodes[load.StatusAPIShare] != unsent {
				t.Errorf("summary %+v", sum)
			}
			if srv.Count("Contact") != int(tt.succeeded) {
				t.Errorf("org has %d contacts, want %d", srv.Count("Contact"), tt.succeeded)
			}
		})
	}
}

// TestEmulatorLimitModelBacksOff loads through the emulator's limit model rather than
// injected faults: the org serves two requests at once, each synchronous call takes 100 ms,
// and the load starts four calls. Which calls meet a 503 depends on timing, so the test
// checks the shape of the sequence: the first change halves 4 to 2 for a 503, every change
// halves for a 503 or adds one after clean completions, and the load recovers at least once
// (at a limit of 1 no call can meet a 503), with every row loaded.
func TestEmulatorLimitModelBacksOff(t *testing.T) {
	t.Parallel()
	srv := salesforcetest.New(t, salesforcetest.WithLimits(salesforcetest.LimitModel{MaxConcurrentRequests: 2, SyncCallLatency: 100 * time.Millisecond}))
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()),
		salesforce.WithRetry(salesforce.RetryPolicy{MaxAttempts: 200, MinBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	rows := emuContacts(120, "M")
	log := &concurrencyLog{}
	res := newResults(t)
	opts := quick(load.Options{Object: "Contact", API: load.Collections, BatchSize: 10, Concurrency: 4, Progress: log, Preflight: load.PreflightOff})
	sum, err := load.New(c).Load(t.Context(), src(emuHeader, rows), res, opts)
	if err != nil {
		t.Fatal(err)
	}
	res.check(len(rows))
	if sum.Succeeded != int64(len(rows)) {
		t.Errorf("summary %+v", sum)
	}
	if len(log.got) == 0 || log.got[0] != "4->2 503" {
		t.Fatalf("changes %v, want the first to be 4->2 503", log.got)
	}
	limit, recovered := 4, false
	for _, ch := range log.got {
		var from, to int
		var cause string
		if _, err := fmt.Sscanf(ch, "%d->%d %s", &from, &to, &cause); err != nil {
			t.Fatal(err)
		}
		switch {
		case from != limit:
			t.Errorf("change %q after a limit of %d", ch, limit)
		case cause == "503" && to != max(1, from/2):
			t.Errorf("change %q does not halve", ch)
		case cause == "recovered" && to != from+1:
			t.Errorf("change %q does not add one", ch)
		case cause != "503" && cause != "recovered":
			t.Errorf("change %q has cause %q", ch, cause)
		}
		recovered = recovered || cause == "recovered"
		limit = to
	}
	if !recovered {
		t.Errorf("changes %v never recover", log.got)
	}
	t.Logf("concurrency changes: %v", log.got)
}
