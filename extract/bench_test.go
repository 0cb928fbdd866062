package extract_test

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

var benchRows = flag.Int("extract.rows", 200_000, "Contacts in the extract benchmarks' org")

// BenchmarkRunCSV pulls every Contact of an emulator org (instant profile)
// into a CSV file and reports rows/s.
//
//	go test ./extract -run '^$' -bench RunCSV -benchtime 3x -extract.rows 1000000
func BenchmarkRunCSV(b *testing.B) {
	f := newFixture(b, *benchRows)
	for _, bc := range []struct {
		name string
		opts extract.Options
	}{
		{"bulk2-sequential", extract.Options{API: extract.APIBulk2, Concurrency: 1, PageSize: 100_000}},
		{"bulk2-parallel", extract.Options{API: extract.APIBulk2, Concurrency: 4, PageSize: 100_000}},
		{"bulk2-parallel-unordered", extract.Options{API: extract.APIBulk2, Concurrency: 4, PageSize: 100_000, Unordered: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			opts := fast(bc.opts)
			opts.Query = contactQuery
			opts.TempDir = dir
			b.ReportAllocs()
			for b.Loop() {
				out, err := os.Create(filepath.Join(dir, "out.csv"))
				if err != nil {
					b.Fatal(err)
				}
				opts.Output = out
				sum, err := extract.Run(b.Context(), f.c, opts)
				if err != nil {
					b.Fatal(err)
				}
				if err := out.Close(); err != nil {
					b.Fatal(err)
				}
				if sum.Rows != int64(*benchRows) {
					b.Fatalf("wrote %d rows, want %d", sum.Rows, *benchRows)
				}
			}
			b.ReportMetric(float64(*benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkRunFormats compares the output formats on the same rows.
func BenchmarkRunFormats(b *testing.B) {
	f := newFixture(b, *benchRows/4)
	for _, format := range []extract.Format{extract.FormatCSV, extract.FormatJSONL, extract.FormatParquet} {
		b.Run(string(format), func(b *testing.B) {
			opts := fast(extract.Options{Query: contactQuery, API: extract.APIBulk2, Format: format, Output: io.Discard, PageSize: 50_000})
			for b.Loop() {
				if _, err := extract.Run(b.Context(), f.c, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(*benchRows/4)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkLatencyPages compares sequential and parallel page downloads
// when every result download takes 20 ms longer (a WAN round trip; the
// emulator's realistic profile models job processing, not downloads).
func BenchmarkLatencyPages(b *testing.B) {
	f := newFixture(b, 50_000)
	if _, err := f.srv.AddFault(salesforcetest.Fault{Method: "GET", Path: "*/results*", Times: -1, Latency: 20e6}); err != nil {
		b.Fatal(err)
	}
	for _, conc := range []int{1, 4} {
		b.Run(fmt.Sprint("concurrency-", conc), func(b *testing.B) {
			opts := fast(extract.Options{Query: contactQuery, API: extract.APIBulk2, Concurrency: conc, PageSize: 2_000, Output: io.Discard})
			for b.Loop() {
				if _, err := extract.Run(b.Context(), f.c, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(50_000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
