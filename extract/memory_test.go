package extract_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
)

// syntheticBulk2 serves a Bulk API 2.0 query job whose total rows are
// generated on the fly, page by page, so the server holds nothing: it lets
// benchmarks measure the client's memory with any number of rows. Pages use
// the byte shapes of the protocol reference (§5): Sforce-Locator ("null" on
// the last page), Sforce-NumberOfRecords, a header row per page.
func syntheticBulk2(tb testing.TB, total int) *httptest.Server {
	tb.Helper()
	const jobID = "750000000000001AAA"
	job := func(state string) []byte {
		b, _ := json.Marshal(map[string]any{"id": jobID, "operation": "query", "object": "Contact", "state": state,
			"apiVersion": 62.0, "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"})
		return b
	}
	mux := http.NewServeMux()
	base := "/services/data/v62.0/jobs/query"
	mux.HandleFunc("POST "+base, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(job("UploadComplete"))
	})
	mux.HandleFunc("GET "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(job("JobComplete"))
	})
	mux.HandleFunc("DELETE "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET "+base+"/{id}/resultPages", func(w http.ResponseWriter, r *http.Request) {
		size, _ := strconv.Atoi(r.URL.Query().Get("maxRecords"))
		if size <= 0 {
			size = total
		}
		var pages []map[string]string
		for off := 0; off < total; off += size {
			pages = append(pages, map[string]string{"resultUrl": fmt.Sprintf("%s/%s/results?locator=%d&maxRecords=%d", base, jobID, off, size)})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"resultPages": pages, "done": true, "nextRecordsUrl": nil})
	})
	mux.HandleFunc("GET "+base+"/{id}/results", func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("locator"))
		size, _ := strconv.Atoi(r.URL.Query().Get("maxRecords"))
		if size <= 0 {
			size = total
		}
		end := min(off+size, total)
		next := "null"
		if end < total {
			next = strconv.Itoa(end)
		}
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Sforce-Locator", next)
		w.Header().Set("Sforce-NumberOfRecords", strconv.Itoa(end-off))
		bw := bufio.NewWriterSize(w, 64<<10)
		bw.WriteString("\"Id\",\"LastName\",\"Email\"\n")
		for i := off; i < end; i++ {
			fmt.Fprintf(bw, "\"003%015d\",\"Last%d\",\"c%d@example.com\"\n", i, i, i)
		}
		bw.Flush()
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv
}

// peakHeap samples the live heap every few milliseconds until stop is
// called, and returns the peak.
func peakHeap() (stop func() uint64) {
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			peak = max(peak, sample[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// BenchmarkMemory extracts 1M and 5M generated rows to CSV and reports the
// peak live heap, which must not depend on the number of rows.
//
//	go test ./extract -run '^$' -bench Memory -benchtime 1x
func BenchmarkMemory(b *testing.B) {
	for _, total := range []int{1_000_000, 5_000_000} {
		for _, conc := range []int{1, 4} {
			b.Run(fmt.Sprintf("rows-%d-concurrency-%d", total, conc), func(b *testing.B) {
				srv := syntheticBulk2(b, total)
				c, err := salesforce.New(srv.URL, salesforce.WithAccessToken("synthetic"))
				if err != nil {
					b.Fatal(err)
				}
				var peak uint64
				for b.Loop() {
					runtime.GC()
					stop := peakHeap()
					sum, err := extract.Run(b.Context(), c, fast(extract.Options{
						Query: contactQuery, API: extract.APIBulk2, Concurrency: conc, PageSize: 50_000,
						Output: io.Discard, TempDir: b.TempDir(),
					}))
					peak = max(peak, stop())
					if err != nil {
						b.Fatal(err)
					}
					if sum.Rows != int64(total) {
						b.Fatalf("%d rows, want %d", sum.Rows, total)
					}
				}
				b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			})
		}
	}
}

func TestSyntheticPages(t *testing.T) {
	t.Parallel()
	srv := syntheticBulk2(t, 1234)
	c, err := salesforce.New(srv.URL, salesforce.WithAccessToken("synthetic"))
	if err != nil {
		t.Fatal(err)
	}
	for _, conc := range []int{1, 3} {
		var out strings.Builder
		sum, err := extract.Run(t.Context(), c, fast(extract.Options{Query: contactQuery, API: extract.APIBulk2, Concurrency: conc, PageSize: 100, Output: &out}))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if sum.Rows != 1234 || sum.Pages != 13 || len(lines) != 1235 {
			t.Fatalf("concurrency %d: %d rows, %d pages, %d lines", conc, sum.Rows, sum.Pages, len(lines))
		}
		for i, l := range lines[1:] {
			if want := fmt.Sprintf("003%015d,Last%d,c%d@example.com", i, i, i); l != want {
				t.Fatalf("concurrency %d: line %d = %q, want %q", conc, i+2, l, want)
			}
		}
	}
}
