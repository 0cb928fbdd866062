package salesforce

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAPIVersion is the API version a Client uses unless WithAPIVersion says otherwise.
const DefaultAPIVersion = "62.0"

// MinAPIVersion is the oldest API version the client accepts (older versions are retired).
const MinAPIVersion = 31.0

// MaxErrorBodyBytes is how much of an error response body is read to build an *APIError.
// The rest is discarded so a misbehaving server cannot make the client buffer without bound.
const MaxErrorBodyBytes = 64 << 10

// Client talks to one Salesforce org. Create one with New or Login.
//
// A Client is safe for concurrent use by multiple goroutines. All requests made through it share
// one pacer (concurrency cap and request rate), one retry policy and one token, which is
// refreshed at most once at a time when the server reports an invalid session.
type Client struct {
	// Bulk1 is Bulk API 1.0 (/services/async).
	Bulk1 *Bulk1Service
	// Bulk2 is Bulk API 2.0 (/services/data/vXX.X/jobs).
	Bulk2 *Bulk2Service
	// Composite is the composite resources and sObject Collections.
	Composite *CompositeService

	apiVersion    string
	httpClient    *http.Client
	source        TokenSource
	logger        *slog.Logger
	retry         RetryPolicy
	pacer         *pacer
	hook          func(*http.Response)
	userAgent     string
	gzipThreshold int // request bodies at least this big are gzipped; <= 0 disables

	mu          sync.Mutex
	instanceURL string
	token       *Token
	refreshing  chan struct{} // non-nil while a token fetch is in flight; closed when it ends
	refreshErr  error

	limitInfo atomic.Pointer[LimitInfo]

	describes      sharedCache[SObjectDescribe] // by lower-case object name
	globalDescribe sharedCache[GlobalDescribe]  // one entry, key ""
}

// Bulk1Service is Bulk API 1.0. Get it from Client.Bulk1. Safe for concurrent use.
type Bulk1Service struct{ client *Client }

// Bulk2Service is Bulk API 2.0. Get it from Client.Bulk2. Safe for concurrent use.
type Bulk2Service struct{ client *Client }

// CompositeService is the composite resources and sObject Collections. Get it from
// Client.Composite. Safe for concurrent use.
type CompositeService struct{ client *Client }

