package rest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
)

// SOSL limits.
const (
	// MaxSearchResults is the most records one search returns (and the
	// default overall LIMIT).
	MaxSearchResults = 2000
	// minSearchTermChars is the shortest search term Salesforce accepts.
	minSearchTermChars = 2
)

// CodeMalformedSearch is the error code of a SOSL statement that does not
// parse.
const CodeMalformedSearch = "MALFORMED_SEARCH"

// searchScope is the IN ... FIELDS clause.
type searchScope string

const (
	scopeAll   searchScope = "ALL"
	scopeName  searchScope = "NAME"
	scopeEmail searchScope = "EMAIL"
	scopePhone searchScope = "PHONE"
)

// returning is one object of the RETURNING clause.
type returning struct {
	object string
	fields []string // empty: Id only
	where  string   // SOQL condition text, "" for none
	order  string   // SOQL ORDER BY text
	limit  int      // 0: none
}

// searchRequest is a parsed search: SOSL text or a parameterizedSearch.
type searchRequest struct {
	term      string
	scope     searchScope
	returning []returning // empty: every searchable object, Id only
	limit     int
}

// search serves GET search?q=FIND {...} and GET/POST parameterizedSearch.
// The answer is {"searchRecords":[...]}: matching records of each object in
// RETURNING order, each with its attributes and the fields asked for.
func (h *Handler) search(w http.ResponseWriter, q *request) {
	if len(q.parts) != 1 {
		notFound(w)
		return
	}
	var sr *searchRequest
	var msg string
	if q.parts[0] == "search" {
		if !allow(w, q.r.Method, http.MethodGet) {
			return
		}
		text := q.r.URL.Query().Get("q")
		if strings.TrimSpace(text) == "" {
			wire.WriteError(w, http.StatusBadRequest, CodeMalformedSearch, "No search term found. The search term must be enclosed in braces.")
			return
		}
		sr, msg = parseSOSL(text)
	} else {
		if !allow(w, q.r.Method, http.MethodGet, http.MethodPost) {
			return
		}
		sr, msg = h.parseParameterized(q.r)
	}
	if msg != "" {
		wire.WriteError(w, http.StatusBadRequest, CodeMalformedSearch, msg)
		return
	}
	if len(strings.Trim(sr.term, `*?" `)) < minSearchTermChars {
		wire.WriteError(w, http.StatusBadRequest, "INVALID_SEARCH", "search term must be longer than one character: "+sr.term)
		return
	}
	if len(sr.returning) == 0 {
		for _, ob := range h.org.Objects() {
			if ob.Name != "Organization" {
				sr.returning = append(sr.returning, returning{object: ob.Name})
			}
		}
	}
	h.runSearch(w, q, sr)
}

func (h *Handler) runSearch(w http.ResponseWriter, q *request, sr *searchRequest) {
	overall := sr.limit
	if overall <= 0 || overall > MaxSearchResults {
		overall = MaxSearchResults
	}
	enc := newRecordEncoder(q.ver)
	b := []byte(`{"searchRecords":[`)
	n := 0
	for _, rt := range sr.returning {
		if n >= overall {
			break
		}
		ob, ok := h.org.Object(rt.object)
		if !ok {
			wire.WriteError(w, http.StatusBadRequest, "INVALID_TYPE", "sObject type '"+rt.object+"' is not supported.")
			return
		}
		ids, err := h.matchingIDs(q, ob, sr, rt)
		if err != nil {
			writeOrgError(w, err)
			return
		}
		if len(ids) == 0 {
			continue
		}
		fields := rt.fields
		if len(fields) == 0 {
			fields = []string{"Id"}
		}
		soql := "SELECT " + strings.Join(fields, ", ") + " FROM " + ob.Name + " WHERE Id IN ('" + strings.Join(ids, "','") + "')"
		if rt.order != "" {
			soql += " ORDER BY " + rt.order
		}
		limit := overall - n
		if rt.limit > 0 {
			limit = min(limit, rt.limit)
		}
		soql += " LIMIT " + strconv.Itoa(limit)
		res, err := h.org.Query(q.r.Context(), soql, false)
		if err != nil {
			writeOrgError(w, err)
			return
		}
		for i := range res.Len() {
			if n > 0 {
				b = append(b, ',')
			}
			b = enc.appendRecord(b, res.Record(i), res.Columns)
			n++
		}
	}
	b = append(b, "]}"...)
	writeJSONBytes(w, http.StatusOK, b)
}

