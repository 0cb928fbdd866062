package soql

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func intp(n int) *int { return &n }

func TestParseCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"SELECT Id FROM Account", "SELECT Id FROM Account"},
		{"select id, name from account", "SELECT id, name FROM account"},
		{"SeLeCt Id FrOm Contact WhErE Name = 'x'", "SELECT Id FROM Contact WHERE Name = 'x'"},
		{"SELECT Id,Account.Owner.Name FROM Contact", "SELECT Id, Account.Owner.Name FROM Contact"},
		{"SELECT  Id\n FROM\tContact\r\n", "SELECT Id FROM Contact"},
		{"SELECT COUNT() FROM Contact", "SELECT COUNT() FROM Contact"},
		{"SELECT count(Id) FROM Contact", "SELECT COUNT(Id) FROM Contact"},
		{"SELECT COUNT(Account.Name) FROM Contact", "SELECT COUNT(Account.Name) FROM Contact"},
		{"SELECT Id FROM Order", "SELECT Id FROM Order"},
		{"SELECT Id FROM Order ORDER BY Id", "SELECT Id FROM Order ORDER BY Id"},
		{"SELECT Order.Name FROM OrderItem", "SELECT Order.Name FROM OrderItem"},
		{"SELECT Id FROM My_Obj__c WHERE ns__Field__c != null", "SELECT Id FROM My_Obj__c WHERE ns__Field__c != null"},
		{"SELECT Id FROM A WHERE X <> NULL", "SELECT Id FROM A WHERE X <> null"},
		{"SELECT Id FROM A WHERE X < 5 AND Y <= 5.5 AND Z > -3 AND W >= +2", "SELECT Id FROM A WHERE X < 5 AND Y <= 5.5 AND Z > -3 AND W >= +2"},
		{"SELECT Id FROM A WHERE X = .5", "SELECT Id FROM A WHERE X = .5"},
		{"SELECT Id FROM A WHERE X = 1e3", "SELECT Id FROM A WHERE X = 1e3"},
		{"SELECT Id FROM A WHERE X = TRUE AND Y = false", "SELECT Id FROM A WHERE X = true AND Y = false"},
		{"SELECT Id FROM A WHERE Name LIKE 'Ac%'", "SELECT Id FROM A WHERE Name LIKE 'Ac%'"},
		{"SELECT Id FROM A WHERE Name like 'a\\_b\\%'", "SELECT Id FROM A WHERE Name LIKE 'a\\_b\\%'"},
		{"SELECT Id FROM A WHERE Name IN ('a','b' , 'c')", "SELECT Id FROM A WHERE Name IN ('a', 'b', 'c')"},
		{"SELECT Id FROM A WHERE Name not in ('a')", "SELECT Id FROM A WHERE Name NOT IN ('a')"},
		{"SELECT Id FROM A WHERE N IN (1, 2.5, null)", "SELECT Id FROM A WHERE N IN (1, 2.5, null)"},
		{"SELECT Id FROM A WHERE P includes ('a;b', 'c')", "SELECT Id FROM A WHERE P INCLUDES ('a;b', 'c')"},
		{"SELECT Id FROM A WHERE P EXCLUDES ('a')", "SELECT Id FROM A WHERE P EXCLUDES ('a')"},
		{"SELECT Id FROM A WHERE D = 2024-01-31", "SELECT Id FROM A WHERE D = 2024-01-31"},
		{"SELECT Id FROM A WHERE D > 2024-01-31T10:00:00Z", "SELECT Id FROM A WHERE D > 2024-01-31T10:00:00Z"},
		{"SELECT Id FROM A WHERE D > 2024-01-31T10:00:00.123Z", "SELECT Id FROM A WHERE D > 2024-01-31T10:00:00.123Z"},
		{"SELECT Id FROM A WHERE D > 2024-01-31T10:00:00+05:30", "SELECT Id FROM A WHERE D > 2024-01-31T10:00:00+05:30"},
		{"SELECT Id FROM A WHERE D > 2024-01-31T10:00:00-0800", "SELECT Id FROM A WHERE D > 2024-01-31T10:00:00-0800"},
		{"SELECT Id FROM A WHERE D = today", "SELECT Id FROM A WHERE D = TODAY"},
		{"SELECT Id FROM A WHERE D = LAST_N_DAYS:30", "SELECT Id FROM A WHERE D = LAST_N_DAYS:30"},
		{"SELECT Id FROM A WHERE D = last_n_days : 7", "SELECT Id FROM A WHERE D = LAST_N_DAYS:7"},
		{"SELECT Id FROM A WHERE D > LAST_90_DAYS AND E < NEXT_N_MONTHS:2", "SELECT Id FROM A WHERE D > LAST_90_DAYS AND E < NEXT_N_MONTHS:2"},
		{"SELECT Id FROM A WHERE a = 1 OR b = 2 AND c = 3", "SELECT Id FROM A WHERE a = 1 OR (b = 2 AND c = 3)"},
		{"SELECT Id FROM A WHERE (a = 1 OR b = 2) AND c = 3", "SELECT Id FROM A WHERE (a = 1 OR b = 2) AND c = 3"},
		{"SELECT Id FROM A WHERE a = 1 AND (b = 2 AND c = 3)", "SELECT Id FROM A WHERE a = 1 AND (b = 2 AND c = 3)"},
		{"SELECT Id FROM A WHERE ((a = 1))", "SELECT Id FROM A WHERE a = 1"},
		{"SELECT Id FROM A WHERE NOT a = 1", "SELECT Id FROM A WHERE NOT (a = 1)"},
		{"SELECT Id FROM A WHERE NOT a = 1 AND b = 2", "SELECT Id FROM A WHERE NOT (a = 1) AND b = 2"},
		{"SELECT Id FROM A WHERE NOT (a = 1 OR b = 2)", "SELECT Id FROM A WHERE NOT (a = 1 OR b = 2)"},
		{"SELECT Id FROM A WHERE Name = 'it\\'s \\\\ \\n\\t\\r\\b\\f \\\"q\\\" \\u00e9'", "SELECT Id FROM A WHERE Name = 'it\\'s \\\\ \\n\\t\\r\\b\\f \"q\" é'"},
		{"SELECT Id FROM A WHERE Name = 'héllo 世界'", "SELECT Id FROM A WHERE Name = 'héllo 世界'"},
		{"SELECT Id FROM A ORDER BY Name", "SELECT Id FROM A ORDER BY Name"},
		{"SELECT Id FROM A ORDER BY Name ASC, CreatedDate desc nulls last, Account.Name NULLS FIRST", "SELECT Id FROM A ORDER BY Name, CreatedDate DESC NULLS LAST, Account.Name NULLS FIRST"},
		{"SELECT Id FROM A LIMIT 10", "SELECT Id FROM A LIMIT 10"},
		{"SELECT Id FROM A LIMIT 10 OFFSET 20", "SELECT Id FROM A LIMIT 10 OFFSET 20"},
		{"SELECT Id FROM A OFFSET 5", "SELECT Id FROM A OFFSET 5"},
		{"SELECT Id FROM A WHERE X = 1 ORDER BY Id DESC LIMIT 0", "SELECT Id FROM A WHERE X = 1 ORDER BY Id DESC LIMIT 0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			q, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := q.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			q2, err := Parse(q.String())
			if err != nil {
				t.Fatalf("Parse(String()): %v", err)
			}
			if diff := cmp.Diff(q, q2); diff != "" {
				t.Errorf("round trip changed the query (-first +second):\n%s", diff)
			}
		})
	}
}

