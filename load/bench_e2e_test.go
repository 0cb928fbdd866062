package load_test

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
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// End-to-end load benchmarks: the load engine and the emulator in one
// process, talking Bulk API 2.0 over loopback HTTP (instant profile).
//
// They only run with -bench. The row count comes from SFBATCH_BENCH_ROWS
// (default e2eDefaultRows, so that `go test -bench .` stays short); the
// figures quoted for the project use one million rows:
//
//	SFBATCH_BENCH_ROWS=1000000 go test ./load -run '^$' -bench E2E -benchtime 1x -cpuprofile cpu.out
//
// Goroutines carry the pprof label side=client (the engine and the HTTP
// client it starts) or side=emulator (the server and its workers), so the
// client's share of a CPU profile is
//
//	go tool pprof -tagfocus side=client -top load.test cpu.out
//
// scripts/bench does this and splits the client's CPU by phase.

// e2eDefaultRows is the row count when SFBATCH_BENCH_ROWS is unset.
const e2eDefaultRows = 200_000

// e2eHeader is the benchmark's Contact header (ten fields, one of them a
// unique external id, one needing CSV quoting). scripts/bench generates the
// same rows with awk for the two-process runs.
const e2eHeader = "External_Id__c,FirstName,LastName,Salutation,Email,Phone,DoNotCall,Birthdate,MailingCity,Description\n"

// e2eSalutation is row i's Salutation.
func e2eSalutation(i int) string { return [...]string{"Mr.", "Ms.", "Dr."}[i%3] }

// e2eAppendRow appends data row i (1-based) as CSV to dst.
func e2eAppendRow(dst []byte, i int) []byte {
	dst = fmt.Appendf(dst, "E%09d,First%d,Last%d,%s,c%d@example.com,(555) %03d-%04d,%t,%04d-%02d-%02d,City %d,\"Imported, batch %d\"\n",
		i, i, i, e2eSalutation(i), i, i/10000%1000, i%10000, i%2 == 0, 1950+i%50, 1+i%12, 1+i%28, i%1000, i%100)
	return dst
}

// e2eRows returns the benchmark's row count.
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

// e2eWriteCSV writes the header and n rows to a file in dir.
func e2eWriteCSV(b *testing.B, dir string, n int) string {
	b.Helper()
	path := filepath.Join(dir, fmt.Sprintf("contacts-%d.csv", n))
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	line := []byte(e2eHeader)
	for i := 1; i <= n; i++ {
		if _, err := w.Write(line); err != nil {
			b.Fatal(err)
		}
		line = e2eAppendRow(line[:0], i)
	}
	if _, err := w.Write(line); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// e2eOrg starts an emulator (plain HTTP on loopback, instant profile) whose
// goroutines carry the label side=emulator, and a client for it.
func e2eOrg(b *testing.B, opts ...salesforcetest.Option) (*salesforcetest.Server, *salesforce.Client) {
	b.Helper()
	var srv *salesforcetest.Server
	var err error
	pprof.Do(context.Background(), pprof.Labels("side", "emulator"), func(context.Context) {
		srv, err = salesforcetest.Start(append([]salesforcetest.Option{salesforcetest.WithoutTLS()}, opts...)...)
	})
	if err != nil {
		b.Fatal(err)
	}
	c, err := salesforce.New(srv.URL(), salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken()))
	if err != nil {
		srv.Close()
		b.Fatal(err)
	}
	return srv, c
}

// e2eTimeline logs job events with the time since the first event, to
// show how reading, uploads and processing overlap (SFBATCH_BENCH_DEBUG).
func e2eTimeline(start *time.Time) load.Progress {
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%8.3fs "+format+"\n", append([]any{time.Since(*start).Seconds()}, args...)...)
	}
	return load.ProgressFunc(func(e load.Event) {
		switch e.Kind {
		case load.RowsRead:
			if e.Total%100_000 != 0 {
				return
			}
			logf("read %d rows", e.Total)
		case load.JobState:
			logf("job %s %s", e.JobID, e.State)
		case load.BytesUploaded:
			logf("job %s uploaded %d bytes", e.JobID, e.Bytes)
		case load.RowsDone:
			logf("job %s results joined (%d rows)", e.JobID, e.Rows)
		}
	})
}

