package load

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

func benchRows(n int) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("EXT-%08d", i), "Ada", fmt.Sprintf("Lovelace%d", i), "Ms.", fmt.Sprintf("ada%d@example.com", i),
			"+44 20 7946 0000", "false", "1815-12-10", "London", "Analyst, \"Engine\" notes"}
	}
	return rows
}

// BenchmarkEncodeSplitJoin measures the engine's client-side work per row for Bulk API 2.0:
// encoding the row, hashing it for the result join, appending it to its chunk file, and
// matching its result back (index build plus one lookup).
func BenchmarkEncodeSplitJoin(b *testing.B) {
	cfg, err := (Options{Object: "Contact"}).resolve()
	if err != nil {
		b.Fatal(err)
	}
	rows := benchRows(10_000)
	r := &run{cfg: cfg, seed: rand.Uint64(), header: make([]string, 10)}
	enc := newEncoder(cfg)
	const chunkRows = 10_000
	c := &chunk{}
	w := &countWriter{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vals := rows[i%len(rows)]
		buf, size, err := enc.encode(vals)
		if err != nil {
			b.Fatal(err)
		}
		w.Write(buf)
		c.rows = append(c.rows, rowMeta{num: int64(i + 1), hash: r.rowHash(vals)})
		c.bytes += int64(size.Bytes)
		if len(c.rows) == chunkRows || i == b.N-1 {
			j := newJoin(c)
			for k := range c.rows {
				if j.take(c.rows[k].hash) < 0 {
					b.Fatal("join lost a row")
				}
			}
			c.rows = c.rows[:0]
		}
	}
	b.ReportMetric(float64(w.n)/float64(b.N), "bytes/row")
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)

// benchJobRows is the rows of one job in the result benchmarks.
const benchJobRows = 10_000

