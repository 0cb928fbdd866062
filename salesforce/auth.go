package salesforce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrSessionExpired is returned when the server rejects the session and the token source cannot
// obtain a new one (for example a fixed access token given with WithAccessToken).
var ErrSessionExpired = errors.New("salesforce: session expired or invalid and the token source cannot refresh it; log in again")

// Token is a session: an access token (OAuth) or session id (SOAP login), which the two APIs
// treat as interchangeable, and the instance it is valid for.
//
// Token's String, GoString and LogValue methods redact AccessToken and RefreshToken, so printing
// or logging a Token never reveals them.
type Token struct {
	// AccessToken is the bearer token or session id.
	AccessToken string
	// InstanceURL is the org's instance, such as "https://acme.my.salesforce.com".
	InstanceURL string
	// IssuedAt is when the token was issued (the server's issued_at when it sends one, else the
	// time the response arrived).
	IssuedAt time.Time
	// ExpiresAt is when the session ends, if the server said (SOAP sessionSecondsValid); zero if
	// unknown. The client does not rely on it: it refreshes when the server rejects the session.
	ExpiresAt time.Time
	// ID is the identity URL (OAuth "id"), empty for SOAP login.
	ID string
	// UserID and OrganizationID, when the login response names them.
	UserID, OrganizationID string
	// RefreshToken, when the server issued one.
	RefreshToken string
	// Scope granted, when the server says.
	Scope string
}

// String describes the token without revealing secrets.
func (t Token) String() string {
	return fmt.Sprintf("Token{AccessToken:%s, RefreshToken:%s, InstanceURL:%s, IssuedAt:%s}", redacted(t.AccessToken), redacted(t.RefreshToken), t.InstanceURL, t.IssuedAt.Format(time.RFC3339))
}

// GoString is String, so %#v does not reveal secrets either.
func (t Token) GoString() string { return t.String() }

// LogValue implements slog.LogValuer without secrets.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("instance_url", t.InstanceURL), slog.Time("issued_at", t.IssuedAt))
}

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "[REDACTED]"
}

// TokenSource obtains sessions. Every call to Token performs a fresh login or refresh; the
// Client caches the token it gets and calls Token again only when it has none or when the
// server has rejected the cached one (REST 401 INVALID_SESSION_ID, Bulk API 1.0
// InvalidSessionId). Those calls are single-flight: concurrent requests that see an expired
// session wait for one refresh.
//
// A TokenSource that cannot refresh returns the same access token again (as StaticToken does);
// the Client then fails with ErrSessionExpired instead of retrying with a token it knows is bad.
//
// Implementations must be safe for concurrent use.
type TokenSource interface {
	Token(ctx context.Context) (*Token, error)
}

// StaticToken is a TokenSource for a session obtained elsewhere (a session id or access token
// and its instance URL). It cannot refresh: when the session expires, requests fail with
// ErrSessionExpired.
type StaticToken struct {
	AccessToken string
	InstanceURL string
}

// Token returns the fixed token.
func (s StaticToken) Token(context.Context) (*Token, error) {
	if s.AccessToken == "" {
		return nil, errors.New("salesforce: StaticToken: access token is empty")
	}
	inst := s.InstanceURL
	if inst != "" {
		u, err := normalizeInstanceURL(inst)
		if err != nil {
			return nil, err
		}
		inst = u
	}
	return &Token{AccessToken: s.AccessToken, InstanceURL: inst}, nil
}

// String describes the source without the token.
func (s StaticToken) String() string {
	return "StaticToken{AccessToken:" + redacted(s.AccessToken) + ", InstanceURL:" + s.InstanceURL + "}"
}

// GoString is String.
func (s StaticToken) GoString() string { return s.String() }

// Token returns the client's current session, logging in through the token source if the
// client has none yet. It returns an error if the client has no token source.
func (c *Client) Token(ctx context.Context) (*Token, error) {
	if c.source == nil {
		return nil, errors.New("salesforce: client has no credentials")
	}
	return c.currentToken(ctx)
}

func (c *Client) currentToken(ctx context.Context) (*Token, error) {
	c.mu.Lock()
	t := c.token
	c.mu.Unlock()
	if t != nil {
		return t, nil
	}
	return c.fetchToken(ctx, nil)
}

// refreshToken replaces stale (the token a rejected request used) with a new one. If another
// goroutine already replaced it, the replacement is returned without another login.
func (c *Client) refreshToken(ctx context.Context, stale *Token) (*Token, error) {
	return c.fetchToken(ctx, stale)
}

func (c *Client) fetchToken(ctx context.Context, stale *Token) (*Token, error) {
	for {
		c.mu.Lock()
		if c.token != nil && c.token != stale {
			t := c.token
			c.mu.Unlock()
			return t, nil
		}
		if ch := c.refreshing; ch != nil {
			c.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			}
			c.mu.Lock()
			t, err := c.token, c.refreshErr
			c.mu.Unlock()
			if t != nil && t != stale {
				return t, nil
			}
			if err != nil && !isContextErr(err) {
				return nil, err
			}
			continue // the leader gave up (its context ended): try ourselves
		}
		ch := make(chan struct{})
		c.refreshing = ch
		c.mu.Unlock()

		tok, err := c.source.Token(ctx)
		if err == nil && tok == nil {
			err = errors.New("salesforce: token source returned no token")
		}
		if err == nil && stale != nil && tok.AccessToken == stale.AccessToken {
			err = ErrSessionExpired
		}
		if err == nil && tok.InstanceURL != "" {
			var u string
			if u, err = normalizeInstanceURL(tok.InstanceURL); err == nil {
				tok.InstanceURL = u
			}
		}
		c.mu.Lock()
		c.refreshing = nil
		c.refreshErr = err
		if err == nil {
			c.token = tok
			if tok.InstanceURL != "" {
				c.instanceURL = tok.InstanceURL
			}
		}
		close(ch)
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return tok, nil
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
