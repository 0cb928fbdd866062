package jobstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// API is the Salesforce API a job was sent through.
type API string

// APIs.
const (
	APIBulk2       API = "bulk2"       // Bulk API 2.0 ingest job
	APIBulk1       API = "bulk1"       // Bulk API 1.0 batch (JobID + BatchID)
	APICollections API = "collections" // sObject Collections call
)

// JobState is how far a job got. States only move forward:
// JobCreated -> JobUploaded -> JobClosed -> JobResultsFetched, and any
// state before JobResultsFetched may move to JobAborted or JobFailed.
// JobResultsFetched, JobAborted and JobFailed are final.
type JobState string

// Job states.
const (
	JobCreated        JobState = "created"         // exists on the server, no data yet
	JobUploaded       JobState = "uploaded"        // data sent: rows may be processed
	JobClosed         JobState = "closed"          // upload complete, processing
	JobResultsFetched JobState = "results_fetched" // outcomes of its rows are saved
	JobAborted        JobState = "aborted"         // aborted; rows not processed unless uploaded before
	JobFailed         JobState = "failed"          // failed as a whole
)

// rank orders the forward states; final states have no successor.
func (st JobState) rank() (int, bool) {
	switch st {
	case JobCreated:
		return 0, true
	case JobUploaded:
		return 1, true
	case JobClosed:
		return 2, true
	case JobResultsFetched:
		return 3, true
	case JobAborted, JobFailed:
		return 4, true
	}
	return 0, false
}

// Final reports whether no further state change is allowed.
func (st JobState) Final() bool {
	return st == JobResultsFetched || st == JobAborted || st == JobFailed
}

// canMove reports whether a job may go from st to next. Staying in the same
// state is allowed, so recording a step twice is harmless.
func (st JobState) canMove(next JobState) bool {
	if st == next {
		return true
	}
	if st.Final() {
		return false
	}
	if next == JobAborted || next == JobFailed {
		return true
	}
	a, _ := st.rank()
	b, _ := next.rank()
	return b > a
}

// JobRecord is one unit of upload: a Bulk API 2.0 job, a Bulk API 1.0 batch
// or a collections call, with the input rows it carries.
type JobRecord struct {
	RunID    string
	JobID    string // Salesforce job id (for collections: a caller-chosen id)
	BatchID  string // Bulk API 1.0 batch id; "" otherwise
	API      API
	Pass     int   // 0 for the first attempt, 1.. for retry passes
	FirstRow int64 // first input row carried (inclusive)
	LastRow  int64 // last input row carried (inclusive)
	// Rows lists the rows carried, in upload order, as runs of consecutive
	// row numbers. Nil means every row from FirstRow to LastRow, in order.
	// Rows that are not contiguous (retry passes, GroupBy) need it: a
	// resumer re-reads exactly these rows to join the job's results.
	Rows      []Range
	State     JobState
	Message   string    // error message for JobFailed/JobAborted
	CreatedAt time.Time // set by the store
	UpdatedAt time.Time // set by the store
}

