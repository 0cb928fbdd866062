package sfcsv_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// readAll reads every record, failing the test on any error.
func readAll(t *testing.T, r *sfcsv.Reader) [][]string {
	t.Helper()
	var got [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		got = append(got, rec)
	}
}

func TestReaderDialect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		delim sfcsv.Delimiter
		want  [][]string
	}{
		{"lf", "a,b\n1,2\n", 0, [][]string{{"a", "b"}, {"1", "2"}}},
		{"crlf", "a,b\r\n1,2\r\n", 0, [][]string{{"a", "b"}, {"1", "2"}}},
		{"mixed endings", "a,b\r\n1,2\n3,4\r\n", 0, [][]string{{"a", "b"}, {"1", "2"}, {"3", "4"}}},
		{"no final line ending", "a,b\n1,2", 0, [][]string{{"a", "b"}, {"1", "2"}}},
		{"no final line ending quoted", "a,b\n1,\"2\"", 0, [][]string{{"a", "b"}, {"1", "2"}}},
		{"bom stripped", "\ufeffName,Id\nx,y\n", 0, [][]string{{"Name", "Id"}, {"x", "y"}}},
		{"bom only once", "\ufeff\ufeffName\nx\n", 0, [][]string{{"\ufeffName"}, {"x"}}},
		{"blank lines skipped", "a,b\n\n1,2\r\n\r\n3,4\n\n", 0, [][]string{{"a", "b"}, {"1", "2"}, {"3", "4"}}},
		{"empty fields", "a,b,c\n,,\n", 0, [][]string{{"a", "b", "c"}, {"", "", ""}}},
		{"trailing delimiter", "a,b\n1,\n", 0, [][]string{{"a", "b"}, {"1", ""}}},
		{"quoted empty single column", "Id\n\"\"\n", 0, [][]string{{"Id"}, {""}}},
		{"spaces kept", "a,b\n  x , y \n", 0, [][]string{{"a", "b"}, {"  x ", " y "}}},
		{"quoted delimiter", "a,b\n\"x,y\",z\n", 0, [][]string{{"a", "b"}, {"x,y", "z"}}},
		{"doubled quotes", "a\n\"say \"\"hi\"\" \"\"\"\"twice\"\"\"\"\"\n", 0, [][]string{{"a"}, {`say "hi" ""twice""`}}},
		{"quoted lf", "a,b\n\"line1\nline2\",x\n", 0, [][]string{{"a", "b"}, {"line1\nline2", "x"}}},
		{"quoted crlf kept", "a,b\r\n\"line1\r\nline2\",x\r\n", 0, [][]string{{"a", "b"}, {"line1\r\nline2", "x"}}},
		{"quoted lone cr", "a\n\"x\ry\"\n", 0, [][]string{{"a"}, {"x\ry"}}},
		{"unquoted lone cr is data", "a,b\nx\ry,z\n", 0, [][]string{{"a", "b"}, {"x\ry", "z"}}},
		{"quoted blank lines kept", "a\n\"\n\n\"\n", 0, [][]string{{"a"}, {"\n\n"}}},
		{"null token verbatim", "a,b\n#N/A,\n", 0, [][]string{{"a", "b"}, {"#N/A", ""}}},
		{"relationship column", "LastName,Account.External_Id__c\nx,E-1\n", 0, [][]string{{"LastName", "Account.External_Id__c"}, {"x", "E-1"}}},
		{"unicode", "a\nÜnïcödé ✓ 日本語\n", 0, [][]string{{"a"}, {"Ünïcödé ✓ 日本語"}}},
		{"tab", "a\tb\nx,y\t\"p\tq\"\n", sfcsv.Tab, [][]string{{"a", "b"}, {"x,y", "p\tq"}}},
		{"pipe", "a|b\nx,y|\"p|q\"\n", sfcsv.Pipe, [][]string{{"a", "b"}, {"x,y", "p|q"}}},
		{"semicolon", "a;b\nx,y;\"p;q\"\n", sfcsv.Semicolon, [][]string{{"a", "b"}, {"x,y", "p;q"}}},
		{"caret", "a^b\nx,y^\"p^q\"\n", sfcsv.Caret, [][]string{{"a", "b"}, {"x,y", "p^q"}}},
		{"backquote", "a`b\nx,y`\"p`q\"\n", sfcsv.Backquote, [][]string{{"a", "b"}, {"x,y", "p`q"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, size := range []int{0, 16} { // default buffer and one smaller than some lines
				r := sfcsv.NewReader(strings.NewReader(tt.in), sfcsv.ReaderOptions{Delimiter: tt.delim, BufferSize: size})
				got := readAll(t, r)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("buffer %d: records mismatch (-want +got):\n%s", size, diff)
				}
				if r.InputOffset() != int64(len(tt.in)) {
					t.Errorf("buffer %d: InputOffset = %d, want %d", size, r.InputOffset(), len(tt.in))
				}
			}
		})
	}
}

