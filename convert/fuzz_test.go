package convert

import (
	"regexp"
	"testing"
)

var (
	isoDate     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	isoDateTime = regexp.MustCompile(`^-?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
)

// FuzzConvert: no input panics, and what converts is in Salesforce's form.
func FuzzConvert(f *testing.F) {
	f.Add("DD/MM/YYYY", "03/04/2024", ",")
	f.Add("YYYY-MM-DD HH:mm", "2024-03-31 02:30", ".")
	f.Add("DD/MM/YY", "01/01/49", ",")
	f.Add("", "1.234,56", ",")
	f.Fuzz(func(t *testing.T, format, value, dec string) {
		for _, k := range []Kind{Date, DateTime, Boolean, Number} {
			r := Rule{Kind: k, Format: format, Pivot: 1950}
			if dec == "," {
				r.Decimal = ','
			}
			if r.Compile() != nil {
				continue
			}
			out, err := r.Convert(value)
			if err != nil || out == "" || out == "#N/A" {
				continue
			}
			switch k {
			case Date:
				if !isoDate.MatchString(out) {
					t.Errorf("date %q -> %q", value, out)
				}
			case DateTime:
				if !isoDateTime.MatchString(out) {
					t.Errorf("datetime %q -> %q", value, out)
				}
			case Boolean:
				if out != "true" && out != "false" {
					t.Errorf("boolean %q -> %q", value, out)
				}
			case Number:
				if !plainNumber.MatchString(out) {
					t.Errorf("number %q -> %q", value, out)
				}
			}
		}
	})
}
