package jobstore

import (
	"fmt"
	"path/filepath"
	"testing"
)

func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.CreateRun(b.Context(), Run{ID: "r", Object: "Contact", Operation: "insert"}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkJobLifecycle records a job and moves it through every state, as
// the load engine does once per Bulk API job.
func BenchmarkJobLifecycle(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id := fmt.Sprintf("750%012d", i)
		first := int64(i)*10000 + 2
		if err := s.RecordJob(ctx, JobRecord{RunID: "r", JobID: id, API: APIBulk2, FirstRow: first, LastRow: first + 9999}); err != nil {
			b.Fatal(err)
		}
		for _, st := range []JobState{JobUploaded, JobClosed, JobResultsFetched} {
			if err := s.UpdateJobState(ctx, "r", id, st); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.MarkRowsDone(ctx, "r", first, first+9999); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkMarkRowsDoneScattered marks every other row, so ranges do not
// merge and the table grows.
func BenchmarkMarkRowsDoneScattered(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	b.ReportAllocs()
	var row int64 = 2
	for b.Loop() {
		if err := s.MarkRowsDone(ctx, "r", row, row); err != nil {
			b.Fatal(err)
		}
		row += 2
	}
}
