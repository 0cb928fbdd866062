package org

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sfbatch/sfbatch/soql"
)

// Query error codes beyond the soql parser's MALFORMED_QUERY.
const (
	CodeInvalidQueryFilterOperator = "INVALID_QUERY_FILTER_OPERATOR"
)

// MaxOffset is the largest OFFSET Salesforce accepts.
const MaxOffset = 2000

// Result is the snapshot of a query's rows, taken when the query ran: later
// writes do not change it, so it can be paged at leisure. A Result is
// immutable and safe for concurrent use (except setting APIVersion).
type Result struct {
	// Object is the queried object's API name.
	Object string
	// Columns are the SELECT items in order, as written in the query
	// (dotted parent paths such as "Account.Name"; "expr0"... for
	// aggregates).
	Columns []string
	// Count is true for SELECT COUNT(): the result has no rows and TotalSize
	// is the count.
	Count bool
	// TotalSize is the number of rows (or the count for COUNT()).
	TotalSize int
	// APIVersion is used in the attributes.url of Record; "" means
	// DefaultAPIVersion.
	APIVersion string

	ob        *Object
	aggregate bool
	compound  string // the first compound column selected, "" for none
	cols      []column
	rels      []relation // relationship prefixes, in order of first use
	n         int
	// vals are an aggregate result's values, one row of len(Columns).
	vals []any
	// A row is the records it reads as they were when the query ran: the
	// root record, then a record per relation (rels) or the zero
	// packedData for none. Their packed values (snap, width per row) are
	// immutable strings, so a row costs no copy of its values and no
	// boxing; a record kept unpacked has its values in unpacked (keyed by
	// the index in snap) and "" in snap.
	width    int // records per row: 1 + len(rels)
	snap     []string
	unpacked map[int][]any
}

type column struct {
	names []string // canonical names: relationship names then the field name
	rel   int      // index in rels of the column's parent, -1 for a root field
	pos   int      // the field's position in its object
	// parts are the components of a compound field (see accessor).
	parts []compoundPart
}

type relation struct {
	names  []string // canonical relationship names from the root
	object *Object
	parent int // index in rels of the enclosing relation, -1 for the root
	hop    hop // the reference from the parent to this relation's record
}

// rec returns record k of the rows (see Result.snap); the zero packedData
// for a null parent.
func (r *Result) rec(k int) packedData {
	if d := r.snap[k]; d != "" {
		return packedData{d: d}
	}
	return packedData{x: r.unpacked[k]}
}

// value returns column c of row i (see Values).
func (r *Result) value(i, c int) any {
	if r.aggregate {
		return r.vals[c]
	}
	col := &r.cols[c]
	pd := r.rec(i*r.width + col.rel + 1)
	if pd.null() {
		return nil
	}
	if col.parts != nil {
		return compoundValue(&pd, col.parts)
	}
	return pd.get(col.pos)
}

// Len returns the number of rows.
func (r *Result) Len() int { return r.n }

// CompoundColumn returns the first column that selects a compound field (an address or a
// geolocation), "" when none does. Its values are maps of the components (as REST returns
// them); Bulk API queries refuse such a query.
func (r *Result) CompoundColumn() string { return r.compound }

// Values returns row i flattened in Columns order: nil for null, else
// string, float64, bool, Date or time.Time (a map of its components for a
// compound field). Each call returns a new slice.
func (r *Result) Values(i int) []any {
	if r.aggregate {
		return slices.Clone(r.vals)
	}
	vals := make([]any, len(r.Columns))
	for c := range vals {
		vals[c] = r.value(i, c)
	}
	return vals
}

// Text returns column c of row i as FormatCSV returns its value, without
// boxing it: a text value is returned as stored.
func (r *Result) Text(i, c int) string {
	if r.aggregate || r.cols[c].parts != nil {
		return FormatCSV(r.value(i, c))
	}
	col := &r.cols[c]
	pd := r.rec(i*r.width + col.rel + 1)
	if pd.null() {
		return ""
	}
	return pd.text(col.pos)
}

// IsNull reports whether column c of row i is null.
func (r *Result) IsNull(i, c int) bool {
	if r.aggregate || r.cols[c].parts != nil {
		return r.value(i, c) == nil
	}
	col := &r.cols[c]
	pd := r.rec(i*r.width + col.rel + 1)
	return pd.null() || pd.isNil(col.pos)
}

