package extract

import (
	"context"
	"strings"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/soql"
)

// Kind is the value type of a result column, taken from the object's
// describe. It decides how JSON Lines and Parquet output represent values.
type Kind int

// Column kinds.
const (
	KindString   Kind = iota // text, ids, picklists, and anything not listed below
	KindBool                 // boolean
	KindInt                  // int, long
	KindFloat                // double, currency, percent
	KindDate                 // date (yyyy-mm-dd)
	KindDateTime             // datetime (yyyy-mm-ddThh:mm:ss.sssZ)
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindBool:
		return "bool"
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindDate:
		return "date"
	case KindDateTime:
		return "datetime"
	}
	return "string"
}

// kindOf maps a describe field type to a Kind.
func kindOf(fieldType string) Kind {
	switch strings.ToLower(fieldType) {
	case "boolean":
		return KindBool
	case "int", "long":
		return KindInt
	case "double", "currency", "percent":
		return KindFloat
	case "date":
		return KindDate
	case "datetime":
		return KindDateTime
	}
	return KindString
}

// describer is the one client call column typing needs.
type describer interface {
	Describe(ctx context.Context, object string) (*salesforce.SObjectDescribe, error)
}

// columnKinds resolves the kind of each column (a dotted path as in the
// Bulk CSV header) by walking describes from object. Columns that cannot be
// resolved (unknown fields, aggregate aliases) are KindString. The only error
// is a failed describe of object itself or a cancelled context.
func columnKinds(ctx context.Context, d describer, object string, columns []string) ([]Kind, error) {
	kinds := make([]Kind, len(columns))
	cache := map[string]*salesforce.SObjectDescribe{}
	describe := func(name string) (*salesforce.SObjectDescribe, error) {
		key := strings.ToLower(name)
		if ds, ok := cache[key]; ok {
			return ds, nil
		}
		ds, err := d.Describe(ctx, name)
		if err != nil {
			return nil, err
		}
		cache[key] = ds
		return ds, nil
	}
	if _, err := describe(object); err != nil {
		return nil, err
	}
	for i, col := range columns {
		path := strings.Split(col, ".")
		obj := object
		for j, name := range path {
			ds, err := describe(obj)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				break // unknown parent object: leave as string
			}
			if j == len(path)-1 {
				if f, ok := ds.Field(name); ok {
					kinds[i] = kindOf(f.Type)
				}
				break
			}
			next := relationshipTarget(ds, name)
			if next == "" {
				break
			}
			obj = next
		}
	}
	return kinds, nil
}

// queryObject returns the FROM object of query, or "" if the query does not
// parse locally (the server will judge it).
func queryObject(query string) string {
	q, err := soql.Parse(query)
	if err != nil {
		return ""
	}
	return q.From
}
