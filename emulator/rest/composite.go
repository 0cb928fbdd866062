package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/sfbatch/sfbatch/emulator/wire"
)

// Messages of halted composite subrequests.
const (
	msgBatchHalted     = "Batch processing halted per request"
	msgRolledBack      = "The transaction was rolled back since another operation in the same transaction failed."
	codeProcessingHalt = "PROCESSING_HALTED"
)

func (h *Handler) composite(w http.ResponseWriter, q *request) {
	p := q.parts[1:]
	if len(p) == 0 {
		switch q.r.Method {
		case http.MethodGet, http.MethodHead:
			base := "/services/data/v" + q.ver + "/composite/"
			wire.WriteJSON(w, http.StatusOK, map[string]string{
				"batch": base + "batch", "sobjects": base + "sobjects", "tree": base + "tree", "graph": base + "graph",
			})
		case http.MethodPost:
			h.compositeRequest(w, q)
		default:
			allow(w, q.r.Method, http.MethodGet, http.MethodPost)
		}
		return
	}
	switch p[0] {
	case "batch":
		if len(p) == 1 && allow(w, q.r.Method, http.MethodPost) {
			h.compositeBatch(w, q)
		} else if len(p) != 1 {
			notFound(w)
		}
	case "sobjects":
		h.collections(w, q, p[1:])
	case "graph":
		if len(p) == 1 && allow(w, q.r.Method, http.MethodPost) {
			h.compositeGraph(w, q)
		} else if len(p) != 1 {
			notFound(w)
		}
	case "tree":
		if len(p) == 2 && allow(w, q.r.Method, http.MethodPost) {
			h.compositeTree(w, q, p[1])
		} else if len(p) != 2 {
			notFound(w)
		}
	default:
		notFound(w)
	}
}

// recorder captures a subrequest's response.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}

// dispatch runs one subrequest through this handler, with the parent's
// context (session, journal).
func (h *Handler) dispatch(ctx context.Context, method, target string, body []byte, headers map[string]string) *recorder {
	rec := &recorder{header: http.Header{}}
	u, err := url.Parse(target)
	if err != nil {
		u, err = url.Parse(strings.ReplaceAll(target, " ", "%20"))
	}
	if err != nil || !strings.HasPrefix(u.Path, "/services/data/v") {
		wire.WriteError(rec, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return rec
	}
	u.RawQuery = fixQuery(u.RawQuery)
	r, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		wire.WriteError(rec, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return rec
	}
	r.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	if isComposite(u.Path) {
		wire.WriteError(rec, http.StatusBadRequest, "INVALID_REQUEST", "composite requests cannot be nested")
		return rec
	}
	h.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec
}

// fixQuery escapes characters url.ParseQuery would reject in a raw query
// that was written by hand (spaces, quotes), keeping existing escapes.
func fixQuery(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == ' ':
			b.WriteString("%20")
		case c == '%' && (i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2])):
			b.WriteString("%25")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// isComposite reports whether p is a /composite, /composite/batch or
// /composite/graph path (collections and tree, under /composite/sobjects
// and /composite/tree, may be nested).
func isComposite(p string) bool {
	rest := strings.TrimPrefix(p, "/services/data/")
	_, after, _ := strings.Cut(rest, "/")
	after = strings.Trim(after, "/")
	return after == "composite" || after == "composite/batch" || after == "composite/graph"
}

// resultJSON returns a subresponse body as JSON (null when empty).
func (r *recorder) resultJSON() json.RawMessage {
	b := bytes.TrimSpace(r.body.Bytes())
	if len(b) == 0 || !json.Valid(b) {
		return json.RawMessage("null")
	}
	return json.RawMessage(b)
}

type batchSubrequest struct {
	Method    string          `json:"method"`
	URL       string          `json:"url"`
	RichInput json.RawMessage `json:"richInput"`
}

type batchResult struct {
	StatusCode int             `json:"statusCode"`
	Result     json.RawMessage `json:"result"`
}

func validMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete, http.MethodHead:
		return true
	}
	return false
}

