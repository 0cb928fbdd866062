package load

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// killJournal records into a real jobstore and simulates kill -9 right after the nth record
// of step at: later journal calls fail, the sink loses what it receives, the context is
// cancelled and the sink is never closed.
type killJournal struct {
	*jobstore.Store
	at     jobstore.JobState
	nth    int
	cancel context.CancelFunc

	mu   sync.Mutex
	seen int
	dead bool
}

var errKilled = errors.New("killed")

func (j *killJournal) isDead() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.dead
}

func (j *killJournal) step(st jobstore.JobState, err error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err == nil && st == j.at {
		if j.seen++; j.seen == j.nth {
			j.dead = true
			j.cancel()
		}
	}
	return err
}

func (j *killJournal) RecordJob(ctx context.Context, r jobstore.JobRecord) error {
	if j.isDead() {
		return errKilled
	}
	return j.step(r.State, j.Store.RecordJob(ctx, r))
}

func (j *killJournal) UpdateJobState(ctx context.Context, run, job string, st jobstore.JobState) error {
	if j.isDead() {
		return errKilled
	}
	return j.step(st, j.Store.UpdateJobState(ctx, run, job, st))
}

func (j *killJournal) UpdateBatchState(ctx context.Context, run, job, batch string, st jobstore.JobState, msg string) error {
	if j.isDead() {
		return errKilled
	}
	return j.step(st, j.Store.UpdateBatchState(ctx, run, job, batch, st, msg))
}

func (j *killJournal) MarkRowsDone(ctx context.Context, run string, first, last int64) error {
	if j.isDead() {
		return errKilled
	}
	return j.Store.MarkRowsDone(ctx, run, first, last)
}

func (j *killJournal) SetBatchID(ctx context.Context, run, job, old, batch string, st jobstore.JobState) error {
	if j.isDead() {
		return errKilled
	}
	return j.step(st, j.Store.SetBatchID(ctx, run, job, old, batch, st))
}

func (j *killJournal) FinishJob(ctx context.Context, run, job, batch string, done []jobstore.Range) error {
	if j.isDead() {
		return errKilled
	}
	return j.step(jobstore.JobResultsFetched, j.Store.FinishJob(ctx, run, job, batch, done))
}

type killSink struct {
	files *CSVFiles
	j     *killJournal
}

func (s *killSink) Start(h []string) error { return s.files.Start(h) }
func (s *killSink) Write(r *RowResult) error {
	if s.j.isDead() {
		return nil
	}
	return s.files.Write(r)
}
func (s *killSink) Sync() error {
	if s.j.isDead() {
		return errKilled
	}
	return s.files.Sync()
}

// resultRow is one line of results.csv.
type resultRow struct {
	outcome, id, err string
}

func readResultsFile(t *testing.T, dir string) map[int64]resultRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := sfcsv.NewReader(f, sfcsv.ReaderOptions{})
	if _, err := rd.Header(); err != nil {
		t.Fatal(err)
	}
	out := map[int64]resultRow{}
	for {
		rec, err := rd.Read()
		if err != nil {
			break
		}
		n, _ := strconv.ParseInt(rec[0], 10, 64)
		if _, dup := out[n]; dup {
			t.Errorf("results.csv lists row %d twice", n)
		}
		out[n] = resultRow{rec[1], rec[2], rec[4]}
	}
	return out
}

// killAndResume runs a load that is killed at the nth record of step at, then resumes it. It
// returns the resumed load's summary, the results files' directory and the journal.
func killAndResume(t *testing.T, f *fakeOrg, rows [][]string, opts Options, at jobstore.JobState, nth int) (*Summary, string, *jobstore.Store) {
	t.Helper()
	dir := t.TempDir()
	store, err := jobstore.Open(t.Context(), filepath.Join(dir, "run.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if opts.Operation == "" {
		opts.Operation = Insert
	}
	if err := store.CreateRun(t.Context(), jobstore.Run{ID: "r", Object: opts.Object, Operation: string(opts.Operation)}); err != nil {
		t.Fatal(err)
	}
	if opts.Operation == "" {
		opts.Operation = Insert
	}
	opts.RunID = "r"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	kj := &killJournal{Store: store, at: at, nth: nth, cancel: cancel}
	files, err := CSVSinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	first := fastOptions(opts)
	first.Journal, first.LeaveJobsOpen = kj, true
	if _, err := f.loader(t).Load(ctx, rowsSource(contactHeader, rows), &killSink{files, kj}, first); err == nil || !kj.isDead() {
		t.Fatalf("first load: err %v, killed %v", err, kj.isDead())
	}
	files, err = ResumeCSVSinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	again := fastOptions(opts)
	again.Journal, again.Resume = store, true
	sum, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, rows), files, again)
	if cerr := files.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	return sum, dir, store
}

