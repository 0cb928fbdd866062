package cli

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/salesforcetest"
)

// eventsBenchRows is BenchmarkLoadEventLog's row count when SFBATCH_BENCH_ROWS is unset.
const eventsBenchRows = 50_000

// BenchmarkLoadEventLog measures what events.jsonl costs a load: the same Bulk API 2.0
// insert into a fresh in-process emulator org (instant profile, loopback HTTP), with the
// result files the CLI writes, without and with the run folder's event log (every engine
// event through eventLog, the engine's and the client's log through logHandler). The row
// count comes from SFBATCH_BENCH_ROWS:
//
//	SFBATCH_BENCH_ROWS=300000 go test ./internal/cli -run '^$' -bench LoadEventLog -benchtime 3x
func BenchmarkLoadEventLog(b *testing.B) {
	n := eventsBenchRows
	if s := os.Getenv("SFBATCH_BENCH_ROWS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("SFBATCH_BENCH_ROWS=%q", s)
		}
		n = v
	}
	input := filepath.Join(b.TempDir(), "contacts.csv")
	f, err := os.Create(input)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "FirstName,LastName,Email,Phone,Description")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "First%d,Last%d,c%d@example.com,(555) %07d,\"Imported, batch %d\"\n", i, i, i, i, i%100)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	for _, events := range []bool{false, true} {
		name := "no-events"
		if events {
			name = "events"
		}
		b.Run(name, func(b *testing.B) {
			var lines, bytes int64
			b.StopTimer()
			for range b.N {
				srv, err := salesforcetest.Start(salesforcetest.WithoutTLS())
				if err != nil {
					b.Fatal(err)
				}
				dir := b.TempDir()
				var l *eventLog
				var log *slog.Logger
				opts := load.Options{Object: "Contact", Operation: load.Insert, API: load.Bulk2, TempDir: b.TempDir()}
				if events {
					if l, err = openEventLog(dir); err != nil {
						b.Fatal(err)
					}
					log = slog.New(logHandler{l: l})
					opts.Progress, opts.Logger = l, log
				}
				copts := []salesforce.Option{salesforce.WithHTTPClient(srv.Client()), salesforce.WithAccessToken(srv.AccessToken())}
				if log != nil {
					copts = append(copts, salesforce.WithLogger(log))
				}
				c, err := salesforce.New(srv.URL(), copts...)
				if err != nil {
					b.Fatal(err)
				}
				in, err := os.Open(input)
				if err != nil {
					b.Fatal(err)
				}
				sinks, err := load.CSVSinks(dir)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				var stop func()
				if l != nil {
					stop = watchUsage(b.Context(), c, l)
				}
				sum, err := load.Load(b.Context(), c, load.CSVSource(in, "contacts.csv", load.CSVOptions{}), sinks, opts)
				if err == nil {
					err = sinks.Close()
				}
				if stop != nil {
					stop()
				}
				b.StopTimer()
				in.Close()
				srv.Close()
				if err != nil {
					b.Fatal(err)
				}
				if sum.Succeeded != int64(n) {
					b.Fatalf("%d of %d rows succeeded", sum.Succeeded, n)
				}
				if l != nil {
					l.close()
					st, err := os.Stat(filepath.Join(dir, eventsFile))
					if err != nil {
						b.Fatal(err)
					}
					bytes = st.Size()
					lines = int64(len(readEventsB(b, filepath.Join(dir, eventsFile))))
				}
			}
			b.StartTimer()
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			if events {
				b.ReportMetric(float64(lines), "events")
				b.ReportMetric(float64(bytes), "event-bytes")
			}
		})
	}
}

// readEventsB counts the lines of an events.jsonl.
func readEventsB(b *testing.B, path string) []string {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// BenchmarkEventLogEvent measures one job transition written to events.jsonl (JSON and one
// write), and one event the log passes on without writing (rows read, rows done).
func BenchmarkEventLogEvent(b *testing.B) {
	l, err := openEventLog(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer l.close()
	b.Run("job-state", func(b *testing.B) {
		e := load.Event{Kind: load.JobState, API: load.Bulk2, JobID: "750xx0000000001AAA", State: "InProgress"}
		for b.Loop() {
			l.Event(e)
		}
	})
	b.Run("rows-done", func(b *testing.B) {
		e := load.Event{Kind: load.RowsDone, API: load.Bulk2, Rows: 10000, Total: 20000}
		for b.Loop() {
			l.Event(e)
		}
	})
}