// FormatCSV returns v (a value from Values) as Bulk CSV text: empty for
// null, datetimes as 2024-01-03T23:52:01.000Z, dates as yyyy-MM-dd.
func (r *Result) FormatCSV(v any) string { return FormatCSV(v) }

// Record returns row i in the REST shape: "attributes" {"type","url"},
// fields under their API names, parent records nested under their
// relationship names (with their own attributes) or nil when the lookup is
// empty. Datetimes are formatted 2024-01-03T23:52:01.000+0000, dates
// yyyy-MM-dd. Aggregate rows have attributes {"type":"AggregateResult"}.
func (r *Result) Record(i int) map[string]any {
	if r.aggregate {
		m := map[string]any{"attributes": map[string]any{"type": "AggregateResult"}}
		for c, name := range r.Columns {
			m[name] = r.vals[c]
		}
		return m
	}
	recs := make([]packedData, r.width)
	for k := range recs {
		recs[k] = r.rec(i*r.width + k)
	}
	ver := r.APIVersion
	if ver == "" {
		ver = DefaultAPIVersion
	}
	attrs := func(ob *Object, rec *packedData) map[string]any {
		a := map[string]any{"type": ob.Name}
		if s, ok := rec.str(posID); ok {
			a["url"] = "/services/data/v" + ver + "/sobjects/" + ob.Name + "/" + s
		}
		return a
	}
	root := map[string]any{"attributes": attrs(r.ob, &recs[0])}
	maps := make([]map[string]any, len(r.rels)) // nil: parent null or not yet built
	var relMap func(k int) map[string]any
	relMap = func(k int) map[string]any {
		if maps[k] != nil {
			return maps[k]
		}
		rel := r.rels[k]
		parent := root
		if rel.parent >= 0 {
			parent = relMap(rel.parent)
			if parent == nil {
				return nil
			}
		}
		key := rel.names[len(rel.names)-1]
		if recs[k+1].null() {
			parent[key] = nil
			return nil
		}
		m := map[string]any{"attributes": attrs(rel.object, &recs[k+1])}
		parent[key] = m
		maps[k] = m
		return m
	}
	for c, col := range r.cols {
		target := root
		if col.rel >= 0 {
			target = relMap(col.rel)
			if target == nil {
				continue
			}
		}
		target[col.names[len(col.names)-1]] = jsonValue(r.value(i, c))
	}
	return root
}

// Query runs a SOQL query and returns a snapshot of its rows. includeDeleted
// (queryAll) includes records in the recycle bin. Errors are *QueryError
// with Code MALFORMED_QUERY (from the parser), INVALID_TYPE (unknown
// object), INVALID_FIELD (unknown field or relationship),
// INVALID_QUERY_FILTER_OPERATOR (a literal of the wrong type, a malformed
// id) or NUMBER_OUTSIDE_VALID_RANGE (OFFSET above MaxOffset); all are
// HTTP 400 in REST.
func (o *Org) Query(ctx context.Context, query string, includeDeleted bool) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, err := soql.Parse(query)
	if err != nil {
		var se *soql.Error
		if errors.As(err, &se) {
			return nil, &QueryError{Code: CodeMalformedQuery, Message: se.Message}
		}
		return nil, &QueryError{Code: CodeMalformedQuery, Message: err.Error()}
	}
	return o.Run(ctx, q, includeDeleted)
}

