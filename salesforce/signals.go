package salesforce

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Congestion causes: the ways a response says the org is overloaded. They are the values of
// Signal.Congestion.
const (
	// CongestionUnavailable is HTTP 503 (Salesforce is shedding load).
	CongestionUnavailable = "503"
	// CongestionTooManyRequests is HTTP 429.
	CongestionTooManyRequests = "429"
	// CongestionRequestLimit is the error code REQUEST_LIMIT_EXCEEDED (a concurrency or
	// daily limit of the org).
	CongestionRequestLimit = "REQUEST_LIMIT_EXCEEDED"
	// CongestionLongTxn is REQUEST_LIMIT_EXCEEDED for the org's concurrent long-running
	// synchronous requests ("ConcurrentPerOrgLongTxn Limit exceeded.").
	CongestionLongTxn = "ConcurrentPerOrgLongTxn"
)

// Signal is what one attempt of one request told about the org's load. Every attempt reports
// one, retried attempts included, so a caller sees the 503s the client's retries hide.
type Signal struct {
	// Method is the request's HTTP method.
	Method string
	// StatusCode is the response's HTTP status; 0 when no response came (a transport error).
	StatusCode int
	// Congestion is one of the Congestion constants when the response says the org is
	// overloaded, else "".
	Congestion string
	// Limit is the response's Sforce-Limit-Info, when HasLimit.
	Limit    LimitInfo
	HasLimit bool
}

type signalsKey struct{}

// WithSignals returns a context whose requests report every attempt to fn, after the
// response headers arrived (or the attempt failed without a response), before the client
// decides whether to retry. Observers nest: fn is called first, then the observers of the
// contexts ctx derives from. fn must be quick and safe for concurrent use. It is how the
// load engine sees congestion and counts the requests it spends.
func WithSignals(ctx context.Context, fn func(Signal)) context.Context {
	parent, _ := ctx.Value(signalsKey{}).(func(Signal))
	if parent == nil {
		return context.WithValue(ctx, signalsKey{}, fn)
	}
	return context.WithValue(ctx, signalsKey{}, func(s Signal) { fn(s); parent(s) })
}

// signal reports one attempt to the context's observers, if any.
func signal(ctx context.Context, method string, resp *http.Response, err error) {
	fn, _ := ctx.Value(signalsKey{}).(func(Signal))
	if fn == nil {
		return
	}
	s := Signal{Method: method}
	if resp != nil {
		s.StatusCode = resp.StatusCode
		s.Limit, s.HasLimit = parseLimitInfo(resp.Header.Get("Sforce-Limit-Info"))
	}
	s.Congestion = CongestionOf(err)
	fn(s)
}

// CongestionOf returns the congestion cause an error reports (one of the Congestion
// constants), or "" when it reports none. A REQUEST_LIMIT_EXCEEDED whose message names
// ConcurrentPerOrgLongTxn is CongestionLongTxn.
func CongestionOf(err error) string {
	var ae *APIError
	if !errors.As(err, &ae) {
		return ""
	}
	switch {
	case strings.Contains(ae.Message, CongestionLongTxn):
		return CongestionLongTxn
	case strings.EqualFold(ae.ErrorCode, CongestionRequestLimit):
		return CongestionRequestLimit
	case ae.StatusCode == http.StatusServiceUnavailable:
		return CongestionUnavailable
	case ae.StatusCode == http.StatusTooManyRequests:
		return CongestionTooManyRequests
	}
	return ""
}
