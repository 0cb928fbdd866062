package salesforce

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

const defaultUserAgent = "sfbatch-go"

// DefaultGzipThreshold is the request body size from which WithGzipRequests(0) compresses.
const DefaultGzipThreshold = 64 << 10

// Option configures a Client in New.
type Option func(*options)

type options struct {
	apiVersion    *string
	httpClient    *http.Client
	source        TokenSource
	logger        *slog.Logger
	retry         *RetryPolicy
	maxConcurrent int
	rps           float64
	hook          func(*http.Response)
	userAgent     *string
	gzipThreshold int
	errs          []error
}

func (o *options) apply(c *Client) error {
	if len(o.errs) > 0 {
		return errors.Join(o.errs...)
	}
	if o.apiVersion != nil {
		v, err := normalizeAPIVersion(*o.apiVersion)
		if err != nil {
			return err
		}
		c.apiVersion = v
	}
	if o.httpClient != nil {
		c.httpClient = o.httpClient
	}
	c.source = o.source
	if o.logger != nil {
		c.logger = o.logger
	}
	if o.retry != nil {
		c.retry = *o.retry
	}
	c.hook = o.hook
	if o.userAgent != nil {
		c.userAgent = *o.userAgent
	}
	c.gzipThreshold = o.gzipThreshold
	return nil
}

// normalizeAPIVersion accepts "62", "62.0" and "v62.0" and returns "62.0".
func normalizeAPIVersion(v string) (string, error) {
	s := strings.TrimPrefix(strings.TrimSpace(v), "v")
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !strings.HasSuffix(s, ".0") {
		return "", fmt.Errorf("salesforce: WithAPIVersion(%q): want a version such as %q", v, DefaultAPIVersion)
	}
	if f < MinAPIVersion {
		return "", fmt.Errorf("salesforce: WithAPIVersion(%q): versions before %.1f are retired", v, MinAPIVersion)
	}
	return s, nil
}

// WithAPIVersion sets the API version, such as "62.0" (also "62" or "v62.0"). Versions from
// 31.0 up are accepted. The default is DefaultAPIVersion.
func WithAPIVersion(v string) Option { return func(o *options) { o.apiVersion = &v } }

// WithHTTPClient sets the HTTP client (for proxies, custom TLS roots, timeouts). The default is
// http.DefaultClient. The client's Transport should keep TLS verification on.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) {
		if hc == nil {
			o.errs = append(o.errs, errors.New("salesforce: WithHTTPClient(nil)"))
			return
		}
		o.httpClient = hc
	}
}

// WithTokenSource makes the client authenticate with sessions from src, refreshing through it
// when the server rejects the session.
func WithTokenSource(src TokenSource) Option { return func(o *options) { o.source = src } }

// WithAccessToken makes the client send a fixed access token or session id. It cannot be
// refreshed: once it expires, calls fail with ErrSessionExpired.
func WithAccessToken(token string) Option {
	return func(o *options) {
		if token == "" {
			o.errs = append(o.errs, errors.New("salesforce: WithAccessToken: empty token"))
			return
		}
		o.source = StaticToken{AccessToken: token}
	}
}

// WithLogger sets the logger for request, retry and refresh events. Log lines never include
// tokens, passwords or request bodies. The default discards everything.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRetry sets the retry policy. The default is DefaultRetryPolicy().
func WithRetry(p RetryPolicy) Option { return func(o *options) { o.retry = &p } }

// WithMaxConcurrentRequests caps the requests in flight at once across all goroutines using
// the client. A request holds its slot while it is sent (body included) until the response
// headers arrive, not while the caller reads the response body, so streaming a large result
// never blocks other calls. Zero or negative means no cap.
func WithMaxConcurrentRequests(n int) Option { return func(o *options) { o.maxConcurrent = n } }

// WithRequestsPerSecond caps the rate at which requests start (a token bucket with a burst of
// max(1, r) requests). Zero or negative means no cap.
func WithRequestsPerSecond(r float64) Option { return func(o *options) { o.rps = r } }

// WithResponseHook calls fn with every HTTP response the client receives (including ones it
// will retry), before the body is read. fn must not read or close the body, and must be safe
// for concurrent use.
func WithResponseHook(fn func(*http.Response)) Option { return func(o *options) { o.hook = fn } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(s string) Option { return func(o *options) { o.userAgent = &s } }

// WithGzipRequests compresses request bodies of at least threshold bytes with gzip
// (Content-Encoding: gzip). A threshold of zero or less means DefaultGzipThreshold. Responses
// are always requested with Accept-Encoding: gzip and decoded transparently.
func WithGzipRequests(threshold int) Option {
	return func(o *options) {
		if threshold <= 0 {
			threshold = DefaultGzipThreshold
		}
		o.gzipThreshold = threshold
	}
}
