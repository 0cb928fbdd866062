package org

import (
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sfbatch/sfbatch/emulator/clock"
)

// contactChunk returns n Contact inserts shaped like parsed CSV rows.
func contactChunk(start, n int) []WriteRequest {
	reqs := make([]WriteRequest, n)
	for i := range reqs {
		k := start + i
		reqs[i] = WriteRequest{Op: OpInsert, Object: "Contact", Fields: map[string]any{
			"FirstName":      "First" + strconv.Itoa(k%1000),
			"LastName":       "Last" + strconv.Itoa(k),
			"Email":          "user" + strconv.Itoa(k) + "@example.com",
			"Phone":          "555-0100",
			"Birthdate":      "1990-01-02",
			"External_Id__c": "C-" + strconv.Itoa(k),
		}}
	}
	return reqs
}

// columnar returns reqs in WriteRequest's columnar form, every row sharing
// one Columns slice, with Unset for a field a row does not set.
func columnar(reqs []WriteRequest) []WriteRequest {
	cols := []string{"FirstName", "LastName", "Email", "Phone", "Birthdate", "External_Id__c"}
	out := make([]WriteRequest, len(reqs))
	for i, r := range reqs {
		vals := make([]any, len(cols))
		for j, c := range cols {
			v, ok := r.Fields[c]
			if !ok {
				v = Unset{}
			}
			vals[j] = v
		}
		out[i] = WriteRequest{Op: r.Op, Object: r.Object, Columns: cols, Values: vals}
	}
	return out
}

// BenchmarkWriteInsertColumns is BenchmarkWriteInsert in the columnar form
// Bulk CSV inserts use.
func BenchmarkWriteInsertColumns(b *testing.B) {
	o := benchOrg(b)
	const chunk = 10000
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		reqs := columnar(contactChunk(i*chunk, chunk))
		b.StartTimer()
		res := o.Write(b.Context(), "", reqs, false)
		if !res[chunk-1].Success {
			b.Fatal(res[chunk-1].Errors)
		}
	}
	b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "records/s")
}

func benchOrg(b *testing.B) *Org {
	b.Helper()
	o, err := New(Options{Clock: clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))})
	if err != nil {
		b.Fatal(err)
	}
	return o
}

// BenchmarkWriteInsert inserts Contacts in 10,000-row Write calls.
func BenchmarkWriteInsert(b *testing.B) { benchInsert(b, benchOrg(b)) }

// benchInsert inserts Contacts into o in 10,000-row Write calls.
func benchInsert(b *testing.B, o *Org) {
	const chunk = 10000
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		reqs := contactChunk(i*chunk, chunk)
		b.StartTimer()
		res := o.Write(b.Context(), "", reqs, false)
		if !res[chunk-1].Success {
			b.Fatal(res[chunk-1].Errors)
		}
	}
	b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "records/s")
}

func loadContacts(b *testing.B, o *Org, n int) {
	b.Helper()
	const chunk = 10000
	for i := 0; i < n; i += chunk {
		res := o.Write(b.Context(), "", contactChunk(i, min(chunk, n-i)), false)
		if !res[0].Success {
			b.Fatal(res[0].Errors)
		}
	}
}

// BenchmarkQuery runs a filtered query over n Contacts and reads every row
// as CSV text.
func BenchmarkQuery(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			if testing.Short() && n > 100_000 {
				b.Skip("large")
			}
			o := benchOrg(b)
			loadContacts(b, o, n)
			b.ReportAllocs()
			b.ResetTimer()
			rows := 0
			start := processCPU(b)
			for range b.N {
				r, err := o.Query(b.Context(), "SELECT Id, FirstName, LastName, Email, Account.Name FROM Contact WHERE Email LIKE 'user%' AND IsDeleted = false", false)
				if err != nil {
					b.Fatal(err)
				}
				for i := range r.Len() {
					for c := range r.Columns {
						_ = r.Text(i, c) // as a Bulk CSV result reads it
					}
				}
				rows += r.Len()
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64((processCPU(b)-start).Nanoseconds())/float64(rows), "cpu-ns/row")
		})
	}
}

// BenchmarkWriteInsertDataFile is BenchmarkWriteInsert with a SQLite data
// file (write-through, one transaction per Write call).
func BenchmarkWriteInsertDataFile(b *testing.B) {
	o, err := New(Options{DataFile: b.TempDir() + "/org.db", Clock: clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))})
	if err != nil {
		b.Fatal(err)
	}
	defer o.Close()
	benchInsert(b, o)
}

// BenchmarkQueryOrderBy sorts 100,000 Contacts by a text field.
func BenchmarkQueryOrderBy(b *testing.B) {
	o := benchOrg(b)
	loadContacts(b, o, 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	rows := 0
	for range b.N {
		r, err := o.Query(b.Context(), "SELECT Id, LastName FROM Contact ORDER BY LastName DESC NULLS LAST", false)
		if err != nil {
			b.Fatal(err)
		}
		rows += r.Len()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkWriteUpsertUpdate upserts 10,000-row chunks by External_Id__c
// onto existing Contacts (the update path).
func BenchmarkWriteUpsertUpdate(b *testing.B) {
	const chunk = 10000
	o := benchOrg(b)
	loadContacts(b, o, chunk)
	reqs := contactChunk(0, chunk)
	for i := range reqs {
		reqs[i].Op, reqs[i].ExternalIDField = OpUpsert, "External_Id__c"
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		res := o.Write(b.Context(), "", reqs, false)
		if !res[chunk-1].Success || res[chunk-1].Created {
			b.Fatal(res[chunk-1])
		}
	}
	b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "records/s")
}

// processCPU is the CPU time the process has used so far (user and
// system, every goroutine: the garbage collector's work too).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