// benchResultFile returns a successfulResults file for rows, as Salesforce writes one: every
// field quoted, sf__Id and sf__Created first, rows in upload order.
func benchResultFile(b *testing.B, header []string, rows [][]string) []byte {
	b.Helper()
	opts := sfcsv.WriterOptions{QuoteAll: true}
	out, _, err := sfcsv.AppendRecord(nil, append([]string{"sf__Id", "sf__Created"}, header...), opts)
	if err != nil {
		b.Fatal(err)
	}
	for i, vals := range rows {
		if out, _, err = sfcsv.AppendRecord(out, append([]string{fmt.Sprintf("003%015d", i), "true"}, vals...), opts); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// BenchmarkResultJoin measures joining a Bulk API 2.0 successfulResults file to its job's
// rows: parse, hash, match, resolve and emit (no sink). One op is one result row.
func BenchmarkResultJoin(b *testing.B) {
	cfg, err := (Options{Object: "Contact"}).resolve()
	if err != nil {
		b.Fatal(err)
	}
	header := []string{"External_Id__c", "FirstName", "LastName", "Salutation", "Email", "Phone", "DoNotCall", "Birthdate", "MailingCity", "Description"}
	rows := benchRows(benchJobRows)
	r := &run{cfg: cfg, seed: rand.Uint64(), header: header, sum: Summary{ErrorCodes: map[string]int64{}}}
	metas := make([]rowMeta, len(rows))
	for i, vals := range rows {
		metas[i] = rowMeta{num: int64(i + 1), hash: r.rowHash(vals)}
	}
	body := benchResultFile(b, header, rows)
	job := &salesforce.IngestJob{ID: "750000000000001", State: salesforce.JobStateJobComplete}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchCPU()
	defer reportCPU(b, cpu0)
	for done := 0; done < b.N; {
		n := min(benchJobRows, b.N-done)
		b.StopTimer()
		r.done, r.sum = rowSet{}, Summary{ErrorCodes: map[string]int64{}}
		c := &chunk{rows: metas[:n]}
		in := body
		if n < benchJobRows {
			in = benchResultFile(b, header, rows[:n])
		}
		b.StartTimer()
		j := newResultJoiner(r, c, job)
		if err := j.joinFile(resultsSuccessful, bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
		if j.unmatched != 0 || r.sum.Succeeded != int64(n) {
			b.Fatalf("%d unmatched, %d succeeded, want %d", j.unmatched, r.sum.Succeeded, n)
		}
		done += n
	}
}

// BenchmarkCSVFilesWrite measures the result files: one op is one row's result written to
// results.csv and its outcome's file, Close included. in-order: jobs finish in input order;
// jobs-reversed: each group of 4 jobs of benchJobRows rows finishes last first (rows wait in the reorder buffer
// and spilled runs); merge: the part-file merging writer a resumed load uses.
func BenchmarkCSVFilesWrite(b *testing.B) {
	header := []string{"External_Id__c", "FirstName", "LastName", "Salutation", "Email", "Phone", "DoNotCall", "Birthdate", "MailingCity", "Description"}
	rows := benchRows(benchJobRows)
	for _, bc := range []string{"in-order", "jobs-reversed", "merge"} {
		b.Run(bc, func(b *testing.B) {
			dir := b.TempDir()
			s, err := CSVSinks(dir)
			if err != nil {
				b.Fatal(err)
			}
			if bc == "merge" {
				s.merge = true
			}
			if err := s.Start(header); err != nil {
				b.Fatal(err)
			}
			const job, group = benchJobRows, 4
			order := make([]int64, 0, b.N)
			for lo := 0; lo < b.N; lo += job * group {
				for k := group - 1; k >= 0; k-- {
					jk := k
					if bc != "jobs-reversed" {
						jk = group - 1 - k
					}
					for i := lo + jk*job; i < min(lo+(jk+1)*job, b.N); i++ {
						order = append(order, int64(i+1))
					}
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := benchCPU()
			defer reportCPU(b, cpu0)
			for k, row := range order {
				res := RowResult{Row: row, Outcome: Succeeded, ID: "003000000000001AAA", Created: true, Values: rows[(row-1)%benchJobRows]}
				if err := s.Write(&res); err != nil {
					b.Fatal(err)
				}
				if k%job == job-1 {
					if err := s.Sync(); err != nil { // a job finished
						b.Fatal(err)
					}
				}
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// benchCPU returns the process's user+system CPU time: on a shared machine the CPU a hot
// path takes says more than its wall time.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per op since cpu0 as cpu-ns/op.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(benchCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkResultJoinFiles measures the whole result side of a Bulk API 2.0 job per result
// row: parse, hash, match, resolve, format and write results.csv and success.csv (a
// CSVFiles sink, jobs in order, synced after each job), Close included. plain: no value
// needs quotes; quoted: one value per row holds the delimiter and quotes.
func BenchmarkResultJoinFiles(b *testing.B) {
	for _, bc := range []string{"plain", "quoted"} {
		b.Run(bc, func(b *testing.B) { benchResultJoinFiles(b, bc == "quoted") })
	}
}

func benchResultJoinFiles(b *testing.B, quoted bool) {
	header := []string{"External_Id__c", "FirstName", "LastName", "Salutation", "Email", "Phone", "DoNotCall", "Birthdate", "MailingCity", "Description"}
	rows := benchRows(benchJobRows)
	for i := range rows {
		if !quoted {
			rows[i][9] = "Analyst notes"
		}
	}
	s, err := CSVSinks(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(header); err != nil {
		b.Fatal(err)
	}
	r, _ := joinRun(b, header, nil, s)
	metas := make([]rowMeta, len(rows))
	for i, vals := range rows {
		metas[i] = rowMeta{hash: r.rowHash(vals)}
	}
	body := benchResultFile(b, header, rows)
	job := &salesforce.IngestJob{ID: "750000000000001", State: salesforce.JobStateJobComplete}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchCPU()
	for done := 0; done < b.N; {
		n := min(benchJobRows, b.N-done)
		b.StopTimer()
		c := &chunk{jobID: job.ID, rows: make([]rowMeta, n)}
		for i := range c.rows {
			c.rows[i] = metas[i]
			c.rows[i].num = int64(done + i + 1)
		}
		in := body
		if n < benchJobRows {
			in = benchResultFile(b, header, rows[:n])
		}
		b.StartTimer()
		j := newResultJoiner(r, c, job)
		if err := j.joinFile(resultsSuccessful, bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
		if err := s.Sync(); err != nil {
			b.Fatal(err)
		}
		done += n
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	reportCPU(b, cpu0)
	if r.sum.Succeeded != int64(b.N) {
		b.Fatalf("%d succeeded, want %d", r.sum.Succeeded, b.N)
	}
}

// BenchmarkResultScanner measures splitting a Bulk API 2.0 result file (every field quoted)
// into records of fields: one op is one record.
func BenchmarkResultScanner(b *testing.B) {
	header := []string{"External_Id__c", "FirstName", "LastName", "Salutation", "Email", "Phone", "DoNotCall", "Birthdate", "MailingCity", "Description"}
	body := benchResultFile(b, header, benchRows(benchJobRows))
	b.SetBytes(int64(len(body) / (benchJobRows + 1)))
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		sc := newResultScanner(bytes.NewReader(body), sfcsv.Comma, "bench")
		for ; done < b.N; done++ {
			if _, err := sc.next(); err != nil {
				if err == io.EOF {
					break
				}
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRowHash measures the join hash of one row on both sides: rows: run.rowHash of a
// row's values as the chunker computes it; gather: resultJoiner.gather of a result record.
func BenchmarkRowHash(b *testing.B) {
	header := []string{"External_Id__c", "FirstName", "LastName", "Salutation", "Email", "Phone", "DoNotCall", "Birthdate", "MailingCity", "Description"}
	rows := benchRows(1024)
	r, c := joinRun(b, header, nil, nil)
	b.Run("rows", func(b *testing.B) {
		b.ReportAllocs()
		var sum uint64
		cpu0 := benchCPU()
		for i := 0; b.Loop(); i++ {
			sum += r.rowHash(rows[i%len(rows)]).Lo
		}
		reportCPU(b, cpu0)
		_ = sum
	})
	b.Run("gather", func(b *testing.B) {
		j := newResultJoiner(r, c, &salesforce.IngestJob{ID: "x"})
		cols := newResultColumns(header, append([]string{"sf__Id", "sf__Created"}, header...))
		recs := make([][][]byte, len(rows))
		for i, vals := range rows {
			recs[i] = [][]byte{[]byte("003000000000001AAA"), []byte("true")}
			for _, v := range vals {
				recs[i] = append(recs[i], []byte(v))
			}
		}
		b.ReportAllocs()
		var sum uint64
		cpu0 := benchCPU()
		for i := 0; b.Loop(); i++ {
			sum += j.gather(cols, recs[i%len(recs)]).Lo
		}
		reportCPU(b, cpu0)
		_ = sum
	})
}
