package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// MaxCompositeBatchSubrequests is the most subrequests one composite batch call
// (/composite/batch) takes. CompositeBatch.Execute sends larger batches as several calls.
const MaxCompositeBatchSubrequests = 25

// Error codes of subrequests that did not run.
const (
	// CodeBatchProcessingHalted is the code Salesforce (and CompositeBatch, for subrequests it
	// never sent) gives subrequests skipped after a failure with HaltOnError, with status 412.
	CodeBatchProcessingHalted = "BATCH_PROCESSING_HALTED"
	// CodeProcessingHalted is the code of /composite subrequests rolled back or skipped
	// because another subrequest failed.
	CodeProcessingHalted = "PROCESSING_HALTED"
)

// ErrNotExecuted is returned by Subrequest.Err for a subrequest whose batch has not been
// executed (or whose call failed as a whole).
var ErrNotExecuted = errors.New("salesforce: subrequest not executed")

// BatchOptions controls a composite batch.
type BatchOptions struct {
	// HaltOnError skips every subrequest after the first failure, also across the several
	// calls a batch of more than MaxCompositeBatchSubrequests needs. Skipped subrequests get
	// status 412 and CodeBatchProcessingHalted.
	HaltOnError bool
	// AutoRaise makes Execute return the first failed subrequest's error (Subrequest.Err).
	AutoRaise bool
	// GroupErrors, with AutoRaise, makes Execute return errors.Join of every failed
	// subrequest's error instead of the first.
	GroupErrors bool
}

// CompositeBatch collects independent subrequests and runs them through /composite/batch.
// Build it with CompositeService.NewBatch, add subrequests with Query and the SObjects
// methods, then call Execute once; each subrequest's handle then holds its outcome.
//
// A CompositeBatch is not safe for concurrent use.
type CompositeBatch struct {
	// SObjects adds sObject subrequests (create, get, update, delete, upsert).
	SObjects *BatchSObjects

	svc      *CompositeService
	opts     BatchOptions
	subs     []*Subrequest
	buildErr error
	executed bool
}

// BatchSObjects adds sObject subrequests to a CompositeBatch.
type BatchSObjects struct{ b *CompositeBatch }

// NewBatch returns an empty composite batch.
func (s *CompositeService) NewBatch(opts BatchOptions) *CompositeBatch {
	b := &CompositeBatch{svc: s, opts: opts}
	b.SObjects = &BatchSObjects{b: b}
	return b
}

// Len returns the number of subrequests added so far.
func (b *CompositeBatch) Len() int { return len(b.subs) }

// BatchSubresponse is one subrequest's entry in a composite batch response.
type BatchSubresponse struct {
	StatusCode int `json:"statusCode"`
	// Result is the subrequest's response body. Salesforce HTML-entity encodes every string
	// in composite batch results (the Connect API's response body encoding: &, <, >, ", '
	// and \ arrive as &amp; &lt; &gt; &quot; &#39; &#92;); Execute decodes them, so Result
	// holds the values as stored.
	Result json.RawMessage `json:"result"`
}

// Subrequest is a handle on one subrequest of a CompositeBatch. Its accessors are meaningful
// after Execute.
type Subrequest struct {
	method, url string
	richInput   json.RawMessage
	done        bool
	resp        *BatchSubresponse
}

// Method and URL of the subrequest (URL is relative to /services/data/).
func (r *Subrequest) Method() string { return r.method }

// URL returns the subrequest URL, relative to /services/data/ ("v62.0/sobjects/Account").
func (r *Subrequest) URL() string { return r.url }

// Done reports whether Salesforce executed (or, with HaltOnError, explicitly skipped) the
// subrequest. It is false before Execute, for subrequests in a call that failed, and for
// subrequests never sent because an earlier call halted the batch.
func (r *Subrequest) Done() bool { return r.done }

// Response returns the raw response entry, or nil if there is none. Subrequests never sent
// because of HaltOnError have a synthesized 412 BATCH_PROCESSING_HALTED entry.
func (r *Subrequest) Response() *BatchSubresponse { return r.resp }

// StatusCode returns the subrequest's HTTP status, or 0 without a response.
func (r *Subrequest) StatusCode() int {
	if r.resp == nil {
		return 0
	}
	return r.resp.StatusCode
}

// Result returns the raw JSON result (nil for 204 responses and without a response).
func (r *Subrequest) Result() json.RawMessage {
	if r.resp == nil || string(bytes.TrimSpace(r.resp.Result)) == "null" {
		return nil
	}
	return r.resp.Result
}

