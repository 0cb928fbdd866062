package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/bits"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
)

// Files of a run folder besides the result files (load.SuccessFile, ...).
const (
	runJournalFile = "run.db"       // the journal (jobstore), 0600
	eventsFile     = "events.jsonl" // job and batch transitions, retries, with timestamps
	summaryFile    = "summary.json" // the run's counts, state and files
	runsRoot       = "sfbatch-runs" // where runs without -o go
	runDirLayout   = "20060102T150405.000000Z"
)

// runDirAttempts is how many random names newRunDir tries before giving up.
const runDirAttempts = 16

// rowHashBlock is how many row hashes hashingSource keeps before writing them to run.db.
const rowHashBlock = 4096

// runFolderFiles are what makes a folder hold a run: -o refuses such a folder without
// --resume or --force, and --force removes them.
func runFolderFiles() []string {
	return []string{runJournalFile, runJournalFile + "-wal", runJournalFile + "-shm", eventsFile, summaryFile,
		load.ResultsFile, load.SuccessFile, load.FailureFile, load.UnprocessedFile, load.PartsDir}
}

// newRunDir creates a fresh default run folder, ./sfbatch-runs/<UTC time>-<suffix>/: the
// time has microseconds and the suffix is random, and the folder is created with Mkdir, so
// two runs never share one.
func newRunDir(now time.Time) (string, error) {
	if err := os.MkdirAll(runsRoot, 0o755); err != nil {
		return "", fmt.Errorf("run folder: %w", err)
	}
	for range runDirAttempts {
		dir := filepath.Join(runsRoot, now.UTC().Format(runDirLayout)+"-"+randomSuffix())
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("run folder: %w", err)
		}
	}
	return "", fmt.Errorf("run folder: no free name under %s", runsRoot)
}