func TestParseAST(t *testing.T) {
	t.Parallel()
	cmpA := func(p string, v Value) *Comparison { return &Comparison{Path: []string{p}, Op: "=", Value: v} }
	one := NumberLit{Text: "1", Value: 1}
	two := NumberLit{Text: "2", Value: 2}
	three := NumberLit{Text: "3", Value: 3}
	tests := []struct {
		in   string
		want *Query
	}{
		{
			in: "SELECT Id, Account.Owner.Name FROM Contact WHERE a = 1 OR b = 2 AND NOT c = 3 ORDER BY Name DESC NULLS LAST LIMIT 5 OFFSET 2",
			want: &Query{
				Fields: []SelectItem{&FieldRef{Path: []string{"Id"}}, &FieldRef{Path: []string{"Account", "Owner", "Name"}}},
				From:   "Contact",
				Where: &Or{
					Left:  cmpA("a", one),
					Right: &And{Left: cmpA("b", two), Right: &Not{Expr: cmpA("c", three)}},
				},
				OrderBy: []OrderItem{{Path: []string{"Name"}, Desc: true, NullsSet: true, NullsLast: true}},
				Limit:   intp(5),
				Offset:  intp(2),
			},
		},
		{
			in: "SELECT COUNT() FROM Contact WHERE a = 1 AND b = 2 AND c = 3",
			want: &Query{
				Fields: []SelectItem{&Count{}},
				From:   "Contact",
				Where:  &And{Left: &And{Left: cmpA("a", one), Right: cmpA("b", two)}, Right: cmpA("c", three)},
			},
		},
		{
			in: "SELECT Id FROM A WHERE a = 1 OR b = 2 OR c = 3",
			want: &Query{
				Fields: []SelectItem{&FieldRef{Path: []string{"Id"}}},
				From:   "A",
				Where:  &Or{Left: &Or{Left: cmpA("a", one), Right: cmpA("b", two)}, Right: cmpA("c", three)},
			},
		},
		{
			in: "SELECT Id FROM A WHERE NOT NOT a = 1 AND (b = 2 OR c = 3)",
			want: &Query{
				Fields: []SelectItem{&FieldRef{Path: []string{"Id"}}},
				From:   "A",
				Where: &And{
					Left:  &Not{Expr: &Not{Expr: cmpA("a", one)}},
					Right: &Or{Left: cmpA("b", two), Right: cmpA("c", three)},
				},
			},
		},
		{
			in: "SELECT Id FROM A WHERE D = 2024-02-29 AND T < 2024-01-31T10:00:00.5+02:00 AND L = NEXT_N_DAYS:3 AND B = false AND N = null AND S IN ('x', 'y')",
			want: &Query{
				Fields: []SelectItem{&FieldRef{Path: []string{"Id"}}},
				From:   "A",
				Where: &And{Left: &And{Left: &And{Left: &And{Left: &And{
					Left:  cmpA("D", DateLit{Text: "2024-02-29", Time: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}),
					Right: &Comparison{Path: []string{"T"}, Op: "<", Value: DateTimeLit{Text: "2024-01-31T10:00:00.5+02:00", Time: time.Date(2024, 1, 31, 8, 0, 0, 500_000_000, time.UTC)}}},
					Right: cmpA("L", DateLiteral{Name: "NEXT_N_DAYS", N: 3})},
					Right: cmpA("B", BoolLit{Value: false})},
					Right: cmpA("N", NullLit{})},
					Right: &Comparison{Path: []string{"S"}, Op: "IN", Values: []Value{StringLit{Value: "x"}, StringLit{Value: "y"}}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in          string
		reason      string
		row, column int
		unsupported bool
	}{
		{"SELECT Id FORM Account", "unexpected token: FORM", 1, 11, false},
		{"", "unexpected token: <EOF>", 1, 1, false},
		{"SELEC Id FROM A", "unexpected token: SELEC", 1, 1, false},
		{"SELECT FROM Account", "unexpected token: FROM", 1, 8, false},
		{"SELECT Id, FROM Account", "unexpected token: FROM", 1, 12, false},
		{"SELECT Id FROM", "unexpected token: <EOF>", 1, 15, false},
		{"SELECT Id FROM WHERE", "unexpected token: WHERE", 1, 16, false},
		{"SELECT Id\nFROM Account\nWHERE Name = ", "unexpected token: <EOF>", 3, 14, false},
		{"SELECT Id FROM A WHERE", "unexpected token: <EOF>", 1, 23, false},
		{"SELECT Id FROM A WHERE Name", "unexpected token: <EOF>", 1, 28, false},
		{"SELECT Id FROM A WHERE Name == 'x'", "unexpected token: =", 1, 30, false},
		{"SELECT Id FROM A WHERE Name = 'x", "unterminated string literal", 1, 31, false},
		{"SELECT Id FROM A WHERE Name = 'a\\qb'", "Invalid string literal ''a\\qb''. Illegal character sequence '\\q' in string literal.", 1, 33, false},
		{"SELECT Id FROM A WHERE (Name = 'x'", "unexpected token: <EOF>", 1, 35, false},
		{"SELECT Id FROM A WHERE Name = 'x')", "unexpected token: )", 1, 34, false},
		{"SELECT Id FROM A WHERE Name IN 'x'", "unexpected token: 'x'", 1, 32, false},
		{"SELECT Id FROM A WHERE Name IN ()", "unexpected token: )", 1, 33, false},
		{"SELECT Id FROM A WHERE Name NOT LIKE 'x'", "unexpected token: NOT", 1, 29, false},
		{"SELECT Id FROM A WHERE D = LAST_N_DAYS", "unexpected token: <EOF>", 1, 39, false},
		{"SELECT Id FROM A WHERE D = LAST_N_DAYS:x", "unexpected token: x", 1, 40, false},
		{"SELECT Id FROM A WHERE D = SOMEDAY:3", "unknown date literal: SOMEDAY", 1, 28, false},
		{"SELECT Id FROM A WHERE D = 2024-13-01", "invalid date: 2024-13-01", 1, 28, false},
		{"SELECT Id FROM A WHERE D = 2024-01-01T25:00:00Z", "invalid datetime: 2024-01-01T25:00:00Z", 1, 28, false},
		{"SELECT Id FROM A WHERE D = 2024-01-01T10:00:00", "unexpected token: 2024-01-01T10:00:00", 1, 28, false},
		{"SELECT Id FROM A WHERE N = 12abc", "unexpected token: 12abc", 1, 28, false},
		{"SELECT Id FROM A LIMIT", "unexpected token: <EOF>", 1, 23, false},
		{"SELECT Id FROM A LIMIT -1", "unexpected token: -1", 1, 24, false},
		{"SELECT Id FROM A LIMIT 1.5", "unexpected token: 1.5", 1, 24, false},
		{"SELECT Id FROM A OFFSET 1 LIMIT 1", "unexpected token: LIMIT", 1, 27, false},
		{"SELECT Id FROM A ORDER Name", "unexpected token: Name", 1, 24, false},
		{"SELECT Id FROM A ORDER BY Name NULLS", "unexpected token: <EOF>", 1, 37, false},
		{"SELECT Id FROM A extra stuff", "an object alias is not supported", 1, 18, true},
		{"SELECT Id FROM A WHERE Name = 'x' garbage", "unexpected token: garbage", 1, 35, false},
		{"SELECT Id, COUNT() FROM A", "COUNT() must be the only element in the SELECT list", 1, 12, false},
		{"SELECT Name, COUNT(Id) FROM A", "Field must be grouped or aggregated: Name", 1, 8, false},
		{"SELECT Id FROM A WHERE Name = 'x' AND", "unexpected token: <EOF>", 1, 38, false},
		{"SELECT Id FROM A WHERE Name = 'x' # y", "unexpected token: #", 1, 35, false},
		{"SELECT Id FROM A WHERE Name ! 'x'", "unexpected token: !", 1, 29, false},
		{"SELECT Account. FROM A", "unexpected token: FROM", 1, 17, false},
		{"SELECT Id FROM A.B", "unexpected token: .", 1, 17, false},
		{"SELECT Name FROM A WHERE Name = 'é' AND =", "unexpected token: =", 1, 41, false},
		{"SELECT Id, (SELECT Id FROM Contacts) FROM Account", "a relationship subquery is not supported", 1, 12, true},
		{"SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)", "a semi-join subquery is not supported", 1, 37, true},
		{"SELECT Id FROM Account WITH SECURITY_ENFORCED", "WITH is not supported", 1, 24, true},
		{"SELECT Name FROM Account GROUP BY Name", "GROUP BY is not supported", 1, 26, true},
		{"SELECT Id FROM Account HAVING x = 1", "HAVING is not supported", 1, 24, true},
		{"SELECT MAX(Amount) FROM Opportunity", "the function MAX() is not supported", 1, 8, true},
		{"SELECT toLabel(Status) FROM Case", "the function TOLABEL() is not supported", 1, 8, true},
		{"SELECT COUNT(Id) cnt FROM Case", "a field alias is not supported", 1, 18, true},
		{"SELECT TYPEOF What WHEN Account THEN Name END FROM Event", "TYPEOF is not supported", 1, 8, true},
		{"SELECT Id FROM Account FOR UPDATE", "FOR is not supported", 1, 24, true},
		{"SELECT Id FROM Account USING SCOPE mine", "USING SCOPE is not supported", 1, 24, true},
		{"SELECT Id FROM Account a", "an object alias is not supported", 1, 24, true},
		{"SELECT Id FROM Account, Contact", "querying several objects is not supported", 1, 23, true},
		{"SELECT Id FROM Account WHERE CALENDAR_YEAR(CreatedDate) = 2024", "the function CALENDAR_YEAR() in WHERE is not supported", 1, 30, true},
		{"SELECT Id FROM Account WHERE Name = :name", "a bind variable is not supported", 1, 37, true},
		{"SELECT Id FROM Account ORDER BY MAX(Name)", "ORDER BY a function is not supported", 1, 33, true},
		{"SELECT Id FROM (SELECT Id FROM Account)", "a subquery in FROM is not supported", 1, 16, true},
		{"SELECT Id FROM A WHERE " + strings.Repeat("(", MaxDepth+1) + "a = 1" + strings.Repeat(")", MaxDepth+1), "condition nested deeper than 200 levels", 1, 24 + MaxDepth, false},
		{"SELECT Id FROM A WHERE Name = '\xff'", "invalid UTF-8 in query", 1, 32, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			q, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tt.in, q)
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error type %T, want *Error", err)
			}
			got := struct {
				Code, Reason     string
				Row, Column      int
				Unsupported      bool
				MessageHasReason bool
			}{e.Code, e.Reason, e.Row, e.Column, e.Unsupported, strings.HasSuffix(e.Message, "\n"+e.Reason)}
			want := got
			want.Code, want.Reason, want.Row, want.Column, want.Unsupported, want.MessageHasReason = CodeMalformedQuery, tt.reason, tt.row, tt.column, tt.unsupported, true
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parse(%q) error (-want +got):\n%s\nmessage: %s", tt.in, diff, e.Message)
			}
		})
	}
}

func TestErrorMessageShape(t *testing.T) {
	t.Parallel()
	_, err := Parse("SELECT Id FORM Account")
	e := err.(*Error)
	want := "\nSELECT Id FORM Account\n          ^\nERROR at Row:1:Column:11\nunexpected token: FORM"
	if e.Message != want {
		t.Errorf("Message = %q, want %q", e.Message, want)
	}
	if got, want := e.Error(), "MALFORMED_QUERY: unexpected token: FORM (at Row:1:Column:11)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if e.Pos != 10 {
		t.Errorf("Pos = %d, want 10", e.Pos)
	}
	_, err = Parse("SELECT Id\nFROM Account\nWHERE Name = ")
	e = err.(*Error)
	want = "\nWHERE Name = \n             ^\nERROR at Row:3:Column:14\nunexpected token: <EOF>"
	if e.Message != want {
		t.Errorf("Message = %q, want %q", e.Message, want)
	}
}

func TestIsCount(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"SELECT COUNT() FROM A":   true,
		"SELECT COUNT(Id) FROM A": false,
		"SELECT Id FROM A":        false,
	} {
		q, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := q.IsCount(); got != want {
			t.Errorf("%q IsCount() = %v, want %v", in, got, want)
		}
	}
}
