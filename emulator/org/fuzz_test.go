package org

import (
	"os"
	"path/filepath"
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

// FuzzQuery runs arbitrary SOQL against a small org: every query either
// fails with a *QueryError or returns rows that render, never a panic.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{
		"SELECT Id, Name, Account.Name, Account.Owner.Name FROM Contact WHERE LastName LIKE 'a%' ORDER BY Birthdate DESC NULLS LAST LIMIT 2 OFFSET 1",
		"SELECT COUNT() FROM Account WHERE AnnualRevenue > 10 AND (Industry = null OR NOT Name IN ('x', 'y'))",
		"SELECT COUNT(Email) FROM Contact WHERE Birthdate = LAST_N_DAYS:30",
		"SELECT Tags__c FROM Invoice__c WHERE Tags__c INCLUDES ('Red;Green', 'Blue') AND Sent_At__c < 2024-01-01T00:00:00Z",
		"SELECT Id FROM Contact WHERE Id >= '003000000000000' AND Id < '003zzzzzzzzzzzz'",
		"SELECT Name FROM Account WHERE Name LIKE '%\\%%'",
	} {
		f.Add(q)
	}
	o, err := New(Options{Schema: customSchema(f)})
	if err != nil {
		f.Fatal(err)
	}
	acct := o.Write(f.Context(), "", []WriteRequest{{Op: OpInsert, Object: "Account", Fields: map[string]any{"Name": "A%c", "AnnualRevenue": 20.0}}}, false)[0].ID
	o.Write(f.Context(), "", []WriteRequest{
		{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "alpha", "AccountId": acct, "Birthdate": "2000-01-01", "Email": "a@b.co"}},
		{Op: OpInsert, Object: "Contact", Fields: map[string]any{"LastName": "beta"}},
		{Op: OpInsert, Object: "Invoice__c", Fields: map[string]any{"Name": "I", "Tags__c": "Red", "Sent_At__c": "2023-05-05T00:00:00Z"}},
	}, false)
	f.Fuzz(func(t *testing.T, q string) {
		for _, all := range []bool{false, true} {
			r, err := o.Query(t.Context(), q, all)
			if err != nil {
				if _, ok := err.(*QueryError); !ok {
					t.Fatalf("%q: error %T %v", q, err, err)
				}
				return
			}
			for i := range r.Len() {
				_ = r.Values(i)
				_ = r.Record(i)
			}
		}
	})
}

// FuzzParseSchema feeds arbitrary bytes to the schema file parser: it must
// not panic, and a schema it accepts must hold the default objects.
func FuzzParseSchema(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "schema.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"objects":[{"name":"X__c","fields":[{"name":"A__c","type":"string","length":10}]}]}`))
	f.Add([]byte(`{"objects":[{"name":"X__c","fields":[{"name":"R__c","type":"reference","referenceTo":"Account"}]}]}`))
	f.Add([]byte(`{"objects":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseSchema(data, "fuzz.json")
		if err != nil {
			return
		}
		if _, ok := s.Object("Contact"); !ok {
			t.Fatal("accepted schema lacks the default Contact object")
		}
	})
}