func randomSuffix() string {
	var b [3]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// freshRunDir returns the folder of a new run that is never resumed (an export): dir,
// created, refused when it holds an earlier run (flag names the option that chose it); or,
// when dir is "", a new default folder (newRunDir).
func freshRunDir(dir, flag string) (string, error) {
	if dir == "" {
		return newRunDir(time.Now())
	}
	if holdsRun(dir) {
		return "", usageError{fmt.Errorf("%s %s holds an earlier run: a run folder is never reused; choose another", flag, dir)}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("run folder: %w", err)
	}
	return dir, nil
}

// openRunJournal creates the folder dir if needed and opens its run.db, which is 0600
// (SQLite gives its WAL files the database file's mode).
func openRunJournal(ctx context.Context, dir string) (*jobstore.Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	dbPath := filepath.Join(dir, runJournalFile)
	if f, err := os.OpenFile(dbPath, os.O_CREATE|os.O_RDWR, 0o600); err == nil {
		f.Close()
	}
	os.Chmod(dbPath, 0o600)
	return jobstore.Open(ctx, dbPath)
}

// finish records how a run ended: its state in run.db, summary.json (doc), the last event;
// and prints the folder.
func (rf *runFolder) finish(state jobstore.RunState, msg string, code int, doc any) {
	rf.store.UpdateRunState(context.Background(), rf.run.ID, state, msg)
	if err := writeSummaryFile(rf.dir, doc); err != nil {
		fmt.Fprintf(rf.ios.ErrOut, "sfbatch: %v\n", err)
	}
	rf.events.write("run_finished", map[string]any{"run_id": rf.run.ID, "state": string(state), "exit_code": code, "error": msg})
	if !rf.quiet {
		fmt.Fprintf(rf.ios.ErrOut, "run folder: %s\n", rf.dir)
	}
}

// holdsRun reports whether dir holds (part of) an earlier run.
func holdsRun(dir string) bool {
	for _, f := range runFolderFiles() {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// clearRun removes an earlier run's files from dir (--force).
func clearRun(dir string) error {
	for _, f := range runFolderFiles() {
		if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("--force: %w", err)
		}
	}
	return nil
}

// recordedRun returns the run recorded in dir/run.db, if any, without creating anything.
func recordedRun(ctx context.Context, dir string) (jobstore.Run, bool, error) {
	path := filepath.Join(dir, runJournalFile)
	if _, err := os.Stat(path); err != nil {
		return jobstore.Run{}, false, nil
	}
	st, err := jobstore.Open(ctx, path)
	if err != nil {
		return jobstore.Run{}, false, err
	}
	defer st.Close()
	runs, err := st.ListRuns(ctx)
	if err != nil || len(runs) == 0 {
		return jobstore.Run{}, false, err
	}
	return runs[0], true, nil
}

// eventLog writes events.jsonl: one JSON object per line with its time, appended as things
// happen (each line is one write, so a killed run keeps every line written before). It is
// a load.Progress for job and batch transitions and row retries, and an slog.Handler for
// the engine's and the client's log (request retries with their cause). Safe for
// concurrent use.
type eventLog struct {
	mu   sync.Mutex
	f    *os.File
	next load.Progress // the progress display, also fed every event
	now  func() time.Time
}

func openEventLog(dir string) (*eventLog, error) {
	f, err := os.OpenFile(filepath.Join(dir, eventsFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run folder: %w", err)
	}
	return &eventLog{f: f, now: time.Now}, nil
}

// write appends one event.
func (l *eventLog) write(kind string, fields map[string]any) {
	if l == nil {
		return
	}
	fields["time"] = l.now().UTC().Format(time.RFC3339Nano)
	fields["event"] = kind
	b, err := json.Marshal(fields)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Write(append(b, '\n'))
	}
}

func (l *eventLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// Event records job and batch transitions, row retries and concurrency changes, then passes e on.
func (l *eventLog) Event(e load.Event) {
	switch e.Kind {
	case load.JobState:
		f := map[string]any{"api": e.API.String(), "job": e.JobID, "state": e.State}
		kind := "job"
		if e.BatchID != "" {
			f["batch"], kind = e.BatchID, "batch"
		}
		l.write(kind, f)
	case load.RowsRetried:
		l.write("rows_retried", map[string]any{"api": e.API.String(), "rows": e.Rows, "pass": e.Pass, "wait": e.Wait.String(),
			"cause": "rows failed with a retryable status code (see --retry-codes)"})
	case load.RowsRetriedCode:
		l.write("rows_retried_code", map[string]any{"api": e.API.String(), "rows": e.Rows, "pass": e.Pass, "code": e.Code,
			"wait": e.Wait.String()})
	case load.ConcurrencyChanged:
		l.write("concurrency", map[string]any{"api": e.API.String(), "from": e.PrevConcurrency, "to": e.Concurrency, "cause": e.Cause})
	}
	if l.next != nil {
		l.next.Event(e)
	}
}

// usageEvery is how often watchUsage looks at the org's API usage.
const usageEvery = time.Second

// watchUsage writes an api_usage event (requests used in the org's 24-hour window, and the
// allocation, from the Sforce-Limit-Info header of the client's last response) whenever it
// changed, at most once every usageEvery, and once more when stopped. stop waits for the
// watcher to end.
func watchUsage(ctx context.Context, c *salesforce.Client, l *eventLog) (stop func()) {
	done, ended := make(chan struct{}), make(chan struct{})
	var last salesforce.LimitInfo
	record := func() {
		if li := c.LimitInfo(); li.Max > 0 && (li.Used != last.Used || li.Max != last.Max) {
			last = li
			l.write("api_usage", map[string]any{"used": li.Used, "max": li.Max})
		}
	}
	go func() {
		defer close(ended)
		t := time.NewTicker(usageEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				record()
				return
			case <-ctx.Done():
				record()
				return
			case <-t.C:
				record()
			}
		}
	}()
	return func() {
		close(done)
		<-ended
	}
}

// logHandler is the slog.Handler side of an eventLog: records at Info and above become
// "log" events with their attributes (request retries carry the error that caused them).
type logHandler struct {
	l     *eventLog
	attrs []slog.Attr
}

func (h logHandler) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelInfo }

func (h logHandler) Handle(_ context.Context, r slog.Record) error {
	f := map[string]any{"level": r.Level.String(), "message": r.Message}
	add := func(a slog.Attr) bool {
		f[a.Key] = a.Value.Resolve().String()
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	kind := "log"
	if r.Message == "salesforce: retrying request" {
		kind = "request_retried"
	}
	h.l.write(kind, f)
	return nil
}

func (h logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{l: h.l, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h logHandler) WithGroup(string) slog.Handler { return h }

// Versions of the row hash recorded in run.db (see rowHasher). A run records the version
// it uses in its options (runOptions); a run recorded without one used rowHashFNV.
const (
	rowHashFNV  = 1 // rowHashV1
	rowHashXXH3 = 2 // rowHashV2, the version of new runs
)

// runOptions is what a run records in jobstore.Run.Options for the runs that resume it.
type runOptions struct {
	// RowHash is the version of the row hash in run.db; absent (0) means rowHashFNV.
	RowHash int `json:"row_hash,omitempty"`
}

// newRunOptions returns the options a new run records.
func newRunOptions() json.RawMessage {
	b, _ := json.Marshal(runOptions{RowHash: rowHashXXH3})
	return b
}

// rowHasher returns the row hash function of a run recorded with options opts: the one
// its journaled row hashes were made with, which a resumed run keeps using.
func rowHasher(opts json.RawMessage) (func(vals []string, rejected bool) uint64, error) {
	var ro runOptions
	if len(opts) > 0 {
		if err := json.Unmarshal(opts, &ro); err != nil {
			return nil, fmt.Errorf("run options: %w", err)
		}
	}
	switch ro.RowHash {
	case 0, rowHashFNV:
		return rowHashV1, nil
	case rowHashXXH3:
		return rowHashV2, nil
	}
	return nil, fmt.Errorf("run.db records row hash version %d, which this sfbatch does not know; resume the run with a newer sfbatch", ro.RowHash)
}

// rowHashV1 is the stable hash of one input row recorded in run.db by runs that record no
// row hash version: FNV-1a over the cells, each followed by a 0 byte, and a marker for a
// row the reader rejected.
func rowHashV1(vals []string, rejected bool) uint64 {
	// hash/fnv's New64a, written out: no allocation and no call per byte.
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	if rejected {
		h = (h ^ 1) * prime64
	}
	for _, v := range vals {
		for i := 0; i < len(v); i++ {
			h = (h ^ uint64(v[i])) * prime64
		}
		h *= prime64 // the 0 byte after each cell: h ^ 0 == h
	}
	return h
}

// rowHashV2 is the stable hash of one input row recorded in run.db (rowHashXXH3): the XXH3
// hash of every cell (which covers its length, so cell boundaries count), combined in
// order, starting from a value that marks a row the reader rejected and the number of
// cells. XXH3 reads 8 to 32 bytes per step where FNV-1a reads one.
func rowHashV2(vals []string, rejected bool) uint64 {
	const prime = 0x9E3779B97F4A7C15 // 2^64 / golden ratio, odd
	h := uint64(len(vals))
	if rejected {
		h |= 1 << 63
	}
	h = (h ^ 0x27D4EB2F165667C5) * prime
	for _, v := range vals {
		h = bits.RotateLeft64(h^xxh3.HashString(v), 31) * prime
	}
	// MurmurHash3's finalizer: every input bit reaches every output bit.
	h ^= h >> 33
	h *= 0xFF51AFD7ED558CCD
	h ^= h >> 33
	h *= 0xC4CEB9FE1A85EC53
	return h ^ h>>33
}

// hashingSource records a hash per row in run.db as the rows are read, for a run whose input
// has no recorded SHA-256 (standard input read as it streams): resuming such a run compares
// the rows it read with them (checkRowHashes). Hashes are written in
// blocks; the journal wrapper (hashJournal) writes the pending block before the engine
// records a job, so every row that may have been sent has its hash recorded. Next is called
// by one goroutine; flush may be called from others.
type hashingSource struct {
	load.Source
	store *jobstore.Store
	runID string
	hash  func(vals []string, rejected bool) uint64 // the run's row hash (rowHasher); nil records none

	mu      sync.Mutex
	first   int64 // row of pending[0]
	pending []uint64
	err     error
}

func (s *hashingSource) Next() (load.Row, error) {
	row, err := s.Source.Next()
	if s.hash == nil {
		return row, err
	}
	var ie *load.InputError
	switch {
	case err == nil:
		s.add(row.Number, s.hash(row.Values, false))
	case errors.As(err, &ie) && ie.Row > 0:
		s.add(ie.Row, s.hash(ie.Values, true))
	}
	return row, err
}

func (s *hashingSource) add(n int64, h uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) > 0 && n != s.first+int64(len(s.pending)) {
		s.flushLocked(context.Background())
	}
	if len(s.pending) == 0 {
		s.first = n
	}
	s.pending = append(s.pending, h)
	if len(s.pending) >= rowHashBlock {
		s.flushLocked(context.Background())
	}
}

// flush writes the pending hashes.
func (s *hashingSource) flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushLocked(ctx)
}

func (s *hashingSource) flushLocked(ctx context.Context) error {
	if len(s.pending) > 0 && s.err == nil {
		s.err = s.store.AddRowHashes(context.WithoutCancel(ctx), s.runID, s.first, s.pending)
		s.first += int64(len(s.pending))
		s.pending = s.pending[:0]
	}
	return s.err
}

// Name names the wrapped source's input.
func (s *hashingSource) Name() string {
	if n, ok := s.Source.(interface{ Name() string }); ok {
		return n.Name()
	}
	return ""
}

// Close closes the wrapped source, if it can be closed.
func (s *hashingSource) Close() error {
	if c, ok := s.Source.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// hashJournal is the run's journal: run.db, with the pending row hashes written before any
// step that records rows.
type hashJournal struct {
	*jobstore.Store
	src *hashingSource
}

func (j hashJournal) RecordJob(ctx context.Context, rec jobstore.JobRecord) error {
	if err := j.src.flush(ctx); err != nil {
		return err
	}
	return j.Store.RecordJob(ctx, rec)
}

func (j hashJournal) MarkRowsDone(ctx context.Context, runID string, first, last int64) error {
	if err := j.src.flush(ctx); err != nil {
		return err
	}
	return j.Store.MarkRowsDone(ctx, runID, first, last)
}

// checkRowHashes compares the rows of src with the hashes run recorded (made with the row
// hash its options name): the first row that differs (or is missing) is
// jobstore.ErrInputChanged. Rows past the recorded ones are not checked.
func checkRowHashes(ctx context.Context, st *jobstore.Store, run jobstore.Run, src load.Source) error {
	rowHash, err := rowHasher(run.Options)
	if err != nil {
		return err
	}
	runID := run.ID
	next := int64(1)
	var cur uint64
	read := func() (int64, uint64, bool) {
		for {
			row, err := src.Next()
			var ie *load.InputError
			switch {
			case err == nil:
				return row.Number, rowHash(row.Values, false), true
			case errors.As(err, &ie) && ie.Row > 0:
				return ie.Row, rowHash(ie.Values, true), true
			default:
				return 0, 0, false
			}
		}
	}
	return st.RowHashes(ctx, runID, func(first int64, hs []uint64) error {
		for i, want := range hs {
			n := first + int64(i)
			for next <= n {
				var num int64
				var ok bool
				num, cur, ok = read()
				if !ok {
					return fmt.Errorf("%w: it ends before row %d, which the interrupted run read", jobstore.ErrInputChanged, n)
				}
				next = num + 1
				if num == n {
					break
				}
			}
			if cur != want {
				return fmt.Errorf("%w: row %d differs from the row the interrupted run read", jobstore.ErrInputChanged, n)
			}
		}
		return nil
	})
}

// summaryFileDoc is summary.json: the --json summary plus the run's identity and state.
type summaryFileDoc struct {
	RunID string `json:"run_id"`
	State string `json:"state"`
	Input struct {
		Path   string `json:"path"`
		Size   int64  `json:"size,omitempty"`
		SHA256 string `json:"sha256,omitempty"`
	} `json:"input"`
	ExitCode int `json:"exit_code"`
	summaryDoc
}

// writeSummaryFile writes summary.json atomically.
func writeSummaryFile(dir string, doc any) error {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+summaryFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", summaryFile, err)
	}
	return os.Rename(tmp, filepath.Join(dir, summaryFile))
}