// compositeBatch serves POST /composite/batch.
func (h *Handler) compositeBatch(w http.ResponseWriter, q *request) {
	body, err := readBody(q.r)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	var in struct {
		HaltOnError   bool              `json:"haltOnError"`
		BatchRequests []batchSubrequest `json:"batchRequests"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	n := len(in.BatchRequests)
	if n == 0 {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_BATCH_REQUEST", "At least one batch request is required.")
		return
	}
	if n > MaxBatchSubrequests {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_BATCH_REQUEST",
			fmt.Sprintf("A maximum of %d batch requests can be executed. The request contained %d.", MaxBatchSubrequests, n))
		return
	}
	targets := make([]string, n)
	for i, sr := range in.BatchRequests {
		m := strings.ToUpper(sr.Method)
		u := strings.TrimPrefix(sr.URL, "/services/data/")
		u = strings.TrimPrefix(u, "/")
		if !validMethod(m) || !strings.HasPrefix(u, "v") {
			wire.WriteError(w, http.StatusBadRequest, "INVALID_BATCH_REQUEST",
				fmt.Sprintf("Invalid method or url in batch request %d: %s %s", i, sr.Method, sr.URL))
			return
		}
		in.BatchRequests[i].Method = m
		targets[i] = "/services/data/" + u
	}
	results := make([]batchResult, n)
	hasErrors, halted := false, false
	for i, sr := range in.BatchRequests {
		if halted {
			results[i] = batchResult{StatusCode: http.StatusPreconditionFailed,
				Result: entityEncodeJSON(mustJSON([]wire.Error{{ErrorCode: "BATCH_PROCESSING_HALTED", Message: msgBatchHalted}}))}
			continue
		}
		var sub []byte
		if len(sr.RichInput) > 0 && string(sr.RichInput) != "null" {
			sub = sr.RichInput
		}
		rec := h.dispatch(q.r.Context(), sr.Method, targets[i], sub, nil)
		// Strings in batch results are entity encoded, as Connect does (entity.go).
		results[i] = batchResult{StatusCode: rec.status, Result: entityEncodeJSON(rec.resultJSON())}
		if rec.status >= 400 {
			hasErrors = true
			halted = in.HaltOnError
		}
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"hasErrors": hasErrors, "results": results})
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

type compositeSubrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        json.RawMessage   `json:"body"`
	HTTPHeaders map[string]string `json:"httpHeaders"`
}

type compositeSubresponse struct {
	Body           json.RawMessage   `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    string            `json:"referenceId"`
}

var (
	referenceIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_]*$`)
	referencePattern   = regexp.MustCompile(`@\{([A-Za-z0-9][A-Za-z0-9_]*)((?:\.[A-Za-z0-9_]+|\[[0-9]+\])*)\}`)
)

// compositeRequest serves POST /composite.
func (h *Handler) compositeRequest(w http.ResponseWriter, q *request) {
	body, err := readBody(q.r)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	var in struct {
		AllOrNone          bool                  `json:"allOrNone"`
		CollateSubrequests *bool                 `json:"collateSubrequests"`
		CompositeRequest   []compositeSubrequest `json:"compositeRequest"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		wire.WriteError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	if msg := validateSubrequests(in.CompositeRequest); msg != "" {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_REQUEST", msg)
		return
	}
	out, _ := h.runComposite(q.r.Context(), q.userID, in.CompositeRequest, in.AllOrNone)
	wire.WriteJSON(w, http.StatusOK, map[string]any{"compositeResponse": out})
}

// validateSubrequests checks a composite request's shape; it returns the
// error message, or "" when the request may run.
func validateSubrequests(subs []compositeSubrequest) string {
	if len(subs) == 0 {
		return "The compositeRequest list must contain at least one subrequest."
	}
	if len(subs) > MaxCompositeSubrequests {
		return fmt.Sprintf("Limit Exceeded: Maximum number of subrequests allowed is %d; the request contained %d.", MaxCompositeSubrequests, len(subs))
	}
	seen := map[string]bool{}
	queries := 0
	for i := range subs {
		s := &subs[i]
		s.Method = strings.ToUpper(s.Method)
		if !validMethod(s.Method) {
			return fmt.Sprintf("Invalid HTTP method %q in subrequest %d", s.Method, i)
		}
		if !strings.HasPrefix(s.URL, "/services/data/v") {
			return fmt.Sprintf("The url %q must start with /services/data/vXX.X", s.URL)
		}
		if !referenceIDPattern.MatchString(s.ReferenceID) {
			return fmt.Sprintf("Invalid referenceId %q: it must start with a letter or digit and contain only letters, digits and underscores", s.ReferenceID)
		}
		if seen[s.ReferenceID] {
			return fmt.Sprintf("Duplicate referenceId %q", s.ReferenceID)
		}
		seen[s.ReferenceID] = true
		if strings.Contains(s.URL, "/query") {
			queries++
		}
	}
	if queries > MaxCompositeQueries {
		return fmt.Sprintf("Limit Exceeded: Maximum number of query operations allowed is %d.", MaxCompositeQueries)
	}
	return ""
}

