package load

import (
	"fmt"
	"hash/maphash"
	"io"
	"testing"
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
	r := &run{cfg: cfg, seed: maphash.MakeSeed(), header: make([]string, 10)}
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
