package salesforce

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
)

// SObjectSummary is an object's entry in the global describe.
type SObjectSummary struct {
	Name         string            `json:"name"`
	Label        string            `json:"label"`
	LabelPlural  string            `json:"labelPlural"`
	KeyPrefix    string            `json:"keyPrefix"`
	Custom       bool              `json:"custom"`
	Createable   bool              `json:"createable"`
	Updateable   bool              `json:"updateable"`
	Deletable    bool              `json:"deletable"`
	Queryable    bool              `json:"queryable"`
	Retrieveable bool              `json:"retrieveable"`
	Searchable   bool              `json:"searchable"`
	URLs         map[string]string `json:"urls"`
}

// GlobalDescribe lists the org's objects (GET /sobjects).
type GlobalDescribe struct {
	Encoding     string           `json:"encoding"`
	MaxBatchSize int              `json:"maxBatchSize"`
	SObjects     []SObjectSummary `json:"sobjects"`
}

// SObjectDescribe is an object's full describe (GET /sobjects/{Obj}/describe).
type SObjectDescribe struct {
	SObjectSummary
	Fields             []Field             `json:"fields"`
	ChildRelationships []ChildRelationship `json:"childRelationships"`
	RecordTypeInfos    []RecordTypeInfo    `json:"recordTypeInfos"`
}

// Field describes one field of an object.
type Field struct {
	Name               string          `json:"name"`
	Label              string          `json:"label"`
	Type               string          `json:"type"`
	SoapType           string          `json:"soapType"`
	Length             int             `json:"length"`
	ByteLength         int             `json:"byteLength"`
	Precision          int             `json:"precision"`
	Scale              int             `json:"scale"`
	Digits             int             `json:"digits"`
	Createable         bool            `json:"createable"`
	Updateable         bool            `json:"updateable"`
	Nillable           bool            `json:"nillable"`
	DefaultedOnCreate  bool            `json:"defaultedOnCreate"`
	ExternalID         bool            `json:"externalId"`
	IDLookup           bool            `json:"idLookup"`
	Unique             bool            `json:"unique"`
	CaseSensitive      bool            `json:"caseSensitive"`
	Calculated         bool            `json:"calculated"`
	AutoNumber         bool            `json:"autoNumber"`
	Custom             bool            `json:"custom"`
	Filterable         bool            `json:"filterable"`
	Sortable           bool            `json:"sortable"`
	Groupable          bool            `json:"groupable"`
	RestrictedPicklist bool            `json:"restrictedPicklist"`
	DependentPicklist  bool            `json:"dependentPicklist"`
	ControllerName     string          `json:"controllerName"`
	ReferenceTo        []string        `json:"referenceTo"`
	RelationshipName   string          `json:"relationshipName"`
	PicklistValues     []PicklistValue `json:"picklistValues"`
	// CompoundFieldName names the compound field (type address or location) this field is a
	// component of: "BillingAddress" for BillingCity, "" for other fields.
	CompoundFieldName string `json:"compoundFieldName"`
}

// Compound reports whether the field is a compound field (type address or location), which
// Bulk API queries cannot select: they select its components instead.
func (f *Field) Compound() bool { return f.Type == "address" || f.Type == "location" }

// Required reports whether an insert must set the field (createable, not nillable, not
// defaulted on create).
func (f *Field) Required() bool { return f.Createable && !f.Nillable && !f.DefaultedOnCreate }

// PicklistValue is one value of a picklist field.
type PicklistValue struct {
	Active       bool   `json:"active"`
	DefaultValue bool   `json:"defaultValue"`
	Label        string `json:"label"`
	Value        string `json:"value"`
	// ValidFor, for a value of a dependent picklist, is the base64 of a bitset: bit i (most
	// significant bit first in each byte) is set when the value is valid for the controlling
	// field's value i (for a checkbox, 0 is false and 1 true). See ValidForIndex.
	ValidFor string `json:"validFor"`
}

// ValidForIndex reports whether the value is valid for the controlling value of index i,
// decoding ValidFor. A value without ValidFor (an independent picklist) is valid for all.
func (p *PicklistValue) ValidForIndex(i int) bool {
	if p.ValidFor == "" {
		return true
	}
	b, err := base64.StdEncoding.DecodeString(p.ValidFor)
	if err != nil || i < 0 || i/8 >= len(b) {
		return false
	}
	return b[i/8]&(0x80>>(i%8)) != 0
}