// TestResumeNonContiguousJobs kills loads whose jobs carry rows that are not contiguous
// (GroupBy sorting, retry passes), in the first pass and in a retry pass, and resumes them.
func TestResumeNonContiguousJobs(t *testing.T) {
	t.Parallel()
	for _, api := range []API{Bulk2, Bulk1} {
		for _, tc := range []struct {
			name    string
			groupBy string
			at      jobstore.JobState
			nth     int
		}{
			{"groupby-created", "Title", jobstore.JobCreated, 2},
			{"groupby-uploaded", "Title", jobstore.JobUploaded, 2},
			{"groupby-fetched", "Title", jobstore.JobResultsFetched, 2},
			{"retry-pass-uploaded", "", jobstore.JobUploaded, 6},
			{"retry-pass-groupby-uploaded", "Title", jobstore.JobUploaded, 6},
		} {
			t.Run(api.String()+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				const n = 120
				rows := contacts(n, "G")
				for i := range rows {
					rows[i][4] = fmt.Sprintf("T%d", (i*7)%5)
				}
				f := newFakeOrg()
				f.fault = func(_ string, row map[string]string, attempt int) *RowError {
					var k int
					fmt.Sscanf(row["external_id__c"], "G-%d", &k)
					if k%6 == 0 && attempt == 1 {
						return &RowError{StatusCode: "UNABLE_TO_LOCK_ROW", Message: "locked"}
					}
					return nil
				}
				sum, dir, store := killAndResume(t, f, rows,
					Options{Object: "Contact", API: api, BatchSize: 25, Concurrency: 1, GroupBy: tc.groupBy}, tc.at, tc.nth)
				got := readResultsFile(t, dir)
				ids := map[string]bool{}
				for i := int64(1); i <= n; i++ {
					r := got[i]
					if r.outcome != "succeeded" || ids[r.id] {
						t.Errorf("row %d: %+v", i, r)
					}
					ids[r.id] = true
				}
				if len(got) != n || f.count("Contact") != n {
					t.Fatalf("%d results, %d records, want %d (summary %+v)", len(got), f.count("Contact"), n, sum)
				}
				jobs, _ := store.Jobs(t.Context(), "r")
				listed := false
				for _, j := range jobs {
					listed = listed || j.Rows != nil
				}
				if !listed {
					t.Errorf("no job recorded its non-contiguous rows: %+v", jobs)
				}
			})
		}
	}
}

// TestResumeCollections resumes a load killed while an sObject Collections call was in flight:
// an insert cannot learn the call's outcome (its rows end NotProcessed, never sent twice); an
// upsert sends the rows again.
func TestResumeCollections(t *testing.T) {
	t.Parallel()
	for _, op := range []Operation{Insert, Upsert} {
		t.Run(string(op), func(t *testing.T) {
			t.Parallel()
			const n = 90
			f := newFakeOrg()
			opts := Options{Object: "Contact", API: Collections, Operation: op, BatchSize: 20, Concurrency: 1}
			if op == Upsert {
				opts.ExternalIDField = "External_Id__c"
			}
			sum, dir, _ := killAndResume(t, f, contacts(n, "C"), opts, jobstore.JobUploaded, 2)
			got := readResultsFile(t, dir)
			unknown := 0
			for i := int64(1); i <= n; i++ {
				r, ok := got[i]
				switch {
				case !ok:
					t.Fatalf("row %d has no outcome", i)
				case r.outcome == "unknown" && op == Insert && strings.HasPrefix(r.err, StatusOutcomeUnknown):
					unknown++
				case r.outcome != "succeeded":
					t.Errorf("row %d: %+v", i, r)
				}
			}
			if f.count("Contact") != n {
				t.Errorf("%d records, want %d (summary %+v)", f.count("Contact"), n, sum)
			}
			if op == Insert && unknown != 20 {
				t.Errorf("%d rows with an unknown outcome, want the 20 of the interrupted call", unknown)
			}
		})
	}
}

