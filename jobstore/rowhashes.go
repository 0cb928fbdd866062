package jobstore

import (
	"context"
	"encoding/binary"
	"fmt"
)

// RowHashBytes is the size of one row hash as AddRowHashes stores it.
const RowHashBytes = 8

// AddRowHashes records the hashes of the consecutive input rows first,
// first+1, ... of a run, so that a resumed run can prove that its input holds
// the same rows (the hash function is the caller's; it must be stable across
// processes). Recording a block again replaces it.
func (s *Store) AddRowHashes(ctx context.Context, runID string, first int64, hashes []uint64) error {
	if first < 1 {
		return fmt.Errorf("%w: row hashes from row %d", ErrInvalidRange, first)
	}
	if len(hashes) == 0 {
		return nil
	}
	b := make([]byte, 0, len(hashes)*RowHashBytes)
	for _, h := range hashes {
		b = binary.BigEndian.AppendUint64(b, h)
	}
	_, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO row_hashes (run_id, first_row, hashes) VALUES (?, ?, ?)`, runID, first, b)
	if isConstraint(err) {
		return fmt.Errorf("%w: run %s", ErrNotFound, runID)
	}
	if err != nil {
		return fmt.Errorf("jobstore: row hashes of run %s: %w", runID, err)
	}
	return nil
}

// RowHashes calls fn with each recorded block of row hashes of a run, in row
// order: the block's first row and its hashes (valid only during the call).
// An error from fn stops the walk and is returned.
func (s *Store) RowHashes(ctx context.Context, runID string, fn func(first int64, hashes []uint64) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT first_row, hashes FROM row_hashes WHERE run_id = ? ORDER BY first_row`, runID)
	if err != nil {
		return fmt.Errorf("jobstore: row hashes of run %s: %w", runID, err)
	}
	defer rows.Close()
	var hs []uint64
	for rows.Next() {
		var first int64
		var b []byte
		if err := rows.Scan(&first, &b); err != nil {
			return fmt.Errorf("jobstore: row hashes of run %s: %w", runID, err)
		}
		hs = hs[:0]
		for i := 0; i+RowHashBytes <= len(b); i += RowHashBytes {
			hs = append(hs, binary.BigEndian.Uint64(b[i:]))
		}
		if err := fn(first, hs); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("jobstore: row hashes of run %s: %w", runID, err)
	}
	return nil
}

// SetRunInput records the size and hex SHA-256 of a run's input once they are
// known: for an input that is read as it streams (standard input), at its end.
func (s *Store) SetRunInput(ctx context.Context, runID string, size int64, hash string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET input_size = ?, input_hash = ?, updated_at = ? WHERE id = ?`,
		size, hash, s.stamp(), runID)
	return checkUpdated(res, err, "set input of run "+runID, "run "+runID)
}
