package org

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Op is a write operation.
type Op string

// Write operations.
const (
	OpInsert     Op = "insert"
	OpUpdate     Op = "update"
	OpUpsert     Op = "upsert"
	OpDelete     Op = "delete"
	OpHardDelete Op = "hardDelete"
	OpUndelete   Op = "undelete"
)

// WriteRequest is one record to write.
//
// Field values: nil sets null; a string is converted per the field's type
// like CSV text ("" also means null; "#N/A" is not special here); float64,
// json.Number and bool are accepted as JSON decodes them; time.Time and Date
// too. Keys are field names (case-insensitive) or relationship paths such as
// "Account.External_Id__c", which set AccountId to the Account whose
// External_Id__c has that value.
type WriteRequest struct {
	Op     Op
	Object string
	// ID is the record for update, delete, hardDelete and undelete; when
	// empty it is taken from Fields["Id"].
	ID string
	// ExternalIDField is the upsert key field; "" or "Id" upserts by Id.
	ExternalIDField string
	Fields          map[string]any
	// Columns and Values are the columnar form of Fields, for callers that
	// write many rows of the same shape: Values[i] is the value of
	// Columns[i], and a column whose value is Unset{} is left out of the
	// row, as a key missing from Fields is. Rows of one call usually share
	// one Columns slice, whose names are then resolved once. When Columns
	// is set, Fields is ignored. A value may also be a *string, read as the
	// string it points to, which must not change until Write returns: it
	// spares a caller holding many strings boxing each one.
	Columns []string
	Values  []any
}

// Unset is the value of a column a row leaves out, in WriteRequest.Values.
type Unset struct{}

func isUnset(v any) bool {
	_, ok := v.(Unset)
	return ok
}

// fieldMap returns the request's fields as a map, whichever form they came in.
func (req *WriteRequest) fieldMap() map[string]any {
	if req.Columns == nil {
		return req.Fields
	}
	m := make(map[string]any, len(req.Columns))
	for i, c := range req.Columns {
		switch v := req.Values[i].(type) {
		case Unset:
		case *string:
			m[c] = *v
		default:
			m[c] = v
		}
	}
	return m
}

// WriteResult is the outcome of one WriteRequest. Errors is nil on success.
type WriteResult struct {
	ID      string
	Success bool
	Created bool
	Errors  []Error
}

// Write applies reqs in order, as userID ("" = the default user), and
// returns one result per request in the same order. With allOrNone, if any
// request fails every change is rolled back; the failed requests keep their
// errors and the others fail with ALL_OR_NONE_OPERATION_ROLLED_BACK.
// With a data file, the changes of one call are written in one transaction.
// ctx is only checked before starting: a cancelled call writes nothing and
// every result carries the context error as an UNKNOWN_EXCEPTION.
func (o *Org) Write(ctx context.Context, userID string, reqs []WriteRequest, allOrNone bool) []WriteResult {
	if err := ctx.Err(); err != nil {
		res := make([]WriteResult, len(reqs))
		for i := range res {
			res[i].Errors = []Error{{StatusCode: "UNKNOWN_EXCEPTION", Message: err.Error(), Fields: []string{}}}
		}
		return res
	}
	return o.write(userID, reqs, allOrNone, "")
}

// WriteTagged is Write that, with a data file, also stores the results
// under tag in the transaction that stores the records: after a crash,
// TaggedResults tells a caller replaying its writes whether this one was
// applied and what it returned, so it is not applied twice. The caller
// forgets the tag (ForgetTag) once it has recorded the results itself.
// Without a data file it is Write.
func (o *Org) WriteTagged(ctx context.Context, userID string, reqs []WriteRequest, allOrNone bool, tag string) []WriteResult {
	if err := ctx.Err(); err != nil {
		return o.Write(ctx, userID, reqs, allOrNone)
	}
	return o.write(userID, reqs, allOrNone, tag)
}

// TaggedResults returns the results WriteTagged stored under tag, if that
// write was applied and its tag not forgotten.
func (o *Org) TaggedResults(tag string) ([]WriteResult, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.store == nil {
		return nil, false
	}
	return o.store.taggedResults(tag)
}

