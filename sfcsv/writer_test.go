package sfcsv_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/sfcsv"
)

func TestWriterQuoting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		rec    []string
		delim  sfcsv.Delimiter
		le     sfcsv.LineEnding
		want   string
		nquote bool // whether the record needs no quotes at all
	}{
		{"plain", []string{"a", "b", "c"}, 0, sfcsv.LF, "a,b,c\n", true},
		{"crlf", []string{"a", "b"}, 0, sfcsv.CRLF, "a,b\r\n", true},
		{"empty fields", []string{"", "x", ""}, 0, sfcsv.LF, ",x,\n", true},
		{"single empty field", []string{""}, 0, sfcsv.LF, "\"\"\n", false},
		{"spaces unquoted", []string{" lead", "trail ", " both "}, 0, sfcsv.LF, " lead,trail , both \n", true},
		{"delimiter quoted", []string{"a, b, c", "x"}, 0, sfcsv.LF, "\"a, b, c\",x\n", false},
		{"quote doubled", []string{`say "hi"`}, 0, sfcsv.LF, "\"say \"\"hi\"\"\"\n", false},
		{"only quotes", []string{`""`}, 0, sfcsv.LF, "\"\"\"\"\"\"\n", false},
		{"lf quoted", []string{"line1\nline2"}, 0, sfcsv.LF, "\"line1\nline2\"\n", false},
		{"crlf in value kept", []string{"l1\r\nl2"}, 0, sfcsv.CRLF, "\"l1\r\nl2\"\r\n", false},
		{"lone cr quoted", []string{"x\ry", "z"}, 0, sfcsv.LF, "\"x\ry\",z\n", false},
		{"null token verbatim", []string{sfcsv.NullValue, ""}, 0, sfcsv.LF, "#N/A,\n", true},
		{"comma not special for tab", []string{"a,b", "c\td"}, sfcsv.Tab, sfcsv.LF, "a,b\t\"c\td\"\n", false},
		{"pipe", []string{"a,b", "c|d"}, sfcsv.Pipe, sfcsv.LF, "a,b|\"c|d\"\n", false},
		{"semicolon", []string{"a,b", "c;d"}, sfcsv.Semicolon, sfcsv.LF, "a,b;\"c;d\"\n", false},
		{"caret", []string{"a,b", "c^d"}, sfcsv.Caret, sfcsv.LF, "a,b^\"c^d\"\n", false},
		{"backquote", []string{"a,b", "c`d"}, sfcsv.Backquote, sfcsv.CRLF, "a,b`\"c`d\"\r\n", false},
		{"unicode", []string{"Ünïcödé ✓ 日本語", "😀"}, 0, sfcsv.LF, "Ünïcödé ✓ 日本語,😀\n", true},
		{"leading bom quoted", []string{"\ufeffx"}, 0, sfcsv.LF, "\"\ufeffx\"\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w := sfcsv.NewWriter(&buf, sfcsv.WriterOptions{Delimiter: tt.delim, LineEnding: tt.le})
			size, err := w.Write(tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("wrote %q, want %q", got, tt.want)
			}
			want := sfcsv.RowSize{Bytes: len(tt.want), Chars: utf8.RuneCountInString(tt.want)}
			if size != want {
				t.Errorf("size %+v, want %+v", size, want)
			}
			if es := sfcsv.EncodedSize(tt.rec, tt.delim, tt.le); es != want {
				t.Errorf("EncodedSize %+v, want %+v", es, want)
			}
			if w.Written() != want || w.Rows() != 1 {
				t.Errorf("Written %+v Rows %d, want %+v 1", w.Written(), w.Rows(), want)
			}
			for _, f := range tt.rec {
				if tt.nquote && sfcsv.NeedsQuotes(f, tt.delim) {
					t.Errorf("NeedsQuotes(%q) = true", f)
				}
			}
		})
	}
}

func TestWriterBOM(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := sfcsv.NewWriter(&buf, sfcsv.WriterOptions{BOM: true, LineEnding: sfcsv.CRLF})
	s1, _ := w.Write([]string{"Name"})
	s2, _ := w.Write([]string{"x"})
	w.Flush()
	if got, want := buf.String(), "\ufeffName\r\nx\r\n"; got != want {
		t.Fatalf("wrote %q, want %q", got, want)
	}
	if s1 != (sfcsv.RowSize{Bytes: 9, Chars: 7}) || s2 != (sfcsv.RowSize{Bytes: 3, Chars: 3}) {
		t.Errorf("sizes %+v %+v", s1, s2)
	}
	// Read back: the BOM is stripped.
	r := sfcsv.NewReader(&buf, sfcsv.ReaderOptions{})
	if h, err := r.Header(); err != nil || h[0] != "Name" {
		t.Errorf("Header = %q, %v", h, err)
	}
}

