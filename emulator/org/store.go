package org

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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
	db, err := OpenDataFile(path,
		"CREATE TABLE IF NOT EXISTS records (object TEXT NOT NULL, id TEXT NOT NULL PRIMARY KEY, data TEXT NOT NULL)",
		"CREATE INDEX IF NOT EXISTS records_object ON records(object, id)",
		"CREATE TABLE IF NOT EXISTS meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)",
		"CREATE TABLE IF NOT EXISTS write_tags (tag TEXT NOT NULL PRIMARY KEY, results TEXT NOT NULL)")
	if err != nil {
		return nil, fmt.Errorf("org: %w", err)
	}
	return &sqliteStore{db: db}, nil
}

// OpenDataFile opens the SQLite file at path as the org opens its data
// file (WAL journal, one connection, a busy timeout, so that the emulator's
// other packages can keep their own tables in the same file beside the
// org's), creating it if needed, and runs schema: the statements that
// create the caller's tables.
func OpenDataFile(path string, schema ...string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, fmt.Errorf("open data file %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	pragmas := []string{"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000"}
	for _, stmt := range append(pragmas, schema...) {
		if _, err := db.Exec(stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("data file %s: %s: %w", path, stmt, err)
		}
	}
	return db, nil
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
		o.tables[ob].add(newRecord(vals))
		o.ids.observe(id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("org: load data file: %w", err)
	}
	if err := s.loadSettings(o); err != nil {
		return fmt.Errorf("org: load data file settings: %w", err)
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

// settingPrefix marks the meta rows that hold Org.SetSetting's values.
const settingPrefix = "setting:"

func (s *sqliteStore) loadSettings(o *Org) error {
	rows, err := s.db.Query("SELECT key, value FROM meta WHERE key LIKE 'setting:%'")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		if o.settings == nil {
			o.settings = map[string]string{}
		}
		o.settings[strings.TrimPrefix(k, settingPrefix)] = v
	}
	return rows.Err()
}

func (s *sqliteStore) deleteSetting(key string) error {
	_, err := s.db.Exec("DELETE FROM meta WHERE key = ?", settingPrefix+key)
	return err
}

func (s *sqliteStore) saveSetting(key, value string) error {
	_, err := s.db.Exec("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", settingPrefix+key, value)
	return err
}

// encodeRecord appends the JSON object of a record's non-null values.
func encodeRecord(b []byte, ob *Object, r *record) []byte {
	b = append(b, '{')
	first := true
	for i := range ob.Fields {
		if r.isNil(i) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, ob.Fields[i].Name)
		b = append(b, ':')
		if s, ok := r.str(i); ok {
			b = appendJSONString(b, s)
			continue
		}
		v := r.get(i)
		switch x := v.(type) {
		case string:
			b = appendJSONString(b, x)
		case bool:
			b = strconv.AppendBool(b, x)
		case float64:
			b = strconv.AppendFloat(b, x, 'g', -1, 64)
		case time.Time:
			b = append(b, '"')
			b = x.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
			b = append(b, '"')
		case Date:
			b = append(b, '"')
			b = x.AppendFormat(b, "2006-01-02")
			b = append(b, '"')
		default:
			b = appendJSONString(b, FormatCSV(v))
		}
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// saveBatch is how many records one INSERT statement writes.
const saveBatch = 100

func upsertSQL(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO records(object, id, data) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?)")
	}
	b.WriteString(" ON CONFLICT(id) DO UPDATE SET data = excluded.data")
	return b.String()
}

// taggedResults reads what save stored under tag.
func (s *sqliteStore) taggedResults(tag string) ([]WriteResult, bool) {
	var data string
	if s.db.QueryRow("SELECT results FROM write_tags WHERE tag = ?", tag).Scan(&data) != nil {
		return nil, false
	}
	var res []WriteResult
	if json.Unmarshal([]byte(data), &res) != nil {
		return nil, false
	}
	return res, true
}

// save writes the dirty records in one transaction, with results under tag
// when tag is not empty (see Org.WriteTagged).
func (s *sqliteStore) save(o *Org, dirty []dirtyRec, tag string, results []WriteResult) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	var full *sql.Stmt
	args := make([]any, 0, 3*saveBatch)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		n := len(args) / 3
		var err error
		if n == saveBatch {
			if full == nil {
				if full, err = tx.Prepare(upsertSQL(saveBatch)); err != nil {
					return err
				}
			}
			_, err = full.Exec(args...)
		} else {
			_, err = tx.Exec(upsertSQL(n), args...)
		}
		args = args[:0]
		return err
	}
	seen := make(map[*record]bool, len(dirty))
	var buf []byte
	for i := len(dirty) - 1; i >= 0; i-- { // last state wins; write each record once
		d := dirty[i]
		if seen[d.r] {
			continue
		}
		seen[d.r] = true
		if d.r.pos < len(d.t.rows) && d.t.rows[d.r.pos] == d.r {
			buf = encodeRecord(buf[:0], d.t.ob, d.r)
			args = append(args, d.t.ob.Name, d.r.id(), string(buf))
			if len(args) == 3*saveBatch {
				if err := flush(); err != nil {
					return err
				}
			}
		} else if _, err := tx.Exec("DELETE FROM records WHERE id = ?", d.r.id()); err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if full != nil {
		full.Close()
	}
	if _, err := tx.Exec("INSERT INTO meta(key, value) VALUES('id_pod', ?), ('id_next', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", o.ids.pod, o.ids.next); err != nil {
		return err
	}
	if tag != "" {
		data, err := json.Marshal(results)
		if err != nil {
			return err
		}
		if _, err := tx.Exec("INSERT OR REPLACE INTO write_tags(tag, results) VALUES(?, ?)", tag, string(data)); err != nil {
			return err
		}
	}
	return tx.Commit()
}