// ForgetTag removes the results stored under tag.
func (o *Org) ForgetTag(tag string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.store == nil {
		return nil
	}
	if _, err := o.store.db.Exec("DELETE FROM write_tags WHERE tag = ?", tag); err != nil {
		return fmt.Errorf("org: forget write %s: %w", tag, err)
	}
	return nil
}

func (o *Org) write(userID string, reqs []WriteRequest, allOrNone bool, tag string) []WriteResult {
	return o.writeAs(userID, reqs, allOrNone, false, tag)
}

// writeAs is write; system lets the org itself set read-only fields.
func (o *Org) writeAs(userID string, reqs []WriteRequest, allOrNone, system bool, tag string) []WriteResult {
	results := make([]WriteResult, len(reqs))
	o.mu.Lock()
	defer o.mu.Unlock()
	// With a data file the undo log also serves to keep memory and file in
	// step when the file cannot be written.
	w := &writer{o: o, now: o.now(), logUndo: allOrNone || o.store != nil, system: system, keyCache: map[*Object]map[string]keyInfo{}}
	w.user = o.defaultUser
	if id, ok := NormalizeID(userID); ok {
		w.user = id
	}
	w.nowAny, w.userAny = w.now, w.user
	failed := false
	for i := range reqs {
		w.left = len(reqs) - i
		res := w.one(&reqs[i])
		if !res.Success {
			failed = true
		}
		results[i] = res
	}
	if allOrNone && failed {
		w.rollback()
		for i := range results {
			if results[i].Success {
				results[i] = WriteResult{Errors: []Error{{StatusCode: CodeAllOrNoneRolledBack, Message: MessageAllOrNoneRolledBack, Fields: []string{}}}}
			}
		}
		return results
	}
	if o.store != nil && len(w.dirty) > 0 {
		if err := o.store.save(o, w.dirty, tag, results); err != nil {
			// Nothing reached the file: undo the changes in memory too and
			// fail every row that had succeeded.
			w.rollback()
			for i := range results {
				if results[i].Success {
					results[i] = WriteResult{Errors: []Error{{StatusCode: "UNKNOWN_EXCEPTION", Message: "data file: " + err.Error(), Fields: []string{}}}}
				}
			}
			return results
		}
	}
	for _, t := range w.touched {
		t.compact()
	}
	return results
}

type keyKind int

const (
	keyUnknown keyKind = iota
	keyField
	keyRel
	keyIgnore // "attributes", as sObject Collections bodies carry it
)

type keyInfo struct {
	kind   keyKind
	pos    int
	target *Object
	tfield *Field // field of target looked up by a relationship key
}

type dirtyRec struct {
	t *table
	r *record
}

type undoEntry struct {
	op  Op
	t   *table
	r   *record
	old packedData
}

// writer carries the state of one Write call.
type writer struct {
	o        *Org
	now      time.Time
	nowAny   any // now, boxed once
	user     string
	userAny  any
	logUndo  bool
	system   bool // writes by the org itself: read-only fields may be set
	undo     []undoEntry
	dirty    []dirtyRec
	touched  []*table
	keyCache map[*Object]map[string]keyInfo
	// colKeys are the resolved names of colKeysOf, the Columns of the
	// previous columnar request, for object colKeysOb.
	colKeys   []keyInfo
	colKeysOf []string
	colKeysOb *Object
	pairs     []pair // the fields of the request being staged

	// staging of one request
	stage   []any
	set     []bool
	setList []int

	// vals holds the values of the record being inserted, until they are
	// packed; idBuf its id.
	vals  []any
	idBuf [packedIDLen]byte
	pk    packer
	// Records are carved out of slabs to save allocations; a slab holds at most
	// slabRecords records and no more than the requests left need, so a small
	// write does not allocate (and keep alive) room for 128 records.
	recSlab []record
	left    int // requests not yet written, the current one included
}

// slabRecords is the most records one allocation of a writer's slabs holds.
const slabRecords = 128

