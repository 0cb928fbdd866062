package salesforce

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Login hosts.
const (
	// ProductionLoginURL is where production and developer orgs log in.
	ProductionLoginURL = "https://login.salesforce.com"
	// SandboxLoginURL is where sandboxes log in.
	SandboxLoginURL = "https://test.salesforce.com"
)

// MaxLoginResponseBytes bounds how much of a login response is read.
const MaxLoginResponseBytes = 1 << 20

// SOAPLogin is a TokenSource that logs in with the SOAP API login() call: username, password
// and security token. Every Token call logs in again, so the client can renew an expired
// session. Salesforce does not offer login() from API 65.0 on, so SOAPLogin logs in at its own
// APIVersion (default MaxSOAPLoginAPIVersion, and never above it), whatever version the
// client's data calls use: the session works with every version. Salesforce disables login()
// by default in orgs created from Winter '26 on and retires it in Summer '27; when the org
// refuses it, Token returns a *SOAPLoginRefusedError naming the OAuth flows that replace it.
//
// A SOAPLogin is safe for concurrent use once configured.
type SOAPLogin struct {
	// LoginURL is ProductionLoginURL (the default when empty), SandboxLoginURL or a My Domain
	// URL such as "https://acme.my.salesforce.com".
	LoginURL string
	// Username, Password and SecurityToken of the user. The token is appended to the password,
	// as the API expects; leave it empty when the org trusts the caller's IP range.
	Username, Password, SecurityToken string
	// APIVersion of the SOAP endpoint; empty means MaxSOAPLoginAPIVersion. Versions above
	// MaxSOAPLoginAPIVersion log in at MaxSOAPLoginAPIVersion. It is independent of the
	// client's API version (LoginConfig does not pass its APIVersion here).
	APIVersion string
	// ClientName is sent in the CallOptions header; empty means none.
	ClientName string
	// HTTPClient; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// String describes the source without secrets.
func (s SOAPLogin) String() string {
	return fmt.Sprintf("SOAPLogin{LoginURL:%s, Username:%s, Password:%s}", s.LoginURL, s.Username, redacted(s.Password))
}

// GoString is String.
func (s SOAPLogin) GoString() string { return s.String() }

// Token logs in and returns the new session.
func (s *SOAPLogin) Token(ctx context.Context) (*Token, error) {
	if s.Username == "" || s.Password == "" {
		return nil, errors.New("salesforce: SOAP login: username and password are required")
	}
	ver, err := soapLoginVersion(s.APIVersion)
	if err != nil {
		return nil, err
	}
	base, err := loginBase(s.LoginURL)
	if err != nil {
		return nil, err
	}
	endpoint := base + "/services/Soap/u/" + ver
	body := soapLoginEnvelope(s.Username, s.Password+s.SecurityToken, s.ClientName)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("salesforce: SOAP login: %w", err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=UTF-8")
	req.Header.Set("SOAPAction", "login")
	req.Header.Set("Accept", "text/xml")
	resp, err := loginClient(s.HTTPClient).Do(req)
	if err != nil {
		return nil, &TransportError{Method: http.MethodPost, URL: sanitizeURL(endpoint), Err: redactURLError(err)}
	}
	defer resp.Body.Close()
	if e := checkResponse(resp, http.MethodPost, endpoint, errSOAP); e != nil {
		e.redact(s.Password+s.SecurityToken, s.Password, s.SecurityToken)
		return nil, soapLoginError(e)
	}
	data, _ := readLimited(resp.Body, MaxLoginResponseBytes)
	tok, valid, err := parseSOAPLoginResponse(data)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			apiErr.Method, apiErr.URL = http.MethodPost, sanitizeURL(endpoint)
			apiErr.redact(s.Password+s.SecurityToken, s.Password, s.SecurityToken)
			return nil, soapLoginError(apiErr)
		}
		return nil, fmt.Errorf("salesforce: SOAP login %s: %w", sanitizeURL(endpoint), err)
	}
	tok.IssuedAt = time.Now()
	if valid > 0 {
		tok.ExpiresAt = tok.IssuedAt.Add(valid)
	}
	return tok, nil
}

// MaxSOAPLoginAPIVersion is the newest API version whose SOAP endpoint offers login(). A
// SOAPLogin configured with a newer version logs in at this one; the session it gets works
// with every version.
const MaxSOAPLoginAPIVersion = "64.0"

