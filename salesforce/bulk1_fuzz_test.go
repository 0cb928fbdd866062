package salesforce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func FuzzParseResultError(f *testing.F) {
	for _, s := range []string{
		"UNABLE_TO_LOCK_ROW",
		"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",
		"INVALID_FIELD:bad:--",
		"A:b:c,d --",
		"::::",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := ParseResultError(s)
		if strings.TrimSpace(s) != "" && e.StatusCode == "" && !strings.HasPrefix(strings.TrimSpace(s), ":") && !strings.HasPrefix(strings.TrimSpace(s), "--") {
			t.Errorf("ParseResultError(%q) lost the code: %+v", s, e)
		}
		for _, fld := range e.Fields {
			if fld == "" || strings.Contains(fld, ",") {
				t.Errorf("ParseResultError(%q): bad field %q", s, fld)
			}
		}
	})
}

func FuzzReadBatchResults(f *testing.F) {
	f.Add("CSV", "\"Id\",\"Success\",\"Created\",\"Error\"\n\"001\",\"true\",\"true\",\"\"\n\"\",\"false\",\"false\",\"X:y:Z --\"\n")
	f.Add("JSON", sampleBulk1ResultIngest)
	f.Add("JSON", `[{"success":false,"id":null,"errors":[{"statusCode":"X","message":"m","fields":["F"]}]}]`)
	f.Add("XML", `<results xmlns="http://www.force.com/2009/06/asyncapi/dataload"><result><id>001</id><success>true</success><created>false</created></result></results>`)
	f.Add("XML", `<results><result><errors><fields>A</fields></errors></result></results>`)
	f.Add("CSV", "")
	f.Fuzz(func(t *testing.T, ct, body string) {
		n := 0
		for r, err := range ReadBatchResults(strings.NewReader(body), ct) {
			n++
			if err != nil {
				if r.ID != "" || r.Success {
					t.Errorf("error with a result: %+v", r)
				}
				continue
			}
			if n > len(body)+1 {
				t.Fatalf("%d results from %d bytes", n, len(body))
			}
		}
	})
}

func FuzzDecodeBulk1(f *testing.F) {
	f.Add("application/xml", xmlJobInfo)
	f.Add("application/xml", xmlBatchInfo)
	f.Add("application/json", sampleBulk1JobCreateJSON)
	f.Add("application/json", sampleBulk1BatchFailed)
	f.Add("application/json", `{"batchInfo":{"id":"751"}}`)
	f.Add("application/xml", `<result-list><result>752</result></result-list>`)
	f.Add("", `{"apiVersion":"bad"}`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		var j bulk1Job
		var b bulk1Batch
		var l bulk1BatchList
		var r resultList
		for _, v := range []any{&j, &b, &l, &r} {
			err := decodeBulk1(ct, []byte(body), v)
			if err == nil && len(bytes.TrimSpace([]byte(body))) == 0 {
				t.Errorf("empty body decoded into %T", v)
			}
		}
	})
}

func BenchmarkReadBatchResultsCSV(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("\"Id\",\"Success\",\"Created\",\"Error\"\n")
	for i := range MaxBatchRecords {
		if i%50 == 0 {
			buf.WriteString("\"\",\"false\",\"false\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --\"\n")
			continue
		}
		fmt.Fprintf(&buf, "\"003x%014d\",\"true\",\"true\",\"\"\n", i)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range ReadBatchResults(bytes.NewReader(data), "CSV") {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != MaxBatchRecords {
			b.Fatalf("%d results", n)
		}
	}
}

func BenchmarkReadBatchResultsJSON(b *testing.B) {
	res := make([]SaveResult, MaxBatchRecords)
	for i := range res {
		res[i] = SaveResult{ID: fmt.Sprintf("003x%014d", i), Success: true, Created: true, Errors: []RecordError{}}
	}
	data, _ := json.Marshal(res)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for _, err := range ReadBatchResults(bytes.NewReader(data), "JSON") {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkEncodeRecords(b *testing.B) {
	recs := makeRecords(MaxCollectionRecords, func(i int) string { return fmt.Sprintf("Name %d", i) })
	for _, r := range recs {
		r["Email"] = "someone@example.com"
		r["Phone"] = "415-555-0000"
	}
	idx := identity(len(recs))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeRecords("Contact", false, recs, idx); err != nil {
			b.Fatal(err)
		}
	}
}
