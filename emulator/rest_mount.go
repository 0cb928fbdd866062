package emulator

import (
	"fmt"
	"net/http"

	"github.com/sfbatch/sfbatch/emulator/rest"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// serveVersions answers GET /services/data/ without authentication.
func (s *Server) serveVersions(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		wire.WriteError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed. Allowed are GET,HEAD")
		return
	}
	wire.WriteJSON(w, http.StatusOK, rest.Versions())
}

// authREST authenticates a REST/Bulk 2.0/composite request, counts it
// against DailyApiRequests and sets Sforce-Limit-Info.
func (s *Server) authREST(w http.ResponseWriter, r *http.Request) (*wire.Session, bool) {
	sess := s.sessions.validate(bearerToken(r))
	if sess == nil {
		wire.WriteError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return nil, false
	}
	if !s.countAPIRequest(w) {
		wire.WriteError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return nil, false
	}
	return sess, true
}

// APIRequestLimit is the DailyApiRequests counter requests are charged to.
const APIRequestLimit = "DailyApiRequests"

// countAPIRequest charges one API request and sets Sforce-Limit-Info. It
// reports false when the daily allowance is used up.
func (s *Server) countAPIRequest(w http.ResponseWriter) bool {
	err := s.org.Consume(APIRequestLimit, 1)
	if l, ok := s.org.Limits()[APIRequestLimit]; ok {
		w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", l.Max-l.Remaining, l.Max))
	}
	return err == nil
}