// TestResumeAfterInterrupt cancels a load (Ctrl-C: its results files are written, with the
// rows it did not finish NotProcessed, and Keep holds the part files), then resumes it: the
// resumed outcomes replace the NotProcessed ones.
func TestResumeAfterInterrupt(t *testing.T) {
	t.Parallel()
	for _, api := range []API{Bulk2, Bulk1} {
		t.Run(api.String(), func(t *testing.T) {
			t.Parallel()
			const n = 200
			rows := contacts(n, "I")
			f := newFakeOrg()
			f.pollsToComplete = 2
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var polls atomic.Int32
			f.onPoll = func() {
				if polls.Add(1) == 5 {
					cancel()
				}
			}
			dir := t.TempDir()
			store, err := jobstore.Open(t.Context(), filepath.Join(dir, "run.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			store.CreateRun(t.Context(), jobstore.Run{ID: "r", Object: "Contact", Operation: "insert"})
			opts := fastOptions(Options{Object: "Contact", API: api, BatchSize: 30, Concurrency: 2, Journal: store, RunID: "r"})
			files, _ := CSVSinks(dir)
			sum, err := f.loader(t).Load(ctx, rowsSource(contactHeader, rows), files, opts)
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("interrupted load: %v", err)
			}
			files.Keep = true
			if err := files.Close(); err != nil {
				t.Fatal(err)
			}
			if sum.NotProcessed == 0 || len(readResultsFile(t, dir)) != n {
				t.Fatalf("interrupted load: %+v", sum)
			}
			files, _ = ResumeCSVSinks(dir)
			opts.Resume = true
			if _, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, rows), files, opts); err != nil {
				t.Fatalf("resume: %v", err)
			}
			if err := files.Close(); err != nil {
				t.Fatal(err)
			}
			got := readResultsFile(t, dir)
			for i := int64(1); i <= n; i++ {
				if got[i].outcome != "succeeded" {
					t.Errorf("row %d: %+v", i, got[i])
				}
			}
			if f.count("Contact") != n {
				t.Errorf("%d records, want %d", f.count("Contact"), n)
			}
		})
	}
}

// TestResumeRefusals checks the errors of a resume that cannot be done.
func TestResumeRefusals(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, err := jobstore.Open(ctx, filepath.Join(t.TempDir(), "run.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	store.CreateRun(ctx, jobstore.Run{ID: "r", Object: "Contact", Operation: "insert"})
	store.CreateRun(ctx, jobstore.Run{ID: "done", Object: "Contact", Operation: "insert", State: jobstore.RunCompleted})
	// Job 750X was uploaded with rows 5-9; an input of 3 rows cannot be it.
	store.RecordJob(ctx, jobstore.JobRecord{RunID: "r", JobID: "750X", API: jobstore.APIBulk2, FirstRow: 5, LastRow: 9, State: jobstore.JobUploaded})
	f := newFakeOrg()
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Object: "Contact", Resume: true}, "Options.Resume"},
		{Options{Object: "Account", Journal: store, RunID: "r", Resume: true}, "not Account"},
		{Options{Object: "Contact", Journal: store, RunID: "missing", Resume: true}, "not found"},
		{Options{Object: "Contact", Journal: store, RunID: "done", Resume: true}, "already completed"},
	} {
		_, err := f.loader(t).Load(ctx, rowsSource(contactHeader, contacts(3, "Z")), nil, fastOptions(tc.opts))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.opts.RunID, err, tc.want)
		}
	}
	if f.count("Contact") != 0 {
		t.Errorf("a refused resume loaded %d records", f.count("Contact"))
	}
	// An input without the rows of a job in flight is not the input of the run. (Rows read
	// before the end of the input are loaded: a CLI checks the file's hash before resuming.)
	_, err = f.loader(t).Load(ctx, rowsSource(contactHeader, contacts(3, "Z")), nil,
		fastOptions(Options{Object: "Contact", API: Bulk2, Journal: store, RunID: "r", Resume: true}))
	if err == nil || !strings.Contains(err.Error(), "lacks 5 of the 5 rows of job 750X") {
		t.Errorf("input without the rows of a job in flight: %v", err)
	}
}

