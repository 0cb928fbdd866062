package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// traceLogin is a SOAP login request exactly as a client sent it in a
// recorded trace (testdata/soap-login-*.xml, from the protocol reference's
// traces with the credentials replaced by placeholders).
type traceLogin struct {
	file   string
	header map[string]string
}

var traceLogins = []traceLogin{
	{"soap-login-jsforce.xml", map[string]string{"Content-Type": "text/xml", "SOAPAction": `""`}},
	{"soap-login-simple-salesforce.xml", map[string]string{"content-type": "text/xml", "charset": "UTF-8", "SOAPAction": "login"}},
}

// body returns the recorded body with username and password filled in.
func (tl traceLogin) body(t *testing.T, username, password string) string {
	t.Helper()
	b, err := readTestdata(tl.file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("{{USERNAME}}", username, "{{PASSWORD}}", password).Replace(string(b))
}

func TestSOAPLoginReplaysTraces(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	u := DefaultUser()
	for _, tl := range traceLogins {
		t.Run(tl.file, func(t *testing.T) {
			t.Parallel()
			body, hdr := tl.body(t, u.Username, u.Password+u.SecurityToken), tl.header
			for _, base := range []string{s.URL(), s.HTTPURL()} {
				r := do(t, s.Client(), "POST", base+"/services/Soap/u/62.0", hdr, strings.NewReader(body))
				if r.status != 200 || r.header.Get("Content-Type") != "text/xml;charset=UTF-8" {
					t.Fatalf("status %d %q: %s", r.status, r.header.Get("Content-Type"), r.body)
				}
				// Unprefixed elements, extracted the way jsforce does (regex).
				get := func(tag string) string {
					m := regexp.MustCompile("<" + tag + ">([^<]+)</" + tag + ">").FindStringSubmatch(r.body)
					if m == nil {
						t.Fatalf("no <%s> in %s", tag, r.body)
					}
					return m[1]
				}
				if got, want := get("serverUrl"), base+"/services/Soap/u/62.0/"+DefaultOrgID[:15]; got != want {
					t.Errorf("serverUrl = %s, want %s", got, want)
				}
				if get("passwordExpired") != "false" || get("organizationId") != DefaultOrgID {
					t.Errorf("passwordExpired/organizationId wrong: %s", r.body)
				}
				uid, _ := s.UserID(u.Username)
				if get("userId") != uid {
					t.Errorf("userId = %s, want %s", get("userId"), uid)
				}
				if !strings.Contains(r.body, `xmlns="urn:partner.soap.sforce.com"`) {
					t.Errorf("not the partner namespace: %s", r.body)
				}
				sid := get("sessionId")
				if !strings.HasPrefix(sid, DefaultOrgID[:15]+"!") {
					t.Errorf("sessionId %q lacks the org prefix", sid)
				}
				q := do(t, s.Client(), "GET", base+"/services/data/v62.0/query/?q=SELECT+Id+FROM+Contact+LIMIT+1", bearer(sid), nil)
				if q.status != 200 || q.body != `{"totalSize":0,"done":true,"records":[]}` {
					t.Errorf("query with session: %d %s", q.status, q.body)
				}
			}
		})
	}
}

func TestSOAPLoginFault(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tl := traceLogins[1]
	body, hdr := tl.body(t, DefaultUsername, "wrong"), tl.header
	r := do(t, s.Client(), "POST", s.URL()+"/services/Soap/u/59.0", hdr, strings.NewReader(body))
	want := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`
	if r.status != 500 || r.header.Get("Content-Type") != "text/xml;charset=UTF-8" || r.body != want {
		t.Errorf("fault: %d %q\n%s", r.status, r.header.Get("Content-Type"), r.body)
	}
	// The sample differs only in the (real) sf: prefix on faultcode.
	sample, err := os.ReadFile("testdata/auth-soap-login-fault-invalid-login.xml")
	if err != nil {
		t.Fatal(err)
	}
	{
		if got := strings.Replace(strings.TrimSpace(string(sample)), "<faultcode>INVALID_LOGIN", "<faultcode>sf:INVALID_LOGIN", 1); got != want {
			t.Errorf("fault differs from sample:\n got %s\nwant %s", want, got)
		}
	}
}

func TestSOAPEnterpriseAndLogout(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	u := DefaultUser()
	body := `<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:enterprise.soap.sforce.com"><soapenv:Body><urn:login><urn:username>` +
		u.Username + `</urn:username><urn:password>` + u.Password + u.SecurityToken + `</urn:password></urn:login></soapenv:Body></soapenv:Envelope>`
	r := do(t, s.Client(), "POST", s.URL()+"/services/Soap/c/60.0", map[string]string{"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"}, strings.NewReader(body))
	if r.status != 200 || !strings.Contains(r.body, `xmlns="urn:enterprise.soap.sforce.com"`) ||
		!strings.Contains(r.body, "<serverUrl>"+s.URL()+"/services/Soap/c/60.0/"+DefaultOrgID[:15]+"</serverUrl>") ||
		!strings.Contains(r.body, "<sessionSecondsValid>7200</sessionSecondsValid>") {
		t.Fatalf("enterprise login: %d %s", r.status, r.body)
	}
	sid := regexp.MustCompile(`<sessionId>([^<]+)</sessionId>`).FindStringSubmatch(r.body)[1]
	logout := `<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header><SessionHeader xmlns="urn:partner.soap.sforce.com"><sessionId>` + sid +
		`</sessionId></SessionHeader></se:Header><se:Body><logout xmlns="urn:partner.soap.sforce.com"/></se:Body></se:Envelope>`
	r = do(t, s.Client(), "POST", s.URL()+"/services/Soap/u/60.0", map[string]string{"Content-Type": "text/xml"}, strings.NewReader(logout))
	if r.status != 200 || !strings.Contains(r.body, "<logoutResponse/>") {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	if q := do(t, s.Client(), "GET", s.URL()+"/services/data/v60.0/limits", bearer(sid), nil); q.status != 401 {
		t.Errorf("session still valid after logout: %d", q.status)
	}
	r = do(t, s.Client(), "POST", s.URL()+"/services/Soap/u/60.0", map[string]string{"Content-Type": "text/xml"}, strings.NewReader(logout))
	if r.status != 500 || !strings.Contains(r.body, "<faultcode>sf:INVALID_SESSION_ID</faultcode>") {
		t.Errorf("second logout: %d %s", r.status, r.body)
	}
}

func TestSOAPLoginRefusals(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	u := DefaultUser()
	body := `<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Body><login xmlns="urn:partner.soap.sforce.com"><username>` +
		u.Username + `</username><password>` + u.Password + u.SecurityToken + `</password></login></se:Body></se:Envelope>`
	login := func(ver string) response {
		return do(t, s.Client(), "POST", s.URL()+"/services/Soap/u/"+ver, nil, strings.NewReader(body))
	}
	// API 65.0 and later never offer login().
	for _, ver := range []string{"65.0", "66.0"} {
		r := login(ver)
		want := "<faultcode>sf:INVALID_OPERATION</faultcode><faultstring>INVALID_OPERATION: The SOAP Login operation is not available in the API version specified (" + ver + "). Refer to the documentation for supported versions.</faultstring>"
		if r.status != 500 || !strings.Contains(r.body, want) || !strings.Contains(r.body, "<sf:exceptionCode>INVALID_OPERATION</sf:exceptionCode>") {
			t.Errorf("login at %s: %d %s", ver, r.status, r.body)
		}
	}
	if r := login("64.0"); r.status != 200 {
		t.Errorf("64.0: %d %s", r.status, r.body)
	}
	// The org setting, turned off through the control endpoint, refuses every version.
	sid := mustToken(t, s)
	set := func(enabled string) response {
		return do(t, s.Client(), "POST", s.URL()+ControlPrefix+"settings/soap-login", bearer(sid), strings.NewReader(`{"enabled":`+enabled+`}`))
	}
	if r := set("false"); r.status != 200 || strings.TrimSpace(r.body) != `{"enabled":false}` {
		t.Fatalf("control: %d %s", r.status, r.body)
	}
	r := login("64.0")
	if r.status != 500 || !strings.Contains(r.body, "INVALID_OPERATION: SOAP API login() is disabled by default in this org. Contact the org administrator to enable SOAP API login().") {
		t.Errorf("disabled org: %d %s", r.status, r.body)
	}
	if q := do(t, s.Client(), "GET", s.URL()+"/services/data/v60.0/limits", bearer(sid), nil); q.status != 200 {
		t.Errorf("existing session refused after the setting changed: %d", q.status)
	}
	set("true")
	if r := login("60.0"); r.status != 200 {
		t.Errorf("re-enabled: %d %s", r.status, r.body)
	}
	off, _ := newTestServer(t, func(c *Config) { c.SOAPLoginDisabled = true })
	if r := do(t, off.Client(), "POST", off.URL()+"/services/Soap/u/60.0", nil, strings.NewReader(body)); r.status != 500 || !strings.Contains(r.body, "disabled by default in this org") {
		t.Errorf("Config.SOAPLoginDisabled: %d %s", r.status, r.body)
	}
}

func postForm(t *testing.T, s *Server, base string, form url.Values, hdr map[string]string) response {
	t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range hdr {
		h[k] = v
	}
	return do(t, s.Client(), "POST", base+"/services/oauth2/token", h, strings.NewReader(form.Encode()))
}

// checkToken verifies a token response and that the token works.
func checkToken(t *testing.T, s *Server, base string, r response) {
	t.Helper()
	if r.status != 200 || r.header.Get("Content-Type") != "application/json;charset=UTF-8" {
		t.Fatalf("token: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var tr map[string]any
	if err := json.Unmarshal([]byte(r.body), &tr); err != nil {
		t.Fatal(err)
	}
	uid, _ := s.UserID(DefaultUsername)
	if tr["instance_url"] != base || tr["token_type"] != "Bearer" || tr["id"] != base+"/id/"+DefaultOrgID+"/"+uid {
		t.Errorf("token response: %s", r.body)
	}
	if _, ok := tr["issued_at"].(string); !ok {
		t.Errorf("issued_at is not a string: %s", r.body)
	}
	if _, ok := tr["refresh_token"]; ok {
		t.Errorf("unexpected refresh_token: %s", r.body)
	}
	tok, _ := tr["access_token"].(string)
	if q := do(t, s.Client(), "GET", base+"/services/data/v63.0/limits", bearer(tok), nil); q.status != 200 {
		t.Errorf("token does not work: %d %s", q.status, q.body)
	}
}

func TestOAuthGrants(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	u, a := DefaultUser(), DefaultApp()
	pw := url.Values{"grant_type": {"password"}, "client_id": {a.ClientID}, "client_secret": {a.ClientSecret}, "username": {u.Username}, "password": {u.Password + u.SecurityToken}}
	checkToken(t, s, s.URL(), postForm(t, s, s.URL(), pw, nil))
	checkToken(t, s, s.HTTPURL(), postForm(t, s, s.HTTPURL(), pw, nil))
	cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {a.ClientID}, "client_secret": {a.ClientSecret}}
	checkToken(t, s, s.URL(), postForm(t, s, s.URL(), cc, nil))
	basic := base64.StdEncoding.EncodeToString([]byte(a.ClientID + ":" + a.ClientSecret))
	checkToken(t, s, s.URL(), postForm(t, s, s.URL(), url.Values{"grant_type": {"client_credentials"}}, map[string]string{"Authorization": "Basic " + basic}))
	rt, err := s.NewRefreshToken(u.Username, a.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	checkToken(t, s, s.URL(), postForm(t, s, s.URL(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {a.ClientID}, "client_secret": {a.ClientSecret}}, nil))

	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"bad client id", url.Values{"grant_type": {"password"}, "client_id": {"nope"}, "client_secret": {a.ClientSecret}, "username": {u.Username}, "password": {u.Password}},
			`{"error":"invalid_client_id","error_description":"client identifier invalid"}`},
		{"bad secret", url.Values{"grant_type": {"password"}, "client_id": {a.ClientID}, "client_secret": {"x"}, "username": {u.Username}, "password": {u.Password + u.SecurityToken}},
			`{"error":"invalid_client","error_description":"invalid client credentials"}`},
		{"no token", url.Values{"grant_type": {"password"}, "client_id": {a.ClientID}, "client_secret": {a.ClientSecret}, "username": {u.Username}, "password": {u.Password}},
			`{"error":"invalid_grant","error_description":"authentication failure"}`},
		{"bad refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {a.ClientID}},
			`{"error":"invalid_grant","error_description":"expired access/refresh token"}`},
		{"unsupported", url.Values{"grant_type": {"magic"}}, `{"error":"unsupported_grant_type","error_description":"grant type not supported"}`},
		{"missing", url.Values{}, `{"error":"invalid_request","error_description":"grant type is missing"}`},
	} {
		r := postForm(t, s, s.URL(), tc.form, nil)
		if r.status != 400 || r.body != tc.want || r.header.Get("Content-Type") != "application/json;charset=UTF-8" {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, r.status, r.body, tc.want)
		}
	}
	// The sample error shapes decode to the same fields the emulator sends.
	for _, f := range []string{"auth-oauth2-token-error-invalid-client-id.json", "auth-oauth2-token-error-user-not-approved.json"} {
		b, err := os.ReadFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil || len(m) != 2 || m["error"] == "" || m["error_description"] == "" {
			t.Errorf("sample %s: %v %v", f, m, err)
		}
	}
}

// jwtFor signs claims with key (RS256).
func jwtFor(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "RS256"})
	c, _ := json.Marshal(claims)
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	d := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + enc.EncodeToString(sig)
}

