package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	_ "modernc.org/sqlite" // the "sqlite" driver of the local result index

	"github.com/sfbatch/sfbatch/dirjournal"
	"github.com/sfbatch/sfbatch/jobstore"
	"github.com/sfbatch/sfbatch/load"
)

// Files pipe keeps in a journal directory beside the steps (dirjournal.Dir.WriteFile kinds).
const (
	// hashFileKind files hold row hashes: the first row number (8 bytes, big endian), then
	// rowHashSize bytes per row, in row order.
	hashFileKind = "hashes"
	// resultFileKind files hold result rows as JSON Lines (storedResult), written when the
	// engine makes outcomes durable, before it records their rows as done.
	resultFileKind = "results"
)

// Limits of the journal files.
const (
	// hashFileRows is how many row hashes one hashes file holds (1 MiB).
	hashFileRows = 65536
	// rowHashSize is the bytes of a row's hash (SHA-256, truncated).
	rowHashSize = 16
)

// envKillAfterSent is the test-only fault hook: pipe SIGKILLs itself right after the N-th
// request carrying rows has been sent and journaled.
const envKillAfterSent = "SFBATCH_PIPE_TEST_KILL_AFTER_SENT"

// storedResult is one result row in a results file (the key columns are not stored: they are
// read again from the input, which is checked row by row against its hashes).
type storedResult struct {
	Row     int64  `json:"r"`
	Outcome string `json:"o"`
	ID      string `json:"i,omitempty"`
	Created *bool  `json:"c,omitempty"`
	Code    string `json:"e,omitempty"`
	Message string `json:"m,omitempty"`
	Fields  string `json:"f,omitempty"`
	Job     string `json:"j,omitempty"`
	Batch   string `json:"b,omitempty"`
}

// resultLog gathers result rows and writes them to the journal directory as one write-once
// file per sync. Used under pipeSink's lock.
type resultLog struct {
	dir *dirjournal.Dir
	buf bytes.Buffer
}

func (l *resultLog) add(r *pipeResult) {
	b, _ := json.Marshal(storedResult{Row: r.row, Outcome: r.outcome, ID: r.id, Created: r.created, Code: r.code,
		Message: r.message, Fields: r.fields, Job: r.job, Batch: r.batch})
	l.buf.Write(b)
	l.buf.WriteByte('\n')
}

func (l *resultLog) sync() error {
	if l.buf.Len() == 0 {
		return nil
	}
	if err := l.dir.WriteFile(resultFileKind, l.buf.Bytes()); err != nil {
		return err
	}
	l.buf.Reset()
	return nil
}

// resultIndex is the latest stored result of each row, in a local SQLite file.
type resultIndex struct {
	db  *sql.DB
	get *sql.Stmt
}

