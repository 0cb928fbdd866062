package jobstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2024, 1, 3, 23, 52, 1, 0, time.UTC)

func fixedClock() func() time.Time { return func() time.Time { return t0 } }

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := Open(t.Context(), path, WithClock(fixedClock()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func newRun(t *testing.T, s *Store, id string) Run {
	t.Helper()
	r := Run{ID: id, Object: "Contact", Operation: "insert", InputPath: "contacts.csv", InputSize: 42, InputHash: "abc",
		Options: json.RawMessage(`{"api":"bulk2"}`)}
	if err := s.CreateRun(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOpenSchema(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	var v int
	var mode string
	if err := s.db.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion || mode != "wal" {
		t.Errorf("user_version %d journal_mode %q; want %d wal", v, mode, SchemaVersion)
	}
	if len(migrations()) != SchemaVersion {
		t.Errorf("%d migrations, SchemaVersion %d", len(migrations()), SchemaVersion)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := Open(t.Context(), path); !errors.Is(err, ErrSchemaTooNew) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenBadPath(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "a?b.db", filepath.Join(t.TempDir(), "missing", "dir", "x.db")} {
		if s, err := Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestRuns(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ctx := t.Context()
	a := newRun(t, s, "run-a")
	b := Run{ID: "run-b", Object: "Account", Operation: "upsert", CreatedAt: t0.Add(time.Hour)}
	if err := s.CreateRun(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRun(ctx, a); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate CreateRun = %v, want ErrExists", err)
	}
	if err := s.CreateRun(ctx, Run{ID: "x", Object: "A", Operation: "insert", Options: json.RawMessage("{bad")}); err == nil {
		t.Error("CreateRun accepted invalid JSON options")
	}
	if err := s.CreateRun(ctx, Run{ID: "y"}); err == nil {
		t.Error("CreateRun accepted a run without object")
	}
	got, err := s.GetRun(ctx, "run-a")
	if err != nil {
		t.Fatal(err)
	}
	want := a
	want.State, want.CreatedAt, want.UpdatedAt = RunRunning, t0, t0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetRun (-want +got):\n%s", diff)
	}
	if _, err := s.GetRun(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetRun(nope) = %v", err)
	}
	list, err := s.ListRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "run-b" || list[1].ID != "run-a" {
		t.Errorf("ListRuns order: %v", list)
	}
	if err := s.UpdateRunState(ctx, "run-a", RunFailed, "network down"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetRun(ctx, "run-a"); got.State != RunFailed || got.Message != "network down" {
		t.Errorf("after UpdateRunState: %+v", got)
	}
	if err := s.UpdateRunState(ctx, "nope", RunCompleted, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateRunState(nope) = %v", err)
	}
	if err := s.UpdateRunState(ctx, "run-a", "weird", ""); err == nil {
		t.Error("UpdateRunState accepted unknown state")
	}
}

func TestDeleteRunCascades(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ctx := t.Context()
	newRun(t, s, "r")
	if err := s.RecordJob(ctx, JobRecord{RunID: "r", JobID: "750A", API: APIBulk2, FirstRow: 2, LastRow: 10}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRowsDone(ctx, "r", 2, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRun(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	var n int
	s.db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM done_ranges)").Scan(&n)
	if n != 0 {
		t.Errorf("%d job/range rows left after DeleteRun", n)
	}
	if err := s.DeleteRun(ctx, "r"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second DeleteRun = %v", err)
	}
}

func TestJobStateTransitions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path []JobState // states applied in order after creation
		ok   []bool
	}{
		{[]JobState{JobUploaded, JobClosed, JobResultsFetched}, []bool{true, true, true}},
		{[]JobState{JobClosed, JobClosed, JobUploaded}, []bool{true, true, false}},
		{[]JobState{JobUploaded, JobAborted, JobClosed}, []bool{true, true, false}},
		{[]JobState{JobFailed, JobFailed, JobAborted}, []bool{true, true, false}},
		{[]JobState{JobResultsFetched, JobFailed}, []bool{true, false}},
		{[]JobState{JobCreated, "bogus"}, []bool{true, false}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			s, _ := openTemp(t)
			ctx := t.Context()
			newRun(t, s, "r")
			if err := s.RecordJob(ctx, JobRecord{RunID: "r", JobID: "750A", API: APIBulk2, FirstRow: 2, LastRow: 3}); err != nil {
				t.Fatal(err)
			}
			for k, st := range tt.path {
				err := s.UpdateJobState(ctx, "r", "750A", st)
				if (err == nil) != tt.ok[k] {
					t.Fatalf("step %d to %s: err %v, want ok=%v", k, st, err, tt.ok[k])
				}
				if err != nil && st != "bogus" && !errors.Is(err, ErrInvalidTransition) {
					t.Errorf("step %d: %v is not ErrInvalidTransition", k, err)
				}
			}
		})
	}
}

func TestJobs(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ctx := t.Context()
	newRun(t, s, "r")
	recs := []JobRecord{
		{RunID: "r", JobID: "750B", API: APIBulk2, FirstRow: 5002, LastRow: 10001},
		{RunID: "r", JobID: "750A", API: APIBulk2, FirstRow: 2, LastRow: 5001},
		{RunID: "r", JobID: "750C", BatchID: "751X", API: APIBulk1, Pass: 1, FirstRow: 7, LastRow: 7},
		{RunID: "r", JobID: "750C", BatchID: "751Y", API: APIBulk1, Pass: 1, FirstRow: 9, LastRow: 9},
	}
	for _, j := range recs {
		if err := s.RecordJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	// Recording again is harmless.
	if err := s.RecordJob(ctx, recs[0]); err != nil {
		t.Fatalf("RecordJob again: %v", err)
	}
	if err := s.RecordJob(ctx, JobRecord{RunID: "missing", JobID: "750Z", API: APIBulk2, FirstRow: 1, LastRow: 1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("RecordJob for missing run = %v", err)
	}
	if err := s.RecordJob(ctx, JobRecord{RunID: "r", JobID: "750Z", API: "soap", FirstRow: 1, LastRow: 1}); err == nil {
		t.Error("RecordJob accepted unknown API")
	}
	if err := s.RecordJob(ctx, JobRecord{RunID: "r", JobID: "750Z", API: APIBulk2, FirstRow: 5, LastRow: 1}); !errors.Is(err, ErrInvalidRange) {
		t.Errorf("RecordJob reversed range = %v", err)
	}
	if err := s.UpdateJobState(ctx, "r", "750C", JobClosed); err != nil { // both batches
		t.Fatal(err)
	}
	if err := s.UpdateBatchState(ctx, "r", "750C", "751Y", JobFailed, "InvalidBatch : Field name not found : Foo"); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateJobState(ctx, "r", "750A", JobResultsFetched); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateJobState(ctx, "r", "nope", JobClosed); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateJobState(nope) = %v", err)
	}
	if err := s.UpdateBatchState(ctx, "r", "750C", "nope", JobClosed, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateBatchState(nope) = %v", err)
	}
	got, err := s.Jobs(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		Job, Batch string
		State      JobState
		Message    string
	}
	var keys []key
	for _, j := range got {
		keys = append(keys, key{j.JobID, j.BatchID, j.State, j.Message})
		if !j.CreatedAt.Equal(t0) || !j.UpdatedAt.Equal(t0) {
			t.Errorf("job %s times %v %v", j.JobID, j.CreatedAt, j.UpdatedAt)
		}
	}
	want := []key{
		{"750A", "", JobResultsFetched, ""},
		{"750B", "", JobCreated, ""},
		{"750C", "751X", JobClosed, ""},
		{"750C", "751Y", JobFailed, "InvalidBatch : Field name not found : Foo"},
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("Jobs (-want +got):\n%s", diff)
	}
	open, err := s.OpenJobs(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 || open[0].JobID != "750B" || open[1].BatchID != "751X" {
		t.Errorf("OpenJobs = %+v", open)
	}
}

func TestMarkRowsDone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		marks []Range
		want  Ranges
	}{
		{"single", []Range{{2, 10}}, Ranges{{2, 10}}},
		{"disjoint sorted", []Range{{20, 30}, {2, 10}}, Ranges{{2, 10}, {20, 30}}},
		{"adjacent merge", []Range{{2, 10}, {11, 20}}, Ranges{{2, 20}}},
		{"adjacent before", []Range{{11, 20}, {2, 10}}, Ranges{{2, 20}}},
		{"overlap", []Range{{2, 10}, {5, 15}}, Ranges{{2, 15}}},
		{"contained", []Range{{2, 20}, {5, 6}}, Ranges{{2, 20}}},
		{"covering", []Range{{5, 6}, {8, 9}, {2, 20}}, Ranges{{2, 20}}},
		{"bridge", []Range{{2, 4}, {10, 12}, {20, 22}, {5, 9}}, Ranges{{2, 12}, {20, 22}}},
		{"single rows", []Range{{3, 3}, {1, 1}, {2, 2}}, Ranges{{1, 3}}},
		{"repeat", []Range{{2, 4}, {2, 4}}, Ranges{{2, 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := openTemp(t)
			newRun(t, s, "r")
			newRun(t, s, "other")
			for _, m := range tt.marks {
				if err := s.MarkRowsDone(t.Context(), "r", m.First, m.Last); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.MarkRowsDone(t.Context(), "other", 1, 1000); err != nil {
				t.Fatal(err)
			}
			got, err := s.DoneRanges(t.Context(), "r")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DoneRanges (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarkRowsDoneErrors(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	newRun(t, s, "r")
	if err := s.MarkRowsDone(t.Context(), "r", 5, 4); !errors.Is(err, ErrInvalidRange) {
		t.Errorf("reversed = %v", err)
	}
	if err := s.MarkRowsDone(t.Context(), "nope", 1, 4); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing run = %v", err)
	}
	if _, err := s.DoneRanges(t.Context(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DoneRanges(missing) = %v", err)
	}
	if got, err := s.DoneRanges(t.Context(), "r"); err != nil || len(got) != 0 {
		t.Errorf("DoneRanges(empty) = %v, %v", got, err)
	}
}

func TestRangesContains(t *testing.T) {
	t.Parallel()
	rs := Ranges{{2, 4}, {10, 10}, {20, 30}}
	for row, want := range map[int64]bool{1: false, 2: true, 4: true, 5: false, 10: true, 11: false, 25: true, 30: true, 31: false} {
		if got := rs.Contains(row); got != want {
			t.Errorf("Contains(%d) = %v", row, got)
		}
	}
	if rs.Rows() != 3+1+11 {
		t.Errorf("Rows = %d", rs.Rows())
	}
}

// TestPersistence closes the store and reopens the file, as a resumed run does.
func TestPersistence(t *testing.T) {
	t.Parallel()
	s, path := openTemp(t)
	ctx := t.Context()
	newRun(t, s, "r")
	s.RecordJob(ctx, JobRecord{RunID: "r", JobID: "750A", API: APIBulk2, FirstRow: 2, LastRow: 5001, State: JobResultsFetched})
	s.RecordJob(ctx, JobRecord{RunID: "r", JobID: "750B", API: APIBulk2, FirstRow: 5002, LastRow: 10001, State: JobUploaded})
	s.RecordJob(ctx, JobRecord{RunID: "r", JobID: "750C", API: APIBulk2, FirstRow: 10002, LastRow: 12000})
	if err := s.MarkRowsDone(ctx, "r", 2, 5001); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Jobs(ctx, "r")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	run, err := s2.GetRun(ctx, "r")
	if err != nil || run.InputHash != "abc" || string(run.Options) != `{"api":"bulk2"}` {
		t.Fatalf("GetRun after reopen = %+v, %v", run, err)
	}
	after, err := s2.Jobs(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("jobs changed across reopen (-before +after):\n%s", diff)
	}
	open, _ := s2.OpenJobs(ctx, "r")
	if len(open) != 2 || open[0].JobID != "750B" || open[1].JobID != "750C" {
		t.Errorf("OpenJobs after reopen = %+v", open)
	}
	done, _ := s2.DoneRanges(ctx, "r")
	if diff := cmp.Diff(Ranges{{2, 5001}}, done); diff != "" {
		t.Errorf("DoneRanges after reopen (-want +got):\n%s", diff)
	}
	// Rows a resumer must send again: not done, and not in a job whose data
	// was uploaded (750B's rows get their outcomes from its results).
	var resend int64
	for row := int64(2); row <= 12000; row++ {
		if done.Contains(row) {
			continue
		}
		inUploaded := false
		for _, j := range open {
			if j.State != JobCreated && row >= j.FirstRow && row <= j.LastRow {
				inUploaded = true
			}
		}
		if !inUploaded {
			resend++
		}
	}
	if resend != 12000-10002+1 {
		t.Errorf("rows to resend = %d, want %d", resend, 12000-10002+1)
	}
}

// TestConcurrentWriters writes from many goroutines through one Store and
// through a second Store on the same file (as a second process would).
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	s1, path := openTemp(t)
	ctx := t.Context()
	newRun(t, s1, "r")
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	const workers, perWorker, chunk = 8, 25, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		st := s1
		if w%2 == 1 {
			st = s2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				n := int64(w*perWorker + i)
				first := n*chunk + 1
				id := fmt.Sprintf("750%04d", n)
				if err := st.RecordJob(ctx, JobRecord{RunID: "r", JobID: id, API: APIBulk2, FirstRow: first, LastRow: first + chunk - 1}); err != nil {
					errs <- err
					return
				}
				if err := st.UpdateJobState(ctx, "r", id, JobResultsFetched); err != nil {
					errs <- err
					return
				}
				if err := st.MarkRowsDone(ctx, "r", first, first+chunk-1); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	done, err := s1.DoneRanges(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	total := int64(workers * perWorker * chunk)
	if diff := cmp.Diff(Ranges{{1, total}}, done); diff != "" {
		t.Errorf("DoneRanges (-want +got):\n%s", diff)
	}
	jobs, _ := s2.Jobs(ctx, "r")
	open, _ := s2.OpenJobs(ctx, "r")
	if len(jobs) != workers*perWorker || len(open) != 0 {
		t.Errorf("%d jobs (%d open), want %d (0 open)", len(jobs), len(open), workers*perWorker)
	}
}

func TestHashFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum, size, err := HashFile(t.Context(), path)
	if err != nil || size != 3 || sum != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashFile = %s, %d, %v", sum, size, err)
	}
	if _, _, err := HashFile(t.Context(), path+".missing"); err == nil {
		t.Error("HashFile of missing file succeeded")
	}
}

func TestNewRunID(t *testing.T) {
	t.Parallel()
	a, b := NewRunID(t0), NewRunID(t0)
	if a == b || len(a) != len("20240103T235201Z-")+8 || a[:17] != "20240103T235201Z-" {
		t.Errorf("NewRunID = %q, %q", a, b)
	}
}

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	newRun(t, s, "r")
	if _, err := s.GetRun(t.Context(), "r"); err != nil {
		t.Fatal(err)
	}
}

// TestMarkRowsDoneModel compares random marks against a bitmap.
func TestMarkRowsDoneModel(t *testing.T) {
	t.Parallel()
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			testMarkRowsDoneModel(t, seed)
		})
	}
}

func testMarkRowsDoneModel(t *testing.T, seed uint64) {
	s, _ := openTemp(t)
	newRun(t, s, "r")
	const n = 300
	var model [n + 2]bool
	rng := rand.New(rand.NewPCG(seed, 2))
	for range 150 {
		first := rng.Int64N(n) + 1
		last := min(first+rng.Int64N(12), n)
		if err := s.MarkRowsDone(t.Context(), "r", first, last); err != nil {
			t.Fatal(err)
		}
		for i := first; i <= last; i++ {
			model[i] = true
		}
	}
	var want Ranges
	for i := int64(1); i <= n; i++ {
		if !model[i] {
			continue
		}
		if k := len(want); k > 0 && want[k-1].Last == i-1 {
			want[k-1].Last = i
		} else {
			want = append(want, Range{i, i})
		}
	}
	got, err := s.DoneRanges(t.Context(), "r")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DoneRanges vs model (-want +got):\n%s", diff)
	}
}
