package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sfbatch/sfbatch/emulator/wire"
)

// maxControlBody bounds a control request body.
const maxControlBody = 1 << 20

// advancer is a clock that tests can move forward (clock.Fake).
type advancer interface{ Advance(time.Duration) }

// serveControl implements the emulator's control endpoint under
// ControlPrefix. Requests need a valid session (Authorization: Bearer) and
// do not count against API limits. Routes:
//
//	GET    /_emulator/faults                  list active faults
//	POST   /_emulator/faults                  add a Fault (JSON) → 201 {"id":n}
//	DELETE /_emulator/faults[/{id}]           remove all faults, or one
//	POST   /_emulator/sessions/expire         expire every session → {"expired":n}
//	GET    /_emulator/limits                  the org's limit counters
//	POST   /_emulator/limits/{name}           {"remaining":n} sets what is left, {"max":n} the daily
//	                                          maximum (what was used stays used), or both
//	POST   /_emulator/clock/advance           {"duration":"1h"} (fake clock only)
//	POST   /_emulator/bulk/fail-next-job      {"message":"..."}
//	POST   /_emulator/bulk/query-timeouts     {"count":n}
//	POST   /_emulator/bulk/drop-uploads       {"count":n}
//	POST   /_emulator/bulk/lock-contention    {"rate":0.1}
//	GET    /_emulator/settings/soap-login     {"enabled":true}
//	POST   /_emulator/settings/soap-login     {"enabled":false} turns SOAP login() off
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	p := strings.Trim(strings.TrimPrefix(r.URL.Path, ControlPrefix), "/")
	parts := strings.Split(p, "/")
	route := r.Method + " " + parts[0]
	if len(parts) > 1 {
		route += "/" + parts[1]
	}
	switch {
	case route == "GET faults":
		wire.WriteJSON(w, http.StatusOK, s.faults.list())
	case route == "POST faults":
		s.controlAddFault(w, r)
	case r.Method == http.MethodDelete && parts[0] == "faults":
		s.controlRemoveFaults(w, parts[1:])
	case route == "POST sessions/expire":
		wire.WriteJSON(w, http.StatusOK, map[string]int{"expired": s.ExpireSessions()})
	case route == "GET limits":
		wire.WriteJSON(w, http.StatusOK, s.org.Limits())
	case r.Method == http.MethodPost && parts[0] == "limits" && len(parts) == 2:
		s.controlSetLimit(w, r, parts[1])
	case route == "POST clock/advance":
		s.controlAdvanceClock(w, r)
	case r.Method == http.MethodPost && parts[0] == "bulk" && len(parts) == 2 && s.controlBulk(w, r, parts[1]):
	case route == "GET settings/soap-login":
		wire.WriteJSON(w, http.StatusOK, map[string]bool{"enabled": s.SOAPLoginEnabled()})
	case route == "POST settings/soap-login":
		s.controlSOAPLogin(w, r)
	default:
		wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

// decodeControl reads a control request's JSON body into v (an empty body
// leaves v as it is), answering 400 when it is malformed.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody))
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "malformed control request: "+err.Error())
		return false
	}
	return true
}

// controlAddFault answers POST /_emulator/faults.
func (s *Server) controlAddFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if !decodeControl(w, r, &f) {
		return
	}
	id, err := s.faults.add(f)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return
	}
	wire.WriteJSON(w, http.StatusCreated, map[string]int{"id": id})
}

