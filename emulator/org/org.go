package org

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
)

// DefaultUsername is the login name of the user every new org starts with.
const DefaultUsername = "admin@sfbatch.example"

// Options configure an Org. The zero value is a usable in-memory default
// org on the real clock.
type Options struct {
	// Schema is the org's schema; nil means DefaultSchema().
	Schema *Schema
	// DataFile is a SQLite file holding the records; "" keeps them in
	// memory only. Records written to a data file survive Close and New.
	DataFile string
	// Clock drives system fields, date literals and daily limits; nil means
	// the real clock.
	Clock clock.Clock
	// Seed makes generated ids differ between orgs; ids are deterministic
	// for a given Seed and sequence of writes.
	Seed int64
	// OrgID is the 18-character organization id; "" derives one (00D...)
	// from Seed.
	OrgID string
	// OrgName is the Organization record's Name; "" means DefaultOrgName.
	OrgName string
	// CountOnly makes the org validate inserts by API callers as usual (fields, types,
	// required fields, unique values, references), answer them with a new id, and count them
	// without keeping the record: Count and SELECT COUNT() without WHERE include them, every
	// other query, get and update sees none. It lets a benchmark load tens of millions of
	// rows without the emulator holding them. It cannot be combined with DataFile, and an
	// all-or-none rollback does not uncount rows.
	CountOnly bool
}

// Org is an emulated Salesforce org: schema, records, limits and faults.
// It is safe for concurrent use; writes are serialized, queries run in
// parallel with each other.
type Org struct {
	schema *Schema
	clock  clock.Clock
	orgID  string

	mu          sync.RWMutex
	tables      map[*Object]*table
	ids         idGen
	defaultUser string
	store       *sqliteStore // nil without a data file
	countOnly   bool         // Options.CountOnly
	settings    map[string]string

	limits limits
	faults faults
	files  fileStore
}

// table holds the records of one object.
type table struct {
	ob    *Object
	rows  []*record          // insertion order; nil where a record was hard-deleted
	live  int                // non-nil rows, including the recycle bin
	ids   *idIndex           // shared by every table of the org
	other map[string]*record // records whose id idIndex does not hold
	idx   []*index           // aligned with ob.indexed
	seq   int                // records ever added, for auto numbers
	// counted is the number of inserts accepted but not kept (Options.CountOnly).
	counted int
}

// record is one row: values indexed by field position, packed (see
// packer) in d, or, when they cannot be packed, in x.
type record struct {
	packedData
	pos int
}

func (r *record) id() string { s, _ := r.str(posID); return s }

func (r *record) deleted() bool {
	if r.x != nil {
		d, _ := r.x[posIsDeleted].(bool)
		return d
	}
	return r.d[2+posIsDeleted] == packTrue
}
func (t *table) get(id string) *record {
	if n, ok := t.ids.num(id); ok && n < uint64(len(t.ids.byNum)) {
		if r := t.ids.byNum[n]; r != nil && r.id() == id {
			return r
		}
	}
	// Ids the org did not mint, and fixed ids whose counter another record holds (the
	// Organization record and the default user share counter 1), are kept in the map.
	return t.other[id]
}

// setID makes r findable by its id (nil r: forget id).
func (t *table) setID(id string, r *record) {
	n, ok := t.ids.num(id)
	if ok && n < uint64(len(t.ids.byNum)) {
		if held := t.ids.byNum[n]; held != nil && held.id() != id {
			ok = false // the counter is another record's: keep this id in the map
		}
	}
	if !ok {
		if r == nil {
			delete(t.other, id)
		} else {
			t.other[id] = r
		}
		return
	}
	if r == nil {
		delete(t.other, id)
	}
	if n >= uint64(len(t.ids.byNum)) {
		if r == nil {
			return
		}
		t.ids.byNum = append(t.ids.byNum, make([]*record, n+1-uint64(len(t.ids.byNum)))...)
	}
	t.ids.byNum[n] = r
}

// index maps a unique or external id field's value (lower-cased unless the
// field is case-sensitive) to the non-deleted records holding it.
type index struct {
	field *Field
	one   map[string]*record
	more  map[string][]*record // values held by several records (non-unique external ids)
}

// recordKey is key for the record's value of the indexed field.
func (ix *index) recordKey(r *record) (string, bool) {
	if s, ok := r.str(ix.field.pos); ok {
		if s == "" {
			return "", false
		}
		if !ix.field.CaseSensitive {
			s = strings.ToLower(s)
		}
		return s, true
	}
	return ix.key(r.get(ix.field.pos))
}

