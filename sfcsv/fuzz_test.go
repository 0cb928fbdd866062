package sfcsv_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// fuzzRecords turns fuzz input into a rectangular table: cells are separated
// by NUL, and every ncols cells make a record.
func fuzzRecords(data string, ncols uint8) [][]string {
	n := int(ncols%6) + 1
	cells := strings.Split(strings.ToValidUTF8(data, "\uFFFD"), "\x00")
	for len(cells)%n != 0 {
		cells = append(cells, "")
	}
	var recs [][]string
	for i := 0; i < len(cells); i += n {
		recs = append(recs, cells[i:i+n])
	}
	return recs
}

func FuzzRoundtrip(f *testing.F) {
	f.Add("Id\x00Name\x00001\x00Acme, Inc.", uint8(1), false)
	f.Add("a\x00say \"hi\"\x00line1\nline2\x00x\ry\x00l1\r\nl2\x00#N/A", uint8(1), true)
	f.Add("", uint8(0), false)
	f.Add("\x00\x00", uint8(0), false)
	f.Add("\ufeffName", uint8(0), false)
	f.Add(" lead\x00trail \x00\t\x00|^;`,", uint8(3), false)
	f.Add("Ünïcödé ✓ 日本語\x00😀\x00\"\"", uint8(2), true)
	f.Add("\n\x00\r\n\x00\r", uint8(0), false)
	f.Add("sf__Id\x00sf__Created\x00a011s00000DML8XAAX\x00true", uint8(0x81), false)
	f.Fuzz(func(t *testing.T, data string, ncols uint8, bom bool) {
		recs := fuzzRecords(data, ncols)
		quoteAll := ncols&0x80 != 0
		for _, d := range sfcsv.Delimiters() {
			for _, le := range []sfcsv.LineEnding{sfcsv.LF, sfcsv.CRLF} {
				var buf bytes.Buffer
				w := sfcsv.NewWriter(&buf, sfcsv.WriterOptions{Delimiter: d, LineEnding: le, BOM: bom, QuoteAll: quoteAll})
				var total sfcsv.RowSize
				var appended []byte
				for i, rec := range recs {
					size, err := w.Write(rec)
					if err != nil {
						t.Fatalf("%v/%v: Write(%q): %v", d, le, rec, err)
					}
					want := w.Size(rec)
					if es := sfcsv.EncodedSize(rec, d, le); !quoteAll && es != want {
						t.Fatalf("%v/%v: EncodedSize %+v, Writer.Size %+v for %q", d, le, es, want, rec)
					}
					if i == 0 && bom {
						want = want.Add(sfcsv.RowSize{Bytes: len(sfcsv.BOM), Chars: 1})
					}
					if size != want {
						t.Fatalf("%v/%v: Write size %+v, EncodedSize %+v for %q", d, le, size, want, rec)
					}
					total = total.Add(size)
					enc, asize, err := sfcsv.AppendRecord(nil, rec, sfcsv.WriterOptions{Delimiter: d, LineEnding: le, QuoteAll: quoteAll})
					if err != nil || asize != w.Size(rec) || asize.Bytes != len(enc) {
						t.Fatalf("%v/%v: AppendRecord(%q) = %q, %+v, %v", d, le, rec, enc, asize, err)
					}
					appended = append(appended, enc...)
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				out := buf.Bytes()
				body := out
				if bom {
					body = out[len(sfcsv.BOM):]
				}
				if !bytes.Equal(appended, body) {
					t.Fatalf("%v/%v: AppendRecord output %q differs from Writer output %q", d, le, appended, out)
				}
				if got := (sfcsv.RowSize{Bytes: len(out), Chars: utf8.RuneCount(out)}); got != total {
					t.Fatalf("%v/%v: sizes add to %+v, output is %+v", d, le, total, got)
				}
				r := sfcsv.NewReader(bytes.NewReader(out), sfcsv.ReaderOptions{Delimiter: d})
				var got [][]string
				for {
					rec, err := r.Read()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("%v/%v: Read of %q: %v", d, le, out, err)
					}
					got = append(got, rec)
				}
				if diff := cmp.Diff(recs, got); diff != "" {
					t.Fatalf("%v/%v: round trip of %q (-want +got):\n%s", d, le, out, diff)
				}
			}
		}
	})
}