// ChildRelationship is a relationship from child records to this object.
type ChildRelationship struct {
	ChildSObject     string `json:"childSObject"`
	Field            string `json:"field"`
	RelationshipName string `json:"relationshipName"`
	CascadeDelete    bool   `json:"cascadeDelete"`
}

// RecordTypeInfo is one record type of the object.
type RecordTypeInfo struct {
	Name                     string `json:"name"`
	DeveloperName            string `json:"developerName"`
	RecordTypeID             string `json:"recordTypeId"`
	Active                   bool   `json:"active"`
	Available                bool   `json:"available"`
	Master                   bool   `json:"master"`
	DefaultRecordTypeMapping bool   `json:"defaultRecordTypeMapping"`
}

// Field returns the field with the given name (case-insensitive).
func (d *SObjectDescribe) Field(name string) (*Field, bool) {
	for i := range d.Fields {
		if strings.EqualFold(d.Fields[i].Name, name) {
			return &d.Fields[i], true
		}
	}
	return nil, false
}

// sharedCache caches one result per key: concurrent callers of a key share one fetch, and
// failures are not cached. The zero value is ready to use; safe for concurrent use.
type sharedCache[T any] struct {
	mu      sync.Mutex
	entries map[string]*sharedEntry[T]
}

// sharedEntry is one cached result; done is closed when v and err are set.
type sharedEntry[T any] struct {
	done chan struct{}
	v    *T
	err  error
}

// get returns the cached result for key, or fetches it. A caller waiting for another's fetch
// stops when its ctx ends; when that fetch was cancelled, it fetches again with its own ctx.
func (sc *sharedCache[T]) get(ctx context.Context, key string, fetch func() (*T, error)) (*T, error) {
	for {
		sc.mu.Lock()
		e, ok := sc.entries[key]
		if !ok {
			if sc.entries == nil {
				sc.entries = make(map[string]*sharedEntry[T])
			}
			e = &sharedEntry[T]{done: make(chan struct{})}
			sc.entries[key] = e
			sc.mu.Unlock()
			v, err := fetch()
			sc.mu.Lock()
			if err != nil {
				e.err = err
				if sc.entries[key] == e {
					delete(sc.entries, key) // failures are not cached
				}
			} else {
				e.v = v
			}
			close(e.done)
			sc.mu.Unlock()
			return e.v, e.err
		}
		sc.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
		if e.err == nil {
			return e.v, nil
		}
		if !isContextErr(e.err) {
			return nil, e.err
		}
		// the fetching caller was cancelled; try again with ours
	}
}

// reset forgets every cached result.
func (sc *sharedCache[T]) reset() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.entries = nil
}

// DescribeGlobal lists the org's objects. The result is cached for the client's lifetime
// (see ForgetDescribes); callers must not modify it.
func (c *Client) DescribeGlobal(ctx context.Context) (*GlobalDescribe, error) {
	return c.globalDescribe.get(ctx, "", func() (*GlobalDescribe, error) {
		var d GlobalDescribe
		if err := c.doJSON(ctx, &request{method: http.MethodGet, path: c.dataPath("sobjects")}, nil, &d); err != nil {
			return nil, err
		}
		return &d, nil
	})
}

// Describe returns an object's full describe (fields, relationships, record types). Results are
// cached per client, keyed case-insensitively; concurrent callers for the same object share one
// request. Callers must not modify the result. An unknown object gives an *APIError NOT_FOUND.
func (c *Client) Describe(ctx context.Context, object string) (*SObjectDescribe, error) {
	return c.describes.get(ctx, strings.ToLower(object), func() (*SObjectDescribe, error) {
		var d SObjectDescribe
		if err := c.doJSON(ctx, &request{method: http.MethodGet, path: c.dataPath("sobjects", object, "describe")}, nil, &d); err != nil {
			return nil, err
		}
		return &d, nil
	})
}

// ForgetDescribes empties the describe cache (after schema changes).
func (c *Client) ForgetDescribes() {
	c.describes.reset()
	c.globalDescribe.reset()
}