// Run evaluates a parsed query (see Query).
func (o *Org) Run(ctx context.Context, q *soql.Query, includeDeleted bool) (*Result, error) {
	ob, ok := o.schema.Object(q.From)
	if !ok {
		return nil, &QueryError{Code: CodeInvalidTypeObject, Message: fmt.Sprintf("sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", q.From)}
	}
	c := &compiler{o: o, ob: ob, now: o.clock.Now()}
	res := &Result{Object: ob.Name, ob: ob}
	sel, err := c.selectList(q, res)
	if err != nil {
		return nil, err
	}
	var where pred
	if q.Where != nil {
		w, qerr := c.compile(q.Where)
		if qerr != nil {
			return nil, qerr
		}
		where = w
	}
	order, err := c.orderKeys(q.OrderBy)
	if err != nil {
		return nil, err
	}
	if q.Offset != nil && *q.Offset > MaxOffset {
		return nil, &QueryError{Code: CodeNumberOutsideValidRange, Message: fmt.Sprintf("Maximum SOQL offset allowed is %d", MaxOffset)}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	o.mu.RLock()
	defer o.mu.RUnlock()
	t := o.tables[ob]
	c.bind()
	rows := t.rows
	if cand, ok := c.candidates(t, q.Where, includeDeleted); ok {
		rows = cand
	}
	// Without a condition nearly every row matches: room for all of them.
	hint := len(rows)
	if where != nil {
		hint = min(hint, 1<<16)
	}
	matched := make([]*record, 0, hint)
	for _, r := range rows {
		if r == nil || !includeDeleted && r.deleted() {
			continue
		}
		if where != nil && !where(r) {
			continue
		}
		matched = append(matched, r)
	}
	matched = sortRecords(matched, order)
	if q.Offset != nil {
		matched = matched[min(max(*q.Offset, 0), len(matched)):]
	}
	if q.Limit != nil && *q.Limit >= 0 && *q.Limit < len(matched) {
		matched = matched[:*q.Limit]
	}
	if sel.count {
		res.setCount(matched, sel.countField)
		if sel.countField == nil && q.Where == nil && q.Limit == nil && q.Offset == nil {
			res.TotalSize += t.counted // Options.CountOnly
		}
	} else {
		res.fill(sel.fields, matched)
	}
	return res, nil
}

// selection is a compiled SELECT list: its fields, or one COUNT() (of a
// field when countField is set).
type selection struct {
	fields     []*accessor
	count      bool
	countField *accessor
}

// selectList compiles q's SELECT list and names res's columns.
func (c *compiler) selectList(q *soql.Query, res *Result) (selection, error) {
	var sel selection
	hasField := false
	for i, item := range q.Fields {
		switch it := item.(type) {
		case *soql.FieldRef:
			a, err := c.resolve(it.Path)
			if err != nil {
				return sel, err
			}
			hasField = true
			sel.fields = append(sel.fields, a)
			res.Columns = append(res.Columns, strings.Join(it.Path, "."))
			if a.parts != nil && res.compound == "" {
				res.compound = strings.Join(it.Path, ".")
			}
		case *soql.Count:
			sel.count = true
			if it.Path != nil {
				a, err := c.resolve(it.Path)
				if err != nil {
					return sel, err
				}
				sel.countField = a
			}
			res.Columns = append(res.Columns, fmt.Sprintf("expr%d", i))
		}
	}
	if sel.count && (hasField || len(q.Fields) > 1) {
		for _, item := range q.Fields {
			if fr, ok := item.(*soql.FieldRef); ok {
				return sel, &QueryError{Code: CodeMalformedQuery, Message: fmt.Sprintf("Field must be grouped or aggregated: %s", strings.Join(fr.Path, "."))}
			}
		}
		return sel, &QueryError{Code: CodeMalformedQuery, Message: "only one COUNT is supported"}
	}
	return sel, nil
}

// orderKey is one compiled ORDER BY item.
type orderKey struct {
	a         *accessor
	desc      bool
	nullsLast bool
	fold      bool
}

// orderKeys compiles an ORDER BY clause.
func (c *compiler) orderKeys(items []soql.OrderItem) ([]orderKey, error) {
	var order []orderKey
	for _, it := range items {
		a, err := c.resolve(it.Path)
		if err != nil {
			return nil, err
		}
		nl := it.Desc
		if it.NullsSet {
			nl = it.NullsLast
		}
		order = append(order, orderKey{a: a, desc: it.Desc, nullsLast: nl, fold: folds(a.field)})
	}
	return order, nil
}

// sortRecords orders matched by order (stable: ties keep insertion order).
func sortRecords(matched []*record, order []orderKey) []*record {
	if len(order) == 0 {
		return matched
	}
	// Precompute sort keys: one slab, k values per matched row.
	k := len(order)
	keys := make([]any, len(matched)*k)
	for i, r := range matched {
		for j, ok := range order {
			keys[i*k+j] = sortKey(ok.a.get(r))
		}
	}
	idx := make([]int, len(matched))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		for j, ok := range order {
			a, b := keys[x*k+j], keys[y*k+j]
			if a == nil || b == nil {
				if a == nil && b == nil {
					continue
				}
				if (a == nil) != ok.nullsLast {
					return -1
				}
				return 1
			}
			cmp := compareValues(a, b, ok.fold)
			if ok.desc {
				cmp = -cmp
			}
			if cmp != 0 {
				return cmp
			}
		}
		return 0
	})
	sorted := make([]*record, len(matched))
	for i, j := range idx {
		sorted[i] = matched[j]
	}
	return sorted
}

