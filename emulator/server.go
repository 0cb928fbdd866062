// Package emulator is a stateful local Salesforce org: SOAP and OAuth login,
// REST, Composite, sObject Collections and (through package bulk) Bulk API
// 1.0 and 2.0, over an in-memory or SQLite-backed org, on HTTP and HTTPS.
// The public face is package salesforcetest; the `sfbatch emulator` command
// serves a Server standalone (Config, StartupInfo).
//
// Routes: /services/Soap/{u,c}/{ver} (login, logout), /services/oauth2/token
// and /revoke, /id/{org}/{user}, /services/data/ (versions, no session),
// /services/data/v{ver}/... (REST and composite, package rest; /jobs to
// package bulk), /services/async/{ver}/... (Bulk 1.0, package bulk), and
// the emulator's own control endpoint under ControlPrefix (see
// Server.serveControl's routes: faults, session expiry, limits, clock,
// bulk faults). Every request is first matched against the active faults.
// REST and Bulk requests are charged to DailyApiRequests and answered with
// Sforce-Limit-Info.
package emulator

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sfbatch/sfbatch/emulator/bulk"
	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/rest"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// DefaultAddr is where a server listens when Config.Addr is empty: an
// ephemeral port on the IPv4 loopback interface.
const DefaultAddr = "127.0.0.1:0"

// ControlPrefix is the path under which the emulator's own control endpoint
// lives. Real Salesforce has nothing there; requests need a valid session.
const ControlPrefix = "/_emulator/"

// Config configures a Server. The zero value is a usable in-memory org on
// plain HTTP at DefaultAddr with the default user and connected app.
type Config struct {
	// Addr is the listen address; "" means DefaultAddr.
	Addr string
	// TLS makes Addr serve HTTPS with a certificate generated at start
	// (see Server.CACertPEM).
	TLS bool
	// HTTPAddr, when TLS is on, is an extra plain-HTTP listener ("" = none).
	HTTPAddr string
	// TLSHosts are extra host names or IPs for the certificate, beyond
	// 127.0.0.1, ::1 and localhost.
	TLSHosts []string

	// Schema is the org schema; nil means org.DefaultSchema() merged with
	// SchemaFile if set.
	Schema *org.Schema
	// SchemaFile is a JSON file of custom objects and fields, merged over the
	// default schema. Ignored when Schema is set.
	SchemaFile string
	// DataFile is the SQLite file records persist in; "" keeps them in memory.
	DataFile string
	// OrgID is the 18-character organization id; "" means a fixed default.
	OrgID string
	// OrgName is the organization name reported by login.
	OrgName string

	// Users can log in; nil means DefaultUser(). The first is the default
	// user (client credentials run as it unless an app says otherwise).
	Users []User
	// Apps are the connected apps (OAuth clients); nil means DefaultApp().
	Apps []ConnectedApp
	// SessionLifetime is how long a session lives without use; zero means
	// DefaultSessionLifetime.
	SessionLifetime time.Duration
	// StrictSOAPLogin refuses SOAP login() on API versions above
	// MaxSOAPLoginVersion, as Salesforce does. Off by default because common
	// clients still log in that way.
	StrictSOAPLogin bool
	// JWTAudiences are accepted JWT bearer aud values besides
	// login/test.salesforce.com and the server's own URLs.
	JWTAudiences []string

	// Clock is the time source; nil means the wall clock.
	Clock clock.Clock
	// Seed makes ids and probabilistic faults deterministic.
	Seed int64
	// Bulk configures the Bulk API service (its Clock and Seed default to
	// the ones above).
	Bulk bulk.Options
	// Faults are active from the start.
	Faults []Fault
	// RefreshTokenLifetime is how long a refresh token works after it is
	// issued (a connected app's refresh token policy); 0 means until revoked.
	RefreshTokenLifetime time.Duration
	// Logger receives one debug line per request (method, path, query with
	// secrets redacted, status);
	// nil means no logging. Tokens are never logged.
	Logger *slog.Logger
}

