package load

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
)

// maxMatchValues is how many values of the first MatchBy field one match query carries.
const maxMatchValues = 200

// MaxMatchQueryChars bounds the text of one match query (Options.MatchBy). A query is sent in
// the URL of a GET, and Salesforce refuses request URIs over 16,384 bytes: percent-encoding
// can triple a character, so the query text stays under a third of that, with room for the
// rest of the URL.
const MaxMatchQueryChars = 5_000

// MatchSlack is how long before Options.MatchSince a record may have been created and still
// be a candidate: clocks of this machine and of Salesforce differ by that much at most. An
// earlier bound can only find more candidates, which leaves a row Unknown, never wrongly
// settled.
const MatchSlack = 5 * time.Minute

// matchField is one Options.MatchBy field: its input column and its describe type.
type matchField struct {
	name string
	col  int
	typ  string
}

// matchInserted settles the rows of chunk c that still have no outcome after an insert whose
// answer was lost, by the fields of Options.MatchBy: the org is queried for records whose
// first field is one of the rows' values (created since the run started when the object has
// CreatedDate), and every field is compared here. Exactly one record: the insert saved the
// row (Succeeded, with that id). None: it never happened (NotProcessed; with resend, sent
// again in the next pass). Several: the row stays without an outcome, for the caller, and a
// message counting them is logged. Rows with an empty first value, and every row when the
// lookup fails, keep no outcome. It reports whether it looked anything up.
func (r *run) matchInserted(ctx context.Context, c *chunk, why string, resend bool) bool {
	q, ok := r.l.desc.(queryAPI)
	if !ok || r.cfg.Operation != Insert || len(r.cfg.MatchBy) == 0 {
		return false
	}
	d, err := r.l.desc.Describe(ctx, r.cfg.Object)
	if err != nil {
		r.cfg.Logger.Warn("load: match: cannot describe the object; outcomes stay unknown", "object", r.cfg.Object, "err", err)
		return false
	}
	fields := make([]matchField, 0, len(r.cfg.MatchBy))
	for _, name := range r.cfg.MatchBy {
		f := matchField{name: name, col: r.column(name), typ: "string"}
		if df, ok := d.Field(name); ok {
			f.name, f.typ = df.Name, df.Type
		}
		if f.col < 0 || !soqlName(f.name) {
			r.cfg.Logger.Warn("load: match: field is not an input column; outcomes stay unknown", "field", name)
			return false
		}
		fields = append(fields, f)
	}
	since := ""
	if _, ok := d.Field("CreatedDate"); ok && !r.cfg.MatchSince.IsZero() {
		since = " AND CreatedDate >= " + r.cfg.MatchSince.Add(-MatchSlack).UTC().Format("2006-01-02T15:04:05Z")
	}
	type pending struct {
		i    int
		vals []string
	}
	var rows []pending
	c.forEach(r, func(i int, vals []string) {
		if vals != nil && !emptyCell(vals[fields[0].col]) {
			rows = append(rows, pending{i, vals})
		}
	})
	names := make([]string, len(fields))
	for k, f := range fields {
		names[k] = f.name
	}
	head := "SELECT Id, " + strings.Join(names, ", ") + " FROM " + r.cfg.Object + " WHERE " + fields[0].name + " IN ("
	tail := ")" + since
	var recs []salesforce.Record
	query := func(lits []string) error {
		soql := head + strings.Join(lits, ",") + tail
		return r.retryStep(ctx, "match rows by "+strings.Join(names, ","), func(ctx context.Context) error {
			var got []salesforce.Record
			for rec, err := range q.Query(ctx, soql) {
				if err != nil {
					return err
				}
				got = append(got, rec)
			}
			recs = append(recs, got...)
			return nil
		})
	}
	var lits []string
	size := len(head) + len(tail)
	seen := map[string]bool{}
	for _, p := range rows {
		lit, ok := soqlLiteral(fields[0].typ, p.vals[fields[0].col])
		if !ok || seen[lit] {
			continue
		}
		seen[lit] = true
		if len(lits) > 0 && (len(lits) >= maxMatchValues || size+len(lit)+1 > MaxMatchQueryChars) {
			if err := query(lits); err != nil {
				r.cfg.Logger.Warn("load: match: query failed; outcomes stay unknown", "err", err)
				return false
			}
			lits, size = lits[:0], len(head)+len(tail)
		}
		lits = append(lits, lit)
		size += len(lit) + 1
	}
	if len(lits) > 0 {
		if err := query(lits); err != nil {
			r.cfg.Logger.Warn("load: match: query failed; outcomes stay unknown", "err", err)
			return false
		}
	}
	by := "by " + strings.Join(names, ", ")
	for _, p := range rows {
		var ids []string
		for _, rec := range recs {
			if matchesRow(rec, fields, p.vals) {
				ids = append(ids, rec.ID())
			}
		}
		switch len(ids) {
		case 1:
			r.resolve(c, p.i, &RowResult{Outcome: Succeeded, ID: ids[0], Created: true, Values: p.vals})
		case 0:
			r.neverSaved(c, p.i, &RowResult{Outcome: NotProcessed, Values: p.vals, Error: &RowError{StatusCode: StatusAborted,
				Message: why + "; no record created since the run started matches it " + by + ", so it was not saved"}}, resend)
		default:
			r.resolve(c, p.i, &RowResult{Outcome: Unknown, Values: p.vals, Error: &RowError{StatusCode: StatusOutcomeUnknown,
				Message: fmt.Sprintf("%s; %d records match it %s (duplicates: %s), so which one it saved, if any, is unknown",
					why, len(ids), by, strings.Join(ids, " "))}})
		}
	}
	return len(rows) > 0
}

// matchesRow reports whether every match field of rec equals the row's value. Text compares
// without regard to case, as SOQL's = does; numbers and booleans by value; an empty or #N/A
// cell matches a null field.
func matchesRow(rec salesforce.Record, fields []matchField, vals []string) bool {
	for _, f := range fields {
		v, _ := rec.Get(f.name)
		in := vals[f.col]
		if v == nil {
			if !emptyCell(in) {
				return false
			}
			continue
		}
		if emptyCell(in) {
			return false
		}
		switch x := v.(type) {
		case string:
			if !strings.EqualFold(x, in) {
				return false
			}
		case float64:
			n, err := strconv.ParseFloat(strings.TrimSpace(in), 64)
			if err != nil || n != x {
				return false
			}
		case bool:
			b, err := strconv.ParseBool(strings.TrimSpace(in))
			if err != nil || b != x {
				return false
			}
		default:
			if !strings.EqualFold(fmt.Sprint(x), in) {
				return false
			}
		}
	}
	return true
}

func emptyCell(v string) bool { return v == "" || v == "#N/A" }

// soqlLiteral writes v as a SOQL literal for a field of describe type typ: numbers and
// booleans bare (false when v is not one), everything else a quoted string with SOQL's escapes.
func soqlLiteral(typ, v string) (string, bool) {
	switch typ {
	case "int", "double", "currency", "percent", "long":
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return "", false
		}
		return strings.TrimSpace(v), true
	case "boolean":
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return "", false
		}
		return strconv.FormatBool(b), true
	}
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range v {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String(), true
}

// soqlName reports whether s can be a field name in a query: letters, digits and
// underscores, with dots between relationship names.
func soqlName(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i, r := range part {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}