// New returns a Client for the org at instanceURL (for example "https://acme.my.salesforce.com").
//
// instanceURL may be empty when a TokenSource is given: the instance URL then comes from the
// first token. Without WithTokenSource or WithAccessToken the client sends no credentials.
func New(instanceURL string, opts ...Option) (*Client, error) {
	c := &Client{
		apiVersion: DefaultAPIVersion,
		httpClient: http.DefaultClient,
		logger:     slog.New(slog.DiscardHandler),
		retry:      DefaultRetryPolicy(),
		userAgent:  defaultUserAgent,
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.apply(c); err != nil {
		return nil, err
	}
	if instanceURL != "" {
		u, err := normalizeInstanceURL(instanceURL)
		if err != nil {
			return nil, err
		}
		c.instanceURL = u
	} else if c.source == nil {
		return nil, errors.New("salesforce: New: instance URL is empty and no token source is set")
	}
	c.httpClient = withSafeRedirects(c.httpClient)
	c.pacer = newPacer(o.maxConcurrent, o.rps)
	c.Bulk1 = &Bulk1Service{client: c}
	c.Bulk2 = &Bulk2Service{client: c}
	c.Composite = &CompositeService{client: c}
	return c, nil
}

// NewWithTokenSource obtains a first token from src and returns a Client for the instance URL
// the token names. The client refreshes the token through src when the session expires.
func NewWithTokenSource(ctx context.Context, src TokenSource, opts ...Option) (*Client, error) {
	opts = append(opts[:len(opts):len(opts)], WithTokenSource(src))
	c, err := New("", opts...)
	if err != nil {
		return nil, err
	}
	if _, err := c.currentToken(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// maxRedirects is how many redirects a request follows, as net/http does by default.
const maxRedirects = 10

// withSafeRedirects returns a shallow copy of hc (same transport) whose redirects to another
// host carry no session. net/http already drops Authorization there, but not Bulk API 1.0's
// X-SFDC-Session header. hc's own CheckRedirect, if any, still decides whether to follow.
func withSafeRedirects(hc *http.Client) *http.Client {
	cp := *hc
	next := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			req.Header.Del("X-SFDC-Session")
			req.Header.Del("Authorization")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return &cp
}

func normalizeInstanceURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("salesforce: invalid instance URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("salesforce: invalid instance URL scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return "", errors.New("salesforce: invalid instance URL: no host")
	}
	return u.Scheme + "://" + u.Host, nil
}

// InstanceURL returns the scheme and host of the org the client talks to.
func (c *Client) InstanceURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.instanceURL
}

// APIVersion returns the API version the client uses, such as "62.0".
func (c *Client) APIVersion() string { return c.apiVersion }

// dataPath returns "/services/data/v{ver}/" joined with elem.
func (c *Client) dataPath(elem ...string) string {
	return "/services/data/v" + c.apiVersion + "/" + strings.TrimPrefix(path.Join(elem...), "/")
}

// asyncPath returns "/services/async/{ver}/" joined with elem (Bulk API 1.0).
func (c *Client) asyncPath(elem ...string) string {
	return "/services/async/" + c.apiVersion + "/" + strings.TrimPrefix(path.Join(elem...), "/")
}

// authStyle says how a request carries the session.
type authStyle int

const (
	authBearer  authStyle = iota // Authorization: Bearer {token}
	authSession                  // X-SFDC-Session: {token} (Bulk API 1.0)
	authNone                     // no credentials
)

// errFormat names the error body shape an endpoint uses. The decoder recognises every shape
// anyway; the format only tunes messages for bodies it cannot parse.
type errFormat int

const (
	errREST  errFormat = iota // JSON array [{"message","errorCode","fields"}]
	errBulk1                  // <error><exceptionCode>… or {"exceptionCode",…}
	errSOAP                   // SOAP fault
)

// request describes one API call. Build it, then pass it to do or doJSON.
type request struct {
	method      string
	path        string // absolute path on the instance or a full URL
	query       url.Values
	header      http.Header
	body        Body // nil = none; replayed on retry
	contentType string
	auth        authStyle
	errFormat   errFormat
	noRetry     bool
}

func (c *Client) requestURL(r *request) (string, error) {
	var u string
	if strings.HasPrefix(r.path, "http://") || strings.HasPrefix(r.path, "https://") {
		u = r.path
	} else {
		base := c.InstanceURL()
		if base == "" {
			return "", errors.New("salesforce: no instance URL")
		}
		p := r.path
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		u = base + p
	}
	if len(r.query) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + r.query.Encode()
	}
	return u, nil
}

// do sends r with authentication, pacing and retries. A non-2xx response becomes an error
// (an *APIError for responses the server produced); its body is drained and closed. On success
// the caller must close the response body. A response body the server gzipped is decoded
// transparently.
func (c *Client) do(ctx context.Context, r *request) (*http.Response, error) {
	refreshed := false
	var lastErr error
	for attempt := 1; ; attempt++ {
		resp, tok, rawURL, err := c.attempt(ctx, r)
		if rawURL == "" {
			if errors.Is(err, ErrBodyNotReplayable) && lastErr != nil {
				return nil, lastErr // a one-shot body failed on its first attempt
			}
			return nil, err // the request could not be built: nothing to retry
		}
		var apiErr *APIError
		if err == nil {
			if apiErr = checkResponse(resp, r.method, rawURL, r.errFormat); apiErr == nil {
				signal(ctx, r.method, resp, nil)
				return resp, nil
			}
			signal(ctx, r.method, resp, apiErr)
			if tok != nil {
				apiErr.redact(tok.AccessToken)
			}
			err = apiErr
			if apiErr.isInvalidSession() && r.auth != authNone && c.source != nil {
				if refreshed {
					return nil, err
				}
				refreshed = true
				lastErr = err
				if _, rerr := c.refreshToken(ctx, tok); rerr != nil {
					return nil, fmt.Errorf("%w (refreshing the session: %w)", err, rerr)
				}
				c.logger.LogAttrs(ctx, slog.LevelInfo, "salesforce: session refreshed", slog.String("method", r.method), slog.String("url", sanitizeURL(rawURL)))
				attempt--
				continue
			}
		} else if te := (*TransportError)(nil); errors.As(err, &te) {
			signal(ctx, r.method, nil, err) // it may have reached the org: it counts
		}
		if ctx.Err() != nil {
			return nil, ctxErr(ctx, err)
		}
		if r.noRetry || attempt >= c.retry.maxAttempts() || !c.retry.shouldRetry(ctx, r.method, resp, err) {
			return nil, err
		}
		lastErr = err
		wait := c.retry.backoff(attempt, retryAfter(resp))
		c.logger.LogAttrs(ctx, slog.LevelWarn, "salesforce: retrying request",
			slog.String("method", r.method), slog.String("url", sanitizeURL(rawURL)),
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()))
		if err := Sleep(ctx, wait); err != nil {
			return nil, ctxErr(ctx, err)
		}
	}
}

