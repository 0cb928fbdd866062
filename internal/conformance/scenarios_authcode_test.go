package conformance

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/emulator"
	"github.com/sfbatch/sfbatch/salesforce"
)

// testAuthorizationCode: the emulator's authorization-code flow with PKCE
// (its login page stands in for a browser) issues a refresh token that the
// client's refresh-token flow logs in with, as the Salesforce CLI's client
// id PlatformCLI; and the SFDX auth URL the emulator prints works the same
// way through the client's SFDX-auth-URL flow.
func testAuthorizationCode(t *testing.T, e *Env) {
	ctx := t.Context()
	srv := e.Emulator
	hc := *srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	verifier := "conformance-verifier-" + e.Prefix + "-0123456789abcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(verifier))
	redirect := "http://localhost:1717/OauthRedirect"
	form := url.Values{
		"response_type": {"code"}, "client_id": {emulator.CLIClientID}, "redirect_uri": {redirect}, "state": {e.Prefix},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"username": {emulator.DefaultUsername}, "pw": {emulator.DefaultPassword + emulator.DefaultSecurityToken},
	}
	resp, err := hc.PostForm(srv.URL()+"/services/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("state") != e.Prefix {
		t.Fatalf("authorize: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = hc.PostForm(srv.URL()+"/services/oauth2/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "client_id": {emulator.CLIClientID},
		"redirect_uri": {redirect}, "code_verifier": {verifier},
	})
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		RefreshToken string `json:"refresh_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	if err != nil || tr.RefreshToken == "" {
		t.Fatalf("token exchange: %v (refresh token given: %v)", err, tr.RefreshToken != "")
	}
	info, err := srv.Emulator().StartupInfo("")
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]salesforce.LoginConfig{
		"refresh token": {LoginURL: srv.URL(), ClientID: emulator.CLIClientID, RefreshToken: tr.RefreshToken, HTTPClient: srv.Client()},
		"SFDX auth URL": {SFDXAuthURL: info.SFDXAuthURL, HTTPClient: srv.Client()},
	} {
		c, err := salesforce.Login(ctx, cfg)
		if err != nil {
			t.Errorf("%s: Login: %v", name, err)
			continue
		}
		if _, err := c.Limits(ctx); err != nil {
			t.Errorf("%s: Limits: %v", name, err)
		}
		if !strings.HasPrefix(c.InstanceURL(), "https://") {
			t.Errorf("%s: instance %q", name, c.InstanceURL())
		}
	}
}