// RecordJob records a job (JobCreated when State is ""). Recording the same
// job again (same RunID, JobID and BatchID) updates its row range, pass and
// state, subject to the forward-only state rule; so a step repeated after a
// crash is harmless. The run must exist.
func (s *Store) RecordJob(ctx context.Context, j JobRecord) error {
	if j.State == "" {
		j.State = JobCreated
	}
	if _, ok := j.State.rank(); !ok {
		return fmt.Errorf("jobstore: record job %s: unknown state %q", j.JobID, j.State)
	}
	switch j.API {
	case APIBulk2, APIBulk1, APICollections:
	default:
		return fmt.Errorf("jobstore: record job %s: unknown API %q", j.JobID, j.API)
	}
	if j.JobID == "" {
		return fmt.Errorf("jobstore: record job: JobID is required")
	}
	if j.FirstRow > j.LastRow || j.FirstRow < 0 {
		return fmt.Errorf("%w: job %s rows %d-%d", ErrInvalidRange, j.JobID, j.FirstRow, j.LastRow)
	}
	for _, r := range j.Rows {
		if r.First > r.Last || r.First < j.FirstRow || r.Last > j.LastRow {
			return fmt.Errorf("%w: job %s rows %d-%d outside %d-%d", ErrInvalidRange, j.JobID, r.First, r.Last, j.FirstRow, j.LastRow)
		}
	}
	rows := EncodeRows(j.Rows)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.stamp()
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT state FROM jobs WHERE run_id = ? AND job_id = ? AND batch_id = ?`,
			j.RunID, j.JobID, j.BatchID).Scan(&cur)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO jobs
				(run_id, job_id, batch_id, api, pass, first_row, last_row, state, message, created_at, updated_at, rows)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				j.RunID, j.JobID, j.BatchID, string(j.API), j.Pass, j.FirstRow, j.LastRow, string(j.State), j.Message, now, now, rows)
			if isConstraint(err) {
				return fmt.Errorf("%w: run %s", ErrNotFound, j.RunID)
			}
		case err != nil:
		default:
			if !JobState(cur).canMove(j.State) {
				return fmt.Errorf("%w: job %s from %s to %s", ErrInvalidTransition, jobName(j.JobID, j.BatchID), cur, j.State)
			}
			_, err = tx.ExecContext(ctx, `UPDATE jobs SET api = ?, pass = ?, first_row = ?, last_row = ?, state = ?, message = ?, updated_at = ?, rows = ?
				WHERE run_id = ? AND job_id = ? AND batch_id = ?`,
				string(j.API), j.Pass, j.FirstRow, j.LastRow, string(j.State), j.Message, now, rows, j.RunID, j.JobID, j.BatchID)
		}
		if err != nil {
			return fmt.Errorf("jobstore: record job %s: %w", jobName(j.JobID, j.BatchID), err)
		}
		return nil
	})
}

func jobName(jobID, batchID string) string {
	if batchID == "" {
		return jobID
	}
	return jobID + "/" + batchID
}

// UpdateJobState moves every record of a job (all its Bulk API 1.0 batches)
// to state. It fails with ErrNotFound if the job is unknown and with
// ErrInvalidTransition if a record would move backwards or leave a final
// state; then nothing changes.
func (s *Store) UpdateJobState(ctx context.Context, runID, jobID string, state JobState) error {
	return s.updateState(ctx, runID, jobID, nil, state, "")
}

// UpdateBatchState moves one record (one Bulk API 1.0 batch, or a job when
// batchID is "") to state with an optional message (the failure reason).
func (s *Store) UpdateBatchState(ctx context.Context, runID, jobID, batchID string, state JobState, message string) error {
	return s.updateState(ctx, runID, jobID, &batchID, state, message)
}

// SetBatchID gives a record its real Bulk API 1.0 batch id: the engine
// records a batch under a placeholder id before adding it (so that a crash
// while the batch is being added is noticed) and renames it, moving it to
// state, once Salesforce has answered.
func (s *Store) SetBatchID(ctx context.Context, runID, jobID, oldBatchID, newBatchID string, state JobState) error {
	if _, ok := state.rank(); !ok {
		return fmt.Errorf("jobstore: update job %s: unknown state %q", jobID, state)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.updateStateTx(ctx, tx, runID, jobID, &oldBatchID, state, ""); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET batch_id = ? WHERE run_id = ? AND job_id = ? AND batch_id = ?`,
			newBatchID, runID, jobID, oldBatchID); err != nil {
			if isConstraint(err) {
				return fmt.Errorf("%w: job %s", ErrExists, jobName(jobID, newBatchID))
			}
			return fmt.Errorf("jobstore: update job %s: %w", jobName(jobID, oldBatchID), err)
		}
		return nil
	})
}

