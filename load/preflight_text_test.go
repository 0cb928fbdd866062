package load

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/salesforce"
)

// TestCheckerTextLengthShortcut: the length shortcut of a prepared checker finds exactly
// the problems checkValue finds for every column.
func TestCheckerTextLengthShortcut(t *testing.T) {
	t.Parallel()
	var fields []*salesforce.Field
	for _, typ := range []string{"string", "textarea", "email", "picklist", "multipicklist", "int", "date", "boolean", "id", "reference"} {
		for _, n := range []int{0, 3, 5} {
			fields = append(fields, &salesforce.Field{Name: typ, Type: typ, Length: n})
		}
	}
	fields = append(fields, &salesforce.Field{Name: "Restricted", Type: "picklist", Length: 10, RestrictedPicklist: true,
		PicklistValues: []salesforce.PicklistValue{{Value: "Hot"}}}, nil)
	header := make([]string, len(fields))
	for i := range header {
		header[i] = "c" + strings.Repeat("x", i)
	}
	plain := &checker{fields: fields}
	prepared := &checker{fields: fields}
	prepared.prepare()
	for _, v := range []string{"", "#N/A", "abc", "abcd", "abcdef", "ééé", "éééé", "true", "12", "x", "Hot", "hot", "2024-02-30",
		"001000000000001", "001000000000001AAA", "Zoë Müller"} {
		vals := make([]string, len(fields))
		for i := range vals {
			vals[i] = v
		}
		var want, got []Problem
		plain.eachProblem(1, header, vals, func(p Problem) bool { want = append(want, p); return true })
		prepared.eachProblem(1, header, vals, func(p Problem) bool { got = append(got, p); return true })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("value %q (-checkValue +prepared):\n%s", v, diff)
		}
	}
}