// setCount makes res the answer to COUNT() (the number of matched rows) or
// COUNT(field) (those where field is not null).
func (res *Result) setCount(matched []*record, countField *accessor) {
	if countField == nil {
		res.Count = true
		res.TotalSize = len(matched)
		return
	}
	n := 0
	for _, r := range matched {
		if !countField.null(r) {
			n++
		}
	}
	res.aggregate = true
	res.width = 1
	res.vals = []any{float64(n)}
	res.n, res.TotalSize = 1, 1
}

// fill makes res the rows of matched: per row the record and the parent
// record of each relationship prefix the columns use, as they are now.
func (res *Result) fill(accs []*accessor, matched []*record) {
	res.cols = make([]column, len(accs))
	for ci, a := range accs {
		parent := -1
		for h := 1; h <= len(a.hops); h++ {
			names := a.names[:h]
			k := slices.IndexFunc(res.rels, func(rl relation) bool { return slices.Equal(rl.names, names) })
			if k < 0 {
				k = len(res.rels)
				res.rels = append(res.rels, relation{names: names, object: a.hops[h-1].t.ob, parent: parent, hop: a.hops[h-1]})
			}
			parent = k
		}
		res.cols[ci] = column{names: a.names, rel: parent, pos: a.pos, parts: a.parts}
	}
	res.width = 1 + len(res.rels)
	res.n, res.TotalSize = len(matched), len(matched)
	res.snap = make([]string, len(matched)*res.width)
	var parents []*record
	if len(res.rels) > 0 {
		parents = make([]*record, len(res.rels))
	}
	for i, r := range matched {
		base := i * res.width
		res.keep(base, r)
		for k, rel := range res.rels {
			from := r
			if rel.parent >= 0 {
				from = parents[rel.parent]
			}
			var p *record
			if from != nil {
				if id, _ := from.str(rel.hop.pos); id != "" {
					p = rel.hop.t.get(id)
				}
			}
			parents[k] = p
			if p != nil {
				res.keep(base+1+k, p)
			}
		}
	}
}

// keep stores r's values as record k of the rows.
func (res *Result) keep(k int, r *record) {
	if r.x == nil {
		res.snap[k] = r.d
		return
	}
	if res.unpacked == nil {
		res.unpacked = map[int][]any{}
	}
	res.unpacked[k] = r.x
}

// candidates narrows the rows a query must scan when its WHERE clause is,
// or is ANDed with, "Id = 'x'", "Id IN (...)" or "Field = 'x'" on a
// case-insensitive unique or external id field. The rows come in table
// order; the full condition is still applied to them.
func (c *compiler) candidates(t *table, where soql.Expr, includeDeleted bool) ([]*record, bool) {
	switch x := where.(type) {
	case *soql.And:
		if rows, ok := c.candidates(t, x.Left, includeDeleted); ok {
			return rows, true
		}
		return c.candidates(t, x.Right, includeDeleted)
	case *soql.Comparison:
		if len(x.Path) != 1 || x.Op != "=" && x.Op != "IN" {
			return nil, false
		}
		f, ok := t.ob.Field(x.Path[0])
		if !ok {
			return nil, false
		}
		vals := x.Values
		if x.Op == "=" {
			vals = []soql.Value{x.Value}
		}
		var out []*record
		switch {
		case f.pos == posID:
			for _, v := range vals {
				s, ok := v.(soql.StringLit)
				if !ok {
					return nil, false
				}
				if id, ok := NormalizeID(s.Value); ok {
					if r := t.get(id); r != nil {
						out = append(out, r)
					}
				}
			}
		case !includeDeleted && !f.CaseSensitive && f.isText():
			ix := t.indexFor(f.pos)
			if ix == nil {
				return nil, false
			}
			for _, v := range vals {
				s, ok := v.(soql.StringLit)
				if !ok {
					return nil, false
				}
				out = append(out, ix.lookup(s.Value)...)
			}
		default:
			return nil, false
		}
		slices.SortFunc(out, func(a, b *record) int { return a.pos - b.pos })
		return slices.Compact(out), true
	}
	return nil, false
}