// slabSize is how many records the next slab holds.
func (w *writer) slabSize() int { return min(slabRecords, max(1, w.left)) }

func fail(e *Error) WriteResult { return WriteResult{Errors: []Error{*e}} }

func (w *writer) one(req *WriteRequest) WriteResult {
	ob, ok := w.o.schema.Object(req.Object)
	if !ok {
		return fail(newErr(CodeInvalidTypeObject, fmt.Sprintf("sObject type '%s' is not supported.", req.Object)))
	}
	t := w.o.tables[ob]
	if !slices.Contains(w.touched, t) {
		w.touched = append(w.touched, t)
	}
	if req.Columns != nil && (req.Op != OpInsert || w.o.faults.active()) {
		// Only inserts are written from columns; the rest take the map.
		m := *req
		m.Fields, m.Columns, m.Values = req.fieldMap(), nil, nil
		req = &m
	}
	if req.Columns != nil {
		return w.insertFrom(t, w.columnPairs(ob, req.Columns, req.Values))
	}
	if e := w.o.faults.match(ob.Name, req.Fields); e != nil {
		return fail(e)
	}
	switch req.Op {
	case OpInsert:
		return w.insert(t, req.Fields)
	case OpUpdate:
		r, id, e := w.target(t, req)
		if e != nil {
			return WriteResult{ID: id, Errors: []Error{*e}}
		}
		return w.update(t, r, req.Fields)
	case OpUpsert:
		return w.upsert(t, req)
	case OpDelete, OpHardDelete, OpUndelete:
		return w.remove(t, req)
	}
	return fail(newErr(CodeInvalidOperation, fmt.Sprintf("unknown operation %q", req.Op)))
}

// requestID returns the id of an update/delete request.
func requestID(req *WriteRequest) string {
	if req.ID != "" {
		return req.ID
	}
	for k, v := range req.Fields {
		if strings.EqualFold(k, "Id") {
			s, _ := toText(v)
			return s
		}
	}
	return ""
}

// lookupID finds the record id names in t, with Salesforce's errors for a
// missing, malformed, foreign or unknown id. deleted records are returned.
func (w *writer) lookupID(t *table, id, op string) (*record, string, *Error) {
	if id == "" {
		article := "a"
		if strings.ContainsAny(op[:1], "aeiou") {
			article = "an"
		}
		return nil, "", newErr(CodeMissingArgument, fmt.Sprintf("Id not specified in %s %s call", article, op))
	}
	nid, ok := NormalizeID(id)
	if !ok {
		return nil, "", newErr(CodeMalformedID, fmt.Sprintf("%s ID: id value of incorrect type: %s", t.ob.Label, id), "Id")
	}
	if nid[:3] != t.ob.KeyPrefix {
		return nil, nid, newErr(CodeMalformedID, fmt.Sprintf("%s ID: id value of incorrect type: %s", t.ob.Label, id), "Id")
	}
	r := t.get(nid)
	if r == nil {
		return nil, nid, newErr(CodeNotFound, MessageNotFound)
	}
	return r, nid, nil
}

func (w *writer) target(t *table, req *WriteRequest) (*record, string, *Error) {
	r, id, e := w.lookupID(t, requestID(req), "update")
	if e != nil {
		return nil, id, e
	}
	if r.deleted() {
		return nil, id, newErr(CodeEntityIsDeleted, messageEntityIsDeleted)
	}
	return r, id, nil
}

