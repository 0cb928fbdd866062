package soql

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT Id FROM Account",
		"SELECT Id, Account.Owner.Name FROM Contact WHERE a = 1 OR b = 2 AND NOT c = 3",
		"SELECT COUNT() FROM Contact WHERE Name LIKE 'a\\_%' AND D > LAST_N_DAYS:3",
		"SELECT Id FROM A WHERE P INCLUDES ('a;b') AND N NOT IN (1, -2.5e3, null) ORDER BY Name DESC NULLS LAST LIMIT 5 OFFSET 1",
		"SELECT Id FROM A WHERE T >= 2024-01-31T10:00:00.000+05:30 AND D = 2024-01-31",
		"SELECT Id FROM A WHERE Name = 'it\\'s \\u00e9 \\n'",
		"SELECT Id FROM A WHERE ((a = true) OR (b = false))",
		"SELECT Id FORM Account",
		"SELECT Id, (SELECT Id FROM Contacts) FROM Account",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error type %T", err)
			}
			return
		}
		printed := q.String()
		q2, err := Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) ok but Parse(String() = %q): %v", s, printed, err)
		}
		if diff := cmp.Diff(q, q2); diff != "" {
			t.Fatalf("round trip of %q via %q changed the query:\n%s", s, printed, diff)
		}
		if printed2 := q2.String(); printed2 != printed {
			t.Fatalf("printing not stable: %q then %q", printed, printed2)
		}
	})
}

func FuzzLike(f *testing.F) {
	f.Add("a%b_c", "aXXbYc")
	f.Add(`\%%`, "%abc")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		_ = Like(pattern, s)
		if !Like("%", s) {
			t.Fatalf("%% does not match %q", s)
		}
		if !Like(s, s) && !containsWild(s) {
			t.Fatalf("%q does not match itself", s)
		}
	})
}

func containsWild(s string) bool {
	for _, r := range s {
		if r == '%' || r == '_' || r == '\\' {
			return true
		}
	}
	return false
}

func FuzzWithIDRange(f *testing.F) {
	f.Add("SELECT Id FROM Contact WHERE a = 1 OR b = 2", "003000000000001AAA", "003000000000100AAA")
	f.Add("SELECT Id, Name FROM Account WHERE NOT Name LIKE 'x%' ORDER BY Id", "", "001000000000zzz")
	f.Add("SELECT Id FROM Contact", "x' OR Id != '", "")
	f.Fuzz(func(t *testing.T, query, lo, hi string) {
		got, err := WithIDRange(query, lo, hi)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error type %T", err)
			}
			return
		}
		orig, err := Parse(query)
		if err != nil {
			t.Fatalf("WithIDRange accepted a query Parse rejects: %q", query)
		}
		q, err := Parse(got)
		if err != nil {
			t.Fatalf("WithIDRange(%q) = %q does not parse: %v", query, got, err)
		}
		// The original condition survives intact as the left operand.
		if orig.Where != nil && (lo != "" || hi != "") {
			and, ok := q.Where.(*And)
			if !ok || and.Left.String() != orig.Where.String() {
				t.Fatalf("WithIDRange(%q) = %q: original condition not kept as the left operand", query, got)
			}
		}
		for _, id := range []string{lo, hi} {
			if id != "" && !strings.Contains(got, "'"+id+"'") {
				t.Fatalf("WithIDRange(%q) = %q lacks id %q", query, got, id)
			}
		}
	})
}