// step is one expected result of Read: a record or a parse error.
type step struct {
	rec      []string
	err      error // sentinel, matched with errors.Is
	row, col int
}

func TestReaderRowErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		lazy  bool
		steps []step
	}{
		{
			name: "invalid utf8 names row and column, then continues",
			in:   "a,b,c\n1,2,3\nx,y,\xffz\n4,5,6\n",
			steps: []step{
				{rec: []string{"a", "b", "c"}},
				{rec: []string{"1", "2", "3"}},
				{err: sfcsv.ErrInvalidUTF8, row: 3, col: 3},
				{rec: []string{"4", "5", "6"}},
			},
		},
		{
			name: "invalid utf8 in quoted multi-line field",
			in:   "a,b\n\"ok\",\"x\ny\xc3\"\n1,2\n",
			steps: []step{
				{rec: []string{"a", "b"}},
				{err: sfcsv.ErrInvalidUTF8, row: 2, col: 2},
				{rec: []string{"1", "2"}},
			},
		},
		{
			name: "multi-byte sequence split by delimiter",
			in:   "a,b\n\xe0,\xb2\xb2\n",
			steps: []step{
				{rec: []string{"a", "b"}},
				{err: sfcsv.ErrInvalidUTF8, row: 2, col: 1},
			},
		},
		{
			name: "too few fields returns record and error",
			in:   "a,b,c\n1,2\n4,5,6\n",
			steps: []step{
				{rec: []string{"a", "b", "c"}},
				{rec: []string{"1", "2"}, err: sfcsv.ErrFieldCount, row: 2, col: 3},
				{rec: []string{"4", "5", "6"}},
			},
		},
		{
			name: "too many fields",
			in:   "a,b\n1,2,3\n",
			steps: []step{
				{rec: []string{"a", "b"}},
				{rec: []string{"1", "2", "3"}, err: sfcsv.ErrFieldCount, row: 2, col: 3},
			},
		},
		{
			name: "bare quote in unquoted field",
			in:   "a,b\nx,5\" screen\ny,z\n",
			steps: []step{
				{rec: []string{"a", "b"}},
				{err: sfcsv.ErrBareQuote, row: 2, col: 2},
				{rec: []string{"y", "z"}},
			},
		},
		{
			name: "bare quote accepted with LazyQuotes",
			in:   "a,b\nx,5\" screen\n",
			lazy: true,
			steps: []step{
				{rec: []string{"a", "b"}},
				{rec: []string{"x", "5\" screen"}},
			},
		},
		{
			name: "space before quoted value",
			in:   "a,b\n\"John\", \"Smith\"\nc,d\n",
			steps: []step{
				{rec: []string{"a", "b"}},
				{err: sfcsv.ErrBareQuote, row: 2, col: 2},
				{rec: []string{"c", "d"}},
			},
		},
		{
			name: "space after quoted value",
			in:   "a,b\n\"John\" ,Smith\nc,d\n",
			steps: []step{
				{rec: []string{"a", "b"}},
				{err: sfcsv.ErrQuote, row: 2, col: 1},
				{rec: []string{"c", "d"}},
			},
		},
		{
			name: "unterminated quote at end of input",
			in:   "a,b\n1,\"open\nmore\n",
			steps: []step{
				{rec: []string{"a", "b"}},
				{err: sfcsv.ErrQuote, row: 2, col: 2},
			},
		},
		{
			name: "unterminated quote is reported as such",
			in:   "a,b\n1,\"open\nmore\n",
			steps: []step{
				{rec: []string{"a", "b"}},
				{err: sfcsv.ErrUnclosedQuote, row: 2, col: 2},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := sfcsv.NewReader(strings.NewReader(tt.in), sfcsv.ReaderOptions{Name: "in.csv", LazyQuotes: tt.lazy})
			for i, want := range tt.steps {
				rec, err := r.Read()
				if diff := cmp.Diff(want.rec, rec); diff != "" {
					t.Errorf("step %d: record mismatch (-want +got):\n%s", i, diff)
				}
				if want.err == nil {
					if err != nil {
						t.Fatalf("step %d: unexpected error %v", i, err)
					}
					continue
				}
				if !errors.Is(err, want.err) {
					t.Fatalf("step %d: error %v, want %v", i, err, want.err)
				}
				var pe *sfcsv.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("step %d: error %T is not *ParseError", i, err)
				}
				if pe.File != "in.csv" || pe.Row != want.row || pe.Column != want.col {
					t.Errorf("step %d: ParseError{File %q, Row %d, Column %d}, want {in.csv, %d, %d}", i, pe.File, pe.Row, pe.Column, want.row, want.col)
				}
				if r.Row() != want.row {
					t.Errorf("step %d: Row() = %d, want %d", i, r.Row(), want.row)
				}
			}
			if rec, err := r.Read(); err != io.EOF {
				t.Errorf("after steps: Read = %q, %v; want io.EOF", rec, err)
			}
			if _, err := r.Read(); err != io.EOF {
				t.Errorf("second read after end: %v; want io.EOF", err)
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *sfcsv.ParseError
		want string
	}{
		{&sfcsv.ParseError{File: "c.csv", Row: 3, Column: 2, Line: 3, Err: sfcsv.ErrInvalidUTF8}, "c.csv: row 3, column 2: invalid UTF-8"},
		{&sfcsv.ParseError{Row: 3, Column: 2, Line: 5, Err: sfcsv.ErrInvalidUTF8}, "row 3, column 2 (line 5): invalid UTF-8"},
		{&sfcsv.ParseError{File: "c.csv", Row: 1}, "c.csv: row 1: parse error"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestReaderHeaderRowLine(t *testing.T) {
	t.Parallel()
	in := "\ufeffId,Description\n001,\"two\nlines\"\n\n002,x\n"
	r := sfcsv.NewReader(strings.NewReader(in), sfcsv.ReaderOptions{})
	h, err := r.Header()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Id", "Description"}, h); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if r.Row() != 1 || r.Line() != 1 {
		t.Errorf("after header Row, Line = %d, %d; want 1, 1", r.Row(), r.Line())
	}
	// Header again does not consume anything.
	if h2, _ := r.Header(); !cmp.Equal(h, h2) {
		t.Errorf("second Header = %q", h2)
	}
	wantRows := []struct {
		rec       []string
		row, line int
	}{
		{[]string{"001", "two\nlines"}, 2, 2},
		{[]string{"002", "x"}, 3, 5},
	}
	for _, w := range wantRows {
		rec, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(rec, w.rec) || r.Row() != w.row || r.Line() != w.line {
			t.Errorf("got %q row %d line %d; want %q row %d line %d", rec, r.Row(), r.Line(), w.rec, w.row, w.line)
		}
	}
}

func TestReaderReadReturnsHeaderFirst(t *testing.T) {
	t.Parallel()
	r := sfcsv.NewReader(strings.NewReader("a,b\n1,2\n"), sfcsv.ReaderOptions{})
	rec, err := r.Read()
	if err != nil || !cmp.Equal(rec, []string{"a", "b"}) || r.Row() != 1 {
		t.Fatalf("first Read = %q, %v, row %d", rec, err, r.Row())
	}
	h, err := r.Header()
	if err != nil || !cmp.Equal(h, []string{"a", "b"}) {
		t.Fatalf("Header after Read = %q, %v", h, err)
	}
	rec, err = r.Read()
	if err != nil || !cmp.Equal(rec, []string{"1", "2"}) || r.Row() != 2 {
		t.Fatalf("second Read = %q, %v, row %d", rec, err, r.Row())
	}
}

func TestReaderEmptyInput(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "\ufeff", "\n\r\n"} {
		r := sfcsv.NewReader(strings.NewReader(in), sfcsv.ReaderOptions{Name: "empty.csv"})
		_, err := r.Header()
		var pe *sfcsv.ParseError
		if !errors.As(err, &pe) || pe.Row != 1 || !errors.Is(err, sfcsv.ErrNoHeader) || !errors.Is(err, io.EOF) {
			t.Errorf("%q: Header error %v, want *ParseError at row 1", in, err)
		}
		if _, err2 := r.Read(); err2 == nil {
			t.Errorf("%q: Read after failed header succeeded", in)
		}
	}
}

func TestReaderReuseRecord(t *testing.T) {
	t.Parallel()
	r := sfcsv.NewReader(strings.NewReader("a,b\n1,2\n3,4\n"), sfcsv.ReaderOptions{ReuseRecord: true})
	h, _ := r.Header()
	first, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	saved := first[0]
	second, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if &first[0] != &second[0] {
		t.Error("ReuseRecord: slices differ")
	}
	if saved != "1" || second[0] != "3" || h[0] != "a" {
		t.Errorf("strings changed: saved %q second %q header %q", saved, second[0], h[0])
	}
}

func TestReaderIOError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := sfcsv.NewReader(io.MultiReader(strings.NewReader("a,b\n1,2\n"), iotest.ErrReader(boom)), sfcsv.ReaderOptions{Name: "f.csv"})
	for range 2 {
		if _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, err := r.Read(); !errors.Is(err, boom) || !strings.Contains(err.Error(), "f.csv") {
			t.Errorf("Read error = %v, want sticky boom naming f.csv", err)
		}
	}
}

func TestReaderOneByteAtATime(t *testing.T) {
	t.Parallel()
	in := "a,b\r\n\"x\r\ny\",\"\"\"\"\r\n1,2"
	r := sfcsv.NewReader(iotest.OneByteReader(strings.NewReader(in)), sfcsv.ReaderOptions{BufferSize: 16})
	want := [][]string{{"a", "b"}, {"x\r\ny", `"`}, {"1", "2"}}
	if diff := cmp.Diff(want, readAll(t, r)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReaderInvalidDelimiter(t *testing.T) {
	t.Parallel()
	r := sfcsv.NewReader(strings.NewReader("a\n"), sfcsv.ReaderOptions{Delimiter: '"'})
	if _, err := r.Read(); !errors.Is(err, sfcsv.ErrDelimiter) {
		t.Errorf("Read error = %v, want ErrDelimiter", err)
	}
}

// TestReaderSamples reads the payloads recorded from real clients' fixtures.
func TestReaderSamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		delim  sfcsv.Delimiter
		header []string
		rows   int
		check  map[[2]int]string // (row index from 0 = first data row, column) -> value
	}{
		{"bulk2-ingest-failedResults.csv", sfcsv.Comma,
			[]string{"sf__Id", "sf__Error", "Custom_Id__c", "AccountId", "Email", "FirstName", "LastName"}, 2,
			map[[2]int]string{{0, 0}: "", {0, 1}: "UNABLE_TO_LOCK_ROW", {1, 5}: "Alice"}},
		{"bulk2-ingest-successfulResults-insert.csv", sfcsv.Comma,
			[]string{"sf__Id", "sf__Created", "Custom_Id__c", "AccountId", "Email", "FirstName", "LastName"}, 2,
			map[[2]int]string{{0, 0}: "a011s00000DML8XAAX", {0, 1}: "true", {1, 4}: "contact2@example.com"}},
		{"bulk2-ingest-successfulResults-upsert.csv", sfcsv.Comma,
			[]string{"sf__Id", "sf__Created", "Custom_Id__c", "LastName"}, 2,
			map[[2]int]string{{1, 1}: "false", {1, 3}: "Y"}},
		{"bulk2-ingest-unprocessedrecords.csv", sfcsv.Comma,
			[]string{"Custom_Id__c", "AccountId", "Email", "FirstName", "LastName"}, 1,
			map[[2]int]string{{0, 0}: "CustomID2"}},
		{"bulk2-ingest-upload-backquote.csv", sfcsv.Backquote,
			[]string{"NAME", "TYPE", "PHONE", "WEBSITE", "ANNUALREVENUE"}, 10,
			map[[2]int]string{{0, 0}: "account #0", {9, 3}: "http://www.accountUpsert9.com", {9, 4}: "9000"}},
		{"bulk2-query-results-page.csv", sfcsv.Comma,
			[]string{"Id", "AccountId", "Email", "FirstName", "LastName"}, 4,
			map[[2]int]string{{3, 0}: "001xx000003DHP1AAO", {2, 3}: "Bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r := sfcsv.NewReader(f, sfcsv.ReaderOptions{Delimiter: tt.delim, Name: tt.file})
			h, err := r.Header()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.header, h); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			rows := readAll(t, r)
			if len(rows) != tt.rows {
				t.Fatalf("%d data rows, want %d", len(rows), tt.rows)
			}
			for at, want := range tt.check {
				if got := rows[at[0]][at[1]]; got != want {
					t.Errorf("row %d column %d = %q, want %q", at[0]+2, at[1]+1, got, want)
				}
			}
		})
	}
}