func ctxErr(ctx context.Context, last error) error {
	if last != nil && !errors.Is(last, ctx.Err()) {
		return fmt.Errorf("%w (last error: %w)", context.Cause(ctx), last)
	}
	return context.Cause(ctx)
}

// attempt performs one HTTP round trip. It returns the token it used (nil if none).
// It also returns the URL it used ("" when the request could not be built).
func (c *Client) attempt(ctx context.Context, r *request) (*http.Response, *Token, string, error) {
	var tok *Token
	if r.auth != authNone && c.source != nil {
		t, err := c.currentToken(ctx)
		if err != nil {
			return nil, nil, "", err
		}
		tok = t
	}
	rawURL, err := c.requestURL(r) // after the token: the first login may set the instance
	if err != nil {
		return nil, tok, "", err
	}
	var body io.ReadCloser
	gzipped := false
	if r.body != nil {
		b, err := r.body()
		if err != nil {
			return nil, tok, "", fmt.Errorf("salesforce: opening request body: %w", err)
		}
		body, gzipped = c.maybeGzip(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, rawURL, body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, tok, "", fmt.Errorf("salesforce: building request %s %s: %w", r.method, sanitizeURL(rawURL), err)
	}
	if n, ok := bodySize(body); ok && !gzipped && n > 0 {
		// Sent with Content-Length rather than chunked, as other clients send uploads: the
		// server can take the body in one piece of the right size.
		req.ContentLength = n
	}
	for k, vs := range r.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	if c.userAgent != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if tok != nil {
		switch r.auth {
		case authBearer:
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		case authSession:
			req.Header.Set("X-SFDC-Session", tok.AccessToken)
		}
	}
	if err := c.pacer.acquire(ctx); err != nil {
		if body != nil {
			body.Close()
		}
		return nil, tok, rawURL, err
	}
	start := time.Now()
	resp, err := c.httpClient.Do(req)
	c.pacer.release()
	if err != nil {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "salesforce: request failed",
			slog.String("method", r.method), slog.String("url", sanitizeURL(rawURL)), slog.String("error", redactURLError(err).Error()))
		return nil, tok, rawURL, &TransportError{Method: r.method, URL: sanitizeURL(rawURL), Err: redactURLError(err)}
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "salesforce: request",
		slog.String("method", r.method), slog.String("url", sanitizeURL(rawURL)),
		slog.Int("status", resp.StatusCode), slog.Duration("elapsed", time.Since(start)))
	if li, ok := parseLimitInfo(resp.Header.Get("Sforce-Limit-Info")); ok {
		c.limitInfo.Store(&li)
	}
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := newGzipBody(resp.Body)
		if err != nil {
			resp.Body.Close()
			return nil, tok, rawURL, &TransportError{Method: r.method, URL: sanitizeURL(rawURL), Err: fmt.Errorf("decoding gzip response: %w", err)}
		}
		resp.Body = zr
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
	}
	if c.hook != nil {
		c.hook(resp)
	}
	return resp, tok, rawURL, nil
}

// TransportError is a request that got no HTTP response (connection refused, reset, TLS
// failure, timeout). URL is sanitized.
type TransportError struct {
	Method, URL string
	Err         error
}

// Error describes the failed request without credentials.
func (e *TransportError) Error() string {
	return fmt.Sprintf("salesforce: %s %s: %v", e.Method, e.URL, e.Err)
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// redactURLError strips the URL from a *url.Error (it may carry query parameters) while
// keeping the cause.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// doJSON sends in (if non-nil) as a JSON body and decodes the response into out (if non-nil).
// An empty response body (such as 204) leaves out untouched.
func (c *Client) doJSON(ctx context.Context, r *request, in, out any) error {
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("salesforce: encoding %s %s request: %w", r.method, r.path, err)
		}
		r.body = BytesBody(b)
		if r.contentType == "" {
			r.contentType = "application/json"
		}
	}
	if r.header == nil {
		r.header = make(http.Header)
	}
	if r.header.Get("Accept") == "" {
		r.header.Set("Accept", "application/json")
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	br := bufio.NewReader(resp.Body)
	if _, err := br.Peek(1); err == io.EOF {
		return nil
	}
	dec := json.NewDecoder(br)
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return &DecodeError{Method: r.method, URL: sanitizeURL(resp.Request.URL.String()), StatusCode: resp.StatusCode, Err: err}
	}
	_, _ = io.Copy(io.Discard, br)
	return nil
}

