package org

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite", pure Go
)

// sqliteStore persists records in a SQLite file. The in-memory tables stay
// the source of truth: the file is read once by New and every Write call
// writes its changes through in one transaction.
//
// Table records(object, id, data): data is a JSON object of field name to
// value (datetimes as 2006-01-02T15:04:05.000Z, dates as yyyy-MM-dd), so a
// file outlives schema changes: unknown fields and objects are ignored when
// loading.
type sqliteStore struct {
	db *sql.DB
}

func openStore(path string) (*sqliteStore, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, fmt.Errorf("org: open data file %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	for _, stmt := range []string{
		"PRAGMA journal_mode=WAL",
		"PRAGMA synchronous=NORMAL",
		"PRAGMA busy_timeout=5000",
		"CREATE TABLE IF NOT EXISTS records (object TEXT NOT NULL, id TEXT NOT NULL PRIMARY KEY, data TEXT NOT NULL)",
		"CREATE INDEX IF NOT EXISTS records_object ON records(object, id)",
		"CREATE TABLE IF NOT EXISTS meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)",
	} {
		if _, err := db.Exec(stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("org: data file %s: %s: %w", path, stmt, err)
		}
	}
	return &sqliteStore{db: db}, nil
}

func (s *sqliteStore) close() error { return s.db.Close() }

func (s *sqliteStore) load(o *Org) error {
	rows, err := s.db.Query("SELECT object, id, data FROM records ORDER BY object, id")
	if err != nil {
		return fmt.Errorf("org: load data file: %w", err)
	}
	defer rows.Close()
	var object, id, data string
	for rows.Next() {
		if err := rows.Scan(&object, &id, &data); err != nil {
			return fmt.Errorf("org: load data file: %w", err)
		}
		ob, ok := o.schema.Object(object)
		if !ok {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			return fmt.Errorf("org: load data file: record %s: %w", id, err)
		}
		vals := make([]any, len(ob.Fields))
		for k, v := range m {
			f, ok := ob.Field(k)
			if !ok || v == nil {
				continue
			}
			cv, e := convertInput(f, v)
			if e != nil {
				// Keep what the file says for fields whose rules changed.
				cv = v
			}
			vals[f.pos] = cv
		}
		for i, f := range ob.Fields {
			if vals[i] == nil && f.Type == TypeBoolean {
				vals[i] = false
			}
		}
		vals[posID] = id
		o.tables[ob].add(&record{vals: vals})
		o.ids.observe(id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("org: load data file: %w", err)
	}
	// The id counter, so ids of hard-deleted records are never reused.
	var pod string
	var next uint64
	err = s.db.QueryRow("SELECT (SELECT value FROM meta WHERE key = 'id_pod'), (SELECT value FROM meta WHERE key = 'id_next')").Scan(&pod, &next)
	if err == nil && pod == o.ids.pod && next > o.ids.next {
		o.ids.next = next
	}
	return nil
}

func encodeRecord(ob *Object, vals []any) ([]byte, error) {
	m := make(map[string]any, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			continue
		case time.Time:
			m[ob.Fields[i].Name] = x.UTC().Format("2006-01-02T15:04:05.000Z")
		case Date:
			m[ob.Fields[i].Name] = x.String()
		default:
			m[ob.Fields[i].Name] = v
		}
	}
	return json.Marshal(m)
}

func (s *sqliteStore) save(o *Org, dirty []dirtyRec) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	up, err := tx.Prepare("INSERT INTO records(object, id, data) VALUES(?, ?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data")
	if err != nil {
		return err
	}
	defer up.Close()
	del, err := tx.Prepare("DELETE FROM records WHERE id = ?")
	if err != nil {
		return err
	}
	defer del.Close()
	seen := make(map[*record]bool, len(dirty))
	for i := len(dirty) - 1; i >= 0; i-- { // last state wins; write each record once
		d := dirty[i]
		if seen[d.r] {
			continue
		}
		seen[d.r] = true
		if d.r.pos < len(d.t.rows) && d.t.rows[d.r.pos] == d.r {
			b, err := encodeRecord(d.t.ob, d.r.vals)
			if err != nil {
				return err
			}
			if _, err := up.Exec(d.t.ob.Name, d.r.id(), string(b)); err != nil {
				return err
			}
		} else if _, err := del.Exec(d.r.id()); err != nil {
			return err
		}
	}
	if _, err := tx.Exec("INSERT INTO meta(key, value) VALUES('id_pod', ?), ('id_next', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", o.ids.pod, o.ids.next); err != nil {
		return err
	}
	return tx.Commit()
}