func TestOAuthJWTBearer(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jwt"}, NotBefore: testStart.Add(-time.Hour), NotAfter: testStart.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	app := DefaultApp()
	app.CertificatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	s, fc := newTestServer(t, func(c *Config) { c.Apps = []ConnectedApp{app} })
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	exp := fc.Now().Add(3 * time.Minute).Unix()
	good := map[string]any{"iss": app.ClientID, "sub": DefaultUsername, "aud": "https://login.salesforce.com", "exp": exp}
	grant := func(assertion string) response {
		return postForm(t, s, s.URL(), url.Values{"grant_type": {GrantJWTBearer}, "assertion": {assertion}}, nil)
	}
	checkToken(t, s, s.URL(), grant(jwtFor(t, key, good)))
	// exp as a string, aud as the emulator's own URL.
	alt := map[string]any{"iss": app.ClientID, "sub": DefaultUsername, "aud": s.URL(), "exp": strings.TrimSpace(big.NewInt(exp).String())}
	checkToken(t, s, s.URL(), grant(jwtFor(t, key, alt)))

	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name, assertion, want string
	}{
		{"wrong key", jwtFor(t, other, good), `{"error":"invalid_grant","error_description":"invalid assertion"}`},
		{"bad aud", jwtFor(t, key, with("aud", "https://evil.example.com")), `{"error":"invalid_grant","error_description":"audience is invalid"}`},
		{"unknown iss", jwtFor(t, key, with("iss", "nope")), `{"error":"invalid_client_id","error_description":"client identifier invalid"}`},
		{"unknown sub", jwtFor(t, key, with("sub", "who@example.com")), `{"error":"invalid_grant","error_description":"user hasn't approved this consumer"}`},
		{"garbage", "a.b", `{"error":"invalid_grant","error_description":"invalid assertion"}`},
	} {
		if r := grant(tc.assertion); r.status != 400 || r.body != tc.want {
			t.Errorf("%s: %d %s, want %s", tc.name, r.status, r.body, tc.want)
		}
	}
	assertion := jwtFor(t, key, good)
	fc.Advance(7 * time.Minute) // exp (+3m) plus the 3-minute skew has passed
	if r := grant(assertion); r.status != 400 || r.body != `{"error":"invalid_grant","error_description":"expired authorization code"}` {
		t.Errorf("expired: %d %s", r.status, r.body)
	}
}

func readTestdata(name string) ([]byte, error) { return os.ReadFile("testdata/" + name) }

func TestIdentityAndRevoke(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tok := mustToken(t, s)
	uid, _ := s.UserID(DefaultUsername)
	r := do(t, s.Client(), "GET", s.URL()+"/id/"+DefaultOrgID+"/"+uid, bearer(tok), nil)
	if r.status != 200 || !strings.Contains(r.body, `"username":"`+DefaultUsername+`"`) || !strings.Contains(r.body, `"user_id":"`+uid+`"`) {
		t.Errorf("identity: %d %s", r.status, r.body)
	}
	r = do(t, s.Client(), "POST", s.URL()+"/services/oauth2/revoke", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader("token="+url.QueryEscape(tok)))
	if r.status != 200 {
		t.Errorf("revoke: %d %s", r.status, r.body)
	}
	if r := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/limits", bearer(tok), nil); r.status != 401 {
		t.Errorf("revoked token still works: %d", r.status)
	}
	if r := do(t, s.Client(), "GET", s.URL()+"/id/"+DefaultOrgID+"/"+uid, bearer(tok), nil); r.status != 403 {
		t.Errorf("identity with revoked token: %d", r.status)
	}
}