func TestWriterErrors(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := sfcsv.NewWriter(&buf, sfcsv.WriterOptions{})
	if _, err := w.Write([]string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	_, err := w.Write([]string{"ok", "bad\xff"})
	if !errors.Is(err, sfcsv.ErrInvalidUTF8) || !strings.Contains(err.Error(), "row 2, column 2") {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if _, err := w.Write(nil); !errors.Is(err, sfcsv.ErrEmptyRecord) {
		t.Errorf("empty record: %v", err)
	}
	w.Flush()
	if buf.String() != "a,b\n" || w.Rows() != 1 {
		t.Errorf("after errors wrote %q (%d rows); want only the good row", buf.String(), w.Rows())
	}
	bad := sfcsv.NewWriter(&buf, sfcsv.WriterOptions{Delimiter: '\n'})
	if _, err := bad.Write([]string{"a"}); !errors.Is(err, sfcsv.ErrDelimiter) {
		t.Errorf("bad delimiter: %v", err)
	}
	bad = sfcsv.NewWriter(&buf, sfcsv.WriterOptions{LineEnding: 7})
	if _, err := bad.Write([]string{"a"}); !errors.Is(err, sfcsv.ErrLineEnding) {
		t.Errorf("bad line ending: %v", err)
	}
}

func TestWriterReset(t *testing.T) {
	t.Parallel()
	var a, b bytes.Buffer
	w := sfcsv.NewWriter(&a, sfcsv.WriterOptions{Delimiter: sfcsv.Pipe})
	w.Write([]string{"x", "y"})
	w.Flush()
	w.Reset(&b)
	if w.Rows() != 0 || w.Written() != (sfcsv.RowSize{}) {
		t.Errorf("after Reset Rows %d Written %+v", w.Rows(), w.Written())
	}
	w.Write([]string{"1", "2|3"})
	w.Flush()
	if a.String() != "x|y\n" || b.String() != "1|\"2|3\"\n" {
		t.Errorf("a %q b %q", a.String(), b.String())
	}
}

func TestWriterSizesAddUp(t *testing.T) {
	t.Parallel()
	rows := [][]string{
		{"Id", "Name", "Description"},
		{"001", "Zoë", "multi\nline, \"quoted\""},
		{"002", "", "日本語"},
		{"003", "#N/A", " x "},
	}
	var buf bytes.Buffer
	w := sfcsv.NewWriter(&buf, sfcsv.WriterOptions{BOM: true})
	var total sfcsv.RowSize
	for _, r := range rows {
		s, err := w.Write(r)
		if err != nil {
			t.Fatal(err)
		}
		total = total.Add(s)
	}
	w.Flush()
	want := sfcsv.RowSize{Bytes: buf.Len(), Chars: utf8.RuneCount(buf.Bytes())}
	if total != want || w.Written() != want {
		t.Errorf("sum of sizes %+v, Written %+v, output %+v", total, w.Written(), want)
	}
	got := readAll(t, sfcsv.NewReader(&buf, sfcsv.ReaderOptions{}))
	if diff := cmp.Diff(rows, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWriterNoAllocs(t *testing.T) {
	var buf bytes.Buffer
	w := sfcsv.NewWriter(&buf, sfcsv.WriterOptions{})
	rec := []string{"003000000000001", "Ünïcödé", "a, \"quoted\" value", "true", "1990-01-31"}
	allocs := testing.AllocsPerRun(100, func() {
		buf.Reset()
		w.Reset(&buf)
		if _, err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		w.Flush()
	})
	if allocs != 0 {
		t.Errorf("Write allocates %v times per record, want 0", allocs)
	}
}

func TestParseDelimiter(t *testing.T) {
	t.Parallel()
	for _, d := range sfcsv.Delimiters() {
		for _, s := range []string{d.Name(), strings.ToLower(d.Name()), string(rune(d))} {
			got, err := sfcsv.ParseDelimiter(s)
			if err != nil || got != d {
				t.Errorf("ParseDelimiter(%q) = %v, %v; want %v", s, got, err, d)
			}
		}
	}
	if d, err := sfcsv.ParseDelimiter(""); err != nil || d != sfcsv.Comma {
		t.Errorf(`ParseDelimiter("") = %v, %v`, d, err)
	}
	for _, s := range []string{"COLON", ":", "\"", "COMMAS"} {
		if _, err := sfcsv.ParseDelimiter(s); err == nil {
			t.Errorf("ParseDelimiter(%q) succeeded", s)
		}
	}
	if sfcsv.Delimiter(0).Name() != "COMMA" || sfcsv.Tab.String() != "TAB" || sfcsv.Delimiter(':').Valid() {
		t.Error("Name/String/Valid")
	}
}

func TestParseLineEnding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want sfcsv.LineEnding
		term string
	}{{"LF", sfcsv.LF, "\n"}, {"crlf", sfcsv.CRLF, "\r\n"}, {"", sfcsv.LF, "\n"}}
	for _, tt := range tests {
		got, err := sfcsv.ParseLineEnding(tt.in)
		if err != nil || got != tt.want || got.Terminator() != tt.term {
			t.Errorf("ParseLineEnding(%q) = %v, %v", tt.in, got, err)
		}
	}
	if _, err := sfcsv.ParseLineEnding("CR"); err == nil {
		t.Error(`ParseLineEnding("CR") succeeded`)
	}
	if sfcsv.CRLF.String() != "CRLF" || sfcsv.LF.String() != "LF" {
		t.Error("String")
	}
}

func TestWriterQuoteAll(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := sfcsv.NewWriter(&buf, sfcsv.WriterOptions{QuoteAll: true})
	recs := [][]string{{"sf__Id", "sf__Created", "Name"}, {"a011s00000DML8XAAX", "true", `say "hi"`}, {"", "false", ""}}
	var total sfcsv.RowSize
	for _, r := range recs {
		want := w.Size(r)
		got, err := w.Write(r)
		if err != nil || got != want {
			t.Fatalf("Write(%q) = %+v, %v; Size says %+v", r, got, err, want)
		}
		total = total.Add(got)
	}
	w.Flush()
	want := "\"sf__Id\",\"sf__Created\",\"Name\"\n\"a011s00000DML8XAAX\",\"true\",\"say \"\"hi\"\"\"\n\"\",\"false\",\"\"\n"
	if buf.String() != want {
		t.Errorf("wrote %q, want %q", buf.String(), want)
	}
	if total.Bytes != len(want) {
		t.Errorf("sizes add to %d bytes, output is %d", total.Bytes, len(want))
	}
}

func TestAppendRecord(t *testing.T) {
	t.Parallel()
	dst := []byte("prefix|")
	dst, size, err := sfcsv.AppendRecord(dst, []string{"a|b", "c", ""}, sfcsv.WriterOptions{Delimiter: sfcsv.Pipe, LineEnding: sfcsv.CRLF})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(dst), "prefix|\"a|b\"|c|\r\n"; got != want {
		t.Errorf("AppendRecord = %q, want %q", got, want)
	}
	if size != (sfcsv.RowSize{Bytes: 10, Chars: 10}) {
		t.Errorf("size %+v", size)
	}
	if _, _, err := sfcsv.AppendRecord(nil, []string{"\xff"}, sfcsv.WriterOptions{}); !errors.Is(err, sfcsv.ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if _, _, err := sfcsv.AppendRecord(nil, nil, sfcsv.WriterOptions{}); !errors.Is(err, sfcsv.ErrEmptyRecord) {
		t.Errorf("empty: %v", err)
	}
	wide := make([]string, 100)
	wide[99] = "x,y"
	out, _, err := sfcsv.AppendRecord(nil, wide, sfcsv.WriterOptions{})
	if err != nil || !strings.HasSuffix(string(out), ",\"x,y\"\n") {
		t.Errorf("wide record: %q, %v", out, err)
	}
}

func TestAppendRecordNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	rec := []string{"003000000000001", "Zoë", "a, \"quoted\" value"}
	if n := testing.AllocsPerRun(100, func() { buf, _, _ = sfcsv.AppendRecord(buf[:0], rec, sfcsv.WriterOptions{}) }); n != 0 {
		t.Errorf("AppendRecord allocates %v times, want 0", n)
	}
}

// TestNeedsQuotesEveryPosition puts each special byte at every position of
// fields of various lengths, to cover the word-at-a-time scan.
func TestNeedsQuotesEveryPosition(t *testing.T) {
	t.Parallel()
	for _, d := range sfcsv.Delimiters() {
		for _, c := range []byte{'"', '\n', '\r', byte(d)} {
			for n := 1; n <= 20; n++ {
				for p := range n {
					b := []byte(strings.Repeat("a", n))
					b[p] = c
					if !sfcsv.NeedsQuotes(string(b), d) {
						t.Errorf("%v: NeedsQuotes(%q) = false", d, b)
					}
				}
				if sfcsv.NeedsQuotes(strings.Repeat("a b", n), d) {
					t.Errorf("%v: plain field of %d needs quotes", d, n)
				}
			}
		}
	}
}