func (w *writer) keyInfo(ob *Object, k string) keyInfo {
	m := w.keyCache[ob]
	if m == nil {
		m = map[string]keyInfo{}
		w.keyCache[ob] = m
	}
	if ki, ok := m[k]; ok {
		return ki
	}
	var ki keyInfo
	if k == "attributes" {
		ki.kind = keyIgnore
	} else if f, ok := ob.Field(k); ok {
		ki = keyInfo{kind: keyField, pos: f.pos}
	} else if rel, name, ok := strings.Cut(k, "."); ok {
		// "Owner:User.Username" names the parent type of a polymorphic
		// lookup; it must be one the field refers to.
		rel, typ, typed := strings.Cut(rel, ":")
		if rf, ok := ob.Relationship(rel); ok && (!typed || slices.ContainsFunc(rf.ReferenceTo, func(s string) bool { return strings.EqualFold(s, typ) })) {
			if !typed {
				typ = rf.ReferenceTo[0]
			}
			if target, ok := w.o.schema.Object(typ); ok {
				if tf, ok := target.Field(name); ok && (tf.IDLookup || tf.ExternalID || tf.pos == posID) && !strings.Contains(name, ".") {
					ki = keyInfo{kind: keyRel, pos: rf.pos, target: target, tfield: tf}
				}
			}
		}
	}
	m[k] = ki
	return ki
}

// pair is one field of a request: its key as written, the key resolved,
// and its value.
type pair struct {
	k  string
	ki keyInfo
	v  any
}

// mapPairs returns the entries of fields, in w.pairs.
func (w *writer) mapPairs(ob *Object, fields map[string]any) []pair {
	w.pairs = w.pairs[:0]
	for k, v := range fields {
		w.pairs = append(w.pairs, pair{k, w.keyInfo(ob, k), v})
	}
	return w.pairs
}

// columnPairs returns the columns of a columnar request that vals does not
// leave Unset, in w.pairs, resolving the column names once per Columns
// slice.
func (w *writer) columnPairs(ob *Object, cols []string, vals []any) []pair {
	if w.colKeysOb != ob || len(w.colKeysOf) != len(cols) || len(cols) > 0 && &w.colKeysOf[0] != &cols[0] {
		w.colKeys = w.colKeys[:0]
		for _, c := range cols {
			w.colKeys = append(w.colKeys, w.keyInfo(ob, c))
		}
		w.colKeysOf, w.colKeysOb = cols, ob
	}
	w.pairs = w.pairs[:0]
	for i, c := range cols {
		if v := vals[i]; !isUnset(v) {
			w.pairs = append(w.pairs, pair{c, w.colKeys[i], v})
		}
	}
	return w.pairs
}

// stageFields converts fields into w.stage. insert selects the createable
// rather than the updateable check. The returned error is the one
// Salesforce would report first: unknown fields, then fields that may not be
// written, then bad values, then bad references.
func (w *writer) stageFields(t *table, fields map[string]any, insert bool) *Error {
	return w.stagePairs(t, w.mapPairs(t.ob, fields), insert)
}

// stagePairs is stageFields for a sequence of fields.
func (w *writer) stagePairs(t *table, fields []pair, insert bool) *Error {
	ob := t.ob
	n := len(ob.Fields)
	for _, p := range w.setList { // positions of the previous request, maybe of another object
		w.stage[p], w.set[p] = nil, false
	}
	w.setList = w.setList[:0]
	if cap(w.stage) < n {
		w.stage, w.set = make([]any, n), make([]bool, n)
	}
	w.stage, w.set = w.stage[:n], w.set[:n]

	var best *Error
	bestRank, bestPos, bestKey := 0, 0, ""
	consider := func(rank, pos int, key string, e *Error) {
		if best == nil || rank < bestRank || rank == bestRank && (pos < bestPos || pos == bestPos && key < bestKey) {
			best, bestRank, bestPos, bestKey = e, rank, pos, key
		}
	}
	var notWritable []int
	for _, p := range fields {
		k, ki, v := p.k, p.ki, p.v
		switch ki.kind {
		case keyIgnore:
			continue
		case keyUnknown:
			consider(1, 0, k, errInvalidField(k, ob.Name))
			continue
		case keyField:
			if ki.pos == posID {
				if s, _ := toText(v); v == nil || s == "" {
					continue
				}
				if insert {
					consider(1, 0, k, newErr(CodeInvalidField, "Record ID: cannot specify Id in an insert call", "Id"))
				}
				continue // the update target was resolved from it already
			}
		}
		f := ob.Fields[ki.pos]
		if !w.system && (insert && !f.Createable || !insert && !f.Updateable) {
			if !slices.Contains(notWritable, ki.pos) {
				notWritable = append(notWritable, ki.pos)
			}
			continue
		}
		var val any
		if ki.kind == keyRel {
			id, e := w.resolveExternal(ob, ki, v)
			if e != nil {
				consider(4, ki.pos, k, e)
				continue
			}
			if id != "" {
				val = id
			}
		} else {
			cv, e := convertInput(f, v)
			if e != nil {
				consider(3, ki.pos, k, e)
				continue
			}
			if cv != nil && (f.Type == TypeReference || f.Type == TypeID) {
				id, e := w.resolveRef(f, cv.(string))
				if e != nil {
					consider(4, ki.pos, k, e)
					continue
				}
				cv = id
			}
			val = cv
		}
		if !w.set[ki.pos] {
			w.set[ki.pos] = true
			w.setList = append(w.setList, ki.pos)
		}
		w.stage[ki.pos] = val
	}
	if best != nil && bestRank == 1 {
		return best
	}
	if len(notWritable) > 0 {
		slices.Sort(notWritable)
		names := make([]string, len(notWritable))
		for i, p := range notWritable {
			names[i] = ob.Fields[p].Name
		}
		return errNotCreateable(names)
	}
	return best
}