func TestReaderLineEnding(t *testing.T) {
	t.Parallel()
	r := sfcsv.NewReader(strings.NewReader("a,b\r\n\"x\ny\",1\n2,\"3\""), sfcsv.ReaderOptions{})
	want := []struct {
		le sfcsv.LineEnding
		ok bool
	}{{sfcsv.CRLF, true}, {sfcsv.LF, true}, {sfcsv.LF, false}}
	for i, w := range want {
		if _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
		if le, ok := r.LineEnding(); le != w.le || ok != w.ok {
			t.Errorf("record %d: LineEnding = %v, %v; want %v, %v", i+1, le, ok, w.le, w.ok)
		}
	}
}

func TestReaderMaxRecordBytes(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 200)
	tests := []struct {
		name string
		in   string
		row  int
	}{
		{"unclosed quote", "a,b\n1,2\n3,\"open\n" + strings.Repeat(long+"\n", 5), 3},
		{"long line", "a,b\n" + long + "," + long + "\n", 2},
		{"long header", long + "\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := sfcsv.NewReader(strings.NewReader(tt.in), sfcsv.ReaderOptions{BufferSize: 16, MaxRecordBytes: 100})
			var err error
			for range 10 {
				if _, err = r.Read(); err != nil {
					break
				}
			}
			var pe *sfcsv.ParseError
			if !errors.Is(err, sfcsv.ErrRecordTooLarge) || !errors.As(err, &pe) || pe.Row != tt.row {
				t.Fatalf("error %v, want ErrRecordTooLarge at row %d", err, tt.row)
			}
			if _, err2 := r.Read(); !errors.Is(err2, sfcsv.ErrRecordTooLarge) {
				t.Errorf("error not sticky: %v", err2)
			}
		})
	}
}

