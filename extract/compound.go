package extract

import (
	"context"
	"fmt"
	"strings"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/soql"
)

// AllFields in Options.Fields (or `--fields '*'`) stands for every field of the object that a
// Bulk API query can select: compound fields and base64 fields are left out (a compound
// field's components are fields of their own).
const AllFields = "*"

// Compound fields (describe type address or location: BillingAddress, a geolocation Loc__c)
// cannot be selected by Bulk API queries, and their REST value is a nested object no column
// holds. A query that names one reads its components instead (BillingStreet, BillingCity,
// BillingState, BillingPostalCode, BillingCountry, BillingLatitude, BillingLongitude,
// BillingGeocodeAccuracy; Loc__Latitude__s, Loc__Longitude__s), each a column of its own type
// in the one type map (double for latitude and longitude, text for the others): CSV, JSON
// Lines, Parquet and Arrow output and a Spark read all see the same flat columns.

// ExpandQuery returns query with every compound field of its SELECT list (parent fields such
// as Account.BillingAddress too) replaced by its component fields, in describe order,
// without repeating a field the list already selects. A query without compound fields, or one
// the soql package cannot parse, or one whose FROM object cannot be described, is returned
// unchanged (Salesforce judges it when it runs). The only error is a cancelled context.
func ExpandQuery(ctx context.Context, c *salesforce.Client, query string) (string, error) {
	return expandQuery(ctx, c, query)
}

// expandQuery is ExpandQuery over the engine's describer.
func expandQuery(ctx context.Context, d describer, query string) (string, error) {
	q, err := soql.Parse(query)
	if err != nil {
		return query, nil
	}
	ds := newDescribeCache(ctx, d)
	if _, err := ds.get(q.From); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return query, nil // the query's own request reports what is wrong
	}
	var out []soql.SelectItem
	seen := map[string]bool{}
	changed := false
	add := func(item soql.SelectItem) {
		if ref, ok := item.(*soql.FieldRef); ok {
			key := strings.ToLower(strings.Join(ref.Path, "."))
			if seen[key] {
				changed = true
				return
			}
			seen[key] = true
		}
		out = append(out, item)
	}
	for _, item := range q.Fields {
		ref, ok := item.(*soql.FieldRef)
		if !ok {
			out = append(out, item)
			continue
		}
		parts := ds.components(q.From, ref.Path)
		if parts == nil {
			add(item)
			continue
		}
		changed = true
		prefix := ref.Path[:len(ref.Path)-1]
		for _, p := range parts {
			add(&soql.FieldRef{Path: append(append([]string(nil), prefix...), p)})
		}
	}
	if !changed {
		return query, nil
	}
	if len(out) == 0 {
		return "", fmt.Errorf("extract: %s: no field left to select", query)
	}
	q.Fields = out
	return q.String(), nil
}

// allFields returns the fields AllFields stands for on object: every field of its describe,
// in describe order, but compound and base64 fields.
func allFields(ctx context.Context, d describer, object string) ([]string, error) {
	ds, err := d.Describe(ctx, object)
	if err != nil {
		return nil, fmt.Errorf("extract: describing %s for its fields: %w", object, err)
	}
	var names []string
	for _, f := range ds.Fields {
		if f.Compound() || strings.EqualFold(f.Type, "base64") {
			continue
		}
		names = append(names, f.Name)
	}
	return names, nil
}

// describeCache describes each object once per call.
type describeCache struct {
	ctx   context.Context
	d     describer
	cache map[string]*salesforce.SObjectDescribe
}

func newDescribeCache(ctx context.Context, d describer) *describeCache {
	return &describeCache{ctx: ctx, d: d, cache: map[string]*salesforce.SObjectDescribe{}}
}

func (c *describeCache) get(object string) (*salesforce.SObjectDescribe, error) {
	key := strings.ToLower(object)
	if ds, ok := c.cache[key]; ok {
		return ds, nil
	}
	ds, err := c.d.Describe(c.ctx, object)
	if err != nil {
		return nil, err
	}
	c.cache[key] = ds
	return ds, nil
}

