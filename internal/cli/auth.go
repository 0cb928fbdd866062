package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/sfbatch/sfbatch/salesforce"
)

// authOptions are the connection flags every org command shares. Secrets
// (passwords, tokens, client secrets) come only from the environment or a
// profile, never from flags, so they do not land in shell history or process
// listings.
type authOptions struct {
	Profile     string
	InstanceURL string
	LoginURL    string
	Username    string
	ClientID    string
	JWTKeyFile  string
	CACertFile  string
	APIVersion  string
	ConfigPath  string
	TargetOrg   string // see sforg.go
	SFPath      string

	getenv func(string) string // os.Getenv unless a test replaces it
	// noProfile skips the config file's profiles (sfbatch login builds a
	// new one from flags and environment alone).
	noProfile bool
	// notices receives messages about the config file (a migration), one
	// line each; nil means standard error.
	notices io.Writer
}

// Environment variables read for authentication.
const (
	envInstanceURL   = "SF_INSTANCE_URL"
	envAccessToken   = "SF_ACCESS_TOKEN"
	envUsername      = "SF_USERNAME"
	envPassword      = "SF_PASSWORD"
	envSecurityToken = "SF_SECURITY_TOKEN"
	envClientID      = "SF_CLIENT_ID"
	envClientSecret  = "SF_CLIENT_SECRET"
	envRefreshToken  = "SF_REFRESH_TOKEN"
	envJWTKeyFile    = "SF_JWT_KEY_FILE"
	envLoginURL      = "SF_LOGIN_URL"
	envAuthURL       = "SFDX_AUTH_URL"
	envAuthURLAlt    = "SF_AUTH_URL"
	envCACertFile    = "SF_CA_CERT_FILE"
	envAPIVersion    = "SF_API_VERSION"
	envProfile       = "SFBATCH_PROFILE"
)

func (a *authOptions) bind(f *pflag.FlagSet) {
	f.StringVarP(&a.Profile, "profile", "p", "", "named connection profile from the config file (see sfbatch login; env "+envProfile+")")
	f.StringVar(&a.InstanceURL, "instance-url", "", "instance URL, e.g. https://acme.my.salesforce.com (env "+envInstanceURL+")")
	f.StringVar(&a.LoginURL, "login-url", "", "login URL: https://login.salesforce.com, https://test.salesforce.com or My Domain (env "+envLoginURL+")")
	f.StringVar(&a.Username, "username", "", "username (env "+envUsername+"; password and security token from "+envPassword+", "+envSecurityToken+")")
	f.StringVar(&a.ClientID, "client-id", "", "connected app consumer key (env "+envClientID+"; secret from "+envClientSecret+")")
	f.StringVar(&a.JWTKeyFile, "jwt-key-file", "", "PEM private key for the JWT bearer flow (env "+envJWTKeyFile+")")
	f.StringVar(&a.CACertFile, "ca-cert", "", "PEM file of extra CA certificates to trust besides the system's: a corporate CA bundle (TLS-inspecting proxy) or the emulator's (env "+envCACertFile+")")
	f.StringVar(&a.APIVersion, "api-version", "", "Salesforce API version, e.g. 62.0 (env "+envAPIVersion+")")
	a.bindTargetOrg(f)
	f.StringVar(&a.ConfigPath, "config", "", "config file with profiles (default $XDG_CONFIG_HOME/sfbatch/config.json, env SFBATCH_CONFIG)")
}

func (a *authOptions) env(name string) string {
	if a.getenv != nil {
		return a.getenv(name)
	}
	return os.Getenv(name)
}

