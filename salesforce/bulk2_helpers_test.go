package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rotatingTokens hands out tok-1, tok-2, … : every call is a "refresh".
type rotatingTokens struct {
	mu sync.Mutex
	n  int
}

func (s *rotatingTokens) Token(context.Context) (*Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return &Token{AccessToken: fmt.Sprintf("tok-%d", s.n)}, nil
}

func (s *rotatingTokens) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// fastRetry retries quickly and deterministically (no waiting).
func fastRetry() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Jitter: func(time.Duration) time.Duration { return 0 }}
}

// newFakeOrgClient starts a TLS server with h and returns a client for it.
func newFakeOrgClient(t *testing.T, h http.Handler, opts ...Option) (*Client, *rotatingTokens) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	toks := &rotatingTokens{}
	all := append([]Option{WithHTTPClient(srv.Client()), WithTokenSource(toks), WithRetry(fastRetry())}, opts...)
	c, err := New(srv.URL, all...)
	if err != nil {
		t.Fatal(err)
	}
	return c, toks
}

// recordedRequest is what a fake handler saw.
type recordedRequest struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// recorder wraps a handler and records every request (body read fully first).
type recorder struct {
	mu   sync.Mutex
	reqs []recordedRequest
	h    func(w http.ResponseWriter, r *http.Request, body string)
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rr := recordedRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(b)}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, rr)
	rc.mu.Unlock()
	rc.h(w, r, string(b))
}

func (rc *recorder) all() []recordedRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]recordedRequest(nil), rc.reqs...)
}

func (rc *recorder) last(t *testing.T) recordedRequest {
	t.Helper()
	all := rc.all()
	if len(all) == 0 {
		t.Fatal("no request received")
	}
	return all[len(all)-1]
}

func writeBody(w http.ResponseWriter, status int, contentType, body string) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// jsonDiff compares two JSON documents semantically ("" when equal).
func jsonDiff(t *testing.T, got, want string) string {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		return fmt.Sprintf("got is not JSON (%v): %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	return cmp.Diff(w, g)
}

func mustHeader(t *testing.T, r recordedRequest, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("%s %s: header %s = %q, want %q", r.Method, r.Path, name, got, want)
	}
}

var _ = strings.TrimSpace