// runComposite executes subrequests in order, resolving references; with
// allOrNone the first failure rolls back every write and halts the rest. It
// reports whether every subrequest succeeded.
func (h *Handler) runComposite(ctx context.Context, userID string, subs []compositeSubrequest, allOrNone bool) ([]compositeSubresponse, bool) {
	var j *journal
	if allOrNone {
		j = &journal{}
		ctx = withJournal(ctx, j)
	}
	out := make([]compositeSubresponse, len(subs))
	values := map[string]any{} // referenceId -> decoded body of a successful subrequest
	// Only bodies that a later subrequest references are decoded.
	referenced := map[string]bool{}
	for _, s := range subs {
		for _, src := range []string{s.URL, string(s.Body)} {
			for _, m := range referencePattern.FindAllStringSubmatch(src, -1) {
				referenced[m[1]] = true
			}
		}
	}
	failedAt := -1
	ok := true
	for i, s := range subs {
		target, body, missing := resolveReferences(s, values)
		var rec *recorder
		if missing != "" {
			rec = &recorder{header: http.Header{}}
			ref, _, _ := strings.Cut(missing, ".")
			ref, _, _ = strings.Cut(ref, "[")
			wire.WriteError(rec, http.StatusBadRequest, codeProcessingHalt,
				fmt.Sprintf("Invalid reference specified. No value for %s found in %s. Provided referenceId ('%s') should be in valid format and be referenced from a valid subrequest in the request.", missing, ref, ref))
		} else {
			rec = h.dispatch(ctx, s.Method, target, body, s.HTTPHeaders)
		}
		hdrs := map[string]string{}
		if loc := rec.header.Get("Location"); loc != "" {
			hdrs["Location"] = loc
		}
		out[i] = compositeSubresponse{Body: rec.resultJSON(), HTTPHeaders: hdrs, HTTPStatusCode: rec.status, ReferenceID: s.ReferenceID}
		if rec.status < 400 {
			if !referenced[s.ReferenceID] {
				values[s.ReferenceID] = nil
				continue
			}
			var v any
			dec := json.NewDecoder(bytes.NewReader(out[i].Body))
			dec.UseNumber()
			if dec.Decode(&v) == nil {
				values[s.ReferenceID] = v
			}
			continue
		}
		ok = false
		if allOrNone {
			failedAt = i
			break
		}
	}
	if failedAt >= 0 {
		h.rollback(ctx, userID, j)
		halt := mustJSON([]wire.Error{{ErrorCode: codeProcessingHalt, Message: msgRolledBack}})
		for i := range out {
			if i == failedAt {
				continue
			}
			out[i] = compositeSubresponse{Body: halt, HTTPHeaders: map[string]string{}, HTTPStatusCode: http.StatusBadRequest, ReferenceID: subs[i].ReferenceID}
		}
	}
	return out, ok
}

// resolveReferences substitutes @{ref.path} in a subrequest's url and body
// with values from earlier subresponses. It returns the first reference
// that has no value ("" when all resolved).
func resolveReferences(s compositeSubrequest, values map[string]any) (string, []byte, string) {
	missing := ""
	lookup := func(m []string) (any, bool) {
		v, ok := values[m[1]]
		if !ok {
			return nil, false
		}
		return walkPath(v, m[2])
	}
	replaceString := func(str string, whole bool) any {
		if whole {
			if m := referencePattern.FindStringSubmatch(str); m != nil && m[0] == str {
				v, ok := lookup(m)
				if !ok {
					if missing == "" {
						missing = strings.TrimPrefix(m[0][2:len(m[0])-1], "")
					}
					return str
				}
				return v
			}
		}
		return referencePattern.ReplaceAllStringFunc(str, func(ref string) string {
			m := referencePattern.FindStringSubmatch(ref)
			v, ok := lookup(m)
			if !ok {
				if missing == "" {
					missing = ref[2 : len(ref)-1]
				}
				return ref
			}
			return scalarString(v)
		})
	}
	target, _ := replaceString(s.URL, false).(string)
	body := []byte(s.Body)
	if len(s.Body) > 0 && string(s.Body) != "null" && bytes.Contains(s.Body, []byte("@{")) {
		var v any
		dec := json.NewDecoder(bytes.NewReader(s.Body))
		dec.UseNumber()
		if dec.Decode(&v) == nil {
			var walk func(any) any
			walk = func(x any) any {
				switch t := x.(type) {
				case string:
					return replaceString(t, true)
				case map[string]any:
					for k, e := range t {
						t[k] = walk(e)
					}
				case []any:
					for i, e := range t {
						t[i] = walk(e)
					}
				}
				return x
			}
			v = walk(v)
			if b, err := json.Marshal(v); err == nil {
				body = b
			}
		}
	}
	if string(body) == "null" {
		body = nil
	}
	return target, body, missing
}

// walkPath follows ".field" and "[n]" steps into a decoded JSON value.
// Field names match case-insensitively when there is no exact match.
func walkPath(v any, path string) (any, bool) {
	for path != "" {
		if path[0] == '[' {
			end := strings.IndexByte(path, ']')
			n, err := strconv.Atoi(path[1:end])
			arr, ok := v.([]any)
			if err != nil || !ok || n >= len(arr) {
				return nil, false
			}
			v, path = arr[n], path[end+1:]
			continue
		}
		path = path[1:]
		end := strings.IndexAny(path, ".[")
		if end < 0 {
			end = len(path)
		}
		name := path[:end]
		path = path[end:]
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		next, ok := m[name]
		if !ok {
			for k, e := range m {
				if strings.EqualFold(k, name) {
					next, ok = e, true
					break
				}
			}
		}
		if !ok || next == nil {
			return nil, false
		}
		v = next
	}
	return v, true
}

// scalarString renders a JSON value for splicing into a string.
func scalarString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
