package salesforce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Record is one sObject record as the REST API returns it: field values by name, in the order
// the server sent them, plus the "attributes" (type and URL). Parent relationships are nested
// Records ("Account" in SELECT Account.Name FROM Contact); child subqueries are nested query
// results (see Subquery). Numbers are kept as json.Number so no precision is lost.
//
// Field lookups are exact first, then case-insensitive, like Salesforce field names. A Record
// is not safe for concurrent modification.
type Record struct {
	attrs  recordAttributes
	keys   []string
	values map[string]any
}

type recordAttributes struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// NewRecord returns an empty record of the given sObject type.
func NewRecord(sobjectType string) Record {
	return Record{attrs: recordAttributes{Type: sobjectType}, values: map[string]any{}}
}

// Type is the sObject type from the record's attributes, such as "Contact".
func (r Record) Type() string { return r.attrs.Type }

// URL is the record's REST URL from its attributes.
func (r Record) URL() string { return r.attrs.URL }

// ID is the record's Id field, or the last segment of its URL if Id was not selected.
func (r Record) ID() string {
	if s, ok := r.String("Id"); ok && s != "" {
		return s
	}
	if i := strings.LastIndexByte(r.attrs.URL, '/'); i >= 0 {
		return r.attrs.URL[i+1:]
	}
	return ""
}

// Fields returns the field names in the order the server sent them (without "attributes").
func (r Record) Fields() []string { return append([]string(nil), r.keys...) }

// Len is the number of fields.
func (r Record) Len() int { return len(r.keys) }

// Get returns a field's raw value: nil (null), string, bool, json.Number, Record (parent),
// []any, or map[string]any. ok is false if the record has no such field. name may be a dotted
// path through parents ("Account.Owner.Name").
func (r Record) Get(name string) (v any, ok bool) {
	head, rest, nested := strings.Cut(name, ".")
	if !nested {
		return r.lookup(name)
	}
	v, ok = r.lookup(head)
	if !ok {
		return nil, false
	}
	switch p := v.(type) {
	case Record:
		return p.Get(rest)
	case nil:
		return nil, true // null parent: every field under it is null
	}
	return nil, false
}

func (r Record) lookup(name string) (any, bool) {
	if v, ok := r.values[name]; ok {
		return v, true
	}
	for _, k := range r.keys {
		if strings.EqualFold(k, name) {
			return r.values[k], true
		}
	}
	return nil, false
}

// Set sets a field, appending it to the field order if new.
func (r *Record) Set(name string, v any) {
	if r.values == nil {
		r.values = map[string]any{}
	}
	if _, ok := r.values[name]; !ok {
		r.keys = append(r.keys, name)
	}
	r.values[name] = v
}

// IsNull reports whether the field is present and null (or under a null parent).
func (r Record) IsNull(name string) bool {
	v, ok := r.Get(name)
	return ok && v == nil
}

// String returns a field as text: strings as is, numbers in their JSON text, booleans as
// "true"/"false". ok is false if the field is absent, null or not a scalar.
func (r Record) String(name string) (string, bool) {
	v, ok := r.Get(name)
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// Bool returns a boolean field. ok is false if absent, null or not a boolean.
func (r Record) Bool(name string) (bool, bool) {
	v, ok := r.Get(name)
	b, isBool := v.(bool)
	return b, ok && isBool
}

// Float64 returns a numeric field. ok is false if absent, null or not a number.
func (r Record) Float64(name string) (float64, bool) {
	v, _ := r.Get(name)
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}

// Int64 returns an integral numeric field. ok is false if absent, null or not an integer.
func (r Record) Int64(name string) (int64, bool) {
	v, _ := r.Get(name)
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		if f, err := x.Float64(); err == nil && f == float64(int64(f)) {
			return int64(f), true
		}
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	}
	return 0, false
}

// Time returns a date or datetime field ("2024-01-03", "2024-01-03T23:52:01.000+0000").
// ok is false if absent, null or not a recognised date/time.
func (r Record) Time(name string) (time.Time, bool) {
	s, ok := r.String(name)
	if !ok {
		return time.Time{}, false
	}
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05.000Z07:00", time.RFC3339Nano, "2006-01-02T15:04:05-0700", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Parent returns a nested parent record ("Account" of a Contact). ok is false if absent, null
// or not a record.
func (r Record) Parent(name string) (Record, bool) {
	v, _ := r.Get(name)
	p, ok := v.(Record)
	return p, ok
}

// Subquery returns the records of a child relationship subquery field (first page only; the
// server includes up to its batch size). ok is false if absent, null or not a query result.
func (r Record) Subquery(name string) ([]Record, bool) {
	v, _ := r.Get(name)
	p, ok := v.(Record)
	if !ok {
		return nil, false
	}
	list, ok := p.values["records"].([]any)
	if !ok {
		return nil, false
	}
	out := make([]Record, 0, len(list))
	for _, it := range list {
		if rec, ok := it.(Record); ok {
			out = append(out, rec)
		}
	}
	return out, true
}

// Map returns the fields as a plain map (parents as nested maps, without attributes).
func (r Record) Map() map[string]any {
	m := make(map[string]any, len(r.keys))
	for _, k := range r.keys {
		m[k] = plain(r.values[k])
	}
	return m
}

func plain(v any) any {
	switch x := v.(type) {
	case Record:
		return x.Map()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// MarshalJSON writes the record with its attributes first, then fields in order.
func (r Record) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	if r.attrs.Type != "" || r.attrs.URL != "" {
		a, err := json.Marshal(r.attrs)
		if err != nil {
			return nil, err
		}
		b.WriteString(`"attributes":`)
		b.Write(a)
		first = false
	}
	for _, k := range r.keys {
		if !first {
			b.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(r.values[k])
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a record, keeping field order.
func (r *Record) UnmarshalJSON(data []byte) error {
	rec, err := newRecordParser(data).parseTop()
	if err != nil {
		return err
	}
	*r = rec
	return nil
}