// TestCSVFilesPartsSurviveAndLatestWins writes results in three "processes": one killed
// (never closed), one interrupted (closed with Keep), one that finishes. The final files hold
// every row once, with its latest outcome; more parts than maxMergeParts are compacted.
func TestCSVFilesPartsSurviveAndLatestWins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hdr := []string{"Name"}
	write := func(s *CSVFiles, row int64, o Outcome) {
		if err := s.Write(&RowResult{Row: row, Outcome: o, Values: []string{fmt.Sprint("n", row)}}); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := CSVSinks(dir)
	s.Start(hdr)
	for i := int64(1); i <= maxMergeParts+20; i++ { // one durable part per row
		write(s, i, Failed)
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	write(s, 1000, Succeeded) // not synced: lost with the process
	os.WriteFile(filepath.Join(dir, PartsDir, "part-99999999.csv.tmp"), []byte("torn"), 0o644)

	s, _ = ResumeCSVSinks(dir)
	s.Start(hdr)
	write(s, 2, NotProcessed)
	write(s, 500, NotProcessed)
	s.Keep = true
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, _ = ResumeCSVSinks(dir)
	s.Start(hdr)
	write(s, 500, Succeeded)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := readResultsFile(t, dir)
	if len(got) != maxMergeParts+21 || got[1].outcome != "failed" || got[2].outcome != "not_processed" ||
		got[500].outcome != "succeeded" || got[1000].outcome != "" {
		t.Errorf("results: %d rows; 1 %+v, 2 %+v, 500 %+v, 1000 %+v", len(got), got[1], got[2], got[500], got[1000])
	}
	if _, err := os.Stat(filepath.Join(dir, PartsDir)); !os.IsNotExist(err) {
		t.Errorf("parts left: %v", err)
	}
	// A fresh sink drops parts an earlier load left.
	s, _ = CSVSinks(dir)
	s.Start(hdr)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readResultsFile(t, dir); len(got) != 0 {
		t.Errorf("fresh sink kept %d old rows", len(got))
	}
}

// TestResumeKilledTwice kills a load, kills its resumption too, and resumes again.
func TestResumeKilledTwice(t *testing.T) {
	t.Parallel()
	type tc struct {
		api API
		op  Operation
	}
	// (A collections insert interrupted in flight ends NotProcessed: TestResumeCollections.)
	for _, tt := range []tc{{Bulk2, Insert}, {Bulk1, Insert}, {Bulk2, Upsert}, {Bulk1, Upsert}, {Collections, Upsert}} {
		api := tt.api
		t.Run(api.String()+"/"+string(tt.op), func(t *testing.T) {
			t.Parallel()
			const n = 150
			rows := contacts(n, "K")
			f := newFakeOrg()
			dir := t.TempDir()
			store, err := jobstore.Open(t.Context(), filepath.Join(dir, "run.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			store.CreateRun(t.Context(), jobstore.Run{ID: "r", Object: "Contact", Operation: string(tt.op)})
			opts := Options{Object: "Contact", API: api, Operation: tt.op, BatchSize: 20, Concurrency: 2, RunID: "r"}
			if tt.op == Upsert {
				opts.ExternalIDField = "External_Id__c"
			}
			kill := func(at jobstore.JobState, nth int, resume bool) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				kj := &killJournal{Store: store, at: at, nth: nth, cancel: cancel}
				open := CSVSinks
				if resume {
					open = ResumeCSVSinks
				}
				files, err := open(dir)
				if err != nil {
					t.Fatal(err)
				}
				o := fastOptions(opts)
				o.Journal, o.LeaveJobsOpen, o.Resume = kj, true, resume
				if _, err := f.loader(t).Load(ctx, rowsSource(contactHeader, rows), &killSink{files, kj}, o); err == nil || !kj.isDead() {
					t.Fatalf("load killed at %s #%d: err %v, killed %v", at, nth, err, kj.isDead())
				}
			}
			kill(jobstore.JobUploaded, 2, false)
			kill(jobstore.JobResultsFetched, 2, true)
			files, _ := ResumeCSVSinks(dir)
			o := fastOptions(opts)
			o.Journal, o.Resume = store, true
			if _, err := f.loader(t).Load(t.Context(), rowsSource(contactHeader, rows), files, o); err != nil {
				t.Fatalf("second resume: %v", err)
			}
			if err := files.Close(); err != nil {
				t.Fatal(err)
			}
			got := readResultsFile(t, dir)
			for i := int64(1); i <= n; i++ {
				if got[i].outcome != "succeeded" {
					t.Errorf("row %d: %+v", i, got[i])
				}
			}
			if len(got) != n || f.count("Contact") != n {
				t.Errorf("%d results, %d records, want %d", len(got), f.count("Contact"), n)
			}
		})
	}
}
