package bulk

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/org"
)

const benchRows = 1_000_000

func benchCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("FirstName,LastName,Email\n")
	for i := range n {
		fmt.Fprintf(&b, "F%d,Bench,bench.%d@example.com\n", i, i)
	}
	return b.Bytes()
}

// BenchmarkIngest1M loads 1M Contacts through Bulk 2.0 over loopback HTTP:
// create, one PUT, UploadComplete, wait for JobComplete. cpu-ns/row is the
// process's CPU time (user and system, all goroutines: the emulator and the
// in-process client) over the timed part, per row.
//
//	go test ./emulator/bulk -run '^$' -bench Ingest1M -benchtime 1x
func BenchmarkIngest1M(b *testing.B) { benchIngest(b, benchRows, Options{}) }

// BenchmarkIngestProfiles loads 100,000 Contacts under each processing
// profile on the wall clock. The Realistic profile's modelled time is
// waited on timers, so its cpu-ns/row stays that of Instant while its
// records/s follows the model: its x-model metric is the wall time over
// the profile's own floor (modelFloor), 1.0 when the emulator's work hides
// entirely inside the modelled time.
//
//	go test ./emulator/bulk -run '^$' -bench IngestProfiles -benchtime 1x
func BenchmarkIngestProfiles(b *testing.B) {
	b.Run("instant", func(b *testing.B) { benchIngest(b, 100_000, Options{}) })
	b.Run("realistic", func(b *testing.B) { benchIngest(b, 100_000, Options{Profile: DefaultRealistic()}) })
	b.Run("instant-datafile", func(b *testing.B) {
		benchIngest(b, 100_000, Options{DataFile: filepath.Join(b.TempDir(), "org.db")})
	})
}

func benchIngest(b *testing.B, rows int, opts Options) {
	data := benchCSV(rows)
	b.SetBytes(int64(len(data)))
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, opts)
		start := processCPU(b)
		b.StartTimer()
		id := e.benchCreate(b)
		e.benchDo(b, "PUT", dataV+"/jobs/ingest/"+id+"/batches", "text/csv", bytes.NewReader(data), 201)
		e.benchDo(b, "PATCH", dataV+"/jobs/ingest/"+id, jsonCT, strings.NewReader(`{"state":"UploadComplete"}`), 200)
		if err := e.svc.WaitIdle(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += processCPU(b) - start
		if n := e.org.Count("Contact"); n != rows {
			b.Fatalf("%d contacts", n)
		}
		e.close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(rows*b.N), "cpu-ns/row")
	if r, ok := opts.Profile.(Realistic); ok {
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/modelFloor(r, rows).Seconds(), "x-model")
	}
}

// BenchmarkIngestBulk1 loads 100,000 Contacts through Bulk API 1.0 over
// loopback HTTP: one CSV job of ten 10,000-row batches, closed, until the
// batches are done. cpu-ns/row as in BenchmarkIngest1M.
//
//	go test ./emulator/bulk -run '^$' -bench IngestBulk1 -benchtime 1x
func BenchmarkIngestBulk1(b *testing.B) {
	const rows, batches = 100_000, 10
	data := benchCSV(rows)
	lines := strings.SplitAfter(string(data), "\n")
	hdr, lines := lines[0], lines[1:len(lines)-1]
	var parts []string
	for i := 0; i < rows; i += rows / batches {
		parts = append(parts, hdr+strings.Join(lines[i:i+rows/batches], ""))
	}
	b.SetBytes(int64(len(data)))
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, Options{})
		start := processCPU(b)
		b.StartTimer()
		id := e.createBulk1Job("insert", "Contact", "", "CSV")
		for _, p := range parts {
			e.addBatch(id, "text/csv", p)
		}
		wantStatus(b, e.do("POST", asyncV+"/job/"+id, xmlCT, closeXML), 200)
		if err := e.svc.WaitIdle(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += processCPU(b) - start
		if n := e.org.Count("Contact"); n != rows {
			b.Fatalf("%d contacts", n)
		}
		e.close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(rows*b.N), "cpu-ns/row")
}

// modelFloor is the Realistic profile's own time for one job of rows
// records: its batches of MaxBatchRecords, MaxConcurrentBatches at a time,
// each BatchStartLatency plus PerRecordCost per record.
func modelFloor(r Realistic, rows int) time.Duration {
	batches := (rows + MaxBatchRecords - 1) / MaxBatchRecords
	rounds := (batches + r.MaxConcurrentBatches - 1) / r.MaxConcurrentBatches
	return time.Duration(rounds) * (r.BatchStartLatency + time.Duration(min(rows, MaxBatchRecords))*r.PerRecordCost)
}

// BenchmarkQuery1M serves 1M Contacts as Bulk 2.0 query results (one page)
// over loopback HTTP, from job create to the last byte. cpu-ns/row is the
// process's CPU time over the timed part, per row.
//
//	go test ./emulator/bulk -run '^$' -bench Query1M -benchtime 1x
func BenchmarkQuery1M(b *testing.B) {
	e := newEnv(b, Options{})
	defer e.close()
	reqs := make([]org.WriteRequest, 0, 10_000)
	for i := range benchRows {
		reqs = append(reqs, org.WriteRequest{Op: org.OpInsert, Object: "Contact", Fields: map[string]any{"FirstName": fmt.Sprintf("F%d", i), "LastName": "Bench", "Email": fmt.Sprintf("bench.%d@example.com", i)}})
		if len(reqs) == cap(reqs) {
			e.org.Write(b.Context(), e.org.DefaultUserID(), reqs, false)
			reqs = reqs[:0]
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for b.Loop() {
		start := processCPU(b)
		res := e.benchDo(b, "POST", dataV+"/jobs/query", jsonCT, strings.NewReader(`{"operation":"query","query":"SELECT Id, FirstName, LastName, Email FROM Contact"}`), 200)
		id := jsonMap(b, res)["id"].(string)
		if err := e.svc.WaitIdle(b.Context()); err != nil {
			b.Fatal(err)
		}
		req, _ := http.NewRequestWithContext(b.Context(), "GET", e.srv.URL+dataV+"/jobs/query/"+id+"/results", nil)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, r.Body)
		r.Body.Close()
		b.SetBytes(n)
		cpu += processCPU(b) - start
		if r.Header.Get("Sforce-NumberOfRecords") != fmt.Sprint(benchRows) {
			b.Fatalf("records %s", r.Header.Get("Sforce-NumberOfRecords"))
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(benchRows*b.N), "cpu-ns/row")
}

func (e *env) benchCreate(b *testing.B) string {
	body := e.benchDo(b, "POST", dataV+"/jobs/ingest", jsonCT, strings.NewReader(`{"object":"Contact","operation":"insert"}`), 200)
	return jsonMap(b, body)["id"].(string)
}

func (e *env) benchDo(b testing.TB, method, path, ct string, body io.Reader, status int) string {
	req, _ := http.NewRequestWithContext(b.Context(), method, e.srv.URL+path, body)
	req.Header.Set("Content-Type", ct)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		b.Fatalf("%s %s: %d %s", method, path, res.StatusCode, out)
	}
	return string(out)
}

// processCPU is the CPU time the process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
