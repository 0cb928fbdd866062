package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// Limits of the REST and composite resources (protocol reference §7.1).
const (
	// MaxBatchSubrequests is the most subrequests in one /composite/batch.
	MaxBatchSubrequests = 25
	// MaxCompositeSubrequests is the most subrequests in one /composite.
	MaxCompositeSubrequests = 25
	// MaxCompositeQueries is how many of those may be queries.
	MaxCompositeQueries = 5
	// MaxCollectionRecords is the most records per collections write.
	MaxCollectionRecords = 200
	// MaxCollectionRetrieveIDs is the most ids per collections retrieve.
	MaxCollectionRetrieveIDs = 2000
	// DefaultQueryBatchSize is the page size of query results; clients may
	// ask for MinQueryBatchSize..MaxQueryBatchSize with Sforce-Query-Options.
	DefaultQueryBatchSize = 2000
	MinQueryBatchSize     = 200
	MaxQueryBatchSize     = 2000
	// MaxOpenCursors is how many query cursors one user may hold; opening
	// another closes the least recently used.
	MaxOpenCursors = 10
	// CursorIdleTimeout is how long an unused query cursor lives.
	CursorIdleTimeout = 15 * time.Minute
	// maxBody bounds a REST request body.
	maxBody = 50 << 20
)

// Options configures a Handler.
type Options struct {
	// Clock drives cursor expiry; nil means the wall clock.
	Clock clock.Clock
}

// Handler serves /services/data/v{ver}/... except /jobs (Bulk 2.0). It is
// safe for concurrent use.
type Handler struct {
	org     *org.Org
	clock   clock.Clock
	cursors *cursorStore
}

// New returns a Handler over o.
func New(o *org.Org, opts Options) *Handler {
	c := opts.Clock
	if c == nil {
		c = clock.Real{}
	}
	return &Handler{org: o, clock: c, cursors: newCursorStore(c)}
}

// Version is one entry of GET /services/data/.
type Version struct {
	Label   string `json:"label"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

// Versions lists every API version the emulator serves, ascending.
func Versions() []Version {
	var out []Version
	for v := wire.MinVersion; v <= wire.MaxVersion; v++ {
		vs := fmt.Sprintf("%d.0", v)
		out = append(out, Version{Label: releaseLabel(v), URL: "/services/data/v" + vs, Version: vs})
	}
	return out
}

// releaseLabel names the release of an API version: 60 = Spring '24,
// 61 = Summer '24, 62 = Winter '25, and so on every three versions.
func releaseLabel(v int) string {
	k := v - 60
	q, m := k/3, k%3
	if m < 0 {
		q, m = q-1, m+3
	}
	year := 24 + q
	season := [...]string{"Spring", "Summer", "Winter"}[m]
	if m == 2 {
		year++
	}
	return fmt.Sprintf("%s '%02d", season, year)
}

// request is a parsed REST request.
type request struct {
	r       *http.Request
	version wire.Version
	ver     string   // "62.0"
	parts   []string // path segments after /services/data/v62.0/
	userID  string
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/services/data/")
	if !ok {
		notFound(w)
		return
	}
	seg, tail, _ := strings.Cut(rest, "/")
	v, err := wire.ParseVersion(seg)
	if err != nil || !strings.HasPrefix(seg, "v") {
		notFound(w)
		return
	}
	if !v.Supported() {
		if v.Major < wire.MinVersion {
			wire.WriteError(w, http.StatusGone, "API_DISABLED_FOR_ORG", fmt.Sprintf("API version %s is no longer supported", v))
			return
		}
		notFound(w)
		return
	}
	req := &request{r: r, version: v, ver: v.String()}
	if s := wire.SessionFrom(r.Context()); s != nil {
		req.userID = s.UserID
	}
	tail = strings.Trim(tail, "/")
	if tail != "" {
		req.parts = strings.Split(tail, "/")
	}
	h.route(w, req)
}

func (h *Handler) route(w http.ResponseWriter, q *request) {
	p := q.parts
	m := q.r.Method
	if len(p) == 0 {
		if !allow(w, m, http.MethodGet) {
			return
		}
		h.resources(w, q)
		return
	}
	switch p[0] {
	case "limits":
		if len(p) == 1 && allow(w, m, http.MethodGet) {
			wire.WriteJSON(w, http.StatusOK, h.org.Limits())
		} else if len(p) != 1 {
			notFound(w)
		}
	case "sobjects":
		if isContentVersion(q.parts[1:]) && h.contentVersion(w, q) {
			return
		}
		h.sobjects(w, q)
	case "search", "parameterizedSearch":
		h.search(w, q)
	case "query", "queryAll":
		h.query(w, q)
	case "composite":
		h.composite(w, q)
	case "ui-api":
		h.uiAPI(w, q)
	default:
		notFound(w)
	}
}

func (h *Handler) resources(w http.ResponseWriter, q *request) {
	base := "/services/data/v" + q.ver + "/"
	out := map[string]string{}
	for _, k := range []string{"sobjects", "query", "queryAll", "search", "parameterizedSearch", "limits", "composite", "jobs"} {
		out[k] = base + k
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// allow answers 405 unless method is one of allowed.
func allow(w http.ResponseWriter, method string, allowed ...string) bool {
	for _, a := range allowed {
		if method == a || (a == http.MethodGet && method == http.MethodHead) {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ","))
	wire.WriteError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", method, strings.Join(allowed, ",")))
	return false
}

func notFound(w http.ResponseWriter) {
	wire.WriteError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
}

// readBody reads a bounded request body.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, errors.New("request body too large")
	}
	return b, nil
}

// writeJSONBytes writes pre-encoded JSON.
func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", wire.ContentTypeJSON)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// saveError is a record error in the REST single-record shape.
type saveError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields"`
}

// writeSaveErrors answers a failed single-record write: 404 for
// NOT_FOUND/ENTITY_IS_DELETED, else 400, with every error in the array.
func writeSaveErrors(w http.ResponseWriter, errs []org.Error) {
	status := http.StatusBadRequest
	out := make([]saveError, 0, len(errs))
	for _, e := range errs {
		f := e.Fields
		if f == nil {
			f = []string{}
		}
		out = append(out, saveError{Message: e.Message, ErrorCode: e.StatusCode, Fields: f})
		if e.StatusCode == org.CodeNotFound || e.StatusCode == org.CodeEntityIsDeleted {
			status = http.StatusNotFound
		}
	}
	if len(out) == 0 {
		out = append(out, saveError{Message: "unknown error", ErrorCode: "UNKNOWN_EXCEPTION", Fields: []string{}})
		status = http.StatusInternalServerError
	}
	wire.WriteJSON(w, status, out)
}

// writeOrgError answers an error from org.Get/Query.
func writeOrgError(w http.ResponseWriter, err error) {
	var oe *org.Error
	var qe *org.QueryError
	switch {
	case errors.As(err, &oe):
		writeSaveErrors(w, []org.Error{*oe})
	case errors.As(err, &qe):
		wire.WriteError(w, http.StatusBadRequest, qe.Code, qe.Message)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		wire.WriteError(w, http.StatusServiceUnavailable, "SERVER_UNAVAILABLE", "request cancelled")
	default:
		wire.WriteError(w, http.StatusInternalServerError, "UNKNOWN_EXCEPTION", err.Error())
	}
}

func atoiDefault(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}
