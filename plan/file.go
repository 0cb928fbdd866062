package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/sfbatch/sfbatch/convert"
	"github.com/sfbatch/sfbatch/load"
)

// File is a load plan as written by its author (YAML or JSON; see schema.json).
type File struct {
	// Version is the format's version; 0 or 1.
	Version int `json:"version,omitempty" yaml:"version,omitempty"`
	// Connections names the orgs: "target" is the one loaded; the others are sources that
	// objects' queries read from (org-to-org copies).
	Connections map[string]Connection `json:"connections,omitempty" yaml:"connections,omitempty"`
	// Defaults apply to every object that does not set its own.
	Defaults Defaults `json:"defaults,omitempty" yaml:"defaults,omitempty"`
	// Objects are the steps, in any order: the order comes from the org's describe.
	Objects []Object `json:"objects" yaml:"objects"`

	dir string // the plan file's folder: relative paths start there
}

// Connection names an org by a saved profile (sfbatch login), or by environment variables
// that start with Env (Env "SOURCE_" reads SOURCE_SF_INSTANCE_URL, SOURCE_SF_ACCESS_TOKEN,
// ...). With neither, the target is the environment (SF_INSTANCE_URL, ...) as for every
// command; a source must set one.
type Connection struct {
	Profile string `json:"profile,omitempty" yaml:"profile,omitempty"`
	Env     string `json:"env,omitempty" yaml:"env,omitempty"`
}

