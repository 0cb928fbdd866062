package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/sfbatch/sfbatch/emulator/wire"
)

// authBulk1 authenticates a Bulk 1.0 request (X-SFDC-Session, or a bearer
// token), answering Bulk 1.0's own 400 InvalidSessionId otherwise.
func (s *Server) authBulk1(w http.ResponseWriter, r *http.Request) (*wire.Session, bool) {
	tok := strings.TrimSpace(r.Header.Get("X-SFDC-Session"))
	if tok == "" {
		tok = bearerToken(r)
	}
	sess := s.sessions.validate(tok)
	if sess == nil {
		writeBulk1Error(w, r, http.StatusBadRequest, "InvalidSessionId", "Invalid session id")
		return nil, false
	}
	if !s.countAPIRequest(w) {
		writeBulk1Error(w, r, http.StatusForbidden, "ExceededQuota", "TotalRequests Limit exceeded.")
		return nil, false
	}
	return sess, true
}

// writeBulk1Error writes Bulk 1.0's <error> (or its JSON form when the
// request is JSON).
func writeBulk1Error(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if isJSONRequest(r) {
		b, _ := json.Marshal(map[string]string{"exceptionCode": code, "exceptionMessage": msg})
		w.Header().Set("Content-Type", wire.ContentTypeBulk1JSON)
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return
	}
	w.Header().Set("Content-Type", wire.ContentTypeBulk1XML)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><error xmlns="http://www.force.com/2009/06/asyncapi/dataload"><exceptionCode>`+
		xmlText(code)+`</exceptionCode><exceptionMessage>`+xmlText(msg)+`</exceptionMessage></error>`)
}

// isJSONRequest reports whether a Bulk 1.0 request speaks JSON (by its
// Content-Type, or Accept when it has no body type).
func isJSONRequest(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	if strings.HasPrefix(ct, "application/json") {
		return true
	}
	if ct == "" {
		acc := strings.ToLower(r.Header.Get("Accept"))
		return strings.HasPrefix(acc, "application/json")
	}
	return false
}
