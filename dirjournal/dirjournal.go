package dirjournal

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sfbatch/sfbatch/jobstore"
)

// DefaultLeasePeriod is how long a lease may go without renewal before another attempt takes
// the directory over.
const DefaultLeasePeriod = 30 * time.Second

// minPoll bounds how often a waiting attempt reads the lease file.
const minPoll = 20 * time.Millisecond

// ErrLeaseLost is returned by writes after another attempt took the directory over.
var ErrLeaseLost = errors.New("dirjournal: another attempt took over the journal directory")

// Options configure Open.
type Options struct {
	// FS is the storage of the directory. Nil means OS.
	FS FS
	// LeasePeriod: see the package doc. Zero means DefaultLeasePeriod.
	LeasePeriod time.Duration
	// CacheDir is a local directory for the SQLite cache. Empty means a new temporary
	// directory, removed by Close.
	CacheDir string
	// Attempt identifies this attempt in its lease file. Empty means a random id.
	Attempt string
	// Waiting is called once if the attempt has to wait for another owner, with that owner's
	// attempt id.
	Waiting func(owner string)
	// AfterStep, if set, is called after each step is durable in the directory and applied
	// to the cache (a test hook).
	AfterStep func(s Step)
	// Logger receives warnings. Nil means slog.Default().
	Logger *slog.Logger
}

// Dir is an open journal directory owned by this attempt. Its load.Journal methods are safe
// for concurrent use.
type Dir struct {
	fsys      FS
	dir       string
	runID     string
	opts      Options
	lease     int
	store     *jobstore.Store
	cacheDir  string
	dropCache bool

	mu   sync.Mutex
	seq  int
	lost bool

	stop chan struct{}
	done chan struct{}
}

