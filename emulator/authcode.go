package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// MaxAuthCodeAge is how long an authorization code may be exchanged for
// tokens (Salesforce: 15 minutes); a code works once.
const MaxAuthCodeAge = 15 * time.Minute

// authCode is what an authorization code stands for.
type authCode struct {
	user                 *userRecord
	clientID             string
	redirectURI          string
	challenge, challMeth string
	issued               time.Time
}

// authCodeStore holds unexchanged authorization codes. Safe for
// concurrent use.
type authCodeStore struct {
	mu    sync.Mutex
	codes map[string]authCode
}

func (cs *authCodeStore) issue(c authCode) string {
	code := "aPrx" + randomToken(48)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.codes == nil {
		cs.codes = map[string]authCode{}
	}
	cs.codes[code] = c
	return code
}

// take removes and returns a code's grant.
func (cs *authCodeStore) take(code string) (authCode, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok := cs.codes[code]
	delete(cs.codes, code)
	return c, ok
}

// redirectAllowed reports whether an authorization may redirect to uri:
// the app's callback URL, or a loopback http(s) address (where CLIs such as
// sf listen, e.g. http://localhost:1717/OauthRedirect).
func redirectAllowed(app *ConnectedApp, uri string) bool {
	if uri == "" {
		return false
	}
	if app.CallbackURL != "" && uri == app.CallbackURL {
		return true
	}
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// loginPage is the emulator's login form for the authorization-code flow:
// it approves the app as soon as the user logs in.
var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Login | sfbatch emulator</title></head>
<body>
<h1>Log in to the sfbatch emulator</h1>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/services/oauth2/authorize">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="pw" type="password" autocomplete="current-password"></label>
<button type="submit">Log In</button>
</form>
<p>{{.App}} will be allowed to access the org as you (api, refresh_token).</p>
</body></html>
`))

// authorizeParams are the request parameters the form carries through.
var authorizeParams = []string{"response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method", "prompt"}

// serveAuthorize implements /services/oauth2/authorize for the
// authorization-code flow (with PKCE): GET shows the login page, POST with
// username and pw (password plus security token, if the user has one)
// redirects to redirect_uri with code and state.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		oauthFail(w, http.StatusMethodNotAllowed, "invalid_request", "must use HTTP GET or POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "malformed request")
		return
	}
	f := r.Form
	if f.Get("response_type") != "code" {
		oauthFail(w, http.StatusBadRequest, "unsupported_response_type", "response type not supported")
		return
	}
	app := s.appByID(f.Get("client_id"))
	if app == nil {
		oauthFail(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return
	}
	if !redirectAllowed(app, f.Get("redirect_uri")) {
		oauthFail(w, http.StatusBadRequest, "redirect_uri_mismatch", "redirect_uri must match configuration")
		return
	}
	meth := f.Get("code_challenge_method")
	if f.Get("code_challenge") != "" && meth != "" && meth != "S256" && meth != "plain" {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "unsupported code_challenge_method")
		return
	}
	params := map[string]string{}
	for _, k := range authorizeParams {
		if v := f.Get(k); v != "" {
			params[k] = v
		}
	}
	page := struct {
		Params     map[string]string
		App, Error string
	}{Params: params, App: app.Name}
	if page.App == "" {
		page.App = app.ClientID
	}
	if r.Method == http.MethodPost {
		u, err := s.authenticate(r.PostForm.Get("username"), r.PostForm.Get("pw"))
		if err == nil {
			code := s.codes.issue(authCode{
				user: u, clientID: app.ClientID, redirectURI: f.Get("redirect_uri"),
				challenge: f.Get("code_challenge"), challMeth: meth, issued: s.clock.Now(),
			})
			q := url.Values{"code": {code}}
			if st := f.Get("state"); st != "" {
				q.Set("state", st)
			}
			sep := "?"
			if strings.Contains(f.Get("redirect_uri"), "?") {
				sep = "&"
			}
			http.Redirect(w, r, f.Get("redirect_uri")+sep+q.Encode(), http.StatusFound)
			return
		}
		page.Error = "Please check your username and password. If you still can't log in, contact your Salesforce administrator."
	}
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	_ = loginPage.Execute(w, page)
}

// exchangeCode is the token endpoint's authorization_code grant: one use,
// within MaxAuthCodeAge, same client and redirect_uri, and the PKCE
// code_verifier when the authorization had a challenge (else the client
// secret). The answer carries a refresh token.
func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request, clientID, clientSecret string) {
	f := r.PostForm
	c, ok := s.codes.take(f.Get("code"))
	if !ok {
		oauthFail(w, http.StatusBadRequest, "invalid_grant", "invalid authorization code")
		return
	}
	if s.clock.Now().Sub(c.issued) > MaxAuthCodeAge {
		oauthFail(w, http.StatusBadRequest, "invalid_grant", "expired authorization code")
		return
	}
	app := s.appByID(clientID)
	if app == nil || app.ClientID != c.clientID {
		oauthFail(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return
	}
	if f.Get("redirect_uri") != c.redirectURI {
		oauthFail(w, http.StatusBadRequest, "redirect_uri_mismatch", "redirect_uri must match configuration")
		return
	}
	switch {
	case c.challenge != "":
		v := f.Get("code_verifier")
		want := v
		if c.challMeth == "S256" || c.challMeth == "" {
			sum := sha256.Sum256([]byte(v))
			want = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if v == "" || !constantEqual(want, c.challenge) {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "invalid code verifier")
			return
		}
	case app.ClientSecret != "" && !constantEqual(clientSecret, app.ClientSecret):
		oauthFail(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return
	}
	if clientSecret != "" && !constantEqual(clientSecret, app.ClientSecret) {
		oauthFail(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return
	}
	s.writeToken(w, r, c.user, app, s.sessions.issueRefresh(c.user, app.ClientID))
}
