package jobstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Range is an inclusive range of input row numbers.
type Range struct {
	First, Last int64
}

// Len returns the number of rows in r.
func (r Range) Len() int64 { return r.Last - r.First + 1 }

// Ranges is a sorted list of disjoint, non-adjacent row ranges.
type Ranges []Range

// Contains reports whether row is in one of the ranges.
func (rs Ranges) Contains(row int64) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Last >= row })
	return i < len(rs) && rs[i].First <= row
}

// Rows returns the number of rows covered.
func (rs Ranges) Rows() int64 {
	var n int64
	for _, r := range rs {
		n += r.Len()
	}
	return n
}

// MarkRowsDone records that input rows first..last (inclusive) of a run have
// an outcome saved. Ranges are merged with overlapping and adjacent ones, so
// marking rows again is harmless. The run must exist.
func (s *Store) MarkRowsDone(ctx context.Context, runID string, first, last int64) error {
	if first > last || first < 0 || last == math.MaxInt64 {
		return fmt.Errorf("%w: rows %d-%d", ErrInvalidRange, first, last)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE id = ?`, runID).Scan(&exists); err != nil {
			return fmt.Errorf("jobstore: mark rows: %w", err)
		}
		if exists == 0 {
			return fmt.Errorf("%w: run %s", ErrNotFound, runID)
		}
		return markDone(ctx, tx, runID, first, last)
	})
}

// markDone merges [first, last] into the run's done ranges inside tx.
func markDone(ctx context.Context, tx *sql.Tx, runID string, first, last int64) error {
	// Ranges are disjoint and not adjacent, so at most one range starting
	// before first can overlap or touch [first, last]: the last one.
	var pf, pl int64
	err := tx.QueryRowContext(ctx, `SELECT first_row, last_row FROM done_ranges
		WHERE run_id = ? AND first_row < ? ORDER BY first_row DESC LIMIT 1`, runID, first).Scan(&pf, &pl)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("jobstore: mark rows: %w", err)
	case pl >= first-1:
		if pl >= last {
			return nil // already covered
		}
		first = pf
	}
	// Every range starting inside [first, last+1] merges too.
	var hi sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(last_row) FROM done_ranges
		WHERE run_id = ? AND first_row BETWEEN ? AND ?`, runID, first, last+1).Scan(&hi); err != nil {
		return fmt.Errorf("jobstore: mark rows: %w", err)
	}
	if hi.Valid && hi.Int64 > last {
		last = hi.Int64
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM done_ranges WHERE run_id = ? AND first_row BETWEEN ? AND ?`,
		runID, first, last+1); err != nil {
		return fmt.Errorf("jobstore: mark rows: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO done_ranges (run_id, first_row, last_row) VALUES (?, ?, ?)`,
		runID, first, last); err != nil {
		return fmt.Errorf("jobstore: mark rows: %w", err)
	}
	return nil
}

// DoneRanges returns the row ranges of a run that have outcomes, sorted and
// merged. A run without any is an empty list (not an error); an unknown run
// is ErrNotFound.
func (s *Store) DoneRanges(ctx context.Context, runID string) (Ranges, error) {
	if _, err := s.GetRun(ctx, runID); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT first_row, last_row FROM done_ranges WHERE run_id = ? ORDER BY first_row`, runID)
	if err != nil {
		return nil, fmt.Errorf("jobstore: done ranges: %w", err)
	}
	defer rows.Close()
	var out Ranges
	for rows.Next() {
		var r Range
		if err := rows.Scan(&r.First, &r.Last); err != nil {
			return nil, fmt.Errorf("jobstore: done ranges: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobstore: done ranges: %w", err)
	}
	return out, nil
}
