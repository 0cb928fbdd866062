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
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	corePassword = "p&ss<word>"
	coreSecToken = "SECTOKEN123"
	coreSecret   = "client-secret-xyz"
)

// soapLoginRequest is what the test server reads from a login() envelope, by local names.
type soapLoginRequest struct {
	Body struct {
		Login struct {
			Username string `xml:"username"`
			Password string `xml:"password"`
		} `xml:"login"`
	} `xml:"Body"`
}

// coreLoginServer serves SOAP login and the OAuth token endpoint the way Salesforce does, using
// the sample payloads, with the instance pointing back at itself. It also serves a query
// endpoint that accepts only the latest issued token.
type coreLoginServer struct {
	t      *testing.T
	srv    *httptest.Server
	logins atomic.Int32
	mu     sync.Mutex
	valid  string
	forms  []url.Values
	basic  []string
	jwtKey *rsa.PublicKey
}

func newCoreLoginServer(t *testing.T, tls bool) *coreLoginServer {
	s := &coreLoginServer{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/Soap/u/{ver}", s.soap)
	mux.HandleFunc("POST /services/oauth2/token", s.oauth)
	mux.HandleFunc("GET /services/data/{ver}/query", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		ok := r.Header.Get("Authorization") == "Bearer "+s.valid
		s.mu.Unlock()
		if !ok {
			coreRESTError(w, 401, "INVALID_SESSION_ID", "Session expired or invalid")
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		io.WriteString(w, `{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Contact","url":"/x/003A"},"Id":"003A"}]}`)
	})
	if tls {
		s.srv = httptest.NewTLSServer(mux)
	} else {
		s.srv = httptest.NewServer(mux)
	}
	t.Cleanup(s.srv.Close)
	return s
}

func (s *coreLoginServer) issue() string {
	n := s.logins.Add(1)
	tok := fmt.Sprintf("00D000000000001!SESSION-%d-SECRET", n)
	s.mu.Lock()
	s.valid = tok
	s.mu.Unlock()
	return tok
}

func (s *coreLoginServer) expire() {
	s.mu.Lock()
	s.valid = "none"
	s.mu.Unlock()
}

func (s *coreLoginServer) soap(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("SOAPAction") == "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/xml") {
		s.t.Errorf("SOAP login headers: SOAPAction %q, Content-Type %q", r.Header.Get("SOAPAction"), r.Header.Get("Content-Type"))
	}
	var req soapLoginRequest
	if err := xml.NewDecoder(r.Body).Decode(&req); err != nil {
		s.t.Errorf("decoding login envelope: %v", err)
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	if req.Body.Login.Username != "ada@example.com" || req.Body.Login.Password != corePassword+coreSecToken {
		w.WriteHeader(500)
		w.Write(coreTestdata(s.t, "auth-soap-login-fault-invalid-login.xml"))
		return
	}
	body := string(coreTestdata(s.t, "auth-soap-login-success.xml"))
	body = strings.ReplaceAll(body, "https://na15.salesforce.com", s.srv.URL)
	body = strings.Replace(body, "<sessionId>12345</sessionId>", "<sessionId>"+s.issue()+"</sessionId>", 1)
	io.WriteString(w, body)
}

func (s *coreLoginServer) oauth(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		s.t.Errorf("token request Content-Type %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		s.t.Error(err)
	}
	user, pass, hasBasic := r.BasicAuth()
	s.mu.Lock()
	s.forms = append(s.forms, r.PostForm)
	if hasBasic {
		s.basic = append(s.basic, user+":"+pass)
	}
	key := s.jwtKey
	s.mu.Unlock()
	f := r.PostForm
	fail := func(sample string) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(400)
		w.Write(coreTestdata(s.t, sample))
	}
	switch f.Get("grant_type") {
	case "password":
		if f.Get("client_id") != "cid" {
			fail("auth-oauth2-token-error-invalid-client-id.json")
			return
		}
		if f.Get("password") != corePassword+coreSecToken || f.Get("client_secret") != coreSecret {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"authentication failure"}`)
			return
		}
	case "refresh_token":
		if f.Get("refresh_token") != "5Aep861REFRESH" {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"expired access/refresh token"}`)
			return
		}
	case "client_credentials":
		if !(f.Get("client_id") == "cid" && f.Get("client_secret") == coreSecret) && !(user == "cid" && pass == coreSecret) {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_client","error_description":"invalid client credentials"}`)
			return
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if err := verifyJWT(f.Get("assertion"), key); err != nil {
			s.t.Logf("jwt: %v", err)
			fail("auth-oauth2-token-error-user-not-approved.json")
			return
		}
	default:
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"unsupported_grant_type","error_description":"grant type not supported"}`)
		return
	}
	var resp map[string]any
	if err := json.Unmarshal(coreTestdata(s.t, "auth-oauth2-token-success.json"), &resp); err != nil {
		s.t.Fatal(err)
	}
	resp["access_token"] = s.issue()
	resp["instance_url"] = s.srv.URL
	resp["issued_at"] = "1712345678901"
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	json.NewEncoder(w).Encode(resp)
}

// verifyJWT checks an RS256 assertion the way Salesforce does.
func verifyJWT(assertion string, key *rsa.PublicKey) error {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 || key == nil {
		return errors.New("not a JWT")
	}
	var header struct{ Alg string }
	var claims struct {
		Iss, Sub, Aud string
		Exp           int64
	}
	for i, v := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, v); err != nil {
			return err
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		return err
	}
	if header.Alg != "RS256" || claims.Iss != "cid" || claims.Sub != "ada@example.com" || claims.Aud != ProductionLoginURL {
		return fmt.Errorf("claims %+v", claims)
	}
	if d := time.Until(time.Unix(claims.Exp, 0)); d <= 0 || d > 5*time.Minute {
		return fmt.Errorf("exp %v from now", d)
	}
	return nil
}

func coreRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestLoginFlows(t *testing.T) {
	t.Parallel()
	key := coreRSAKey(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemPKCS8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	pemPKCS1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})

	tests := []struct {
		name     string
		cfg      func(loginURL string) LoginConfig
		wantFlow Flow
		wantForm url.Values // subset of the token request form
	}{
		{name: "soap", wantFlow: FlowSOAP, cfg: func(u string) LoginConfig {
			return LoginConfig{LoginURL: u, Username: "ada@example.com", Password: corePassword, SecurityToken: coreSecToken}
		}},
		{name: "oauth password", wantFlow: FlowPassword, cfg: func(u string) LoginConfig {
			return LoginConfig{LoginURL: u, ClientID: "cid", ClientSecret: coreSecret, Username: "ada@example.com", Password: corePassword, SecurityToken: coreSecToken}
		}, wantForm: url.Values{"grant_type": {"password"}, "username": {"ada@example.com"}}},
		{name: "refresh token", wantFlow: FlowRefreshToken, cfg: func(u string) LoginConfig {
			return LoginConfig{LoginURL: u, ClientID: "cid", RefreshToken: "5Aep861REFRESH"}
		}, wantForm: url.Values{"grant_type": {"refresh_token"}, "client_id": {"cid"}}},
		{name: "client credentials", wantFlow: FlowClientCredentials, cfg: func(u string) LoginConfig {
			return LoginConfig{LoginURL: u, ClientID: "cid", ClientSecret: coreSecret}
		}, wantForm: url.Values{"grant_type": {"client_credentials"}, "client_id": {"cid"}}},
		{name: "jwt pkcs8", wantFlow: FlowJWT, cfg: func(u string) LoginConfig {
			return LoginConfig{LoginURL: u, ClientID: "cid", Username: "ada@example.com", PrivateKeyPEM: pemPKCS8}
		}, wantForm: url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}}},
		{name: "jwt pkcs1", wantFlow: FlowJWT, cfg: func(u string) LoginConfig {
			return LoginConfig{LoginURL: u, ClientID: "cid", Username: "ada@example.com", PrivateKeyPEM: pemPKCS1}
		}},
		{name: "sfdx auth url", wantFlow: FlowSFDXAuthURL, cfg: func(u string) LoginConfig {
			return LoginConfig{SFDXAuthURL: "force://cid::5Aep861REFRESH@" + strings.TrimPrefix(u, "https://")}
		}, wantForm: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"5Aep861REFRESH"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newCoreLoginServer(t, true)
			s.jwtKey = &key.PublicKey
			cfg := tt.cfg(s.srv.URL)
			cfg.HTTPClient = s.srv.Client()
			if f, err := cfg.flow(); err != nil || f != tt.wantFlow {
				t.Fatalf("flow = %q, %v; want %q", f, err, tt.wantFlow)
			}
			c, err := Login(t.Context(), cfg, WithRetry(coreFastRetry()))
			if err != nil {
				t.Fatalf("Login: %v", err)
			}
			if c.InstanceURL() != s.srv.URL {
				t.Errorf("InstanceURL = %q, want %q", c.InstanceURL(), s.srv.URL)
			}
			n := 0
			for rec, err := range c.Query(t.Context(), "SELECT Id FROM Contact") {
				if err != nil {
					t.Fatal(err)
				}
				if rec.ID() != "003A" {
					t.Errorf("record %v", rec.ID())
				}
				n++
			}
			if n != 1 {
				t.Errorf("records = %d", n)
			}
			// The session expires: the client logs in again through the same flow.
			s.expire()
			for _, err := range c.Query(t.Context(), "SELECT Id FROM Contact") {
				if err != nil {
					t.Fatalf("after expiry: %v", err)
				}
			}
			if got := s.logins.Load(); got != 2 {
				t.Errorf("logins = %d, want 2", got)
			}
			if tt.wantForm != nil {
				s.mu.Lock()
				form := s.forms[0]
				s.mu.Unlock()
				for k, v := range tt.wantForm {
					if diff := cmp.Diff(v, form[k]); diff != "" {
						if isSensitiveParam(k) {
							t.Errorf("form %s differs (value not shown: secret)", k)
						} else {
							t.Errorf("form %s (-want +got):\n%s", k, diff)
						}
					}
				}
			}
		})
	}
}

func TestLoginErrors(t *testing.T) {
	t.Parallel()
	s := newCoreLoginServer(t, false)
	tests := []struct {
		name     string
		cfg      LoginConfig
		wantCode string
		wantMsg  string
		status   int
	}{
		{name: "soap invalid login", cfg: LoginConfig{Username: "ada@example.com", Password: "wrong-" + corePassword}, wantCode: "INVALID_LOGIN", wantMsg: "Invalid username, password, security token; or user locked out.", status: 500},
		{name: "oauth invalid client", cfg: LoginConfig{ClientID: "nope", ClientSecret: coreSecret, Username: "u", Password: corePassword}, wantCode: "invalid_client_id", wantMsg: "client identifier invalid", status: 400},
		{name: "oauth bad password", cfg: LoginConfig{ClientID: "cid", ClientSecret: coreSecret, Username: "u", Password: corePassword}, wantCode: "invalid_grant", wantMsg: "authentication failure", status: 400},
		{name: "refresh expired", cfg: LoginConfig{ClientID: "cid", RefreshToken: "stale-" + corePassword}, wantCode: "invalid_grant", wantMsg: "expired access/refresh token", status: 400},
		{name: "client credentials", cfg: LoginConfig{ClientID: "cid", ClientSecret: "wrong-" + corePassword}, wantCode: "invalid_client", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.LoginURL = s.srv.URL
			_, err := Login(t.Context(), tt.cfg)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.ErrorCode != tt.wantCode || apiErr.StatusCode != tt.status || (tt.wantMsg != "" && apiErr.Message != tt.wantMsg) {
				t.Errorf("got %d %q %q, want %d %q %q", apiErr.StatusCode, apiErr.ErrorCode, apiErr.Message, tt.status, tt.wantCode, tt.wantMsg)
			}
			if strings.Contains(err.Error(), corePassword) || strings.Contains(err.Error(), coreSecret) {
				t.Errorf("secret in error: %v", err)
			}
		})
	}
	t.Run("no credentials", func(t *testing.T) {
		t.Parallel()
		if _, err := Login(t.Context(), LoginConfig{}); err == nil || !strings.Contains(err.Error(), "no credentials") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("access token needs instance", func(t *testing.T) {
		t.Parallel()
		if _, err := Login(t.Context(), LoginConfig{AccessToken: "x"}); err == nil || !strings.Contains(err.Error(), "InstanceURL") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestSOAPLoginRequest(t *testing.T) {
	t.Parallel()
	var got struct {
		path, action, ctype string
		req                 soapLoginRequest
		raw                 string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.path, got.action, got.ctype, got.raw = r.URL.Path, r.Header.Get("SOAPAction"), r.Header.Get("Content-Type"), string(b)
		if err := xml.Unmarshal(b, &got.req); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.Write(coreTestdata(t, "auth-soap-login-success.xml"))
	}))
	defer srv.Close()
	src := &SOAPLogin{LoginURL: srv.URL + "/ignored/path", Username: "a&b@example.com", Password: corePassword, SecurityToken: coreSecToken, APIVersion: "59.0", ClientName: "sfbatch"}
	tok, err := src.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.path != "/services/Soap/u/59.0" || got.action != "login" || !strings.HasPrefix(got.ctype, "text/xml") {
		t.Errorf("request %s SOAPAction=%q Content-Type=%q", got.path, got.action, got.ctype)
	}
	if got.req.Body.Login.Username != "a&b@example.com" || got.req.Body.Login.Password != corePassword+coreSecToken {
		t.Errorf("envelope credentials not round-tripped (username %q; password not shown)", got.req.Body.Login.Username)
	}
	if !strings.Contains(got.raw, `xmlns:urn="urn:partner.soap.sforce.com"`) {
		t.Errorf("envelope lacks the partner namespace: %s", got.raw)
	}
	if tok.AccessToken != "12345" || tok.InstanceURL != "https://na15.salesforce.com" || tok.UserID != "005i0000002MUqLAAW" || tok.OrganizationID != "00Di0000000icUBEAY" {
		t.Errorf("token = %+v %s %s", tok, tok.UserID, tok.OrganizationID)
	}
	if d := tok.ExpiresAt.Sub(tok.IssuedAt); d != 7200*time.Second {
		t.Errorf("session length = %v", d)
	}
}

func TestSOAPLoginVersion(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"", MaxSOAPLoginAPIVersion}, {"59.0", "59.0"}, {"64", "64.0"}, {"65.0", "64.0"}, {"v66.0", "64.0"},
	} {
		if got, err := soapLoginVersion(tt.in); err != nil || got != tt.want {
			t.Errorf("soapLoginVersion(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := soapLoginVersion("20.0"); err == nil {
		t.Error("retired version accepted")
	}
}

func TestParseSOAPLoginResponse(t *testing.T) {
	t.Parallel()
	ok := string(coreTestdata(t, "auth-soap-login-success.xml"))
	tests := []struct {
		name, body string
		wantErr    string
		wantCode   string
	}{
		{name: "sample", body: ok},
		{name: "partner prefixes", body: `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><p:loginResponse xmlns:p="urn:partner.soap.sforce.com"><p:result><p:serverUrl>https://x.my.salesforce.com/services/Soap/u/62.0/00D</p:serverUrl><p:sessionId>S</p:sessionId></p:result></p:loginResponse></s:Body></s:Envelope>`},
		{name: "fault", body: string(coreTestdata(t, "auth-soap-login-fault-invalid-login.xml")), wantCode: "INVALID_LOGIN"},
		{name: "password expired", body: strings.Replace(ok, "<passwordExpired>false", "<passwordExpired>true", 1), wantErr: "password has expired"},
		{name: "no session", body: strings.Replace(ok, "<sessionId>12345</sessionId>", "", 1), wantErr: "sessionId or serverUrl missing"},
		{name: "relative serverUrl", body: strings.Replace(ok, "https://na15.salesforce.com/services/Soap/c", "/services/Soap/c", 1), wantErr: "not an absolute URL"},
		{name: "not xml", body: `{"a":1}`, wantErr: "no loginResponse"},
		{name: "truncated", body: ok[:200], wantErr: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, _, err := parseSOAPLoginResponse([]byte(tt.body))
			switch {
			case tt.wantCode != "":
				if !IsErrorCode(err, tt.wantCode) {
					t.Errorf("err = %v, want code %s", err, tt.wantCode)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
			default:
				if err != nil || tok.AccessToken == "" || !strings.HasPrefix(tok.InstanceURL, "https://") {
					t.Errorf("tok = %v, err = %v", tok, err)
				}
			}
		})
	}
}

