package emulator

import (
	"net/http"
	"time"
)

// identityURLs is the "urls" object of the identity URL and userinfo: the
// user's API endpoints, {version} left for the client to fill in.
func (s *Server) identityURLs(inst string, u *userRecord) map[string]string {
	org15 := s.orgID[:min(15, len(s.orgID))]
	return map[string]string{
		"enterprise":    inst + "/services/Soap/c/{version}/" + org15,
		"metadata":      inst + "/services/Soap/m/{version}/" + org15,
		"partner":       inst + "/services/Soap/u/{version}/" + org15,
		"rest":          inst + "/services/data/v{version}/",
		"sobjects":      inst + "/services/data/v{version}/sobjects/",
		"search":        inst + "/services/data/v{version}/search/",
		"query":         inst + "/services/data/v{version}/query/",
		"recent":        inst + "/services/data/v{version}/recent/",
		"tooling_rest":  inst + "/services/data/v{version}/tooling/",
		"tooling_soap":  inst + "/services/Soap/T/{version}/" + org15,
		"profile":       inst + "/" + u.id,
		"feeds":         inst + "/services/data/v{version}/chatter/feeds",
		"groups":        inst + "/services/data/v{version}/chatter/groups",
		"users":         inst + "/services/data/v{version}/chatter/users",
		"feed_items":    inst + "/services/data/v{version}/chatter/feed-items",
		"feed_elements": inst + "/services/data/v{version}/chatter/feed-elements",
		"custom_domain": inst,
	}
}

// serveUserInfo implements the OpenID Connect UserInfo endpoint,
// GET or POST /services/oauth2/userinfo with a bearer token: who the
// token's user is, in the claims Salesforce returns (sub is the identity
// URL; user_id, organization_id and preferred_username are what the
// Salesforce CLI reads after an access-token login).
func (s *Server) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, POST")
		oauthFail(w, http.StatusMethodNotAllowed, "invalid_request", "must use HTTP GET or POST")
		return
	}
	sess := s.sessionFromRequest(r)
	var u *userRecord
	if sess != nil {
		u = s.userByID(sess.UserID)
	}
	if u == nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		oauthFail(w, http.StatusForbidden, "Bad_OAuth_Token", "Bad_OAuth_Token")
		return
	}
	inst := instanceURL(r)
	name := u.fullName()
	if name == "" {
		name = u.Username
	}
	email := u.Email
	if email == "" {
		email = u.Username
	}
	writeOAuth(w, http.StatusOK, map[string]any{
		"sub":                inst + "/id/" + s.orgID + "/" + u.id,
		"user_id":            u.id,
		"organization_id":    s.orgID,
		"preferred_username": u.Username,
		"nickname":           u.Username[:min(len(u.Username), 40)],
		"name":               name,
		"email":              email,
		"email_verified":     true,
		"given_name":         u.FirstName,
		"family_name":        u.LastName,
		"zoneinfo":           "America/Los_Angeles",
		"photos": map[string]string{
			"picture":   inst + "/profilephoto/005/F",
			"thumbnail": inst + "/profilephoto/005/T",
		},
		"profile":                        inst + "/" + u.id,
		"picture":                        inst + "/profilephoto/005/F",
		"address":                        map[string]any{},
		"is_salesforce_integration_user": false,
		"urls":                           s.identityURLs(inst, u),
		"active":                         true,
		"user_type":                      "STANDARD",
		"language":                       "en_US",
		"locale":                         "en_US",
		"utcOffset":                      -28800000,
		"updated_at":                     s.clock.Now().UTC().Format(time.RFC3339),
		"is_app_installed":               true,
	})
}
