package load_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
)

// BenchmarkExternalInsertBulk2 loads SFBATCH_BENCH_ROWS Contacts (default 1,000,000) through
// Bulk API 2.0 into an org running in another process, so the loading process's own memory
// and CPU can be measured. It runs only when SFBATCH_BENCH_URL and SFBATCH_BENCH_TOKEN are
// set, for example against `sfbatch emulator --no-tls --json`:
//
//	SFBATCH_BENCH_URL=http://127.0.0.1:18443 SFBATCH_BENCH_TOKEN=... \
//	  /usr/bin/time -v go test ./load -run '^$' -bench ExternalInsertBulk2 -benchtime 1x
//
// SFBATCH_BENCH_ROWS sets the row count; SFBATCH_BENCH_KEYS caps the distinct external ids.
func BenchmarkExternalInsertBulk2(b *testing.B) {
	url, token := os.Getenv("SFBATCH_BENCH_URL"), os.Getenv("SFBATCH_BENCH_TOKEN")
	if url == "" || token == "" {
		b.Skip("SFBATCH_BENCH_URL and SFBATCH_BENCH_TOKEN not set")
	}
	n := 1_000_000
	if s := os.Getenv("SFBATCH_BENCH_ROWS"); s != "" {
		fmt.Sscan(s, &n)
	}
	// SFBATCH_BENCH_KEYS caps the distinct external ids (rows cycle through them), so a
	// large run updates records instead of growing the org without bound.
	keys := n
	if s := os.Getenv("SFBATCH_BENCH_KEYS"); s != "" {
		fmt.Sscan(s, &keys)
	}
	path := filepath.Join(b.TempDir(), "contacts.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "External_Id__c,FirstName,LastName,Salutation,Email,Phone,DoNotCall,Birthdate,MailingCity,Description")
	for i := 1; i <= n; i++ {
		k := (i-1)%keys + 1
		fmt.Fprintf(w, "X-%09d,Ada,Lovelace%d,Ms.,ada%d@example.com,+44 20 7946 0000,false,1815-12-10,London,\"Analyst, \"\"Engine\"\" notes\"\n", k, i, k)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	c, err := salesforce.New(url, salesforce.WithAccessToken(token))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		var ok int64
		sum, err := load.Load(b.Context(), c, load.CSVSource(in, "contacts.csv", load.CSVOptions{}), load.SinkFunc(func(r *load.RowResult) error {
			if r.Outcome == load.Succeeded {
				ok++
			}
			return nil
		}), load.Options{Object: "Contact", API: load.Bulk2, Operation: load.Upsert, ExternalIDField: "External_Id__c", Preflight: load.PreflightOff})
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
		if sum.Succeeded != int64(n) || ok != int64(n) {
			b.Fatalf("summary %+v", sum)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")
	}
}
