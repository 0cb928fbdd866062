package salesforce

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// coreFastRetry is a retry policy with millisecond waits, for tests.
func coreFastRetry() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxRetryAfter: 5 * time.Millisecond}
}

// coreServer starts an HTTP (or HTTPS) server with h and a client for it using a fixed token.
func coreServer(t *testing.T, tls bool, h http.Handler, opts ...Option) (*httptest.Server, *Client) {
	t.Helper()
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	all := append([]Option{WithHTTPClient(srv.Client()), WithAccessToken("00Dtest!SECRET-TOKEN-abc"), WithRetry(coreFastRetry())}, opts...)
	c, err := New(srv.URL, all...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func coreRESTError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `[{"message":%q,"errorCode":%q}]`, msg, code)
}

func coreTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		url     string
		opts    []Option
		wantURL string
		wantVer string
		wantErr string
	}{
		{name: "defaults", url: "https://acme.my.salesforce.com/some/path", wantURL: "https://acme.my.salesforce.com", wantVer: DefaultAPIVersion},
		{name: "bare host", url: "acme.my.salesforce.com", wantURL: "https://acme.my.salesforce.com", wantVer: DefaultAPIVersion},
		{name: "version", url: "http://127.0.0.1:8080", opts: []Option{WithAPIVersion("v59.0")}, wantURL: "http://127.0.0.1:8080", wantVer: "59.0"},
		{name: "version without .0", url: "http://x", opts: []Option{WithAPIVersion("31")}, wantURL: "http://x", wantVer: "31.0"},
		{name: "retired version", url: "http://x", opts: []Option{WithAPIVersion("30.0")}, wantErr: "retired"},
		{name: "bad version", url: "http://x", opts: []Option{WithAPIVersion("abc")}, wantErr: "WithAPIVersion"},
		{name: "bad scheme", url: "ftp://x", wantErr: "scheme"},
		{name: "empty without source", url: "", wantErr: "no token source"},
		{name: "nil http client", url: "http://x", opts: []Option{WithHTTPClient(nil)}, wantErr: "WithHTTPClient"},
		{name: "empty access token", url: "http://x", opts: []Option{WithAccessToken("")}, wantErr: "empty token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.url, tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New() error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.InstanceURL(); got != tt.wantURL {
				t.Errorf("InstanceURL() = %q, want %q", got, tt.wantURL)
			}
			if got := c.APIVersion(); got != tt.wantVer {
				t.Errorf("APIVersion() = %q, want %q", got, tt.wantVer)
			}
		})
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	c, err := New("https://x.my.salesforce.com", WithAPIVersion("62.0"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ got, want string }{
		{c.dataPath("jobs", "ingest"), "/services/data/v62.0/jobs/ingest"},
		{c.dataPath("limits"), "/services/data/v62.0/limits"},
		{c.asyncPath("job", "750x", "batch"), "/services/async/62.0/job/750x/batch"},
		{c.asyncPath("job"), "/services/async/62.0/job"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestAuthHeaders(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			t.Parallel()
			var gotBearer, gotSession, gotUA, gotAE string
			_, c := coreServer(t, tls, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/rest":
					gotBearer = r.Header.Get("Authorization")
					gotUA = r.Header.Get("User-Agent")
					gotAE = r.Header.Get("Accept-Encoding")
				case "/bulk1":
					gotSession = r.Header.Get("X-SFDC-Session")
					if r.Header.Get("Authorization") != "" {
						t.Error("Bulk 1.0 request carries Authorization")
					}
				}
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{}`)
			}), WithUserAgent("sfbatch-test/1"))
			ctx := t.Context()
			if err := c.doJSON(ctx, &request{method: http.MethodGet, path: "/rest"}, nil, nil); err != nil {
				t.Fatal(err)
			}
			if err := c.doJSON(ctx, &request{method: http.MethodGet, path: "/bulk1", auth: authSession}, nil, nil); err != nil {
				t.Fatal(err)
			}
			if gotBearer != "Bearer 00Dtest!SECRET-TOKEN-abc" || gotSession != "00Dtest!SECRET-TOKEN-abc" {
				t.Errorf("Authorization %q, X-SFDC-Session %q", gotBearer, gotSession)
			}
			if gotUA != "sfbatch-test/1" || gotAE != "gzip" {
				t.Errorf("User-Agent %q, Accept-Encoding %q", gotUA, gotAE)
			}
		})
	}
}

// coreLogs is a slog.Handler that keeps records, for asserting on retry waits and on what
// never gets logged.
type coreLogs struct {
	mu   sync.Mutex
	recs []slog.Record
	buf  bytes.Buffer
}

func (l *coreLogs) Enabled(context.Context, slog.Level) bool { return true }
func (l *coreLogs) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r)
	fmt.Fprintf(&l.buf, "%s", r.Message)
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&l.buf, " %s=%v", a.Key, a.Value); return true })
	l.buf.WriteByte('\n')
	return nil
}
func (l *coreLogs) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *coreLogs) WithGroup(string) slog.Handler      { return l }
func (l *coreLogs) waits() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Duration
	for _, r := range l.recs {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "wait" {
				out = append(out, a.Value.Duration())
			}
			return true
		})
	}
	return out
}
func (l *coreLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func TestRetries(t *testing.T) {
	t.Parallel()
	type step func(w http.ResponseWriter)
	ok := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}
	busy := func(w http.ResponseWriter) { coreRESTError(w, 503, "SERVER_UNAVAILABLE", "busy") }
	tests := []struct {
		name      string
		method    string
		steps     []step
		noRetry   bool
		wantCalls int
		wantCode  string // "" = success
		wantWait  time.Duration
	}{
		{name: "503 then success", method: "GET", steps: []step{busy, ok}, wantCalls: 2},
		{name: "503 then success for POST", method: "POST", steps: []step{busy, ok}, wantCalls: 2},
		{name: "retry-after honoured", method: "GET", steps: []step{func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			coreRESTError(w, 429, "", "slow down")
		}, ok}, wantCalls: 2, wantWait: 5 * time.Millisecond},
		{name: "request limit exceeded", method: "GET", steps: []step{func(w http.ResponseWriter) {
			coreRESTError(w, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		}, ok}, wantCalls: 2},
		{name: "500 for GET retried", method: "GET", steps: []step{func(w http.ResponseWriter) { coreRESTError(w, 500, "UNKNOWN_EXCEPTION", "boom") }, ok}, wantCalls: 2},
		{name: "500 for POST not retried", method: "POST", steps: []step{func(w http.ResponseWriter) { coreRESTError(w, 500, "UNKNOWN_EXCEPTION", "boom") }, ok}, wantCalls: 1, wantCode: "UNKNOWN_EXCEPTION"},
		{name: "400 not retried", method: "GET", steps: []step{func(w http.ResponseWriter) { coreRESTError(w, 400, "MALFORMED_QUERY", "unexpected token") }, ok}, wantCalls: 1, wantCode: "MALFORMED_QUERY"},
		{name: "noRetry", method: "GET", steps: []step{busy, ok}, noRetry: true, wantCalls: 1, wantCode: "SERVER_UNAVAILABLE"},
		{name: "gives up after MaxAttempts", method: "GET", steps: []step{busy, busy, busy, busy, ok}, wantCalls: 4, wantCode: "SERVER_UNAVAILABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			var bodies sync.Map
			logs := &coreLogs{}
			_, c := coreServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1))
				b, _ := io.ReadAll(r.Body)
				bodies.Store(n, string(b))
				tt.steps[min(n, len(tt.steps))-1](w)
			}), WithLogger(slog.New(logs)))
			r := &request{method: tt.method, path: "/x", noRetry: tt.noRetry}
			var in any
			if tt.method == "POST" {
				in = map[string]string{"LastName": "Smith"}
			}
			var out map[string]any
			err := c.doJSON(t.Context(), r, in, &out)
			if got := int(calls.Load()); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if out["ok"] != true {
					t.Errorf("out = %v", out)
				}
			} else if !IsErrorCode(err, tt.wantCode) {
				t.Fatalf("err = %v, want code %s", err, tt.wantCode)
			}
			if tt.method == "POST" {
				bodies.Range(func(k, v any) bool {
					if v != `{"LastName":"Smith"}` {
						t.Errorf("attempt %v body = %q (body not replayed)", k, v)
					}
					return true
				})
			}
			if tt.wantWait > 0 {
				if w := logs.waits(); len(w) != 1 || w[0] != tt.wantWait {
					t.Errorf("waits = %v, want [%v]", w, tt.wantWait)
				}
			}
			if strings.Contains(logs.String(), "SECRET-TOKEN") {
				t.Errorf("token in logs:\n%s", logs)
			}
		})
	}
}

func TestRetryTransportError(t *testing.T) {
	t.Parallel()
	// A server that accepts the connection and closes it without answering.
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithAccessToken("tok-123456"), WithRetry(coreFastRetry()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.doJSON(t.Context(), &request{method: "GET", path: "/x"}, nil, nil); err != nil {
		t.Fatalf("GET after dropped connection: %v", err)
	}
	if calls.Load() != 2 {
		t.Errorf("calls = %d, want 2", calls.Load())
	}
	// A POST is not repeated after the server may have seen it.
	calls.Store(0)
	err = c.doJSON(t.Context(), &request{method: "POST", path: "/x"}, map[string]int{"a": 1}, nil)
	var te *TransportError
	if !errors.As(err, &te) || calls.Load() != 1 {
		t.Fatalf("POST: err = %v (calls %d), want one attempt and a *TransportError", err, calls.Load())
	}
	// Connection refused is safe to retry for any method, and gives a TransportError at the end.
	srv.Close()
	err = c.doJSON(t.Context(), &request{method: "POST", path: "/x"}, map[string]int{"a": 1}, nil)
	if !errors.As(err, &te) {
		t.Fatalf("closed server: err = %v, want *TransportError", err)
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(t.Context())
	_, c := coreServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		cancel()
		coreRESTError(w, 503, "SERVER_UNAVAILABLE", "busy")
	}), WithRetry(RetryPolicy{MaxAttempts: 10, MinBackoff: time.Hour, MaxBackoff: time.Hour}))
	err := c.doJSON(ctx, &request{method: "GET", path: "/x"}, nil, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if calls.Load() != 1 {
		t.Errorf("calls = %d, want 1", calls.Load())
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	full := func(n time.Duration) time.Duration { return n } // always the ceiling
	p := RetryPolicy{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, MaxRetryAfter: 10 * time.Second, Jitter: full}
	tests := []struct {
		attempt    int
		retryAfter time.Duration
		want       time.Duration
	}{
		{1, 0, 100 * time.Millisecond},
		{2, 0, 200 * time.Millisecond},
		{4, 0, 800 * time.Millisecond},
		{5, 0, time.Second},
		{50, 0, time.Second},
		{1, 3 * time.Second, 3 * time.Second},
		{1, time.Minute, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := p.backoff(tt.attempt, tt.retryAfter); got != tt.want {
			t.Errorf("backoff(%d, %v) = %v, want %v", tt.attempt, tt.retryAfter, got, tt.want)
		}
	}
	// Default jitter stays within [0, ceiling].
	d := RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}
	for i := range 200 {
		if got := d.backoff(1+i%5, 0); got < 0 || got > 4*time.Millisecond {
			t.Fatalf("backoff = %v out of range", got)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		h    string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {"-1", 0}, {"junk", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		if got := parseRetryAfter(tt.h, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.h, got, tt.want)
		}
	}
}

func TestGzip(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("LastName\nSmith\n", 1000)
	var gotEncoding, gotBody string
	_, c := coreServer(t, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotEncoding = r.Header.Get("Content-Encoding")
		var rd io.Reader = r.Body
		if gotEncoding == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Error(err)
				return
			}
			rd = zr
		}
		b, _ := io.ReadAll(rd)
		gotBody = string(b)
		// answer gzipped when asked
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "application/json")
			zw := gzip.NewWriter(w)
			fmt.Fprintf(zw, `{"n":%d}`, len(b))
			zw.Close()
			return
		}
		fmt.Fprintf(w, `{"n":%d}`, len(b))
	}), WithGzipRequests(1024))
	for _, tt := range []struct {
		name     string
		body     string
		wantGzip bool
	}{
		{"small body plain", "tiny", false},
		{"large body gzipped", big, true},
		{"exactly threshold gzipped", strings.Repeat("x", 1024), true},
	} {
		var out struct{ N int }
		r := &request{method: "PUT", path: "/up", body: BytesBody([]byte(tt.body)), contentType: "text/csv"}
		if err := c.doJSON(t.Context(), r, nil, &out); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if (gotEncoding == "gzip") != tt.wantGzip || gotBody != tt.body || out.N != len(tt.body) {
			t.Errorf("%s: encoding %q, body intact %v, decoded n=%d want %d", tt.name, gotEncoding, gotBody == tt.body, out.N, len(tt.body))
		}
	}
}

func TestLimitInfoAndHook(t *testing.T) {
	t.Parallel()
	var hooked atomic.Int32
	_, c := coreServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Sforce-Limit-Info", "api-usage=25/15000; per-app-api-usage=17/250(appName=sample-connected-app)")
		io.WriteString(w, `{}`)
	}), WithResponseHook(func(r *http.Response) { hooked.Add(1) }))
	if got := c.LimitInfo(); got != (LimitInfo{}) {
		t.Errorf("LimitInfo before any call = %+v", got)
	}
	if err := c.doJSON(t.Context(), &request{method: "GET", path: "/x"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	want := LimitInfo{Used: 25, Max: 15000, AppUsed: 17, AppMax: 250, AppName: "sample-connected-app"}
	if diff := cmp.Diff(want, c.LimitInfo()); diff != "" {
		t.Errorf("LimitInfo (-want +got):\n%s", diff)
	}
	if c.LimitInfo().Remaining() != 14975 {
		t.Errorf("Remaining = %d", c.LimitInfo().Remaining())
	}
	if hooked.Load() != 1 {
		t.Errorf("hook calls = %d", hooked.Load())
	}
}

func TestParseLimitInfo(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		h    string
		want LimitInfo
		ok   bool
	}{
		{"api-usage=18/5000", LimitInfo{Used: 18, Max: 5000}, true},
		{"api-usage=25/5000; per-app-api-usage=17/250(appName=app)", LimitInfo{Used: 25, Max: 5000, AppUsed: 17, AppMax: 250, AppName: "app"}, true},
		{"per-app-api-usage=17/250(appName=app)", LimitInfo{AppUsed: 17, AppMax: 250, AppName: "app"}, false},
		{"api-usage=x/5000", LimitInfo{}, false},
		{"", LimitInfo{}, false},
	} {
		got, ok := parseLimitInfo(tt.h)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("parseLimitInfo(%q) = %+v, %v; want %+v, %v", tt.h, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPacerCapsConcurrency(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	entered := make(chan struct{}, 6)
	_, c := coreServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		entered <- struct{}{}
		<-release
		inFlight.Add(-1)
		io.WriteString(w, `{}`)
	}), WithMaxConcurrentRequests(2))
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if err := c.doJSON(t.Context(), &request{method: "GET", path: "/x"}, nil, nil); err != nil {
				t.Error(err)
			}
		})
	}
	// Two get in; each release lets exactly one more in.
	<-entered
	<-entered
	for range 4 {
		release <- struct{}{}
		<-entered
	}
	release <- struct{}{}
	release <- struct{}{}
	wg.Wait()
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrency = %d, want 2", p)
	}
}

func TestPacerRate(t *testing.T) {
	t.Parallel()
	p := newPacer(0, 10) // 10/s, burst 10
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		if d := p.reserve(now); d != 0 {
			t.Fatalf("reserve %d in burst waited %v", i, d)
		}
	}
	if d := p.reserve(now); d != 100*time.Millisecond {
		t.Errorf("11th reserve waits %v, want 100ms", d)
	}
	if d := p.reserve(now); d != 200*time.Millisecond {
		t.Errorf("12th reserve waits %v, want 200ms", d)
	}
	if d := p.reserve(now.Add(time.Second)); d != 0 {
		t.Errorf("after refill waits %v", d)
	}
	// acquire honours context cancellation while waiting for a token.
	slow := newPacer(1, 0.001)
	ctx, cancel := context.WithCancel(t.Context())
	if err := slow.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	slow.release()
	cancel()
	if err := slow.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("acquire after cancel = %v", err)
	}
}

func TestDecodeErrorOnSuccessBody(t *testing.T) {
	t.Parallel()
	_, c := coreServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"totalSize": 1, "done": tru`)
	}))
	var out QueryResult
	err := c.doJSON(t.Context(), &request{method: "GET", path: "/q"}, nil, &out)
	var de *DecodeError
	if !errors.As(err, &de) || de.StatusCode != 200 || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("err = %v, want *DecodeError with status 200", err)
	}
}