// Defaults are settings shared by the objects.
type Defaults struct {
	API            string `json:"api,omitempty" yaml:"api,omitempty"`
	Nulls          string `json:"nulls,omitempty" yaml:"nulls,omitempty"`
	DateFormat     string `json:"dateFormat,omitempty" yaml:"dateFormat,omitempty"`
	DateTimeFormat string `json:"datetimeFormat,omitempty" yaml:"datetimeFormat,omitempty"`
	TimeZone       string `json:"timeZone,omitempty" yaml:"timeZone,omitempty"`
	BatchSize      int    `json:"batchSize,omitempty" yaml:"batchSize,omitempty"`
	Concurrency    int    `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
}

// Object is one object of the plan.
type Object struct {
	Object string `json:"object" yaml:"object"`
	// Source is the input file; Query instead reads the rows with SOQL from the org named
	// by Connection (default "source"): an org-to-org copy. A query that selects Id makes
	// Id the object's key, so lookups to it are translated to the ids the run creates.
	Source     string `json:"source,omitempty" yaml:"source,omitempty"`
	Query      string `json:"query,omitempty" yaml:"query,omitempty"`
	Connection string `json:"connection,omitempty" yaml:"connection,omitempty"`
	Format     string `json:"format,omitempty" yaml:"format,omitempty"`
	Operation  string `json:"operation,omitempty" yaml:"operation,omitempty"`
	ExternalID string `json:"externalId,omitempty" yaml:"externalId,omitempty"`
	// Key is the source column holding each row's own id in the source system: other
	// objects' lookup columns that hold such ids are translated to the ids created by
	// this run (kept in run.db). It is dropped before sending unless it is a field.
	Key string `json:"key,omitempty" yaml:"key,omitempty"`
	// Mapping is a Data Loader .sdl file; Map adds inline "source=Field" entries.
	Mapping string            `json:"mapping,omitempty" yaml:"mapping,omitempty"`
	Map     map[string]string `json:"map,omitempty" yaml:"map,omitempty"`
	Nulls   string            `json:"nulls,omitempty" yaml:"nulls,omitempty"`
	API     string            `json:"api,omitempty" yaml:"api,omitempty"`
	// Convert names a conversion per (mapped) field.
	Convert map[string]Conversion `json:"convert,omitempty" yaml:"convert,omitempty"`
	// BatchSize and Concurrency override the defaults.
	BatchSize   int `json:"batchSize,omitempty" yaml:"batchSize,omitempty"`
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
}

// Conversion is a per-field conversion (see package convert).
type Conversion struct {
	Type     string   `json:"type" yaml:"type"`
	Format   string   `json:"format,omitempty" yaml:"format,omitempty"`
	TimeZone string   `json:"timeZone,omitempty" yaml:"timeZone,omitempty"`
	Pivot    int      `json:"pivot,omitempty" yaml:"pivot,omitempty"`
	Decimal  string   `json:"decimal,omitempty" yaml:"decimal,omitempty"`
	Nulls    []string `json:"nulls,omitempty" yaml:"nulls,omitempty"`
}

// Error is a problem with the plan itself (exit 2 in the CLI): a bad file, an unknown
// object or field, a cycle of required lookups.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "plan: " + e.Problems[0]
	}
	return fmt.Sprintf("plan: %d problems:\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// ReadFile reads and checks a plan file: YAML, or JSON for a .json file.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	f, err := Parse(bytes.NewReader(b), path)
	if err != nil {
		return nil, err
	}
	f.dir = filepath.Dir(path)
	return f, nil
}

// Parse reads a plan (YAML or JSON) and checks it. Unknown keys are errors.
func Parse(r io.Reader, name string) (*File, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("plan: reading %s: %w", name, err)
	}
	f := &File{dir: "."}
	if strings.EqualFold(filepath.Ext(name), ".json") {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(f); err != nil {
			return nil, &Error{Problems: []string{fmt.Sprintf("%s: %v", name, err)}}
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(f); err != nil && !errors.Is(err, io.EOF) {
			return nil, &Error{Problems: []string{fmt.Sprintf("%s: %v", name, err)}}
		}
	}
	if err := f.check(name); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) check(name string) error {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if f.Version > 1 {
		add("%s: version %d is newer than this sfbatch reads (1)", name, f.Version)
	}
	for n, c := range f.Connections {
		if c.Profile != "" && c.Env != "" {
			add("%s: connections.%s: profile or env, not both", name, n)
		}
		if n != targetConnection && c.Profile == "" && c.Env == "" {
			add("%s: connections.%s: a source connection needs a profile or env", name, n)
		}
	}
	if len(f.Objects) == 0 {
		add("%s: no objects", name)
	}
	if _, err := load.ParseAPI(f.Defaults.API); err != nil {
		add("%s: defaults.api: %v", name, err)
	}
	if _, err := parseNulls(f.Defaults.Nulls); err != nil {
		add("%s: defaults.nulls: %v", name, err)
	}
	seen := map[string]bool{}
	for i, o := range f.Objects {
		where := fmt.Sprintf("%s: objects[%d] (%s)", name, i, o.Object)
		if o.Object == "" {
			add("%s: object is required", where)
		}
		if seen[strings.ToLower(o.Object)] {
			add("%s: the object is listed twice (one step per object)", where)
		}
		seen[strings.ToLower(o.Object)] = true
		switch {
		case o.Source == "" && o.Query == "":
			add("%s: source or query is required", where)
		case o.Source != "" && o.Query != "":
			add("%s: source or query, not both", where)
		case o.Query != "":
			if _, ok := f.Connections[o.connection()]; !ok {
				add("%s: connection %q is not in connections", where, o.connection())
			}
			if o.Format != "" {
				add("%s: format applies to a source file, not a query", where)
			}
		case o.Connection != "":
			add("%s: connection applies to a query, not a source file", where)
		}
		if _, err := o.operation(); err != nil {
			add("%s: %v", where, err)
		}
		if o.operationOrInsert() == load.Upsert && o.ExternalID == "" {
			add("%s: upsert needs externalId", where)
		}
		if _, err := load.ParseAPI(o.API); err != nil {
			add("%s: api: %v", where, err)
		}
		if _, err := parseNulls(o.Nulls); err != nil {
			add("%s: nulls: %v", where, err)
		}
		switch strings.ToLower(o.Format) {
		case "", "csv", "jsonl", "parquet":
		default:
			add("%s: format %q is not csv, jsonl or parquet", where, o.Format)
		}
		for field, c := range o.Convert {
			if _, err := c.rule(f.Defaults); err != nil {
				add("%s: convert.%s: %v", where, field, err)
			}
		}
	}
	if len(probs) > 0 {
		return &Error{Problems: probs}
	}
	return nil
}

func (o Object) operation() (load.Operation, error) {
	switch strings.ToLower(o.Operation) {
	case "", "insert":
		return load.Insert, nil
	case "update":
		return load.Update, nil
	case "upsert":
		return load.Upsert, nil
	}
	return "", fmt.Errorf("operation %q is not insert, update or upsert", o.Operation)
}

func (o Object) operationOrInsert() load.Operation {
	op, _ := o.operation()
	return op
}

func parseNulls(s string) (load.Nulls, error) {
	switch strings.ToLower(s) {
	case "", "leave", "ignore":
		return load.NullsLeaveUnchanged, nil
	case "write", "null":
		return load.NullsWrite, nil
	}
	return 0, fmt.Errorf("%q is not leave or write", s)
}

// rule turns a conversion into a convert.Rule, taking formats and zone from d when unset.
func (c Conversion) rule(d Defaults) (*convert.Rule, error) {
	r := &convert.Rule{Kind: convert.Kind(strings.ToLower(c.Type)), Format: c.Format, Pivot: c.Pivot, Nulls: c.Nulls}
	switch r.Kind {
	case convert.Date:
		r.Format = first(r.Format, d.DateFormat)
	case convert.DateTime:
		r.Format = first(r.Format, d.DateTimeFormat)
	}
	if z := first(c.TimeZone, d.TimeZone); z != "" {
		loc, err := loadZone(z)
		if err != nil {
			return nil, err
		}
		r.Zone = loc
	}
	switch c.Decimal {
	case "", ".":
	case ",":
		r.Decimal = ','
	default:
		return nil, fmt.Errorf("decimal %q is not \".\" or \",\"", c.Decimal)
	}
	if err := r.Compile(); err != nil {
		return nil, err
	}
	return r, nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// path resolves a path of the plan file relative to its folder.
func (f *File) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(f.dir, p)
}
