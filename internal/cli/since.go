package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/salesforce"
)

// sinceState is the state file of incremental reads (export --since, the Spark reader's
// "since" option). Watermark is where the last committed read ended; Pending is the end of
// the window planned and not yet committed, which every plan reuses until it is committed,
// so a read planned again (a retried export, another Spark action) reads the same rows.
type sinceState struct {
	Version   int    `json:"version"`
	Query     string `json:"query"`
	Field     string `json:"field"`
	Watermark string `json:"watermark,omitempty"`
	Pending   string `json:"pending,omitempty"`
}

// sinceStateVersion is the state file's format version.
const sinceStateVersion = 1

func loadSince(path string) (*sinceState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &sinceState{Version: sinceStateVersion}, nil
	}
	if err != nil {
		return nil, usageError{fmt.Errorf("--since: %w", err)}
	}
	var st sinceState
	if err := json.Unmarshal(b, &st); err != nil || st.Version != sinceStateVersion {
		return nil, usageError{fmt.Errorf("--since: %s is not an sfbatch state file (version %d)", path, sinceStateVersion)}
	}
	return &st, nil
}

// save writes the state under a temporary name and renames it over the file.
func (st *sinceState) save(path string) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("--since: %w", err)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("--since: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--since: %w", err)
	}
	return nil
}

// planSince narrows opts to the window the state file at path calls for and records that
// window as pending: rows whose field is after the committed watermark (every row on the
// first run) and at most the latest value now. Every read under --since selects IsDeleted;
// runs after the first use queryAll, so deleted rows come with IsDeleted true.
func planSince(ctx context.Context, c *salesforce.Client, opts *extract.Options, path, field string) (*extract.Window, error) {
	if field == "" {
		field = extract.DefaultWatermarkField
	}
	// The state file names the read as the user gave it ("*" unexpanded, so that a field
	// added to the object later is the same read); the window applies to the expanded query.
	key, err := opts.SOQL()
	if err != nil {
		return nil, usageError{err}
	}
	if *opts, err = opts.ExpandFields(ctx, c); err != nil {
		return nil, err
	}
	base, err := opts.SOQL()
	if err != nil {
		return nil, usageError{err}
	}
	st, err := loadSince(path)
	if err != nil {
		return nil, err
	}
	if st.Query != "" && (st.Query != key || st.Field != field) {
		return nil, usageError{fmt.Errorf("--since: %s holds the state of another read (%s by %s); use a state file per query", path, st.Query, st.Field)}
	}
	if st.Pending == "" {
		latest, err := extract.LatestWatermark(ctx, c, *opts, field)
		if err != nil {
			return nil, err
		}
		st.Pending = latest
		if latest == "" || (st.Watermark != "" && latest <= st.Watermark) {
			st.Pending = st.Watermark // nothing changed: an empty window
		}
		st.Query, st.Field = key, field
		if err := st.save(path); err != nil {
			return nil, err
		}
	}
	w := &extract.Window{Field: field, From: st.Watermark, To: st.Pending}
	q, err := extract.WithWindow(base, *w, true)
	if err != nil {
		return nil, usageError{err}
	}
	opts.Query, opts.Object, opts.Fields, opts.Where = q, "", nil, ""
	opts.All = opts.All || w.From != ""
	return w, nil
}

// commitSince moves the state file's watermark to its pending window's end, once the rows
// of that window are safely written.
func commitSince(path string) error {
	st, err := loadSince(path)
	if err != nil {
		return err
	}
	if st.Query == "" {
		return usageError{fmt.Errorf("--since: %s holds no planned read to commit", path)}
	}
	if st.Pending != "" {
		st.Watermark, st.Pending = st.Pending, ""
	}
	return st.save(path)
}
