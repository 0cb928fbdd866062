package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// maxFormBody bounds an OAuth form body.
const maxFormBody = 64 << 10

// GrantJWTBearer is the grant_type of the OAuth 2.0 JWT bearer flow.
const GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// oauthError is the OAuth error object (not the REST array).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// tokenResponse is the OAuth token endpoint's success body.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Signature    string `json:"signature"`
	Scope        string `json:"scope"`
	InstanceURL  string `json:"instance_url"`
	ID           string `json:"id"`
	TokenType    string `json:"token_type"`
	IssuedAt     string `json:"issued_at"`
}

func writeOAuth(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func oauthFail(w http.ResponseWriter, status int, code, desc string) {
	writeOAuth(w, status, oauthError{Error: code, Description: desc})
}

func (s *Server) serveOAuthToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "must use HTTP POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "malformed request body")
		return
	}
	f := r.PostForm
	clientID, clientSecret := f.Get("client_id"), f.Get("client_secret")
	if id, secret, ok := r.BasicAuth(); ok && clientID == "" {
		clientID, clientSecret = id, secret
	}
	grant := f.Get("grant_type")
	switch grant {
	case "":
		oauthFail(w, http.StatusBadRequest, "invalid_request", "grant type is missing")
	case "password":
		app, ok := s.checkClient(w, clientID, clientSecret, true)
		if !ok {
			return
		}
		u, err := s.authenticate(f.Get("username"), f.Get("password"))
		if err != nil {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "authentication failure")
			return
		}
		s.writeToken(w, r, u, app, "")
	case "client_credentials":
		app, ok := s.checkClient(w, clientID, clientSecret, true)
		if !ok {
			return
		}
		u := s.userByName(app.RunAs)
		if u == nil {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "no client credentials user enabled")
			return
		}
		s.writeToken(w, r, u, app, "")
	case "refresh_token":
		g, ok := s.sessions.lookupRefresh(f.Get("refresh_token"))
		if !ok {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token")
			return
		}
		app := s.appByID(clientID)
		if app == nil || app.ClientID != g.clientID {
			oauthFail(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
			return
		}
		if clientSecret != "" && !constantEqual(clientSecret, app.ClientSecret) {
			oauthFail(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
			return
		}
		u := s.userByName(g.username)
		if u == nil {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token")
			return
		}
		s.writeToken(w, r, u, app, "")
	case "authorization_code":
		s.exchangeCode(w, r, clientID, clientSecret)
	case GrantJWTBearer:
		u, app, desc := s.verifyJWTBearer(f.Get("assertion"))
		if desc != "" {
			code := "invalid_grant"
			if desc == "client identifier invalid" {
				code = "invalid_client_id"
			}
			oauthFail(w, http.StatusBadRequest, code, desc)
			return
		}
		s.writeToken(w, r, u, app, "")
	default:
		oauthFail(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
	}
}

// checkClient validates a connected app's id and (if needSecret) secret,
// answering the OAuth error itself when they do not match.
func (s *Server) checkClient(w http.ResponseWriter, id, secret string, needSecret bool) (*ConnectedApp, bool) {
	app := s.appByID(id)
	if app == nil {
		oauthFail(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
		return nil, false
	}
	if needSecret && !constantEqual(secret, app.ClientSecret) {
		oauthFail(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
		return nil, false
	}
	return app, true
}

func constantEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (s *Server) writeToken(w http.ResponseWriter, r *http.Request, u *userRecord, app *ConnectedApp, refresh string) {
	sess := s.sessions.issue(u, s.orgID)
	inst := instanceURL(r)
	issued := strconv.FormatInt(s.clock.Now().UnixMilli(), 10)
	id := inst + "/id/" + s.orgID + "/" + u.id
	mac := hmac.New(sha256.New, []byte(app.ClientSecret))
	mac.Write([]byte(id + issued))
	scope := "api"
	if refresh != "" {
		scope = "api refresh_token"
	}
	writeOAuth(w, http.StatusOK, tokenResponse{
		AccessToken:  sess.Token,
		RefreshToken: refresh,
		Signature:    base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		Scope:        scope,
		InstanceURL:  inst,
		ID:           id,
		TokenType:    "Bearer",
		IssuedAt:     issued,
	})
}

// serveOAuthRevoke implements POST /services/oauth2/revoke (token=...).
func (s *Server) serveOAuthRevoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "malformed request body")
		return
	}
	if !s.sessions.revoke(r.Form.Get("token")) {
		oauthFail(w, http.StatusBadRequest, "unsupported_token_type", "this token type is not supported")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// serveIdentity implements GET /id/{orgId}/{userId}, the identity URL
// returned in token responses.
func (s *Server) serveIdentity(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var u *userRecord
	if len(parts) == 3 {
		u = s.userByID(parts[2])
	}
	sess := s.sessionFromRequest(r)
	if u == nil || sess == nil || parts[1] != s.orgID {
		oauthFail(w, http.StatusForbidden, "Bad_OAuth_Token", "Bad_OAuth_Token")
		return
	}
	inst := instanceURL(r)
	writeOAuth(w, http.StatusOK, map[string]any{
		"id":               inst + r.URL.Path,
		"user_id":          u.id,
		"organization_id":  s.orgID,
		"username":         u.Username,
		"display_name":     u.fullName(),
		"email":            u.Email,
		"active":           true,
		"user_type":        "STANDARD",
		"language":         "en_US",
		"locale":           "en_US",
		"utcOffset":        -28800000,
		"is_app_installed": true,
		"urls":             s.identityURLs(inst, u),
	})
}

// NewRefreshToken returns a refresh token for username and the connected
// app clientID, usable with the refresh_token grant. (Salesforce issues
// these in the web-server flow, which the emulator does not serve.)
func (s *Server) NewRefreshToken(username, clientID string) (string, error) {
	u := s.userByName(username)
	if u == nil {
		return "", fmt.Errorf("emulator: no user %q", username)
	}
	if s.appByID(clientID) == nil {
		return "", fmt.Errorf("emulator: no connected app %q", clientID)
	}
	return s.sessions.issueRefresh(u, clientID), nil
}