// FuzzReader feeds arbitrary bytes to the Reader: it must not panic, must
// end, must return only valid UTF-8 and rows of the header's width without
// an error, and what it returns must survive a write and re-read.
func FuzzReader(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n"), uint8(0))
	f.Add([]byte("\ufeffa,b\r\n\"x\r\ny\",\"\"\"\"\r\n1,2"), uint8(0))
	f.Add([]byte("a,b\n\"John\", \"Smith\"\n\"x\" ,y\n5\" ,z\n\"open\n"), uint8(0))
	f.Add([]byte("a\tb\n\xff\tx\n\n\n1\t2\t3\n"), uint8(1))
	f.Add([]byte("NAME`TYPE\naccount #0`Account\n"), uint8(5))
	f.Add([]byte("a,b\n1,2\n"+strings.Repeat("x", 300)+",y\n3,4\n"), uint8(0))
	f.Add([]byte("a,b\n1,\"2\n3,4\n"), uint8(0))
	f.Add([]byte("a,b\r\n\"x\r\ny\",\"\"\"\"\r\n1,2\n\"p,q\",\n\"\",\"\"\n"), uint8(0x80))
	f.Add([]byte("a;b\nZoë;日本\n\"multi\nline\";x\n"), uint8(0x83))
	f.Fuzz(func(t *testing.T, data []byte, di uint8) {
		ds := sfcsv.Delimiters()
		d := ds[int(di)%len(ds)]
		skipMatchesRead(t, data, d)
		r := sfcsv.NewReader(bytes.NewReader(data), sfcsv.ReaderOptions{Delimiter: d, BufferSize: 16, MaxRecordBytes: 256, RawRecords: di&0x80 != 0})
		var good [][]string
		width := -1
		for i := 0; ; i++ {
			if i > len(data)+2 {
				t.Fatalf("Reader did not end after %d reads of %d bytes", i, len(data))
			}
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			var pe *sfcsv.ParseError
			if err != nil {
				if !errors.As(err, &pe) {
					if i == 0 {
						break // header error is sticky
					}
					t.Fatalf("non-parse error %v", err)
				}
				if i == 0 || errors.Is(err, sfcsv.ErrRecordTooLarge) {
					break // sticky
				}
				continue
			}
			if width < 0 {
				width = len(rec)
			} else if len(rec) != width {
				t.Fatalf("row %d has %d fields without error, header has %d", r.Row(), len(rec), width)
			}
			for _, f := range rec {
				if !utf8.ValidString(f) {
					t.Fatalf("row %d: invalid UTF-8 %q without error", r.Row(), f)
				}
			}
			if di&0x80 != 0 {
				checkRawRecord(t, r, rec, d, i == 0)
			} else if raw, _ := r.RawRecord(); raw != "" {
				t.Fatalf("RawRecord without RawRecords = %q", raw)
			}
			good = append(good, rec)
		}
		if r.InputOffset() > int64(len(data)) {
			t.Fatalf("InputOffset %d > input %d", r.InputOffset(), len(data))
		}
		if len(good) == 0 {
			return
		}
		var buf bytes.Buffer
		w := sfcsv.NewWriter(&buf, sfcsv.WriterOptions{Delimiter: d})
		for _, rec := range good {
			if _, err := w.Write(rec); err != nil {
				t.Fatalf("re-write %q: %v", rec, err)
			}
		}
		w.Flush()
		again := readAll(t, sfcsv.NewReader(&buf, sfcsv.ReaderOptions{Delimiter: d}))
		if diff := cmp.Diff(good, again); diff != "" {
			t.Fatalf("re-read (-want +got):\n%s", diff)
		}
	})
}

// skipMatchesRead checks that Skip gives, record by record, the error Read
// gives for the same input and leaves the Reader at the same row and offset.
func skipMatchesRead(t *testing.T, data []byte, d sfcsv.Delimiter) {
	t.Helper()
	opts := sfcsv.ReaderOptions{Delimiter: d, BufferSize: 16, MaxRecordBytes: 256}
	rd, sk := sfcsv.NewReader(bytes.NewReader(data), opts), sfcsv.NewReader(bytes.NewReader(data), opts)
	for i := 0; i <= len(data)+2; i++ {
		_, rerr := rd.Read()
		serr := sk.Skip()
		if fmt.Sprint(rerr) != fmt.Sprint(serr) {
			t.Fatalf("record %d: Read error %v, Skip error %v", i, rerr, serr)
		}
		if rd.Row() != sk.Row() || rd.InputOffset() != sk.InputOffset() || rd.Line() != sk.Line() {
			t.Fatalf("record %d: Read at row %d offset %d line %d, Skip at row %d offset %d line %d",
				i, rd.Row(), rd.InputOffset(), rd.Line(), sk.Row(), sk.InputOffset(), sk.Line())
		}
		var pe *sfcsv.ParseError
		if rerr != nil && !errors.As(rerr, &pe) {
			return // EOF or sticky
		}
	}
	t.Fatalf("Skip did not end after %d records of %d bytes", len(data)+2, len(data))
}

// checkRawRecord checks RawRecord after a Read that returned rec: the text
// (when the record does not end in a lone CR, which a terminator would join)
// reads back under a header of the same width as the same fields, with either
// line ending, and its character count is right.
func checkRawRecord(t *testing.T, r *sfcsv.Reader, rec []string, d sfcsv.Delimiter, header bool) {
	t.Helper()
	raw, chars := r.RawRecord()
	if header {
		if raw != "" {
			t.Fatalf("RawRecord after the header = %q", raw)
		}
		return
	}
	if raw == "" || chars != utf8.RuneCountInString(raw) {
		t.Fatalf("row %d: RawRecord = %q, %d characters", r.Row(), raw, chars)
	}
	if strings.HasSuffix(raw, "\r") {
		return
	}
	sep := string(rune(d))
	if d == 0 {
		sep = ","
	}
	hdr := "h" + strings.Repeat(sep+"h", len(rec)-1)
	for _, le := range []string{"\n", "\r\n"} {
		again := sfcsv.NewReader(strings.NewReader(hdr+le+raw+le), sfcsv.ReaderOptions{Delimiter: d})
		if _, err := again.Header(); err != nil {
			t.Fatalf("header %q: %v", hdr, err)
		}
		got, err := again.Read()
		if err != nil {
			t.Fatalf("row %d: RawRecord %q does not read back: %v", r.Row(), raw, err)
		}
		if diff := cmp.Diff(rec, got); diff != "" {
			t.Fatalf("row %d: RawRecord %q reads back differently (-want +got):\n%s", r.Row(), raw, diff)
		}
		if _, err := again.Read(); err != io.EOF {
			t.Fatalf("row %d: RawRecord %q reads back as more than one record: %v", r.Row(), raw, err)
		}
	}
}