// Server is a running emulated org. It is safe for concurrent use.
type Server struct {
	cfg      Config
	clock    clock.Clock
	org      *org.Org
	bulk     *bulk.Service
	rest     *rest.Handler
	codes    authCodeStore
	sessions *sessionStore
	faults   *faultSet
	cert     *certificate
	users    []*userRecord
	apps     []*ConnectedApp
	handler  http.Handler

	orgID, orgName, profileID string

	mu        sync.Mutex
	servers   []*http.Server
	primary   string // URL of Addr's listener
	plainURL  string
	tlsURL    string
	closed    bool
	client    *http.Client
	closeOnce sync.Once
	closeErr  error
}

// DefaultOrgID is the organization id of an emulated org unless configured.
const DefaultOrgID = "00D000000000001EAA"

// New builds a server (org, bulk service, handlers) without listening; call
// Start to listen, or use Handler in-process.
func New(cfg Config) (*Server, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.OrgID == "" {
		cfg.OrgID = DefaultOrgID
	}
	orgID, ok := org.NormalizeID(cfg.OrgID)
	if !ok || !strings.HasPrefix(orgID, "00D") {
		return nil, fmt.Errorf("emulator: OrgID %q is not an organization id (00D...)", cfg.OrgID)
	}
	cfg.OrgID = orgID
	if cfg.OrgName == "" {
		cfg.OrgName = "sfbatch emulator"
	}
	if cfg.Users == nil {
		cfg.Users = []User{DefaultUser()}
	}
	if len(cfg.Users) == 0 {
		return nil, errors.New("emulator: Config.Users is empty")
	}
	if cfg.Apps == nil {
		cfg.Apps = []ConnectedApp{DefaultApp(), CLIApp()}
	}
	schema := cfg.Schema
	if schema == nil && cfg.SchemaFile != "" {
		sc, err := org.LoadSchemaFile(cfg.SchemaFile)
		if err != nil {
			return nil, fmt.Errorf("emulator: schema file: %w", err)
		}
		schema = sc
	}
	o, err := org.New(org.Options{Schema: schema, DataFile: cfg.DataFile, Clock: cfg.Clock, Seed: cfg.Seed, OrgID: cfg.OrgID, OrgName: cfg.OrgName})
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		clock:     cfg.Clock,
		org:       o,
		faults:    newFaultSet(cfg.Seed),
		orgID:     cfg.OrgID,
		orgName:   cfg.OrgName,
		profileID: "00e000000000001AAA",
	}
	s.sessions = newSessionStore(cfg.Clock, cfg.SessionLifetime, cfg.OrgID)
	s.sessions.refreshLifetime = cfg.RefreshTokenLifetime
	ctx := context.Background()
	for _, u := range cfg.Users {
		if u.Username == "" {
			_ = o.Close()
			return nil, errors.New("emulator: a configured user has no username")
		}
		id, err := ensureUser(ctx, o, u)
		if err != nil {
			_ = o.Close()
			return nil, err
		}
		s.users = append(s.users, &userRecord{User: u, id: id})
	}
	for _, a := range cfg.Apps {
		if a.ClientID == "" {
			_ = o.Close()
			return nil, errors.New("emulator: a connected app has no client id")
		}
		a := a
		if a.RunAs == "" {
			a.RunAs = cfg.Users[0].Username
		}
		if a.CertificatePEM != "" {
			k, err := parseRSAPublicKey([]byte(a.CertificatePEM))
			if err != nil {
				_ = o.Close()
				return nil, fmt.Errorf("emulator: connected app %s certificate: %w", a.ClientID, err)
			}
			a.publicKey = k
		}
		s.apps = append(s.apps, &a)
	}
	for _, f := range cfg.Faults {
		if _, err := s.faults.add(f); err != nil {
			_ = o.Close()
			return nil, fmt.Errorf("emulator: %w", err)
		}
	}
	bo := cfg.Bulk
	if bo.Clock == nil {
		bo.Clock = cfg.Clock
	}
	if bo.Seed == 0 {
		bo.Seed = cfg.Seed
	}
	s.bulk = bulk.New(o, bo)
	s.rest = rest.New(o, rest.Options{Clock: cfg.Clock})
	s.handler = s.buildHandler()
	return s, nil
}