// matchingIDs returns the ids of ob's records (passing rt.where) whose
// fields in scope match the search term.
func (h *Handler) matchingIDs(q *request, ob *org.Object, sr *searchRequest, rt returning) ([]string, error) {
	var fields []string
	for _, f := range ob.Fields {
		if inScope(f, sr.scope) {
			fields = append(fields, f.Name)
		}
	}
	if len(fields) == 0 {
		return nil, nil
	}
	soql := "SELECT Id, " + strings.Join(fields, ", ") + " FROM " + ob.Name
	if rt.where != "" {
		soql += " WHERE " + rt.where
	}
	res, err := h.org.Query(q.r.Context(), soql, false)
	if err != nil {
		return nil, err
	}
	terms := searchTerms(sr.term)
	var ids []string
	for i := range res.Len() {
		vals := res.Values(i)
		var texts []string
		for _, v := range vals[1:] {
			if s, ok := v.(string); ok && s != "" {
				texts = append(texts, s)
			}
		}
		if matchesAll(terms, texts) {
			ids = append(ids, vals[0].(string))
		}
	}
	return ids, nil
}

// inScope reports whether a search in scope looks at f.
func inScope(f *org.Field, scope searchScope) bool {
	switch scope {
	case scopeName:
		return f.NameField || f.Name == "FirstName" || f.Name == "LastName"
	case scopeEmail:
		return f.Type == org.TypeEmail
	case scopePhone:
		return f.Type == org.TypePhone
	}
	switch f.Type {
	case org.TypeString, org.TypeTextArea, org.TypeEmail, org.TypePhone, org.TypeURL, org.TypePicklist, org.TypeMultiPicklist:
		return f.Name != "VersionData"
	}
	return false
}

// searchTerms splits a search expression into terms that must all match:
// words, "quoted phrases", with * and ? wildcards; AND is implied and the
// words AND/OR/NOT are not operators here (OR-groups are a known gap).
func searchTerms(expr string) []string {
	var out []string
	for len(expr) > 0 {
		expr = strings.TrimLeft(expr, " \t")
		if expr == "" {
			break
		}
		if expr[0] == '"' {
			end := strings.IndexByte(expr[1:], '"')
			if end < 0 {
				out = append(out, strings.ToLower(expr[1:]))
				break
			}
			out = append(out, strings.ToLower(expr[1:1+end]))
			expr = expr[2+end:]
			continue
		}
		word, rest, _ := strings.Cut(expr, " ")
		expr = rest
		if up := strings.ToUpper(word); up == "AND" || up == "OR" || up == "AND NOT" {
			continue
		}
		out = append(out, strings.ToLower(word))
	}
	return out
}

// matchesAll reports whether every term matches one of texts.
func matchesAll(terms, texts []string) bool {
	for _, t := range terms {
		if !slices.ContainsFunc(texts, func(s string) bool { return termMatches(t, s) }) {
			return false
		}
	}
	return len(terms) > 0
}

// termMatches matches a lower-case term against a field value the way
// SOSL's tokens do: a word term against whole words (with * and ?
// wildcards), a term with punctuation or spaces (an email, a phrase)
// against the value's text.
func termMatches(term, value string) bool {
	v := strings.ToLower(value)
	if strings.IndexFunc(term, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '*' && r != '?' }) >= 0 {
		return strings.Contains(v, strings.Trim(term, "*"))
	}
	for _, word := range strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if globMatch(term, word) {
			return true
		}
	}
	return false
}

// globMatch matches s against p, where * is any run and ? one character.
func globMatch(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && globMatch(p[1:], s[1:])
	}
	return s != "" && p[0] == s[0] && globMatch(p[1:], s[1:])
}

