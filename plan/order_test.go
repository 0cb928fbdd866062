package plan

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOrder(t *testing.T) {
	t.Parallel()
	ref := func(col, target string, required bool) Ref {
		return Ref{Column: col, Field: col, Target: target, Required: required}
	}
	tests := []struct {
		name  string
		names []string
		refs  [][]Ref
		want  string // "order | deferred per object", or "error: ..."
	}{
		{"independent keep file order", []string{"A", "B"}, [][]Ref{nil, nil}, "A B |"},
		{"child listed first", []string{"Contact", "Account"}, [][]Ref{{ref("AccountId", "Account", false)}, nil}, "Account Contact |"},
		{"chain", []string{"C", "B", "A"}, [][]Ref{{ref("B__c", "B", true)}, {ref("A__c", "A", true)}, nil}, "A B C |"},
		{"self reference deferred", []string{"Account"}, [][]Ref{{ref("ParentId", "Account", false)}}, "Account | Account.ParentId"},
		{"optional cycle broken at the first optional side", []string{"X", "Y"},
			[][]Ref{{ref("Y__c", "Y", false)}, {ref("X__c", "X", true)}}, "X Y | X.Y__c"},
		{"cycle broken at the optional side listed second", []string{"Y", "X"},
			[][]Ref{{ref("X__c", "X", true)}, {ref("Y__c", "Y", false)}}, "X Y | X.Y__c"},
		{"required cycle", []string{"G", "D"}, [][]Ref{{ref("D__c", "D", true)}, {ref("G__c", "G", true)}}, "error: cycle of required lookups"},
		{"required self reference", []string{"A"}, [][]Ref{{ref("A__c", "A", true)}}, "error: required lookup to its own object"},
		{"three-cycle with one optional link", []string{"P", "Q", "R"},
			[][]Ref{{ref("Q__c", "Q", true)}, {ref("R__c", "R", true)}, {ref("P__c", "P", false)}}, "R Q P | R.P__c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ord, deferred, err := order(tc.names, tc.refs)
			var got string
			if err != nil {
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("error %v is not an *Error", err)
				}
				if strings.HasPrefix(tc.want, "error: ") && strings.Contains(err.Error(), strings.TrimPrefix(tc.want, "error: ")) {
					return
				}
				t.Fatalf("order: %v, want %s", err, tc.want)
			}
			var o, d []string
			for _, i := range ord {
				o = append(o, tc.names[i])
				for _, r := range deferred[i] {
					d = append(d, fmt.Sprintf("%s.%s", tc.names[i], r.Column))
				}
			}
			got = strings.TrimSpace(strings.Join(o, " ") + " | " + strings.Join(d, " "))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
