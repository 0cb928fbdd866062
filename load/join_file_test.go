package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// joinCaseValues are cell values that need every kind of care: quotes, delimiters, line
// breaks, a lone CR, a byte order mark, non-ASCII text, empty.
var joinCaseValues = []string{"", "plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", "crlf\r\nx", "tab\there",
	"pipe|semi;caret^back`", "ünï", " lead", "\ufeffbom", "\"", "x\"\"y", "ok"}

// TestResultScannerReadsAsSfcsv reads random files, written with every delimiter, line ending
// and quoting style, with the result scanner and with sfcsv.Reader and wants the same records.
func TestResultScannerReadsAsSfcsv(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range 200 {
		d := sfcsv.Delimiters()[round%len(sfcsv.Delimiters())]
		opts := sfcsv.WriterOptions{Delimiter: d, QuoteAll: round%2 == 0, LineEnding: sfcsv.LineEnding(round % 3 % 2), BOM: round%5 == 0}
		width := 1 + rng.IntN(6)
		var buf bytes.Buffer
		w := sfcsv.NewWriter(&buf, opts)
		for k := range 1 + rng.IntN(40) {
			rec := make([]string, width)
			for i := range rec {
				rec[i] = joinCaseValues[rng.IntN(len(joinCaseValues))]
				if k == 0 {
					rec[i] = fmt.Sprintf("c%d", i)
				}
			}
			if _, err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			if rng.IntN(10) == 0 && k > 0 {
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				buf.WriteString("\n") // a blank line is no record
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		in := buf.Bytes()
		if round%7 == 0 {
			in = bytes.TrimSuffix(bytes.TrimSuffix(in, []byte("\n")), []byte("\r")) // no final line ending
		}
		want := readAllSfcsv(t, in, d)
		got, err := readAllScanner(in, d)
		if err != nil {
			t.Fatalf("round %d: %v\n%q", round, err, in)
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("round %d: scanner read\n%q\nsfcsv read\n%q\nfrom %q", round, got, want, in)
		}
	}
}

func readAllSfcsv(t *testing.T, in []byte, d sfcsv.Delimiter) [][]string {
	t.Helper()
	rd := sfcsv.NewReader(bytes.NewReader(in), sfcsv.ReaderOptions{Delimiter: d})
	var out [][]string
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("sfcsv: %v\n%q", err, in)
		}
		out = append(out, rec)
	}
}

func readAllScanner(in []byte, d sfcsv.Delimiter) ([][]string, error) {
	sc := newResultScanner(bytes.NewReader(in), d, "test")
	var out [][]string
	for {
		rec, err := sc.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		row := make([]string, len(rec))
		for i, f := range rec {
			row[i] = string(f)
		}
		out = append(out, row)
	}
}

// TestResultScannerRejectsWhatSfcsvRejects: a record sfcsv.Reader fails (bare quote, text
// after a closing quote, an unclosed quote, invalid UTF-8) fails the scanner too.
func TestResultScannerRejectsWhatSfcsvRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"a,b\nx,y\"z\n",
		"a,b\n\"x\"y,z\n",
		"a,b\n\"x,y\n",
		"a,b\nx,\xff\n",
		"a,b\n\"x\" ,y\n",
	} {
		if _, err := readAllScanner([]byte(in), sfcsv.Comma); err == nil {
			t.Errorf("%q: no error", in)
		}
		rd := sfcsv.NewReader(strings.NewReader(in), sfcsv.ReaderOptions{})
		failed := false
		for {
			_, err := rd.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				failed = true
				break
			}
		}
		if !failed {
			t.Errorf("%q: sfcsv accepts it (the test is wrong)", in)
		}
	}
}

// joinRun returns a run whose results go to sink, with rows of the given values.
func joinRun(t testing.TB, header []string, rows [][]string, sink Sink) (*run, *chunk) {
	t.Helper()
	cfg, err := (Options{Object: "Contact"}).resolve()
	if err != nil {
		t.Fatal(err)
	}
	r := &run{cfg: cfg, seed: rand.Uint64(), header: header, sum: Summary{ErrorCodes: map[string]int64{}}, sink: sink}
	c := &chunk{jobID: "750000000000001"}
	for i, vals := range rows {
		c.rows = append(c.rows, rowMeta{num: int64(i + 1), hash: r.rowHash(vals)})
	}
	return r, c
}