// resolve merges flags, environment and the profile (in that order of
// precedence) into one Profile.
func (a *authOptions) resolve() (*Profile, error) {
	p := &Profile{}
	profileName := first(a.Profile, a.env(envProfile))
	path := a.ConfigPath
	if path == "" {
		var err error
		if path, err = defaultConfigPath(a.env); err != nil {
			return nil, err
		}
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	if err := a.migrate(cfg, path); err != nil {
		return nil, err
	}
	if profileName == "" {
		profileName = cfg.Default
	}
	if a.noProfile {
		profileName = ""
	}
	if profileName != "" {
		found, ok := cfg.Profiles[profileName]
		if !ok {
			if a.Profile != "" || a.env(envProfile) != "" {
				return nil, usageError{fmt.Errorf("profile %q not found in %s", profileName, path)}
			}
		} else {
			opened, err := openProfile(cfg, a.env, profileName, found)
			if err != nil {
				return nil, withExit(ExitAuth, err)
			}
			*p = *opened
			p.storedToken = p.AccessToken != ""
			p.saved = &savedAt{path: path, name: profileName, getenv: a.env}
		}
	}
	if a.env(envAccessToken) != "" {
		p.storedToken = false
	}
	p.proxy = proxyFromEnv(a.env)
	envOrFlag := func(dst *string, flag, env string) {
		if v := first(flag, a.env(env)); v != "" {
			*dst = v
		}
	}
	envOrFlag(&p.InstanceURL, a.InstanceURL, envInstanceURL)
	envOrFlag(&p.LoginURL, a.LoginURL, envLoginURL)
	envOrFlag(&p.Username, a.Username, envUsername)
	envOrFlag(&p.ClientID, a.ClientID, envClientID)
	envOrFlag(&p.JWTKeyFile, a.JWTKeyFile, envJWTKeyFile)
	envOrFlag(&p.CACertFile, a.CACertFile, envCACertFile)
	envOrFlag(&p.APIVersion, a.APIVersion, envAPIVersion)
	envOrFlag(&p.Password, "", envPassword)
	envOrFlag(&p.SecurityToken, "", envSecurityToken)
	envOrFlag(&p.ClientSecret, "", envClientSecret)
	envOrFlag(&p.RefreshToken, "", envRefreshToken)
	envOrFlag(&p.AccessToken, "", envAccessToken)
	envOrFlag(&p.AuthURL, "", envAuthURL)
	envOrFlag(&p.AuthURL, "", envAuthURLAlt)
	return p, nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// loginConfig turns a resolved profile into the library's login settings.
func (p *Profile) loginConfig(hc *http.Client) salesforce.LoginConfig {
	return salesforce.LoginConfig{
		LoginURL:       p.LoginURL,
		Username:       p.Username,
		Password:       p.Password,
		SecurityToken:  p.SecurityToken,
		ClientID:       p.ClientID,
		ClientSecret:   p.ClientSecret,
		RefreshToken:   p.RefreshToken,
		PrivateKeyFile: p.JWTKeyFile,
		AccessToken:    p.AccessToken,
		InstanceURL:    p.InstanceURL,
		SFDXAuthURL:    p.AuthURL,
		APIVersion:     p.APIVersion,
		HTTPClient:     hc,
	}
}

// httpClient returns an HTTP client that verifies TLS against the system
// roots plus, if set, the profile's CA certificate file.
func (p *Profile) httpClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if p.proxy != nil {
		tr.Proxy = p.proxy
	}
	if p.CACertFile != "" {
		pemData, err := os.ReadFile(p.CACertFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--ca-cert: %w", err)}
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, usageError{fmt.Errorf("--ca-cert: %s holds no PEM certificate", p.CACertFile)}
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}

// maxConcurrentRequests caps the requests one sfbatch process has in flight
// against an org: Salesforce allows 25 concurrent long-running requests per
// org, and every load, export and poll shares this one client's pacer.
const maxConcurrentRequests = 25

// errNoCredentials is returned when neither flags, environment nor a profile
// give a way to log in.
var errNoCredentials = errors.New("no Salesforce credentials: set SF_ACCESS_TOKEN and SF_INSTANCE_URL, SF_USERNAME and SF_PASSWORD (+ SF_SECURITY_TOKEN), an SFDX auth URL, or use --profile (see sfbatch login --help)")

// client logs in and returns an API client; extra options (a logger) are added to the client's.
func (a *authOptions) client(ctx context.Context, extra ...salesforce.Option) (*salesforce.Client, error) {
	if org := a.targetOrg(); org != "" {
		return a.targetOrgClient(ctx, org, extra...)
	}
	if a.notices == nil {
		a.notices = noticesFrom(ctx)
	}
	p, err := a.resolve()
	if err != nil {
		return nil, err
	}
	return p.client(ctx, extra...)
}

func (p *Profile) client(ctx context.Context, extra ...salesforce.Option) (*salesforce.Client, error) {
	hc, err := p.httpClient()
	if err != nil {
		return nil, err
	}
	lc := p.loginConfig(hc)
	src, err := p.tokenSource(lc)
	if err != nil {
		return nil, withExit(ExitAuth, errNoCredentials)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	opts := []salesforce.Option{salesforce.WithHTTPClient(hc), salesforce.WithMaxConcurrentRequests(maxConcurrentRequests)}
	if lc.APIVersion != "" {
		opts = append(opts, salesforce.WithAPIVersion(lc.APIVersion))
	}
	c, err := salesforce.NewWithTokenSource(ctx, src, append(opts, extra...)...)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		if errors.Is(err, salesforce.ErrSOAPLoginRefused) {
			err = fmt.Errorf("%w; or use an org the sf CLI is logged in to with --target-org", err)
		}
		return nil, &loginError{err}
	}
	return c, nil
}
