package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// sObject Collections limits and defaults.
const (
	// MaxCollectionRecords is the most records one sObject Collections create, update, upsert
	// or delete call takes. Larger inputs are split into calls of this size.
	MaxCollectionRecords = 200
	// MaxCollectionRetrieveIDs is the most ids one sObject Collections retrieve call takes.
	MaxCollectionRetrieveIDs = 2000
	// DefaultCollectionConcurrency is how many collection calls run at once when
	// CollectionOptions.Concurrency is zero.
	DefaultCollectionConcurrency = 4
	// MinCollectionsAPIVersion is the first API version with sObject Collections.
	MinCollectionsAPIVersion = 42.0
	// MinCollectionsUpsertAPIVersion is the first API version with sObject Collections upsert.
	MinCollectionsUpsertAPIVersion = 46.0
)

// Status codes the client itself puts in a RecordError, for records whose call did not
// produce a per-record answer from Salesforce.
const (
	// CodeRequestFailed: the call carrying the record failed without a Salesforce error code
	// (transport error, malformed response). Salesforce may or may not have applied it.
	CodeRequestFailed = "REQUEST_FAILED"
	// CodeNotProcessed: the record was never sent (an earlier all-or-none call failed, or the
	// context was cancelled).
	CodeNotProcessed = "NOT_PROCESSED"
	// CodeMissingID: an update record has no Id field, so it was not sent.
	CodeMissingID = "MISSING_ID"
)

// SaveResult is the outcome of one record in a write: sObject Collections, Bulk API 1.0
// results, composite subrequests.
type SaveResult struct {
	// ID is the record id (empty for failed creates).
	ID string `json:"id"`
	// Success reports whether the record was written.
	Success bool `json:"success"`
	// Created is true for inserts and upserts that created a record.
	Created bool `json:"created"`
	// Errors says why the record failed.
	Errors []RecordError `json:"errors"`
}