func TestBodies(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(path, []byte("Id\n001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]Body{"bytes": BytesBody([]byte("Id\n001\n")), "file": FileBody(path)} {
		for i := range 2 { // replayable
			rc, err := b()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if string(got) != "Id\n001\n" {
				t.Errorf("%s read %d = %q", name, i, got)
			}
		}
	}
	if _, err := FileBody(filepath.Join(t.TempDir(), "missing"))(); err == nil {
		t.Error("FileBody of a missing file: no error")
	}
}

func TestReaderBodyNotRetried(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	_, c := coreServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		if string(b) != "Id\n001\n" {
			t.Errorf("body %q", b)
		}
		coreRESTError(w, 503, "SERVER_UNAVAILABLE", "busy")
	}))
	err := c.doJSON(t.Context(), &request{method: "PUT", path: "/up", body: ReaderBody(strings.NewReader("Id\n001\n"))}, nil, nil)
	if !IsErrorCode(err, "SERVER_UNAVAILABLE") || calls.Load() != 1 {
		t.Errorf("err = %v after %d calls; want the first failure after 1 call", err, calls.Load())
	}
}

func TestCall(t *testing.T) {
	t.Parallel()
	var got []string
	var mu sync.Mutex
	_, c := coreServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+string(b))
		mu.Unlock()
		io.WriteString(w, `{"sobjects":"/services/data/v62.0/sobjects"}`)
	}))
	var out map[string]string
	if err := c.Call(t.Context(), "GET", "", nil, &out); err != nil || out["sobjects"] == "" {
		t.Fatalf("Call = %v, %v", out, err)
	}
	if err := c.Call(t.Context(), "POST", "sobjects/Account?x=1", map[string]string{"Name": "A"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(t.Context(), "GET", "/services/data/", nil, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"GET /services/data/v62.0/ ", `POST /services/data/v62.0/sobjects/Account?x=1 {"Name":"A"}`, "GET /services/data/ "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestTLSVerifiedByDefault(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `[]`)
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithAccessToken("00D!SECRET-TOKEN"), WithRetry(NoRetry()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Versions(t.Context())
	var te *TransportError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: err = %v, want a certificate *TransportError", err)
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("token in error: %v", err)
	}
	// Trusting the server's certificate makes the same call work.
	c, err = New(srv.URL, WithAccessToken("00D!SECRET-TOKEN"), WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Versions(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestRedirectDropsSessionHeader checks that a redirect to another host does
// not carry the session: net/http drops Authorization itself, but not Bulk
// API 1.0's X-SFDC-Session.
func TestRedirectDropsSessionHeader(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("X-SFDC-Session") + "|" + r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><id>750x0000000001AAA</id><state>Open</state></jobInfo>`)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithAccessToken("00D!SESSION-SECRET"), WithRetry(NoRetry()))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Bulk1.GetJob(t.Context(), "750x0000000001AAA")
	if v, _ := got.Load().(string); strings.Contains(v, "SESSION-SECRET") {
		t.Error("the session was sent to the redirect target on another host")
	}
}