// resolveRef checks a reference field's id value.
func (w *writer) resolveRef(f *Field, v string) (string, *Error) {
	id, ok := NormalizeID(v)
	if !ok {
		return "", errMalformedID(f.Label, v, f.Name)
	}
	target, ok := w.o.objectForID(id)
	if !ok || !slices.ContainsFunc(f.ReferenceTo, func(s string) bool { return strings.EqualFold(s, target.Name) }) {
		// A well-formed id of another object.
		return "", newErr(CodeFieldIntegrity, fmt.Sprintf("%s: id value of incorrect type: %s", f.Label, v), f.Name)
	}
	r := w.o.tables[target].get(id)
	if r == nil {
		return "", newErr(CodeInvalidCrossReference, messageInvalidCrossReference, f.Name)
	}
	if r.deleted() {
		return "", newErr(CodeEntityIsDeleted, messageEntityIsDeleted, f.Name)
	}
	return id, nil
}

// resolveExternal finds the parent record named by a relationship key's
// value ("" for null) for a record of ob. A RecordType is looked up among
// ob's record types only (RecordType.DeveloperName names one per object).
func (w *writer) resolveExternal(ob *Object, ki keyInfo, v any) (string, *Error) {
	rf := w.o.tables[ki.target].ob.Fields[ki.tfield.pos]
	s, ok := toText(v)
	if v == nil || ok && s == "" {
		return "", nil
	}
	if !ok {
		return "", errInvalidType(rf, fmt.Sprint(v))
	}
	// Salesforce reports a parent that no external id matches as INVALID_FIELD (in REST,
	// collections and both Bulk APIs), unlike a missing parent given by Id.
	notFound := newErr(CodeInvalidField, fmt.Sprintf("Foreign key external ID: %s not found for field %s in entity %s", s, rf.Name, ki.target.Name))
	t := w.o.tables[ki.target]
	if rf.pos == posID {
		id, ok := NormalizeID(s)
		if !ok || id[:3] != ki.target.KeyPrefix {
			return "", notFound
		}
		r := t.get(id)
		if r == nil || r.deleted() {
			return "", notFound
		}
		return id, nil
	}
	cv, e := convertValue(rf, s)
	if e != nil {
		return "", notFound
	}
	var matches []*record
	if ix := t.indexFor(rf.pos); ix != nil {
		matches = ix.lookup(cv)
	} else {
		matches = t.scan(rf, cv)
	}
	if ki.target.Name == "RecordType" {
		if st, ok := ki.target.Field("SobjectType"); ok {
			matches = slices.DeleteFunc(slices.Clone(matches), func(r *record) bool { return !strings.EqualFold(r.text(st.pos), ob.Name) })
		}
	}
	switch len(matches) {
	case 0:
		return "", notFound
	case 1:
		return matches[0].id(), nil
	}
	return "", errDuplicateExternal(rf, matches)
}

