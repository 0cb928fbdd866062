package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Media types exactly as Salesforce sends them (protocol reference §0.4).
const (
	// ContentTypeJSON is used by REST, composite and Bulk 2.0 JSON responses.
	ContentTypeJSON = "application/json;charset=UTF-8"
	// ContentTypeCSV is used by Bulk 2.0 result files.
	ContentTypeCSV = "text/csv"
	// ContentTypeSOAP is used by SOAP responses and faults.
	ContentTypeSOAP = "text/xml;charset=UTF-8"
	// Bulk 1.0 uses the bare types with no charset parameter.
	ContentTypeBulk1XML  = "application/xml"
	ContentTypeBulk1JSON = "application/json"
	ContentTypeBulk1CSV  = "text/csv"
)

// Session is the authenticated caller of one request.
type Session struct {
	Token    string    // the access token / session id presented
	UserID   string    // 18-character User id
	Username string    // login name
	OrgID    string    // 18-character organization id
	Expires  time.Time // when the session stops being valid
}

type sessionKey struct{}

// WithSession returns a context carrying s.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the session the auth middleware stored in ctx, or nil.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// WriteJSON writes v as a JSON response with status and the REST media type.
// Like Salesforce, it does not escape <, > and & in strings.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`[{"message":"response encoding failed","errorCode":"UNKNOWN_EXCEPTION"}]`)
	}
	w.Header().Set("Content-Type", ContentTypeJSON)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Marshal encodes v as JSON without HTML escaping, the way Salesforce's
// responses spell <, > and &.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Error is one element of the REST error array (protocol reference §2.7).
type Error struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// WriteError writes Salesforce's REST error body: a JSON array with one
// {message, errorCode[, fields]} object.
func WriteError(w http.ResponseWriter, status int, code, message string, fields ...string) {
	WriteJSON(w, status, []Error{{Message: message, ErrorCode: code, Fields: fields}})
}

// Version is a parsed API version such as 62.0.
type Version struct{ Major, Minor int }

// String formats the version as Salesforce spells it without the "v": "62.0".
func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast reports whether v >= major.0.
func (v Version) AtLeast(major int) bool { return v.Major >= major }

// Supported API versions (protocol reference §0.2).
const (
	MinVersion = 31
	MaxVersion = 68
)

// ParseVersion parses "62.0" or "v62.0". It fails for malformed strings; it
// does not check the supported range (see Supported).
func ParseVersion(s string) (Version, error) {
	s = strings.TrimPrefix(s, "v")
	maj, min, ok := strings.Cut(s, ".")
	if !ok {
		return Version{}, fmt.Errorf("malformed API version %q", s)
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 {
		return Version{}, fmt.Errorf("malformed API version %q", s)
	}
	return Version{Major: a, Minor: b}, nil
}

// Supported reports whether the emulator serves v.
func (v Version) Supported() bool { return v.Major >= MinVersion && v.Major <= MaxVersion }

// FormatDateTime formats t the way REST record fields and Bulk 2.0 job
// metadata do: 2024-01-03T23:52:01.000+0000.
func FormatDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// FormatBulk1DateTime formats t the way Bulk 1.0 jobInfo and batchInfo do:
// 2015-12-15T21:41:45.000Z.
func FormatBulk1DateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
