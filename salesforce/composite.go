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

// Composite (/composite) limits.
const (
	// MaxCompositeSubrequests is the most subrequests one /composite call takes. References
	// cannot cross calls, so larger requests are refused rather than split.
	MaxCompositeSubrequests = 25
	// MaxCompositeQuerySubrequests is the most query subrequests (query, queryAll, query
	// more) one /composite call may hold, per Salesforce's documentation. Not enforced by the
	// client.
	MaxCompositeQuerySubrequests = 5
)

// CompositeRequest is the body of a /composite call: dependent subrequests that may refer to
// earlier results with @{referenceId.field} (see Ref).
type CompositeRequest struct {
	// AllOrNone rolls back every subrequest when one fails; the others then report
	// CodeProcessingHalted.
	AllOrNone bool `json:"allOrNone"`
	// CollateSubrequests lets Salesforce bulkify unrelated subrequests (API 48.0+, default true
	// from 49.0). It is always sent from 48.0 on, so false keeps execution in order; before
	// 48.0 it is left out.
	CollateSubrequests bool `json:"collateSubrequests"`
	// Subrequests run in order, at most MaxCompositeSubrequests.
	Subrequests []CompositeSubrequest `json:"compositeRequest"`
}

// CompositeSubrequest is one subrequest of a /composite call.
type CompositeSubrequest struct {
	// Method is GET, POST, PATCH, PUT or DELETE.
	Method string `json:"method"`
	// URL is the full resource path ("/services/data/v62.0/sobjects/Account"); it may hold
	// references such as @{refAccount.id}.
	URL string `json:"url"`
	// ReferenceID names the subrequest for references and in the response: letters, digits
	// and underscores, starting with a letter or digit; unique within the request.
	ReferenceID string `json:"referenceId"`
	// Body is marshalled as the JSON body (nil = none). String values may hold references.
	Body any `json:"body,omitempty"`
	// HTTPHeaders are extra request headers for this subrequest.
	HTTPHeaders map[string]string `json:"httpHeaders,omitempty"`
}

// CompositeResult is the response of a /composite call.
type CompositeResult struct {
	// Subresponses holds one entry per subrequest, in request order (unless
	// CollateSubrequests reordered execution; match them by ReferenceID then).
	Subresponses []*CompositeSubresponse `json:"compositeResponse"`
}

// Get returns the subresponse with the given reference id.
func (r *CompositeResult) Get(referenceID string) (*CompositeSubresponse, bool) {
	for _, s := range r.Subresponses {
		if s.ReferenceID == referenceID {
			return s, true
		}
	}
	return nil, false
}