// Success reports whether the subrequest ran and returned a 2xx status.
func (r *Subrequest) Success() bool {
	return r.done && r.resp != nil && r.resp.StatusCode >= 200 && r.resp.StatusCode < 300
}

// Err returns nil for a successful subrequest, ErrNotExecuted when it has no response, and
// otherwise an *APIError built from its status and error body (raise_for_status).
func (r *Subrequest) Err() error {
	if r.resp == nil {
		return ErrNotExecuted
	}
	if r.Success() {
		return nil
	}
	e := subrequestError(r.resp.StatusCode, r.resp.Result)
	e.Method = r.method
	e.URL = sanitizeURL("/services/data/" + r.url)
	return e
}

// Decode unmarshals the result into v. It fails if the subrequest did not succeed.
func (r *Subrequest) Decode(v any) error {
	if err := r.Err(); err != nil {
		return err
	}
	res := r.Result()
	if res == nil {
		return fmt.Errorf("salesforce: %s %s: empty result", r.method, r.url)
	}
	dec := json.NewDecoder(bytes.NewReader(res))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("salesforce: %s %s: decoding result: %w", r.method, r.url, err)
	}
	return nil
}

// subrequestError turns a failed subrequest's body (a REST error array, usually) into an
// *APIError.
func subrequestError(status int, body json.RawMessage) *APIError {
	e := &APIError{StatusCode: status}
	var details []ErrorDetail
	if err := json.Unmarshal(body, &details); err == nil && len(details) > 0 {
		e.ErrorCode, e.Message, e.Fields = details[0].ErrorCode, details[0].Message, details[0].Fields
		e.Details = details
		return e
	}
	var one ErrorDetail
	if err := json.Unmarshal(body, &one); err == nil && (one.ErrorCode != "" || one.Message != "") {
		e.ErrorCode, e.Message, e.Fields = one.ErrorCode, one.Message, one.Fields
		return e
	}
	e.Message = strings.TrimSpace(string(body))
	if len(e.Message) > 512 {
		e.Message = e.Message[:512] + "…"
	}
	return e
}

// QuerySubrequest is a query subrequest; after Execute, Records holds the first page.
type QuerySubrequest struct{ Subrequest }

type queryPage struct {
	TotalSize      int              `json:"totalSize"`
	Done           bool             `json:"done"`
	NextRecordsURL string           `json:"nextRecordsUrl"`
	Records        []map[string]any `json:"records"`
}

func (q *QuerySubrequest) page() *queryPage {
	var p queryPage
	if q.Decode(&p) != nil {
		return nil
	}
	return &p
}

// Records returns the records of the result (the first page, up to 2,000), or nil if the
// query failed. Numbers are json.Number.
func (q *QuerySubrequest) Records() []map[string]any {
	if p := q.page(); p != nil {
		return p.Records
	}
	return nil
}

// DecodeRecords unmarshals the records of the result (the first page) into v, typically a
// pointer to a slice of structs with json tags.
func (q *QuerySubrequest) DecodeRecords(v any) error {
	var p struct {
		Records json.RawMessage `json:"records"`
	}
	if err := q.Decode(&p); err != nil {
		return err
	}
	if err := json.Unmarshal(p.Records, v); err != nil {
		return fmt.Errorf("salesforce: %s %s: decoding records: %w", q.method, q.url, err)
	}
	return nil
}

// TotalSize returns the query's totalSize, or 0 if it failed.
func (q *QuerySubrequest) TotalSize() int {
	if p := q.page(); p != nil {
		return p.TotalSize
	}
	return 0
}

// NextRecordsURL returns the URL of the next page ("" when the result is complete).
func (q *QuerySubrequest) NextRecordsURL() string {
	if p := q.page(); p != nil {
		return p.NextRecordsURL
	}
	return ""
}

// CreateSubrequest is a create subrequest; after Execute, ID holds the new record's id.
type CreateSubrequest struct{ Subrequest }

// ID returns the id of the created record, or "" if the create failed.
func (c *CreateSubrequest) ID() string {
	var r SaveResult
	if c.Decode(&r) != nil {
		return ""
	}
	return r.ID
}

// GetSubrequest reads one record; after Execute, Record holds it.
type GetSubrequest struct{ Subrequest }

// Record returns the record's fields (with "attributes"), or nil if the read failed.
func (g *GetSubrequest) Record() map[string]any {
	var m map[string]any
	if g.Decode(&m) != nil {
		return nil
	}
	return m
}

// UpsertSubrequest is an upsert by external id; after Execute, ID and Created hold the
// outcome.
type UpsertSubrequest struct{ Subrequest }

