package salesforcetest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator"
	"github.com/sfbatch/sfbatch/emulator/bulk"
	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
)

// Fault disturbs matching requests; see AddFault.
type Fault = emulator.Fault

// User is a login of the emulated org.
type User = emulator.User

// ConnectedApp is an OAuth client of the emulated org.
type ConnectedApp = emulator.ConnectedApp

// Credentials are the default user's and connected app's secrets. They are
// the emulator's own local test credentials.
type Credentials struct {
	Username      string
	Password      string
	SecurityToken string
	ClientID      string
	ClientSecret  string
}

// Option configures NewServer.
type Option func(*emulator.Config)

// WithClock runs the org on c (typically a *clock.Fake): session expiry,
// timestamps, daily limits, latency faults and bulk processing follow it.
func WithClock(c clock.Clock) Option { return func(cfg *emulator.Config) { cfg.Clock = c } }

// WithSchemaFile merges custom objects and fields from a JSON schema file.
func WithSchemaFile(path string) Option {
	return func(cfg *emulator.Config) { cfg.SchemaFile = path }
}

// WithDataFile keeps the org in a SQLite file, so that a server started
// again over it has the same records, Bulk jobs (state, data, results),
// sessions and CA certificate.
func WithDataFile(path string) Option { return func(cfg *emulator.Config) { cfg.DataFile = path } }

// WithBulkOptions configures the Bulk API processing model (profile, lock
// contention, concurrency).
func WithBulkOptions(o bulk.Options) Option { return func(cfg *emulator.Config) { cfg.Bulk = o } }

// WithUsers replaces the logins; the first is the default user.
func WithUsers(users ...User) Option { return func(cfg *emulator.Config) { cfg.Users = users } }

// WithConnectedApps replaces the OAuth clients; the first is the default.
// Give an app a CertificatePEM to enable the JWT bearer flow for it.
func WithConnectedApps(apps ...ConnectedApp) Option {
	return func(cfg *emulator.Config) { cfg.Apps = apps }
}

// WithSessionLifetime sets how long a session lives without use.
func WithSessionLifetime(d time.Duration) Option {
	return func(cfg *emulator.Config) { cfg.SessionLifetime = d }
}

// WithSeed makes ids and probabilistic faults deterministic.
func WithSeed(seed int64) Option { return func(cfg *emulator.Config) { cfg.Seed = seed } }

// WithFaults activates faults from the start.
func WithFaults(faults ...Fault) Option {
	return func(cfg *emulator.Config) { cfg.Faults = append(cfg.Faults, faults...) }
}

// WithoutTLS serves plain HTTP only (URL is then http://...).
func WithoutTLS() Option {
	return func(cfg *emulator.Config) { cfg.TLS, cfg.HTTPAddr = false, "" }
}

// WithLogger logs one debug line per request.
func WithLogger(l *slog.Logger) Option { return func(cfg *emulator.Config) { cfg.Logger = l } }

// WithLimits sets the org's request limit model (daily maxima, requests in
// flight, long-running synchronous calls).
func WithLimits(m emulator.LimitModel) Option { return func(cfg *emulator.Config) { cfg.Limits = m } }

// WithConfig edits the full emulator configuration, for knobs without an
// option of their own.
func WithConfig(f func(*emulator.Config)) Option { return Option(f) }

// Server is a running emulated Salesforce org on loopback. It is safe for
// concurrent use.
type Server struct {
	srv *emulator.Server

	mu    sync.Mutex
	token string
}

// NewServer starts an org on 127.0.0.1: HTTPS (URL) and plain HTTP
// (HTTPURL). Like httptest.NewServer it panics if it cannot start; call
// Close when done. See New for the testing.TB form.
func NewServer(opts ...Option) *Server {
	s, err := Start(opts...)
	if err != nil {
		panic(fmt.Sprintf("salesforcetest: %v", err))
	}
	return s
}

