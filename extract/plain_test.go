package extract

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// readPages reads pages as one extraction does, with or without the plain path, and returns
// the output, the rows read of each page, the rows written and the first error.
func readPages(pages []string, skip int64, o sfcsv.WriterOptions, plain bool) (string, []int64, int64, error) {
	var buf bytes.Buffer
	cw := newCSVWriter(&buf, o, false)
	e := &engine{s: &settings{}, sum: &Summary{}}
	e.begin = func(cols []string) error { return cw.header(cols, nil) }
	e.row = func(v []string) error { return cw.row(v, e.sum.Rows+1) }
	if plain && cw.rawOK {
		e.raw, e.eol = cw.raw, cw.eol
	}
	var ns []int64
	var err error
	for i, p := range pages {
		var n int64
		n, err = e.readPage(strings.NewReader(p), fmt.Sprintf("page %d", i+1), skip)
		ns = append(ns, n)
		if err != nil {
			break
		}
	}
	if cerr := cw.close(); err == nil {
		err = cerr
	}
	return buf.String(), ns, e.sum.Rows, err
}

// checkSame fails unless the plain path reads pages exactly as sfcsv's Reader does.
func checkSame(t *testing.T, pages []string, skip int64, o sfcsv.WriterOptions) {
	t.Helper()
	out, ns, rows, err := readPages(pages, skip, o, false)
	pout, pns, prows, perr := readPages(pages, skip, o, true)
	if pout != out || fmt.Sprint(pns) != fmt.Sprint(ns) || prows != rows || fmt.Sprint(perr) != fmt.Sprint(err) {
		t.Fatalf("pages %q, skip %d, %+v:\nplain   %q %v rows %d err %v\nreader  %q %v rows %d err %v",
			pages, skip, o, pout, pns, prows, perr, out, ns, rows, err)
	}
}

func TestReadPagePlainSameAsReader(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", plainBuffer+10)
	pages := []string{
		"",
		"\n",
		"Records not found for this query",
		"Records not found for this query\n",
		"\"Id\"\n\"a\"\n\"\"\n",
		"\"Id\",\"Name\"\n",
		"\"Id\",\"Name\"\n\"001\",\"Acme\"\n\"002\",\"Beta\"\n",
		"Id,Name\n001,Acme\n002,\n,\n",
		"\"Id\",\"Name\"\n\"001\",\"Acme, Inc.\"\n\"002\",\"Beta\"\n",
		"\"Id\",\"Name\"\n\"001\",\"say \"\"hi\"\"\"\n\"002\",\"Beta\"\n",
		"\"Id\",\"Name\"\n\"001\",\"two\nlines\"\n\"002\",\"Beta\"\n",
		"\"Id\",\"Name\"\r\n\"001\",\"Acme\"\r\n",
		"\"Id\",\"Name\"\n\"001\",\"Acme\"\r\n\"002\",\"Beta\"\n",
		"\"Id\",\"Name\"\n\"001\",\"Ac\rme\"\n",
		"\ufeff\"Id\",\"Name\"\n\"001\",\"Acme\"\n",
		"\"Id\",\"Name\"\n\"001\",\"\ufeffAcme\"\n",
		"\"Id\",\"Name\"\n\"001\",\"Ac\xffme\"\n\"002\",\"Beta\"\n",
		"\"Id\",\"Name\"\n\"001\",\"Acme\",\"extra\"\n",
		"\"Id\",\"Name\"\n\"001\"\n",
		"\"Id\",\"Name\"\n\"001\",\"Acme\"\n\n\"002\",\"Beta\"\n",
		"\"Id\",\"Name\"\n\"001\",\"Acme\"\n\"002\",\"Beta\"",
		"\"Id\",\"Name\"\n\"001\",\"Acme\"\n\"002\",\"Be",
		"\"Id\",\"Name\"\n\"001\",\"Ac\"me\"\n",
		"\"Id\",\"Name\"\n\"001\",Ac\"me\n",
		"\"Id\",\"Name\"\n\"001\",\"Acme\"x\n",
		"\"Id\",\"Name\"\n\"001\",\"" + long + "\"\n\"002\",\"Beta\"\n",
		"\"" + long + "\",\"Name\"\n\"001\",\"Acme\"\n",
		"\"Id\",\"Name\"\n\"001\",\" spaced \"\n\"002\",\"tab\there\"\n\"003\",\"é ü 中\"\n",
		"\"Id\",\"Name\"\n\"001\",\"semi;colon|pipe\"\n",
	}
	opts := []sfcsv.WriterOptions{
		{},
		{LineEnding: sfcsv.CRLF},
		{Delimiter: sfcsv.Tab},
		{BOM: true},
		{QuoteAll: true},
	}
	for _, p := range pages {
		for _, o := range opts {
			for _, skip := range []int64{0, 1, 5} {
				checkSame(t, []string{p}, skip, o)
				// As the second page of an extraction, after a plain one.
				checkSame(t, []string{"\"Id\",\"Name\"\n\"000\",\"First\"\n", p}, skip, o)
			}
		}
	}
	// A page whose header differs from the first page's.
	checkSame(t, []string{"\"Id\",\"Name\"\n\"1\",\"a\"\n", "\"Id\",\"Email\"\n\"2\",\"b\"\n"}, 0, sfcsv.WriterOptions{})
}

func TestReadPagePlainErrorRow(t *testing.T) {
	t.Parallel()
	// The row and line an error names count the rows read on the plain path.
	_, _, _, err := readPages([]string{"\"Id\",\"Name\"\n\"1\",\"a\"\n\"2\",\"b\"\n\"3\"\n"}, 0, sfcsv.WriterOptions{}, true)
	if err == nil || !strings.Contains(err.Error(), "row 4") {
		t.Fatalf("err = %v, want one naming row 4", err)
	}
}

func FuzzReadPagePlain(f *testing.F) {
	f.Add("\"Id\",\"Name\"\n\"001\",\"Acme\"\n\"002\",\"Beta\"\n", uint8(0), false)
	f.Add("\"Id\",\"Name\"\n\"001\",\"a,b\"\n\"002\",\"x\"\"y\"\n", uint8(1), true)
	f.Add("Id,Name\n1,\n,2\n\"3\",\"a\nb\"\n", uint8(0), false)
	f.Fuzz(func(t *testing.T, page string, skip uint8, crlf bool) {
		o := sfcsv.WriterOptions{}
		if crlf {
			o.LineEnding = sfcsv.CRLF
		}
		checkSame(t, []string{page}, int64(skip%4), o)
	})
}

func BenchmarkPlainRow(b *testing.B) {
	line := []byte(`"0033c00000002eZAAQ","First200","Last00010200","contact10200@example.com","+1 415 555 0200","Senior Engineer 0","+1 650 555 1200","201 Market Street Suite 0","San Francisco","94210","Loaded by the peer benchmark row 10200 of the input file"`)
	var out []byte
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		var ok bool
		if out, _, ok = plainRow(out[:0], line); !ok {
			b.Fatal("not plain")
		}
	}
}