// ID returns the id of the upserted record, or "" if the upsert failed.
func (u *UpsertSubrequest) ID() string {
	var r SaveResult
	if u.Decode(&r) != nil {
		return ""
	}
	return r.ID
}

// Created reports whether the upsert created a record (status 201) rather than updating one.
func (u *UpsertSubrequest) Created() bool {
	if !u.Success() {
		return false
	}
	var r struct {
		Created *bool `json:"created"`
	}
	if u.Decode(&r) == nil && r.Created != nil {
		return *r.Created
	}
	return u.StatusCode() == http.StatusCreated
}

func (b *CompositeBatch) add(r *Subrequest, body any) {
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil && b.buildErr == nil {
			b.buildErr = fmt.Errorf("salesforce: composite batch subrequest %d (%s %s): encoding body: %w", len(b.subs)+1, r.method, r.url, err)
		}
		r.richInput = raw
	}
	b.subs = append(b.subs, r)
}

func (b *CompositeBatch) fail(format string, args ...any) {
	if b.buildErr == nil {
		b.buildErr = fmt.Errorf("salesforce: composite batch subrequest %d: "+format, append([]any{len(b.subs) + 1}, args...)...)
	}
}

func (b *CompositeBatch) v() string { return "v" + b.svc.client.APIVersion() }

// Query adds a SOQL query subrequest.
func (b *CompositeBatch) Query(soql string) *QuerySubrequest {
	q := &QuerySubrequest{Subrequest{method: http.MethodGet, url: b.v() + "/query?" + url.Values{"q": {soql}}.Encode()}}
	if strings.TrimSpace(soql) == "" {
		b.fail("query is empty")
	}
	b.add(&q.Subrequest, nil)
	return q
}

// QueryAll adds a SOQL queryAll subrequest (includes deleted and archived records).
func (b *CompositeBatch) QueryAll(soql string) *QuerySubrequest {
	q := &QuerySubrequest{Subrequest{method: http.MethodGet, url: b.v() + "/queryAll?" + url.Values{"q": {soql}}.Encode()}}
	if strings.TrimSpace(soql) == "" {
		b.fail("query is empty")
	}
	b.add(&q.Subrequest, nil)
	return q
}

// Raw adds a subrequest with any method and URL (relative to /services/data/, starting with
// "vXX.X/") and an optional JSON body (richInput).
func (b *CompositeBatch) Raw(method, relURL string, body any) *Subrequest {
	r := &Subrequest{method: method, url: strings.TrimPrefix(relURL, "/services/data/")}
	b.add(r, body)
	return r
}

func (o *BatchSObjects) path(elem ...string) string {
	for i, e := range elem {
		elem[i] = url.PathEscape(e)
	}
	return o.b.v() + "/sobjects/" + strings.Join(elem, "/")
}

func (o *BatchSObjects) check(object string, ids ...string) {
	if err := checkObject(object); err != nil {
		o.b.fail("%v", err)
	}
	for _, id := range ids {
		if id == "" {
			o.b.fail("%s: id is empty", object)
		}
	}
}

// Create adds a subrequest creating one record of object.
func (o *BatchSObjects) Create(object string, fields map[string]any) *CreateSubrequest {
	o.check(object)
	c := &CreateSubrequest{Subrequest{method: http.MethodPost, url: o.path(object)}}
	if fields == nil {
		fields = map[string]any{}
	}
	o.b.add(&c.Subrequest, fields)
	return c
}

// Get adds a subrequest reading one record; no fields means all fields.
func (o *BatchSObjects) Get(object, id string, fields ...string) *GetSubrequest {
	o.check(object, id)
	u := o.path(object, id)
	if len(fields) > 0 {
		u += "?" + url.Values{"fields": {strings.Join(fields, ",")}}.Encode()
	}
	g := &GetSubrequest{Subrequest{method: http.MethodGet, url: u}}
	o.b.add(&g.Subrequest, nil)
	return g
}

// Update adds a subrequest updating one record (success is status 204).
func (o *BatchSObjects) Update(object, id string, fields map[string]any) *Subrequest {
	o.check(object, id)
	r := &Subrequest{method: http.MethodPatch, url: o.path(object, id)}
	if fields == nil {
		fields = map[string]any{}
	}
	o.b.add(r, fields)
	return r
}

// Delete adds a subrequest deleting one record (success is status 204).
func (o *BatchSObjects) Delete(object, id string) *Subrequest {
	o.check(object, id)
	r := &Subrequest{method: http.MethodDelete, url: o.path(object, id)}
	o.b.add(r, nil)
	return r
}

