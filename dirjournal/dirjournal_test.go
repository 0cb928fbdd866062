package dirjournal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfbatch/sfbatch/jobstore"
)

// TestReplayAcrossAttempts: steps written by one attempt are in the next attempt's cache,
// rebuilt from the directory alone, through a file system that refuses locks, random
// writes and rename-over.
func TestReplayAcrossAttempts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	shim := &Strict{}
	dir := filepath.Join(t.TempDir(), "journal")
	d, err := Open(ctx, dir, "r1", Options{FS: shim, LeasePeriod: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CreateRun(ctx, jobstore.Run{ID: "r1", Object: "Contact", Operation: "insert"}); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.RecordJob(ctx, jobstore.JobRecord{RunID: "r1", JobID: "750A", API: jobstore.APIBulk2, FirstRow: 1, LastRow: 10, State: jobstore.JobCreated}))
	must(d.UpdateJobState(ctx, "r1", "750A", jobstore.JobUploaded))
	must(d.RecordJob(ctx, jobstore.JobRecord{RunID: "r1", JobID: "750B", API: jobstore.APIBulk2, FirstRow: 11, LastRow: 20, State: jobstore.JobCreated}))
	must(d.UpdateJobState(ctx, "r1", "750B", jobstore.JobUploaded))
	must(d.UpdateJobState(ctx, "r1", "750B", jobstore.JobClosed))
	must(d.FinishJob(ctx, "r1", "750B", "", []jobstore.Range{{First: 11, Last: 20}}))
	must(d.MarkRowsDone(ctx, "r1", 21, 21))
	must(d.WriteFile("hashes", []byte("abc")))
	wantJobs, err := d.Jobs(ctx, "r1")
	must(err)
	must(d.Close())

	d2, err := Open(ctx, dir, "r1", Options{FS: shim, LeasePeriod: time.Second})
	must(err)
	defer d2.Close()
	if d2.Lease() != 2 {
		t.Errorf("second attempt holds lease %d, want 2", d2.Lease())
	}
	gotJobs, err := d2.Jobs(ctx, "r1")
	must(err)
	ignore := cmp.FilterPath(func(p cmp.Path) bool {
		n := p.Last().String()
		return n == ".CreatedAt" || n == ".UpdatedAt"
	}, cmp.Ignore())
	if diff := cmp.Diff(wantJobs, gotJobs, ignore); diff != "" {
		t.Errorf("jobs after replay (-want +got):\n%s", diff)
	}
	done, err := d2.DoneRanges(ctx, "r1")
	must(err)
	if diff := cmp.Diff(jobstore.Ranges{{First: 11, Last: 21}}, done); diff != "" {
		t.Errorf("done rows (-want +got):\n%s", diff)
	}
	names, err := d2.Files("hashes")
	must(err)
	if len(names) != 1 {
		t.Fatalf("hash files %v", names)
	}
	if b, err := d2.ReadFile(names[0]); err != nil || string(b) != "abc" {
		t.Errorf("hash file %q, %v", b, err)
	}
	if n := shim.Refused(); n != 0 {
		t.Errorf("the journal attempted %d operations the storage does not offer", n)
	}
	// The directory holds only write-once files and leases: no database, no lock files.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if filepath.Ext(e.Name()) == ".db" || filepath.Ext(e.Name()) == ".lock" {
			t.Errorf("%s in the journal directory", e.Name())
		}
	}
}

// TestShimRefusesWhatTheStorageLacks makes sure the shim refuses what it claims to.
func TestShimRefusesWhatTheStorageLacks(t *testing.T) {
	t.Parallel()
	shim := &Strict{}
	p := filepath.Join(t.TempDir(), "f")
	if err := writeOnce(shim, p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := writeOnce(shim, p, []byte("y")); !errors.Is(err, os.ErrExist) {
		t.Errorf("second exclusive create: %v", err)
	}
	if _, err := shim.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0); err == nil {
		t.Error("rewrite allowed")
	}
	f, err := shim.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("z"), 0); err == nil {
		t.Error("WriteAt allowed")
	}
	if _, err := f.Seek(0, 0); err == nil {
		t.Error("Seek while writing allowed")
	}
	f.Close()
	q := p + "2"
	writeOnce(shim, q, nil)
	if err := shim.Rename(q, p); err == nil {
		t.Error("rename over an existing file allowed")
	}
	if shim.Refused() != 4 {
		t.Errorf("%d refusals counted, want 4", shim.Refused())
	}
}

