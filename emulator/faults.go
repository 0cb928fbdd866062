package emulator

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sfbatch/sfbatch/emulator/wire"
)

// Fault disturbs requests that match Method and Path. A fault can answer
// with an error status, drop the connection, delay the request, or delay
// and then let it through (Latency without Status or Drop).
//
// The JSON form (control endpoint) uses the same names in lower camel case
// and a Go duration string for latency: {"method":"POST","path":"/services/data/*/composite*",
// "times":2,"status":503,"errorCode":"SERVER_UNAVAILABLE","latency":"2s"}.
type Fault struct {
	// Method matches the request method; "" or "*" matches any.
	Method string `json:"method,omitempty"`
	// Path matches the request path; "*" in the pattern matches any run of
	// characters, including "/", and "{name}" (as in net/http patterns)
	// matches one path segment: "/services/async/*/job/{id}" is a Bulk API
	// 1.0 job itself, not its batches. "" matches every path.
	Path string `json:"path,omitempty"`
	// BodyContains, when set, matches only requests whose body (its first
	// MaxFaultBodyBytes, decoded when gzipped) contains this text: a Bulk API
	// 1.0 close ("Closed") told from an abort ("Aborted") on the same path.
	BodyContains string `json:"bodyContains,omitempty"`
	// Times is how many matching requests are disturbed; 0 means 1 and a
	// negative value means every matching request until the fault is cleared.
	Times int `json:"times,omitempty"`
	// Probability, when in (0,1), disturbs only that fraction of matching
	// requests, chosen by the server's seeded generator (deterministic for a
	// given seed and request order). 0 means always.
	Probability float64 `json:"probability,omitempty"`
	// Status is the HTTP status to answer with (0: no error response).
	Status int `json:"status,omitempty"`
	// ErrorCode and Message fill the error body in the shape of the API the
	// path belongs to; empty means a default for Status.
	ErrorCode string `json:"errorCode,omitempty"`
	Message   string `json:"message,omitempty"`
	// RetryAfter, if positive, is sent as a Retry-After header (seconds).
	RetryAfter int `json:"retryAfter,omitempty"`
	// Drop closes the connection without a response, after reading the
	// request body.
	Drop bool `json:"drop,omitempty"`
	// Latency delays the request on the server's clock before anything else.
	Latency time.Duration `json:"-"`
	// After serves the request first and then disturbs its answer (Drop, or Status in
	// place of the real response): the request is applied but the client never learns
	// its result, as when a connection breaks after the server did the work.
	After bool `json:"after,omitempty"`
}

// MaxFaultBodyBytes is how much of a request body Fault.BodyContains looks at.
const MaxFaultBodyBytes = 64 << 10

// faultView is how the control endpoint lists an active fault.
type faultView struct {
	ID    int   `json:"id"`
	Fault Fault `json:"fault"`
	// Remaining is how many more requests it will disturb (-1: unlimited).
	Remaining int `json:"remaining"`
}

// MarshalJSON encodes Latency as a Go duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	type plain Fault
	v := struct {
		plain
		Latency string `json:"latency,omitempty"`
	}{plain: plain(f)}
	if f.Latency > 0 {
		v.Latency = f.Latency.String()
	}
	return json.Marshal(v)
}