// buildResultIndex reads every results file of dir, in the order they were written, into a
// new index at path.
func buildResultIndex(ctx context.Context, dir *dirjournal.Dir, path string) (*resultIndex, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	x := &resultIndex{db: db}
	if _, err := db.ExecContext(ctx, `CREATE TABLE results (row INTEGER PRIMARY KEY, data BLOB NOT NULL)`); err != nil {
		x.close()
		return nil, err
	}
	names, err := dir.Files(resultFileKind)
	if err != nil {
		x.close()
		return nil, err
	}
	for _, name := range names {
		b, err := dir.ReadFile(name)
		if errors.Is(err, dirjournal.ErrTorn) {
			continue // its rows were not recorded done: the engine gives them a result again
		}
		if err != nil {
			x.close()
			return nil, fmt.Errorf("journal: %s: %w", name, err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			x.close()
			return nil, err
		}
		for line := range bytes.Lines(b) {
			var r storedResult
			if err := json.Unmarshal(line, &r); err != nil {
				tx.Rollback()
				x.close()
				return nil, fmt.Errorf("journal: %s: %w", name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO results (row, data) VALUES (?, ?)`, r.Row, bytes.TrimSpace(line)); err != nil {
				tx.Rollback()
				x.close()
				return nil, err
			}
		}
		if err := tx.Commit(); err != nil {
			x.close()
			return nil, err
		}
	}
	if x.get, err = db.PrepareContext(ctx, `SELECT data FROM results WHERE row = ?`); err != nil {
		x.close()
		return nil, err
	}
	return x, nil
}

// lookup returns the stored result of row.
func (x *resultIndex) lookup(row int64) (*pipeResult, bool, error) {
	var b []byte
	if err := x.get.QueryRow(row).Scan(&b); errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	var r storedResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, false, err
	}
	return &pipeResult{row: r.Row, outcome: r.Outcome, id: r.ID, created: r.Created, code: r.Code, message: r.Message,
		fields: r.Fields, job: r.Job, batch: r.Batch, stored: true}, true, nil
}

func (x *resultIndex) close() {
	if x.get != nil {
		x.get.Close()
	}
	x.db.Close()
}

// pipeRowHash is the hash of a row as the engine would send it (or of the reason it cannot be).
func pipeRowHash(vals []string, bad error) [rowHashSize]byte {
	h := sha256.New()
	var n [8]byte
	if bad != nil {
		h.Write([]byte("\x00invalid\x00"))
		h.Write([]byte(bad.Error()))
	}
	for _, v := range vals {
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	var out [rowHashSize]byte
	copy(out[:], h.Sum(nil))
	return out
}

// hashLog reads the recorded row hashes in row order and writes new ones.
type hashLog struct {
	dir   *dirjournal.Dir
	names []string
	cur   []byte // current file's hashes
	next  int64  // row number of cur[0:rowHashSize]
	// new hashes, from row newFirst on
	newFirst int64
	newBuf   []byte
}

// recorded returns the recorded hash of row n (rows are asked for in order), and false past
// the last recorded row.
func (h *hashLog) recorded(n int64) ([rowHashSize]byte, bool, error) {
	var out [rowHashSize]byte
	for len(h.cur) == 0 {
		if len(h.names) == 0 {
			return out, false, nil
		}
		b, err := h.dir.ReadFile(h.names[0])
		if errors.Is(err, dirjournal.ErrTorn) {
			// The last file of an attempt that died writing it: its rows were not sent
			// (hashes are written before anything is), and count as not recorded.
			h.names = h.names[1:]
			continue
		}
		if err != nil {
			return out, false, fmt.Errorf("journal: %s: %w", h.names[0], err)
		}
		if len(b) < 8 || (len(b)-8)%rowHashSize != 0 {
			return out, false, fmt.Errorf("journal: %s is not a hashes file", h.names[0])
		}
		first := int64(binary.BigEndian.Uint64(b))
		h.names = h.names[1:]
		if first != n {
			return out, false, fmt.Errorf("journal: hashes from row %d where row %d was expected", first, n)
		}
		h.cur, h.next = b[8:], first
	}
	copy(out[:], h.cur[:rowHashSize])
	h.cur = h.cur[rowHashSize:]
	h.next++
	return out, true, nil
}

// add records the hash of row n, past the recorded ones.
func (h *hashLog) add(n int64, sum [rowHashSize]byte) error {
	if h.newBuf == nil {
		h.newFirst = n
		h.newBuf = binary.BigEndian.AppendUint64(make([]byte, 0, 8+hashFileRows*rowHashSize), uint64(n))
	}
	h.newBuf = append(h.newBuf, sum[:]...)
	if len(h.newBuf) >= 8+hashFileRows*rowHashSize {
		return h.flush()
	}
	return nil
}

func (h *hashLog) flush() error {
	if len(h.newBuf) <= 8 {
		return nil
	}
	if err := h.dir.WriteFile(hashFileKind, h.newBuf); err != nil {
		return err
	}
	h.newBuf = nil
	return nil
}

// errNotDeterministic marks input that differs from what an earlier attempt read.
var errNotDeterministic = errors.New("the input is not deterministic")

// checkPipeInput copies standard input to spool while checking every row against the hashes
// earlier attempts recorded, and records the hashes of rows past them. It returns the number
// of rows, and an input error (a broken stream) separately from the other errors: rows read
// before one still get a result row.
func checkPipeInput(stdin io.Reader, spool io.Writer, cfg *pipeConfig, hashes *hashLog) (rows int64, inputErr, err error) {
	in, err := openPipeInput(bufio.NewReaderSize(io.TeeReader(stdin, spool), pipeInputBuffer), cfg.format, cfg.zone, cfg.nullText, cfg.opts.ColumnDelimiter)
	if err != nil {
		return 0, err, nil
	}
	defer in.release()
	for {
		row, rerr := in.Next()
		var ie *load.InputError
		var bad error
		switch {
		case rerr == io.EOF:
			if _, more, herr := hashes.recorded(rows + 1); herr != nil {
				return rows, nil, herr
			} else if more {
				return rows, nil, fmt.Errorf("%w: it ends after %d rows, an earlier attempt of this run read more", errNotDeterministic, rows)
			}
			return rows, nil, hashes.flush()
		case errors.As(rerr, &ie) && errors.Is(rerr, load.ErrValue) && ie.Row > 0:
			row.Number, bad = ie.Row, rerr
		case rerr != nil:
			return rows, rerr, nil
		}
		rows++
		sum := pipeRowHash(row.Values, bad)
		want, ok, herr := hashes.recorded(rows)
		if herr != nil {
			return rows, nil, herr
		}
		if !ok {
			if err := hashes.add(rows, sum); err != nil {
				return rows, nil, err
			}
		} else if want != sum {
			return rows, nil, fmt.Errorf("%w: row %d differs from the row an earlier attempt of this run read and may have sent; nothing was sent", errNotDeterministic, rows)
		}
	}
}

// carriesRows reports whether a journal step records that a request carrying rows was sent:
// a Bulk API upload, or a collections call whose results came back.
func carriesRows(s dirjournal.Step) bool {
	switch s.Op {
	case dirjournal.OpUpdateJobState, dirjournal.OpUpdateBatchState, dirjournal.OpSetBatchID:
		return s.State == string(jobstore.JobUploaded)
	case dirjournal.OpFinishJob:
		return strings.HasPrefix(s.JobID, "collections-")
	}
	return false
}

// attemptID names this attempt in lease files: host, process and a random part.
func attemptID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// runJournaledPipe is pipe with --run-id and --journal-dir: it takes the journal directory
// (waiting while another attempt owns it), spools and checks the input against the recorded
// row hashes before anything is sent, writes the stored results of rows done by earlier
// attempts, and resumes the run for the rest.
func runJournaledPipe(ctx context.Context, ios *IOStreams, ev *pipeEvents, o *pipeOptions, cfg *pipeConfig, stdin io.Reader) int {
	fail := pipeFail(ctx, ev)
	work, err := newPipeWorkDir()
	if err != nil {
		return fail(ExitError, "Error", err)
	}
	defer os.RemoveAll(work)

	jopts := dirjournal.Options{FS: o.fs, LeasePeriod: o.LeasePeriod, Attempt: attemptID(), CacheDir: filepath.Join(work, "cache"),
		Logger: newPipeLogger(ev), Waiting: func(owner string) {
			ev.emit(map[string]any{"event": "waiting", "owner": owner, "runId": o.RunID})
		}}
	jopts.AfterStep = o.afterStep
	if n, err := strconv.Atoi(o.env(envKillAfterSent)); err == nil && n > 0 {
		var sent atomic.Int64
		jopts.AfterStep = func(s dirjournal.Step) {
			if carriesRows(s) && sent.Add(1) == int64(n) {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
	dir, err := dirjournal.Open(ctx, o.JournalDir, o.RunID, jopts)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fail(ExitCancelled, "Cancelled", err)
		}
		return fail(ExitError, "JournalError", err)
	}
	defer dir.Close()

	// Check the whole input before anything is sent.
	spoolPath := filepath.Join(work, "input")
	spool, err := os.Create(spoolPath)
	if err != nil {
		return fail(ExitError, "Error", err)
	}
	names, err := dir.Files(hashFileKind)
	if err != nil {
		spool.Close()
		return fail(ExitError, "JournalError", err)
	}
	rows, inputErr, err := checkPipeInput(stdin, spool, cfg, &hashLog{dir: dir, names: names})
	if cerr := spool.Close(); err == nil && cerr != nil {
		err = cerr
	}
	switch {
	case errors.Is(err, errNotDeterministic):
		return fail(ExitUsage, "InputChanged", err)
	case err != nil:
		return fail(ExitError, "JournalError", err)
	}

	opts := cfg.opts
	run, err := dir.GetRun(ctx, o.RunID)
	exists := err == nil
	switch {
	case err != nil && !errors.Is(err, jobstore.ErrNotFound):
		return fail(ExitError, "JournalError", err)
	case exists && run.State == jobstore.RunAborted:
		return fail(ExitUsage, "RunAborted", fmt.Errorf("--run-id %s: the run was aborted (%s); nothing is sent", o.RunID, run.Message))
	case exists && (!strings.EqualFold(run.Object, opts.Object) || !strings.EqualFold(run.Operation, string(opts.Operation))):
		return fail(ExitUsage, "UsageError", fmt.Errorf("--run-id %s: the run loads %s with %s, not %s with %s", o.RunID, run.Object, run.Operation, opts.Object, opts.Operation))
	}
	done, err := dir.DoneRanges(ctx, o.RunID)
	if err != nil && exists {
		return fail(ExitError, "JournalError", err)
	}
	index, err := buildResultIndex(ctx, dir, filepath.Join(work, "results.db"))
	if err != nil {
		return fail(ExitError, "JournalError", err)
	}
	defer index.close()

	f, err := os.Open(spoolPath)
	if err != nil {
		return fail(ExitError, "Error", err)
	}
	defer f.Close()
	in, err := openPipeInput(bufio.NewReaderSize(f, pipeInputBuffer), cfg.format, cfg.zone, cfg.nullText, opts.ColumnDelimiter)
	if err != nil {
		return fail(ExitUsage, "InputError", err)
	}
	defer in.release()
	keyIdx, err := keyColumns(in.Header(), o.KeyColumns, cfg.format == pipeJSONL)
	if err != nil {
		return fail(ExitUsage, "UsageError", err)
	}
	out := cfg.newOutput(ios.Out, o.KeyColumns, in, keyIdx)
	sink := &pipeSink{out: out, keys: map[int64][]keyCell{}, durable: &resultLog{dir: dir}}
	src := &pipeSource{in: in, sink: sink, keyIdx: keyIdx, done: done, stored: index}

	if inputErr != nil {
		// A broken stream: nothing is sent. Rows read before the break get their stored
		// result, "unknown" if an earlier attempt's job that carried them has no result,
		// else "not_processed".
		sink.durable = nil
		inFlight := jobstore.Ranges{}
		if exists {
			jobs, err := dir.Jobs(ctx, o.RunID)
			if err != nil {
				return fail(ExitError, "JournalError", err)
			}
			for _, j := range jobs {
				if !j.State.Final() {
					for n := j.FirstRow; n <= j.LastRow; n++ {
						inFlight = jobstore.AppendRow(inFlight, n)
					}
				}
			}
		}
		msg := "not sent: the input broke off: " + inputErr.Error()
		derr := drainWithoutSending(src, func(n int64) *pipeResult {
			if inFlight.Contains(n) {
				return &pipeResult{row: n, outcome: outcomeUnknown, code: load.StatusAborted, message: "an earlier attempt sent this row and its outcome is not known yet; " + msg}
			}
			return &pipeResult{row: n, outcome: outcomeNotProcessed, code: load.StatusAborted, message: msg}
		})
		if cerr := sink.close(); derr == nil {
			derr = cerr
		}
		if derr != nil && !isInputError(derr) {
			return fail(ExitError, "OutputError", derr)
		}
		pipeSummary(ev, o, sink, nil)
		return fail(ExitUsage, "InputError", inputErr)
	}

	if exists && run.State == jobstore.RunCompleted {
		// An earlier attempt finished: write its results again, send nothing.
		err := drainWithoutSending(src, func(n int64) *pipeResult {
			return &pipeResult{row: n, outcome: outcomeUnknown, code: load.StatusNoResult, message: "the run completed without a stored result for this row"}
		})
		if cerr := sink.close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fail(ExitError, "OutputError", err)
		}
		return pipeSummary(ev, o, sink, nil)
	}
	if !exists {
		if err := dir.CreateRun(ctx, jobstore.Run{ID: o.RunID, Object: opts.Object, Operation: string(opts.Operation), InputPath: "stdin"}); err != nil {
			return fail(ExitError, "JournalError", err)
		}
	} else {
		opts.Resume = true
	}
	if rows == 0 {
		if err := dir.UpdateRunState(ctx, o.RunID, jobstore.RunCompleted, ""); err != nil {
			return fail(ExitError, "JournalError", err)
		}
		if err := sink.close(); err != nil {
			return fail(ExitError, "OutputError", err)
		}
		return pipeSummary(ev, o, sink, nil)
	}
	c, pf := o.connect(ctx, cfg)
	if pf != nil {
		out.close()
		return fail(pf.code, pf.name, pf.err)
	}
	opts.Journal, opts.RunID = dir, o.RunID
	return runPipeEngine(ctx, ev, o, c, src, sink, opts, func(loadErr error) error {
		state, msg := jobstore.RunCompleted, ""
		switch {
		case loadErr != nil:
			state, msg = jobstore.RunFailed, loadErr.Error()
		case sink.snapshot().Unknown > 0:
			// Not complete while a row's outcome is unknown: the next attempt settles it.
			state, msg = jobstore.RunFailed, "rows with an unknown outcome remain"
		}
		// Results first, then the run's end: a run recorded completed has every result stored.
		if err := sink.Sync(); err != nil {
			return err
		}
		return dir.UpdateRunState(context.WithoutCancel(ctx), o.RunID, state, msg)
	})
}

func isInputError(err error) bool {
	var ie *load.InputError
	return errors.As(err, &ie)
}

// drainWithoutSending reads src to its end without sending anything: rows done by an earlier
// attempt get their stored result (pipeSource writes it), every other row label(n). An input
// error ends it.
func drainWithoutSending(src *pipeSource, label func(n int64) *pipeResult) error {
	for {
		row, err := src.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if src.isDone(row.Number) {
			continue
		}
		if err := src.sink.put(label(row.Number)); err != nil {
			return err
		}
	}
}

// pipeWorkPrefix starts the names of journaled attempts' local working directories (input
// spool, caches): pipeWorkPrefix + PID + "-" + random.
const pipeWorkPrefix = "sfbatch-pipe-"

// newPipeWorkDir creates this attempt's working directory (0700) after removing those of
// attempts whose process is gone (killed before they could clean up: their spools hold input
// data).
func newPipeWorkDir() (string, error) {
	removeStaleWorkDirs(os.TempDir())
	return os.MkdirTemp("", fmt.Sprintf("%s%d-*", pipeWorkPrefix, os.Getpid()))
}

func removeStaleWorkDirs(tmp string) {
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), pipeWorkPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		os.RemoveAll(filepath.Join(tmp, e.Name()))
	}
}

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