// Errs returns the error of every failed subresponse, in order (nil if all succeeded).
func (r *CompositeResult) Errs() []error {
	var errs []error
	for _, s := range r.Subresponses {
		if err := s.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// CompositeSubresponse is one subrequest's outcome in a /composite response.
type CompositeSubresponse struct {
	Body           json.RawMessage   `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    string            `json:"referenceId"`
}

// Success reports a 2xx status.
func (s *CompositeSubresponse) Success() bool {
	return s.HTTPStatusCode >= 200 && s.HTTPStatusCode < 300
}

// Err returns nil on success and otherwise an error naming the reference id and wrapping an
// *APIError built from the status and error body.
func (s *CompositeSubresponse) Err() error {
	if s.Success() {
		return nil
	}
	return fmt.Errorf("salesforce: composite subrequest %s: %w", s.ReferenceID, subrequestError(s.HTTPStatusCode, s.Body))
}

// Decode unmarshals the body into v (json.Number for numbers in maps). It fails if the
// subrequest did not succeed or has no body.
func (s *CompositeSubresponse) Decode(v any) error {
	if err := s.Err(); err != nil {
		return err
	}
	if len(bytes.TrimSpace(s.Body)) == 0 || string(bytes.TrimSpace(s.Body)) == "null" {
		return fmt.Errorf("salesforce: composite subrequest %s: empty body", s.ReferenceID)
	}
	dec := json.NewDecoder(bytes.NewReader(s.Body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("salesforce: composite subrequest %s: decoding body: %w", s.ReferenceID, err)
	}
	return nil
}

var referenceIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_]*$`)

func (r *CompositeRequest) validate() error {
	if len(r.Subrequests) == 0 {
		return errors.New("salesforce: composite request has no subrequests")
	}
	if len(r.Subrequests) > MaxCompositeSubrequests {
		return fmt.Errorf("salesforce: composite request has %d subrequests; the limit is %d", len(r.Subrequests), MaxCompositeSubrequests)
	}
	seen := make(map[string]bool, len(r.Subrequests))
	for i, s := range r.Subrequests {
		if !referenceIDPattern.MatchString(s.ReferenceID) {
			return fmt.Errorf("salesforce: composite subrequest %d: invalid referenceId %q", i+1, s.ReferenceID)
		}
		if seen[s.ReferenceID] {
			return fmt.Errorf("salesforce: composite subrequest %d: duplicate referenceId %q", i+1, s.ReferenceID)
		}
		seen[s.ReferenceID] = true
		switch s.Method {
		case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		default:
			return fmt.Errorf("salesforce: composite subrequest %s: invalid method %q", s.ReferenceID, s.Method)
		}
		if !strings.HasPrefix(s.URL, "/services/data/") {
			return fmt.Errorf("salesforce: composite subrequest %s: URL %q does not start with /services/data/", s.ReferenceID, s.URL)
		}
	}
	return nil
}

// Execute sends a /composite request. Subrequest failures are reported in the result (see
// CompositeResult.Errs); the error is non-nil only when the request is invalid or the call
// itself fails.
func (s *CompositeService) Execute(ctx context.Context, req CompositeRequest) (*CompositeResult, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	var body any = req
	if s.client.requireVersion("collateSubrequests", 48.0) != nil {
		// Before API 48.0 the field does not exist and would be rejected.
		body = struct {
			AllOrNone   bool                  `json:"allOrNone"`
			Subrequests []CompositeSubrequest `json:"compositeRequest"`
		}{req.AllOrNone, req.Subrequests}
	}
	var out CompositeResult
	if err := s.client.doJSON(ctx, &request{method: http.MethodPost, path: s.client.dataPath("composite")}, body, &out); err != nil {
		return nil, fmt.Errorf("salesforce: composite request: %w", err)
	}
	// Salesforce answers every subrequest (halted ones with PROCESSING_HALTED): a response
	// without an entry for each one would silently lose outcomes.
	got := make(map[string]bool, len(out.Subresponses))
	for i, sr := range out.Subresponses {
		if sr == nil {
			return nil, fmt.Errorf("salesforce: composite request: subresponse %d is null", i+1)
		}
		got[sr.ReferenceID] = true
	}
	for _, sub := range req.Subrequests {
		if !got[sub.ReferenceID] {
			return nil, fmt.Errorf("salesforce: composite request: no subresponse for referenceId %q (%d subresponses for %d subrequests)", sub.ReferenceID, len(out.Subresponses), len(req.Subrequests))
		}
	}
	return &out, nil
}

// Ref names a /composite subrequest so later subrequests can use its results.
type Ref string

// Field returns the reference expression for a field of the subrequest's result, such as
// "@{refAccount.id}" or, with a path, "@{refQuery.records[0].Id}".
func (r Ref) Field(path string) string { return "@{" + string(r) + "." + path + "}" }

// ID is shorthand for r.Field("id"), the id of a created record.
func (r Ref) ID() string { return r.Field("id") }

// CompositeOptions configures a CompositeBuilder.
type CompositeOptions struct {
	// AllOrNone rolls back everything when one subrequest fails.
	AllOrNone bool
	// CollateSubrequests lets Salesforce reorder unrelated subrequests to bulkify them.
	CollateSubrequests bool
}

// CompositeBuilder builds a /composite request with the client's API version in every URL.
// It is not safe for concurrent use.
type CompositeBuilder struct {
	svc *CompositeService
	req CompositeRequest
}

// NewComposite returns a builder for a /composite request.
func (s *CompositeService) NewComposite(opts CompositeOptions) *CompositeBuilder {
	return &CompositeBuilder{svc: s, req: CompositeRequest{AllOrNone: opts.AllOrNone, CollateSubrequests: opts.CollateSubrequests}}
}

// Add appends a subrequest as given and returns its reference.
func (b *CompositeBuilder) Add(sub CompositeSubrequest) Ref {
	b.req.Subrequests = append(b.req.Subrequests, sub)
	return Ref(sub.ReferenceID)
}

func (b *CompositeBuilder) sobjectURL(elem ...string) string {
	for i, e := range elem {
		elem[i] = escapeKeepingRefs(e, url.PathEscape)
	}
	return b.svc.client.dataPath("sobjects") + "/" + strings.Join(elem, "/")
}

// Create adds a subrequest creating a record; Ref.ID refers to the new id.
func (b *CompositeBuilder) Create(ref, object string, fields map[string]any) Ref {
	return b.Add(CompositeSubrequest{Method: http.MethodPost, URL: b.sobjectURL(object), ReferenceID: ref, Body: nonNil(fields)})
}

// Update adds a subrequest updating a record. id may be a reference such as other.ID().
func (b *CompositeBuilder) Update(ref, object, id string, fields map[string]any) Ref {
	return b.Add(CompositeSubrequest{Method: http.MethodPatch, URL: b.sobjectURL(object, id), ReferenceID: ref, Body: nonNil(fields)})
}

// Upsert adds a subrequest upserting a record by external id value.
func (b *CompositeBuilder) Upsert(ref, object, externalIDField, value string, fields map[string]any) Ref {
	return b.Add(CompositeSubrequest{Method: http.MethodPatch, URL: b.sobjectURL(object, externalIDField, value), ReferenceID: ref, Body: nonNil(fields)})
}

// Delete adds a subrequest deleting a record.
func (b *CompositeBuilder) Delete(ref, object, id string) Ref {
	return b.Add(CompositeSubrequest{Method: http.MethodDelete, URL: b.sobjectURL(object, id), ReferenceID: ref})
}

// Get adds a subrequest reading a record (all fields when none are named).
func (b *CompositeBuilder) Get(ref, object, id string, fields ...string) Ref {
	u := b.sobjectURL(object, id)
	if len(fields) > 0 {
		u += "?fields=" + escapeKeepingRefs(strings.Join(fields, ","), url.QueryEscape)
	}
	return b.Add(CompositeSubrequest{Method: http.MethodGet, URL: u, ReferenceID: ref})
}

// Query adds a SOQL query subrequest; the query may hold references, which are left unescaped.
func (b *CompositeBuilder) Query(ref, soql string) Ref {
	u := b.svc.client.dataPath("query") + "?q=" + escapeKeepingRefs(soql, url.QueryEscape)
	return b.Add(CompositeSubrequest{Method: http.MethodGet, URL: u, ReferenceID: ref})
}

// Request returns the request built so far.
func (b *CompositeBuilder) Request() CompositeRequest { return b.req }

// Execute sends the request (see CompositeService.Execute).
func (b *CompositeBuilder) Execute(ctx context.Context) (*CompositeResult, error) {
	return b.svc.Execute(ctx, b.req)
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