// TestSecondAttemptWaits: while the owner renews its lease the second attempt waits (and
// writes nothing); when the owner releases, it takes over with the next lease.
func TestSecondAttemptWaits(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	opts := Options{FS: &Strict{}, LeasePeriod: 200 * time.Millisecond}
	d1, err := Open(ctx, dir, "r", opts)
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan string, 1)
	got := make(chan *Dir, 1)
	go func() {
		o := opts
		o.Attempt = "second"
		o.Waiting = func(owner string) { waiting <- owner }
		d2, err := Open(ctx, dir, "r", o)
		if err != nil {
			t.Error(err)
		}
		got <- d2
	}()
	select {
	case <-waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("the second attempt did not wait")
	}
	// Several lease periods pass: the owner renews, so the second attempt keeps waiting.
	select {
	case <-got:
		t.Fatal("the second attempt took over a lease that was being renewed")
	case <-time.After(5 * opts.LeasePeriod):
	}
	if n, _ := d1.newestLease(); n != 1 {
		t.Fatalf("newest lease %d while the owner runs", n)
	}
	if err := d1.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case d2 := <-got:
		if d2.Lease() != 2 {
			t.Errorf("lease %d, want 2", d2.Lease())
		}
		d2.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("the second attempt did not take over a released lease")
	}
}

// TestTakeOverStaleLease: an owner that stops renewing (killed) is taken over after one lease
// period; if it comes back, its writes are refused.
func TestTakeOverStaleLease(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	opts := Options{FS: &Strict{}, LeasePeriod: 150 * time.Millisecond}
	d1, err := Open(ctx, dir, "r", opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := d1.CreateRun(ctx, jobstore.Run{ID: "r", Object: "Contact", Operation: "insert"}); err != nil {
		t.Fatal(err)
	}
	lease := d1.lease
	d1.halt()
	start := time.Now()
	d2, err := Open(ctx, dir, "r", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if waited := time.Since(start); waited < opts.LeasePeriod {
		t.Errorf("took over after %v, before a lease period without renewal", waited)
	}
	if _, err := d2.GetRun(ctx, "r"); err != nil {
		t.Errorf("run not replayed: %v", err)
	}
	d1.lease = lease // the killed owner wakes up
	if err := d1.WriteFile("results", []byte("late")); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("late write of a superseded owner: %v", err)
	}
}

// TestTornStepFileIsSkipped: an attempt killed while writing a step file leaves it
// unfinished; the next attempt skips it (the step is settled by the resume) and replays the
// rest.
func TestTornStepFileIsSkipped(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	opts := Options{FS: &Strict{}, LeasePeriod: 100 * time.Millisecond}
	d, err := Open(ctx, dir, "r", opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CreateRun(ctx, jobstore.Run{ID: "r", Object: "Contact", Operation: "insert"}); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordJob(ctx, jobstore.JobRecord{RunID: "r", JobID: "750A", API: jobstore.APIBulk2, FirstRow: 1, LastRow: 5, State: jobstore.JobCreated}); err != nil {
		t.Fatal(err)
	}
	if err := d.UpdateJobState(ctx, "r", "750A", jobstore.JobUploaded); err != nil {
		t.Fatal(err)
	}
	d.halt()
	// The last step file loses its end, as if the writer died mid-write.
	names, err := (&Dir{fsys: OS{}, dir: dir}).Files("step")
	if err != nil || len(names) != 3 {
		t.Fatalf("step files %v, %v", names, err)
	}
	last := filepath.Join(dir, names[2])
	b, _ := os.ReadFile(last)
	if err := os.WriteFile(last, b[:len(b)-5], 0o600); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(ctx, dir, "r", opts)
	if err != nil {
		t.Fatalf("open after a torn step: %v", err)
	}
	defer d2.Close()
	jobs, err := d2.Jobs(ctx, "r")
	if err != nil || len(jobs) != 1 || jobs[0].State != jobstore.JobCreated {
		t.Errorf("jobs after replay: %+v, %v; want 750A still created", jobs, err)
	}
	if _, err := d2.ReadFile(names[2]); !errors.Is(err, ErrTorn) {
		t.Errorf("ReadFile of the torn file: %v", err)
	}
}
