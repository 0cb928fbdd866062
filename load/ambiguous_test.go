package load

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
)

func TestTransientAndRefused(t *testing.T) {
	t.Parallel()
	dial := &salesforce.TransportError{Method: "POST", URL: "u", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}
	reset := &salesforce.TransportError{Method: "POST", URL: "u", Err: &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}}
	for _, tc := range []struct {
		name               string
		err                error
		transient, refused bool
	}{
		{"500", &salesforce.APIError{StatusCode: 500, ErrorCode: "UNKNOWN_EXCEPTION"}, true, false},
		{"503", &salesforce.APIError{StatusCode: 503, ErrorCode: "SERVER_UNAVAILABLE"}, true, true},
		{"429", &salesforce.APIError{StatusCode: 429}, true, true},
		{"limit", &salesforce.APIError{StatusCode: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED"}, true, true},
		{"400", &salesforce.APIError{StatusCode: 400, ErrorCode: "INVALIDJOBSTATE"}, false, false},
		{"reset", reset, true, false},
		{"dial", dial, true, true},
		{"cancelled", context.Canceled, false, false},
		{"other", errors.New("disk full"), false, false},
	} {
		if got := transient(t.Context(), tc.err); got != tc.transient {
			t.Errorf("%s: transient = %v, want %v", tc.name, got, tc.transient)
		}
		if got := refused(tc.err); got != tc.refused {
			t.Errorf("%s: refused = %v, want %v", tc.name, got, tc.refused)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if transient(ctx, reset) {
		t.Error("a failure after the context ended is transient")
	}
}

func TestSameUpload(t *testing.T) {
	t.Parallel()
	want := []byte("LastName\nA\nB\n")
	for _, tc := range []struct {
		got  string
		same bool
	}{
		{"LastName\nA\nB\n", true},
		{"LastName\r\nA\r\nB\r\n", true},
		{"LastName\nA\nB", true},
		{"LastName\nA\nC\n", false},
		{"LastName\nA\n", false},
	} {
		if got := sameUpload([]byte(tc.got), want); got != tc.same {
			t.Errorf("sameUpload(%q) = %v, want %v", tc.got, got, tc.same)
		}
	}
}
