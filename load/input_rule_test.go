package load

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// badRow is a row the input rule must fail alone, and what its message must name.
type badRow struct {
	row  int64
	want []string // substrings of the StatusInvalidRow message (file, row, line, column, cause)
}

type inputRuleCase struct {
	name   string
	open   func(t *testing.T) Source
	rows   int // data rows in the input
	bad    []badRow
	object string // "" means Contact
}

func csvCase(name, in string, rows int, bad ...badRow) inputRuleCase {
	return inputRuleCase{name: "csv/" + name, rows: rows, bad: bad, open: func(t *testing.T) Source {
		return CSVSource(strings.NewReader(in), "in.csv", CSVOptions{})
	}}
}

func jsonlCase(name, in string, rows int, bad ...badRow) inputRuleCase {
	return inputRuleCase{name: "jsonl/" + name, rows: rows, bad: bad, open: func(t *testing.T) Source {
		src, err := JSONLSource(strings.NewReader(in), "in.jsonl", JSONLOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return src
	}}
}

type ruleAccount struct {
	Name      string  `parquet:"Name"`
	Industry  string  `parquet:"Industry"`
	Employees float64 `parquet:"NumberOfEmployees"`
}

func parquetCase(name string, in []ruleAccount, bad ...badRow) inputRuleCase {
	return inputRuleCase{name: "parquet/" + name, rows: len(in), bad: bad, object: "Account", open: func(t *testing.T) Source {
		var buf bytes.Buffer
		if err := parquet.Write(&buf, in); err != nil {
			t.Fatal(err)
		}
		src, err := ParquetSource(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "in.parquet")
		if err != nil {
			t.Fatal(err)
		}
		return src
	}}
}

// TestInputRule: a row the reader can delimit but not accept fails alone as
// SFBATCH_INVALID_ROW naming file, row, line and column; every other row is loaded, through
// every API, for CSV, JSON Lines, Parquet and rows given in Go.
func TestInputRule(t *testing.T) {
	t.Parallel()
	pq := func(mod func(*ruleAccount)) []ruleAccount {
		rows := []ruleAccount{{"A", "t", 1}, {"B", "t", 2}, {"C", "t", 3}}
		mod(&rows[1])
		return rows
	}
	cases := []inputRuleCase{
		csvCase("too many cells", "LastName,Title\nA,t\nB,t,extra\nC,t\n", 3, badRow{2, []string{"in.csv", "row 2 (line 3)", "column 3", "3 cells, header has 2"}}),
		csvCase("too few cells", "LastName,Title\nA,t\nB\nC,t\n", 3, badRow{2, []string{"in.csv", "row 2 (line 3)", "column Title", "1 cells"}}),
		csvCase("invalid UTF-8", "LastName,Title\nA,t\nB,\xff\xfe\nC,t\n", 3, badRow{2, []string{"row 2 (line 3)", "column Title", "invalid UTF-8"}}),
		csvCase("NUL byte", "LastName,Title\nA,t\nB\x00,t\nC,t\n", 3, badRow{2, []string{"row 2 (line 3)", "column LastName", "NUL byte"}}),
		csvCase("bare quote", "LastName,Title\nA,t\nO\"Brien,t\nC,t\n", 3, badRow{2, []string{"row 2 (line 3)", "column LastName", `bare "`}}),
		csvCase("multi-line row before a bad one", "LastName,Title\n\"A\nA\",t\nB,t,x\nC,t\n", 3, badRow{2, []string{"row 2 (line 4)"}}),
		jsonlCase("not JSON", `{"LastName":"A"}`+"\n{LastName:B}\n"+`{"LastName":"C"}`+"\n", 3, badRow{2, []string{"in.jsonl", "row 2 (line 2)", "invalid JSON"}}),
		jsonlCase("invalid UTF-8", `{"LastName":"A"}`+"\n{\"LastName\":\"\xff\"}\n"+`{"LastName":"C"}`+"\n", 3, badRow{2, []string{"row 2 (line 2)", "invalid UTF-8"}}),
		jsonlCase("NUL", `{"LastName":"A"}`+"\n\n"+`{"LastName":"B\u0000"}`+"\n"+`{"LastName":"C"}`+"\n", 3, badRow{2, []string{"row 2 (line 3)", "column LastName", "NUL byte"}}),
		jsonlCase("nested array", `{"LastName":"A"}`+"\n"+`{"LastName":"B","Title":[[1]]}`+"\n"+`{"LastName":"C"}`+"\n", 3, badRow{2, []string{"row 2 (line 2)", "Title"}}),
		parquetCase("NaN", pq(func(c *ruleAccount) { c.Employees = math.NaN() }), badRow{2, []string{"in.parquet", "row 2", "column NumberOfEmployees", "cannot be converted"}}),
		parquetCase("infinity", pq(func(c *ruleAccount) { c.Employees = math.Inf(1) }), badRow{2, []string{"row 2", "column NumberOfEmployees"}}),
		parquetCase("invalid UTF-8", pq(func(c *ruleAccount) { c.Industry = "\xff" }), badRow{2, []string{"row 2", "column Industry", "invalid UTF-8"}}),
		parquetCase("NUL", pq(func(c *ruleAccount) { c.Name = "B\x00" }), badRow{2, []string{"row 2", "column Name", "NUL byte"}}),
		{name: "rows/ragged", rows: 3, bad: []badRow{{2, []string{"row 2", "2 values, header has 1"}}}, open: func(*testing.T) Source {
			return rowsSource([]string{"LastName"}, [][]string{{"A"}, {"B", "x"}, {"C"}})
		}},
	}
	for _, api := range apis {
		for _, tc := range cases {
			t.Run(api.String()+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				f := newFakeOrg()
				col := newCollector(t)
				object := tc.object
				if object == "" {
					object = "Contact"
				}
				opts := fastOptions(Options{Object: object, API: api})
				sum, err := f.loader(t).Load(t.Context(), tc.open(t), col, opts)
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				col.check(tc.rows)
				bad := map[int64]bool{}
				for _, b := range tc.bad {
					bad[b.row] = true
					r := col.byRow[b.row]
					if r == nil {
						continue
					}
					if r.Outcome != Failed || r.Error == nil || r.Error.StatusCode != StatusInvalidRow || r.Attempts != 0 {
						t.Errorf("row %d = %+v %+v, want failed %s, unsent", b.row, r, r.Error, StatusInvalidRow)
						continue
					}
					for _, w := range b.want {
						if !strings.Contains(r.Error.Message, w) {
							t.Errorf("row %d message %q lacks %q", b.row, r.Error.Message, w)
						}
					}
					if len(r.Values) != len(col.header) {
						t.Errorf("row %d has %d values for %d columns", b.row, len(r.Values), len(col.header))
					}
				}
				for n, r := range col.byRow {
					if !bad[n] && r.Outcome != Succeeded {
						t.Errorf("row %d = %v %+v, want succeeded", n, r.Outcome, r.Error)
					}
				}
				good := tc.rows - len(tc.bad)
				if f.count(object) != good || sum.Succeeded != int64(good) || sum.Failed != int64(len(tc.bad)) || sum.Rows != int64(tc.rows) {
					t.Errorf("org holds %d contacts, summary %+v; want %d loaded of %d", f.count(object), sum, good, tc.rows)
				}
			})
		}
	}
}