// TestJoinFileShuffled joins result files listing the rows in upload order, shuffled, and
// with a few rows moved, with rows that need quoting and identical rows: every row gets the
// result that echoes its values (its own id where its values are unique), exactly once, and
// the result files written from the joined results (values copied as the join gives them)
// are byte for byte those written from the same results encoded afresh.
func TestJoinFileShuffled(t *testing.T) {
	t.Parallel()
	header := []string{"FirstName", "LastName", "Email", "Description"}
	for _, order := range []string{"upload", "shuffled", "moved"} {
		t.Run(order, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(order))))
			rows := make([][]string, 3000)
			for i := range rows {
				rows[i] = []string{fmt.Sprintf("First%d", i), fmt.Sprintf("Last%d", i), fmt.Sprintf("c%d@example.com", i), "plain"}
				if rng.IntN(5) == 0 {
					rows[i][3] = joinCaseValues[rng.IntN(len(joinCaseValues))]
				}
				if rng.IntN(20) == 0 && i > 0 {
					rows[i] = slices.Clone(rows[rng.IntN(i)]) // a duplicate of an earlier row
				}
			}
			idOf := func(i int) string { return fmt.Sprintf("003%015d", i) }
			idx := make([]int, len(rows))
			for i := range idx {
				idx[i] = i
			}
			switch order {
			case "shuffled":
				rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
			case "moved":
				for k := 0; k < 50; k++ {
					a, b := rng.IntN(len(idx)), rng.IntN(len(idx))
					idx[a], idx[b] = idx[b], idx[a]
				}
			}
			opts := sfcsv.WriterOptions{QuoteAll: true}
			succ, _, _ := sfcsv.AppendRecord(nil, append([]string{"sf__Id", "sf__Created"}, header...), opts)
			fail, _, _ := sfcsv.AppendRecord(nil, append([]string{"sf__Id", "sf__Error"}, header...), opts)
			failed := map[int]bool{}
			for _, i := range idx {
				if i%7 == 3 {
					failed[i] = true
					fail, _, _ = sfcsv.AppendRecord(fail, append([]string{"", "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"}, rows[i]...), opts)
					continue
				}
				succ, _, _ = sfcsv.AppendRecord(succ, append([]string{idOf(i), "true"}, rows[i]...), opts)
			}
			// A result row that echoes no input row.
			succ, _, _ = sfcsv.AppendRecord(succ, []string{"003999999999999999", "true", "no", "such", "row", ""}, opts)

			var got []RowResult
			fresh, err := CSVSinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			sink := SinkFunc(func(res *RowResult) error {
				got = append(got, *res)
				return nil
			})
			s1, err := CSVSinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			r, c := joinRun(t, header, rows, MultiSink(sink, s1))
			if err := s1.Start(header); err != nil {
				t.Fatal(err)
			}
			j := newResultJoiner(r, c, &salesforce.IngestJob{ID: c.jobID, State: salesforce.JobStateJobComplete})
			if err := j.joinFile(resultsSuccessful, bytes.NewReader(succ)); err != nil {
				t.Fatal(err)
			}
			if err := j.joinFile(resultsFailed, bytes.NewReader(fail)); err != nil {
				t.Fatal(err)
			}
			if j.unmatched != 1 {
				t.Errorf("%d unmatched result rows, want 1", j.unmatched)
			}
			if len(got) != len(rows) {
				t.Fatalf("%d results for %d rows", len(got), len(rows))
			}
			seen := map[int64]bool{}
			firstOf := map[string]int{}
			for i, vals := range rows {
				if _, ok := firstOf[strings.Join(vals, "\x00")]; !ok {
					firstOf[strings.Join(vals, "\x00")] = i
				}
			}
			raws := 0
			for _, res := range got {
				i := int(res.Row - 1)
				if seen[res.Row] {
					t.Fatalf("row %d: two results", res.Row)
				}
				seen[res.Row] = true
				if !slices.Equal(res.Values, rows[i]) {
					t.Fatalf("row %d: values %q, want %q", res.Row, res.Values, rows[i])
				}
				unique := true
				for k, v := range rows {
					if k != i && slices.Equal(v, rows[i]) {
						unique = false
					}
				}
				switch {
				case unique && failed[i] && (res.Outcome != Failed || res.Error.StatusCode != "REQUIRED_FIELD_MISSING"):
					t.Fatalf("row %d: %v %+v, want failed", res.Row, res.Outcome, res.Error)
				case unique && !failed[i] && (res.Outcome != Succeeded || res.ID != idOf(i) || !res.Created):
					t.Fatalf("row %d: %v %q, want succeeded %q", res.Row, res.Outcome, res.ID, idOf(i))
				}
				if res.rawDelim != 0 {
					raws++
					want, _, _ := sfcsv.AppendRecord(nil, res.Values, sfcsv.WriterOptions{})
					if res.raw+"\n" != string(want) {
						t.Fatalf("row %d: raw %q, want %q", res.Row, res.raw, want)
					}
				}
			}
			if raws != len(rows) {
				t.Errorf("%d of %d results carry their encoded values", raws, len(rows))
			}
			// The same results without their encoded values, to a second sink.
			if err := fresh.Start(header); err != nil {
				t.Fatal(err)
			}
			for _, res := range got {
				res.raw, res.rawDelim = "", 0
				if err := fresh.Write(&res); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range []*CSVFiles{s1, fresh} {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range outputNames {
				a, err := os.ReadFile(filepath.Join(s1.dir, name))
				if err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(filepath.Join(fresh.dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a, b) {
					t.Errorf("%s differs:\n%.400q\n%.400q", name, a, b)
				}
			}
		})
	}
}

// TestGatherHashIsRowHash: the join's hash of a result record's values is run.rowHash of them,
// and the record it makes of them is the one sfcsv writes.
func TestGatherHashIsRowHash(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	header := []string{"A", "B", "C"}
	r, c := joinRun(t, header, nil, nil)
	j := newResultJoiner(r, c, &salesforce.IngestJob{ID: "x"})
	cols := newResultColumns(header, []string{"sf__Id", "sf__Created", "C", "A", "B"})
	for range 1000 {
		vals := make([]string, 3)
		for i := range vals {
			vals[i] = strings.Repeat(joinCaseValues[rng.IntN(len(joinCaseValues))], rng.IntN(30))
		}
		rec := [][]byte{[]byte("id"), []byte("true"), []byte(vals[2]), []byte(vals[0]), []byte(vals[1])}
		if got, want := j.gather(cols, rec), r.rowHash(vals); got != want {
			t.Fatalf("%q: hash %x, want %x", vals, got, want)
		}
		got, raw, id := j.values(cols, rec)
		if !slices.Equal(got, vals) || id != "id" {
			t.Fatalf("values %q id %q, want %q", got, id, vals)
		}
		if want, _, _ := sfcsv.AppendRecord(nil, vals, sfcsv.WriterOptions{}); raw+"\n" != string(want) {
			t.Fatalf("values %q: record %q, want %q", vals, raw, want)
		}
	}
}