// soapLoginVersion picks the SOAP endpoint version for login: v (default
// MaxSOAPLoginAPIVersion), capped at MaxSOAPLoginAPIVersion.
func soapLoginVersion(v string) (string, error) {
	if v == "" {
		v = MaxSOAPLoginAPIVersion
	}
	ver, err := normalizeAPIVersion(v)
	if err != nil {
		return "", err
	}
	f, _ := strconv.ParseFloat(ver, 64)
	if maxV, _ := strconv.ParseFloat(MaxSOAPLoginAPIVersion, 64); f > maxV {
		return MaxSOAPLoginAPIVersion, nil
	}
	return ver, nil
}

// soapLoginEnvelope builds the partner login() request.
func soapLoginEnvelope(username, password, client string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	b.WriteString(`<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">`)
	if client != "" {
		b.WriteString(`<env:Header><urn:CallOptions><urn:client>`)
		_ = xml.EscapeText(&b, []byte(client))
		b.WriteString(`</urn:client></urn:CallOptions></env:Header>`)
	} else {
		b.WriteString(`<env:Header/>`)
	}
	b.WriteString(`<env:Body><urn:login><urn:username>`)
	_ = xml.EscapeText(&b, []byte(username))
	b.WriteString(`</urn:username><urn:password>`)
	_ = xml.EscapeText(&b, []byte(password))
	b.WriteString(`</urn:password></urn:login></env:Body></env:Envelope>`)
	return b.Bytes()
}

// parseSOAPLoginResponse reads a loginResponse by local element names and returns the session
// and how long it is valid (0 if unknown). It returns an *APIError for a SOAP fault.
func parseSOAPLoginResponse(data []byte) (*Token, time.Duration, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var (
		stack         []string
		text          strings.Builder
		sawResponse   bool
		sawFault      bool
		sessionID     string
		serverURL     string
		userID, orgID string
		secondsValid  string
		pwExpired     string
	)
	for {
		t, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("malformed login response: %w", err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			text.Reset()
			switch t.Name.Local {
			case "loginResponse":
				sawResponse = true
			case "Fault":
				sawFault = true
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, 0, errors.New("malformed login response: unbalanced elements")
			}
			v := strings.TrimSpace(text.String())
			parent := ""
			if len(stack) >= 2 {
				parent = stack[len(stack)-2]
			}
			switch stack[len(stack)-1] {
			case "sessionId":
				sessionID = v
			case "serverUrl":
				serverURL = v
			case "userId":
				if userID == "" {
					userID = v
				}
			case "organizationId":
				if parent == "userInfo" {
					orgID = v
				}
			case "sessionSecondsValid":
				secondsValid = v
			case "passwordExpired":
				pwExpired = v
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
	if sawFault {
		e := parseErrorBody(http.StatusInternalServerError, "text/xml", data, false, errSOAP)
		return nil, 0, e
	}
	if !sawResponse {
		return nil, 0, errors.New("malformed login response: no loginResponse element")
	}
	if sessionID == "" || serverURL == "" {
		return nil, 0, errors.New("malformed login response: sessionId or serverUrl missing")
	}
	if pwExpired == "true" {
		return nil, 0, errors.New("the user's password has expired: change it before using the API")
	}
	u, err := url.Parse(serverURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, 0, errors.New("malformed login response: serverUrl is not an absolute URL")
	}
	tok := &Token{
		AccessToken:    sessionID,
		InstanceURL:    u.Scheme + "://" + u.Host,
		UserID:         userID,
		OrganizationID: orgID,
	}
	var valid time.Duration
	if n, err := strconv.Atoi(secondsValid); err == nil && n > 0 {
		valid = time.Duration(n) * time.Second
	}
	return tok, valid, nil
}

// loginBase normalizes a login URL to scheme://host, defaulting to ProductionLoginURL.
func loginBase(s string) (string, error) {
	if s == "" {
		return ProductionLoginURL, nil
	}
	u, err := normalizeInstanceURL(s)
	if err != nil {
		return "", fmt.Errorf("salesforce: login URL: %w", err)
	}
	return u, nil
}

func httpClientOr(hc *http.Client) *http.Client {
	if hc == nil {
		return http.DefaultClient
	}
	return hc
}

// loginClient returns a shallow copy of hc (http.DefaultClient if nil) for login requests,
// whose bodies carry passwords, secrets or assertions: it follows no redirect to another host,
// where a 307 or 308 would make net/http send the body again. The redirect response itself is
// returned, and becomes an error.
func loginClient(hc *http.Client) *http.Client {
	cp := *httpClientOr(hc)
	next := cp.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			return http.ErrUseLastResponse
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
