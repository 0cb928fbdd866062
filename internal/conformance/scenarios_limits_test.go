package conformance

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// testLimitInfo: every REST and Bulk API 2.0 response carries Sforce-Limit-Info with the
// org's DailyApiRequests allocation (the Max of /limits) and a usage that never goes down.
func testLimitInfo(t *testing.T, e *Env) {
	var mu sync.Mutex
	var got []salesforce.Signal
	ctx := salesforce.WithSignals(t.Context(), func(s salesforce.Signal) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, s)
	})
	c := e.Client
	lim, err := c.Limits(ctx)
	if err != nil {
		t.Fatalf("Limits: %v", err)
	}
	for _, err := range c.Bulk2.ListIngestJobs(ctx) {
		if err != nil {
			t.Fatalf("ListIngestJobs: %v", err)
		}
		break // one page is enough
	}
	if _, err := c.Limits(ctx); err != nil {
		t.Fatalf("Limits: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 3 {
		t.Fatalf("%d signals for 3 requests", len(got))
	}
	want := lim[salesforce.LimitDailyAPIRequests]
	var last int64
	for i, s := range got {
		if !s.HasLimit {
			t.Errorf("response %d (%s, %d) has no Sforce-Limit-Info", i, s.Method, s.StatusCode)
			continue
		}
		if s.Limit.Max != want.Max || s.Limit.Used < last || s.Limit.Used > s.Limit.Max {
			t.Errorf("response %d: Sforce-Limit-Info %+v after usage %d; /limits DailyApiRequests %+v", i, s.Limit, last, want)
		}
		if s.Congestion != "" {
			t.Errorf("response %d reports congestion %q", i, s.Congestion)
		}
		last = s.Limit.Used
	}
}

