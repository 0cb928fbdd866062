package soql

import (
	"strings"
)

// WithIDRange rewrites query so that it returns only the records whose Id is
// in the half-open range [lo, hi): it adds "Id >= 'lo'" (unless lo is "") and
// "Id < 'hi'" (unless hi is "") and ANDs them with the existing WHERE
// condition, which is kept in parentheses when it is an OR. The result is the
// canonical form of the rewritten query (see Query.String).
//
// Running the query once per range of a partition of the id space returns
// exactly the rows of the original query, so WithIDRange refuses queries for
// which that is not true: COUNT() and COUNT(field) (one total per range),
// LIMIT and OFFSET (applied per range). ORDER BY is accepted only as ORDER BY
// Id (ascending, so that ranges taken in order keep the global order). lo and
// hi must be 15- or 18-character alphanumeric record ids, with lo < hi when
// both are set. Errors are *Error values.
func WithIDRange(query string, lo, hi string) (string, error) {
	q, err := Parse(query)
	if err != nil {
		return "", err
	}
	reject := func(format string, args ...any) (string, error) {
		e := newError(query, 0, false, format, args...)
		e.Message = e.Reason
		return "", e
	}
	for _, f := range q.Fields {
		if _, ok := f.(*Count); ok {
			return reject("cannot split a COUNT query into id ranges")
		}
	}
	if q.Limit != nil {
		return reject("cannot split a query with LIMIT into id ranges")
	}
	if q.Offset != nil {
		return reject("cannot split a query with OFFSET into id ranges")
	}
	for _, o := range q.OrderBy {
		if len(o.Path) != 1 || !strings.EqualFold(o.Path[0], "Id") || o.Desc {
			return reject("cannot split a query ordered by %s into id ranges; only ORDER BY Id keeps its order", o.String())
		}
	}
	for _, id := range []string{lo, hi} {
		if id != "" && !isRecordID(id) {
			return reject("invalid record id for an id range: %q", id)
		}
	}
	if lo != "" && hi != "" && lo >= hi {
		return reject("empty id range: %q is not before %q", lo, hi)
	}
	var cond Expr
	if lo != "" {
		cond = &Comparison{Path: []string{"Id"}, Op: ">=", Value: StringLit{Value: lo}}
	}
	if hi != "" {
		c := &Comparison{Path: []string{"Id"}, Op: "<", Value: StringLit{Value: hi}}
		if cond == nil {
			cond = c
		} else {
			cond = &And{Left: cond, Right: c}
		}
	}
	if cond != nil {
		if q.Where == nil {
			q.Where = cond
		} else {
			q.Where = &And{Left: q.Where, Right: cond}
		}
	}
	return q.String(), nil
}

// isRecordID reports whether s looks like a 15- or 18-character record id.
func isRecordID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