// Start listens on the configured address(es) and serves in the background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("emulator: server closed")
	}
	if s.primary != "" {
		return errors.New("emulator: server already started")
	}
	addr := s.cfg.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	if s.cfg.TLS {
		cert, err := newCertificate(time.Now(), s.cfg.TLSHosts...)
		if err != nil {
			return err
		}
		s.cert = cert
		u, err := s.listenLocked(addr, true)
		if err != nil {
			return err
		}
		s.primary, s.tlsURL = u, u
		if s.cfg.HTTPAddr != "" {
			pu, err := s.listenLocked(s.cfg.HTTPAddr, false)
			if err != nil {
				s.shutdownLocked()
				return err
			}
			s.plainURL = pu
		}
		return nil
	}
	u, err := s.listenLocked(addr, false)
	if err != nil {
		return err
	}
	s.primary, s.plainURL = u, u
	return nil
}

func (s *Server) listenLocked(addr string, useTLS bool) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("emulator: listen %s: %w", addr, err)
	}
	// Connection-level errors (TLS handshakes cut short by a closing
	// client, ...) go to the configured logger at debug level, never to
	// the process's standard error.
	errLog := log.New(io.Discard, "", 0)
	if s.cfg.Logger != nil {
		errLog = slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug)
	}
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 30 * time.Second, ErrorLog: errLog}
	scheme := "http"
	if useTLS {
		scheme = "https"
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.cert.tls}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	s.servers = append(s.servers, hs)
	go func() { _ = hs.Serve(ln) }()
	host := ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host = net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	return scheme + "://" + host, nil
}

// shutdownGrace is how long Close waits for in-flight requests before it
// cuts their connections.
const shutdownGrace = 2 * time.Second

func (s *Server) shutdownLocked() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for _, hs := range s.servers {
		if hs.Shutdown(ctx) != nil {
			_ = hs.Close()
		}
	}
	s.servers = nil
}

// Close stops listening and releases the bulk workers and the org (closing
// its data file). It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		// Close the helper client's idle keep-alive connections first:
		// Shutdown waits for connections it cannot tell are idle.
		if s.client != nil {
			s.client.CloseIdleConnections()
		}
		s.shutdownLocked()
		if s.client != nil {
			s.client.CloseIdleConnections()
		}
		s.mu.Unlock()
		errs := []error{s.bulk.Close(), s.org.Close()}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// URL is the base URL of the primary listener (https://127.0.0.1:port when
// TLS is on), which is both the login URL and the instance URL. Empty before
// Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.primary
}

// HTTPURL is the plain-HTTP base URL, if one is served.
func (s *Server) HTTPURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.plainURL
}

// HTTPSURL is the HTTPS base URL, if one is served.
func (s *Server) HTTPSURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tlsURL
}

func (s *Server) urls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, u := range []string{s.plainURL, s.tlsURL} {
		if u != "" {
			out = append(out, u)
		}
	}
	return out
}

// CACertPEM returns the PEM certificate clients must trust for HTTPS (nil
// when TLS is off or before Start).
func (s *Server) CACertPEM() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cert == nil {
		return nil
	}
	return append([]byte(nil), s.cert.pemDER...)
}

// Client returns an *http.Client that trusts the server's certificate. It
// is shared: every call returns the same client (and connection pool).
func (s *Server) Client() *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if s.cert != nil {
			tr.TLSClientConfig = &tls.Config{RootCAs: s.cert.pool, MinVersion: tls.VersionTLS12}
		}
		s.client = &http.Client{Transport: tr}
	}
	return s.client
}

// Handler returns the server's HTTP handler, for serving in-process (for
// example with httptest). Instance URLs are derived from each request.
func (s *Server) Handler() http.Handler { return s.handler }

// Org returns the emulated org, for direct record access in tests.
func (s *Server) Org() *org.Org { return s.org }

// Bulk returns the Bulk API service, for its fault controls.
func (s *Server) Bulk() *bulk.Service { return s.bulk }