func errDuplicateExternal(f *Field, matches []*record) *Error {
	ids := make([]string, len(matches))
	for i, r := range matches {
		ids[i] = r.id()
	}
	return newErr(CodeDuplicateExternalID, fmt.Sprintf("%s: more than one record found for external id field: [%s]", f.Label, strings.Join(ids, ", ")), f.Name)
}

func (t *table) indexFor(pos int) *index {
	for i, p := range t.ob.indexed {
		if p == pos {
			return t.idx[i]
		}
	}
	return nil
}

// scan finds live records whose field f equals v (case-insensitively for
// text), for lookups on fields without an index.
func (t *table) scan(f *Field, v any) []*record {
	var out []*record
	want := FormatCSV(v)
	for _, r := range t.rows {
		if r == nil || r.deleted() || r.isNil(f.pos) {
			continue
		}
		if strings.EqualFold(r.text(f.pos), want) {
			out = append(out, r)
		}
	}
	return out
}

// newVals returns the writer's n values for a record being built, all nil.
// They are the writer's until the next call: the record keeps them packed.
func (w *writer) newVals(n int) []any {
	if cap(w.vals) < n {
		w.vals = make([]any, n)
	}
	w.vals = w.vals[:n]
	clear(w.vals)
	return w.vals
}

// newRecord returns a record holding vals, packed.
func (w *writer) newRecord(vals []any) *record {
	if len(w.recSlab) == 0 {
		w.recSlab = make([]record, w.slabSize())
	}
	r := &w.recSlab[0]
	w.recSlab = w.recSlab[1:]
	r.setData(w.pk.packShared(vals, w.left))
	return r
}

// checkUnique reports a DUPLICATE_VALUE if vals collides with another
// record on a unique field.
func checkUnique(t *table, vals []any, self *record) *Error {
	for _, ix := range t.idx {
		if !ix.field.Unique {
			continue
		}
		for _, r := range ix.lookup(vals[ix.field.pos]) {
			if r != self {
				return newErr(CodeDuplicateValue, fmt.Sprintf("duplicate value found: %s duplicates value on record with id: %s", ix.field.Name, r.id()))
			}
		}
	}
	return nil
}

func (w *writer) insert(t *table, fields map[string]any) WriteResult {
	return w.insertFrom(t, w.mapPairs(t.ob, fields))
}