// parseSOSL parses FIND {term} [IN scope FIELDS] [RETURNING obj[(fields
// [WHERE ...] [ORDER BY ...] [LIMIT n])], ...] [LIMIT n]; msg says what is
// wrong.
func parseSOSL(text string) (*searchRequest, string) {
	s := strings.TrimSpace(text)
	kw, rest := cutWord(s)
	if !strings.EqualFold(kw, "FIND") {
		return nil, "unexpected token: " + kw
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "{") {
		return nil, "No search term found. The search term must be enclosed in braces."
	}
	var term strings.Builder
	i := 1
	for ; i < len(rest) && rest[i] != '}'; i++ {
		if rest[i] == '\\' && i+1 < len(rest) {
			i++
		}
		term.WriteByte(rest[i])
	}
	if i >= len(rest) {
		return nil, "unexpected end of search term: missing '}'"
	}
	sr := &searchRequest{term: term.String(), scope: scopeAll}
	rest = strings.TrimSpace(rest[i+1:])
	for rest != "" {
		kw, after := cutWord(rest)
		switch strings.ToUpper(kw) {
		case "IN":
			scope, after2 := cutWord(strings.TrimSpace(after))
			fields, after3 := cutWord(strings.TrimSpace(after2))
			switch sc := searchScope(strings.ToUpper(scope)); sc {
			case scopeAll, scopeName, scopeEmail, scopePhone, "SIDEBAR":
				if sc == "SIDEBAR" {
					sc = scopeAll
				}
				sr.scope = sc
			default:
				return nil, "unexpected token: " + scope
			}
			if !strings.EqualFold(fields, "FIELDS") {
				return nil, "unexpected token: " + fields + " (expected FIELDS)"
			}
			rest = strings.TrimSpace(after3)
		case "RETURNING":
			var msg string
			sr.returning, rest, msg = parseReturning(strings.TrimSpace(after))
			if msg != "" {
				return nil, msg
			}
		case "LIMIT":
			num, after2 := cutWord(strings.TrimSpace(after))
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 {
				return nil, "unexpected token: " + num + " (expected a LIMIT)"
			}
			sr.limit = n
			rest = strings.TrimSpace(after2)
		default:
			return nil, "unexpected token: " + kw
		}
	}
	return sr, ""
}

// cutWord splits s at the first space, comma or parenthesis.
func cutWord(s string) (word, rest string) {
	i := strings.IndexAny(s, " \t\n,()")
	if i < 0 {
		return s, ""
	}
	if i == 0 {
		return s[:1], s[1:]
	}
	return s[:i], s[i:]
}

// parseReturning parses the RETURNING list up to the first top-level
// keyword it does not own (LIMIT), returning what follows.
func parseReturning(s string) ([]returning, string, string) {
	var out []returning
	for {
		name, rest := cutWord(s)
		if name == "" || name == "," || name == "(" {
			return nil, "", "unexpected token in RETURNING: " + name
		}
		rt := returning{object: name}
		rest = strings.TrimLeft(rest, " \t")
		if strings.HasPrefix(rest, "(") {
			depth, end := 0, -1
			inQuote := false
			for i := 0; i < len(rest) && end < 0; i++ {
				switch c := rest[i]; {
				case c == '\\' && inQuote:
					i++
				case c == '\'':
					inQuote = !inQuote
				case inQuote:
				case c == '(':
					depth++
				case c == ')':
					depth--
					if depth == 0 {
						end = i
					}
				}
			}
			if end < 0 {
				return nil, "", "unexpected end of RETURNING: missing ')'"
			}
			if msg := parseReturningBody(&rt, rest[1:end]); msg != "" {
				return nil, "", msg
			}
			rest = strings.TrimLeft(rest[end+1:], " \t")
		}
		out = append(out, rt)
		if !strings.HasPrefix(rest, ",") {
			return out, strings.TrimSpace(rest), ""
		}
		s = strings.TrimSpace(rest[1:])
	}
}