// TestClientUploads checks the dialect against upload bodies recorded from
// reference clients (protocol traces *.bulk*-dialect).
func TestClientUploads(t *testing.T) {
	t.Parallel()
	header := []string{"FirstName", "LastName", "Description", "DoNotCall", "Birthdate"}

	// go-salesforce (encoding/csv) quotes a value with a leading space; the
	// reader must accept that, and our writer leaves such values unquoted.
	f, err := os.ReadFile(filepath.Join("testdata", "go-salesforce-dialect-upload.csv"))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, sfcsv.NewReader(bytes.NewReader(f), sfcsv.ReaderOptions{}))
	want := [][]string{
		header,
		{"comma", "AccGoDlCap", "a, b, c", "true", "1990-01-31"},
		{"quote", "AccGoDlCap", `say "hi"`, "false", "2000-02-29"},
		{"newline", "AccGoDlCap", "line1\nline2", "false", ""},
		{"unicode", "AccGoDlCap", "Ünïcödé ✓ 日本語", "true", "1970-01-01"},
		{"leading space", "AccGoDlCap", " padded", "false", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("go-salesforce upload (-want +got):\n%s", diff)
	}

	// jsforce writes exactly this dialect: our bytes must equal its bytes.
	jsforce := "FirstName,LastName,Description,DoNotCall,Birthdate\n" +
		"comma,AccB2dCap,\"a, b, c\",true,1990-01-31\n" +
		"quote,AccB2dCap,\"say \"\"hi\"\" \"\"\"\"twice\"\"\"\"\",false,2000-02-29\n" +
		"newline,AccB2dCap,\"line1\nline2\r\nline3\",false,#N/A\n"
	var buf bytes.Buffer
	w := sfcsv.NewWriter(&buf, sfcsv.WriterOptions{})
	for _, rec := range [][]string{
		header,
		{"comma", "AccB2dCap", "a, b, c", "true", "1990-01-31"},
		{"quote", "AccB2dCap", `say "hi" ""twice""`, "false", "2000-02-29"},
		{"newline", "AccB2dCap", "line1\nline2\r\nline3", "false", sfcsv.NullValue},
	} {
		if _, err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if buf.String() != jsforce {
		t.Errorf("writer output differs from jsforce:\n got %q\nwant %q", buf.String(), jsforce)
	}
}

// TestReaderStopsAfterStickyError reads the way a loader does, recording
// each *ParseError as a failed row and reading on: a stopping error must be
// reported as a row error once and then end the loop, never repeat forever.
func TestReaderStopsAfterStickyError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		wantGood  int
		wantBad   int
		wantCause error
	}{
		{"record too large", "a,b\n1,2\n3,\"open\n" + strings.Repeat("x", 300) + "\n4,5\n", 2, 1, sfcsv.ErrRecordTooLarge},
		{"bad header", "a,\xff\n1,2\n", 0, 1, sfcsv.ErrInvalidUTF8},
		{"no header", "", 0, 1, sfcsv.ErrNoHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := sfcsv.NewReader(strings.NewReader(tt.in), sfcsv.ReaderOptions{BufferSize: 16, MaxRecordBytes: 100})
			good, bad := 0, 0
			var stop error
			for i := 0; stop == nil; i++ {
				if i > 20 {
					t.Fatalf("reader still returning rows after %d reads (good %d, bad %d)", i, good, bad)
				}
				_, err := r.Read()
				var pe *sfcsv.ParseError
				switch {
				case err == nil:
					good++
				case err == io.EOF:
					stop = err
				case errors.As(err, &pe):
					bad++
				default:
					stop = err
				}
			}
			if good != tt.wantGood || bad != tt.wantBad || !errors.Is(stop, tt.wantCause) {
				t.Errorf("good %d, bad %d, stop %v; want %d, %d, %v", good, bad, stop, tt.wantGood, tt.wantBad, tt.wantCause)
			}
		})
	}
}