// accessor reads a (possibly parent) field of a record.
type accessor struct {
	hops  []hop
	pos   int
	field *Field
	names []string // canonical path
	// parts are the components of a compound field: its value is a map of them.
	parts []compoundPart
}

// compoundPart is one component of a compound field as REST nests it: BillingCity is
// "city" of BillingAddress, Loc__Latitude__s "latitude" of Loc__c.
type compoundPart struct {
	key string
	pos int
}

// compoundParts lists the components of the compound field f of ob.
func compoundParts(ob *Object, f *Field) []compoundPart {
	prefix := strings.TrimSuffix(f.Name, "Address")
	parts := []compoundPart{}
	for _, g := range ob.Fields {
		if g.CompoundFieldName != f.Name {
			continue
		}
		key := g.Name
		if f.Type == TypeLocation {
			key = strings.TrimSuffix(key[strings.LastIndex(strings.TrimSuffix(key, "__s"), "__")+2:], "__s")
		} else {
			key = strings.TrimPrefix(key, prefix)
		}
		parts = append(parts, compoundPart{key: strings.ToLower(key[:1]) + key[1:], pos: g.pos})
	}
	return parts
}

type hop struct {
	pos int // reference field position in the current object
	ob  *Object
	t   *table // bound when the query runs
}

// target returns the record whose field a reads: r, or the parent its
// hops lead to (nil when a reference on the way is null or dangling).
func (a *accessor) target(r *record) *record {
	for i := range a.hops {
		id, _ := r.str(a.hops[i].pos)
		if id == "" {
			return nil
		}
		if r = a.hops[i].t.get(id); r == nil {
			return nil
		}
	}
	return r
}

func (a *accessor) get(r *record) any { return a.valueOf(a.target(r)) }

// valueOf returns the value a reads in its target t (nil t: null).
func (a *accessor) valueOf(t *record) any {
	if t == nil {
		return nil
	}
	if a.parts != nil {
		return compoundValue(&t.packedData, a.parts)
	}
	return t.get(a.pos)
}

// str returns the value a reads in its target t when it is a string,
// without boxing it.
func (a *accessor) str(t *record) (string, bool) {
	if t == nil || a.parts != nil {
		return "", false
	}
	return t.str(a.pos)
}

// null reports whether the value a reads in r is null.
func (a *accessor) null(r *record) bool {
	t := a.target(r)
	if t == nil {
		return true
	}
	if a.parts != nil {
		return a.valueOf(t) == nil
	}
	return t.isNil(a.pos)
}

// compoundValue is the value of a compound field of parts in pd: a map of
// its components, nil when every one is null.
func compoundValue(pd *packedData, parts []compoundPart) any {
	m := make(map[string]any, len(parts))
	set := false
	for _, p := range parts {
		m[p.key] = jsonValue(pd.get(p.pos))
		set = set || !pd.isNil(p.pos)
	}
	if !set {
		return nil // every component empty: the compound value is null
	}
	return m
}

type compiler struct {
	o    *Org
	ob   *Object
	now  time.Time
	accs []*accessor
}

// bind attaches tables to the compiled accessors (under the org lock).
func (c *compiler) bind() {
	for _, a := range c.accs {
		for i := range a.hops {
			a.hops[i].t = c.o.tables[a.hops[i].ob]
		}
	}
}

