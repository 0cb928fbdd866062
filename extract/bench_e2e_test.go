package extract_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/bulk"
	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// End-to-end extract benchmarks: the extract engine and the emulator in one
// process, Bulk API 2.0 query over loopback HTTP, output to a CSV file.
//
// They only run with -bench. The row count comes from SFBATCH_BENCH_ROWS
// (default e2eDefaultRows); the project's figures use one million rows:
//
//	SFBATCH_BENCH_ROWS=1000000 go test ./extract -run '^$' -bench E2E -benchtime 1x
//
// Client goroutines carry the pprof label side=client and the emulator's
// side=emulator (see load/bench_e2e_test.go); org seeding is unlabeled.

// e2eDefaultRows is the row count when SFBATCH_BENCH_ROWS is unset.
const e2eDefaultRows = 200_000

// e2eQuery selects the seeded Contacts' eleven columns.
const e2eQuery = "SELECT Id, External_Id__c, FirstName, LastName, Salutation, Email, Phone, DoNotCall, Birthdate, MailingCity, Description FROM Contact"

// e2eSalutation is row i's Salutation.
func e2eSalutation(i int) string { return [...]string{"Mr.", "Ms.", "Dr."}[i%3] }

func e2eRows(b *testing.B) int {
	b.Helper()
	s := os.Getenv("SFBATCH_BENCH_ROWS")
	if s == "" {
		return e2eDefaultRows
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("SFBATCH_BENCH_ROWS=%q: want a positive integer", s)
	}
	return n
}

