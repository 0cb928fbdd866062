package emulator

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestUserInfo: GET /services/oauth2/userinfo answers with the OpenID
// Connect claims Salesforce returns for the token's user (the Salesforce
// CLI reads user_id and organization_id after an access-token login), and
// 403 Bad_OAuth_Token without a valid token.
func TestUserInfo(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tok, err := s.NewSession(DefaultUsername)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := s.UserID(DefaultUsername)
	r := do(t, s.Client(), "GET", s.URL()+"/services/oauth2/userinfo", map[string]string{"Authorization": "Bearer " + tok}, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/json;charset=UTF-8" {
		t.Fatalf("status %d %q: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"sub":                s.URL() + "/id/" + s.OrgID() + "/" + uid,
		"user_id":            uid,
		"organization_id":    s.OrgID(),
		"preferred_username": DefaultUsername,
		"email":              DefaultUsername,
		"email_verified":     true,
		"given_name":         "Org",
		"family_name":        "Admin",
		"name":               "Org Admin",
		"active":             true,
		"user_type":          "STANDARD",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	urls, _ := got["urls"].(map[string]any)
	if urls["rest"] != s.URL()+"/services/data/v{version}/" || urls["search"] != s.URL()+"/services/data/v{version}/search/" {
		t.Errorf("urls = %v", urls)
	}
	for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer nope"}} {
		r := do(t, s.Client(), "GET", s.URL()+"/services/oauth2/userinfo", hdr, nil)
		if r.status != 403 || !strings.Contains(r.body, "Bad_OAuth_Token") {
			t.Errorf("userinfo with %v: %d %s", hdr, r.status, r.body)
		}
	}
}

// TestDoubleSlashPaths: //services/data/... (an instance URL kept with a
// trailing slash, as the Salesforce CLI does) reaches the same resource.
func TestDoubleSlashPaths(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	tok, _ := s.NewSession(DefaultUsername)
	r := do(t, s.Client(), "GET", s.URL()+"//services/data/v62.0//limits", map[string]string{"Authorization": "Bearer " + tok}, nil)
	if r.status != 200 || !strings.Contains(r.body, "DailyApiRequests") {
		t.Errorf("status %d: %s", r.status, r.body)
	}
}

var sfdxURLRE = regexp.MustCompile(`^force://PlatformCLI::([a-zA-Z0-9._-]+)@([a-zA-Z0-9:._-]+)$`)

// TestSFDXAuthURL: the startup details carry an SFDX auth URL for the
// Salesforce CLI's client id (PlatformCLI, no secret) in the form the CLI
// parses; its refresh token gets access tokens from this emulator only,
// for its own user, and stops working once revoked.
func TestSFDXAuthURL(t *testing.T) {
	t.Parallel()
	s, _ := newTestServer(t)
	other, _ := newTestServer(t)
	info, err := s.StartupInfo("")
	if err != nil {
		t.Fatal(err)
	}
	m := sfdxURLRE.FindStringSubmatch(info.SFDXAuthURL)
	if m == nil {
		t.Fatalf("SFDX auth URL %q does not have the CLI's form", info.SFDXAuthURL)
	}
	if "https://"+m[2] != s.URL() {
		t.Errorf("host %q, want the instance %s", m[2], s.URL())
	}
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {CLIClientID}, "refresh_token": {m[1]}}
	r := postForm(t, s, s.URL(), form, nil)
	checkToken(t, s, s.URL(), r)
	var tr tokenResponse
	if err := json.Unmarshal([]byte(r.body), &tr); err != nil {
		t.Fatal(err)
	}
	uid, _ := s.UserID(DefaultUsername)
	if !strings.HasSuffix(tr.ID, "/"+uid) {
		t.Errorf("token for %s, want the default user %s", tr.ID, uid)
	}
	// Another emulator (same org id and users) knows neither token.
	if r := postForm(t, other, other.URL(), form, nil); r.status != 400 || !strings.Contains(r.body, "invalid_grant") {
		t.Errorf("refresh token on another emulator: %d %s", r.status, r.body)
	}
	if other.SessionValid(tr.AccessToken) {
		t.Error("an access token of one emulator is valid on another")
	}
	// Revoked, the refresh token no longer works.
	revoke := url.Values{"token": {m[1]}}.Encode()
	if r := do(t, s.Client(), "POST", s.URL()+"/services/oauth2/revoke", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader(revoke)); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := postForm(t, s, s.URL(), form, nil); r.status != 400 || !strings.Contains(r.body, "invalid_grant") {
		t.Errorf("revoked refresh token: %d %s", r.status, r.body)
	}
}