// limitModelStart is the fake clock's start in testLimitModel.
var limitModelStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// testLimitModel: the emulator's limit model refuses what Salesforce refuses, in its shapes:
// a request over the requests in flight gets 503 (not counted), a synchronous call while
// the long-running ones are at their maximum gets 403 REQUEST_LIMIT_EXCEEDED
// "ConcurrentPerOrgLongTxn Limit exceeded.", a request past the daily maximum 403
// REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded."; a Bulk API 1.0 batch uses one of
// DailyBulkApiBatches; the maxima are set by configuration and by control.
func testLimitModel(t *testing.T, _ *Env) {
	clk := salesforcetest.NewFakeClock(limitModelStart)
	srv := salesforcetest.New(t, salesforcetest.WithClock(clk), salesforcetest.WithLimits(salesforcetest.LimitModel{
		DailyAPIRequests: 1000, MaxConcurrentRequests: 2,
		SyncCallLatency: 30 * time.Second, LongTxnThreshold: 20 * time.Second, MaxLongTxn: 1,
	}))
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()),
		salesforce.WithRetry(salesforce.NoRetry()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	lim, err := c.Limits(ctx)
	if err != nil {
		t.Fatalf("Limits: %v", err)
	}
	if l := lim[salesforce.LimitDailyAPIRequests]; l.Max != 1000 || l.Remaining != 999 {
		t.Errorf("DailyApiRequests %+v, want max 1000 (configured), 999 remaining", l)
	}

	// Two synchronous calls that take 30 s each on the org's clock: the requests in flight
	// are at their maximum, and another request is refused (and not counted).
	before := c.LimitInfo()
	calls := make(chan error, 2)
	for i, name := range []string{"First", "Second"} {
		go func() { calls <- syncCall(ctx, c, name) }()
		waitUntil(t, func() bool { return srv.SyncCallsInProgress() == i+1 })
	}
	_, err = c.Limits(ctx)
	checkRefusal(t, "a request over the requests in flight", err, http.StatusServiceUnavailable, "SERVER_UNAVAILABLE", salesforce.CongestionUnavailable)

	clk.Advance(30 * time.Second)
	for range 2 {
		if err := <-calls; err != nil {
			t.Fatalf("a synchronous call that waited its latency: %v", err)
		}
	}

	// A third call, 25 s on: it is long-running, and still running, so another synchronous
	// call is refused (and counted).
	go func() { calls <- syncCall(ctx, c, "Third") }()
	waitUntil(t, func() bool { return srv.SyncCallsInProgress() == 1 })
	clk.Advance(25 * time.Second)
	err = syncCall(ctx, c, "Refused")
	checkRefusal(t, "a synchronous call while the long-running ones are at their maximum", err, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", salesforce.CongestionLongTxn)
	clk.Advance(5 * time.Second)
	if err := <-calls; err != nil {
		t.Fatalf("a synchronous call that waited its latency: %v", err)
	}
	after, err := c.Limits(ctx)
	if err != nil {
		t.Fatalf("Limits: %v", err)
	}
	// Three calls, the refused call and this limits read; not the 503.
	if used := after[salesforce.LimitDailyAPIRequests].Used(); used != before.Used+5 {
		t.Errorf("DailyApiRequests used %d, want %d (the 503 is not counted)", used, before.Used+5)
	}

	// A Bulk API 1.0 batch uses one DailyBulkApiBatches.
	job, err := c.Bulk1.CreateJob(ctx, salesforce.JobRequest{Object: "Contact", Operation: "insert", ContentType: "CSV"})
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	if _, err := c.Bulk1.AddBatch(ctx, job.ID, "CSV", salesforce.BytesBody([]byte("LastName\nBatch\n"))); err != nil {
		t.Fatalf("AddBatch: %v", err)
	}
	lim2, err := c.Limits(ctx)
	if err != nil {
		t.Fatalf("Limits: %v", err)
	}
	if b0, b1 := lim[salesforce.LimitDailyBulkAPIBatches], lim2[salesforce.LimitDailyBulkAPIBatches]; b1.Remaining != b0.Remaining-1 {
		t.Errorf("DailyBulkApiBatches %+v after one batch, %+v before", b1, b0)
	}

	// The daily maximum, lowered by control to what is used plus one: one more request,
	// then REQUEST_LIMIT_EXCEEDED.
	if err := srv.SetLimitMax(salesforce.LimitDailyAPIRequests, int(lim2[salesforce.LimitDailyAPIRequests].Used())+1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Limits(ctx); err != nil {
		t.Fatalf("the last request of the day: %v", err)
	}
	if info := c.LimitInfo(); info.Used != info.Max {
		t.Errorf("Sforce-Limit-Info %+v after the last request, want usage at the max", info)
	}
	_, err = c.Limits(ctx)
	checkRefusal(t, "a request past the daily maximum", err, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", salesforce.CongestionRequestLimit)
	var ae *salesforce.APIError
	if errors.As(err, &ae) && ae.Message != "TotalRequests Limit exceeded." {
		t.Errorf("message %q", ae.Message)
	}
}

// syncCall creates one Contact through sObject Collections, a synchronous call.
func syncCall(ctx context.Context, c *salesforce.Client, lastName string) error {
	body := map[string]any{"allOrNone": true, "records": []map[string]any{{"attributes": map[string]string{"type": "Contact"}, "LastName": lastName}}}
	return c.Call(ctx, http.MethodPost, "composite/sobjects", body, nil)
}

// checkRefusal checks that err is an API error with status and code, which the client reads
// as congestion.
func checkRefusal(t *testing.T, what string, err error, status int, code, congestion string) {
	t.Helper()
	var ae *salesforce.APIError
	if !errors.As(err, &ae) || ae.StatusCode != status || ae.ErrorCode != code {
		t.Fatalf("%s: %v, want %d %s", what, err, status, code)
	}
	if got := salesforce.CongestionOf(err); got != congestion {
		t.Errorf("%s: congestion %q, want %q", what, got, congestion)
	}
}

// waitUntil waits until cond holds, checking every millisecond, or fails when the test's
// context ends.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		if err := salesforce.Sleep(t.Context(), time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
}
