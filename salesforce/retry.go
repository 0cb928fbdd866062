package salesforce

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry defaults used by DefaultRetryPolicy.
const (
	DefaultMaxAttempts = 5
	DefaultMinBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	// DefaultMaxRetryAfter caps how long a server's Retry-After can make the client wait.
	DefaultMaxRetryAfter = 2 * time.Minute
)

// RetryPolicy decides whether a failed request is tried again ("should retry?") and how long
// to wait first ("how long to wait?").
//
// Retried: 429, 503 and REQUEST_LIMIT_EXCEEDED for every method (the server did not do the
// work); transport errors, 500, 502 and 504 only for methods that are safe to repeat (GET, HEAD,
// PUT, PATCH, DELETE, OPTIONS), or for any method when the connection could not be made. Never retried: a cancelled or expired context,
// requests marked not retryable. Request bodies are Body functions, so every retry sends the
// whole body again.
//
// The wait is exponential backoff with full jitter: a random duration in
// [0, min(MaxBackoff, MinBackoff·2^(attempt-1))], but at least the server's Retry-After (capped
// by MaxRetryAfter). Waiting uses a timer and stops when the context ends.
//
// A RetryPolicy is a value; the zero value means the defaults.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, including the first. Zero means
	// DefaultMaxAttempts; 1 disables retries.
	MaxAttempts int
	// MinBackoff is the backoff ceiling of the first retry. Zero means DefaultMinBackoff.
	MinBackoff time.Duration
	// MaxBackoff caps the backoff ceiling. Zero means DefaultMaxBackoff.
	MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a server's Retry-After header can ask for. Zero means
	// DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// Jitter returns a random duration in [0, n]. Nil means a uniform random choice from
	// math/rand/v2 (safe for concurrent use). Set it for deterministic tests.
	Jitter func(n time.Duration) time.Duration
	// CheckRetry is the "should retry?" hook. Nil means DefaultCheckRetry.
	CheckRetry CheckRetry
	// Backoff is the "how long to wait?" hook. Nil means the policy's ExponentialBackoff.
	Backoff Backoff
}

// CheckRetry decides whether a failed attempt is tried again. method is the request's HTTP
// method; resp is the response, nil when none came (its body has already been read and closed,
// and decoded into err as an *APIError); err is the attempt's error (*APIError,
// *TransportError, or another error such as a token source's). A cancelled or expired
// context is never retried, whatever the hook says. It must be safe for concurrent use.
type CheckRetry func(ctx context.Context, method string, resp *http.Response, err error) bool

// Backoff returns how long to wait before retry number attempt (1 = the first retry);
// retryAfter is the server's Retry-After, zero when it sent none. It must be safe for
// concurrent use.
type Backoff func(attempt int, retryAfter time.Duration) time.Duration

// DefaultRetryPolicy returns the policy a Client uses unless WithRetry says otherwise.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxAttempts:   DefaultMaxAttempts,
		MinBackoff:    DefaultMinBackoff,
		MaxBackoff:    DefaultMaxBackoff,
		MaxRetryAfter: DefaultMaxRetryAfter,
	}
}

// NoRetry is a policy that never retries.
func NoRetry() RetryPolicy { return RetryPolicy{MaxAttempts: 1} }

func (p RetryPolicy) maxAttempts() int {
	if p.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return p.MaxAttempts
}

// shouldRetry reports whether a request that got resp (nil on transport error) and err is worth
// another attempt, through the CheckRetry hook.
func (p RetryPolicy) shouldRetry(ctx context.Context, method string, resp *http.Response, err error) bool {
	if err == nil || isContextErr(err) || ctx.Err() != nil {
		return false
	}
	if p.CheckRetry != nil {
		return p.CheckRetry(ctx, method, resp, err)
	}
	return DefaultCheckRetry(ctx, method, resp, err)
}

// DefaultCheckRetry is the default "should retry?" decision, described on RetryPolicy: 429,
// 503 and REQUEST_LIMIT_EXCEEDED for every method; transport errors, 500, 502 and 504 for
// methods safe to repeat, or for any method when the connection could not be made.
func DefaultCheckRetry(ctx context.Context, method string, resp *http.Response, err error) bool {
	if err == nil || isContextErr(err) || ctx.Err() != nil {
		return false
	}
	var apiErr *APIError
	errors.As(err, &apiErr)
	if resp == nil || apiErr == nil {
		var te *TransportError
		if !errors.As(err, &te) {
			return false // e.g. the token source failed: its own error decides
		}
		return idempotent(method) || notSent(te.Err)
	}
	if apiErr.ErrorCode == "REQUEST_LIMIT_EXCEEDED" {
		return true
	}
	switch apiErr.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true // the server refused the work: safe for any method
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return idempotent(method) // the work may have been done: repeat only what is repeatable
	}
	return false
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// notSent reports whether a transport error happened before the request could reach the
// server (so even a POST is safe to send again).
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// backoff returns how long to wait before retry number attempt, through the Backoff hook.
func (p RetryPolicy) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if p.Backoff != nil {
		return p.Backoff(attempt, retryAfter)
	}
	return p.ExponentialBackoff(attempt, retryAfter)
}

// ExponentialBackoff is the default "how long to wait?" decision, described on RetryPolicy:
// full jitter under a ceiling that doubles from MinBackoff up to MaxBackoff, and at least the
// server's Retry-After (capped by MaxRetryAfter).
func (p RetryPolicy) ExponentialBackoff(attempt int, retryAfter time.Duration) time.Duration {
	minB, maxB := p.MinBackoff, p.MaxBackoff
	if minB <= 0 {
		minB = DefaultMinBackoff
	}
	if maxB <= 0 {
		maxB = DefaultMaxBackoff
	}
	ceiling := minB
	for i := 1; i < attempt && ceiling < maxB; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, maxB)
	var wait time.Duration
	if p.Jitter != nil {
		wait = p.Jitter(ceiling)
	} else if ceiling > 0 {
		wait = rand.N(ceiling + 1)
	}
	wait = max(0, min(wait, ceiling))
	if retryAfter > 0 {
		maxRA := p.MaxRetryAfter
		if maxRA <= 0 {
			maxRA = DefaultMaxRetryAfter
		}
		wait = max(wait, min(retryAfter, maxRA))
	}
	return wait
}

// retryAfter parses a Retry-After header (seconds or an HTTP date); zero if absent.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