func (ix *index) key(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		if v == nil {
			return "", false
		}
		s = FormatCSV(v)
	}
	if s == "" {
		return "", false
	}
	if !ix.field.CaseSensitive {
		s = strings.ToLower(s)
	}
	return s, true
}

func (ix *index) lookup(v any) []*record {
	k, ok := ix.key(v)
	if !ok {
		return nil
	}
	if m := ix.more[k]; len(m) > 0 {
		return m
	}
	if r := ix.one[k]; r != nil {
		return []*record{r}
	}
	return nil
}

func (ix *index) add(r *record) {
	k, ok := ix.recordKey(r)
	if !ok {
		return
	}
	if m, ok := ix.more[k]; ok {
		ix.more[k] = append(m, r)
		return
	}
	if prev, ok := ix.one[k]; ok && prev != r {
		if ix.more == nil {
			ix.more = map[string][]*record{}
		}
		ix.more[k] = []*record{prev, r}
		delete(ix.one, k)
		return
	}
	ix.one[k] = r
}

func (ix *index) remove(r *record) {
	k, ok := ix.recordKey(r)
	if !ok {
		return
	}
	if m, ok := ix.more[k]; ok {
		for i, x := range m {
			if x == r {
				m = append(m[:i:i], m[i+1:]...)
				break
			}
		}
		switch len(m) {
		case 0:
			delete(ix.more, k)
		case 1:
			delete(ix.more, k)
			ix.one[k] = m[0]
		default:
			ix.more[k] = m
		}
		return
	}
	if ix.one[k] == r {
		delete(ix.one, k)
	}
}

func newTable(ob *Object, ids *idIndex) *table {
	t := &table{ob: ob, ids: ids, other: map[string]*record{}}
	for _, p := range ob.indexed {
		t.idx = append(t.idx, &index{field: ob.Fields[p], one: map[string]*record{}})
	}
	return t
}

func (t *table) add(r *record) {
	t.seq++
	r.pos = len(t.rows)
	t.rows = append(t.rows, r)
	t.live++
	t.setID(r.id(), r)
	if !r.deleted() {
		t.indexAdd(r)
	}
}

// restore puts a hard-deleted record back at its old position.
func (t *table) restore(r *record) {
	t.rows[r.pos] = r
	t.live++
	t.setID(r.id(), r)
	if !r.deleted() {
		t.indexAdd(r)
	}
}

func (t *table) drop(r *record) {
	if !r.deleted() {
		t.indexRemove(r)
	}
	t.rows[r.pos] = nil
	t.live--
	t.setID(r.id(), nil)
}

func (t *table) indexAdd(r *record) {
	for _, ix := range t.idx {
		ix.add(r)
	}
}

func (t *table) indexRemove(r *record) {
	for _, ix := range t.idx {
		ix.remove(r)
	}
}

// compact removes hard-deleted holes once they make up half the table.
func (t *table) compact() {
	if len(t.rows) < 64 || t.live*2 > len(t.rows) {
		return
	}
	n := 0
	for _, r := range t.rows {
		if r != nil {
			r.pos = n
			t.rows[n] = r
			n++
		}
	}
	clear(t.rows[n:])
	t.rows = t.rows[:n]
}

// New creates an org. With a DataFile the records stored there are loaded
// (and the file created if needed); a new org gets a default user
// (DefaultUsername) and a "System Administrator" profile.
func New(opts Options) (*Org, error) {
	o := &Org{schema: opts.Schema, clock: opts.Clock, tables: map[*Object]*table{}, ids: newIDGen(opts.Seed)}
	if o.schema == nil {
		o.schema = DefaultSchema()
	}
	if o.clock == nil {
		o.clock = clock.Real{}
	}
	ids := &idIndex{pod: o.ids.pod}
	for _, ob := range o.schema.objects {
		o.tables[ob] = newTable(ob, ids)
	}
	o.orgID = opts.OrgID
	if o.orgID == "" {
		g := newIDGen(opts.Seed)
		o.orgID = g.mint("00D")
	} else if id, ok := NormalizeID(opts.OrgID); ok && strings.HasPrefix(id, "00D") {
		o.orgID = id
	} else {
		return nil, fmt.Errorf("org: OrgID %q is not an organization id (00D...)", opts.OrgID)
	}
	o.limits.init(o.clock.Now())
	if opts.CountOnly && opts.DataFile != "" {
		return nil, errors.New("org: CountOnly keeps no records and cannot be combined with DataFile")
	}
	if opts.DataFile != "" {
		st, err := openStore(opts.DataFile)
		if err != nil {
			return nil, err
		}
		o.store = st
		if err := st.load(o); err != nil {
			st.close()
			return nil, err
		}
	}
	if err := o.ensureDefaultUser(); err != nil {
		o.Close()
		return nil, err
	}
	if err := o.ensureOrganization(opts.OrgName); err != nil {
		o.Close()
		return nil, err
	}
	if err := o.ensureRecordTypes(); err != nil {
		o.Close()
		return nil, err
	}
	o.countOnly = opts.CountOnly // after the org's own records
	return o, nil
}