// FinishJob moves one record (a job, or a Bulk API 1.0 batch when batchID is
// set) to JobResultsFetched and marks the given row ranges done, in one
// transaction: after a crash either both happened or neither did. The
// ranges are the rows whose outcomes were saved (rows sent to a retry pass
// are left out, so a resumer sends them again).
func (s *Store) FinishJob(ctx context.Context, runID, jobID, batchID string, done []Range) error {
	for _, r := range done {
		if r.First > r.Last || r.First < 0 || r.Last == math.MaxInt64 {
			return fmt.Errorf("%w: rows %d-%d", ErrInvalidRange, r.First, r.Last)
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.updateStateTx(ctx, tx, runID, jobID, &batchID, JobResultsFetched, ""); err != nil {
			return err
		}
		for _, r := range done {
			if err := markDone(ctx, tx, runID, r.First, r.Last); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) updateState(ctx context.Context, runID, jobID string, batchID *string, state JobState, message string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return s.updateStateTx(ctx, tx, runID, jobID, batchID, state, message)
	})
}

func (s *Store) updateStateTx(ctx context.Context, tx *sql.Tx, runID, jobID string, batchID *string, state JobState, message string) error {
	if _, ok := state.rank(); !ok {
		return fmt.Errorf("jobstore: update job %s: unknown state %q", jobID, state)
	}
	{
		q := `SELECT batch_id, state FROM jobs WHERE run_id = ? AND job_id = ?`
		args := []any{runID, jobID}
		if batchID != nil {
			q += ` AND batch_id = ?`
			args = append(args, *batchID)
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("jobstore: update job %s: %w", jobID, err)
		}
		n := 0
		var bad error
		for rows.Next() {
			var b, cur string
			if err := rows.Scan(&b, &cur); err != nil {
				rows.Close()
				return fmt.Errorf("jobstore: update job %s: %w", jobID, err)
			}
			n++
			if !JobState(cur).canMove(state) && bad == nil {
				bad = fmt.Errorf("%w: job %s from %s to %s", ErrInvalidTransition, jobName(jobID, b), cur, state)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("jobstore: update job %s: %w", jobID, err)
		}
		if n == 0 {
			name := jobID
			if batchID != nil {
				name = jobName(jobID, *batchID)
			}
			return fmt.Errorf("%w: job %s in run %s", ErrNotFound, name, runID)
		}
		if bad != nil {
			return bad
		}
		u := `UPDATE jobs SET state = ?, message = ?, updated_at = ? WHERE run_id = ? AND job_id = ?`
		uargs := []any{string(state), message, s.stamp(), runID, jobID}
		if batchID != nil {
			u += ` AND batch_id = ?`
			uargs = append(uargs, *batchID)
		}
		if _, err := tx.ExecContext(ctx, u, uargs...); err != nil {
			return fmt.Errorf("jobstore: update job %s: %w", jobID, err)
		}
		return nil
	}
}

// Jobs returns the run's job records ordered by pass, first row, job and
// batch id.
func (s *Store) Jobs(ctx context.Context, runID string) ([]JobRecord, error) {
	return s.queryJobs(ctx, `WHERE run_id = ?`, runID)
}

// OpenJobs returns the run's job records that are not in a final state:
// the ones a resumer must finish or abort.
func (s *Store) OpenJobs(ctx context.Context, runID string) ([]JobRecord, error) {
	return s.queryJobs(ctx, `WHERE run_id = ? AND state NOT IN ('results_fetched', 'aborted', 'failed')`, runID)
}

func (s *Store) queryJobs(ctx context.Context, where string, args ...any) ([]JobRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT run_id, job_id, batch_id, api, pass, first_row, last_row, state, message, created_at, updated_at, rows
		FROM jobs `+where+` ORDER BY pass, first_row, job_id, batch_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("jobstore: list jobs: %w", err)
	}
	defer rows.Close()
	var out []JobRecord
	for rows.Next() {
		var j JobRecord
		var api, state, seq string
		var created, updated int64
		if err := rows.Scan(&j.RunID, &j.JobID, &j.BatchID, &api, &j.Pass, &j.FirstRow, &j.LastRow, &state, &j.Message, &created, &updated, &seq); err != nil {
			return nil, fmt.Errorf("jobstore: list jobs: %w", err)
		}
		if j.Rows, err = DecodeRows(seq); err != nil {
			return nil, fmt.Errorf("jobstore: list jobs: job %s: %w", jobName(j.JobID, j.BatchID), err)
		}
		j.API, j.State = API(api), JobState(state)
		j.CreatedAt, j.UpdatedAt = fromStamp(created), fromStamp(updated)
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobstore: list jobs: %w", err)
	}
	return out, nil
}

// EncodeRows writes a row sequence compactly: runs of consecutive numbers as
// "first-last", single rows as "n", separated by commas ("2-100,7,205-300").
func EncodeRows(rows []Range) string {
	var b strings.Builder
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(r.First, 10))
		if r.Last != r.First {
			b.WriteByte('-')
			b.WriteString(strconv.FormatInt(r.Last, 10))
		}
	}
	return b.String()
}

// DecodeRows parses what EncodeRows wrote ("" is nil).
func DecodeRows(s string) ([]Range, error) {
	if s == "" {
		return nil, nil
	}
	var out []Range
	for part := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		first, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: row list %q", ErrInvalidRange, part)
		}
		last := first
		if isRange {
			if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
				return nil, fmt.Errorf("%w: row list %q", ErrInvalidRange, part)
			}
		}
		out = append(out, Range{first, last})
	}
	return out, nil
}

// AppendRow appends row to a sequence built by EncodeRows' rules, extending
// the last run when row follows it.
func AppendRow(rows []Range, row int64) []Range {
	if n := len(rows); n > 0 && rows[n-1].Last+1 == row {
		rows[n-1].Last = row
		return rows
	}
	return append(rows, Range{row, row})
}