// Open takes the journal directory dir for one attempt of run runID, waiting while another
// attempt owns it (until ctx ends), then rebuilds the local cache from the directory's step
// files. Close releases it.
func Open(ctx context.Context, dir, runID string, opts Options) (*Dir, error) {
	if opts.FS == nil {
		opts.FS = OS{}
	}
	if opts.LeasePeriod <= 0 {
		opts.LeasePeriod = DefaultLeasePeriod
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Attempt == "" {
		b := make([]byte, 8)
		rand.Read(b)
		opts.Attempt = hex.EncodeToString(b)
	}
	d := &Dir{fsys: opts.FS, dir: dir, runID: runID, opts: opts, stop: make(chan struct{}), done: make(chan struct{})}
	if err := d.fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("dirjournal: %w", err)
	}
	if err := d.acquire(ctx); err != nil {
		return nil, err
	}
	go d.renew()
	if err := d.openCache(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Lease is the number of this attempt's lease file.
func (d *Dir) Lease() int { return d.lease }

// Store is the local cache, for reading (GetRun, Jobs, DoneRanges, ...). Write through Dir.
func (d *Dir) Store() *jobstore.Store { return d.store }

func leaseName(n int) string { return fmt.Sprintf("lease-%08d", n) }

// newestLease returns the highest lease number in the directory (0: none).
func (d *Dir) newestLease() (int, error) {
	ents, err := d.fsys.ReadDir(d.dir)
	if err != nil {
		return 0, fmt.Errorf("dirjournal: listing %s: %w", d.dir, err)
	}
	n := 0
	for _, e := range ents {
		if s, ok := strings.CutPrefix(e.Name(), "lease-"); ok {
			if v, err := strconv.Atoi(s); err == nil && v > n {
				n = v
			}
		}
	}
	return n, nil
}

// acquire waits until this attempt has created the newest lease file.
func (d *Dir) acquire(ctx context.Context) error {
	poll := max(d.opts.LeasePeriod/20, minPoll)
	var (
		watching int
		last     []byte
		since    time.Time
		waited   bool
	)
	for {
		n, err := d.newestLease()
		if err != nil {
			return err
		}
		takeOver := n == 0
		if n > 0 {
			b, err := readFile(d.fsys, join(d.dir, leaseName(n)))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("dirjournal: reading %s: %w", leaseName(n), err)
			}
			switch {
			case bytes.HasSuffix(b, []byte("\nreleased\n")):
				takeOver = true
			case n != watching || !bytes.Equal(b, last):
				watching, last, since = n, b, time.Now() // the owner is alive (or new to us)
			case time.Since(since) >= d.opts.LeasePeriod:
				takeOver = true // no renewal for a whole period, by our own clock
			}
			if !takeOver && !waited {
				waited = true
				if d.opts.Waiting != nil {
					owner, _, _ := bytes.Cut(b, []byte("\n"))
					d.opts.Waiting(string(owner))
				}
			}
		}
		if takeOver {
			err := writeOnce(d.fsys, join(d.dir, leaseName(n+1)), []byte(d.opts.Attempt+"\n"))
			if err == nil {
				d.lease = n + 1
				return nil
			}
			if !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("dirjournal: creating %s: %w", leaseName(n+1), err)
			}
			continue // another attempt was quicker: watch its lease
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("dirjournal: waiting for the journal's owner: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// superseded reports whether a newer lease than ours exists.
func (d *Dir) superseded() bool {
	f, err := d.fsys.OpenFile(join(d.dir, leaseName(d.lease+1)), os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// renew appends a renewal line to our lease file every LeasePeriod/4 until Close.
func (d *Dir) renew() {
	defer close(d.done)
	t := time.NewTicker(max(d.opts.LeasePeriod/4, minPoll))
	defer t.Stop()
	for k := 1; ; k++ {
		select {
		case <-d.stop:
			return
		case <-t.C:
		}
		if d.superseded() {
			d.mu.Lock()
			d.lost = true
			d.mu.Unlock()
			d.opts.Logger.Warn("dirjournal: lease lost: another attempt took over", "dir", d.dir)
			return
		}
		if err := d.appendLease(fmt.Sprintf("renew %d\n", k)); err != nil {
			d.opts.Logger.Warn("dirjournal: lease renewal failed", "dir", d.dir, "err", err)
		}
	}
}

func (d *Dir) appendLease(line string) error {
	f, err := d.fsys.OpenFile(join(d.dir, leaseName(d.lease)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	return writeClose(f, []byte(line))
}

// halt stops renewing without releasing, as a killed attempt would (tests).
func (d *Dir) halt() {
	close(d.stop)
	<-d.done
	d.lease = 0
	d.store.Close()
	d.store = nil
}

// Close stops renewing, marks the lease released and removes a temporary cache.
func (d *Dir) Close() error {
	var err error
	if d.lease > 0 {
		close(d.stop)
		<-d.done
		d.mu.Lock()
		lost := d.lost
		d.mu.Unlock()
		if !lost {
			err = d.appendLease("released\n")
		}
		d.lease = 0
	}
	if d.store != nil {
		if cerr := d.store.Close(); err == nil {
			err = cerr
		}
		d.store = nil
	}
	if d.dropCache {
		os.RemoveAll(d.cacheDir)
	}
	return err
}

// Step is one journal step as written to the directory.
type Step struct {
	Op         string              `json:"op"`
	Run        *jobstore.Run       `json:"run,omitempty"`
	Job        *jobstore.JobRecord `json:"job,omitempty"`
	RunID      string              `json:"runId,omitempty"`
	JobID      string              `json:"jobId,omitempty"`
	BatchID    string              `json:"batchId,omitempty"`
	NewBatchID string              `json:"newBatchId,omitempty"`
	State      string              `json:"state,omitempty"`
	Message    string              `json:"message,omitempty"`
	First      int64               `json:"first,omitempty"`
	Last       int64               `json:"last,omitempty"`
	Done       []jobstore.Range    `json:"done,omitempty"`
}

// Step operations.
const (
	OpCreateRun        = "createRun"
	OpUpdateRunState   = "updateRunState"
	OpRecordJob        = "recordJob"
	OpUpdateJobState   = "updateJobState"
	OpUpdateBatchState = "updateBatchState"
	OpMarkRowsDone     = "markRowsDone"
	OpSetBatchID       = "setBatchId"
	OpFinishJob        = "finishJob"
)

// apply applies s to the cache.
func (d *Dir) apply(ctx context.Context, s *Step) error {
	st := d.store
	switch s.Op {
	case OpCreateRun:
		return st.CreateRun(ctx, *s.Run)
	case OpUpdateRunState:
		return st.UpdateRunState(ctx, s.RunID, jobstore.RunState(s.State), s.Message)
	case OpRecordJob:
		return st.RecordJob(ctx, *s.Job)
	case OpUpdateJobState:
		return st.UpdateJobState(ctx, s.RunID, s.JobID, jobstore.JobState(s.State))
	case OpUpdateBatchState:
		return st.UpdateBatchState(ctx, s.RunID, s.JobID, s.BatchID, jobstore.JobState(s.State), s.Message)
	case OpMarkRowsDone:
		return st.MarkRowsDone(ctx, s.RunID, s.First, s.Last)
	case OpSetBatchID:
		return st.SetBatchID(ctx, s.RunID, s.JobID, s.BatchID, s.NewBatchID, jobstore.JobState(s.State))
	case OpFinishJob:
		return st.FinishJob(ctx, s.RunID, s.JobID, s.BatchID, s.Done)
	}
	return fmt.Errorf("unknown step %q", s.Op)
}

// openCache opens a fresh local cache and replays the directory's steps into it.
func (d *Dir) openCache(ctx context.Context) error {
	d.cacheDir = d.opts.CacheDir
	if d.cacheDir == "" {
		tmp, err := os.MkdirTemp("", "sfbatch-journal-*")
		if err != nil {
			return fmt.Errorf("dirjournal: cache: %w", err)
		}
		d.cacheDir, d.dropCache = tmp, true
	} else if err := os.MkdirAll(d.cacheDir, 0o700); err != nil {
		return fmt.Errorf("dirjournal: cache: %w", err)
	}
	path := filepath.Join(d.cacheDir, fmt.Sprintf("journal-%d.db", d.lease))
	os.Remove(path)
	st, err := jobstore.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("dirjournal: cache: %w", err)
	}
	d.store = st
	names, err := d.Files("step")
	if err != nil {
		return err
	}
	for _, name := range names {
		b, err := d.ReadFile(name)
		if errors.Is(err, ErrTorn) {
			// Its writer died while writing it: the step it was recording is redone or
			// settled by the resume (see ErrTorn).
			d.opts.Logger.Warn("dirjournal: skipping a step file its writer did not finish", "file", name)
			continue
		}
		if err != nil {
			return fmt.Errorf("dirjournal: reading %s: %w", name, err)
		}
		var s Step
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("dirjournal: %s: %w", name, err)
		}
		if err := d.apply(ctx, &s); err != nil {
			return fmt.Errorf("dirjournal: replaying %s: %w", name, err)
		}
	}
	return nil
}

// Files lists the directory's write-once files of kind (step, or a caller's blob kind) in the
// order they were written.
func (d *Dir) Files(kind string) ([]string, error) {
	ents, err := d.fsys.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("dirjournal: listing %s: %w", d.dir, err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), kind+"-") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// ErrTorn is returned by ReadFile for a file whose writer died before finishing it (storage
// without rename cannot make a file appear whole). Such a file is always the last one of a
// dead attempt, recording a step whose effect the next attempt settles anyway: a job recorded
// as created but not uploaded is aborted and its rows sent again; hashes or results not
// recorded are recomputed or fetched again.
var ErrTorn = errors.New("dirjournal: file not finished by its writer")

// fileMagic starts the 8-byte trailer of every write-once file, followed by the CRC-32 (IEEE)
// of the data: a file without a valid trailer was not written whole.
const fileMagic = "\x00sfj"

// seal appends the trailer to data.
func seal(data []byte) []byte {
	out := make([]byte, 0, len(data)+8)
	out = append(out, data...)
	out = append(out, fileMagic...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(data))
}

// ReadFile reads one write-once file of the directory whole and checks that its writer
// finished it (ErrTorn otherwise).
func (d *Dir) ReadFile(name string) ([]byte, error) {
	b, err := readFile(d.fsys, join(d.dir, name))
	if err != nil {
		return nil, err
	}
	n := len(b) - 8
	if n < 0 || string(b[n:n+4]) != fileMagic || binary.BigEndian.Uint32(b[n+4:]) != crc32.ChecksumIEEE(b[:n]) {
		return nil, fmt.Errorf("%w: %s", ErrTorn, name)
	}
	return b[:n], nil
}

// WriteFile writes data to a new write-once file of kind, named after this attempt's lease and
// sequence so that Files returns it after every file written before it.
func (d *Dir) WriteFile(kind string, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.writeLocked(kind, ".bin", data)
}

func (d *Dir) writeLocked(kind, ext string, data []byte) error {
	if d.lost || d.superseded() {
		d.lost = true
		return ErrLeaseLost
	}
	d.seq++
	name := fmt.Sprintf("%s-%08d-%08d%s", kind, d.lease, d.seq, ext)
	if err := writeOnce(d.fsys, join(d.dir, name), seal(data)); err != nil {
		return fmt.Errorf("dirjournal: writing %s: %w", name, err)
	}
	return nil
}

// step writes s to the directory, then applies it to the cache.
func (d *Dir) step(ctx context.Context, s Step) error {
	b, err := json.Marshal(&s)
	if err != nil {
		return err
	}
	d.mu.Lock()
	err = d.writeLocked("step", ".json", b)
	if err == nil {
		err = d.apply(ctx, &s)
	}
	d.mu.Unlock()
	if err == nil && d.opts.AfterStep != nil {
		d.opts.AfterStep(s)
	}
	return err
}

// CreateRun records a new run.
func (d *Dir) CreateRun(ctx context.Context, r jobstore.Run) error {
	return d.step(ctx, Step{Op: OpCreateRun, Run: &r})
}

// UpdateRunState records how the run ended.
func (d *Dir) UpdateRunState(ctx context.Context, id string, state jobstore.RunState, message string) error {
	return d.step(ctx, Step{Op: OpUpdateRunState, RunID: id, State: string(state), Message: message})
}

// RecordJob implements load.Journal.
func (d *Dir) RecordJob(ctx context.Context, j jobstore.JobRecord) error {
	return d.step(ctx, Step{Op: OpRecordJob, Job: &j})
}

// UpdateJobState implements load.Journal.
func (d *Dir) UpdateJobState(ctx context.Context, runID, jobID string, state jobstore.JobState) error {
	return d.step(ctx, Step{Op: OpUpdateJobState, RunID: runID, JobID: jobID, State: string(state)})
}

// UpdateBatchState implements load.Journal.
func (d *Dir) UpdateBatchState(ctx context.Context, runID, jobID, batchID string, state jobstore.JobState, message string) error {
	return d.step(ctx, Step{Op: OpUpdateBatchState, RunID: runID, JobID: jobID, BatchID: batchID, State: string(state), Message: message})
}

// MarkRowsDone implements load.Journal.
func (d *Dir) MarkRowsDone(ctx context.Context, runID string, first, last int64) error {
	return d.step(ctx, Step{Op: OpMarkRowsDone, RunID: runID, First: first, Last: last})
}

// SetBatchID implements load.Journal.
func (d *Dir) SetBatchID(ctx context.Context, runID, jobID, oldBatchID, newBatchID string, state jobstore.JobState) error {
	return d.step(ctx, Step{Op: OpSetBatchID, RunID: runID, JobID: jobID, BatchID: oldBatchID, NewBatchID: newBatchID, State: string(state)})
}

// FinishJob implements load.Journal.
func (d *Dir) FinishJob(ctx context.Context, runID, jobID, batchID string, done []jobstore.Range) error {
	return d.step(ctx, Step{Op: OpFinishJob, RunID: runID, JobID: jobID, BatchID: batchID, Done: done})
}

// GetRun implements load.Journal.
func (d *Dir) GetRun(ctx context.Context, id string) (jobstore.Run, error) {
	return d.store.GetRun(ctx, id)
}

// Jobs implements load.Journal.
func (d *Dir) Jobs(ctx context.Context, runID string) ([]jobstore.JobRecord, error) {
	return d.store.Jobs(ctx, runID)
}

// DoneRanges implements load.Journal.
func (d *Dir) DoneRanges(ctx context.Context, runID string) (jobstore.Ranges, error) {
	return d.store.DoneRanges(ctx, runID)
}

// LeaseOwner returns the attempt id written in lease file n (for messages and tests).
func (d *Dir) LeaseOwner(n int) (string, error) {
	b, err := readFile(d.fsys, join(d.dir, leaseName(n)))
	if err != nil {
		return "", err
	}
	line, _, _ := bufio.NewReader(bytes.NewReader(b)).ReadLine()
	return string(line), nil
}