// controlRemoveFaults answers DELETE /_emulator/faults[/{id}].
func (s *Server) controlRemoveFaults(w http.ResponseWriter, ids []string) {
	if len(ids) == 0 {
		s.faults.clear()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	id, err := strconv.Atoi(ids[0])
	if err != nil || !s.faults.remove(id) {
		wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", "no fault "+ids[0])
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// controlSetLimit answers POST /_emulator/limits/{name}.
func (s *Server) controlSetLimit(w http.ResponseWriter, r *http.Request, name string) {
	var body struct {
		Remaining *int `json:"remaining"`
		Max       *int `json:"max"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	if body.Remaining == nil && body.Max == nil {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_REQUEST", `body needs "remaining" or "max"`)
		return
	}
	if body.Max != nil {
		if err := s.SetLimitMax(name, *body.Max); err != nil {
			wire.WriteError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
			return
		}
	}
	if body.Remaining != nil {
		if err := s.SetLimitRemaining(name, *body.Remaining); err != nil {
			wire.WriteError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
			return
		}
	}
	wire.WriteJSON(w, http.StatusOK, s.org.Limits()[name])
}

// controlAdvanceClock answers POST /_emulator/clock/advance.
func (s *Server) controlAdvanceClock(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Duration string `json:"duration"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	d, err := time.ParseDuration(body.Duration)
	adv, ok := s.clock.(advancer)
	switch {
	case err != nil || d < 0:
		wire.WriteError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("bad duration %q", body.Duration))
	case !ok:
		wire.WriteError(w, http.StatusConflict, "INVALID_REQUEST", "the server runs on the real clock")
	default:
		adv.Advance(d)
		wire.WriteJSON(w, http.StatusOK, map[string]string{"now": wire.FormatDateTime(s.clock.Now())})
	}
}

// controlSOAPLogin answers POST /_emulator/settings/soap-login, the org's
// "Enable SOAP API login()" setting.
func (s *Server) controlSOAPLogin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if !decodeControl(w, r, &body) {
		return
	}
	if body.Enabled == nil {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_REQUEST", `body needs "enabled"`)
		return
	}
	s.SetSOAPLoginEnabled(*body.Enabled)
	wire.WriteJSON(w, http.StatusOK, map[string]bool{"enabled": s.SOAPLoginEnabled()})
}

// controlBulk answers POST /_emulator/bulk/{fault}, the Bulk service's
// fault controls. It reports false, having written nothing, for an unknown
// fault.
func (s *Server) controlBulk(w http.ResponseWriter, r *http.Request, fault string) bool {
	var body struct {
		Message string  `json:"message"`
		Count   int     `json:"count"`
		Rate    float64 `json:"rate"`
	}
	apply := map[string]func(){
		"fail-next-job":   func() { s.bulk.FailNextJob(body.Message) },
		"query-timeouts":  func() { s.bulk.FailQueriesWithTimeout(body.Count) },
		"drop-uploads":    func() { s.bulk.DropNextUploads(body.Count) },
		"lock-contention": func() { s.bulk.SetLockContentionRate(body.Rate) },
	}[fault]
	if apply == nil {
		return false
	}
	if decodeControl(w, r, &body) {
		apply()
		w.WriteHeader(http.StatusNoContent)
	}
	return true
}

// SetLimitRemaining sets how much of the named limit is left; 0 exhausts
// it, so requests charged to it fail (REQUEST_LIMIT_EXCEEDED for
// DailyApiRequests). Counters refill when the clock passes midnight UTC.
func (s *Server) SetLimitRemaining(name string, remaining int) error {
	l, ok := s.org.Limits()[name]
	if !ok {
		return fmt.Errorf("emulator: no limit %q", name)
	}
	if remaining < 0 || remaining > l.Max {
		return fmt.Errorf("emulator: limit %s: remaining %d must be in [0,%d]", name, remaining, l.Max)
	}
	s.org.SetLimit(name, l.Max, remaining)
	return nil
}

// SetLimitMax sets the named limit's maximum; what was used stays used (so
// what remains may drop to 0). Counters refill when the clock passes midnight
// UTC.
func (s *Server) SetLimitMax(name string, maxValue int) error {
	l, ok := s.org.Limits()[name]
	if !ok {
		return fmt.Errorf("emulator: no limit %q", name)
	}
	if maxValue < 0 {
		return fmt.Errorf("emulator: limit %s: max %d is negative", name, maxValue)
	}
	s.org.SetLimit(name, maxValue, max(0, maxValue-(l.Max-l.Remaining)))
	return nil
}

// ControlPrefix is the path under which the emulator's own control endpoint
// lives. Real Salesforce has nothing there; requests need a valid session.
const ControlPrefix = "/_emulator/"

// ExpireSessions ends every session; the next request with any existing
// token gets INVALID_SESSION_ID. It returns how many sessions ended.
func (s *Server) ExpireSessions() int { return s.sessions.expireAll() }

// AddFault activates a fault and returns its id.
func (s *Server) AddFault(f Fault) (int, error) { return s.faults.add(f) }

// FailNext makes the next n requests matching method and path pattern
// (see Fault) fail with status and a body with errorCode in the API's shape.
func (s *Server) FailNext(n int, method, pathPattern string, status int, errorCode string) error {
	if n <= 0 {
		return fmt.Errorf("emulator: FailNext count %d must be positive", n)
	}
	_, err := s.faults.add(Fault{Method: method, Path: pathPattern, Times: n, Status: status, ErrorCode: errorCode})
	return err
}

// ClearFaults removes every active fault.
func (s *Server) ClearFaults() { s.faults.clear() }

// FaultRemaining returns how many more requests the fault with id will
// disturb: 0 once it has disturbed as many as its Times (or was removed), -1
// for one without a limit.
func (s *Server) FaultRemaining(id int) int { return s.faults.remaining(id) }

// SessionValid reports whether tok is a live session (using it extends it,
// like any request would).
func (s *Server) SessionValid(tok string) bool { return s.sessions.validate(tok) != nil }