// field resolves a dotted path from object through relationship names: the describe of the
// object that holds the last field, and that field; nil when any step is unknown.
func (c *describeCache) field(object string, path []string) (*salesforce.SObjectDescribe, *salesforce.Field) {
	obj := object
	for j, name := range path {
		ds, err := c.get(obj)
		if err != nil {
			return nil, nil
		}
		if j == len(path)-1 {
			f, ok := ds.Field(name)
			if !ok {
				return nil, nil
			}
			return ds, f
		}
		if j == 0 && len(path) > 1 && strings.EqualFold(name, object) && !hasRelationship(ds, name) {
			continue // SELECT Account.Name FROM Account
		}
		next := relationshipTarget(ds, name)
		if next == "" {
			return nil, nil
		}
		obj = next
	}
	return nil, nil
}

// relationshipTarget is the object the relationship name of ds points to, "" for none.
func relationshipTarget(ds *salesforce.SObjectDescribe, name string) string {
	for k := range ds.Fields {
		f := &ds.Fields[k]
		if f.RelationshipName != "" && strings.EqualFold(f.RelationshipName, name) && len(f.ReferenceTo) > 0 {
			return f.ReferenceTo[0]
		}
	}
	return ""
}

func hasRelationship(ds *salesforce.SObjectDescribe, name string) bool {
	for k := range ds.Fields {
		if strings.EqualFold(ds.Fields[k].RelationshipName, name) {
			return true
		}
	}
	return false
}

// components returns the component field names of the compound field at path, nil when
// the path is not a compound field.
func (c *describeCache) components(object string, path []string) []string {
	ds, f := c.field(object, path)
	if f == nil || !f.Compound() {
		return nil
	}
	var parts []string
	for k := range ds.Fields {
		if strings.EqualFold(ds.Fields[k].CompoundFieldName, f.Name) {
			parts = append(parts, ds.Fields[k].Name)
		}
	}
	return parts
}

// ExpandFields returns o with AllFields in Fields replaced by the object's fields (see
// AllFields), each field once; o itself when Fields does not hold AllFields. Run, Rows,
// ReadColumns and PlanRead do this themselves; callers that need the query first (an
// incremental read's window) call it.
func (o Options) ExpandFields(ctx context.Context, c *salesforce.Client) (Options, error) {
	return o.expandFields(ctx, c)
}

func (o Options) expandFields(ctx context.Context, d describer) (Options, error) {
	if o.Query != "" || !hasAllFields(o.Fields) || o.Object == "" {
		return o, nil
	}
	all, err := allFields(ctx, d, o.Object)
	if err != nil {
		return o, err
	}
	var fields []string
	seen := map[string]bool{}
	for _, f := range o.Fields {
		names := []string{f}
		if f == AllFields {
			names = all
		}
		for _, n := range names {
			if k := strings.ToLower(n); !seen[k] {
				seen[k] = true
				fields = append(fields, n)
			}
		}
	}
	o.Fields = fields
	return o, nil
}

func hasAllFields(fields []string) bool {
	for _, f := range fields {
		if f == AllFields {
			return true
		}
	}
	return false
}

// resolveWith resolves o as resolve does, after ExpandFields, and replaces the query's
// compound fields by their components (expandQuery); a resumed download keeps its query.
func (o Options) resolveWith(ctx context.Context, d describer, needOutput bool) (*settings, error) {
	if _, err := o.resolve(needOutput); err != nil {
		return nil, err // option errors first, before any request
	}
	o, err := o.expandFields(ctx, d)
	if err != nil {
		return nil, err
	}
	s, err := o.resolve(needOutput)
	if err != nil {
		return nil, err
	}
	if s.Resume == nil {
		if s.query, err = expandQuery(ctx, d, s.query); err != nil {
			return nil, err
		}
	}
	return s, nil
}