// e2eCountLines counts the lines of a file (the benchmark's rows have no
// quoted line breaks).
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

// e2eCPU returns the process's user+system CPU time.
func e2eCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkE2EInsertBulk2 inserts SFBATCH_BENCH_ROWS Contacts from a CSV
// file through Bulk API 2.0 into a fresh emulator org each iteration and
// checks that every row succeeded and the org holds every record.
//
// Sub-benchmarks: default Options (what the CLI uses, preflight on) with a
// counting sink, the same with CSVFiles result files (what the CLI writes),
// preflight off, and status polls every 20-200 ms instead of 250 ms-30 s
// (how much of the wall time is waiting for the next poll). Metrics: rows/s
// (wall), cpu-µs/row (whole process, client and emulator), jobs.
func BenchmarkE2EInsertBulk2(b *testing.B) {
	n := e2eRows(b)
	input := e2eWriteCSV(b, b.TempDir(), n)
	for _, bc := range []struct {
		name     string
		opts     load.Options
		csvFiles bool
	}{
		{"defaults", load.Options{}, false},
		{"defaults-csvfiles", load.Options{}, true},
		{"no-preflight", load.Options{Preflight: load.PreflightOff}, false},
		{"fast-poll", load.Options{MinPollInterval: 20 * time.Millisecond, MaxPollInterval: 200 * time.Millisecond}, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := bc.opts
			opts.Object, opts.API, opts.TempDir = "Contact", load.Bulk2, b.TempDir()
			var start time.Time
			if os.Getenv("SFBATCH_BENCH_DEBUG") != "" {
				opts.Progress = e2eTimeline(&start)
				opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			var cpu time.Duration
			var jobs int
			for b.Loop() {
				b.StopTimer()
				srv, c := e2eOrg(b)
				f, err := os.Open(input)
				if err != nil {
					b.Fatal(err)
				}
				var ok, bad atomic.Int64
				var sink load.Sink = load.SinkFunc(func(r *load.RowResult) error {
					if r.Outcome == load.Succeeded && r.Created && r.ID != "" {
						ok.Add(1)
					} else {
						bad.Add(1)
					}
					return nil
				})
				var files *load.CSVFiles
				resultDir := filepath.Join(b.TempDir(), "results")
				if bc.csvFiles {
					if files, err = load.CSVSinks(resultDir); err != nil {
						b.Fatal(err)
					}
					sink = load.MultiSink(sink, files)
				}
				cpu0 := e2eCPU()
				start = time.Now()
				b.StartTimer()
				var sum *load.Summary
				pprof.Do(b.Context(), pprof.Labels("side", "client"), func(ctx context.Context) {
					sum, err = load.Load(ctx, c, load.CSVSource(f, "contacts.csv", load.CSVOptions{}), sink, opts)
					if err == nil && files != nil {
						err = files.Close()
					}
				})
				b.StopTimer()
				cpu += e2eCPU() - cpu0
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				if sum.Rows != int64(n) || sum.Succeeded != int64(n) || sum.Created != int64(n) || ok.Load() != int64(n) || bad.Load() != 0 {
					b.Fatalf("summary %+v; sink saw %d succeeded, %d other; want %d created", sum, ok.Load(), bad.Load(), n)
				}
				if got := srv.Count("Contact"); got != n {
					b.Fatalf("org holds %d Contacts, want %d", got, n)
				}
				if files != nil {
					if lines := e2eCountLines(b, filepath.Join(resultDir, load.SuccessFile)); lines != n+1 {
						b.Fatalf("%s has %d lines, want %d", load.SuccessFile, lines, n+1)
					}
				}
				jobs = len(sum.Jobs)
				srv.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-µs/row")
			b.ReportMetric(float64(jobs), "jobs")
		})
	}
}