func TestReaderRawRecord(t *testing.T) {
	t.Parallel()
	in := "\ufeffa,b,c\r\n" +
		"1,two,3\r\n" + // plain, CRLF
		"\n" + // blank line: not a record
		"\"x,y\",\"say \"\"hi\"\"\",\r\n" + // quoted, empty last field
		"\"multi\nline\",Zoë,日本\n" + // spans lines
		"bad,\"x\"y,z\n" + // text after a closing quote: error, no text
		"1,2\n" + // too few fields: error, no text
		"\xff,b,c\n" + // invalid UTF-8: error, no text
		"p|q,r\rs,t" // last record without a terminator; a lone CR is data
	type rec struct {
		fields []string
		raw    string
		err    bool
	}
	want := []rec{
		{fields: []string{"a", "b", "c"}}, // the header: no text
		{fields: []string{"1", "two", "3"}, raw: "1,two,3"},
		{fields: []string{"x,y", `say "hi"`, ""}, raw: `"x,y","say ""hi""",`},
		{fields: []string{"multi\nline", "Zoë", "日本"}, raw: "\"multi\nline\",Zoë,日本"},
		{err: true},
		{err: true},
		{err: true},
		{fields: []string{"p|q", "r\rs", "t"}, raw: "p|q,r\rs,t"},
	}
	r := sfcsv.NewReader(strings.NewReader(in), sfcsv.ReaderOptions{BufferSize: 16, RawRecords: true})
	for i, w := range want {
		got, err := r.Read()
		if (err != nil) != w.err {
			t.Fatalf("record %d: err = %v, want error %v", i+1, err, w.err)
		}
		raw, chars := r.RawRecord()
		if raw != w.raw || chars != utf8.RuneCountInString(w.raw) {
			t.Errorf("record %d: RawRecord = %q, %d; want %q, %d", i+1, raw, chars, w.raw, utf8.RuneCountInString(w.raw))
		}
		if !w.err {
			if diff := cmp.Diff(w.fields, got); diff != "" {
				t.Errorf("record %d (-want +got):\n%s", i+1, diff)
			}
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("after the last record: %v", err)
	}
	if raw, _ := r.RawRecord(); raw != "" {
		t.Errorf("RawRecord at EOF = %q", raw)
	}
}

func TestReaderRawRecordAfterSkipAndHeader(t *testing.T) {
	t.Parallel()
	r := sfcsv.NewReader(strings.NewReader("a,b\n1,2\n3,4\n"), sfcsv.ReaderOptions{RawRecords: true})
	if _, err := r.Header(); err != nil {
		t.Fatal(err)
	}
	if raw, _ := r.RawRecord(); raw != "" {
		t.Errorf("after Header: RawRecord = %q", raw)
	}
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	if raw, _ := r.RawRecord(); raw != "1,2" {
		t.Errorf("after Read: RawRecord = %q", raw)
	}
	if err := r.Skip(); err != nil {
		t.Fatal(err)
	}
	if raw, _ := r.RawRecord(); raw != "" {
		t.Errorf("after Skip: RawRecord = %q", raw)
	}
}
