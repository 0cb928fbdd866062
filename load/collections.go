package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// collectionsAPI is the part of *salesforce.CompositeService the engine uses.
type collectionsAPI interface {
	CreateRecords(ctx context.Context, object string, records []map[string]any, opts salesforce.CollectionOptions) ([]salesforce.SaveResult, error)
	UpdateRecords(ctx context.Context, object string, records []map[string]any, opts salesforce.CollectionOptions) ([]salesforce.SaveResult, error)
	UpsertRecords(ctx context.Context, object, externalIDField string, records []map[string]any, opts salesforce.CollectionOptions) ([]salesforce.SaveResult, error)
	DeleteRecords(ctx context.Context, ids []string, opts salesforce.CollectionOptions) ([]salesforce.SaveResult, error)
}

// collectionsRunner sends each chunk (at most 200 rows) as one sObject Collections call.
type collectionsRunner struct{ r *run }

func (b *collectionsRunner) finish(context.Context, bool) error { return nil }

func (b *collectionsRunner) run(ctx context.Context, c *chunk) error {
	r := b.r
	cfg := r.cfg
	c.job = r.addJob(JobInfo{API: Collections, Batch: c.index, Pass: c.pass, Rows: len(c.rows), Bytes: c.bytes, State: "InProgress"})
	if err := r.journal.recordStep(ctx, c, jobstore.JobUploaded, ""); err != nil {
		return err
	}
	c.sent = true
	results, err := b.call(ctx, c)
	if err != nil && refused(err) {
		c.sent = false // Salesforce refused the call before doing any of it
	}
	if err != nil && c.sent && transient(ctx, err) {
		// The call may have been applied: its rows' outcomes are unknown. (update, upsert and
		// delete were already sent again by the client or by call.)
		r.cfg.Logger.Warn("load: sObject Collections call failed after it may have been applied; its rows' outcomes are unknown", "rows", len(c.rows), "err", err)
		r.unknownResult(c, fmt.Sprintf("sObject Collections %s on %s may have been applied, but its answer was lost (%v)", cfg.Operation, cfg.Object, err))
		r.updateJob(c.job, func(j *JobInfo) { j.State, j.Message = "Unknown", err.Error() })
		r.reportDone(Collections, "", "")
		return nil
	}
	if err != nil {
		return fmt.Errorf("sObject Collections %s on %s: %w", cfg.Operation, cfg.Object, err)
	}
	if err := sessionRefused(results); err != nil {
		// The call was refused before any record was applied, and the session could not be
		// renewed: the load stops, and these rows, like every row not sent, end NotProcessed.
		c.sent = false
		return fmt.Errorf("sObject Collections %s on %s: %w", cfg.Operation, cfg.Object, err)
	}
	failed := 0
	callFailed := callFailure(results)
	for i, sr := range results {
		if i >= len(c.rows) {
			break
		}
		res := saveResult(sr, c.vals[i])
		switch {
		case res.Error != nil && res.Error.StatusCode == salesforce.CodeNotProcessed:
			// Never sent: safe to send again.
			failed++
			r.resolveJobFailure(c, i, c.vals[i], res.Error, NotProcessed)
			continue
		case callFailed && cfg.Operation == Insert:
			continue // looked up below
		case callFailed:
			// The call may have been applied but its answer was lost: update, upsert and
			// delete send the row again (read through the settlement table); an insert's
			// outcome is unknown.
			failed++
			r.resolveJobFailure(c, i, c.vals[i], &RowError{StatusCode: StatusOutcomeUnknown,
				Message: "sObject Collections call failed after it may have been applied (" + res.Error.StatusCode + ": " + res.Error.Message + "); whether the row was saved is unknown"}, Unknown)
			continue
		}
		r.resolve(c, i, res)
	}
	if callFailed && cfg.Operation == Insert {
		b.settleLostInsert(ctx, c, results[0].Errors[0])
	}
	c.forEach(r, func(i int, vals []string) {
		r.resolve(c, i, &RowResult{Outcome: Unknown, Values: vals,
			Error: &RowError{StatusCode: StatusNoResult, Message: "sObject Collections returned no result for this row; whether it was saved is unknown"}})
	})
	state := "Completed"
	if failed == len(c.rows) && failed > 0 {
		state = "Failed"
	}
	r.updateJob(c.job, func(j *JobInfo) { j.State = state })
	r.reportDone(Collections, "", "")
	return nil
}

// sessionRefused returns the refusal when the client reports a call's records failed with
// an authentication error: Salesforce refused the whole call (the session expired and could
// not be renewed), so none of its records was applied.
func sessionRefused(results []salesforce.SaveResult) error {
	for _, sr := range results {
		for _, e := range sr.Errors {
			ae := &salesforce.APIError{ErrorCode: e.StatusCode, Message: e.Message}
			if AuthRefused(ae) {
				ae.StatusCode = http.StatusUnauthorized
				return ae
			}
		}
	}
	return nil
}

