package salesforce

import (
	"context"
	"net/http"
	"net/url"
)

// MasterRecordTypeID is the id of every object's master record type, whose picklist values
// are all of a picklist's values.
const MasterRecordTypeID = "012000000000000AAA"

// UIPicklistValues is the User Interface API's Picklist Values response: a picklist's values
// in one record type.
type UIPicklistValues struct {
	// ControllerValues maps each value of the controlling field of a dependent picklist to its
	// index ("false": 0, "true": 1 for a checkbox); empty for an independent picklist.
	ControllerValues map[string]int `json:"controllerValues"`
	// DefaultValue is the record type's default value, nil without one.
	DefaultValue *UIPicklistValue  `json:"defaultValue"`
	Values       []UIPicklistValue `json:"values"`
	ETag         string            `json:"eTag"`
	URL          string            `json:"url"`
}

// UIPicklistValue is one value in a UIPicklistValues.
type UIPicklistValue struct {
	Label string `json:"label"`
	Value string `json:"value"`
	// ValidFor lists the indexes (see UIPicklistValues.ControllerValues) of the controlling
	// values this value is valid for.
	ValidFor []int `json:"validFor"`
}

// UIPicklistValuesCollection is the User Interface API's Picklist Values Collection: every
// picklist of an object in one record type, by field name.
type UIPicklistValuesCollection struct {
	ETag                string                      `json:"eTag"`
	PicklistFieldValues map[string]UIPicklistValues `json:"picklistFieldValues"`
}

// PicklistValuesByRecordType returns the values of every picklist of object available in the
// record type (GET ui-api/object-info/{object}/picklist-values/{recordTypeId}), which is where
// Salesforce serves per-record-type values; describe lists only the master values. Use
// MasterRecordTypeID for an object without record types. Not cached.
func (c *Client) PicklistValuesByRecordType(ctx context.Context, object, recordTypeID string) (*UIPicklistValuesCollection, error) {
	var out UIPicklistValuesCollection
	p := c.dataPath("ui-api", "object-info", url.PathEscape(object), "picklist-values", url.PathEscape(recordTypeID))
	if err := c.doJSON(ctx, &request{method: http.MethodGet, path: p}, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
