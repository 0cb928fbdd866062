package soql

import (
	"errors"
	"testing"
)

func TestWithIDRange(t *testing.T) {
	t.Parallel()
	const lo, hi = "003000000000001AAA", "003000000000100AAA"
	tests := []struct {
		query, lo, hi string
		want          string
		wantErr       bool
	}{
		{"SELECT Id FROM Contact", lo, hi, "SELECT Id FROM Contact WHERE Id >= '003000000000001AAA' AND Id < '003000000000100AAA'", false},
		{"SELECT Id FROM Contact", lo, "", "SELECT Id FROM Contact WHERE Id >= '003000000000001AAA'", false},
		{"SELECT Id FROM Contact", "", hi, "SELECT Id FROM Contact WHERE Id < '003000000000100AAA'", false},
		{"SELECT Id FROM Contact", "", "", "SELECT Id FROM Contact", false},
		{"select id from contact where a = 1 or b = 2", lo, hi, "SELECT id FROM contact WHERE (a = 1 OR b = 2) AND (Id >= '003000000000001AAA' AND Id < '003000000000100AAA')", false},
		{"SELECT Id FROM Contact WHERE a = 1 AND b = 2", lo, "", "SELECT Id FROM Contact WHERE a = 1 AND b = 2 AND Id >= '003000000000001AAA'", false},
		{"SELECT Id FROM Contact WHERE NOT a = 1", "", hi, "SELECT Id FROM Contact WHERE NOT (a = 1) AND Id < '003000000000100AAA'", false},
		{"SELECT Id FROM Contact ORDER BY Id", lo, hi, "SELECT Id FROM Contact WHERE Id >= '003000000000001AAA' AND Id < '003000000000100AAA' ORDER BY Id", false},
		{"SELECT Id FROM Contact WHERE Name = 'x'", "00300000000000A", "00300000000000B", "SELECT Id FROM Contact WHERE Name = 'x' AND (Id >= '00300000000000A' AND Id < '00300000000000B')", false},
		{"SELECT COUNT() FROM Contact", lo, hi, "", true},
		{"SELECT COUNT(Id) FROM Contact", lo, hi, "", true},
		{"SELECT Id FROM Contact LIMIT 5", lo, hi, "", true},
		{"SELECT Id FROM Contact OFFSET 5", lo, hi, "", true},
		{"SELECT Id FROM Contact ORDER BY Name", lo, hi, "", true},
		{"SELECT Id FROM Contact ORDER BY Id DESC", lo, hi, "", true},
		{"SELECT Id FROM Contact", "x' OR Id != '", hi, "", true},
		{"SELECT Id FROM Contact", hi, lo, "", true},
		{"SELECT Id FORM Contact", lo, hi, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			got, err := WithIDRange(tt.query, tt.lo, tt.hi)
			if tt.wantErr {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("WithIDRange(%q) = %q, %v; want *Error", tt.query, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("WithIDRange(%q) =\n %q\nwant\n %q", tt.query, got, tt.want)
			}
			if _, err := Parse(got); err != nil {
				t.Errorf("result does not parse: %v", err)
			}
		})
	}
}