// DecodeError is a successful response whose body could not be decoded.
type DecodeError struct {
	Method, URL string
	StatusCode  int
	Err         error
}

// Error names the request, the status and the decoding failure.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("salesforce: %s %s: %d response: malformed body: %v", e.Method, e.URL, e.StatusCode, e.Err)
}

// Unwrap returns the decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Body is a request body that can be opened again for each attempt, so requests can be
// retried. Each call must return a reader positioned at the start of the body.
type Body func() (io.ReadCloser, error)

// BytesBody is a Body over b. b must not be modified while requests using it may run.
func BytesBody(b []byte) Body {
	return func() (io.ReadCloser, error) { return bytesBody{bytes.NewReader(b)}, nil }
}

// bytesBody is a request body over bytes: its Len tells its length.
type bytesBody struct{ *bytes.Reader }

func (bytesBody) Close() error { return nil }

// bodySize is the length of a request body when it is known: a file's, or a size-limited
// upload's.
func bodySize(b io.Reader) (int64, bool) {
	if s, ok := b.(interface{ size() (int64, bool) }); ok {
		return s.size()
	}
	if f, ok := b.(*os.File); ok {
		return knownSize(f)
	}
	return 0, false
}

// FileBody is a Body that opens the file at path for each attempt.
func FileBody(path string) Body {
	return func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
}

// ErrBodyNotReplayable is returned (wrapped) by a ReaderBody opened a second time.
var ErrBodyNotReplayable = errors.New("salesforce: request body cannot be sent again")

// ReaderBody is a Body over a stream that can be sent only once, for data too large to buffer
// or reopen. A request with such a body is not retried: if its first attempt fails, that
// failure is returned.
func ReaderBody(r io.Reader) Body {
	var used atomic.Bool
	return func() (io.ReadCloser, error) {
		if used.Swap(true) {
			return nil, ErrBodyNotReplayable
		}
		if rc, ok := r.(io.ReadCloser); ok {
			return rc, nil
		}
		return io.NopCloser(r), nil
	}
}

// Call sends a JSON request to any REST resource and decodes the JSON response into out
// (if non-nil), with the client's authentication, retries and error decoding. path is absolute
// ("/services/data/v62.0/sobjects") or relative to the versioned data path ("sobjects"). in,
// if non-nil, is sent as the JSON body.
func (c *Client) Call(ctx context.Context, method, path string, in, out any) error {
	p := path
	if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "http://") && !strings.HasPrefix(p, "https://") {
		q := ""
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p, q = p[:i], p[i:]
		}
		p = c.dataPath(p) + q
	}
	return c.doJSON(ctx, &request{method: method, path: p}, in, out)
}

// maybeGzip compresses b on the fly when gzip is enabled and the body has at least
// gzipThreshold bytes. It reads at most gzipThreshold bytes ahead to decide.
func (c *Client) maybeGzip(b io.ReadCloser) (io.ReadCloser, bool) {
	if c.gzipThreshold <= 0 {
		return b, false
	}
	head := make([]byte, c.gzipThreshold)
	n, err := io.ReadFull(b, head)
	head = head[:n]
	if err != nil { // short body (EOF) or read error: send what we have as is
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			b.Close()
			return io.NopCloser(bytes.NewReader(head)), false
		}
		return &errReadCloser{err: err, c: b}, false
	}
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		_, err := io.Copy(zw, io.MultiReader(bytes.NewReader(head), b))
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		b.Close()
		pw.CloseWithError(err)
	}()
	return pr, true
}

type errReadCloser struct {
	err error
	c   io.Closer
}

func (e *errReadCloser) Read([]byte) (int, error) { return 0, e.err }
func (e *errReadCloser) Close() error             { return e.c.Close() }

type gzipBody struct {
	zr   *gzip.Reader
	body io.ReadCloser
}

func newGzipBody(body io.ReadCloser) (*gzipBody, error) {
	zr, err := gzip.NewReader(body)
	if err != nil {
		return nil, err
	}
	return &gzipBody{zr: zr, body: body}, nil
}

func (g *gzipBody) Read(p []byte) (int, error) { return g.zr.Read(p) }
func (g *gzipBody) Close() error {
	g.zr.Close()
	return g.body.Close()
}
