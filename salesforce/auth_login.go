package salesforce

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// Flow names a login flow for LoginConfig.
type Flow string

// Login flows.
const (
	FlowSOAP              Flow = "soap"               // username + password + security token, SOAP login()
	FlowPassword          Flow = "password"           // OAuth username-password
	FlowRefreshToken      Flow = "refresh_token"      // OAuth refresh token
	FlowJWT               Flow = "jwt"                // OAuth JWT bearer
	FlowClientCredentials Flow = "client_credentials" // OAuth client credentials
	FlowAccessToken       Flow = "access_token"       // a given session id / access token
	FlowSFDXAuthURL       Flow = "sfdx"               // force://… auth URL
)

// LoginConfig gathers the settings of every login flow, for Login. Set the fields of one flow;
// Flow may name it explicitly, otherwise it is inferred in this order: SFDXAuthURL → sfdx;
// AccessToken → access_token; RefreshToken → refresh_token; PrivateKey/PrivateKeyPEM/
// PrivateKeyFile → jwt; Username+Password with ClientID → password; Username+Password → soap;
// ClientID+ClientSecret → client_credentials.
type LoginConfig struct {
	Flow Flow
	// LoginURL is ProductionLoginURL (the default), SandboxLoginURL or a My Domain URL.
	LoginURL string
	// Sandbox selects SandboxLoginURL when LoginURL is empty.
	Sandbox bool

	Username, Password, SecurityToken string
	ClientID, ClientSecret            string
	RefreshToken                      string

	// JWT bearer key: one of PrivateKey, PrivateKeyPEM, PrivateKeyFile.
	PrivateKey     *rsa.PrivateKey
	PrivateKeyPEM  []byte
	PrivateKeyFile string

	// AccessToken and InstanceURL of an existing session.
	AccessToken, InstanceURL string

	// SFDXAuthURL is "force://<clientId>:<clientSecret>:<refreshToken>@<instance>".
	SFDXAuthURL string

	// APIVersion of the client's data calls; empty means DefaultAPIVersion. SOAP login does not
	// use it: it logs in at MaxSOAPLoginAPIVersion, the newest version that offers login().
	APIVersion string
	// HTTPClient for login and API calls; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// String describes the configuration without secrets.
func (c LoginConfig) String() string {
	flow, _ := c.flow()
	return fmt.Sprintf("LoginConfig{Flow:%s, LoginURL:%s, Username:%s, ClientID:%s, InstanceURL:%s, Password:%s, ClientSecret:%s, RefreshToken:%s, AccessToken:%s}",
		flow, c.loginURL(), c.Username, c.ClientID, c.InstanceURL, redacted(c.Password), redacted(c.ClientSecret), redacted(c.RefreshToken), redacted(c.AccessToken))
}

// GoString is String.
func (c LoginConfig) GoString() string { return c.String() }

func (c LoginConfig) flow() (Flow, error) {
	if c.Flow != "" {
		return c.Flow, nil
	}
	switch {
	case c.SFDXAuthURL != "":
		return FlowSFDXAuthURL, nil
	case c.AccessToken != "":
		return FlowAccessToken, nil
	case c.RefreshToken != "":
		return FlowRefreshToken, nil
	case c.PrivateKey != nil || len(c.PrivateKeyPEM) > 0 || c.PrivateKeyFile != "":
		return FlowJWT, nil
	case c.Username != "" && c.Password != "" && c.ClientID != "":
		return FlowPassword, nil
	case c.Username != "" && c.Password != "":
		return FlowSOAP, nil
	case c.ClientID != "" && c.ClientSecret != "":
		return FlowClientCredentials, nil
	}
	return "", errors.New("salesforce: LoginConfig: no credentials (set username/password, a refresh token, a private key, client id/secret, an access token or an SFDX auth URL)")
}

func (c LoginConfig) loginURL() string {
	if c.LoginURL == "" && c.Sandbox {
		return SandboxLoginURL
	}
	return c.LoginURL
}

// TokenSource returns the TokenSource for the configured flow.
func (c LoginConfig) TokenSource() (TokenSource, error) {
	flow, err := c.flow()
	if err != nil {
		return nil, err
	}
	switch flow {
	case FlowSOAP:
		return &SOAPLogin{LoginURL: c.loginURL(), Username: c.Username, Password: c.Password, SecurityToken: c.SecurityToken, HTTPClient: c.HTTPClient}, nil
	case FlowPassword:
		return &OAuthPassword{LoginURL: c.loginURL(), ClientID: c.ClientID, ClientSecret: c.ClientSecret, Username: c.Username, Password: c.Password, SecurityToken: c.SecurityToken, HTTPClient: c.HTTPClient}, nil
	case FlowRefreshToken:
		return &OAuthRefreshToken{LoginURL: c.loginURL(), ClientID: c.ClientID, ClientSecret: c.ClientSecret, RefreshToken: c.RefreshToken, HTTPClient: c.HTTPClient}, nil
	case FlowJWT:
		key := c.PrivateKey
		if key == nil {
			pemData := c.PrivateKeyPEM
			if len(pemData) == 0 {
				if c.PrivateKeyFile == "" {
					return nil, errors.New("salesforce: LoginConfig: JWT flow needs PrivateKey, PrivateKeyPEM or PrivateKeyFile")
				}
				b, err := os.ReadFile(c.PrivateKeyFile)
				if err != nil {
					return nil, fmt.Errorf("salesforce: LoginConfig: reading private key: %w", err)
				}
				pemData = b
			}
			k, err := ParsePrivateKeyPEM(pemData)
			if err != nil {
				return nil, err
			}
			key = k
		}
		return &JWTBearer{LoginURL: c.loginURL(), ClientID: c.ClientID, Username: c.Username, PrivateKey: key, HTTPClient: c.HTTPClient}, nil
	case FlowClientCredentials:
		return &ClientCredentials{LoginURL: c.loginURL(), ClientID: c.ClientID, ClientSecret: c.ClientSecret, HTTPClient: c.HTTPClient}, nil
	case FlowAccessToken:
		if c.InstanceURL == "" {
			return nil, errors.New("salesforce: LoginConfig: an access token needs InstanceURL")
		}
		return StaticToken{AccessToken: c.AccessToken, InstanceURL: c.InstanceURL}, nil
	case FlowSFDXAuthURL:
		src, err := ParseSFDXAuthURL(c.SFDXAuthURL)
		if err != nil {
			return nil, err
		}
		src.HTTPClient = c.HTTPClient
		return src, nil
	}
	return nil, fmt.Errorf("salesforce: LoginConfig: unknown flow %q", flow)
}

// Login logs in with cfg and returns a Client for the org, which renews the session through
// the same flow when it expires (except for a given access token). opts apply to the client
// after the settings cfg implies (HTTP client, API version).
func Login(ctx context.Context, cfg LoginConfig, opts ...Option) (*Client, error) {
	src, err := cfg.TokenSource()
	if err != nil {
		return nil, err
	}
	var all []Option
	if cfg.HTTPClient != nil {
		all = append(all, WithHTTPClient(cfg.HTTPClient))
	}
	if cfg.APIVersion != "" {
		all = append(all, WithAPIVersion(cfg.APIVersion))
	}
	all = append(all, opts...)
	return NewWithTokenSource(ctx, src, all...)
}
