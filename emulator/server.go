package emulator

import (
	"context"
	"crypto/tls"
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
	"sync/atomic"
	"time"

	"github.com/sfbatch/sfbatch/emulator/bulk"
	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/rest"
)

// DefaultAddr is where a server listens when Config.Addr is empty: an
// ephemeral port on the IPv4 loopback interface.
const DefaultAddr = "127.0.0.1:0"

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
	// DataFile is the SQLite file the org persists in: records, Bulk jobs
	// (unless Bulk.DataFile names another file), sessions and refresh
	// tokens (by hash) and the TLS certificate, which a server started
	// again over it reuses while it is valid. "" keeps everything in
	// memory.
	DataFile string
	// OrgID is the 18-character organization id; "" means a fixed default.
	OrgID string
	// OrgName is the organization name reported by login.
	OrgName string
	// CountOnly validates and counts inserted records without keeping them (see
	// org.Options.CountOnly), for loads of tens of millions of rows. Not with DataFile.
	CountOnly bool

	// Users can log in; nil means DefaultUser(). The first is the default
	// user (client credentials run as it unless an app says otherwise).
	Users []User
	// Apps are the connected apps (OAuth clients); nil means DefaultApp().
	Apps []ConnectedApp
	// SessionLifetime is how long a session lives without use; zero means
	// DefaultSessionLifetime.
	SessionLifetime time.Duration
	// SOAPLoginDisabled turns the org's "Enable SOAP API login()" setting
	// off, as it is by default in orgs created from Winter '26 on: SOAP
	// login() is refused with INVALID_OPERATION at every API version. The
	// control endpoint and SetSOAPLoginEnabled change it at run time. Login()
	// on API versions above MaxSOAPLoginVersion is refused whatever this says,
	// as Salesforce does.
	SOAPLoginDisabled bool
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
	// Limits is the org's request limit model: daily maxima, requests in
	// flight, long-running synchronous calls. The zero value keeps the
	// default maxima and sets no threshold.
	Limits LimitModel
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
	meter    meter // requests in progress, for Config.Limits
	cert     *certificate
	users    []*userRecord
	apps     []*ConnectedApp
	handler  http.Handler

	orgID, orgName, profileID string

	soapLoginOff atomic.Bool // the org's "Enable SOAP API login()" setting is off

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
	if err := cfg.Limits.validate(); err != nil {
		return nil, err
	}
	o, err := org.New(org.Options{Schema: schema, DataFile: cfg.DataFile, Clock: cfg.Clock, Seed: cfg.Seed, OrgID: cfg.OrgID, OrgName: cfg.OrgName, CountOnly: cfg.CountOnly})
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
	var keep *org.Org
	if cfg.DataFile != "" {
		keep = o
	}
	s.sessions = newSessionStore(cfg.Clock, cfg.SessionLifetime, cfg.OrgID, keep)
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
	if bo.DataFile == "" {
		bo.DataFile = cfg.DataFile
	}
	s.bulk, err = bulk.Open(o, bo)
	if err != nil {
		_ = o.Close()
		return nil, fmt.Errorf("emulator: %w", err)
	}
	s.rest = rest.New(o, rest.Options{Clock: cfg.Clock})
	s.applyLimitModel()
	s.handler = s.buildHandler()
	s.soapLoginOff.Store(cfg.SOAPLoginDisabled)
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
		cert, err := s.serverCertificate(time.Now())
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
		s.sessions.flush()
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

// StartupInfo is what `sfbatch emulator --json` prints (as its "result"): everything a client
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
