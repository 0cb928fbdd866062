package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// authorize drives the login page as a browser would (without following the
// redirect) and returns the redirect's query.
func authorize(t *testing.T, s *Server, params url.Values, username, pw string) (int, url.Values, string) {
	t.Helper()
	c := *s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r := do(t, &c, "GET", s.URL()+"/services/oauth2/authorize?"+params.Encode(), nil, nil)
	if r.status != 200 {
		return r.status, nil, r.body
	}
	if !strings.Contains(r.body, `<form method="post" action="/services/oauth2/authorize">`) || !strings.Contains(r.body, `name="pw"`) {
		t.Fatalf("login page: %s", r.body)
	}
	form := url.Values{"username": {username}, "pw": {pw}}
	for k, v := range params {
		form[k] = v
	}
	r = do(t, &c, "POST", s.URL()+"/services/oauth2/authorize", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader(form.Encode()))
	if r.status != http.StatusFound {
		return r.status, nil, r.body
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != params.Get("redirect_uri") {
		t.Errorf("redirected to %s, want %s", got, params.Get("redirect_uri"))
	}
	return r.status, loc.Query(), r.body
}

// TestAuthorizationCodePKCE: the authorization-code flow with PKCE, as the
// Salesforce CLI's `sf org login web` drives it (client PlatformCLI,
// redirect to a loopback port): login page, code, token exchange with the
// code verifier, a refresh token that works, for the user who logged in and
// no other; codes work once and expire; revocation and refresh-token expiry.
func TestAuthorizationCodePKCE(t *testing.T) {
	t.Parallel()
	second := User{Username: "second@sfbatch.example", Password: "pw-2", FirstName: "Sec", LastName: "Ond"}
	s, fc := newTestServer(t, func(c *Config) {
		c.Users = []User{DefaultUser(), second}
		c.RefreshTokenLifetime = 24 * time.Hour
	})
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" + "sfbatch"
	sum := sha256.Sum256([]byte(verifier))
	params := url.Values{
		"response_type": {"code"}, "client_id": {CLIClientID}, "redirect_uri": {"http://localhost:1717/OauthRedirect"},
		"state": {"xyz"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"scope": {"refresh_token api web"},
	}
	// A wrong password shows the page again with an error, and no code.
	if status, _, body := authorize(t, s, params, second.Username, "nope"); status != 200 || !strings.Contains(body, "check your username and password") {
		t.Errorf("wrong password: %d %s", status, body)
	}
	status, q, body := authorize(t, s, params, second.Username, second.Password)
	if status != http.StatusFound || q.Get("state") != "xyz" || q.Get("code") == "" {
		t.Fatalf("authorize: %d %v %s", status, q, body)
	}
	exchange := func(code, verifier string) response {
		return postForm(t, s, s.URL(), url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {CLIClientID},
			"redirect_uri": {params.Get("redirect_uri")}, "code_verifier": {verifier}}, nil)
	}
	// A wrong verifier fails, and uses the code up.
	if r := exchange(q.Get("code"), "wrong"); r.status != 400 || !strings.Contains(r.body, "invalid code verifier") {
		t.Errorf("wrong verifier: %d %s", r.status, r.body)
	}
	if r := exchange(q.Get("code"), verifier); r.status != 400 || !strings.Contains(r.body, `"invalid_grant"`) {
		t.Errorf("used code: %d %s", r.status, r.body)
	}
	_, q, _ = authorize(t, s, params, second.Username, second.Password)
	r := exchange(q.Get("code"), verifier)
	checkUserToken(t, s, r, second.Username)
	var tr tokenResponse
	if err := json.Unmarshal([]byte(r.body), &tr); err != nil {
		t.Fatal(err)
	}
	if tr.RefreshToken == "" || tr.Scope != "api refresh_token" {
		t.Errorf("token response: refresh token %v, scope %q", tr.RefreshToken != "", tr.Scope)
	}
	// The token acts as the user who logged in, and only as that user.
	secondID, _ := s.UserID(second.Username)
	ui := do(t, s.Client(), "GET", s.URL()+"/services/oauth2/userinfo", map[string]string{"Authorization": "Bearer " + tr.AccessToken}, nil)
	if !strings.Contains(ui.body, `"user_id":"`+secondID+`"`) || !strings.Contains(ui.body, `"preferred_username":"`+second.Username+`"`) {
		t.Errorf("userinfo of the second user's token: %s", ui.body)
	}
	cr := do(t, s.Client(), "POST", s.URL()+"/services/data/v62.0/sobjects/Account", map[string]string{"Authorization": "Bearer " + tr.AccessToken, "Content-Type": "application/json"}, strings.NewReader(`{"Name":"By Second"}`))
	var created struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal([]byte(cr.body), &created)
	got := do(t, s.Client(), "GET", s.URL()+"/services/data/v62.0/sobjects/Account/"+created.ID+"?fields=CreatedById,OwnerId", map[string]string{"Authorization": "Bearer " + tr.AccessToken}, nil)
	if !strings.Contains(got.body, `"CreatedById":"`+secondID+`"`) || !strings.Contains(got.body, `"OwnerId":"`+secondID+`"`) {
		t.Errorf("record created with the second user's token: %s", got.body)
	}
	// The refresh token works for its client, then expires.
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {CLIClientID}, "refresh_token": {tr.RefreshToken}}
	r = postForm(t, s, s.URL(), refresh, nil)
	checkUserToken(t, s, r, second.Username)
	fc.Advance(25 * time.Hour)
	if r := postForm(t, s, s.URL(), refresh, nil); r.status != 400 || !strings.Contains(r.body, "expired access/refresh token") {
		t.Errorf("expired refresh token: %d %s", r.status, r.body)
	}
	// An expired code fails.
	_, q, _ = authorize(t, s, params, second.Username, second.Password)
	fc.Advance(MaxAuthCodeAge + time.Second)
	if r := exchange(q.Get("code"), verifier); r.status != 400 || !strings.Contains(r.body, "expired authorization code") {
		t.Errorf("expired code: %d %s", r.status, r.body)
	}
	// Bad requests never reach the login page.
	for _, c := range []struct {
		key, value, code string
	}{
		{"client_id", "nope", "invalid_client_id"},
		{"redirect_uri", "https://evil.example/cb", "redirect_uri_mismatch"},
		{"response_type", "token", "unsupported_response_type"},
	} {
		p := url.Values{}
		for k, v := range params {
			p[k] = v
		}
		p.Set(c.key, c.value)
		if status, _, body := authorize(t, s, p, second.Username, second.Password); status != 400 || !strings.Contains(body, c.code) {
			t.Errorf("%s=%s: %d %s", c.key, c.value, status, body)
		}
	}
}

// checkUserToken verifies a token response for username and that its
// access token works.
func checkUserToken(t *testing.T, s *Server, r response, username string) {
	t.Helper()
	var tr tokenResponse
	if r.status != 200 || json.Unmarshal([]byte(r.body), &tr) != nil {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	uid, _ := s.UserID(username)
	if tr.InstanceURL != s.URL() || tr.TokenType != "Bearer" || tr.ID != s.URL()+"/id/"+DefaultOrgID+"/"+uid {
		t.Errorf("token response for %s: %s", username, r.body)
	}
	if q := do(t, s.Client(), "GET", s.URL()+"/services/data/v63.0/limits", bearer(tr.AccessToken), nil); q.status != 200 {
		t.Errorf("token does not work: %d %s", q.status, q.body)
	}
}
