package plan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sfbatch/sfbatch/extract"
	"github.com/sfbatch/sfbatch/load"
	"github.com/sfbatch/sfbatch/salesforce"
	"github.com/sfbatch/sfbatch/sfcsv"
)

// SourcesDir is the folder of a run (or preview) folder that holds what the plan's
// queries read from their source orgs, one CSV file per object.
const SourcesDir = "sources"

// targetConnection is the connection loaded: the org the plan writes to.
const targetConnection = "target"

// SourceConnections returns the names of the connections the plan's queries read from.
func (f *File) SourceConnections() []string {
	var out []string
	for _, o := range f.Objects {
		if o.Query != "" && !slices.Contains(out, o.connection()) {
			out = append(out, o.connection())
		}
	}
	return out
}

// connection is the connection an object's query runs on: Connection, else "source".
func (o *Object) connection() string {
	if o.Connection != "" {
		return o.Connection
	}
	return "source"
}

// FetchSources runs the query of every object whose source is a SOQL query, on the
// connection it names (conns, by name), and writes the rows to DIR/sources/Object.csv,
// which then is the object's source for the rest of the plan: compiling, the preview, the
// run, --resume and retry all read that file. With reuse, a file already there is kept
// (a resumed run reads what the first attempt read). An object whose query selects Id and
// that names no key gets Id as its key, so that lookups to it from the other objects'
// queries are translated to the ids the run creates.
func FetchSources(ctx context.Context, f *File, conns map[string]*salesforce.Client, dir string, reuse bool) error {
	for i := range f.Objects {
		o := &f.Objects[i]
		if o.Query == "" {
			continue
		}
		c, ok := conns[o.connection()]
		if !ok {
			return &Error{Problems: []string{fmt.Sprintf("objects[%d] (%s): connection %q is not open", i, o.Object, o.connection())}}
		}
		path, err := filepath.Abs(filepath.Join(dir, SourcesDir, o.Object+".csv"))
		if err != nil {
			return err
		}
		if _, err := os.Stat(path); err != nil || !reuse {
			if err := fetchQuery(ctx, c, o.Query, path); err != nil {
				return fmt.Errorf("plan: objects[%d] (%s): query on %s: %w", i, o.Object, o.connection(), err)
			}
		}
		o.Source, o.Format = path, "csv"
		if o.Key == "" && o.operationOrInsert() != load.Upsert {
			if _, cols, err := extract.QueryColumns(o.Query); err == nil && slices.ContainsFunc(cols, func(c string) bool { return strings.EqualFold(c, "Id") }) {
				o.Key = "Id"
			}
		}
	}
	return nil
}

// fetchQuery writes the query's rows to path as CSV, through a temporary file renamed at
// the end, so a file at path is always a complete result.
func fetchQuery(ctx context.Context, c *salesforce.Client, query, path string) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fetch-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := sfcsv.NewWriter(tmp, sfcsv.WriterOptions{})
	wroteHeader := false
	for row, err := range extract.Rows(ctx, c, extract.Options{Query: query}) {
		if err != nil {
			return err
		}
		if !wroteHeader {
			if _, err := w.Write(row.Columns); err != nil {
				return err
			}
			wroteHeader = true
		}
		if _, err := w.Write(row.Values); err != nil {
			return err
		}
	}
	if !wroteHeader {
		_, cols, qerr := extract.QueryColumns(query)
		if qerr != nil {
			return qerr
		}
		if len(cols) == 0 {
			return errors.New("the query returned no rows and its columns are unknown")
		}
		if _, err := w.Write(cols); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
