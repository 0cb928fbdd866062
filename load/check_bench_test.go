package load

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCheckStructure is the first pass the CLI makes over a CSV file before the first
// upload, at 1,000,000 contact rows (about 80 MB):
//
//	go test ./load -run '^$' -bench CheckStructure -benchtime 1x
func BenchmarkCheckStructure(b *testing.B) {
	const rows = 1_000_000
	path := filepath.Join(b.TempDir(), "contacts.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "External_Id__c,FirstName,LastName,Email,Title")
	for i := range rows {
		fmt.Fprintf(w, "C-%07d,First%d,\"Last, %d\",c%d@example.com,Engineer\n", i, i, i, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	b.SetBytes(st.Size())
	b.ResetTimer()
	for b.Loop() {
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		n, bad, err := CheckStructure(CSVSource(in, "contacts.csv", CSVOptions{}))
		in.Close()
		if err != nil || n != rows || bad != 0 {
			b.Fatalf("CheckStructure = %d, %d, %v", n, bad, err)
		}
	}
}