func invalidField(name, object string) *QueryError {
	return &QueryError{Code: CodeInvalidField, Message: fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", name, object)}
}

func (c *compiler) resolve(path []string) (*accessor, *QueryError) {
	ob := c.ob
	if len(path) > 1 && strings.EqualFold(path[0], ob.Name) {
		if _, isRel := ob.Relationship(path[0]); !isRel {
			path = path[1:]
		}
	}
	a := &accessor{}
	for i, name := range path {
		if i == len(path)-1 {
			f, ok := ob.Field(name)
			if !ok {
				return nil, invalidField(name, ob.Name)
			}
			a.pos, a.field = f.pos, f
			a.names = append(a.names, f.Name)
			if f.Compound() {
				a.parts = compoundParts(ob, f)
			}
			break
		}
		rf, ok := ob.Relationship(name)
		if !ok {
			return nil, &QueryError{Code: CodeInvalidField, Message: fmt.Sprintf("Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", name)}
		}
		target, _ := c.o.schema.Object(rf.ReferenceTo[0])
		a.hops = append(a.hops, hop{pos: rf.pos, ob: target})
		a.names = append(a.names, rf.RelationshipName)
		ob = target
	}
	c.accs = append(c.accs, a)
	return a, nil
}

// pred is a compiled WHERE condition.
type pred func(r *record) bool

// compileBoth compiles the two sides of AND or OR.
func (c *compiler) compileBoth(left, right soql.Expr) (pred, pred, *QueryError) {
	l, err := c.compile(left)
	if err != nil {
		return nil, nil, err
	}
	r, err := c.compile(right)
	if err != nil {
		return nil, nil, err
	}
	return l, r, nil
}

func (c *compiler) compile(e soql.Expr) (pred, *QueryError) {
	switch x := e.(type) {
	case *soql.And:
		l, r, err := c.compileBoth(x.Left, x.Right)
		if err != nil {
			return nil, err
		}
		return func(rec *record) bool { return l(rec) && r(rec) }, nil
	case *soql.Or:
		l, r, err := c.compileBoth(x.Left, x.Right)
		if err != nil {
			return nil, err
		}
		return func(rec *record) bool { return l(rec) || r(rec) }, nil
	case *soql.Not:
		in, err := c.compile(x.Expr)
		if err != nil {
			return nil, err
		}
		return func(rec *record) bool { return !in(rec) }, nil
	case *soql.Comparison:
		return c.comparison(x)
	}
	return nil, &QueryError{Code: CodeMalformedQuery, Message: fmt.Sprintf("unsupported condition %T", e)}
}

// literal is a comparison operand converted to the field's value space.
type literal struct {
	null     bool
	v        any // string (lower-cased for text), float64, bool, time.Time (dates too)
	rng      bool
	from, to time.Time // date literal range [from, to)
	raw      string    // LIKE pattern, multipicklist value
	badID    bool      // a non-empty string that is not an id, for an id field
}

func errBadID(l literal) *QueryError {
	return &QueryError{Code: CodeInvalidQueryFilterOperator, Message: "invalid ID field: " + l.raw}
}

func filterTypeErr(f *Field, want string, quoted bool) *QueryError {
	q := "should not be enclosed in quotes"
	if quoted {
		q = "should be enclosed in quotes"
	}
	return &QueryError{Code: CodeInvalidQueryFilterOperator, Message: fmt.Sprintf("value of filter criterion for field '%s' must be of type %s and %s", f.Name, want, q)}
}

func (c *compiler) literal(f *Field, v soql.Value) (literal, *QueryError) {
	if _, ok := v.(soql.NullLit); ok {
		return literal{null: true}, nil
	}
	switch f.Type {
	case TypeBoolean:
		if b, ok := v.(soql.BoolLit); ok {
			return literal{v: b.Value}, nil
		}
		return literal{}, filterTypeErr(f, "boolean", false)
	case TypeInt, TypeDouble, TypeCurrency, TypePercent:
		if n, ok := v.(soql.NumberLit); ok {
			return literal{v: n.Value}, nil
		}
		return literal{}, filterTypeErr(f, "double", false)
	case TypeDate, TypeDateTime:
		switch d := v.(type) {
		case soql.DateLit:
			return literal{v: d.Time}, nil
		case soql.DateTimeLit:
			if f.Type == TypeDate {
				t := d.Time.UTC()
				return literal{v: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}, nil
			}
			return literal{v: d.Time}, nil
		case soql.DateLiteral:
			from, to := soql.DateLiteralRange(d, c.now)
			return literal{rng: true, from: from, to: to}, nil
		}
		if f.Type == TypeDate {
			return literal{}, filterTypeErr(f, "date", false)
		}
		return literal{}, filterTypeErr(f, "dateTime", false)
	case TypeID, TypeReference:
		s, ok := v.(soql.StringLit)
		if !ok {
			return literal{}, filterTypeErr(f, "string", true)
		}
		if id, ok := NormalizeID(s.Value); ok {
			return literal{v: id, raw: s.Value}, nil
		}
		return literal{v: s.Value, raw: s.Value, badID: s.Value != ""}, nil
	}
	s, ok := v.(soql.StringLit)
	if !ok {
		return literal{}, filterTypeErr(f, "string", true)
	}
	return literal{v: strings.ToLower(s.Value), raw: s.Value}, nil
}

func (c *compiler) comparison(x *soql.Comparison) (pred, *QueryError) {
	a, err := c.resolve(x.Path)
	if err != nil {
		return nil, err
	}
	f := a.field
	op := x.Op
	if op == "<>" {
		op = "!="
	}
	if soql.IsList(op) {
		return c.listComparison(a, op, x.Values)
	}
	l, err := c.literal(f, x.Value)
	if err != nil {
		return nil, err
	}
	if l.badID && (op == "=" || op == "!=") {
		return nil, errBadID(l)
	}
	switch op {
	case "=":
		return func(r *record) bool { return a.eq(r, &l) }, nil
	case "!=":
		return func(r *record) bool { return !a.eq(r, &l) }, nil
	case "LIKE":
		return likePred(a, l, x.Value), nil
	case "<", "<=", ">", ">=":
		return rangePred(a, op, l), nil
	}
	return nil, &QueryError{Code: CodeMalformedQuery, Message: fmt.Sprintf("unsupported operator %s", x.Op)}
}

// listComparison compiles IN, NOT IN, INCLUDES and EXCLUDES.
func (c *compiler) listComparison(a *accessor, op string, values []soql.Value) (pred, *QueryError) {
	f := a.field
	lits := make([]literal, 0, len(values))
	for _, v := range values {
		l, err := c.literal(f, v)
		if err != nil {
			return nil, err
		}
		if l.badID && (op == "IN" || op == "NOT IN") {
			return nil, errBadID(l)
		}
		lits = append(lits, l)
	}
	if op == "IN" || op == "NOT IN" {
		not := op == "NOT IN"
		return func(r *record) bool {
			t := a.target(r)
			if s, ok := a.str(t); ok {
				for i := range lits {
					if matchEqText(f, s, &lits[i]) {
						return !not
					}
				}
				return not
			}
			v := a.valueOf(t)
			for i := range lits {
				if matchEq(f, v, &lits[i]) {
					return !not
				}
			}
			return not
		}, nil
	}
	if f.Type != TypeMultiPicklist {
		return nil, &QueryError{Code: CodeInvalidQueryFilterOperator, Message: fmt.Sprintf("includes or excludes operator only valid on multipicklist field: %s", f.Name)}
	}
	return includesPred(a, lits, op == "EXCLUDES"), nil
}

// includesPred matches a multipicklist that holds every value of one of
// the lits' ";"-separated sets (INCLUDES), or of none (EXCLUDES, excl).
func includesPred(a *accessor, lits []literal, excl bool) pred {
	sets := make([][]string, len(lits))
	for i, l := range lits {
		for _, p := range strings.Split(l.raw, ";") {
			if p = strings.TrimSpace(p); p != "" {
				sets[i] = append(sets[i], strings.ToLower(p))
			}
		}
	}
	return func(r *record) bool {
		s, _ := a.str(a.target(r))
		if s == "" {
			return excl
		}
		have := strings.Split(strings.ToLower(s), ";")
		for _, set := range sets {
			all := len(set) > 0
			for _, want := range set {
				if !slices.Contains(have, want) {
					all = false
					break
				}
			}
			if all {
				return !excl
			}
		}
		return excl
	}
}

// likePred compiles LIKE: a pattern on the value's text (LIKE null matches
// nulls).
func likePred(a *accessor, l literal, value soql.Value) pred {
	if l.null {
		return a.null
	}
	pat := l.raw
	if pat == "" {
		if s, ok := value.(soql.StringLit); ok {
			pat = s.Value
		}
	}
	match := likeMatcher(pat)
	return func(r *record) bool {
		t := a.target(r)
		if s, ok := a.str(t); ok {
			return match(s)
		}
		v := a.valueOf(t)
		if v == nil {
			return false
		}
		return match(FormatCSV(v))
	}
}

// rangePred compiles <, <=, > and >=; a date literal that stands for a
// range (l.rng, such as LAST_N_DAYS:7) compares against its bounds. Nulls
// never match.
func rangePred(a *accessor, op string, l literal) pred {
	if l.null {
		return func(*record) bool { return false }
	}
	fold := folds(a.field)
	return func(r *record) bool {
		t := a.target(r)
		var cmp int
		if s, ok := a.str(t); ok && !l.rng {
			cmp = compareText(s, l.v, fold)
		} else if v := a.valueOf(t); v == nil {
			return false
		} else if l.rng {
			// The literal stands for [from, to): a value before from is
			// below it, one at or after to above it, one in between equal.
			switch t := timeOf(v); {
			case t.Before(l.from):
				cmp = -1
			case !t.Before(l.to):
				cmp = 1
			}
		} else {
			cmp = compareValues(sortKey(v), l.v, fold)
		}
		switch op {
		case "<":
			return cmp < 0
		case "<=":
			return cmp <= 0
		case ">":
			return cmp > 0
		default:
			return cmp >= 0
		}
	}
}

func timeOf(v any) time.Time {
	switch x := v.(type) {
	case time.Time:
		return x
	case Date:
		return x.Time
	}
	return time.Time{}
}

// matchEq is "=" between a stored value and a literal.
func matchEq(f *Field, v any, l *literal) bool {
	if l.null {
		return v == nil
	}
	if v == nil {
		return false
	}
	if l.rng {
		t := timeOf(v)
		return !t.Before(l.from) && t.Before(l.to)
	}
	switch x := v.(type) {
	case string:
		return eqText(f, x, l)
	case float64:
		n, ok := l.v.(float64)
		return ok && n == x
	case bool:
		b, ok := l.v.(bool)
		return ok && b == x
	case Date:
		t, ok := l.v.(time.Time)
		return ok && t.Equal(x.Time)
	case time.Time:
		t, ok := l.v.(time.Time)
		return ok && t.Equal(x)
	}
	return false
}

// eq is "=" between the value a reads in r and l, without boxing a text
// value.
func (a *accessor) eq(r *record, l *literal) bool {
	t := a.target(r)
	if s, ok := a.str(t); ok {
		return matchEqText(a.field, s, l)
	}
	return matchEq(a.field, a.valueOf(t), l)
}

// matchEqText is matchEq of the text value x, without boxing it.
func matchEqText(f *Field, x string, l *literal) bool {
	if l.null || l.rng {
		return matchEq(f, x, l)
	}
	return eqText(f, x, l)
}

// eqText is matchEq of the text value x and l, neither null nor a range.
func eqText(f *Field, x string, l *literal) bool {
	ls, _ := l.v.(string)
	if f.Type == TypeID || f.Type == TypeReference {
		return x == ls
	}
	return strings.EqualFold(x, ls)
}

// sortKey maps a stored value to a comparable form (dates as time.Time).
func sortKey(v any) any {
	if d, ok := v.(Date); ok {
		return d.Time
	}
	return v
}

// folds reports whether text of f compares case-insensitively (all text but
// ids).
func folds(f *Field) bool { return f.Type != TypeID && f.Type != TypeReference }

// compareFold compares two strings case-insensitively without allocating
// for ASCII text.
func compareFold(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := a[i], b[i]
		if x >= utf8.RuneSelf || y >= utf8.RuneSelf {
			return strings.Compare(strings.ToLower(a[i:]), strings.ToLower(b[i:]))
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// compareText is compareValues of text x.
func compareText(x string, b any, fold bool) int {
	y, _ := b.(string)
	if fold {
		return compareFold(x, y)
	}
	return strings.Compare(x, y)
}

// compareValues orders two non-nil values of the same kind; fold compares
// text case-insensitively.
func compareValues(a, b any, fold bool) int {
	switch x := a.(type) {
	case string:
		return compareText(x, b, fold)
	case float64:
		y, _ := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case time.Time:
		y, _ := b.(time.Time)
		return x.Compare(y)
	}
	return 0
}