// call sends c's rows in one sObject Collections call. The client turns a failed call into
// one failed result per record (see callFailure).
func (b *collectionsRunner) call(ctx context.Context, c *chunk) ([]salesforce.SaveResult, error) {
	r, api, cfg := b.r, b.r.l.coll, b.r.cfg
	opts := salesforce.CollectionOptions{Concurrency: 1}
	var results []salesforce.SaveResult
	send := func(ctx context.Context) error {
		var err error
		switch cfg.Operation {
		case Delete:
			ids := make([]string, len(c.vals))
			idCol := r.column("Id")
			for i, v := range c.vals {
				ids[i] = v[idCol]
			}
			results, err = api.DeleteRecords(ctx, ids, opts)
		case Insert, Update, Upsert:
			recs := make([]map[string]any, len(c.vals))
			for i, v := range c.vals {
				recs[i] = r.record(v)
			}
			switch cfg.Operation {
			case Insert:
				results, err = api.CreateRecords(ctx, cfg.Object, recs, opts)
			case Update:
				results, err = api.UpdateRecords(ctx, cfg.Object, recs, opts)
			default:
				results, err = api.UpsertRecords(ctx, cfg.Object, cfg.ExternalIDField, recs, opts)
			}
		default:
			err = fmt.Errorf("operation %s is not available through sObject Collections", cfg.Operation)
		}
		return err
	}
	return results, send(ctx)
}

// settleLostInsert settles the rows of an insert call whose answer was lost: looked up by
// external id where the input has one, else Unknown.
func (b *collectionsRunner) settleLostInsert(ctx context.Context, c *chunk, e salesforce.RecordError) {
	r := b.r
	why := "sObject Collections insert failed after it may have been applied (" + e.StatusCode + ": " + e.Message + ")"
	r.lookupInserted(ctx, c, why, false)
	c.forEach(r, func(i int, vals []string) {
		r.resolve(c, i, &RowResult{Outcome: Unknown, Values: vals, Error: &RowError{StatusCode: StatusOutcomeUnknown,
			Message: why + "; whether the row was saved is unknown"}})
	})
}

// callFailure reports whether results are a whole call's failure folded into one result per
// record by the client (every record failed with the same transport or server error), as
// opposed to Salesforce's answers per record.
func callFailure(results []salesforce.SaveResult) bool {
	if len(results) == 0 {
		return false
	}
	var code, msg string
	for i, sr := range results {
		if sr.Success || len(sr.Errors) != 1 {
			return false
		}
		if i == 0 {
			code, msg = sr.Errors[0].StatusCode, sr.Errors[0].Message
		} else if sr.Errors[0].StatusCode != code || sr.Errors[0].Message != msg {
			return false
		}
	}
	switch code {
	case salesforce.CodeRequestFailed, "UNKNOWN_EXCEPTION", "SERVER_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED":
		// (A call refused for its session was not applied: sessionRefused handles it first.)
		return true
	}
	return false
}

// column returns the index of the named header column (case-insensitive), or -1.
func (r *run) column(name string) int {
	for i, h := range r.header {
		if strings.EqualFold(h, name) {
			return i
		}
	}
	return -1
}

// record turns a row in bulk CSV form into a REST record: empty cells are left out (field
// unchanged), "#N/A" is null, relationship columns (Account.Ext_Id__c, or
// Type:Relationship.Field for polymorphic lookups) become nested objects, and values are
// typed by the describe when one was fetched.
func (r *run) record(vals []string) map[string]any {
	rec := make(map[string]any, len(vals))
	for i, h := range r.header {
		v := vals[i]
		if v == "" {
			continue
		}
		var val any = v
		if v == sfcsv.NullValue {
			val = nil
		}
		rel, field, ok := strings.Cut(h, ".")
		if !ok {
			if val != nil {
				val = r.typed(h, v)
			}
			if strings.EqualFold(h, "id") {
				h = "Id"
			}
			rec[h] = val
			continue
		}
		typ := ""
		if t, name, ok := strings.Cut(rel, ":"); ok {
			typ, rel = t, name
		}
		parent, _ := rec[rel].(map[string]any)
		if parent == nil {
			parent = map[string]any{}
			if typ != "" {
				parent["attributes"] = map[string]any{"type": typ}
			}
			rec[rel] = parent
		}
		parent[field] = val
	}
	return rec
}

// typed converts CSV text to the JSON type of the field when the describe says what it is.
func (r *run) typed(field, v string) any {
	if r.types == nil {
		return v
	}
	switch r.types[strings.ToLower(field)] {
	case "boolean":
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	case "int", "double", "currency", "percent", "long":
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return json.Number(v)
		}
	}
	return v
}