// insertFrom inserts the record whose fields are the sequence fields.
func (w *writer) insertFrom(t *table, fields []pair) WriteResult {
	if e := w.stagePairs(t, fields, true); e != nil {
		return fail(e)
	}
	ob := t.ob
	vals := w.newVals(len(ob.Fields))
	for _, i := range ob.insertDefaultPos {
		vals[i] = ob.insertDefaults[i]
	}
	if ob.ownerPos >= 0 {
		vals[ob.ownerPos] = w.userAny
	}
	for _, i := range w.setList {
		vals[i] = w.stage[i]
		if vals[i] == nil && ob.Fields[i].Type == TypeBoolean {
			vals[i] = false
		}
	}
	switch {
	case ob.nameJoin != nil:
		vals[ob.byName["name"]] = ob.nameJoin
	case ob.nameFn != nil:
		vals[ob.byName["name"]] = ob.nameFn(vals)
	}
	var missing []string
	for _, i := range ob.requiredPos {
		if vals[i] == nil {
			missing = append(missing, ob.Fields[i].Name)
		}
	}
	if missing != nil {
		clear(vals)
		return fail(errRequired(missing))
	}
	if e := w.checkPicklists(ob, vals, true); e != nil {
		clear(vals)
		return fail(e)
	}
	if e := checkUnique(t, vals, nil); e != nil {
		clear(vals)
		return fail(e)
	}
	if ob.Name == "Case" {
		if p, ok := ob.byName["casenumber"]; ok && vals[p] == nil {
			vals[p] = fmt.Sprintf("%08d", 1001+t.seq)
		}
	}
	vals[posIsDeleted] = false
	vals[posCreatedDate], vals[posLastModifiedDate], vals[posSystemModstamp] = w.nowAny, w.nowAny, w.nowAny
	counted := w.o.countOnly && !w.system
	if w.user != "" && !counted && !(ob.Name == "User" && w.o.defaultUser == "") {
		// The usual case: the id is minted into the writer's buffer and
		// packed from it; the result's id is then the record's own.
		w.o.ids.mintTo(&w.idBuf, ob.KeyPrefix)
		vals[posID] = &w.idBuf
		vals[posCreatedByID], vals[posLastModifiedByID] = w.userAny, w.userAny
		r := w.newRecord(vals) // packed: vals are the writer's again
		t.add(r)
		w.log(OpInsert, t, r, packedData{})
		return WriteResult{ID: r.id(), Success: true, Created: true}
	}
	id := w.o.ids.mint(ob.KeyPrefix)
	vals[posID] = id
	var user any = w.userAny
	if w.user == "" { // the default user itself
		user = id
	}
	vals[posCreatedByID], vals[posLastModifiedByID] = user, user
	if ob.Name == "User" && w.o.defaultUser == "" {
		w.o.defaultUser, w.user, w.userAny = id, id, id
	}
	if counted {
		// Validated and answered as usual, then counted instead of kept.
		t.counted++
		t.seq++
		return WriteResult{ID: id, Success: true, Created: true}
	}
	r := w.newRecord(vals) // packed: vals are the writer's again
	t.add(r)
	w.log(OpInsert, t, r, packedData{})
	return WriteResult{ID: id, Success: true, Created: true}
}

func (w *writer) log(op Op, t *table, r *record, old packedData) {
	if w.logUndo {
		w.undo = append(w.undo, undoEntry{op: op, t: t, r: r, old: old})
	}
	if w.o.store != nil {
		w.dirty = append(w.dirty, dirtyRec{t: t, r: r})
	}
}

func (w *writer) update(t *table, r *record, fields map[string]any) WriteResult {
	id := r.id()
	if e := w.stageFields(t, fields, false); e != nil {
		return WriteResult{ID: id, Errors: []Error{*e}}
	}
	ob := t.ob
	var missing []string
	for _, p := range w.setList {
		f := ob.Fields[p]
		if w.stage[p] == nil && !f.Nillable && f.Type != TypeBoolean {
			missing = append(missing, f.Name)
		}
	}
	if missing != nil {
		slices.SortFunc(missing, func(a, b string) int { return ob.byName[strings.ToLower(a)] - ob.byName[strings.ToLower(b)] })
		return WriteResult{ID: id, Errors: []Error{*errRequired(missing)}}
	}
	newVals := r.values()
	for _, p := range w.setList {
		v := w.stage[p]
		if v == nil && ob.Fields[p].Type == TypeBoolean {
			v = false
		}
		newVals[p] = v
	}
	if ob.nameFn != nil {
		newVals[ob.byName["name"]] = ob.nameFn(newVals)
	}
	if e := w.checkPicklists(ob, newVals, false); e != nil {
		return WriteResult{ID: id, Errors: []Error{*e}}
	}
	if e := checkUnique(t, newVals, r); e != nil {
		return WriteResult{ID: id, Errors: []Error{*e}}
	}
	newVals[posLastModifiedDate], newVals[posSystemModstamp], newVals[posLastModifiedByID] = w.nowAny, w.nowAny, w.userAny
	t.indexRemove(r)
	old := r.data()
	r.setData(w.pk.pack(newVals))
	t.indexAdd(r)
	w.log(OpUpdate, t, r, old)
	return WriteResult{ID: id, Success: true}
}