// Clock returns the server's time source.
func (s *Server) Clock() clock.Clock { return s.clock }

// Users returns the configured logins in order (the first is the default).
func (s *Server) Users() []User {
	out := make([]User, len(s.users))
	for i, u := range s.users {
		out[i] = u.User
	}
	return out
}

// UserID returns the User record id of a configured login.
func (s *Server) UserID(username string) (string, bool) {
	u := s.userByName(username)
	if u == nil {
		return "", false
	}
	return u.id, true
}

// Apps returns the configured connected apps.
func (s *Server) Apps() []ConnectedApp {
	out := make([]ConnectedApp, len(s.apps))
	for i, a := range s.apps {
		out[i] = *a
		out[i].publicKey = nil
	}
	return out
}

// OrgID returns the 18-character organization id.
func (s *Server) OrgID() string { return s.orgID }

// NewSession logs username in directly and returns its access token.
func (s *Server) NewSession(username string) (string, error) {
	u := s.userByName(username)
	if u == nil {
		return "", fmt.Errorf("emulator: no user %q", username)
	}
	return s.sessions.issue(u, s.orgID).Token, nil
}

// NewRefreshToken returns a refresh token for username and the connected
// app clientID, usable with the refresh_token grant. (Salesforce issues
// these in the web-server flow, which the emulator does not serve.)
func (s *Server) NewRefreshToken(username, clientID string) (string, error) {
	u := s.userByName(username)
	if u == nil {
		return "", fmt.Errorf("emulator: no user %q", username)
	}
	if s.appByID(clientID) == nil {
		return "", fmt.Errorf("emulator: no connected app %q", clientID)
	}
	return s.sessions.issueRefresh(u, clientID), nil
}

// ExpireSessions ends every session; the next request with any existing
// token gets INVALID_SESSION_ID. It returns how many sessions ended.
func (s *Server) ExpireSessions() int { return s.sessions.expireAll() }

// AddFault activates a fault and returns its id.
func (s *Server) AddFault(f Fault) (int, error) { return s.faults.add(f) }

// FailNext makes the next n requests matching method and path pattern
// (see Fault) fail with status and a body with errorCode in the API's shape.
func (s *Server) FailNext(n int, method, pathPattern string, status int, errorCode string) error {
	if n <= 0 {
		return fmt.Errorf("emulator: FailNext count %d must be positive", n)
	}
	_, err := s.faults.add(Fault{Method: method, Path: pathPattern, Times: n, Status: status, ErrorCode: errorCode})
	return err
}

// ClearFaults removes every active fault.
func (s *Server) ClearFaults() { s.faults.clear() }