// Upsert adds a subrequest upserting one record by external id. The external id value is
// taken from fields[externalIDField] (and left out of the body).
func (o *BatchSObjects) Upsert(object, externalIDField string, fields map[string]any) *UpsertSubrequest {
	o.check(object, externalIDField)
	var value string
	body := make(map[string]any, len(fields))
	for k, v := range fields {
		if k == externalIDField {
			value = fmt.Sprint(v)
			if v == nil {
				value = ""
			}
			continue
		}
		body[k] = v
	}
	if value == "" {
		o.b.fail("upsert %s: fields have no value for external id field %s", object, externalIDField)
	}
	u := &UpsertSubrequest{Subrequest{method: http.MethodPatch, url: o.path(object, externalIDField, value)}}
	o.b.add(&u.Subrequest, body)
	return u
}

type batchRequestBody struct {
	HaltOnError   bool              `json:"haltOnError"`
	BatchRequests []batchSubrequest `json:"batchRequests"`
}

type batchSubrequest struct {
	Method    string          `json:"method"`
	URL       string          `json:"url"`
	RichInput json.RawMessage `json:"richInput,omitempty"`
}

type batchResponseBody struct {
	HasErrors bool                `json:"hasErrors"`
	Results   []*BatchSubresponse `json:"results"`
}

const haltedResult = `[{"errorCode":"BATCH_PROCESSING_HALTED","message":"The batch was halted: an earlier subrequest failed and haltOnError is set"}]`

// Execute runs the batch: MaxCompositeBatchSubrequests subrequests per call, calls in order.
// With HaltOnError, a failure stops the batch: Salesforce skips the rest of that call and
// later calls are not sent (their subrequests get a synthesized 412 BATCH_PROCESSING_HALTED
// response and Done false).
//
// The error is non-nil when a subrequest could not be built, when a call failed as a whole
// (the subrequests of that call and later ones stay not executed), or, with AutoRaise, when a
// subrequest failed. A batch runs once; a second Execute returns an error.
func (b *CompositeBatch) Execute(ctx context.Context) error {
	if b.executed {
		return errors.New("salesforce: composite batch already executed")
	}
	if b.buildErr != nil {
		return b.buildErr
	}
	b.executed = true
	halted := false
	for start := 0; start < len(b.subs); start += MaxCompositeBatchSubrequests {
		chunk := b.subs[start:min(start+MaxCompositeBatchSubrequests, len(b.subs))]
		if halted {
			for _, r := range chunk {
				r.resp = &BatchSubresponse{StatusCode: http.StatusPreconditionFailed, Result: json.RawMessage(haltedResult)}
			}
			continue
		}
		body := batchRequestBody{HaltOnError: b.opts.HaltOnError, BatchRequests: make([]batchSubrequest, len(chunk))}
		for i, r := range chunk {
			body.BatchRequests[i] = batchSubrequest{Method: r.method, URL: r.url, RichInput: r.richInput}
		}
		var out batchResponseBody
		req := &request{method: http.MethodPost, path: b.svc.client.dataPath("composite", "batch")}
		if err := b.svc.client.doJSON(ctx, req, body, &out); err != nil {
			return fmt.Errorf("salesforce: composite batch subrequests %d-%d: %w", start+1, start+len(chunk), err)
		}
		if len(out.Results) != len(chunk) {
			return fmt.Errorf("salesforce: composite batch subrequests %d-%d: %d results for %d subrequests", start+1, start+len(chunk), len(out.Results), len(chunk))
		}
		for i, r := range chunk {
			if out.Results[i] == nil {
				return fmt.Errorf("salesforce: composite batch subrequest %d: null result", start+i+1)
			}
			out.Results[i].Result = entityDecodeJSON(out.Results[i].Result)
			r.resp = out.Results[i]
			r.done = true
			if b.opts.HaltOnError && !r.Success() {
				halted = true
			}
		}
	}
	if !b.opts.AutoRaise {
		return nil
	}
	var errs []error
	for _, r := range b.subs {
		if err := r.Err(); err != nil {
			if !b.opts.GroupErrors {
				return err
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// refPattern matches a composite reference such as @{refAccount.id}.
var refPattern = regexp.MustCompile(`@\{[^}]*\}`)

// escapeKeepingRefs escapes s with esc but leaves @{…} references as they are, so Salesforce
// can resolve them.
func escapeKeepingRefs(s string, esc func(string) string) string {
	var b strings.Builder
	last := 0
	for _, m := range refPattern.FindAllStringIndex(s, -1) {
		b.WriteString(esc(s[last:m[0]]))
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(esc(s[last:]))
	return b.String()
}