// New starts an org for a test: it fails tb if the org cannot start and
// closes it when the test ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := Start(opts...)
	if err != nil {
		tb.Fatalf("salesforcetest: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Start is NewServer returning an error instead of panicking.
func Start(opts ...Option) (*Server, error) {
	cfg := emulator.Config{Addr: emulator.DefaultAddr, TLS: true, HTTPAddr: emulator.DefaultAddr}
	for _, o := range opts {
		o(&cfg)
	}
	es, err := emulator.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := es.Start(); err != nil {
		_ = es.Close()
		return nil, err
	}
	return &Server{srv: es}, nil
}

// Close shuts the org down and releases its resources.
func (s *Server) Close() error { return s.srv.Close() }

// URL is the instance URL (HTTPS unless WithoutTLS).
func (s *Server) URL() string { return s.srv.URL() }

// LoginURL is where SOAP login and the OAuth token endpoint live (the same
// host as the instance).
func (s *Server) LoginURL() string { return s.srv.URL() }

// HTTPURL is the plain-HTTP base URL (empty if not served).
func (s *Server) HTTPURL() string { return s.srv.HTTPURL() }

// Client returns an *http.Client that trusts the org's certificate.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CACertPEM is the certificate to trust for HTTPS.
func (s *Server) CACertPEM() []byte { return s.srv.CACertPEM() }

// Credentials returns the default user's login and the default app's keys.
func (s *Server) Credentials() Credentials {
	u, a := s.srv.Users()[0], s.srv.Apps()[0]
	return Credentials{
		Username: u.Username, Password: u.Password, SecurityToken: u.SecurityToken,
		ClientID: a.ClientID, ClientSecret: a.ClientSecret,
	}
}

// AccessToken returns a session of the default user, usable as a bearer
// token or Bulk 1.0 session id. The same token is returned until it stops
// being valid (ExpireSessions, lifetime), then a new one.
func (s *Server) AccessToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == "" || !s.srv.SessionValid(s.token) {
		tok, err := s.srv.NewSession(s.srv.Users()[0].Username)
		if err != nil {
			panic(fmt.Sprintf("salesforcetest: %v", err))
		}
		s.token = tok
	}
	return s.token
}

// NewAccessToken logs username in and returns a fresh session token.
func (s *Server) NewAccessToken(username string) (string, error) { return s.srv.NewSession(username) }

// RefreshToken returns a refresh token of the default user and app, for
// the OAuth refresh_token grant.
func (s *Server) RefreshToken() string {
	c := s.Credentials()
	tok, err := s.srv.NewRefreshToken(c.Username, c.ClientID)
	if err != nil {
		panic(fmt.Sprintf("salesforcetest: %v", err))
	}
	return tok
}

// Clock returns the org's clock.
func (s *Server) Clock() clock.Clock { return s.srv.Clock() }

// Org gives direct access to the records, schema and limits.
func (s *Server) Org() *org.Org { return s.srv.Org() }

// Bulk gives access to the Bulk API service's fault controls.
func (s *Server) Bulk() *bulk.Service { return s.srv.Bulk() }

// Emulator returns the underlying server.
func (s *Server) Emulator() *emulator.Server { return s.srv }

// UserID returns the User record id of the default user.
func (s *Server) UserID() string {
	id, _ := s.srv.UserID(s.srv.Users()[0].Username)
	return id
}

// FailNext makes the next n requests matching method ("" = any) and path
// pattern ('*' matches anything, "" = any path) fail with status and
// errorCode, in the error shape of the API the path belongs to.
func (s *Server) FailNext(n int, method, pathPattern string, status int, errorCode string) error {
	return s.srv.FailNext(n, method, pathPattern, status, errorCode)
}

// DropNext closes the connection of the next n matching requests without
// a response.
func (s *Server) DropNext(n int, method, pathPattern string) error {
	_, err := s.srv.AddFault(Fault{Method: method, Path: pathPattern, Times: n, Drop: true})
	return err
}

// AddFault activates any fault and returns its id.
func (s *Server) AddFault(f Fault) (int, error) { return s.srv.AddFault(f) }

// ClearFaults removes every active fault.
func (s *Server) ClearFaults() { s.srv.ClearFaults() }

// FaultRemaining returns how many more requests the fault AddFault returned id
// for will disturb: 0 once it has disturbed as many as its Times, -1 for one
// without a limit.
func (s *Server) FaultRemaining(id int) int { return s.srv.FaultRemaining(id) }

// ExpireSessions ends every session: the next request with an existing
// token gets INVALID_SESSION_ID.
func (s *Server) ExpireSessions() int { return s.srv.ExpireSessions() }

// SetLimitRemaining sets what is left of a limit ("DailyApiRequests",
// "DailyBulkApiBatches", ...); 0 exhausts it.
func (s *Server) SetLimitRemaining(name string, remaining int) error {
	return s.srv.SetLimitRemaining(name, remaining)
}

// SetLimitMax sets a limit's daily maximum; what was used stays used.
func (s *Server) SetLimitMax(name string, maxValue int) error {
	return s.srv.SetLimitMax(name, maxValue)
}

// SyncCallsInProgress returns how many synchronous calls the limit model is
// timing (see emulator.LimitModel), for tests that move a fake clock.
func (s *Server) SyncCallsInProgress() int { return s.srv.SyncCallsInProgress() }

// Insert creates records of object as the default user and returns their
// ids in order. Any failure is an error naming the record index.
func (s *Server) Insert(ctx context.Context, object string, records ...map[string]any) ([]string, error) {
	reqs := make([]org.WriteRequest, len(records))
	for i, r := range records {
		reqs[i] = org.WriteRequest{Op: org.OpInsert, Object: object, Fields: r}
	}
	res := s.srv.Org().Write(ctx, s.UserID(), reqs, false)
	ids := make([]string, len(res))
	for i, r := range res {
		if !r.Success {
			if len(r.Errors) > 0 {
				return ids, fmt.Errorf("salesforcetest: insert %s record %d: %s: %s", object, i, r.Errors[0].StatusCode, r.Errors[0].Message)
			}
			return ids, fmt.Errorf("salesforcetest: insert %s record %d failed", object, i)
		}
		ids[i] = r.ID
	}
	return ids, nil
}

// Get returns one record by id in the REST shape (fields nil = all).
func (s *Server) Get(ctx context.Context, object, id string, fields ...string) (map[string]any, error) {
	return s.srv.Org().Get(ctx, object, id, fields)
}

// Count returns how many live records object has.
func (s *Server) Count(object string) int { return s.srv.Org().Count(object) }
