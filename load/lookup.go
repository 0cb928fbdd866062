package load

import (
	"context"
	"iter"
	"strings"

	"github.com/sfbatch/sfbatch/salesforce"
)

// maxLookupValues is how many external id values one lookup query carries (the query stays far
// under Salesforce's 100,000-character SOQL limit for ids of ordinary length).
const maxLookupValues = 200

// queryAPI is the REST query the engine uses to look rows up (*salesforce.Client).
type queryAPI interface {
	Query(ctx context.Context, soql string, opts ...salesforce.QueryOption) iter.Seq2[salesforce.Record, error]
}

// lookupColumn returns the input column that is an external id of the object (the upsert key,
// else the first external id field in the header), or -1. It needs the describe.
func (r *run) lookupColumn(ctx context.Context) (int, string) {
	if r.cfg.ExternalIDField != "" {
		return r.column(r.cfg.ExternalIDField), r.cfg.ExternalIDField
	}
	if r.l.desc == nil {
		return -1, ""
	}
	d, err := r.l.desc.Describe(ctx, r.cfg.Object)
	if err != nil {
		return -1, ""
	}
	for i, h := range r.header {
		if f, ok := d.Field(h); ok && f.ExternalID && (f.Unique || f.IDLookup) {
			return i, f.Name
		}
	}
	return -1, ""
}

// lookupInserted settles the rows of chunk c that have no outcome yet after an insert whose
// answer was lost: each row is looked up in the org by its external id. A row found was saved
// by that insert (Succeeded, with its record id); a row not found was not: with resend it is
// sent again in the next pass, else it is NotProcessed (safe to load again). Rows without an external id value, and
// all rows when the input has no external id column or the lookup fails, keep no outcome for
// the caller to decide. It reports whether it looked anything up.
func (r *run) lookupInserted(ctx context.Context, c *chunk, why string, resend bool) bool {
	q, ok := r.l.desc.(queryAPI)
	if !ok || r.cfg.Operation != Insert {
		return false
	}
	col, field := r.lookupColumn(ctx)
	if col < 0 {
		return false
	}
	type pending struct {
		i    int
		vals []string
	}
	var rows []pending
	c.forEach(r, func(i int, vals []string) {
		if vals != nil && col < len(vals) && vals[col] != "" && vals[col] != "#N/A" {
			rows = append(rows, pending{i, vals})
		}
	})
	found := map[string]string{} // external id value -> record id
	for start := 0; start < len(rows); start += maxLookupValues {
		part := rows[start:min(start+maxLookupValues, len(rows))]
		quoted := make([]string, len(part))
		for k, p := range part {
			quoted[k] = soqlQuote(p.vals[col])
		}
		soql := "SELECT Id, " + field + " FROM " + r.cfg.Object + " WHERE " + field + " IN (" + strings.Join(quoted, ",") + ")"
		err := r.retryStep(ctx, "look up rows by external id", func(ctx context.Context) error {
			for rec, err := range q.Query(ctx, soql) {
				if err != nil {
					return err
				}
				v, _ := rec.Get(field)
				s, _ := v.(string)
				found[strings.ToLower(s)] = rec.ID()
			}
			return nil
		})
		if err != nil {
			r.cfg.Logger.Warn("load: looking rows up by external id failed; their outcomes stay unknown", "field", field, "err", err)
			return false
		}
	}
	for _, p := range rows {
		if id, ok := found[strings.ToLower(p.vals[col])]; ok {
			r.resolve(c, p.i, &RowResult{Outcome: Succeeded, ID: id, Created: true, Values: p.vals})
			continue
		}
		r.neverSaved(c, p.i, &RowResult{Outcome: NotProcessed, Values: p.vals, Error: &RowError{StatusCode: StatusAborted,
			Message: why + "; no record has " + field + " " + p.vals[col] + ", so it was not saved"}}, resend)
	}
	return len(rows) > 0
}

// neverSaved settles row i of c, found never saved, with res (NotProcessed): with resend the
// row goes into the next pass while passes remain, else res is its outcome. A settling run
// marks the chunk so that a resume sends the row.
func (r *run) neverSaved(c *chunk, i int, res *RowResult, resend bool) {
	if r.cfg.Settle {
		c.leave = true // a resumed load sends it
	}
	if resend && c.pass < r.cfg.maxRetries {
		c.markResolved(i)
		m := c.rows[i]
		res.Row, res.Batch, res.Attempts = m.num, int(m.batch), int(m.attempts)+1
		if err := r.requeue(res); err == nil {
			c.markRequeued(i)
			return
		}
	}
	r.resolve(c, i, res)
}

// soqlQuote quotes s as a SOQL string literal.
func soqlQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
