package emulator

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
)

var testStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// newTestServer starts a server with HTTPS (and plain HTTP) on a fake clock.
func newTestServer(t *testing.T, mod ...func(*Config)) (*Server, *clock.Fake) {
	t.Helper()
	fc := clock.NewFake(testStart)
	cfg := Config{TLS: true, HTTPAddr: DefaultAddr, Clock: fc, Seed: 1}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, fc
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, method, u string, hdr map[string]string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func mustToken(t *testing.T, s *Server) string {
	t.Helper()
	tok, err := s.NewSession(DefaultUsername)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVersionsNeedNoAuth(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	for _, p := range []string{"/services/data", "/services/data/"} {
		r := do(t, s.Client(), "GET", s.URL()+p, nil, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "application/json;charset=UTF-8" {
			t.Fatalf("GET %s = %d %q", p, r.status, r.header.Get("Content-Type"))
		}
		var vs []struct{ Label, URL, Version string }
		if err := json.Unmarshal([]byte(r.body), &vs); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, v := range vs {
			if v.Version == "62.0" {
				found = v.URL == "/services/data/v62.0" && v.Label == "Winter '25"
			}
		}
		if !found || vs[0].Version != "31.0" {
			t.Errorf("versions missing 62.0 (Winter '25) or not ascending from 31.0: %s", r.body[:200])
		}
	}
}

func TestRESTRequiresSession(t *testing.T) {
	t.Parallel()
	s, fc := newTestServer(t, func(c *Config) { c.SessionLifetime = time.Hour })
	const want = `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`
	for _, hdr := range []map[string]string{nil, bearer("00D000000000001!bogus")} {
		r := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/limits", hdr, nil)
		if r.status != 401 || r.body != want || r.header.Get("Content-Type") != "application/json;charset=UTF-8" {
			t.Errorf("no/bad token: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	tok := mustToken(t, s)
	r := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/limits/", bearer(tok), nil)
	if r.status != 200 {
		t.Fatalf("limits with token: %d %s", r.status, r.body)
	}
	// Use extends the session: 59 minutes idle is fine, 60 more is not.
	fc.Advance(59 * time.Minute)
	if r := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/limits", bearer(tok), nil); r.status != 200 {
		t.Fatalf("after 59m idle: %d", r.status)
	}
	fc.Advance(time.Hour)
	if r := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/limits", bearer(tok), nil); r.status != 401 || r.body != want {
		t.Fatalf("after 60m idle: %d %s", r.status, r.body)
	}
}

func TestBulk1InvalidSession(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	r := do(t, s.Client(), "POST", s.URL()+"/services/async/62.0/job",
		map[string]string{"X-SFDC-Session": "nope", "Content-Type": "application/xml; charset=utf-8"}, strings.NewReader("<jobInfo/>"))
	wantXML := `<?xml version="1.0" encoding="UTF-8"?><error xmlns="http://www.force.com/2009/06/asyncapi/dataload"><exceptionCode>InvalidSessionId</exceptionCode><exceptionMessage>Invalid session id</exceptionMessage></error>`
	if r.status != 400 || r.header.Get("Content-Type") != "application/xml" || r.body != wantXML {
		t.Errorf("XML: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	r = do(t, s.Client(), "POST", s.URL()+"/services/async/62.0/job",
		map[string]string{"X-SFDC-Session": "nope", "Content-Type": "application/json"}, strings.NewReader("{}"))
	if r.status != 400 || r.header.Get("Content-Type") != "application/json" ||
		r.body != `{"exceptionCode":"InvalidSessionId","exceptionMessage":"Invalid session id"}` {
		t.Errorf("JSON: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
}

func TestLimitInfoHeaderCounts(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tok := mustToken(t, s)
	r1 := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/limits", bearer(tok), nil)
	r2 := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/limits", bearer(tok), nil)
	if got, want := r1.header.Get("Sforce-Limit-Info"), "api-usage=1/15000"; got != want {
		t.Errorf("first Sforce-Limit-Info = %q, want %q", got, want)
	}
	if got, want := r2.header.Get("Sforce-Limit-Info"), "api-usage=2/15000"; got != want {
		t.Errorf("second Sforce-Limit-Info = %q, want %q", got, want)
	}
	var lim map[string]struct{ Max, Remaining int }
	if err := json.Unmarshal([]byte(r2.body), &lim); err != nil {
		t.Fatal(err)
	}
	if l := lim["DailyApiRequests"]; l.Max != 15000 || l.Remaining != 14998 {
		t.Errorf("DailyApiRequests = %+v, want 15000/14998", l)
	}
	if err := s.SetLimitRemaining(APIRequestLimit, 0); err != nil {
		t.Fatal(err)
	}
	r := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/limits", bearer(tok), nil)
	if r.status != 403 || !strings.Contains(r.body, `"errorCode":"REQUEST_LIMIT_EXCEEDED"`) {
		t.Errorf("exhausted: %d %s", r.status, r.body)
	}
}

func TestTLSTrustsOnlyCA(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") || !strings.HasPrefix(s.HTTPURL(), "http://127.0.0.1:") {
		t.Fatalf("URLs = %s, %s", s.URL(), s.HTTPURL())
	}
	if !bytes.Contains(s.CACertPEM(), []byte("BEGIN CERTIFICATE")) {
		t.Fatal("CACertPEM has no certificate")
	}
	if _, err := http.Get(s.URL() + "/services/data/"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("default client: err = %v, want certificate error", err)
	}
	if r := do(t, s.Client(), "GET", s.URL()+"/services/data/", nil, nil); r.status != 200 {
		t.Errorf("trusting client: %d", r.status)
	}
	for _, host := range []string{"localhost"} {
		u := strings.Replace(s.URL(), "127.0.0.1", host, 1)
		if r := do(t, s.Client(), "GET", u+"/services/data/", nil, nil); r.status != 200 {
			t.Errorf("%s: %d", host, r.status)
		}
	}
	if r := do(t, http.DefaultClient, "GET", s.HTTPURL()+"/services/data/", nil, nil); r.status != 200 {
		t.Errorf("plain HTTP: %d", r.status)
	}
}

func TestGzipAndChunkedBodies(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tok := mustToken(t, s)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte(`{"LastName":"Zipped"}`))
	_ = zw.Close()
	hdr := bearer(tok)
	hdr["Content-Type"] = "application/json"
	hdr["Content-Encoding"] = "gzip"
	r := do(t, s.Client(), "POST", s.URL()+"/services/data/v62.0/sobjects/Contact/", hdr, &zb)
	if r.status != 201 {
		t.Fatalf("gzip create: %d %s", r.status, r.body)
	}
	// A reader without a length is sent chunked.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte(`{"LastName":`))
		_, _ = pw.Write([]byte(`"Chunked"}`))
		_ = pw.Close()
	}()
	delete(hdr, "Content-Encoding")
	r = do(t, s.Client(), "POST", s.URL()+"/services/data/v62.0/sobjects/Contact", hdr, pr)
	if r.status != 201 {
		t.Fatalf("chunked create: %d %s", r.status, r.body)
	}
	// go-salesforce with compression marks bodiless GETs as gzip too.
	q := url.QueryEscape("SELECT LastName FROM Contact ORDER BY LastName")
	hdr = bearer(tok)
	hdr["Content-Encoding"] = "gzip"
	r = do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/query?q="+q, hdr, nil)
	if !strings.Contains(r.body, `"LastName":"Chunked"`) || !strings.Contains(r.body, `"LastName":"Zipped"`) {
		t.Errorf("query after create: %s", r.body)
	}
}

func TestUnknownPath(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	r := do(t, s.Client(), "GET", s.URL()+"/nothing/here", nil, nil)
	if r.status != 404 || r.body != `[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]` {
		t.Errorf("%d %s", r.status, r.body)
	}
}

func TestAccessFileAndStartupInfo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := dir + "/access.json"
	const file = `{"users":[{"username":"ops@example.com","password":"pw","security_token":"TOK","last_name":"Ops"},
	 {"username":"second@example.com","password":"pw2"}],
	 "apps":[{"client_id":"cid","client_secret":"sec","run_as":"second@example.com"}]}`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	af, err := ReadAccessFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newTestServer(t, func(c *Config) { c.Users, c.Apps = af.Users, af.Apps })
	info, err := s.StartupInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.InstanceURL != s.URL() || info.LoginURL != s.URL() || info.Username != "ops@example.com" || info.Password != "pw" ||
		info.SecurityToken != "TOK" || info.ClientID != "cid" || info.ClientSecret != "sec" || info.CACertFile != dir+"/emulator-ca.pem" {
		t.Errorf("StartupInfo = %+v", info)
	}
	if pem, err := os.ReadFile(info.CACertFile); err != nil || !bytes.Equal(pem, s.CACertPEM()) {
		t.Errorf("CA file: %v", err)
	}
	b, _ := json.Marshal(info)
	for _, k := range []string{"instance_url", "login_url", "username", "password", "security_token", "access_token", "client_id", "client_secret", "ca_cert_file"} {
		if !strings.Contains(string(b), `"`+k+`":`) {
			t.Errorf("StartupInfo JSON lacks %s: %s", k, b)
		}
	}
	if r := do(t, s.Client(), "GET", info.InstanceURL+"/services/data/v62.0/limits", bearer(info.AccessToken), nil); r.status != 200 {
		t.Errorf("startup access token: %d", r.status)
	}
	// The second user (no security token) logs in with the password alone;
	// client credentials run as the app's run_as user.
	form := url.Values{"grant_type": {"password"}, "client_id": {"cid"}, "client_secret": {"sec"}, "username": {"second@example.com"}, "password": {"pw2"}}
	if r := postForm(t, s, s.URL(), form, nil); r.status != 200 {
		t.Errorf("second user: %d %s", r.status, r.body)
	}
	r := postForm(t, s, s.URL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {"cid"}, "client_secret": {"sec"}}, nil)
	uid, _ := s.UserID("second@example.com")
	if r.status != 200 || !strings.Contains(r.body, "/"+uid+`"`) {
		t.Errorf("client credentials run-as: %d %s", r.status, r.body)
	}
	for name, bad := range map[string]string{
		"unknown key": `{"users":[{"username":"a","password":"b","pasword":"c"}]}`,
		"no password": `{"users":[{"username":"a"}]}`,
		"no secret":   `{"apps":[{"client_id":"a"}]}`,
	} {
		p := dir + "/bad.json"
		_ = os.WriteFile(p, []byte(bad), 0o600)
		if _, err := ReadAccessFile(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