// e2eSeed starts an emulator (plain HTTP, loopback) labelled side=emulator,
// fills it with n Contacts of the shape scripts/bench and the load
// benchmark use, and returns it with a client.
func e2eSeed(b *testing.B, n int, opts ...salesforcetest.Option) (*salesforcetest.Server, *salesforce.Client) {
	b.Helper()
	var srv *salesforcetest.Server
	var err error
	pprof.Do(context.Background(), pprof.Labels("side", "emulator"), func(context.Context) {
		srv, err = salesforcetest.Start(append([]salesforcetest.Option{salesforcetest.WithoutTLS()}, opts...)...)
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	o, user := srv.Org(), srv.UserID()
	reqs := make([]org.WriteRequest, 0, 10_000)
	flush := func() {
		for i, r := range o.Write(b.Context(), user, reqs, false) {
			if !r.Success {
				b.Fatalf("seeding record %d: %+v", i, r.Errors)
			}
		}
		reqs = reqs[:0]
	}
	for i := 1; i <= n; i++ {
		reqs = append(reqs, org.WriteRequest{Op: org.OpInsert, Object: "Contact", Fields: map[string]any{
			"External_Id__c": fmt.Sprintf("E%09d", i),
			"FirstName":      "First" + strconv.Itoa(i),
			"LastName":       "Last" + strconv.Itoa(i),
			"Salutation":     e2eSalutation(i),
			"Email":          "c" + strconv.Itoa(i) + "@example.com",
			"Phone":          fmt.Sprintf("(555) %03d-%04d", i/10000%1000, i%10000),
			"DoNotCall":      i%2 == 0,
			"Birthdate":      fmt.Sprintf("%04d-%02d-%02d", 1950+i%50, 1+i%12, 1+i%28),
			"MailingCity":    "City " + strconv.Itoa(i%1000),
			"Description":    "Imported, batch " + strconv.Itoa(i%100),
		}})
		if len(reqs) == cap(reqs) {
			flush()
		}
	}
	if len(reqs) > 0 {
		flush()
	}
	if got := srv.Count("Contact"); got != n {
		b.Fatalf("org holds %d Contacts, want %d", got, n)
	}
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		b.Fatal(err)
	}
	return srv, c
}

func e2eCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// e2eCountLines counts the lines of a file (the seeded data has no quoted
// line breaks, so lines = rows + header).
func e2eCountLines(b *testing.B, path string) int {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	lines := 0
	for {
		k, err := f.Read(buf)
		lines += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return lines
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// e2eRun runs extract b.N times into a CSV file, checks the row count and
// the file, and reports rows/s and the process's CPU per row.
func e2eRun(b *testing.B, c *salesforce.Client, n int, opts extract.Options) {
	b.Helper()
	dir := b.TempDir()
	path := filepath.Join(dir, "contacts.csv")
	opts.Query, opts.TempDir = e2eQuery, dir
	// The download rate is measured from the first page written to the
	// end, which leaves out job creation, the query and polling.
	var firstAt time.Time
	var firstRows int64
	var log *slog.Logger
	if os.Getenv("SFBATCH_BENCH_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		opts.Logger = log
	}
	opts.Progress = func(p extract.Progress) {
		if firstAt.IsZero() {
			firstAt, firstRows = time.Now(), p.Rows
		}
		if log != nil {
			log.Debug("page written", "rows", p.Rows, "pages", p.Pages)
		}
	}
	var dlTime time.Duration
	var dlRows int64
	var cpu time.Duration
	var pages int
	for b.Loop() {
		b.StopTimer()
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		opts.Output = w
		firstAt = time.Time{}
		cpu0 := e2eCPU()
		b.StartTimer()
		var sum *extract.Summary
		pprof.Do(b.Context(), pprof.Labels("side", "client"), func(ctx context.Context) {
			sum, err = extract.Run(ctx, c, opts)
			if err == nil {
				err = w.Flush()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		})
		b.StopTimer()
		cpu += e2eCPU() - cpu0
		if !firstAt.IsZero() {
			dlTime += time.Since(firstAt)
			dlRows += int64(n) - firstRows
		}
		if err != nil {
			b.Fatal(err)
		}
		if sum.Rows != int64(n) {
			b.Fatalf("wrote %d rows, want %d", sum.Rows, n)
		}
		if lines := e2eCountLines(b, path); lines != n+1 {
			b.Fatalf("output has %d lines, want %d (header + rows)", lines, n+1)
		}
		pages = sum.Pages
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-µs/row")
	b.ReportMetric(float64(pages), "pages")
	if dlTime > 0 && dlRows > 0 {
		b.ReportMetric(float64(dlRows)/dlTime.Seconds(), "dl-rows/s")
	}
}

// BenchmarkE2EExtractBulk2 pulls SFBATCH_BENCH_ROWS Contacts (eleven
// columns) out of an emulator org (instant profile) through Bulk API 2.0
// into a CSV file: with default Options (what the CLI uses), and with
// 100,000-row pages downloaded sequentially and four at a time.
func BenchmarkE2EExtractBulk2(b *testing.B) {
	n := e2eRows(b)
	_, c := e2eSeed(b, n)
	for _, bc := range []struct {
		name string
		opts extract.Options
	}{
		{"defaults", extract.Options{API: extract.APIBulk2}},
		{"pages-sequential", extract.Options{API: extract.APIBulk2, Concurrency: 1, PageSize: 100_000}},
		{"pages-parallel", extract.Options{API: extract.APIBulk2, Concurrency: 4, PageSize: 100_000}},
	} {
		b.Run(bc.name, func(b *testing.B) { e2eRun(b, c, n, bc.opts) })
	}
}

// e2eRealistic is the timing of `sfbatch emulator --profile realistic`.
func e2eRealistic() bulk.Realistic { return bulk.DefaultRealistic() }

// BenchmarkE2EExtractRealistic compares sequential and parallel result page
// downloads (25,000-row pages) under the realistic profile (which waits
// ResultPageLatency before serving each page), on loopback and with 100 ms
// more added to every result page download (a WAN round trip). rows/s includes the profile's 2 s query latency and polling;
// dl-rows/s counts from the first page written to the end.
func BenchmarkE2EExtractRealistic(b *testing.B) {
	n := e2eRows(b)
	srv, c := e2eSeed(b, n, salesforcetest.WithBulkOptions(bulk.Options{Profile: e2eRealistic()}))
	for _, latency := range []time.Duration{0, 100 * time.Millisecond} {
		if latency > 0 {
			if _, err := srv.AddFault(salesforcetest.Fault{Method: "GET", Path: "*/jobs/query/*/results*", Times: -1, Latency: latency}); err != nil {
				b.Fatal(err)
			}
		}
		for _, conc := range []int{1, 4} {
			name := fmt.Sprintf("latency-%s/concurrency-%d", latency, conc)
			b.Run(name, func(b *testing.B) {
				e2eRun(b, c, n, extract.Options{API: extract.APIBulk2, Concurrency: conc, PageSize: 25_000})
			})
		}
	}
}
