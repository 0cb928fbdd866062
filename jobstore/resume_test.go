package jobstore

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRowsSequenceRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rows []Range
		enc  string
	}{
		{nil, ""},
		{[]Range{{2, 100}}, "2-100"},
		{[]Range{{9, 9}, {2, 4}, {100, 200}}, "9,2-4,100-200"},
	}
	for _, tt := range tests {
		if got := EncodeRows(tt.rows); got != tt.enc {
			t.Errorf("EncodeRows(%v) = %q, want %q", tt.rows, got, tt.enc)
		}
		back, err := DecodeRows(tt.enc)
		if err != nil || !cmp.Equal(back, tt.rows) {
			t.Errorf("DecodeRows(%q) = %v, %v", tt.enc, back, err)
		}
	}
	for _, bad := range []string{"x", "5-3", "1,,2", "2-"} {
		if _, err := DecodeRows(bad); !errors.Is(err, ErrInvalidRange) {
			t.Errorf("DecodeRows(%q) = %v", bad, err)
		}
	}
	var seq []Range
	for _, n := range []int64{5, 6, 7, 2, 3, 9} {
		seq = AppendRow(seq, n)
	}
	if diff := cmp.Diff([]Range{{5, 7}, {2, 3}, {9, 9}}, seq); diff != "" {
		t.Errorf("AppendRow (-want +got):\n%s", diff)
	}
}

func TestJobRowsAndFinishJob(t *testing.T) {
	t.Parallel()
	s, path := openTemp(t)
	ctx := t.Context()
	newRun(t, s, "r")
	rows := []Range{{7, 9}, {2, 3}, {20, 20}}
	if err := s.RecordJob(ctx, JobRecord{RunID: "r", JobID: "750A", API: APIBulk2, Pass: 1, FirstRow: 2, LastRow: 20, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordJob(ctx, JobRecord{RunID: "r", JobID: "750B", API: APIBulk2, FirstRow: 2, LastRow: 5, Rows: []Range{{1, 3}}}); !errors.Is(err, ErrInvalidRange) {
		t.Errorf("rows outside the range: %v", err)
	}
	// Rows 8 and 20 went to a retry pass: they are not done.
	if err := s.FinishJob(ctx, "r", "750A", "", []Range{{2, 3}, {7, 7}, {9, 9}}); err != nil {
		t.Fatal(err)
	}
	// A failing FinishJob marks no rows: both happen or neither.
	s.RecordJob(ctx, JobRecord{RunID: "r", JobID: "750C", API: APIBulk2, FirstRow: 300, LastRow: 400, State: JobAborted})
	if err := s.FinishJob(ctx, "r", "750C", "", []Range{{300, 400}}); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("FinishJob of an aborted job = %v", err)
	}
	if err := s.FinishJob(ctx, "r", "nope", "", []Range{{300, 400}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("FinishJob(nope) = %v", err)
	}
	s.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	jobs, _ := s2.Jobs(ctx, "r")
	if len(jobs) != 2 || jobs[1].State != JobResultsFetched || !cmp.Equal(jobs[1].Rows, rows) || jobs[0].Rows != nil {
		t.Fatalf("jobs after reopen: %+v", jobs)
	}
	done, _ := s2.DoneRanges(ctx, "r")
	if diff := cmp.Diff(Ranges{{2, 3}, {7, 7}, {9, 9}}, done); diff != "" {
		t.Errorf("done (-want +got):\n%s", diff)
	}
}

func TestSetBatchID(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ctx := t.Context()
	newRun(t, s, "r")
	for _, b := range []string{"pending-1", "751B"} {
		if err := s.RecordJob(ctx, JobRecord{RunID: "r", JobID: "750J", BatchID: b, API: APIBulk1, FirstRow: 2, LastRow: 3}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetBatchID(ctx, "r", "750J", "pending-1", "751B", JobUploaded); !errors.Is(err, ErrExists) {
		t.Errorf("rename onto an existing batch = %v", err)
	}
	if err := s.SetBatchID(ctx, "r", "750J", "pending-1", "751A", JobUploaded); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBatchID(ctx, "r", "750J", "pending-1", "751C", JobUploaded); !errors.Is(err, ErrNotFound) {
		t.Errorf("rename of a renamed batch = %v", err)
	}
	jobs, _ := s.Jobs(ctx, "r")
	if len(jobs) != 2 || jobs[0].BatchID != "751A" || jobs[0].State != JobUploaded || jobs[1].BatchID != "751B" {
		t.Errorf("jobs = %+v", jobs)
	}
}

func TestCheckInput(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ctx := t.Context()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte("LastName\nA\n"), 0o600)
	sum, size, err := HashFile(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	s.CreateRun(ctx, Run{ID: "r", Object: "Contact", Operation: "insert", InputPath: in, InputSize: size, InputHash: sum})
	s.CreateRun(ctx, Run{ID: "nohash", Object: "Contact", Operation: "insert"})
	if err := s.CheckInput(ctx, "r", in); err != nil {
		t.Errorf("same input: %v", err)
	}
	os.WriteFile(in, []byte("LastName\nB\n"), 0o600)
	if err := s.CheckInput(ctx, "r", in); !errors.Is(err, ErrInputChanged) {
		t.Errorf("changed input: %v", err)
	}
	if err := s.CheckInput(ctx, "nohash", in); !errors.Is(err, ErrInputChanged) {
		t.Errorf("run without a hash: %v", err)
	}
	if err := s.CheckInput(ctx, "missing", in); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing run: %v", err)
	}
}

// TestMigrateFromVersion1 opens a database written by schema version 1: its jobs keep their
// ranges and read back with no row list.
func TestMigrateFromVersion1(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{migrations()[0], "PRAGMA user_version = 1",
		`INSERT INTO runs (id, object, operation, state, created_at, updated_at) VALUES ('r', 'Contact', 'insert', 'running', 0, 0)`,
		`INSERT INTO jobs (run_id, job_id, api, first_row, last_row, state, created_at, updated_at) VALUES ('r', '750A', 'bulk2', 2, 9, 'closed', 0, 0)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	jobs, err := s.Jobs(t.Context(), "r")
	if err != nil || len(jobs) != 1 || jobs[0].Rows != nil || jobs[0].LastRow != 9 {
		t.Fatalf("jobs = %+v, %v", jobs, err)
	}
}
