package salesforce

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultJWTLifetime is how long a JWT bearer assertion is valid (Salesforce allows at most
// about three minutes in the future).
const DefaultJWTLifetime = 3 * time.Minute

// tokenResponse is the OAuth 2.0 token endpoint's success body.
type tokenResponse struct {
	AccessToken    string `json:"access_token"`
	InstanceURL    string `json:"instance_url"`
	APIInstanceURL string `json:"api_instance_url"`
	ID             string `json:"id"`
	TokenType      string `json:"token_type"`
	IssuedAt       string `json:"issued_at"`
	RefreshToken   string `json:"refresh_token"`
	Scope          string `json:"scope"`
}

// requestToken posts form to {loginURL}/services/oauth2/token and returns the token. secrets are
// removed from any error message.
func requestToken(ctx context.Context, hc *http.Client, loginURL string, form url.Values, basicUser, basicPass string, secrets ...string) (*Token, error) {
	base, err := loginBase(loginURL)
	if err != nil {
		return nil, err
	}
	endpoint := base + "/services/oauth2/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("salesforce: OAuth token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basicUser != "" {
		req.SetBasicAuth(basicUser, basicPass)
	}
	resp, err := loginClient(hc).Do(req)
	if err != nil {
		return nil, &TransportError{Method: http.MethodPost, URL: sanitizeURL(endpoint), Err: redactURLError(err)}
	}
	defer resp.Body.Close()
	if e := checkResponse(resp, http.MethodPost, endpoint, errREST); e != nil {
		e.redact(secrets...)
		return nil, e
	}
	data, _ := readLimited(resp.Body, MaxLoginResponseBytes)
	tok, err := parseTokenResponse(data)
	if err != nil {
		return nil, fmt.Errorf("salesforce: POST %s: %d response: %w", sanitizeURL(endpoint), resp.StatusCode, err)
	}
	return tok, nil
}

func parseTokenResponse(data []byte) (*Token, error) {
	var tr tokenResponse
	if err := json.Unmarshal(data, &tr); err != nil {
		return nil, fmt.Errorf("malformed token response: %w", err)
	}
	if tr.AccessToken == "" {
		return nil, errors.New("malformed token response: no access_token")
	}
	inst := tr.InstanceURL
	if inst == "" {
		inst = tr.APIInstanceURL
	}
	if inst == "" {
		return nil, errors.New("malformed token response: no instance_url")
	}
	tok := &Token{
		AccessToken:  tr.AccessToken,
		InstanceURL:  inst,
		ID:           tr.ID,
		RefreshToken: tr.RefreshToken,
		Scope:        tr.Scope,
		IssuedAt:     time.Now(),
	}
	if ms, err := strconv.ParseInt(tr.IssuedAt, 10, 64); err == nil && ms > 0 {
		tok.IssuedAt = time.UnixMilli(ms)
	}
	// identity URL: https://login.salesforce.com/id/{orgId}/{userId}
	if parts := strings.Split(strings.TrimRight(tr.ID, "/"), "/"); len(parts) >= 3 && parts[len(parts)-3] == "id" {
		tok.OrganizationID, tok.UserID = parts[len(parts)-2], parts[len(parts)-1]
	}
	return tok, nil
}

// OAuthPassword is a TokenSource for the OAuth 2.0 username-password flow. Salesforce disables
// this flow by default in new orgs; prefer JWTBearer or ClientCredentials. Safe for concurrent
// use once configured.
type OAuthPassword struct {
	// LoginURL: ProductionLoginURL (default), SandboxLoginURL or My Domain.
	LoginURL string
	// ClientID and ClientSecret of the connected app.
	ClientID, ClientSecret string
	// Username, Password and SecurityToken (appended to the password).
	Username, Password, SecurityToken string
	// HTTPClient; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// Token logs in.
func (s *OAuthPassword) Token(ctx context.Context) (*Token, error) {
	if s.ClientID == "" || s.Username == "" || s.Password == "" {
		return nil, errors.New("salesforce: OAuth password flow: client id, username and password are required")
	}
	form := url.Values{
		"grant_type":    {"password"},
		"client_id":     {s.ClientID},
		"client_secret": {s.ClientSecret},
		"username":      {s.Username},
		"password":      {s.Password + s.SecurityToken},
	}
	return requestToken(ctx, s.HTTPClient, s.LoginURL, form, "", "", s.Password+s.SecurityToken, s.Password, s.SecurityToken, s.ClientSecret)
}

// String describes the source without secrets.
func (s OAuthPassword) String() string {
	return fmt.Sprintf("OAuthPassword{LoginURL:%s, ClientID:%s, Username:%s, Password:%s}", s.LoginURL, s.ClientID, s.Username, redacted(s.Password))
}

// GoString is String.
func (s OAuthPassword) GoString() string { return s.String() }

// OAuthRefreshToken is a TokenSource for the OAuth 2.0 refresh token flow: every Token call
// exchanges the refresh token for a new access token. Safe for concurrent use once configured.
type OAuthRefreshToken struct {
	// LoginURL is the token endpoint's host: ProductionLoginURL (default), SandboxLoginURL, My
	// Domain, or the instance URL itself.
	LoginURL string
	// ClientID of the connected app; ClientSecret if the app requires it.
	ClientID, ClientSecret string
	// RefreshToken issued to the user.
	RefreshToken string
	// HTTPClient; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// Token exchanges the refresh token.
func (s *OAuthRefreshToken) Token(ctx context.Context) (*Token, error) {
	if s.ClientID == "" || s.RefreshToken == "" {
		return nil, errors.New("salesforce: OAuth refresh token flow: client id and refresh token are required")
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {s.ClientID},
		"refresh_token": {s.RefreshToken},
	}
	if s.ClientSecret != "" {
		form.Set("client_secret", s.ClientSecret)
	}
	return requestToken(ctx, s.HTTPClient, s.LoginURL, form, "", "", s.RefreshToken, s.ClientSecret)
}

// String describes the source without secrets.
func (s OAuthRefreshToken) String() string {
	return fmt.Sprintf("OAuthRefreshToken{LoginURL:%s, ClientID:%s, RefreshToken:%s}", s.LoginURL, s.ClientID, redacted(s.RefreshToken))
}

// GoString is String.
func (s OAuthRefreshToken) GoString() string { return s.String() }

// ClientCredentials is a TokenSource for the OAuth 2.0 client credentials flow (the connected
// app runs as its configured user). Salesforce serves this flow only on My Domain hosts. Safe
// for concurrent use once configured.
type ClientCredentials struct {
	// LoginURL is the org's My Domain URL, such as "https://acme.my.salesforce.com".
	LoginURL string
	// ClientID and ClientSecret of the connected app.
	ClientID, ClientSecret string
	// BasicAuth sends the credentials in an Authorization: Basic header instead of the form.
	BasicAuth bool
	// HTTPClient; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// Token requests a token.
func (s *ClientCredentials) Token(ctx context.Context) (*Token, error) {
	if s.ClientID == "" || s.ClientSecret == "" {
		return nil, errors.New("salesforce: client credentials flow: client id and secret are required")
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if s.BasicAuth {
		return requestToken(ctx, s.HTTPClient, s.LoginURL, form, s.ClientID, s.ClientSecret, s.ClientSecret)
	}
	form.Set("client_id", s.ClientID)
	form.Set("client_secret", s.ClientSecret)
	return requestToken(ctx, s.HTTPClient, s.LoginURL, form, "", "", s.ClientSecret)
}

// String describes the source without secrets.
func (s ClientCredentials) String() string {
	return fmt.Sprintf("ClientCredentials{LoginURL:%s, ClientID:%s, ClientSecret:%s}", s.LoginURL, s.ClientID, redacted(s.ClientSecret))
}

// GoString is String.
func (s ClientCredentials) GoString() string { return s.String() }

// JWTBearer is a TokenSource for the OAuth 2.0 JWT bearer flow: it signs an RS256 assertion
// with the connected app's private key for a pre-authorized user. Safe for concurrent use once
// configured.
type JWTBearer struct {
	// LoginURL is the token endpoint's host: ProductionLoginURL (default), SandboxLoginURL or
	// My Domain.
	LoginURL string
	// Audience is the assertion's aud claim. Empty means SandboxLoginURL when LoginURL is a
	// sandbox host (test.salesforce.com or *.sandbox.my.salesforce.com), else
	// ProductionLoginURL.
	Audience string
	// ClientID is the connected app's consumer key (the iss claim).
	ClientID string
	// Username is the user to act as (the sub claim).
	Username string
	// PrivateKey signs the assertion. See ParsePrivateKeyPEM.
	PrivateKey *rsa.PrivateKey
	// Lifetime of the assertion; zero means DefaultJWTLifetime.
	Lifetime time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// HTTPClient; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// Token signs an assertion and exchanges it.
func (s *JWTBearer) Token(ctx context.Context) (*Token, error) {
	assertion, err := s.Assertion()
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {assertion},
	}
	return requestToken(ctx, s.HTTPClient, s.LoginURL, form, "", "", assertion)
}

// Assertion returns the signed JWT the flow sends.
func (s *JWTBearer) Assertion() (string, error) {
	if s.ClientID == "" || s.Username == "" || s.PrivateKey == nil {
		return "", errors.New("salesforce: JWT bearer flow: client id, username and private key are required")
	}
	aud := s.Audience
	if aud == "" {
		aud = ProductionLoginURL
		if host := strings.ToLower(s.LoginURL); strings.Contains(host, "test.salesforce.com") || strings.Contains(host, ".sandbox.") {
			aud = SandboxLoginURL
		}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	life := s.Lifetime
	if life <= 0 {
		life = DefaultJWTLifetime
	}
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": s.ClientID,
		"sub": s.Username,
		"aud": aud,
		"exp": now().Add(life).Unix(),
	})
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.PrivateKey, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("salesforce: signing JWT: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// String describes the source without the key.
func (s JWTBearer) String() string {
	return fmt.Sprintf("JWTBearer{LoginURL:%s, ClientID:%s, Username:%s}", s.LoginURL, s.ClientID, s.Username)
}

// GoString is String.
func (s JWTBearer) GoString() string { return s.String() }

// ParsePrivateKeyPEM parses an RSA private key in PEM form (PKCS #1 "RSA PRIVATE KEY" or
// PKCS #8 "PRIVATE KEY"), as used by JWTBearer.
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("salesforce: no RSA private key PEM block found")
		}
		switch block.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("salesforce: parsing PKCS #1 private key: %w", err)
			}
			return k, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("salesforce: parsing PKCS #8 private key: %w", err)
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("salesforce: private key is %T, want RSA", k)
			}
			return rk, nil
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("salesforce: encrypted private keys are not supported; decrypt the key first")
		}
	}
}

// ParseSFDXAuthURL parses a Salesforce CLI auth URL,
// "force://<clientId>:<clientSecret>:<refreshToken>@<instance>" (the secret may be empty), into
// a refresh token source whose token endpoint is the instance.
func ParseSFDXAuthURL(s string) (*OAuthRefreshToken, error) {
	const bad = "salesforce: SFDX auth URL: want force://<clientId>:<clientSecret>:<refreshToken>@<instance>"
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "force://")
	if !ok {
		return nil, errors.New(bad)
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return nil, errors.New(bad)
	}
	creds, host := rest[:at], rest[at+1:]
	parts := strings.SplitN(creds, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" || host == "" {
		return nil, errors.New(bad)
	}
	inst, err := normalizeInstanceURL(host)
	if err != nil {
		return nil, errors.New(bad)
	}
	return &OAuthRefreshToken{LoginURL: inst, ClientID: parts[0], ClientSecret: parts[1], RefreshToken: parts[2]}, nil
}
