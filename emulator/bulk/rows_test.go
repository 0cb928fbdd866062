package bulk

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// TestSegmentSourceSplitsLikeTheReader checks that a Bulk 2.0 segment's
// rows come out of segmentSource (which splits simple rows itself) exactly
// as the CSV reader alone gives them: cells, row errors and batch errors,
// whether a row that needs the reader comes first, in the middle or last.
func TestSegmentSourceSplitsLikeTheReader(t *testing.T) {
	t.Parallel()
	rows := []string{
		"a,b,c\n",
		"\n",
		"d,,#N/A\r\n",
		"\r\n",
		`"q,1",x,y` + "\n",
		"lone\rcr,2,3\n",
		"too,few\n",
		"too,many,cells,here\n",
		"bad\xffutf8,1,2\n",
		"é,ü,ß\n",
		`bare"quote,1,2` + "\n",
		"\"multi\nline\",1,2\n",
		",,\n",
		"last,no,newline",
	}
	s := &Service{}
	check := func(name string, seg string, delim sfcsv.Delimiter, le sfcsv.LineEnding, header string) {
		t.Helper()
		j := &job{delim: delim, lineEnding: le, headerLine: []byte(header)}
		want := readAll(t, func() (*csvSource, error) {
			return newCSVSource(io.MultiReader(strings.NewReader(header), strings.NewReader(le.Terminator()), strings.NewReader(seg)), delim)
		})
		got := readAll(t, func() (*csvSource, error) { return s.segmentSource(j, seg) })
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q\n got %q\nwant %q", name, seg, got, want)
		}
	}
	for i := range rows {
		for k := i; k <= len(rows); k++ {
			seg := strings.Join(rows[i:k], "")
			check(fmt.Sprintf("rows %d-%d", i, k), seg, sfcsv.Comma, sfcsv.LF, "A,B,C")
			check(fmt.Sprintf("rows %d-%d pipe", i, k), strings.ReplaceAll(seg, ",", "|"), sfcsv.Pipe, sfcsv.CRLF, "A|B|C")
		}
	}
	// A record over the reader's limit fails the batch with the reader's
	// message, row number included.
	big := "x,y,z\n" + strings.Repeat("w", sfcsv.DefaultMaxRecordBytes) + ",1,2\nu,v,w\n"
	check("too large", big, sfcsv.Comma, sfcsv.LF, "A,B,C")
}

// TestBulk1SourceSplitsLikeTheReader is TestSegmentSourceSplitsLikeTheReader
// for Bulk 1.0 CSV batches, header included: header variants, then every
// run of the rows.
func TestBulk1SourceSplitsLikeTheReader(t *testing.T) {
	t.Parallel()
	rows := []string{
		"a,b,c\n",
		"\n",
		"d,,#N/A\r\n",
		`"q,1",x,y` + "\n",
		"lone\rcr,2,3\n",
		"too,few\n",
		"too,many,cells,here\n",
		"bad\xffutf8,1,2\n",
		`bare"quote,1,2` + "\n",
		"\"multi\nline\",1,2\n",
		",,\n",
		"last,no,newline",
	}
	s := &Service{}
	check := func(name, data string) {
		t.Helper()
		want := readAll(t, func() (*csvSource, error) { return newCSVSource(strings.NewReader(data), sfcsv.Comma) })
		got := readAll(t, func() (*csvSource, error) {
			src, err := s.bulk1Source(&batch{job: &job{contentType: "CSV"}, data: []byte(data)})
			if err != nil {
				return nil, err
			}
			return src.(*csvSource), nil
		})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q\n got %q\nwant %q", name, data, got, want)
		}
	}
	for _, h := range []string{"A,B,C\n", "A,B,C\r\n", "\n\nA,B,C\n", sfcsv.BOM + "A,B,C\n", "\"A\",\"B\nX\",C\n", "A,B,C", "A,B\n", "A,\"B\n", ""} {
		check(fmt.Sprintf("header %q", h), h+"x,y,z\n"+`"q",1,2`+"\nu,v,w\n")
	}
	for i := range rows {
		for k := i; k <= len(rows); k++ {
			check(fmt.Sprintf("rows %d-%d", i, k), "A,B,C\n"+strings.Join(rows[i:k], ""))
		}
	}
	big := "A,B,C\nx,y,z\n" + strings.Repeat("w", sfcsv.DefaultMaxRecordBytes) + ",1,2\nu,v,w\n"
	check("too large", big)
}

// readAll reads every row of a source, columnar, as text.
func readAll(t *testing.T, open func() (*csvSource, error)) []string {
	t.Helper()
	src, err := open()
	if err != nil {
		return []string{"open: " + err.Error()}
	}
	src.columnar = true
	var out []string
	for {
		r, err := src.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			return append(out, "error: "+err.Error())
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "raw=%q", r.raw)
		if r.rowErr != nil {
			fmt.Fprintf(&b, " err=%s:%s", r.rowErr.StatusCode, r.rowErr.Message)
		}
		for _, v := range r.vals {
			switch v.(type) {
			case org.Unset:
				b.WriteString(" unset")
			case nil:
				b.WriteString(" null")
			case *string:
				fmt.Fprintf(&b, " %q", *v.(*string))
			default:
				fmt.Fprintf(&b, " %q", v)
			}
		}
		out = append(out, b.String())
		src.recycle(nil)
	}
}

// TestNextRecordEnd checks the record ends segmentUpload cuts at against a
// byte-by-byte scan that toggles on quotes.
func TestNextRecordEnd(t *testing.T) {
	t.Parallel()
	slow := func(data string, start int) int {
		inQuote := false
		for i := start; i < len(data); i++ {
			switch data[i] {
			case '"':
				inQuote = !inQuote
			case '\n':
				if !inQuote {
					return i + 1
				}
			}
		}
		return len(data)
	}
	for _, s := range []string{"", "a,b\nc,d\n", "a,b", "\"x\ny\",1\nz\n", "a\"b\nc\nd\"\ne\n", "\n\n", "a,\"\"\nb\n", "\"open\n"} {
		data := s
		for start := 0; start <= len(data); start++ {
			if got, want := nextRecordEnd(data, start), slow(data, start); got != want {
				t.Errorf("nextRecordEnd(%q, %d) = %d, want %d", s, start, got, want)
			}
		}
	}
}