// TestInputRuleStructural: an unterminated quote leaves the rows after it undelimitable.
// CheckStructure finds it before anything is sent; a streamed load (standard input) loads
// the rows before it, fails the broken row, sends nothing after it and returns the
// structural *InputError.
func TestInputRuleStructural(t *testing.T) {
	t.Parallel()
	in := "LastName,Title\nA,t\nB,t\nC,\"unterminated\nD,t\nE,t\n"
	rows, invalid, err := CheckStructure(CSVSource(strings.NewReader(in), "in.csv", CSVOptions{}))
	var ie *InputError
	if !errors.As(err, &ie) || !ie.Structural || ie.Row != 3 || !errors.Is(err, sfcsv.ErrUnclosedQuote) {
		t.Fatalf("CheckStructure = %d, %d, %v; want a structural error at row 3", rows, invalid, err)
	}
	if rows, invalid, err := CheckStructure(CSVSource(strings.NewReader("LastName,Title\nA,t\nB\nC,t\n"), "ok.csv", CSVOptions{})); err != nil || rows != 3 || invalid != 1 {
		t.Errorf("CheckStructure of a file with one ragged row = %d, %d, %v; want 3, 1, nil", rows, invalid, err)
	}
	for _, api := range apis {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			f := newFakeOrg()
			col := newCollector(t)
			sum, err := f.loader(t).Load(t.Context(), CSVSource(strings.NewReader(in), "stdin", CSVOptions{}), col, fastOptions(Options{Object: "Contact", API: api}))
			var ie *InputError
			if !errors.As(err, &ie) || !ie.Structural {
				t.Fatalf("Load: %v, want a structural *InputError", err)
			}
			col.check(3)
			if r := col.byRow[3]; r.Outcome != Failed || r.Error.StatusCode != StatusInvalidRow || !strings.Contains(r.Error.Message, "row 3 (line 4)") {
				t.Errorf("broken row = %+v %+v", r, r.Error)
			}
			if f.count("Contact") != 2 || sum.Rows != 3 || sum.Succeeded != 2 {
				t.Errorf("org holds %d, summary %+v; want rows 1-2 loaded and nothing after the break", f.count("Contact"), sum)
			}
		})
	}
}

// TestJSONLLineTooLongIsStructural: a line over the limit is found while the header is read,
// before any row is returned.
func TestJSONLLineTooLongIsStructural(t *testing.T) {
	t.Parallel()
	in := `{"LastName":"A"}` + "\n" + fmt.Sprintf(`{"LastName":"%s"}`, strings.Repeat("x", 200)) + "\n"
	_, err := JSONLSource(strings.NewReader(in), "in.jsonl", JSONLOptions{MaxLineBytes: 100})
	var ie *InputError
	if !errors.As(err, &ie) || !ie.Structural || ie.Row != 2 {
		t.Fatalf("err = %v, want a structural error at row 2", err)
	}
}