func FuzzParseSOAPLoginResponse(f *testing.F) {
	f.Add(coreTestdata(f, "auth-soap-login-success.xml"))
	f.Add(coreTestdata(f, "auth-soap-login-fault-invalid-login.xml"))
	f.Add([]byte(`<loginResponse><result><serverUrl>http://h</serverUrl><sessionId>s</sessionId></result></loginResponse>`))
	f.Add([]byte(`<a><b></a>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, _, err := parseSOAPLoginResponse(data)
		if err == nil {
			if tok == nil || tok.AccessToken == "" {
				t.Fatalf("no error but token %v", tok)
			}
			if u, perr := url.Parse(tok.InstanceURL); perr != nil || u.Host == "" {
				t.Fatalf("instance URL %q", tok.InstanceURL)
			}
		}
	})
}

func TestParseSFDXAuthURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want *OAuthRefreshToken
	}{
		{"force://PlatformCLI::5Aep861abc.def@acme.my.salesforce.com", &OAuthRefreshToken{LoginURL: "https://acme.my.salesforce.com", ClientID: "PlatformCLI", RefreshToken: "5Aep861abc.def"}},
		{"force://cid:sec:5Aep:with:colons@https://acme--dev.sandbox.my.salesforce.com", &OAuthRefreshToken{LoginURL: "https://acme--dev.sandbox.my.salesforce.com", ClientID: "cid", ClientSecret: "sec", RefreshToken: "5Aep:with:colons"}},
		{"force://cid:sec@host", nil},
		{"https://cid::tok@host", nil},
		{"force://cid::tok@", nil},
		{"force://::tok@host", nil},
	}
	for _, tt := range tests {
		got, err := ParseSFDXAuthURL(tt.in)
		if tt.want == nil {
			if err == nil {
				t.Errorf("ParseSFDXAuthURL(%q): no error", tt.in)
			} else if strings.Contains(err.Error(), "tok") && strings.Contains(tt.in, "tok") && strings.Contains(err.Error(), tt.in) {
				t.Errorf("error echoes the secret: %v", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSFDXAuthURL(%q): %v", tt.in, err)
			continue
		}
		if *got != *tt.want {
			t.Errorf("ParseSFDXAuthURL(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestClientCredentialsBasicAuth(t *testing.T) {
	t.Parallel()
	s := newCoreLoginServer(t, false)
	src := &ClientCredentials{LoginURL: s.srv.URL, ClientID: "cid", ClientSecret: coreSecret, BasicAuth: true}
	if _, err := src.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.basic) != 1 || s.basic[0] != "cid:"+coreSecret || s.forms[0].Get("client_secret") != "" {
		t.Errorf("basic auth sent %d times (want 1, as cid:secret), client_secret in form %v", len(s.basic), s.forms[0].Get("client_secret") != "")
	}
}

func TestJWTAssertion(t *testing.T) {
	t.Parallel()
	key := coreRSAKey(t)
	now := time.Unix(1712345678, 0)
	for _, tt := range []struct {
		login, wantAud string
	}{
		{"", ProductionLoginURL},
		{SandboxLoginURL, SandboxLoginURL},
		{"https://acme--dev.sandbox.my.salesforce.com", SandboxLoginURL},
		{"https://acme.my.salesforce.com", ProductionLoginURL},
	} {
		j := &JWTBearer{LoginURL: tt.login, ClientID: "cid", Username: "ada@example.com", PrivateKey: key, Now: func() time.Time { return now }}
		a, err := j.Assertion()
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(a, ".")
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims map[string]any
		if err := json.Unmarshal(b, &claims); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"iss": "cid", "sub": "ada@example.com", "aud": tt.wantAud, "exp": float64(now.Add(DefaultJWTLifetime).Unix())}
		if diff := cmp.Diff(want, claims); diff != "" {
			t.Errorf("login %q claims (-want +got):\n%s", tt.login, diff)
		}
	}
	if _, err := ParsePrivateKeyPEM([]byte("not pem")); err == nil {
		t.Error("ParsePrivateKeyPEM accepted garbage")
	}
}

func TestStaticTokenExpiry(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	_, c := coreServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		coreRESTError(w, 401, "INVALID_SESSION_ID", "Session expired or invalid")
	}))
	_, err := c.Limits(t.Context())
	if !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("err = %v, want ErrSessionExpired", err)
	}
	if !IsErrorCode(err, "INVALID_SESSION_ID") {
		t.Errorf("err = %v, want it to keep the INVALID_SESSION_ID *APIError", err)
	}
	if calls.Load() != 1 {
		t.Errorf("calls = %d, want 1 (no retry with a token known to be bad)", calls.Load())
	}
	if strings.Contains(err.Error(), "SECRET-TOKEN") {
		t.Errorf("token in error: %v", err)
	}
}

// countingSource issues tok-1, tok-2, … and counts logins.
type countingSource struct {
	n     atomic.Int32
	delay chan struct{} // if non-nil, each Token call waits for it to close
}

func (s *countingSource) Token(ctx context.Context) (*Token, error) {
	if s.delay != nil {
		select {
		case <-s.delay:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &Token{AccessToken: fmt.Sprintf("tok-%d", s.n.Add(1))}, nil
}

func TestRefreshSingleFlight(t *testing.T) {
	t.Parallel()
	for _, shape := range []string{"rest-401", "bulk1-xml", "bulk1-json"} {
		t.Run(shape, func(t *testing.T) {
			t.Parallel()
			var valid atomic.Value
			valid.Store("tok-2") // tok-1 is issued already expired
			var rejected atomic.Int32
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got := r.Header.Get("X-SFDC-Session")
				if shape == "rest-401" {
					got = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
				}
				if got != valid.Load().(string) {
					rejected.Add(1)
					switch shape {
					case "rest-401":
						coreRESTError(w, 401, "INVALID_SESSION_ID", "Session expired or invalid")
					case "bulk1-xml":
						w.Header().Set("Content-Type", "application/xml")
						w.WriteHeader(400)
						io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><error xmlns="http://www.force.com/2009/06/asyncapi/dataload"><exceptionCode>InvalidSessionId</exceptionCode><exceptionMessage>Invalid session id</exceptionMessage></error>`)
					case "bulk1-json":
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(400)
						io.WriteString(w, `{"exceptionCode":"InvalidSessionId","exceptionMessage":"Invalid session id"}`)
					}
					return
				}
				io.WriteString(w, `{}`)
			}))
			defer srv.Close()
			src := &countingSource{delay: make(chan struct{})}
			c, err := New(srv.URL, WithHTTPClient(srv.Client()), WithTokenSource(src), WithRetry(coreFastRetry()))
			if err != nil {
				t.Fatal(err)
			}
			r := func() *request {
				if shape == "rest-401" {
					return &request{method: "GET", path: "/services/data/v62.0/limits"}
				}
				return &request{method: "GET", path: "/services/async/62.0/job/750x", auth: authSession, errFormat: errBulk1}
			}
			const n = 16
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range n {
				wg.Go(func() { errs <- c.doJSON(t.Context(), r(), nil, nil) })
			}
			close(src.delay) // all goroutines are queued on the first login by now or soon
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("request: %v", err)
				}
			}
			if got := src.n.Load(); got != 2 {
				t.Errorf("logins = %d, want 2 (first login + one refresh)", got)
			}
			if rejected.Load() < 1 {
				t.Error("no request was rejected: the test did not exercise refresh")
			}
			// A second expiry is refreshed again (once per expiry, not once per client).
			valid.Store("tok-3")
			if err := c.doJSON(t.Context(), r(), nil, nil); err != nil {
				t.Fatal(err)
			}
			if got := src.n.Load(); got != 3 {
				t.Errorf("logins = %d, want 3", got)
			}
		})
	}
}

