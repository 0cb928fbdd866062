package conformance

import (
	"slices"
	"testing"
)

// testDescribeOpportunityContactRole: OpportunityContactRole links a Contact to an
// Opportunity through two lookups, the opportunity one required, which load plans order by.
func testDescribeOpportunityContactRole(t *testing.T, e *Env) {
	d, err := e.Client.Describe(t.Context(), "OpportunityContactRole")
	if err != nil {
		t.Fatalf("Describe(OpportunityContactRole): %v", err)
	}
	if d.KeyPrefix != "00K" || !d.Createable {
		t.Errorf("keyPrefix %q createable %v", d.KeyPrefix, d.Createable)
	}
	for _, w := range []struct {
		field, to string
		required  bool
	}{{"OpportunityId", "Opportunity", true}, {"ContactId", "Contact", false}} {
		f, ok := d.Field(w.field)
		if !ok {
			t.Errorf("no field %s", w.field)
			continue
		}
		if f.Type != "reference" || !slices.Contains(f.ReferenceTo, w.to) || !f.Createable {
			t.Errorf("%s: type %q referenceTo %v createable %v", w.field, f.Type, f.ReferenceTo, f.Createable)
		}
		if w.required && (f.Nillable || !f.Required()) {
			t.Errorf("%s: nillable %v, want a required lookup", w.field, f.Nillable)
		}
	}
	if f, ok := d.Field("Role"); !ok || f.Type != "picklist" {
		t.Errorf("Role: %+v", f)
	}
}
