package org

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSchemaFileLocation checks that a location field of a schema file becomes the compound
// field and its Latitude and Longitude components.
func TestSchemaFileLocation(t *testing.T) {
	t.Parallel()
	s, err := parseSchema([]byte(`{"objects":[{"name":"Site__c","fields":[{"name":"Loc__c","type":"location","scale":4}]}]}`), "test")
	if err != nil {
		t.Fatal(err)
	}
	ob, _ := s.Object("Site__c")
	type field struct {
		Name, Type, Compound string
		Scale                int
		Createable           bool
	}
	var got []field
	for _, f := range ob.Fields[len(ob.Fields)-3:] {
		got = append(got, field{f.Name, f.Type, f.CompoundFieldName, f.Scale, f.Createable})
	}
	want := []field{{"Loc__c", "location", "", 4, false}, {"Loc__Latitude__s", "double", "Loc__c", 4, true}, {"Loc__Longitude__s", "double", "Loc__c", 4, true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Site__c's location fields (-want +got):\n%s", diff)
	}
}
