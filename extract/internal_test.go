package extract

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
	"github.com/sfbatch/sfbatch/soql"
)

func TestSplitIDRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lo, hi string
		n      int
		want   int // boundaries
	}{
		{"003000000000001AAA", "003000000000zzzAAA", 4, 3},
		{"003000000000001", "003000000000002", 10, 1},
		{"003000000000001AAA", "003000000000001AAA", 5, 0},
		{"003Ab0000000001AAA", "003Zz0000000001AAA", 100, 99},
	}
	for _, tt := range tests {
		got, err := splitIDRange(tt.lo, tt.hi, tt.n)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("splitIDRange(%s, %s, %d) = %d boundaries %v, want %d", tt.lo, tt.hi, tt.n, len(got), got, tt.want)
		}
		prev := tt.lo[:15]
		for _, b := range got {
			if len(b) != 18 || b[:15] <= prev || b[:15] > tt.hi[:15] || b[15:] != idSuffix(b[:15]) {
				t.Errorf("boundary %s out of order or malformed (after %s)", b, prev)
			}
			if _, err := soql.WithIDRange("SELECT Id FROM Contact", b, ""); err != nil {
				t.Errorf("boundary %s rejected: %v", b, err)
			}
			prev = b[:15]
		}
	}
	if _, err := splitIDRange("bad", "003000000000001", 2); err == nil {
		t.Error("no error for a malformed id")
	}
}

func TestIDSuffix(t *testing.T) {
	t.Parallel()
	// Known 15 -> 18 conversions.
	for id15, want := range map[string]string{
		"001000000000000": "AAA",
		"00Q5g00000AbCdE": "EAV",
		"0015000000Gv7qJ": "AAR",
		"AAAAA00000aaaaa": "5AA",
		"0035g0000000003": "AAA",
	} {
		if got := idSuffix(id15); got != want {
			t.Errorf("idSuffix(%s) = %s, want %s", id15, got, want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `q"uote\back`, "nl\nret\rtab\t\x01\x1f", "é世界", "\u2028\u2029", "<&>"} {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil || got != s {
			t.Errorf("appendJSONString(%q) = %s, decodes to %q, %v", s, b, got, err)
		}
	}
	if got := string(appendJSONString(nil, "a\xffb")); got != `"a\ufffdb"` {
		t.Errorf("invalid UTF-8 encoded as %s", got)
	}
}

func TestJSONNumber(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]string{
		"0": "0", "-1": "-1", "12.50": "12.50", "1.0E7": "1.0E7", "1e-3": "1e-3",
		".5": "0.5", "+3": "3", "007": "7", "1.": "1",
	} {
		got, ok := appendJSONNumber(nil, s)
		if !ok || string(got) != want {
			t.Errorf("appendJSONNumber(%q) = %s, %v; want %s", s, got, ok, want)
		}
	}
	for _, s := range []string{"abc", "NaN", "Inf", "1e999x", ""} {
		if _, ok := appendJSONNumber(nil, s); ok {
			t.Errorf("appendJSONNumber(%q) accepted", s)
		}
	}
}

func TestJSONLValueError(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	w := newJSONLWriter(&out)
	if err := w.header([]string{"N", "B"}, []Kind{KindInt, KindBool}); err != nil {
		t.Fatal(err)
	}
	if err := w.row([]string{"1", "yes"}, 7); err == nil || !strings.Contains(err.Error(), "row 7, column B") {
		t.Errorf("err = %v, want a ValueError naming row 7 column B", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	t.Parallel()
	q := "SELECT Id FROM Contact"
	tests := []struct {
		name string
		o    Options
		want string // substring of the error; "" = valid
	}{
		{"query", Options{Query: q, Output: io.Discard}, ""},
		{"object fields", Options{Object: "Contact", Fields: []string{"Id", "Name"}, Where: "Name != null", Output: io.Discard}, ""},
		{"nothing", Options{Output: io.Discard}, "Options.Query"},
		{"both", Options{Query: q, Object: "Contact", Output: io.Discard}, "Options.Query"},
		{"no fields", Options{Object: "Contact", Output: io.Discard}, "Options.Fields"},
		{"bad field", Options{Object: "Contact", Fields: []string{"Id, Name"}, Output: io.Discard}, "Options.Fields"},
		{"bad object", Options{Object: "Contact x", Fields: []string{"Id"}, Output: io.Discard}, "Options.Object"},
		{"api", Options{Query: q, API: "soap", Output: io.Discard}, "Options.API"},
		{"concurrency", Options{Query: q, Concurrency: -1, Output: io.Discard}, "Options.Concurrency"},
		{"page size", Options{Query: q, PageSize: -5, Output: io.Discard}, "Options.PageSize"},
		{"pk needs bulk1", Options{Query: q, PKChunking: &salesforce.PKChunking{}, Output: io.Discard}, "Options.PKChunking"},
		{"pk size", Options{Query: q, API: APIBulk1, PKChunking: &salesforce.PKChunking{ChunkSize: 300_000}, Output: io.Discard}, "Options.PKChunking"},
		{"id chunks api", Options{Query: q, API: APIREST, IDChunks: 3, Output: io.Discard}, "Options.IDChunks"},
		{"id chunks max", Options{Query: q, IDChunks: MaxIDChunks + 1, Output: io.Discard}, "Options.IDChunks"},
		{"rest max", Options{Query: q, RESTMaxRows: -1, Output: io.Discard}, "Options.RESTMaxRows"},
		{"resume job", Options{Query: q, Resume: &Resume{}, Output: io.Discard}, "Options.Resume"},
		{"resume api", Options{Query: q, API: APIBulk1, Resume: &Resume{JobID: "750x"}, Output: io.Discard}, "Options.Resume"},
		{"resume skip", Options{Query: q, Resume: &Resume{JobID: "750x", Skip: -1}, Output: io.Discard}, "Options.Resume"},
		{"format", Options{Query: q, Format: "xml", Output: io.Discard}, "Options.Format"},
		{"delimiter", Options{Query: q, CSV: sfcsv.WriterOptions{Delimiter: 'x'}, Output: io.Discard}, "Options.CSV.Delimiter"},
		{"line ending", Options{Query: q, CSV: sfcsv.WriterOptions{LineEnding: 9}, Output: io.Discard}, "Options.CSV.LineEnding"},
		{"output", Options{Query: q}, "Options.Output"},
		{"spool", Options{Query: q, SpoolMemory: -1, Output: io.Discard}, "Options.SpoolMemory"},
		{"poll", Options{Query: q, PollInterval: -1, Output: io.Discard}, "Options.PollInterval"},
		{"max poll", Options{Query: q, PollInterval: 2e9, MaxPollInterval: 1e9, Output: io.Discard}, "Options.MaxPollInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := tt.o.resolve(true)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want one naming %s", err, tt.want)
			case tt.want == "" && (s.API != APIAuto || s.Format != FormatCSV || s.concurrency != DefaultConcurrency || s.retries != DefaultRetries):
				t.Errorf("defaults not applied: %+v", s)
			}
		})
	}
	s, err := Options{Object: "Contact", Fields: []string{"Id", "Name"}, Where: "Name != null"}.resolve(false)
	if err != nil || s.query != "SELECT Id, Name FROM Contact WHERE Name != null" {
		t.Errorf("built query %q, %v", s.query, err)
	}
}
