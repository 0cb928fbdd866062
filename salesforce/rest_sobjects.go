package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// SObject is a handle for REST operations on one object type, from Client.SObject. It is a
// small value, safe for concurrent use.
type SObject struct {
	c    *Client
	name string
}

// SObject returns a handle for the object type name, such as "Contact".
func (c *Client) SObject(name string) SObject { return SObject{c: c, name: name} }

// Name is the object type.
func (s SObject) Name() string { return s.name }

// Describe returns the object's describe (cached per client; see Client.Describe).
func (s SObject) Describe(ctx context.Context) (*SObjectDescribe, error) {
	return s.c.Describe(ctx, s.name)
}

// UpsertResult says what an upsert did.
type UpsertResult struct {
	// ID of the record; empty when an API version before 46.0 answered an update with 204.
	ID string
	// Created is true if the upsert inserted a record, false if it updated one.
	Created bool
}

type saveResponse struct {
	ID      string          `json:"id"`
	Success bool            `json:"success"`
	Created *bool           `json:"created"`
	Errors  json.RawMessage `json:"errors"`
}

// Get reads a record by id. With no fields, all fields are returned.
func (s SObject) Get(ctx context.Context, id string, fields ...string) (Record, error) {
	if id == "" {
		return Record{}, errors.New("salesforce: SObject.Get: empty id")
	}
	return s.get(ctx, s.c.dataPath("sobjects", s.name)+"/"+url.PathEscape(id), fields)
}

// GetByExternalID reads the record whose external id field has value. Several matches give an
// *APIError with status 300 and code MULTIPLE_CHOICES.
func (s SObject) GetByExternalID(ctx context.Context, field, value string, fields ...string) (Record, error) {
	if field == "" || value == "" {
		return Record{}, errors.New("salesforce: SObject.GetByExternalID: empty field or value")
	}
	return s.get(ctx, s.c.dataPath("sobjects", s.name, field)+"/"+url.PathEscape(value), fields)
}

func (s SObject) get(ctx context.Context, p string, fields []string) (Record, error) {
	r := &request{method: http.MethodGet, path: p}
	if len(fields) > 0 {
		r.query = url.Values{"fields": {strings.Join(fields, ",")}}
	}
	var rec Record
	if err := s.c.doJSON(ctx, r, nil, &rec); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// Create inserts a record and returns its id.
func (s SObject) Create(ctx context.Context, fields map[string]any) (string, error) {
	var res saveResponse
	r := &request{method: http.MethodPost, path: s.c.dataPath("sobjects", s.name)}
	if err := s.c.doJSON(ctx, r, fieldsOrEmpty(fields), &res); err != nil {
		return "", err
	}
	if res.ID == "" {
		return "", fmt.Errorf("salesforce: create %s: response has no id", s.name)
	}
	return res.ID, nil
}

// Update sets fields on the record with id. A nil value sets the field to null.
func (s SObject) Update(ctx context.Context, id string, fields map[string]any) error {
	if id == "" {
		return errors.New("salesforce: SObject.Update: empty id")
	}
	r := &request{method: http.MethodPatch, path: s.c.dataPath("sobjects", s.name) + "/" + url.PathEscape(id)}
	return s.c.doJSON(ctx, r, fieldsOrEmpty(fields), nil)
}

// Delete deletes the record with id.
func (s SObject) Delete(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("salesforce: SObject.Delete: empty id")
	}
	r := &request{method: http.MethodDelete, path: s.c.dataPath("sobjects", s.name) + "/" + url.PathEscape(id)}
	return s.c.doJSON(ctx, r, nil, nil)
}

// Upsert inserts or updates the record whose externalIDField equals value, reporting which it
// did (201 created; 200, or 204 before API 46.0, updated). fields must not contain Id or the
// external id field's value; the value in the URL wins. Several matches give an *APIError with
// status 300 and code MULTIPLE_CHOICES and write nothing.
func (s SObject) Upsert(ctx context.Context, externalIDField, value string, fields map[string]any) (UpsertResult, error) {
	if externalIDField == "" || value == "" {
		return UpsertResult{}, errors.New("salesforce: SObject.Upsert: empty external id field or value")
	}
	body, err := json.Marshal(fieldsOrEmpty(fields))
	if err != nil {
		return UpsertResult{}, fmt.Errorf("salesforce: upsert %s: encoding fields: %w", s.name, err)
	}
	r := &request{
		method:      http.MethodPatch,
		path:        s.c.dataPath("sobjects", s.name, externalIDField) + "/" + url.PathEscape(value),
		body:        BytesBody(body),
		contentType: "application/json",
		header:      http.Header{"Accept": {"application/json"}},
	}
	resp, err := s.c.do(ctx, r)
	if err != nil {
		return UpsertResult{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return UpsertResult{}, &TransportError{Method: r.method, URL: sanitizeURL(resp.Request.URL.String()), Err: err}
	}
	out := UpsertResult{Created: resp.StatusCode == http.StatusCreated}
	if len(strings.TrimSpace(string(data))) == 0 {
		return out, nil // 204: updated (API before 46.0)
	}
	var res saveResponse
	if err := json.Unmarshal(data, &res); err != nil {
		return UpsertResult{}, &DecodeError{Method: r.method, URL: sanitizeURL(resp.Request.URL.String()), StatusCode: resp.StatusCode, Err: err}
	}
	out.ID = res.ID
	if res.Created != nil {
		out.Created = *res.Created
	}
	return out, nil
}

func fieldsOrEmpty(f map[string]any) map[string]any {
	if f == nil {
		return map[string]any{}
	}
	return f
}
