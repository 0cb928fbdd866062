package convert

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/load"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s: %v", name, err)
	}
	return loc
}

func TestConvert(t *testing.T) {
	t.Parallel()
	paris := mustZone(t, "Europe/Paris")
	ny := mustZone(t, "America/New_York")
	tests := []struct {
		name string
		rule Rule
		in   string
		want string // "" with wantErr
		err  bool
	}{
		{"iso date", Rule{Kind: Date}, "2024-02-29", "2024-02-29", false},
		{"european date", Rule{Kind: Date, Format: "DD/MM/YYYY"}, "03/04/2024", "2024-04-03", false},
		{"us date", Rule{Kind: Date, Format: "MM/DD/YYYY"}, "03/04/2024", "2024-03-04", false},
		{"us date short fields", Rule{Kind: Date, Format: "M/D/YYYY"}, "3/4/2024", "2024-03-04", false},
		{"day out of range", Rule{Kind: Date, Format: "DD/MM/YYYY"}, "31/02/2024", "", true},
		{"us order read as european fails", Rule{Kind: Date, Format: "DD/MM/YYYY"}, "12/31/2024", "", true},
		{"before 1970", Rule{Kind: Date, Format: "DD.MM.YYYY"}, "14.07.1789", "1789-07-14", false},
		{"two-digit year with pivot, low", Rule{Kind: Date, Format: "DD/MM/YY", Pivot: 1950}, "01/01/49", "2049-01-01", false},
		{"two-digit year with pivot, high", Rule{Kind: Date, Format: "DD/MM/YY", Pivot: 1950}, "01/01/50", "1950-01-01", false},
		{"two-digit year pivot 1930", Rule{Kind: Date, Format: "DD/MM/YY", Pivot: 1930}, "01/01/29", "2029-01-01", false},
		{"garbage date", Rule{Kind: Date}, "tomorrow", "", true},
		{"blank stays blank", Rule{Kind: Date, Format: "DD/MM/YYYY"}, "", "", false},
		{"explicit null token", Rule{Kind: Date, Format: "DD/MM/YYYY", Nulls: []string{"NULL"}}, "null", "#N/A", false},
		{"#N/A passes", Rule{Kind: Date}, "#N/A", "#N/A", false},
		{"datetime utc default", Rule{Kind: DateTime}, "2024-05-01T10:00:00", "2024-05-01T10:00:00.000Z", false},
		{"datetime with zone in value", Rule{Kind: DateTime, Zone: paris}, "2024-05-01T10:00:00+02:00", "2024-05-01T08:00:00.000Z", false},
		{"datetime in paris summer", Rule{Kind: DateTime, Format: "DD/MM/YYYY HH:mm", Zone: paris}, "01/07/2024 12:00", "2024-07-01T10:00:00.000Z", false},
		{"datetime in paris winter", Rule{Kind: DateTime, Format: "DD/MM/YYYY HH:mm", Zone: paris}, "01/01/2024 12:00", "2024-01-01T11:00:00.000Z", false},
		{"dst gap moves forward", Rule{Kind: DateTime, Format: "YYYY-MM-DD HH:mm", Zone: paris}, "2024-03-31 02:30", "2024-03-31T01:30:00.000Z", false},
		{"dst overlap takes earlier", Rule{Kind: DateTime, Format: "YYYY-MM-DD HH:mm", Zone: paris}, "2024-10-27 02:30", "2024-10-27T00:30:00.000Z", false},
		{"dst gap new york", Rule{Kind: DateTime, Format: "MM/DD/YYYY HH:mm:ss", Zone: ny}, "03/10/2024 02:15:00", "2024-03-10T07:15:00.000Z", false},
		{"dst overlap new york", Rule{Kind: DateTime, Format: "MM/DD/YYYY HH:mm:ss", Zone: ny}, "11/03/2024 01:30:00", "2024-11-03T05:30:00.000Z", false},
		{"datetime fraction", Rule{Kind: DateTime, Format: "YYYY-MM-DD HH:mm:ss.SSS"}, "1969-12-31 23:59:59.250", "1969-12-31T23:59:59.250Z", false},
		{"datetime bad", Rule{Kind: DateTime, Format: "YYYY-MM-DD HH:mm"}, "2024-13-01 10:00", "", true},
		{"bool yes", Rule{Kind: Boolean}, "Yes", "true", false},
		{"bool n", Rule{Kind: Boolean}, "N", "false", false},
		{"bool 1", Rule{Kind: Boolean}, "1", "true", false},
		{"bool 0", Rule{Kind: Boolean}, "0", "false", false},
		{"bool TRUE", Rule{Kind: Boolean}, "TRUE", "true", false},
		{"bool bad", Rule{Kind: Boolean}, "maybe", "", true},
		{"number european", Rule{Kind: Number, Decimal: ','}, "1.234,56", "1234.56", false},
		{"number us", Rule{Kind: Number}, "1,234.56", "1234.56", false},
		{"number swiss", Rule{Kind: Number}, "1'234.5", "1234.5", false},
		{"number nbsp", Rule{Kind: Number, Decimal: ','}, "1\u00a0234,5", "1234.5", false},
		{"number negative", Rule{Kind: Number, Decimal: ','}, "-0,5", "-0.5", false},
		{"number two decimals marks", Rule{Kind: Number, Decimal: ','}, "1,2,3", "", true},
		{"number letters", Rule{Kind: Number}, "12abc", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.rule
			if err := r.Compile(); err != nil {
				t.Fatal(err)
			}
			got, err := r.Convert(tc.in)
			if tc.err {
				if !errors.Is(err, ErrConvert) {
					t.Fatalf("Convert(%q) = %q, %v; want ErrConvert", tc.in, got, err)
				}
				if !strings.Contains(err.Error(), r.Expected()) {
					t.Errorf("error %q does not name the expected format %q", err, r.Expected())
				}
				return
			}
			if err != nil {
				t.Fatalf("Convert(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Convert(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCompileRefusesTwoDigitYearWithoutPivot(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"DD/MM/YY", "YY-MM-DD"} {
		r := Rule{Kind: Date, Format: f}
		if err := r.Compile(); err == nil || !strings.Contains(err.Error(), "pivot") {
			t.Errorf("Compile(%q) = %v, want a pivot error", f, err)
		}
	}
	r := Rule{Kind: "money"}
	if err := r.Compile(); err == nil {
		t.Error("unknown kind compiled")
	}
}

func TestSourceFailsRowWithPosition(t *testing.T) {
	t.Parallel()
	in := "Name,CloseDate,Won\nA,03/04/2024,yes\nB,2024-04-03,no\nC,,1\n"
	src, err := Source(load.CSVSource(strings.NewReader(in), "opps.csv", load.CSVOptions{}), map[string]*Rule{
		"closedate": {Kind: Date, Format: "DD/MM/YYYY"},
		"Won":       {Kind: Boolean},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	var errs []string
	for {
		row, err := src.Next()
		if err == io.EOF {
			break
		}
		var ie *load.InputError
		if errors.As(err, &ie) {
			if !errors.Is(err, load.ErrValue) || ie.Row != 2 || ie.Column != "CloseDate" || ie.File != "opps.csv" {
				t.Errorf("input error %+v", ie)
			}
			errs = append(errs, err.Error())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, append([]string(nil), row.Values...))
	}
	want := [][]string{{"A", "2024-04-03", "true"}, {"C", "", "true"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "DD/MM/YYYY") {
		t.Errorf("errors %q, want one naming the format", errs)
	}
	if _, err := Source(load.CSVSource(strings.NewReader(in), "x", load.CSVOptions{}), map[string]*Rule{"Nope": {Kind: Date}}); err == nil {
		t.Error("a rule for a missing column was accepted")
	}
}
