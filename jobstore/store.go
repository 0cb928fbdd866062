package jobstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (also imported in runs.go)
)

// Errors returned by Store methods, wrapped with the ids involved. Test with
// errors.Is.
var (
	ErrNotFound          = errors.New("jobstore: not found")
	ErrExists            = errors.New("jobstore: already exists")
	ErrInvalidTransition = errors.New("jobstore: invalid state transition")
	ErrSchemaTooNew      = errors.New("jobstore: database schema is newer than this program")
	ErrInputChanged      = errors.New("jobstore: the input is not the one the run loaded")
	ErrInvalidRange      = errors.New("jobstore: invalid row range")
)

// BusyTimeout is how long a Store waits for another connection or process
// holding the database lock before failing with SQLITE_BUSY.
const BusyTimeout = 10 * time.Second

// Store is an open job store. It is safe for concurrent use by multiple
// goroutines; writes are serialised on one connection.
type Store struct {
	db  *sql.DB
	now func() time.Time
}

// Option configures Open.
type Option func(*Store)

// WithClock sets the clock used for CreatedAt/UpdatedAt stamps (default
// time.Now).
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open opens (creating if needed) the store at path and migrates its schema.
// The path must not contain '?'. ":memory:" gives a private in-memory store.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("jobstore: invalid database path %q", path)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if path != ":memory:" {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("jobstore: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("jobstore: open %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("jobstore: close: %w", err)
	}
	return nil
}

// migrations returns the schema migrations in order; migration i brings the
// schema to user_version i+1. Never edit a released migration: append a new
// one and raise SchemaVersion.
func migrations() []string {
	return []string{
		// 1: runs, jobs and done row ranges.
		`CREATE TABLE runs (
		id         TEXT PRIMARY KEY,
		object     TEXT NOT NULL,
		operation  TEXT NOT NULL,
		input_path TEXT NOT NULL DEFAULT '',
		input_size INTEGER NOT NULL DEFAULT 0,
		input_hash TEXT NOT NULL DEFAULT '',
		options    TEXT NOT NULL DEFAULT '',
		state      TEXT NOT NULL,
		message    TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE TABLE jobs (
		run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		job_id     TEXT NOT NULL,
		batch_id   TEXT NOT NULL DEFAULT '',
		api        TEXT NOT NULL,
		pass       INTEGER NOT NULL DEFAULT 0,
		first_row  INTEGER NOT NULL,
		last_row   INTEGER NOT NULL,
		state      TEXT NOT NULL,
		message    TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (run_id, job_id, batch_id)
	);
	CREATE TABLE done_ranges (
		run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		first_row INTEGER NOT NULL,
		last_row  INTEGER NOT NULL,
		PRIMARY KEY (run_id, first_row)
	);
	CREATE INDEX jobs_by_rows ON jobs (run_id, first_row);`,
		// 2: the exact rows of a job, in upload order.
		`ALTER TABLE jobs ADD COLUMN rows TEXT NOT NULL DEFAULT '';`,
		// 3: a hash per input row, in blocks of consecutive rows.
		`CREATE TABLE row_hashes (
		run_id    TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		first_row INTEGER NOT NULL,
		hashes    BLOB NOT NULL,
		PRIMARY KEY (run_id, first_row)
	);`,
	}
}

// SchemaVersion is the schema version this package writes (PRAGMA
// user_version).
const SchemaVersion = 3

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("%w: version %d, supported %d", ErrSchemaTooNew, v, SchemaVersion)
	}
	if v == SchemaVersion {
		return tx.Commit()
	}
	steps := migrations()
	for i := v; i < SchemaVersion; i++ {
		if _, err := tx.ExecContext(ctx, steps[i]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	return tx.Commit()
}

// CheckInput verifies that the file at path is the input run runID loaded
// (same size and SHA-256), so that resuming it neither skips nor repeats rows.
// A mismatch is ErrInputChanged.
func (s *Store) CheckInput(ctx context.Context, runID, path string) error {
	r, err := s.GetRun(ctx, runID)
	if err != nil {
		return err
	}
	sum, size, err := HashFile(ctx, path)
	if err != nil {
		return err
	}
	if r.InputHash == "" {
		return fmt.Errorf("%w: run %s recorded no input hash", ErrInputChanged, runID)
	}
	if size != r.InputSize || sum != r.InputHash {
		return fmt.Errorf("%w: %s has %d bytes (SHA-256 %.12s), run %s loaded %s with %d bytes (SHA-256 %.12s)",
			ErrInputChanged, path, size, sum, runID, r.InputPath, r.InputSize, r.InputHash)
	}
	return nil
}

// NewRunID returns a new, sortable run id such as "20240103T235201Z-3f9a1c2b".
func NewRunID(now time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// HashFile returns the hex SHA-256 and the size of the file at path, for
// Run.InputHash and Run.InputSize: a resumer compares them to make sure the
// input has not changed.
func HashFile(ctx context.Context, path string) (sum string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("jobstore: hash input: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", 0, err
		}
		n, rerr := f.Read(buf)
		h.Write(buf[:n])
		size += int64(n)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", 0, fmt.Errorf("jobstore: hash input %s: %w", path, rerr)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}

func (s *Store) stamp() int64 { return s.now().UnixNano() }

func fromStamp(n int64) time.Time { return time.Unix(0, n).UTC() }

// inTx runs fn in an immediate (write) transaction.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("jobstore: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobstore: commit: %w", err)
	}
	return nil
}