func (o *Org) ensureDefaultUser() error {
	users := o.tables[o.mustObject("User")]
	o.mu.Lock()
	if len(users.rows) > 0 {
		// The default user is the oldest one.
		for _, r := range users.rows {
			if r != nil {
				o.defaultUser = r.id()
				break
			}
		}
	}
	o.mu.Unlock()
	if o.defaultUser != "" {
		return nil
	}
	user, err := o.insertSystem("User", map[string]any{
		"Username": DefaultUsername, "LastName": "Admin", "FirstName": "Org", "Email": DefaultUsername, "Alias": "admin",
	})
	if err != nil {
		return err
	}
	prof, err := o.insertSystem("Profile", map[string]any{"Name": "System Administrator"})
	if err != nil {
		return err
	}
	res := o.write("", []WriteRequest{{Op: OpUpdate, Object: "User", ID: user, Fields: map[string]any{"ProfileId": prof}}}, true, "")
	if !res[0].Success {
		return fmt.Errorf("org: set default user profile: %s", res[0].Errors[0].Message)
	}
	return nil
}

// insertSystem inserts a record as the default user (who may not exist yet).
func (o *Org) insertSystem(object string, fields map[string]any) (string, error) {
	res := o.write("", []WriteRequest{{Op: OpInsert, Object: object, Fields: fields}}, true, "")
	if !res[0].Success {
		return "", fmt.Errorf("org: create default %s: %s", object, res[0].Errors[0].Message)
	}
	return res[0].ID, nil
}

func (o *Org) mustObject(name string) *Object {
	ob, ok := o.schema.Object(name)
	if !ok {
		panic("org: schema lacks " + name)
	}
	return ob
}

// Close releases the data file. The org must not be used afterwards.
func (o *Org) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.store == nil {
		return nil
	}
	err := o.store.close()
	o.store = nil
	return err
}

// ID returns the 18-character organization id.
func (o *Org) ID() string { return o.orgID }

// Setting returns the value SetSetting stored under key.
func (o *Org) Setting(key string) (string, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	v, ok := o.settings[key]
	return v, ok
}

// SetSetting stores value under key: in the data file when the org has
// one, so it survives a restart, and in memory otherwise. It is for state
// the layers above keep with the org (the emulator's TLS certificate and
// sessions).
func (o *Org) SetSetting(key, value string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.store != nil {
		if err := o.store.saveSetting(key, value); err != nil {
			return fmt.Errorf("org: save setting %s: %w", key, err)
		}
	}
	if o.settings == nil {
		o.settings = map[string]string{}
	}
	o.settings[key] = value
	return nil
}

// DeleteSetting removes what SetSetting stored under key.
func (o *Org) DeleteSetting(key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.store != nil {
		if err := o.store.deleteSetting(key); err != nil {
			return fmt.Errorf("org: delete setting %s: %w", key, err)
		}
	}
	delete(o.settings, key)
	return nil
}

