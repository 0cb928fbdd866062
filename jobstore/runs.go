package jobstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
)

// RunState is the state of a run.
type RunState string

// Run states.
const (
	RunRunning   RunState = "running"   // in progress, or killed: resumable
	RunCompleted RunState = "completed" // every row has an outcome
	RunFailed    RunState = "failed"    // stopped by an error; resumable
	RunAborted   RunState = "aborted"   // stopped on request; jobs aborted
	// RunSubmitted: every job was created and filled and left for Salesforce to process
	// (--async); a resumed or settling load collects the results.
	RunSubmitted RunState = "submitted"
)

// Run is one load of one input into one object.
type Run struct {
	ID        string // unique; see NewRunID
	Object    string // sObject, e.g. "Contact"
	Operation string // insert, update, upsert, delete, hardDelete
	InputPath string
	InputSize int64           // bytes; see HashFile
	InputHash string          // hex SHA-256 of the input; see HashFile
	Options   json.RawMessage // the run's options as JSON, opaque to the store
	State     RunState        // RunRunning when created with ""
	Message   string          // why the run failed or was aborted
	CreatedAt time.Time       // set by CreateRun when zero
	UpdatedAt time.Time       // set by the store
}

// CreateRun records a new run. It fails with ErrExists if the id is taken.
func (s *Store) CreateRun(ctx context.Context, r Run) error {
	if r.ID == "" || r.Object == "" || r.Operation == "" {
		return fmt.Errorf("jobstore: create run: ID, Object and Operation are required")
	}
	if len(r.Options) > 0 && !json.Valid(r.Options) {
		return fmt.Errorf("jobstore: create run %s: Options is not valid JSON", r.ID)
	}
	if r.State == "" {
		r.State = RunRunning
	}
	now := s.stamp()
	created := now
	if !r.CreatedAt.IsZero() {
		created = r.CreatedAt.UnixNano()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO runs
		(id, object, operation, input_path, input_size, input_hash, options, state, message, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Object, r.Operation, r.InputPath, r.InputSize, r.InputHash, string(r.Options), string(r.State), r.Message, created, now)
	if isConstraint(err) {
		return fmt.Errorf("%w: run %s", ErrExists, r.ID)
	}
	if err != nil {
		return fmt.Errorf("jobstore: create run %s: %w", r.ID, err)
	}
	return nil
}

const runColumns = `id, object, operation, input_path, input_size, input_hash, options, state, message, created_at, updated_at`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var opts, state string
	var created, updated int64
	if err := sc.Scan(&r.ID, &r.Object, &r.Operation, &r.InputPath, &r.InputSize, &r.InputHash, &opts, &state, &r.Message, &created, &updated); err != nil {
		return Run{}, err
	}
	if opts != "" {
		r.Options = json.RawMessage(opts)
	}
	r.State = RunState(state)
	r.CreatedAt = fromStamp(created)
	r.UpdatedAt = fromStamp(updated)
	return r, nil
}

// GetRun returns the run with the given id, or ErrNotFound.
func (s *Store) GetRun(ctx context.Context, id string) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("%w: run %s", ErrNotFound, id)
	}
	if err != nil {
		return Run{}, fmt.Errorf("jobstore: get run %s: %w", id, err)
	}
	return r, nil
}

// ListRuns returns all runs, newest first.
func (s *Store) ListRuns(ctx context.Context) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+runColumns+` FROM runs ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("jobstore: list runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("jobstore: list runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobstore: list runs: %w", err)
	}
	return out, nil
}

// UpdateRunState sets a run's state and message (the reason for a failure
// or abort; may be empty).
func (s *Store) UpdateRunState(ctx context.Context, id string, state RunState, message string) error {
	switch state {
	case RunRunning, RunCompleted, RunFailed, RunAborted, RunSubmitted:
	default:
		return fmt.Errorf("jobstore: update run %s: unknown state %q", id, state)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET state = ?, message = ?, updated_at = ? WHERE id = ?`,
		string(state), message, s.stamp(), id)
	return checkUpdated(res, err, "update run "+id, "run "+id)
}

// DeleteRun removes a run with its jobs and row ranges.
func (s *Store) DeleteRun(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id)
	return checkUpdated(res, err, "delete run "+id, "run "+id)
}

func checkUpdated(res sql.Result, err error, op, what string) error {
	if err != nil {
		return fmt.Errorf("jobstore: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("jobstore: %s: %w", op, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return nil
}

// sqliteConstraint is SQLITE_CONSTRAINT, the primary result code of
// constraint violations (extended codes keep it in the low byte).
const sqliteConstraint = 19

// isConstraint reports whether err is a SQLite constraint violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqliteConstraint
}
