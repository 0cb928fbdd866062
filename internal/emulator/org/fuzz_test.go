package org

import (
	"strings"
	"testing"
)

func FuzzNormalizeID(f *testing.F) {
	for _, s := range []string{"001A0000006Vm9r", "001A0000006Vm9rIAC", "001a0000006vm9riac", "0035g00000Kq1aBAAR", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := NormalizeID(in)
		if !ok {
			return
		}
		if len(got) != 18 || !strings.EqualFold(got[:15], in[:15]) {
			t.Fatalf("NormalizeID(%q) = %q", in, got)
		}
		if len(in) == 15 && got[:15] != in {
			t.Fatalf("15-char id changed: %q -> %q", in, got)
		}
		if again, ok := NormalizeID(got); !ok || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, got, again)
		}
		if again, ok := NormalizeID(got[:15]); !ok || again != got {
			t.Fatalf("15-char prefix of %q normalizes to %q", got, again)
		}
	})
}

func FuzzConvertValue(f *testing.F) {
	for _, s := range []string{"2024-01-02", "2024-01-02T03:04:05.123+01:00", "1e3", "true", "a@b.co", "Red;Blue", "-0", "1940-06-07Z"} {
		f.Add(s)
	}
	s := DefaultSchema()
	inv := customSchema(f)
	f.Fuzz(func(t *testing.T, in string) {
		for _, ob := range append(s.Objects(), inv.Objects()...) {
			for _, fd := range ob.Fields {
				v, e := convertValue(fd, in)
				if e != nil {
					if e.StatusCode == "" || e.Message == "" {
						t.Fatalf("%s.%s(%q): empty error %+v", ob.Name, fd.Name, in, e)
					}
					continue
				}
				if v == nil {
					continue
				}
				// A converted value converts back to itself.
				back, e := convertValue(fd, FormatCSV(v))
				if e != nil || FormatCSV(back) != FormatCSV(v) {
					t.Fatalf("%s.%s(%q) = %v, round trip %v %v", ob.Name, fd.Name, in, v, back, e)
				}
			}
		}
	})
}