// StartupInfo is what `sfbatch emulator --json` prints: everything a client
// needs to connect. The credentials are the emulator's own local ones.
type StartupInfo struct {
	InstanceURL   string `json:"instance_url"`
	LoginURL      string `json:"login_url"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	SecurityToken string `json:"security_token"`
	AccessToken   string `json:"access_token"`
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	CACertFile    string `json:"ca_cert_file"`
	// SFDXAuthURL logs the Salesforce CLI in (sf org login sfdx-url) with a
	// refresh token of the CLI's connected app; empty when that app is not
	// configured.
	SFDXAuthURL string `json:"sfdx_auth_url,omitempty"`
}

// StartupInfo returns connection details for the default user and app,
// with a fresh access token. If TLS is on and caCertDir is not empty, the CA
// certificate is written there as emulator-ca.pem and its path reported.
func (s *Server) StartupInfo(caCertDir string) (StartupInfo, error) {
	u, a := s.users[0], s.apps[0]
	tok, err := s.NewSession(u.Username)
	if err != nil {
		return StartupInfo{}, err
	}
	info := StartupInfo{
		InstanceURL:   s.URL(),
		LoginURL:      s.URL(),
		Username:      u.Username,
		Password:      u.Password,
		SecurityToken: u.SecurityToken,
		AccessToken:   tok,
		ClientID:      a.ClientID,
		ClientSecret:  a.ClientSecret,
	}
	if s.appByID(CLIClientID) != nil {
		rt, err := s.NewRefreshToken(u.Username, CLIClientID)
		if err != nil {
			return StartupInfo{}, err
		}
		info.SFDXAuthURL = SFDXAuthURL(CLIClientID, "", rt, s.URL())
	}
	if pem := s.CACertPEM(); pem != nil && caCertDir != "" {
		p := filepath.Join(caCertDir, "emulator-ca.pem")
		if err := os.WriteFile(p, pem, 0o644); err != nil {
			return StartupInfo{}, fmt.Errorf("emulator: write CA certificate: %w", err)
		}
		info.CACertFile = p
	}
	return info, nil
}

// instanceURL is the scheme and host the request arrived on, so one server
// answers correctly on both its HTTP and HTTPS listeners.
func instanceURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// buildHandler assembles the middleware chain and routes.
func (s *Server) buildHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		cleanSlashes(r)
		defer func() {
			if s.cfg.Logger != nil {
				s.cfg.Logger.Debug("emulator request", "method", r.Method, "path", r.URL.Path, "query", redactQuery(r.URL.Query()), "status", sw.status)
			}
		}()
		if strings.HasPrefix(r.URL.Path, ControlPrefix) {
			// The control endpoint is never faulted, so tests can always clear faults.
		} else if f, ok := s.faults.match(r.Method, r.URL.Path); ok {
			if s.applyFault(sw, r, f) {
				return
			}
		}
		if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") && r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			// Some clients mark even bodiless GETs as gzip; an empty body stays empty.
			br := bufio.NewReader(r.Body)
			if _, err := br.Peek(1); err == io.EOF {
				r.Body = http.NoBody
				r.Header.Del("Content-Encoding")
				s.route(sw, r)
				return
			}
			zr, err := gzip.NewReader(br)
			if err != nil {
				writeFamilyError(sw, r, http.StatusBadRequest, "INVALID_REQUEST", "request body is not valid gzip")
				return
			}
			r.Body = struct {
				io.Reader
				io.Closer
			}{zr, r.Body}
			r.Header.Del("Content-Encoding")
			r.Header.Del("Content-Length")
			r.ContentLength = -1
		}
		s.route(sw, r)
	})
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/services/Soap/"):
		s.serveSOAP(w, r)
	case p == "/services/oauth2/token" || p == "/services/oauth2/token/":
		s.serveOAuthToken(w, r)
	case p == "/services/oauth2/revoke" || p == "/services/oauth2/revoke/":
		s.serveOAuthRevoke(w, r)
	case p == "/services/oauth2/authorize" || p == "/services/oauth2/authorize/":
		s.serveAuthorize(w, r)
	case p == "/services/oauth2/userinfo" || p == "/services/oauth2/userinfo/":
		s.serveUserInfo(w, r)
	case strings.HasPrefix(p, "/id/"):
		s.serveIdentity(w, r)
	case p == "/services/data" || p == "/services/data/":
		s.serveVersions(w, r)
	case strings.HasPrefix(p, "/services/data/"):
		sess, ok := s.authREST(w, r)
		if !ok {
			return
		}
		r = r.WithContext(wire.WithSession(r.Context(), sess))
		if isBulk2Path(p) {
			s.bulk.ServeHTTP(w, r)
			return
		}
		s.rest.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/services/async/"):
		sess, ok := s.authBulk1(w, r)
		if !ok {
			return
		}
		s.bulk.ServeHTTP(w, r.WithContext(wire.WithSession(r.Context(), sess)))
	case strings.HasPrefix(p, ControlPrefix):
		sess := s.sessions.validate(bearerToken(r))
		if sess == nil {
			wire.WriteError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
			return
		}
		s.serveControl(w, r.WithContext(wire.WithSession(r.Context(), sess)))
	default:
		wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

// isBulk2Path reports whether p is /services/data/v{ver}/jobs[/...].
func isBulk2Path(p string) bool {
	rest := strings.TrimPrefix(p, "/services/data/")
	_, after, ok := strings.Cut(rest, "/")
	return ok && (after == "jobs" || strings.HasPrefix(after, "jobs/"))
}

// serveVersions answers GET /services/data/ without authentication.
func (s *Server) serveVersions(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		wire.WriteError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed. Allowed are GET,HEAD")
		return
	}
	wire.WriteJSON(w, http.StatusOK, rest.Versions())
}

// bearerToken extracts the token of "Authorization: Bearer x" (or "OAuth x").
func bearerToken(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	for _, p := range []string{"Bearer ", "OAuth "} {
		if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
			return strings.TrimSpace(h[len(p):])
		}
	}
	return ""
}

func (s *Server) sessionFromRequest(r *http.Request) *wire.Session {
	tok := bearerToken(r)
	if tok == "" {
		tok = strings.TrimSpace(r.Header.Get("X-SFDC-Session"))
	}
	return s.sessions.validate(tok)
}

// authREST authenticates a REST/Bulk 2.0/composite request, counts it
// against DailyApiRequests and sets Sforce-Limit-Info.
func (s *Server) authREST(w http.ResponseWriter, r *http.Request) (*wire.Session, bool) {
	sess := s.sessions.validate(bearerToken(r))
	if sess == nil {
		wire.WriteError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return nil, false
	}
	if !s.countAPIRequest(w) {
		wire.WriteError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return nil, false
	}
	return sess, true
}

// authBulk1 authenticates a Bulk 1.0 request (X-SFDC-Session, or a bearer
// token), answering Bulk 1.0's own 400 InvalidSessionId otherwise.
func (s *Server) authBulk1(w http.ResponseWriter, r *http.Request) (*wire.Session, bool) {
	tok := strings.TrimSpace(r.Header.Get("X-SFDC-Session"))
	if tok == "" {
		tok = bearerToken(r)
	}
	sess := s.sessions.validate(tok)
	if sess == nil {
		writeBulk1Error(w, r, http.StatusBadRequest, "InvalidSessionId", "Invalid session id")
		return nil, false
	}
	if !s.countAPIRequest(w) {
		writeBulk1Error(w, r, http.StatusForbidden, "ExceededQuota", "TotalRequests Limit exceeded.")
		return nil, false
	}
	return sess, true
}

// APIRequestLimit is the DailyApiRequests counter requests are charged to.
const APIRequestLimit = "DailyApiRequests"

// countAPIRequest charges one API request and sets Sforce-Limit-Info. It
// reports false when the daily allowance is used up.
func (s *Server) countAPIRequest(w http.ResponseWriter) bool {
	err := s.org.Consume(APIRequestLimit, 1)
	if l, ok := s.org.Limits()[APIRequestLimit]; ok {
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", l.Max-l.Remaining, l.Max))
	}
	return err == nil
}

// writeBulk1Error writes Bulk 1.0's <error> (or its JSON form when the
// request is JSON).
func writeBulk1Error(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if isJSONRequest(r) {
		b, _ := json.Marshal(map[string]string{"exceptionCode": code, "exceptionMessage": msg})
		w.Header().Set("Content-Type", wire.ContentTypeBulk1JSON)
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return
	}
	w.Header().Set("Content-Type", wire.ContentTypeBulk1XML)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><error xmlns="http://www.force.com/2009/06/asyncapi/dataload"><exceptionCode>`+
		xmlText(code)+`</exceptionCode><exceptionMessage>`+xmlText(msg)+`</exceptionMessage></error>`)
}

// isJSONRequest reports whether a Bulk 1.0 request speaks JSON (by its
// Content-Type, or Accept when it has no body type).
func isJSONRequest(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	if strings.HasPrefix(ct, "application/json") {
		return true
	}
	if ct == "" {
		acc := strings.ToLower(r.Header.Get("Accept"))
		return strings.HasPrefix(acc, "application/json")
	}
	return false
}

// statusWriter records the status for logging and keeps Hijack and Flush.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack exposes the underlying connection (for the drop fault).
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Flush flushes the underlying writer when it can.
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// SessionValid reports whether tok is a live session (using it extends it,
// like any request would).
func (s *Server) SessionValid(tok string) bool { return s.sessions.validate(tok) != nil }