// Settings returns the settings whose keys start with prefix.
func (o *Org) Settings(prefix string) map[string]string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := map[string]string{}
	for k, v := range o.settings {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

// DefaultUserID returns the id of the org's default user.
func (o *Org) DefaultUserID() string { return o.defaultUser }

// Schema returns the org's schema.
func (o *Org) Schema() *Schema { return o.schema }

// Clock returns the org's clock.
func (o *Org) Clock() clock.Clock { return o.clock }

// Object returns the object named name (case-insensitive).
func (o *Org) Object(name string) (*Object, bool) { return o.schema.Object(name) }

// Objects returns every object of the schema in name order.
func (o *Org) Objects() []*Object { return o.schema.objects }

// Count returns how many live (not deleted) records object has; -1 for an
// unknown object.
func (o *Org) Count(object string) int {
	ob, ok := o.schema.Object(object)
	if !ok {
		return -1
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	t := o.tables[ob]
	n := 0
	for _, r := range t.rows {
		if r != nil && !r.deleted() {
			n++
		}
	}
	return n + t.counted
}

// objectForID returns the object an id belongs to, by key prefix.
func (o *Org) objectForID(id string) (*Object, bool) {
	if len(id) < 3 {
		return nil, false
	}
	return o.schema.ObjectByKeyPrefix(id[:3])
}

// Get returns one live record in the REST shape ("attributes" plus the
// fields, values as in Result.Record). fields selects fields
// (case-insensitive); nil means all. id may have 15 or 18 characters.
// Errors are *Error: NOT_FOUND (unknown object or record), ENTITY_IS_DELETED
// (in the recycle bin), MALFORMED_ID, INVALID_FIELD.
func (o *Org) Get(ctx context.Context, object, id string, fields []string) (map[string]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return o.get(object, id, fields)
}

func (o *Org) get(object, id string, fields []string) (map[string]any, error) {
	ob, ok := o.schema.Object(object)
	if !ok {
		return nil, newErr(CodeNotFound, MessageNotFound)
	}
	var pos []int
	for _, name := range fields {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		f, ok := ob.Field(name)
		if !ok {
			return nil, newErr(CodeInvalidField, fmt.Sprintf("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", name, ob.Name), name)
		}
		pos = append(pos, f.pos)
	}
	if pos == nil {
		pos = make([]int, len(ob.Fields))
		for i := range pos {
			pos[i] = i
		}
	}
	nid, ok := NormalizeID(id)
	if !ok {
		return nil, newErr(CodeMalformedID, fmt.Sprintf("%s ID: id value of incorrect type: %s", ob.Label, id))
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	r := o.tables[ob].get(nid)
	if r == nil || nid[:3] != ob.KeyPrefix {
		return nil, newErr(CodeNotFound, MessageNotFound)
	}
	if r.deleted() {
		return nil, newErr(CodeEntityIsDeleted, messageEntityIsDeleted)
	}
	m := make(map[string]any, len(pos)+1)
	m["attributes"] = map[string]any{"type": ob.Name, "url": "/services/data/v" + DefaultAPIVersion + "/sobjects/" + ob.Name + "/" + nid}
	for _, p := range pos {
		m[ob.Fields[p].Name] = jsonValue(r.get(p))
	}
	return m, nil
}

// DefaultAPIVersion is the version used in record attribute URLs when the
// caller does not say.
const DefaultAPIVersion = "62.0"

func (o *Org) now() time.Time { return o.clock.Now().UTC().Truncate(time.Millisecond) }

// Lookup returns the ids of the live records of object whose field (an
// external id or other idLookup field such as Id, Username or Email) has
// value; several ids mean the value is ambiguous (REST answers 300).
// Errors are *Error: NOT_FOUND for an unknown object or a field that cannot
// identify records.
func (o *Org) Lookup(ctx context.Context, object, field, value string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ob, ok := o.schema.Object(object)
	if !ok {
		return nil, newErr(CodeNotFound, MessageNotFound)
	}
	f, ok := ob.Field(field)
	if !ok || !(f.IDLookup || f.ExternalID) {
		return nil, newErr(CodeNotFound, fmt.Sprintf("Provided external ID field does not exist or is not accessible: %s", field))
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	t := o.tables[ob]
	if f.pos == posID {
		id, ok := NormalizeID(value)
		if r := t.get(id); ok && r != nil && !r.deleted() {
			return []string{id}, nil
		}
		return nil, nil
	}
	cv, e := convertValue(f, value)
	if e != nil || cv == nil {
		return nil, nil
	}
	var matches []*record
	if ix := t.indexFor(f.pos); ix != nil {
		matches = ix.lookup(cv)
	} else {
		matches = t.scan(f, cv)
	}
	ids := make([]string, len(matches))
	for i, r := range matches {
		ids[i] = r.id()
	}
	return ids, nil
}

// WriteKeyValid reports whether key may appear in a write of object: a
// field name or a relationship path to an idLookup field of the parent
// ("Account.External_Id__c"), case-insensitive. The Bulk layer uses it to
// reject a header with "InvalidBatch : Field name not found : Foo".
func (o *Org) WriteKeyValid(object, key string) bool {
	ob, ok := o.schema.Object(object)
	if !ok {
		return false
	}
	w := writer{o: o, keyCache: map[*Object]map[string]keyInfo{}}
	return w.keyInfo(ob, key).kind != keyUnknown
}
