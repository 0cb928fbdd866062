package bulk

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/sfcsv"
)

func FuzzParseXMLRecords(f *testing.F) {
	f.Add([]byte(`<sObjects xmlns="http://www.force.com/2009/06/asyncapi/dataload"><sObject><LastName>A</LastName><Account><sObject><External_Id__c>x</External_Id__c></sObject></Account></sObject></sObjects>`))
	f.Add([]byte(`<sObjects><sObject><LastName xsi:nil="true"/></sObject></sObjects>`))
	f.Add([]byte(`<other/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := parseXMLRecords(data)
		if err == nil {
			for _, r := range recs {
				if r == nil {
					t.Fatal("nil record without error")
				}
			}
		}
	})
}

func FuzzParseJobRequest(f *testing.F) {
	f.Add([]byte(`{"operation":"insert","object":"Contact","concurrencyMode":0}`), true)
	f.Add([]byte(`<jobInfo><operation>upsert</operation><object>Contact</object></jobInfo>`), false)
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		fm := fmtXML
		if isJSON {
			fm = fmtJSON
		}
		_, _ = parseJobRequest(data, fm) // must not panic
	})
}

func FuzzParsePKChunking(f *testing.F) {
	for _, s := range []string{"true", "FALSE", "chunkSize=50000; parent=Account; startRow=001000000000001", "chunkSize=", "x=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		pk, err := parsePKChunking(h)
		if err == nil && pk != nil && (pk.chunkSize <= 0 || pk.chunkSize > MaxPKChunkSize) {
			t.Fatalf("%q gave chunk size %d", h, pk.chunkSize)
		}
	})
}

// FuzzRecordBoundaries checks that the splitter's record count agrees with
// the CSV reader on well-formed input.
func FuzzRecordBoundaries(f *testing.F) {
	f.Add([]byte("A,B\n1,2\n\"x\ny\",3\n\n4,5\n"))
	f.Add([]byte("A\r\n\"q\"\"\"\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := newCSVSource(bytes.NewReader(data), sfcsv.Comma)
		if err != nil {
			return
		}
		n := 0
		for {
			r, err := src.next()
			if err == io.EOF {
				break
			}
			if err != nil || r.rowErr != nil {
				return // malformed input: counts may differ
			}
			n++
		}
		if got := countRecords(string(data)); got != n {
			t.Fatalf("countRecords = %d, reader rows = %d for %q", got, n, data)
		}
	})
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []orgError
		want string
	}{
		{[]orgError{{"REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", []string{"LastName"}}}, "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"},
		{[]orgError{{"UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records: 001", nil}}, "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records: 001:--"},
	} {
		if got := errorText(toOrgErrors(tc.in)); got != tc.want {
			t.Errorf("errorText = %q, want %q", got, tc.want)
		}
	}
	if got := string(appendQuoted(nil, `a"b`)); got != `"a""b"` {
		t.Errorf("appendQuoted = %s", got)
	}
}

type orgError struct {
	code, msg string
	fields    []string
}

func toOrgErrors(in []orgError) []org.Error {
	out := make([]org.Error, len(in))
	for i, e := range in {
		out[i] = org.Error{StatusCode: e.code, Message: e.msg, Fields: e.fields}
	}
	return out
}

func TestParseXMLRecords(t *testing.T) {
	t.Parallel()
	recs, err := parseXMLRecords([]byte(`<?xml version="1.0"?><sObjects xmlns="http://www.force.com/2009/06/asyncapi/dataload" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<sObject><LastName>A &amp; B</LastName><Email xsi:nil="true"/><Account><sObject><type>Account</type><External_Id__c>X-1</External_Id__c></sObject></Account></sObject>
<sObject><LastName>C</LastName><ReportsTo><Email>r@example.com</Email></ReportsTo></sObject></sObjects>`))
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"LastName": "A & B", "Email": nil, "Account.External_Id__c": "X-1"},
		{"LastName": "C", "ReportsTo.Email": "r@example.com"},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %v", recs)
	}
	for i := range want {
		if fmt.Sprint(recs[i]) != fmt.Sprint(want[i]) {
			t.Errorf("record %d = %v, want %v", i, recs[i], want[i])
		}
	}
	if _, err := parseXMLRecords([]byte(`<records/>`)); err == nil {
		t.Error("wrong root accepted")
	}
	js, err := parseJSONRecords([]byte(`[{"attributes":{"type":"Contact"},"LastName":"A","Account":{"External_Id__c":"X"},"Email":null,"N":1.5}]`))
	if err != nil || fmt.Sprint(js) != "[map[Account.External_Id__c:X Email:<nil> LastName:A N:1.5]]" {
		t.Errorf("JSON records %v %v", js, err)
	}
	// Records after the first array must not vanish without an outcome.
	for _, body := range []string{`[{"LastName":"A"}] [{"LastName":"B"}]`, `[{"LastName":"A"}],{"LastName":"B"}`, `[{"LastName":"A"}] x`} {
		if js, err := parseJSONRecords([]byte(body)); err == nil {
			t.Errorf("JSON %s: %d records and no error", body, len(js))
		}
	}
	if js, err := parseJSONRecords([]byte("[{\"LastName\":\"A\"}]\n")); err != nil || len(js) != 1 {
		t.Errorf("JSON with a trailing newline: %v, %v", js, err)
	}
}