func TestRefreshFailsOnce(t *testing.T) {
	t.Parallel()
	// The server rejects every token: the client refreshes once, then gives up.
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		coreRESTError(w, 401, "INVALID_SESSION_ID", "Session expired or invalid")
	}))
	defer srv.Close()
	src := &countingSource{}
	c, err := New(srv.URL, WithTokenSource(src), WithRetry(coreFastRetry()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Versions(t.Context())
	if !IsErrorCode(err, "INVALID_SESSION_ID") || calls.Load() != 2 || src.n.Load() != 2 {
		t.Errorf("err = %v, calls = %d, logins = %d; want INVALID_SESSION_ID after 2 calls, 2 logins", err, calls.Load(), src.n.Load())
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	t.Parallel()
	tok := &Token{AccessToken: "00D!SECRET-TOKEN", RefreshToken: "REFRESH-SECRET", InstanceURL: "https://x"}
	key := coreRSAKey(t)
	values := []any{
		tok, *tok,
		StaticToken{AccessToken: "00D!SECRET-TOKEN"},
		&SOAPLogin{Username: "u", Password: "SECRET-PASSWORD"},
		&OAuthPassword{Password: "SECRET-PASSWORD", ClientSecret: "SECRET-CS"},
		&OAuthRefreshToken{RefreshToken: "REFRESH-SECRET", ClientSecret: "SECRET-CS"},
		&ClientCredentials{ClientSecret: "SECRET-CS"},
		&JWTBearer{PrivateKey: key},
		LoginConfig{Password: "SECRET-PASSWORD", AccessToken: "00D!SECRET-TOKEN", ClientSecret: "SECRET-CS", RefreshToken: "REFRESH-SECRET", SFDXAuthURL: "force://a::REFRESH-SECRET@h", PrivateKeyPEM: []byte("SECRET-PEM")},
		// Values, not only pointers: a source stored by value (or inside another struct
		// that is printed) must not reveal its secrets either.
		SOAPLogin{Username: "u", Password: "SECRET-PASSWORD", SecurityToken: "SECRET-ST"},
		OAuthPassword{Password: "SECRET-PASSWORD", ClientSecret: "SECRET-CS", SecurityToken: "SECRET-ST"},
		OAuthRefreshToken{RefreshToken: "REFRESH-SECRET", ClientSecret: "SECRET-CS"},
		ClientCredentials{ClientSecret: "SECRET-CS"},
		JWTBearer{PrivateKey: key},
		struct{ Source OAuthPassword }{OAuthPassword{Password: "SECRET-PASSWORD"}},
	}
	for _, v := range values {
		for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
			s := fmt.Sprintf(format, v)
			if strings.Contains(s, "SECRET") || strings.Contains(s, key.D.String()) {
				t.Errorf("%T printed with %s reveals a secret: %s", v, format, s)
			}
		}
	}
}

// TestLoginErrorsRedactEchoedSecrets answers every login with an error that
// quotes the request it got (form values or SOAP envelope), as a misbehaving
// proxy or server might: no secret may reach the error.
func TestLoginErrorsRedactEchoedSecrets(t *testing.T) {
	t.Parallel()
	const (
		password = "Pass-Word-1"
		token    = "SecTok-9876"
		secret   = "Client-Secret-5"
		refresh  = "Refresh-Tok-3"
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		msg := string(b)
		if f, err := url.ParseQuery(msg); err == nil && strings.Contains(r.Header.Get("Content-Type"), "form") {
			msg = ""
			for k, v := range f {
				msg += k + "=" + strings.Join(v, ",") + " "
			}
		}
		if strings.HasPrefix(r.URL.Path, "/services/Soap/") {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(500)
			fmt.Fprintf(w, `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: bad %s</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`, html.EscapeString(msg))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "bad " + msg})
	}))
	defer srv.Close()
	sources := []TokenSource{
		&SOAPLogin{LoginURL: srv.URL, Username: "u", Password: password, SecurityToken: token},
		&OAuthPassword{LoginURL: srv.URL, ClientID: "cid", ClientSecret: secret, Username: "u", Password: password, SecurityToken: token},
		&OAuthRefreshToken{LoginURL: srv.URL, ClientID: "cid", ClientSecret: secret, RefreshToken: refresh},
		&ClientCredentials{LoginURL: srv.URL, ClientID: "cid", ClientSecret: secret},
	}
	for _, src := range sources {
		_, err := src.Token(t.Context())
		if err == nil {
			t.Fatalf("%v: no error", src)
		}
		if !strings.Contains(err.Error(), "bad") {
			t.Errorf("%v: error does not carry the server's message", src)
		}
		for _, s := range []string{password, token, secret, refresh} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%v: error reveals a secret (%d bytes)", src, len(s))
			}
		}
	}
}

// TestLoginDoesNotFollowRedirectToAnotherHost checks that a login request,
// whose body carries the password or client secret, is not sent again to
// another host by a 307 or 308 redirect.
func TestLoginDoesNotFollowRedirectToAnotherHost(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(true)
		http.Error(w, "no", http.StatusBadRequest)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	for _, src := range []TokenSource{
		&OAuthPassword{LoginURL: srv.URL, ClientID: "cid", ClientSecret: "Client-Secret-5", Username: "u", Password: "Pass-Word-1"},
		&SOAPLogin{LoginURL: srv.URL, Username: "u", Password: "Pass-Word-1"},
	} {
		if _, err := src.Token(t.Context()); err == nil {
			t.Errorf("%v: no error", src)
		}
	}
	if leaked.Load() {
		t.Error("login credentials were sent to the redirect target on another host")
	}
}
