package salesforce_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

func TestCongestionOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&salesforce.APIError{StatusCode: 503, ErrorCode: "SERVER_UNAVAILABLE"}, salesforce.CongestionUnavailable},
		{&salesforce.APIError{StatusCode: 429}, salesforce.CongestionTooManyRequests},
		{&salesforce.APIError{StatusCode: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Message: "TotalRequests Limit exceeded."}, salesforce.CongestionRequestLimit},
		{&salesforce.APIError{StatusCode: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Message: "ConcurrentPerOrgLongTxn Limit exceeded."}, salesforce.CongestionLongTxn},
		{fmt.Errorf("call: %w", &salesforce.APIError{StatusCode: 503}), salesforce.CongestionUnavailable},
		{&salesforce.APIError{StatusCode: 400, ErrorCode: "INVALID_FIELD"}, ""},
		{&salesforce.TransportError{Method: "GET", URL: "x", Err: fmt.Errorf("reset")}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := salesforce.CongestionOf(tt.err); got != tt.want {
			t.Errorf("CongestionOf(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestWithSignals: every attempt of a request is reported, retried ones included, with its
// status, congestion and Sforce-Limit-Info, to every observer of the context, innermost first.
func TestWithSignals(t *testing.T) {
	t.Parallel()
	org := salesforcetest.New(t)
	c, err := salesforce.New(org.URL(), salesforce.WithHTTPClient(org.Client()), salesforce.WithAccessToken(org.AccessToken()),
		salesforce.WithRetry(emuRetry()))
	if err != nil {
		t.Fatal(err)
	}
	if err := org.FailNext(2, http.MethodGet, "/services/data/*/limits", http.StatusServiceUnavailable, "SERVER_UNAVAILABLE"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	record := func(who string) func(salesforce.Signal) {
		return func(s salesforce.Signal) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, fmt.Sprintf("%s %s %d %q limit=%v", who, s.Method, s.StatusCode, s.Congestion, s.HasLimit && s.Limit.Max > 0))
		}
	}
	ctx := salesforce.WithSignals(salesforce.WithSignals(t.Context(), record("outer")), record("inner"))
	if _, err := c.Limits(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`inner GET 503 "503" limit=false`, `outer GET 503 "503" limit=false`, // faults answer before the org counts
		`inner GET 503 "503" limit=false`, `outer GET 503 "503" limit=false`,
		`inner GET 200 "" limit=true`, `outer GET 200 "" limit=true`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("signals (-want +got):\n%s", diff)
	}
}