// RecordError is one reason a record failed.
type RecordError struct {
	// StatusCode is Salesforce's code, such as REQUIRED_FIELD_MISSING, or one of the client's
	// own codes (CodeRequestFailed, CodeNotProcessed, CodeMissingID).
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// UnmarshalJSON decodes a save result, accepting a null id.
func (r *SaveResult) UnmarshalJSON(b []byte) error {
	var w struct {
		ID      *string       `json:"id"`
		Success bool          `json:"success"`
		Created bool          `json:"created"`
		Errors  []RecordError `json:"errors"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = SaveResult{Success: w.Success, Created: w.Created, Errors: w.Errors}
	if w.ID != nil {
		r.ID = *w.ID
	}
	return nil
}

// CollectionOptions tunes sObject Collections calls. The zero value is valid.
type CollectionOptions struct {
	// AllOrNone rolls back every record of a call when one fails. Inputs larger than one call
	// are still several transactions: with AllOrNone the calls run one at a time and, after one
	// fails, later records are not sent (CodeNotProcessed); records of earlier calls stay
	// committed.
	AllOrNone bool
	// Concurrency is how many calls run at once (0 = DefaultCollectionConcurrency). The
	// client's pacer still applies.
	Concurrency int
}

func (o CollectionOptions) limit() int {
	if o.AllOrNone {
		return 1
	}
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return DefaultCollectionConcurrency
}

func failedResult(id, code, msg string, fields []string) SaveResult {
	return SaveResult{ID: id, Errors: []RecordError{{StatusCode: code, Message: msg, Fields: fields}}}
}

// chunkCall sends the records at idx and returns one result per index.
type chunkCall func(ctx context.Context, idx []int) ([]SaveResult, error)

// runCollection splits the indexes into chunks of size, runs call on each with bounded
// parallelism and fills results[i] for every i in idx. It never leaves a result unset.
func runCollection(ctx context.Context, what string, results []SaveResult, idx []int, size int, opts CollectionOptions, ids func(i int) string, call chunkCall) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.limit())
	var halted, interrupted atomic.Bool
	var unreached atomic.Pointer[neverSentError] // the first call that could not reach the org
	for start := 0; start < len(idx); start += size {
		chunk := idx[start:min(start+size, len(idx))]
		notSent := func(msg string) {
			for _, i := range chunk {
				results[i] = failedResult(ids(i), CodeNotProcessed, msg, nil)
			}
		}
		if halted.Load() {
			notSent("not sent: an earlier all-or-none call failed")
			continue
		}
		if ctx.Err() != nil {
			interrupted.Store(true)
			notSent("not sent: " + context.Cause(ctx).Error())
			continue
		}
		g.Go(func() error {
			if halted.Load() {
				notSent("not sent: an earlier all-or-none call failed")
				return nil
			}
			if gctx.Err() != nil {
				interrupted.Store(true)
				notSent("not sent: " + context.Cause(gctx).Error())
				return nil
			}
			res, err := call(gctx, chunk)
			if err == nil && len(res) != len(chunk) {
				err = fmt.Errorf("salesforce: %s: %d results for %d records", what, len(res), len(chunk))
			}
			if err != nil {
				if gctx.Err() != nil {
					interrupted.Store(true)
				}
				code, msg, fields := CodeRequestFailed, err.Error(), []string(nil)
				var apiErr *APIError
				var ns *neverSentError
				switch {
				case errors.As(err, &ns):
					code, msg = CodeNotProcessed, "not sent: "+ns.err.Error()
					unreached.CompareAndSwap(nil, ns)
				case errors.As(err, &apiErr) && apiErr.ErrorCode != "":
					code, msg, fields = apiErr.ErrorCode, apiErr.Message, apiErr.Fields
				}
				for _, i := range chunk {
					results[i] = failedResult(ids(i), code, msg, fields)
				}
				if opts.AllOrNone {
					halted.Store(true)
				}
				return nil
			}
			failed := false
			for k, i := range chunk {
				results[i] = res[k]
				if !res[k].Success {
					failed = true
				}
			}
			if failed && opts.AllOrNone {
				halted.Store(true)
			}
			return nil
		})
	}
	_ = g.Wait() // calls never return errors: failures are per-record results
	if interrupted.Load() {
		return fmt.Errorf("salesforce: %s: %w", what, context.Cause(ctx))
	}
	if ns := unreached.Load(); ns != nil {
		return fmt.Errorf("salesforce: %s: %w", what, ns.err)
	}
	return nil
}

// neverSentError is a call that never reached Salesforce: every attempt failed to connect,
// or was refused before the work (see writeRecords). Its records are CodeNotProcessed.
type neverSentError struct{ err error }

func (e *neverSentError) Error() string { return e.err.Error() }
func (e *neverSentError) Unwrap() error { return e.err }

func identity(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// encodeRecords writes {"allOrNone":…,"records":[…]} with attributes.type added to each
// record that does not carry attributes of its own.
func encodeRecords(object string, allOrNone bool, records []map[string]any, idx []int) ([]byte, error) {
	var buf bytes.Buffer
	typ, _ := json.Marshal(object)
	fmt.Fprintf(&buf, `{"allOrNone":%t,"records":[`, allOrNone)
	for k, i := range idx {
		if k > 0 {
			buf.WriteByte(',')
		}
		rec := records[i]
		b, err := json.Marshal(rec)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		if _, ok := rec["attributes"]; ok {
			buf.Write(b)
			continue
		}
		buf.WriteString(`{"attributes":{"type":`)
		buf.Write(typ)
		buf.WriteByte('}')
		if len(b) > 2 {
			buf.WriteByte(',')
			buf.Write(b[1:])
		} else {
			buf.WriteByte('}')
		}
	}
	buf.WriteString("]}")
	return buf.Bytes(), nil
}

func (s *CompositeService) collectionsPath(elem ...string) string {
	return s.client.dataPath(append([]string{"composite", "sobjects"}, elem...)...)
}

func (s *CompositeService) writeRecords(ctx context.Context, what, method, path, object string, records []map[string]any, idx []int, results []SaveResult, opts CollectionOptions, ids func(int) string) error {
	return runCollection(ctx, what, results, idx, MaxCollectionRecords, opts, ids, func(ctx context.Context, chunk []int) ([]SaveResult, error) {
		body, err := encodeRecords(object, opts.AllOrNone, records, chunk)
		if err != nil {
			return nil, err
		}
		var out []SaveResult
		r := &request{method: method, path: path, body: BytesBody(body), contentType: "application/json"}
		if err := s.client.doJSON(ctx, r, nil, &out); err != nil {
			// A POST is sent again only after a refusal (429, 503, a session renewed) or a
			// connection that was never made: when the last attempt could not connect either,
			// no attempt reached Salesforce. (A PUT, PATCH or DELETE is also sent again after
			// a failure that may have been applied, so its last error proves nothing.)
			var te *TransportError
			if method == http.MethodPost && errors.As(err, &te) && notSent(te.Err) {
				return nil, &neverSentError{err: err}
			}
			return nil, err
		}
		return out, nil
	})
}

func (s *CompositeService) checkCollections(object string, minVersion float64) error {
	if err := s.client.requireVersion("sObject Collections", minVersion); err != nil {
		return err
	}
	return checkObject(object)
}

func checkObject(object string) error { return checkPathElem("object name", object, "/?#% ") }

// CreateRecords inserts records of one object through sObject Collections, MaxCollectionRecords
// per call, several calls at once. It returns exactly one SaveResult per record, in input
// order (Created is true for every successful record); a call that fails as a whole fails each of its records with the call's error code.
// The error is non-nil only for invalid arguments, a cancelled context, or a call that could
// not reach Salesforce at all (a *TransportError whose connection was never made); the
// results are then still complete, with unsent records marked CodeNotProcessed.
func (s *CompositeService) CreateRecords(ctx context.Context, object string, records []map[string]any, opts CollectionOptions) ([]SaveResult, error) {
	if err := s.checkCollections(object, MinCollectionsAPIVersion); err != nil {
		return nil, err
	}
	results := make([]SaveResult, len(records))
	err := s.writeRecords(ctx, "creating "+object+" records", http.MethodPost, s.collectionsPath(), object, records, identity(len(records)), results, opts, func(int) string { return "" })
	for i := range results {
		// Salesforce's create response has no "created" field: a successful insert created.
		if results[i].Success {
			results[i].Created = true
		}
	}
	return results, err
}

// recordID returns the record's Id field (matched case-insensitively).
func recordID(rec map[string]any) string {
	if v, ok := rec["Id"]; ok {
		s, _ := v.(string)
		return s
	}
	for k, v := range rec {
		if strings.EqualFold(k, "id") {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// UpdateRecords updates records of one object; each must carry its Id. Records without one
// fail with CodeMissingID and are not sent. Splitting, parallelism and results as for
// CreateRecords.
func (s *CompositeService) UpdateRecords(ctx context.Context, object string, records []map[string]any, opts CollectionOptions) ([]SaveResult, error) {
	if err := s.checkCollections(object, MinCollectionsAPIVersion); err != nil {
		return nil, err
	}
	results := make([]SaveResult, len(records))
	idx := make([]int, 0, len(records))
	for i, rec := range records {
		if recordID(rec) == "" {
			results[i] = failedResult("", CodeMissingID, fmt.Sprintf("record %d has no Id", i), []string{"Id"})
			continue
		}
		idx = append(idx, i)
	}
	ids := func(i int) string { return recordID(records[i]) }
	err := s.writeRecords(ctx, "updating "+object+" records", http.MethodPatch, s.collectionsPath(), object, records, idx, results, opts, ids)
	return results, err
}

// UpsertRecords inserts or updates records of one object matched on externalIDField, which
// each record should carry. SaveResult.Created tells inserts from updates. Splitting,
// parallelism and results as for CreateRecords.
func (s *CompositeService) UpsertRecords(ctx context.Context, object, externalIDField string, records []map[string]any, opts CollectionOptions) ([]SaveResult, error) {
	if err := s.checkCollections(object, MinCollectionsUpsertAPIVersion); err != nil {
		return nil, err
	}
	if err := checkObject(externalIDField); err != nil {
		return nil, fmt.Errorf("salesforce: external id field: %w", err)
	}
	results := make([]SaveResult, len(records))
	err := s.writeRecords(ctx, "upserting "+object+" records", http.MethodPatch, s.collectionsPath(object, externalIDField), object, records, identity(len(records)), results, opts, func(int) string { return "" })
	return results, err
}

// DeleteRecords deletes records by id (any objects). Splitting, parallelism and results as for
// CreateRecords; each result carries its input id.
func (s *CompositeService) DeleteRecords(ctx context.Context, ids []string, opts CollectionOptions) ([]SaveResult, error) {
	if err := s.client.requireVersion("sObject Collections", MinCollectionsAPIVersion); err != nil {
		return nil, err
	}
	results := make([]SaveResult, len(ids))
	idx := make([]int, 0, len(ids))
	for i, id := range ids {
		if id == "" {
			results[i] = failedResult("", CodeMissingID, fmt.Sprintf("id %d is empty", i), nil)
			continue
		}
		idx = append(idx, i)
	}
	err := runCollection(ctx, "deleting records", results, idx, MaxCollectionRecords, opts, func(i int) string { return ids[i] },
		func(ctx context.Context, chunk []int) ([]SaveResult, error) {
			list := make([]string, len(chunk))
			for k, i := range chunk {
				list[k] = ids[i]
			}
			q := url.Values{"ids": {strings.Join(list, ",")}, "allOrNone": {fmt.Sprint(opts.AllOrNone)}}
			var out []SaveResult
			if err := s.client.doJSON(ctx, &request{method: http.MethodDelete, path: s.collectionsPath(), query: q}, nil, &out); err != nil {
				return nil, err
			}
			for k := range out {
				if out[k].ID == "" && k < len(list) {
					out[k].ID = list[k]
				}
			}
			return out, nil
		})
	return results, err
}

// RetrieveRecords reads records of one object by id, MaxCollectionRetrieveIDs per call, and
// returns one entry per id in input order: the record (with the requested fields), or nil when
// no record has that id. fields is required. A failed call fails the whole retrieve.
func (s *CompositeService) RetrieveRecords(ctx context.Context, object string, ids, fields []string, opts CollectionOptions) ([]map[string]any, error) {
	if err := s.checkCollections(object, MinCollectionsAPIVersion); err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, errors.New("salesforce: RetrieveRecords: fields are required")
	}
	out := make([]map[string]any, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	lim := opts.Concurrency
	if lim <= 0 {
		lim = DefaultCollectionConcurrency
	}
	g.SetLimit(lim)
	for start := 0; start < len(ids); start += MaxCollectionRetrieveIDs {
		end := min(start+MaxCollectionRetrieveIDs, len(ids))
		g.Go(func() error {
			body := struct {
				IDs    []string `json:"ids"`
				Fields []string `json:"fields"`
			}{ids[start:end], fields}
			var recs []map[string]any
			if err := s.client.doJSON(gctx, &request{method: http.MethodPost, path: s.collectionsPath(object)}, body, &recs); err != nil {
				return fmt.Errorf("salesforce: retrieving %s records %d-%d: %w", object, start+1, end, err)
			}
			if len(recs) != end-start {
				return fmt.Errorf("salesforce: retrieving %s records %d-%d: %d records for %d ids", object, start+1, end, len(recs), end-start)
			}
			copy(out[start:end], recs)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
