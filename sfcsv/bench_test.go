package sfcsv_test

import (
	"bytes"
	"io"
	"strconv"
	"testing"

	"github.com/sfbatch/sfbatch/sfcsv"
)

// benchRecord is a typical Contact row: mostly plain values, one quoted
// field and some non-ASCII text.
var benchRecord = []string{
	"0035g00000AbCdEAAV", "Zoë", "Müller-Lüdenscheidt", "zoe.mueller@example.com",
	"ACME-000123", "Key contact, \"VIP\" since 2019", "true", "1990-01-31", "2024-01-03T23:52:01.000Z", "#N/A",
}

func benchInput(tb testing.TB, rows int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := sfcsv.NewWriter(&buf, sfcsv.WriterOptions{})
	header := []string{"Id", "FirstName", "LastName", "Email", "Account.External_Id__c", "Description", "DoNotCall", "Birthdate", "LastActivity__c", "Phone"}
	if _, err := w.Write(header); err != nil {
		tb.Fatal(err)
	}
	rec := append([]string(nil), benchRecord...)
	for i := range rows {
		rec[4] = "ACME-" + strconv.Itoa(i)
		if _, err := w.Write(rec); err != nil {
			tb.Fatal(err)
		}
	}
	w.Flush()
	return buf.Bytes()
}

func BenchmarkWriter(b *testing.B) {
	for _, le := range []sfcsv.LineEnding{sfcsv.LF, sfcsv.CRLF} {
		b.Run(le.String(), func(b *testing.B) {
			w := sfcsv.NewWriter(io.Discard, sfcsv.WriterOptions{LineEnding: le})
			b.SetBytes(int64(sfcsv.EncodedSize(benchRecord, sfcsv.Comma, le).Bytes))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := w.Write(benchRecord); err != nil {
					b.Fatal(err)
				}
			}
			w.Flush()
		})
	}
}

func BenchmarkEncodedSize(b *testing.B) {
	b.SetBytes(int64(sfcsv.EncodedSize(benchRecord, sfcsv.Comma, sfcsv.LF).Bytes))
	b.ReportAllocs()
	for b.Loop() {
		sfcsv.EncodedSize(benchRecord, sfcsv.Comma, sfcsv.LF)
	}
}

func BenchmarkReader(b *testing.B) {
	data := benchInput(b, 10_000)
	for _, tc := range []struct {
		name       string
		reuse, raw bool
	}{{"new", false, false}, {"reuse", true, false}, {"reuse-raw", true, true}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				r := sfcsv.NewReader(bytes.NewReader(data), sfcsv.ReaderOptions{ReuseRecord: tc.reuse, RawRecords: tc.raw})
				n := 0
				for {
					_, err := r.Read()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != 10_001 {
					b.Fatalf("read %d records", n)
				}
			}
		})
	}
}

func BenchmarkAppendRecord(b *testing.B) {
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(sfcsv.EncodedSize(benchRecord, sfcsv.Comma, sfcsv.LF).Bytes))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, _, err = sfcsv.AppendRecord(buf[:0], benchRecord, sfcsv.WriterOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// plainInput is CSV without any quoted field, like most exported files: rows
// of ten Contact fields (about 200 bytes).
func plainInput(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("FirstName,LastName,Email,Phone,Title,MobilePhone,MailingStreet,MailingCity,MailingPostalCode,Description\n")
	for i := range rows {
		n := strconv.Itoa(i)
		b.WriteString("First" + n + ",Last" + n + ",contact" + n + "@example.com,+1 415 555 " + n + ",Senior Engineer " + n +
			",+1 650 555 " + n + "," + n + " Market Street Suite " + n + ",San Francisco,94" + n + ",Loaded by the benchmark row " + n + " of the input file\n")
	}
	return b.Bytes()
}

// BenchmarkReaderPlain reads rows without quotes with ReuseRecord, as the
// load engine does, and takes each record's text (RawRecord) too; skip is the
// structure check's pass (Skip).
func BenchmarkReaderPlain(b *testing.B) {
	const rows = 10_000
	data := plainInput(rows)
	for _, skip := range []bool{false, true} {
		name := "read"
		if skip {
			name = "skip"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				r := sfcsv.NewReader(bytes.NewReader(data), sfcsv.ReaderOptions{ReuseRecord: true, BufferSize: 256 << 10, RawRecords: true})
				if _, err := r.Header(); err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					var err error
					if skip {
						err = r.Skip()
					} else {
						_, err = r.Read()
					}
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != rows {
					b.Fatalf("read %d records", n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
		})
	}
}
