package plan

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	"github.com/sfbatch/sfbatch/jobstore"
)

// idMap is the run's old-id to new-id map, a table of run.db beside the journal's: for an
// object with a Key, each source id and the id the run created (or matched) for it. It is
// written after each step and read while later steps are sent, so a resumed plan finds it.
// Safe for concurrent use.
type idMap struct {
	db   *sql.DB
	get  *sql.Stmt
	runs string
}

// openIDMap opens the map in the run.db at path.
func openIDMap(ctx context.Context, path string) (*idMap, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", jobstore.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("plan: id map: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS plan_ids (
		object TEXT NOT NULL, key TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (object, key)) WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, fmt.Errorf("plan: id map: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS plan_ids_by_id ON plan_ids (object, id)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("plan: id map: %w", err)
	}
	get, err := db.PrepareContext(ctx, `SELECT id FROM plan_ids WHERE object = ? AND key = ?`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("plan: id map: %w", err)
	}
	return &idMap{db: db, get: get}, nil
}

// lookup returns the id created for the source id key of object.
func (m *idMap) lookup(ctx context.Context, object, key string) (string, bool, error) {
	var id string
	err := m.get.QueryRowContext(ctx, object, key).Scan(&id)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("plan: id map: %w", err)
	}
	return id, true, nil
}

// created reports whether id is an id the run created for object.
func (m *idMap) created(ctx context.Context, object, id string) (bool, error) {
	var one int
	err := m.db.QueryRowContext(ctx, `SELECT 1 FROM plan_ids WHERE object = ? AND id = ? LIMIT 1`, object, id).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("plan: id map: %w", err)
	}
	return true, nil
}

// idBatch is how many ids one transaction of put writes.
const idBatch = 5000

// put records pairs (source id, new id) of object, replacing earlier ones.
func (m *idMap) put(ctx context.Context, object string, pairs [][2]string) error {
	for len(pairs) > 0 {
		n := min(len(pairs), idBatch)
		tx, err := m.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("plan: id map: %w", err)
		}
		st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO plan_ids (object, key, id) VALUES (?, ?, ?)`)
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("plan: id map: %w", err)
		}
		for _, p := range pairs[:n] {
			if _, err := st.ExecContext(ctx, object, p[0], p[1]); err != nil {
				tx.Rollback()
				return fmt.Errorf("plan: id map: %w", err)
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("plan: id map: %w", err)
		}
		pairs = pairs[n:]
	}
	return nil
}

func (m *idMap) close() error {
	m.get.Close()
	return m.db.Close()
}