func (w *writer) upsert(t *table, req *WriteRequest) WriteResult {
	ob := t.ob
	key := req.ExternalIDField
	if key == "" || strings.EqualFold(key, "Id") {
		id := requestID(req)
		if id == "" {
			fields := req.Fields
			if hasKey(fields, "Id") {
				fields = withoutKey(fields, "Id")
			}
			return w.insert(t, fields)
		}
		r, nid, e := w.lookupID(t, id, "upsert")
		if e != nil {
			return WriteResult{ID: nid, Errors: []Error{*e}}
		}
		if r.deleted() {
			return WriteResult{ID: nid, Errors: []Error{*newErr(CodeEntityIsDeleted, messageEntityIsDeleted)}}
		}
		return w.update(t, r, req.Fields)
	}
	f, ok := ob.Field(key)
	if !ok || !(f.ExternalID || f.IDLookup) {
		return fail(newErr(CodeNotFound, fmt.Sprintf("Provided external ID field does not exist or is not accessible: %s", key)))
	}
	var raw any
	found := false
	for k, v := range req.Fields {
		if strings.EqualFold(k, f.Name) {
			raw, found = v, true
			break
		}
	}
	s, _ := toText(raw)
	if !found || raw == nil || s == "" {
		return fail(newErr(CodeMissingArgument, fmt.Sprintf("%s not specified", f.Name)))
	}
	cv, e := convertInput(f, raw)
	if e != nil {
		return fail(e)
	}
	var matches []*record
	if ix := t.indexFor(f.pos); ix != nil {
		matches = ix.lookup(cv)
	} else {
		matches = t.scan(f, cv)
	}
	switch len(matches) {
	case 0:
		return w.insert(t, req.Fields)
	case 1:
		return w.update(t, matches[0], req.Fields)
	}
	return fail(errDuplicateExternal(f, matches))
}

func hasKey(m map[string]any, key string) bool {
	for k := range m {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

func withoutKey(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if !strings.EqualFold(k, key) {
			out[k] = v
		}
	}
	return out
}

func (w *writer) remove(t *table, req *WriteRequest) WriteResult {
	r, id, e := w.lookupID(t, requestID(req), string(req.Op))
	if e != nil {
		return WriteResult{ID: id, Errors: []Error{*e}}
	}
	switch req.Op {
	case OpDelete:
		if r.deleted() {
			return WriteResult{ID: id, Errors: []Error{*newErr(CodeEntityIsDeleted, messageEntityIsDeleted)}}
		}
		old := r.data()
		nv := r.values()
		nv[posIsDeleted], nv[posLastModifiedDate], nv[posSystemModstamp], nv[posLastModifiedByID] = true, w.nowAny, w.nowAny, w.userAny
		t.indexRemove(r)
		r.setData(w.pk.pack(nv))
		w.log(OpDelete, t, r, old)
	case OpHardDelete:
		t.drop(r)
		w.log(OpHardDelete, t, r, packedData{})
	case OpUndelete:
		if !r.deleted() {
			return WriteResult{ID: id, Errors: []Error{*newErr(CodeUndeleteFailed, "Entity is not in the recycle bin")}}
		}
		nv := r.values()
		if e := checkUnique(t, nv, r); e != nil {
			return WriteResult{ID: id, Errors: []Error{*e}}
		}
		old := r.data()
		nv[posIsDeleted], nv[posLastModifiedDate], nv[posSystemModstamp], nv[posLastModifiedByID] = false, w.nowAny, w.nowAny, w.userAny
		r.setData(w.pk.pack(nv))
		t.indexAdd(r)
		w.log(OpUndelete, t, r, old)
	}
	return WriteResult{ID: id, Success: true}
}

func (w *writer) rollback() {
	for i := len(w.undo) - 1; i >= 0; i-- {
		u := w.undo[i]
		switch u.op {
		case OpInsert:
			u.t.drop(u.r)
		case OpUpdate:
			u.t.indexRemove(u.r)
			u.r.setData(u.old)
			u.t.indexAdd(u.r)
		case OpDelete:
			u.r.setData(u.old)
			u.t.indexAdd(u.r)
		case OpHardDelete:
			u.t.restore(u.r)
		case OpUndelete:
			u.t.indexRemove(u.r)
			u.r.setData(u.old)
		}
	}
	w.undo, w.dirty = nil, nil
}
