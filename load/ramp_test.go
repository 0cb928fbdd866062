package load

import (
	"slices"
	"testing"
)

// TestBulk2JobsRampUp: with no BatchSize a pass's Bulk API 2.0 jobs grow from
// FirstBulk2JobRecords, by as much per job, to DefaultBulk2JobRecords; every row is in exactly one job.
func TestBulk2JobsRampUp(t *testing.T) {
	t.Parallel()
	rows := contacts(75_000, "R")
	f := newFakeOrg()
	col := newCollector(t)
	sum, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, rows), col, fastOptions(Options{Object: "Contact", API: Bulk2}))
	if err != nil {
		t.Fatal(err)
	}
	col.check(len(rows))
	sizes := make([]int, len(sum.Jobs)) // by chunk index: jobs run at once and finish in any order
	for _, j := range sum.Jobs {
		if j.Batch < 0 || j.Batch >= len(sizes) {
			t.Fatalf("job %+v: chunk index out of range", j)
		}
		sizes[j.Batch] = j.Rows
	}
	if want := []int{10_000, 20_000, 30_000, 15_000}; !slices.Equal(sizes, want) {
		t.Errorf("job sizes %v, want %v", sizes, want)
	}
	if sum.Succeeded != int64(len(rows)) {
		t.Errorf("succeeded = %d", sum.Succeeded)
	}
}

func TestBulk2JobsEstimate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rows          int64
		batchSize     int
		jobs, batches int64
	}{
		{0, 0, 0, 0},
		{1, 0, 1, 1},
		{10_000, 0, 1, 1},
		{10_001, 0, 2, 2},
		{150_000, 0, 5, 15},          // 10k, 20k, 30k, 40k, 50k
		{1_000_000, 0, 15, 100},      // 550k in ten ramping jobs, then 4.5 jobs of 100k
		{1_000_000, 250_000, 4, 100}, // an explicit size is used for every job
		{25_000, 7_000, 4, 4},        // 7k, 7k, 7k, 4k
		{350_000, 0, 8, 35},          // 10k, 20k, 30k, 40k, 50k, 60k, 70k, 70k
		{100_000, 0, 4, 10},          // 10k, 20k, 30k, 40k: every batch slot busy
	} {
		jobs, batches := Bulk2Jobs(tc.rows, tc.batchSize)
		if jobs != tc.jobs || batches != tc.batches {
			t.Errorf("Bulk2Jobs(%d, %d) = %d jobs, %d batches; want %d, %d", tc.rows, tc.batchSize, jobs, batches, tc.jobs, tc.batches)
		}
	}
}