// TestCSVSourceRecordTooLarge checks that a record the CSV reader cannot
// hold (an unclosed quote) fails the batch instead of yielding failed rows
// forever.
func TestCSVSourceRecordTooLarge(t *testing.T) {
	t.Parallel()
	data := "LastName\nok\n\"open" + strings.Repeat("x", sfcsv.DefaultMaxRecordBytes+1) + "\n"
	src, err := newCSVSource(strings.NewReader(data), sfcsv.Comma)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for i := 0; ; i++ {
		if i > 5 {
			t.Fatalf("source still yielding rows after %d calls", i)
		}
		r, err := src.next()
		if err == io.EOF {
			t.Fatal("io.EOF: the unreadable rest of the data was dropped silently")
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "InvalidBatch : ") {
				t.Errorf("batch error %q, want an InvalidBatch message", err)
			}
			break
		}
		if r.rowErr == nil {
			rows++
		}
	}
	if rows != 1 {
		t.Errorf("%d good rows before the error, want 1", rows)
	}
}

// FuzzParseJSONRecords feeds arbitrary bytes to the Bulk 1.0 JSON batch
// parser: no panic, and every record it accepts becomes one row.
func FuzzParseJSONRecords(f *testing.F) {
	f.Add([]byte(`[{"attributes":{"type":"Contact"},"LastName":"A","Account":{"External_Id__c":"X"},"Email":null,"N":1.5}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"LastName":"A"}] [{"LastName":"B"}]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := parseJSONRecords(data)
		if err != nil {
			return
		}
		for i, r := range recs {
			if r == nil {
				t.Fatalf("record %d is nil", i)
			}
		}
	})
}

// eofWrappingReader yields data, then an error that wraps io.EOF, the way a
// broken stream may report a truncation.
type eofWrappingReader struct{ data []byte }

func (r *eofWrappingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, fmt.Errorf("stream cut: %w", io.EOF)
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestCSVSourceWrappedEOF checks that only a bare io.EOF from the CSV reader
// ends the rows: an error wrapping io.EOF fails the batch instead of
// silently ending it.
func TestCSVSourceWrappedEOF(t *testing.T) {
	t.Parallel()
	src, err := newCSVSource(&eofWrappingReader{data: []byte("LastName\nA\n")}, sfcsv.Comma)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.next(); err != nil {
		t.Fatalf("first row: %v", err)
	}
	if _, err := src.next(); err == io.EOF || err == nil {
		t.Fatalf("err = %v, want the stream error", err)
	}
}