// UnmarshalJSON decodes Latency from a Go duration string ("250ms") or a
// number of milliseconds.
func (f *Fault) UnmarshalJSON(b []byte) error {
	type plain Fault
	var v struct {
		plain
		Latency json.RawMessage `json:"latency"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Fault(v.plain)
	if len(v.Latency) > 0 && string(v.Latency) != "null" {
		var s string
		var ms float64
		switch {
		case json.Unmarshal(v.Latency, &s) == nil:
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("latency: %w", err)
			}
			f.Latency = d
		case json.Unmarshal(v.Latency, &ms) == nil:
			f.Latency = time.Duration(ms * float64(time.Millisecond))
		default:
			return fmt.Errorf("latency: want a duration string or milliseconds, got %s", v.Latency)
		}
	}
	return nil
}

func (f Fault) validate() error {
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return fmt.Errorf("fault status %d out of range", f.Status)
	}
	if f.Probability < 0 || f.Probability > 1 {
		return fmt.Errorf("fault probability %v not in [0,1]", f.Probability)
	}
	if f.Latency < 0 {
		return fmt.Errorf("fault latency %v is negative", f.Latency)
	}
	if f.Status == 0 && !f.Drop && f.Latency == 0 {
		return fmt.Errorf("fault does nothing: set status, drop or latency")
	}
	return nil
}

// faultSet holds active faults. Safe for concurrent use.
type faultSet struct {
	mu     sync.Mutex
	rng    *rand.Rand
	active []*activeFault
	nextID int
}

type activeFault struct {
	id        int
	f         Fault
	remaining int // <0 = unlimited
}

func newFaultSet(seed int64) *faultSet {
	return &faultSet{rng: rand.New(rand.NewPCG(uint64(seed), 0x5fba7c4))}
}

func (fs *faultSet) add(f Fault) (int, error) {
	if err := f.validate(); err != nil {
		return 0, err
	}
	n := f.Times
	switch {
	case n == 0:
		n = 1
	case n < 0:
		n = -1
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.nextID++
	fs.active = append(fs.active, &activeFault{id: fs.nextID, f: f, remaining: n})
	return fs.nextID, nil
}

func (fs *faultSet) clear() {
	fs.mu.Lock()
	fs.active = nil
	fs.mu.Unlock()
}

func (fs *faultSet) list() []faultView {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]faultView, 0, len(fs.active))
	for _, a := range fs.active {
		out = append(out, faultView{ID: a.id, Fault: a.f, Remaining: a.remaining})
	}
	return out
}

func (fs *faultSet) remaining(id int) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, a := range fs.active {
		if a.id == id {
			return a.remaining
		}
	}
	return 0
}

func (fs *faultSet) remove(id int) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, a := range fs.active {
		if a.id == id {
			fs.active = append(fs.active[:i:i], fs.active[i+1:]...)
			return true
		}
	}
	return false
}

// wantsBody reports whether an active fault matches on the request body, so
// that it must be read before match.
func (fs *faultSet) wantsBody() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, a := range fs.active {
		if a.f.BodyContains != "" {
			return true
		}
	}
	return false
}

// match returns the first fault that applies to the request, consuming one
// of its uses, or false. body is the start of the request body (see
// peekBody), read only when wantsBody says so.
func (fs *faultSet) match(method, path string, body []byte) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, a := range fs.active {
		if a.f.Method != "" && a.f.Method != "*" && !strings.EqualFold(a.f.Method, method) {
			continue
		}
		if a.f.Path != "" && !globMatch(a.f.Path, path) {
			continue
		}
		if a.f.BodyContains != "" && !bytes.Contains(body, []byte(a.f.BodyContains)) {
			continue
		}
		if p := a.f.Probability; p > 0 && p < 1 && fs.rng.Float64() >= p {
			continue
		}
		if a.remaining > 0 {
			a.remaining--
			if a.remaining == 0 {
				fs.active = append(fs.active[:i:i], fs.active[i+1:]...)
			}
		}
		return a.f, true
	}
	return Fault{}, false
}

// globMatch matches s against pattern, where '*' matches any run of
// characters (including none and including '/') and "{name}" matches one
// path segment (one or more characters other than '/').
func globMatch(pattern, s string) bool {
	i := strings.IndexAny(pattern, "*{")
	if i < 0 {
		return pattern == s
	}
	if !strings.HasPrefix(s, pattern[:i]) {
		return false
	}
	s = s[i:]
	if pattern[i] == '*' {
		rest := pattern[i+1:]
		if rest == "" {
			return true
		}
		for k := 0; k <= len(s); k++ {
			if globMatch(rest, s[k:]) {
				return true
			}
		}
		return false
	}
	end := strings.IndexByte(pattern[i:], '}')
	if end < 0 {
		return pattern[i:] == s // a '{' without '}' is itself
	}
	rest := pattern[i+end+1:]
	for k := 1; k <= len(s) && s[k-1] != '/'; k++ {
		if globMatch(rest, s[k:]) {
			return true
		}
	}
	return false
}

// peekBody returns the first MaxFaultBodyBytes of r's body, decoded when it
// is gzipped, and puts what it read back so that the request is served whole.
func peekBody(r *http.Request) []byte {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, MaxFaultBodyBytes))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(raw), r.Body), r.Body}
	if !strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		return raw
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return raw
	}
	out, _ := io.ReadAll(io.LimitReader(zr, MaxFaultBodyBytes)) // a cut-off stream still gives its start
	return out
}

// applyFault runs a matched fault. It reports whether the request was
// answered (or dropped) and must not be served further.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Latency > 0 {
		select {
		case <-s.clock.After(f.Latency):
		case <-r.Context().Done():
			return true
		}
	}
	if f.Drop {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20))
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler) // HTTP/2: reset the stream
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(f.RetryAfter))
	}
	code, msg := f.ErrorCode, f.Message
	if code == "" {
		code = defaultFaultCode(f.Status)
	}
	if msg == "" {
		msg = defaultFaultMessage(code)
	}
	writeFamilyError(w, r, f.Status, code, msg)
	return true
}

func defaultFaultCode(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "INVALID_SESSION_ID"
	case http.StatusForbidden:
		return "REQUEST_LIMIT_EXCEEDED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusServiceUnavailable:
		return "SERVER_UNAVAILABLE"
	case http.StatusTooManyRequests:
		return "REQUEST_LIMIT_EXCEEDED"
	}
	if status >= 500 {
		return "UNKNOWN_EXCEPTION"
	}
	return "INVALID_REQUEST"
}

func defaultFaultMessage(code string) string {
	switch code {
	case "INVALID_SESSION_ID":
		return "Session expired or invalid"
	case "REQUEST_LIMIT_EXCEEDED":
		return "TotalRequests Limit exceeded."
	case "SERVER_UNAVAILABLE":
		return "Server is temporarily unavailable. Please try again later."
	case "UNKNOWN_EXCEPTION":
		return "An unexpected error occurred. Please include this ErrorId if you contact support: 0000000-000000 (emulated)"
	case "NOT_FOUND":
		return "The requested resource does not exist"
	}
	return code
}

// writeFamilyError answers with an error body in the shape of the API the
// request's path belongs to: SOAP fault, OAuth error object, Bulk 1.0
// <error>, or the REST JSON array.
func writeFamilyError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/services/Soap/"):
		ep, ok := parseSOAPPath(p)
		if !ok {
			ep = soapEndpoint{kind: "u"}
		}
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="`)
		b.WriteString(ep.faultNamespace())
		b.WriteString(`"><soapenv:Body><soapenv:Fault><faultcode>sf:` + xmlText(code) + `</faultcode><faultstring>` + xmlText(code+": "+msg) + `</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`)
		writeSOAP(w, status, []byte(b.String()))
	case strings.HasPrefix(p, "/services/oauth2/"):
		oauthFail(w, status, strings.ToLower(code), msg)
	case strings.HasPrefix(p, "/services/async/"):
		writeBulk1Error(w, r, status, code, msg)
	default:
		wire.WriteError(w, status, code, msg)
	}
}
