package soql

import (
	"testing"
	"time"
)

func TestDateLiteralRange(t *testing.T) {
	t.Parallel()
	// Wednesday 2024-05-15 13:45 UTC; the week starts on Sunday 2024-05-12.
	now := time.Date(2024, 5, 15, 13, 45, 0, 0, time.UTC)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		lit        DateLiteral
		start, end time.Time
	}{
		{DateLiteral{Name: "TODAY"}, d(2024, 5, 15), d(2024, 5, 16)},
		{DateLiteral{Name: "YESTERDAY"}, d(2024, 5, 14), d(2024, 5, 15)},
		{DateLiteral{Name: "TOMORROW"}, d(2024, 5, 16), d(2024, 5, 17)},
		{DateLiteral{Name: "THIS_WEEK"}, d(2024, 5, 12), d(2024, 5, 19)},
		{DateLiteral{Name: "LAST_WEEK"}, d(2024, 5, 5), d(2024, 5, 12)},
		{DateLiteral{Name: "NEXT_WEEK"}, d(2024, 5, 19), d(2024, 5, 26)},
		{DateLiteral{Name: "THIS_MONTH"}, d(2024, 5, 1), d(2024, 6, 1)},
		{DateLiteral{Name: "LAST_MONTH"}, d(2024, 4, 1), d(2024, 5, 1)},
		{DateLiteral{Name: "NEXT_MONTH"}, d(2024, 6, 1), d(2024, 7, 1)},
		{DateLiteral{Name: "THIS_QUARTER"}, d(2024, 4, 1), d(2024, 7, 1)},
		{DateLiteral{Name: "LAST_QUARTER"}, d(2024, 1, 1), d(2024, 4, 1)},
		{DateLiteral{Name: "NEXT_FISCAL_QUARTER"}, d(2024, 7, 1), d(2024, 10, 1)},
		{DateLiteral{Name: "THIS_YEAR"}, d(2024, 1, 1), d(2025, 1, 1)},
		{DateLiteral{Name: "LAST_YEAR"}, d(2023, 1, 1), d(2024, 1, 1)},
		{DateLiteral{Name: "NEXT_YEAR"}, d(2025, 1, 1), d(2026, 1, 1)},
		{DateLiteral{Name: "LAST_90_DAYS"}, d(2024, 2, 15), d(2024, 5, 16)},
		{DateLiteral{Name: "NEXT_90_DAYS"}, d(2024, 5, 16), d(2024, 8, 14)},
		{DateLiteral{Name: "LAST_N_DAYS", N: 1}, d(2024, 5, 14), d(2024, 5, 16)},
		{DateLiteral{Name: "LAST_N_DAYS", N: 30}, d(2024, 4, 15), d(2024, 5, 16)},
		{DateLiteral{Name: "NEXT_N_DAYS", N: 2}, d(2024, 5, 16), d(2024, 5, 18)},
		{DateLiteral{Name: "N_DAYS_AGO", N: 15}, d(2024, 4, 30), d(2024, 5, 1)},
		{DateLiteral{Name: "LAST_N_WEEKS", N: 2}, d(2024, 4, 28), d(2024, 5, 12)},
		{DateLiteral{Name: "NEXT_N_WEEKS", N: 1}, d(2024, 5, 19), d(2024, 5, 26)},
		{DateLiteral{Name: "N_WEEKS_AGO", N: 1}, d(2024, 5, 5), d(2024, 5, 12)},
		{DateLiteral{Name: "LAST_N_MONTHS", N: 5}, d(2023, 12, 1), d(2024, 5, 1)},
		{DateLiteral{Name: "NEXT_N_MONTHS", N: 8}, d(2024, 6, 1), d(2025, 2, 1)},
		{DateLiteral{Name: "N_MONTHS_AGO", N: 12}, d(2023, 5, 1), d(2023, 6, 1)},
		{DateLiteral{Name: "LAST_N_QUARTERS", N: 2}, d(2023, 10, 1), d(2024, 4, 1)},
		{DateLiteral{Name: "NEXT_N_QUARTERS", N: 1}, d(2024, 7, 1), d(2024, 10, 1)},
		{DateLiteral{Name: "N_QUARTERS_AGO", N: 4}, d(2023, 4, 1), d(2023, 7, 1)},
		{DateLiteral{Name: "LAST_N_YEARS", N: 3}, d(2021, 1, 1), d(2024, 1, 1)},
		{DateLiteral{Name: "NEXT_N_FISCAL_YEARS", N: 2}, d(2025, 1, 1), d(2027, 1, 1)},
		{DateLiteral{Name: "N_YEARS_AGO", N: 1}, d(2023, 1, 1), d(2024, 1, 1)},
		{DateLiteral{Name: "NOT_A_LITERAL"}, now, now},
	}
	for _, tt := range tests {
		t.Run(tt.lit.String(), func(t *testing.T) {
			t.Parallel()
			start, end := DateLiteralRange(tt.lit, now)
			if !start.Equal(tt.start) || !end.Equal(tt.end) {
				t.Errorf("DateLiteralRange(%s) = [%s, %s), want [%s, %s)", tt.lit, start, end, tt.start, tt.end)
			}
		})
	}
}

func TestDateLiteralRangeSundayAndOffset(t *testing.T) {
	t.Parallel()
	// 2024-05-12 is a Sunday; 2024-05-12T23:30-02:00 is Monday 01:30 UTC.
	now := time.Date(2024, 5, 12, 23, 30, 0, 0, time.FixedZone("", -2*3600))
	start, end := DateLiteralRange(DateLiteral{Name: "THIS_WEEK"}, now)
	if want := time.Date(2024, 5, 12, 0, 0, 0, 0, time.UTC); !start.Equal(want) || !end.Equal(want.AddDate(0, 0, 7)) {
		t.Errorf("THIS_WEEK = [%s, %s), want starting %s", start, end, want)
	}
	start, _ = DateLiteralRange(DateLiteral{Name: "TODAY"}, now)
	if want := time.Date(2024, 5, 13, 0, 0, 0, 0, time.UTC); !start.Equal(want) {
		t.Errorf("TODAY starts %s, want %s (UTC day)", start, want)
	}
}

func TestIsDateLiteral(t *testing.T) {
	t.Parallel()
	for name, want := range map[string][2]bool{
		"TODAY":       {true, false},
		"LAST_N_DAYS": {true, true},
		"today":       {false, false},
		"SOMEDAY":     {false, false},
	} {
		ok, n := IsDateLiteral(name)
		if ok != want[0] || n != want[1] {
			t.Errorf("IsDateLiteral(%q) = %v, %v, want %v", name, ok, n, want)
		}
	}
}