// parseReturningBody parses "f1, f2 [WHERE ...] [ORDER BY ...] [LIMIT n]".
func parseReturningBody(rt *returning, body string) string {
	up := asciiUpper(body) // same length as body, so indexes carry over
	cut := func(kw string) int {
		i := indexKeyword(up, kw)
		return i
	}
	ends := len(body)
	iw, io, il := cut("WHERE"), cut("ORDER BY"), cut("LIMIT")
	for _, i := range []int{iw, io, il} {
		if i >= 0 && i < ends {
			ends = i
		}
	}
	for _, f := range strings.Split(body[:ends], ",") {
		if f = strings.TrimSpace(f); f != "" {
			rt.fields = append(rt.fields, f)
		}
	}
	part := func(start int, kwLen int) string {
		if start < 0 {
			return ""
		}
		end := len(body)
		for _, i := range []int{iw, io, il} {
			if i > start && i < end {
				end = i
			}
		}
		return strings.TrimSpace(body[start+kwLen : end])
	}
	rt.where = part(iw, len("WHERE"))
	rt.order = part(io, len("ORDER BY"))
	if l := part(il, len("LIMIT")); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return "unexpected token: " + l + " (expected a LIMIT)"
		}
		rt.limit = n
	}
	return ""
}

// indexKeyword finds kw as a whole word outside quotes in up (upper case).
func indexKeyword(up, kw string) int {
	inQuote := false
	for i := 0; i+len(kw) <= len(up); i++ {
		c := up[i]
		if c == '\\' && inQuote {
			i++
			continue
		}
		if c == '\'' {
			inQuote = !inQuote
			continue
		}
		if inQuote || !strings.HasPrefix(up[i:], kw) {
			continue
		}
		before := i == 0 || up[i-1] == ' ' || up[i-1] == '\t' || up[i-1] == '\n'
		after := i+len(kw) == len(up) || strings.ContainsRune(" \t\n", rune(up[i+len(kw)]))
		if before && after {
			return i
		}
	}
	return -1
}

// parameterizedBody is the POST body of parameterizedSearch.
type parameterizedBody struct {
	Q            string   `json:"q"`
	In           string   `json:"in"`
	Fields       []string `json:"fields"`
	OverallLimit int      `json:"overallLimit"`
	SObjects     []struct {
		Name   string   `json:"name"`
		Fields []string `json:"fields"`
		Where  string   `json:"where"`
		Limit  int      `json:"limit"`
	} `json:"sobjects"`
}

// parseParameterized reads a parameterizedSearch: GET with q, in,
// sobject (repeatable), fields, {object}.fields, {object}.limit and
// overallLimit, or POST with the same as JSON.
func (h *Handler) parseParameterized(r *http.Request) (*searchRequest, string) {
	var pb parameterizedBody
	if r.Method == http.MethodPost {
		body, err := readBody(r)
		if err != nil {
			return nil, err.Error()
		}
		if err := json.Unmarshal(body, &pb); err != nil {
			return nil, "malformed request body: " + err.Error()
		}
	} else {
		v := r.URL.Query()
		pb.Q, pb.In = v.Get("q"), v.Get("in")
		if f := v.Get("fields"); f != "" {
			pb.Fields = strings.Split(f, ",")
		}
		pb.OverallLimit, _ = strconv.Atoi(v.Get("overallLimit"))
		for _, name := range v["sobject"] {
			o := struct {
				Name   string   `json:"name"`
				Fields []string `json:"fields"`
				Where  string   `json:"where"`
				Limit  int      `json:"limit"`
			}{Name: name}
			if f := v.Get(name + ".fields"); f != "" {
				o.Fields = strings.Split(f, ",")
			}
			o.Limit, _ = strconv.Atoi(v.Get(name + ".limit"))
			pb.SObjects = append(pb.SObjects, o)
		}
	}
	if strings.TrimSpace(pb.Q) == "" {
		return nil, "missing required parameter: q"
	}
	sr := &searchRequest{term: pb.Q, scope: scopeAll, limit: pb.OverallLimit}
	if pb.In != "" {
		sr.scope = searchScope(strings.ToUpper(pb.In))
		switch sr.scope {
		case scopeAll, scopeName, scopeEmail, scopePhone:
		default:
			return nil, "invalid value for in: " + pb.In
		}
	}
	for _, o := range pb.SObjects {
		fields := o.Fields
		if len(fields) == 0 {
			fields = pb.Fields
		}
		sr.returning = append(sr.returning, returning{object: o.Name, fields: fields, where: o.Where, limit: o.Limit})
	}
	if len(sr.returning) == 0 && len(pb.Fields) > 0 {
		return nil, "fields requires sobject"
	}
	return sr, ""
}

// asciiUpper upper-cases ASCII letters only, keeping every byte in place.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
